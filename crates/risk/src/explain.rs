//! Factors and the plain-words explanation.
//!
//! Each [`Factor`] says what was known (value), where it came from (source, date) and how
//! many score points it moved (contribution: threat factors add, context factors take away;
//! together they sum to the score up to rounding). Factors are ordered by the size of their
//! effect, then the SLA rule. The sentence names the strongest threat evidence (at most
//! three pieces), then the asset, e.g. *"in CISA KEV since 2024-05-02 (ransomware use
//! known); EPSS 0.94, 99th percentile; CVSS 9.8 critical; internet-facing tier-1 asset"*.

use serde::{Deserialize, Serialize};

use crate::asset::{ContextOrigin, ResolvedAsset};
use crate::score::{round1, Breakdown};
use crate::sla::{Due, DueRule};
use crate::ssvc::Exploitation;
use crate::{Date, Finding, Policy, Severity};

/// One piece of evidence behind a risk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// Stable key: `exploitation`, `epss`, `cvss`, `exposure`, `criticality`, `fix`, `sla`.
    pub name: String,
    pub value: String,
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
    /// Score points this factor added (positive) or took away (negative).
    pub contribution: f32,
}

/// `0.94`, `0.023`, `0.0004`: enough digits to tell small probabilities apart.
fn prob(x: f32) -> String {
    match x {
        x if x >= 0.1 => format!("{x:.2}"),
        x if x >= 0.01 => format!("{x:.3}"),
        x => format!("{x:.4}"),
    }
}

/// `0.99` → `99th percentile`.
fn percentile(p: f32) -> String {
    // f32 arithmetic on purpose: 0.01f32 widened to f64 is 0.00999…, which floors to 0.
    let n = (p * 100.0).floor().clamp(0.0, 100.0) as u32;
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix} percentile")
}

fn factor(name: &str, value: String, source: &str, date: Option<Date>, c: f64) -> Factor {
    Factor {
        name: name.to_string(),
        value,
        source: source.to_string(),
        date,
        contribution: round1(c),
    }
}

/// `asset context` plus where the value came from: `asset context: label
/// patchpilot:asset:tier in app.cdx.json`, `asset context: default`.
fn context_source(o: &ContextOrigin) -> String {
    match o {
        ContextOrigin::Given => "asset context".to_string(),
        o => format!("asset context: {o}"),
    }
}

pub(crate) fn explain(
    f: &Finding,
    resolved: &ResolvedAsset,
    policy: &Policy,
    exploitation: Exploitation,
    b: &Breakdown,
    due: &Due,
) -> (Vec<Factor>, String) {
    let asset = &resolved.context;
    // (factor, phrase for the sentence if it is threat evidence)
    let mut items: Vec<(Factor, Option<String>)> = Vec::new();

    // Exploitation and its evidence.
    let vector = f.cvss.as_ref().and_then(|c| c.vector.as_ref());
    let vector_e = vector
        .map(|v| v.exploitation())
        .filter(|&e| e > Exploitation::None);
    let epss_poc = f
        .epss
        .is_some_and(|s| f64::from(s.epss) >= policy.epss_threshold);
    let (value, source, date, phrase) = if let Some(k) = f.kev {
        let ransom = if k.ransomware {
            " (ransomware use known)"
        } else {
            ""
        };
        (
            format!("active: in CISA KEV since {}{ransom}", k.date_added),
            "CISA KEV",
            Some(k.date_added),
            Some(format!("in CISA KEV since {}{ransom}", k.date_added)),
        )
    } else if vector_e == Some(Exploitation::Active) {
        let p = "actively exploited (CVSS E:A)".to_string();
        (format!("active: {p}"), "CVSS threat metric", None, Some(p))
    } else if exploitation == Exploitation::PublicPoc {
        let mut why = Vec::new();
        if f.exploit_reference.is_some() {
            why.push("exploit reference".to_string());
        }
        if vector_e.is_some() {
            why.push("CVSS exploit maturity".to_string());
        }
        let phrase = (!why.is_empty()).then(|| format!("public exploit ({})", why.join(", ")));
        if epss_poc {
            why.push(format!("EPSS >= {}", policy.epss_threshold));
        }
        let source = if let Some(r) = &f.exploit_reference {
            r.as_str()
        } else if vector_e.is_some() {
            "CVSS threat metric"
        } else {
            "FIRST EPSS"
        };
        (
            format!("public PoC: {}", why.join(", ")),
            source,
            None,
            phrase,
        )
    } else {
        (
            "none known".to_string(),
            "CISA KEV, FIRST EPSS, advisory",
            None,
            None,
        )
    };
    items.push((
        factor("exploitation", value, source, date, b.exploitation),
        phrase,
    ));

    // EPSS.
    let (value, phrase, date) = match f.epss {
        Some(e) => {
            let v = format!("{}, {}", prob(e.epss), percentile(e.percentile));
            (v.clone(), Some(format!("EPSS {v}")), e.date)
        }
        None => ("not scored".to_string(), None, None),
    };
    items.push((factor("epss", value, "FIRST EPSS", date, b.epss), phrase));

    // CVSS.
    let (value, source, phrase) = match &f.cvss {
        Some(c) => {
            let sev = Severity::from_score(c.base_score).as_str();
            let text = format!("{:.1} {sev}", c.base_score);
            let value = match vector {
                Some(v) => format!("{text} ({v})"),
                None => text.clone(),
            };
            let source = match vector.map(|v| v.version.as_str()) {
                Some("4.0") => "CVSS v4.0",
                Some("3.0") => "CVSS v3.0",
                Some(_) => "CVSS v3.1",
                None => "CVSS",
            };
            (value, source, Some(format!("CVSS {text}")))
        }
        None => (
            format!("unknown, assumed {:.1}", policy.weights.missing_cvss),
            "policy",
            Some("no CVSS score".to_string()),
        ),
    };
    items.push((factor("cvss", value, source, None, b.cvss), phrase));

    let threat_count = items.len();
    items.push((
        factor(
            "exposure",
            asset.exposure.as_str().to_string(),
            &context_source(&resolved.origins.exposure),
            None,
            b.exposure,
        ),
        None,
    ));
    items.push((
        factor(
            "criticality",
            asset.tier.to_string(),
            &context_source(&resolved.origins.tier),
            None,
            b.tier,
        ),
        None,
    ));
    let fix = if f.fix_available {
        "fix available"
    } else {
        "no fix available"
    };
    items.push((
        factor("fix", fix.to_string(), "advisory", None, b.fix),
        None,
    ));

    // The sentence: strongest threat evidence first, then the asset.
    let mut threats: Vec<&(Factor, Option<String>)> = items[..threat_count]
        .iter()
        .filter(|(_, p)| p.is_some())
        .collect();
    threats.sort_by(|a, b| b.0.contribution.total_cmp(&a.0.contribution));
    let mut parts: Vec<String> = threats
        .iter()
        .take(3)
        .filter_map(|(_, p)| p.clone())
        .collect();
    parts.push(format!("{} {} asset", asset.exposure.as_str(), asset.tier));
    if !f.fix_available {
        parts.push("no fix available".to_string());
    }
    let sentence = parts.join("; ");

    let mut factors: Vec<Factor> = items.into_iter().map(|(f, _)| f).collect();
    factors.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
    let (value, source) = match due.rule {
        DueRule::Severity { severity, days } => (
            format!(
                "due {}: {days} days for {} severity",
                due.date,
                severity.as_str()
            ),
            "policy",
        ),
        DueRule::KevDays { days } => (
            format!(
                "due {}: {days} days for a KEV-listed CVE (BOD 22-01)",
                due.date
            ),
            "policy",
        ),
        DueRule::KevDueDate => (format!("due {}: CISA KEV due date", due.date), "CISA KEV"),
        DueRule::Informational { days } => (
            format!(
                "due {}: {days} days for an informational advisory",
                due.date
            ),
            "policy",
        ),
    };
    factors.push(factor("sla", value, source, Some(due.date), 0.0));
    (factors, sentence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_words() {
        let cases = [
            (0.99, "99th"),
            (0.995, "99th"),
            (1.0, "100th"),
            (0.01, "1st"),
            (0.02, "2nd"),
            (0.03, "3rd"),
            (0.11, "11th"),
            (0.12, "12th"),
            (0.13, "13th"),
            (0.21, "21st"),
            (0.0, "0th"),
        ];
        for (p, want) in cases {
            assert_eq!(percentile(p), format!("{want} percentile"), "{p}");
        }
    }

    #[test]
    fn probability_digits() {
        assert_eq!(prob(0.94), "0.94");
        assert_eq!(prob(0.0234), "0.023");
        assert_eq!(prob(0.00043), "0.0004");
    }
}
