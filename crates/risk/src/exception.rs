//! Risk acceptances: a named owner accepts a finding for a reason, until a date. An
//! exception that has expired no longer applies, so the finding comes back by itself.

use serde::{Deserialize, Serialize};

use crate::Date;

/// `[[exceptions]]` in the policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Exception {
    /// The advisory id or any alias (`CVE-…`, `GHSA-…`, `RUSTSEC-…`).
    pub id: String,
    /// Limit it to one package, by name; all packages when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    pub owner: String,
    pub reason: String,
    /// The last day it applies.
    pub expires: Date,
}

/// What an exception says about one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict<'a> {
    /// Accepted until `expires` (inclusive).
    Accepted(&'a Exception),
    /// There was an exception, but it expired: the finding is open again.
    Expired(&'a Exception),
}

/// The exception covering a finding with these ids and package name on `today`: a live one
/// wins over an expired one; among live ones, the one that lasts longest.
pub fn verdict<'a>(
    exceptions: &'a [Exception],
    ids: &[&str],
    package: &str,
    today: Date,
) -> Option<Verdict<'a>> {
    let matching = exceptions.iter().filter(|e| {
        ids.iter().any(|id| id.eq_ignore_ascii_case(&e.id))
            && e.package.as_deref().is_none_or(|p| p == package)
    });
    let mut best: Option<Verdict<'a>> = None;
    for e in matching {
        let v = if e.expires >= today {
            Verdict::Accepted(e)
        } else {
            Verdict::Expired(e)
        };
        best = match (best, v) {
            (None, v) => Some(v),
            (Some(Verdict::Expired(_)), v @ Verdict::Accepted(_)) => Some(v),
            (Some(Verdict::Accepted(a)), Verdict::Accepted(b)) if b.expires > a.expires => {
                Some(Verdict::Accepted(b))
            }
            (Some(Verdict::Expired(a)), Verdict::Expired(b)) if b.expires > a.expires => {
                Some(Verdict::Expired(b))
            }
            (keep, _) => keep,
        };
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exc(id: &str, package: Option<&str>, expires: &str) -> Exception {
        Exception {
            id: id.into(),
            package: package.map(Into::into),
            owner: "team-a".into(),
            reason: "compensating control".into(),
            expires: expires.parse().unwrap(),
        }
    }

    #[test]
    fn live_exception_accepts_and_expired_one_brings_the_finding_back() {
        let today: Date = "2026-11-27".parse().unwrap();
        let list = [
            exc("CVE-2024-1", None, "2026-11-27"),
            exc("CVE-2024-2", Some("x"), "2026-11-26"),
        ];
        assert!(matches!(
            verdict(&list, &["GHSA-1", "cve-2024-1"], "y", today),
            Some(Verdict::Accepted(_))
        ));
        assert!(matches!(
            verdict(&list, &["CVE-2024-2"], "x", today),
            Some(Verdict::Expired(_))
        ));
        assert_eq!(verdict(&list, &["CVE-2024-2"], "other", today), None);
        assert_eq!(verdict(&list, &["CVE-2024-3"], "x", today), None);
    }

    #[test]
    fn a_live_exception_wins_over_an_expired_one() {
        let today: Date = "2026-11-27".parse().unwrap();
        let list = [exc("A", None, "2025-01-01"), exc("A", None, "2027-01-01")];
        assert!(
            matches!(verdict(&list, &["A"], "p", today), Some(Verdict::Accepted(e)) if e.expires.year() == 2027)
        );
    }
}
