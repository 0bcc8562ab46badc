//! Debian security tracker JSON → advisories.
//!
//! Input: `{source_package: {CVE-…|TEMP-…: {description, scope, releases: {codename:
//! {status, fixed_version, urgency, repositories}}}}}`. The tracker writes an empty
//! `releases` as `[]` (a PHP-ism); that is accepted as "no releases".
//!
//! Rules, per (source package, codename):
//! - The codename must be a numbered Debian release (`wheezy` 7 … `forky` 14); it becomes
//!   `Affected.release` (`bookworm` → `"12"`), the way OSV spells `Debian:12`. `sid`,
//!   `unstable` and `experimental` have no number and are skipped: a rolling release is
//!   not something a release-keyed match can express. Unknown codenames are skipped too.
//! - `resolved` with `fixed_version` `"0"`: never affected → no entry.
//! - `resolved` with a version V: range `introduced 0, fixed V` (the backported fix).
//! - `resolved` without a version: nothing to match on → no entry.
//! - `open`: range `introduced 0` with no fix (affected, no fixed version yet).
//! - `undetermined` (the tracker does not know yet) and any other status: skipped, so a
//!   scan does not report unknowns as findings.
//!
//! Urgency (`unimportant`, `low`, `medium`, `high`, `not yet assigned`, `end-of-life`; a
//! trailing `*` marks a guess from NVD) is kept per entry in `ecosystem_specific.urgency`.
//! The advisory's level (`database_specific.severity`, read by
//! [`patchpilot_osv::Advisory::severity_level`]) is the highest urgency among its entries,
//! with `unimportant` counted as LOW (still recorded: the package *is* vulnerable, Debian
//! only judges the impact negligible). `not yet assigned` and `end-of-life` give no level.

use std::collections::BTreeMap;

use patchpilot_osv::{Advisory, Affected, Ecosystem, Event, Range, RangeType, SeverityLevel};
use serde::Deserialize;

use crate::{invalid, looks_like_id, syntax, tracker_advisory, DistroError, Format};

type Tracker = BTreeMap<String, Issues>;

#[derive(Deserialize)]
#[serde(untagged)]
enum Issues {
    Map(BTreeMap<String, RawIssue>),
    /// `[]`: PHP's empty array.
    List(Vec<serde_json::Value>),
}

#[derive(Deserialize)]
struct RawIssue {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    releases: Releases,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Releases {
    Map(BTreeMap<String, RawRelease>),
    /// `[]`: PHP's empty array.
    List(Vec<serde_json::Value>),
}

impl Default for Releases {
    fn default() -> Self {
        Releases::Map(BTreeMap::new())
    }
}

#[derive(Deserialize)]
struct RawRelease {
    status: String,
    #[serde(default)]
    fixed_version: Option<String>,
    #[serde(default)]
    urgency: Option<String>,
}

/// The Debian version number of a release codename, if it has one.
pub(crate) fn release_number(codename: &str) -> Option<&'static str> {
    Some(match codename {
        "wheezy" => "7",
        "jessie" => "8",
        "stretch" => "9",
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        _ => return None,
    })
}

/// The level of a Debian urgency word (`high**` → High). `None` for words without one.
pub(crate) fn urgency_level(urgency: &str) -> Option<SeverityLevel> {
    match urgency.trim().trim_end_matches('*').trim() {
        "unimportant" | "low" => Some(SeverityLevel::Low),
        "medium" => Some(SeverityLevel::Medium),
        "high" => Some(SeverityLevel::High),
        _ => None,
    }
}

fn level_word(level: SeverityLevel) -> &'static str {
    match level {
        SeverityLevel::None => "NONE",
        SeverityLevel::Low => "LOW",
        SeverityLevel::Medium => "MEDIUM",
        SeverityLevel::High => "HIGH",
        SeverityLevel::Critical => "CRITICAL",
    }
}

struct Builder {
    details: Option<String>,
    level: Option<SeverityLevel>,
    affected: Vec<Affected>,
}

pub(crate) fn convert(bytes: &[u8], source_name: &str) -> Result<Vec<Advisory>, DistroError> {
    let tracker: Tracker =
        serde_json::from_slice(bytes).map_err(|e| syntax(source_name, Format::DebianTracker, e))?;
    let mut by_id: BTreeMap<String, Builder> = BTreeMap::new();
    for (package, issues) in &tracker {
        if package.trim().is_empty() {
            return Err(invalid(
                source_name,
                "(top level)",
                "empty source package name",
            ));
        }
        let issues = match issues {
            Issues::Map(m) => m,
            Issues::List(l) if l.is_empty() => continue,
            Issues::List(_) => {
                return Err(invalid(
                    source_name,
                    package.as_str(),
                    "is a list, not an object",
                ))
            }
        };
        for (id, issue) in issues {
            if !looks_like_id(id) {
                return Err(invalid(
                    source_name,
                    format!("{package}.{id}"),
                    "not a vulnerability id",
                ));
            }
            let releases = match &issue.releases {
                Releases::Map(m) => m,
                Releases::List(l) if l.is_empty() => continue,
                Releases::List(_) => {
                    return Err(invalid(
                        source_name,
                        format!("{package}.{id}.releases"),
                        "is a list, not an object",
                    ))
                }
            };
            for (codename, rel) in releases {
                let Some(number) = release_number(codename) else {
                    continue;
                };
                let fixed = match (rel.status.as_str(), rel.fixed_version.as_deref()) {
                    ("resolved", Some("0")) | ("resolved", None) => continue,
                    ("resolved", Some(v)) if v.trim().is_empty() => continue,
                    ("resolved", Some(v)) => Some(v.trim()),
                    ("open", _) => None,
                    _ => continue,
                };
                let mut events = vec![Event::Introduced("0".into())];
                events.extend(fixed.map(|v| Event::Fixed(v.into())));
                let urgency = rel.urgency.as_deref().map(str::trim).unwrap_or("");
                let b = by_id.entry(id.clone()).or_insert_with(|| Builder {
                    details: None,
                    level: None,
                    affected: Vec::new(),
                });
                if b.details.is_none() {
                    b.details = issue
                        .description
                        .as_deref()
                        .map(str::trim)
                        .filter(|d| !d.is_empty())
                        .map(str::to_string);
                }
                b.level = b.level.max(urgency_level(urgency));
                b.affected.push(Affected {
                    ecosystem: Ecosystem::Debian,
                    release: Some(number.to_string()),
                    name: package.clone(),
                    purl: None,
                    ranges: vec![Range {
                        ty: RangeType::Ecosystem,
                        repo: None,
                        events,
                    }],
                    versions: Vec::new(),
                    severity: Vec::new(),
                    ecosystem_specific: Some(
                        serde_json::json!({"urgency": urgency, "status": rel.status}).to_string(),
                    ),
                    database_specific: None,
                });
            }
        }
    }
    Ok(by_id
        .into_iter()
        .map(|(id, b)| {
            let mut ds = serde_json::json!({ "source": source_name });
            if let Some(level) = b.level {
                ds["severity"] = level_word(level).into();
            }
            tracker_advisory(
                "DEBIAN",
                &id,
                b.affected,
                b.details,
                format!("https://security-tracker.debian.org/tracker/{id}"),
                ds.to_string(),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(json: &str) -> Result<Vec<Advisory>, DistroError> {
        convert(json.as_bytes(), "t.json")
    }

    #[test]
    fn status_table() {
        // (status, fixed_version, expected events or None for "no entry")
        type Case<'a> = (&'a str, Option<&'a str>, Option<Vec<Event>>);
        let cases: &[Case] = &[
            ("resolved", Some("0"), None),
            ("resolved", None, None),
            (
                "resolved",
                Some("1.2-3+deb12u1"),
                Some(vec![
                    Event::Introduced("0".into()),
                    Event::Fixed("1.2-3+deb12u1".into()),
                ]),
            ),
            ("open", None, Some(vec![Event::Introduced("0".into())])),
            ("undetermined", None, None),
            ("weird", Some("1"), None),
        ];
        for (status, fixed, want) in cases {
            let fixed_json = fixed.map_or("null".to_string(), |f| format!("\"{f}\""));
            let json = format!(
                r#"{{"pkg": {{"CVE-2024-1": {{"releases": {{"bookworm":
                  {{"status": "{status}", "fixed_version": {fixed_json}, "urgency": "low"}}}}}}}}}}"#
            );
            let out = one(&json).unwrap();
            match want {
                None => assert!(out.is_empty(), "{status} {fixed:?}: {out:?}"),
                Some(events) => {
                    assert_eq!(out.len(), 1, "{status}");
                    assert_eq!(out[0].affected[0].ranges[0].events, *events);
                    assert_eq!(out[0].affected[0].release.as_deref(), Some("12"));
                }
            }
        }
    }

    #[test]
    fn codenames_and_urgency() {
        assert_eq!(release_number("bookworm"), Some("12"));
        assert_eq!(release_number("buster"), Some("10"));
        assert_eq!(release_number("sid"), None);
        assert_eq!(urgency_level("high**"), Some(SeverityLevel::High));
        assert_eq!(urgency_level("unimportant"), Some(SeverityLevel::Low));
        assert_eq!(urgency_level("not yet assigned"), None);
        assert_eq!(urgency_level("end-of-life"), None);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for bad in [
            "",
            "[]",
            "{\"pkg\": 5}",
            "{\"pkg\": [1]}",
            "{\"pkg\": {\"CVE-2024-1\": {\"releases\": [1]}}}",
            "{\"pkg\": {\"CVE-1-1\": {\"releases\": {\"bookworm\": {}}}}}",
            "{\"pkg\": {\"nonsense\": {\"releases\": {}}}}",
            "{\"\": {}}",
        ] {
            let e = one(bad).unwrap_err().to_string();
            assert!(e.starts_with("t.json: "), "{bad}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
        // PHP-style empty releases are fine.
        assert!(one("{\"pkg\": {\"CVE-2024-1\": {\"releases\": []}}}")
            .unwrap()
            .is_empty());
    }
}
