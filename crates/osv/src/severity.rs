//! Severity scoring: CVSS v2 / v3.x / v4.0 base scores and the Ubuntu priority words.
//!
//! v3.x and v4.0 are scored by the RustSec `cvss` crate. That crate has no v2, so the v2
//! base equation (CVSS v2 guide, section 3.2.1) is implemented here; it is twelve lines.
//! A vector that does not parse never rejects its advisory: the text is kept and
//! `base_score` / `level` stay `None` (feeds publish odd vectors and a record is still
//! worth matching).

use crate::{Severity, SeverityLevel, SeverityType};

/// Score one `severity[]` entry.
pub(crate) fn score(ty: SeverityType, text: String) -> Severity {
    let (base_score, level) = match ty {
        SeverityType::CvssV2 => match cvss_v2_base(&text) {
            Some(s) => (Some(s), Some(level_v2(s))),
            None => (None, None),
        },
        SeverityType::CvssV3 => match cvss_v3_base(&text) {
            Some(s) => (Some(s), Some(level_v3(s))),
            None => (None, None),
        },
        SeverityType::CvssV4 => match text.trim().parse::<cvss::v4::Vector>() {
            Ok(v) => {
                let s = v.score().value();
                (Some(s), Some(level_v3(s)))
            }
            Err(_) => (None, None),
        },
        SeverityType::Ubuntu => (None, ubuntu_level(&text)),
        SeverityType::Other => (None, None),
    };
    Severity {
        ty,
        score: text,
        base_score,
        level,
    }
}

/// The qualitative rating of CVSS v3.x and v4.0 (identical scales).
pub(crate) fn level_v3(score: f64) -> SeverityLevel {
    if score <= 0.0 {
        SeverityLevel::None
    } else if score < 4.0 {
        SeverityLevel::Low
    } else if score < 7.0 {
        SeverityLevel::Medium
    } else if score < 9.0 {
        SeverityLevel::High
    } else {
        SeverityLevel::Critical
    }
}

/// NVD's CVSS v2 rating (Low 0.0–3.9, Medium 4.0–6.9, High 7.0–10.0); v2 has no
/// "Critical". A 0.0 score has no impact at all and rates `None`.
pub(crate) fn level_v2(score: f64) -> SeverityLevel {
    if score <= 0.0 {
        SeverityLevel::None
    } else if score < 4.0 {
        SeverityLevel::Low
    } else if score < 7.0 {
        SeverityLevel::Medium
    } else {
        SeverityLevel::High
    }
}

/// Ubuntu priorities. `negligible` is still a (theoretical) security problem, so it rates
/// `Low`; `untriaged` has no rating yet.
fn ubuntu_level(word: &str) -> Option<SeverityLevel> {
    match word.trim().to_ascii_lowercase().as_str() {
        "negligible" | "low" => Some(SeverityLevel::Low),
        "medium" => Some(SeverityLevel::Medium),
        "high" => Some(SeverityLevel::High),
        "critical" => Some(SeverityLevel::Critical),
        _ => None,
    }
}

/// A GHSA-style `database_specific.severity` word.
pub(crate) fn level_word(word: &str) -> Option<SeverityLevel> {
    match word.trim().to_ascii_uppercase().as_str() {
        "CRITICAL" => Some(SeverityLevel::Critical),
        "HIGH" | "IMPORTANT" => Some(SeverityLevel::High),
        "MODERATE" | "MEDIUM" => Some(SeverityLevel::Medium),
        "LOW" | "NEGLIGIBLE" => Some(SeverityLevel::Low),
        "NONE" => Some(SeverityLevel::None),
        _ => None,
    }
}

/// CVSS v3.0/v3.1 base score. The `cvss` crate tolerates missing or repeated metrics
/// (scoring a missing one as 0), so completeness is checked here first.
fn cvss_v3_base(text: &str) -> Option<f64> {
    let text = text.trim();
    let mut seen = [false; 8];
    let mut parts = text.split('/');
    if !matches!(parts.next(), Some("CVSS:3.0" | "CVSS:3.1")) {
        return None;
    }
    for part in parts {
        let (k, _) = part.split_once(':')?;
        let i = ["AV", "AC", "PR", "UI", "S", "C", "I", "A"]
            .iter()
            .position(|m| m.eq_ignore_ascii_case(k))?;
        if std::mem::replace(&mut seen[i], true) {
            return None;
        }
    }
    if !seen.iter().all(|s| *s) {
        return None;
    }
    let base: cvss::v3::Base = text.parse().ok()?;
    Some(base.score().value())
}

/// CVSS v2 base score from `AV:N/AC:L/Au:N/C:P/I:P/A:P`. Accepts the NVD spelling in
/// parentheses and a `CVSS:2.0/` prefix; temporal and environmental metrics are allowed and
/// ignored (the base score does not use them).
pub(crate) fn cvss_v2_base(text: &str) -> Option<f64> {
    let mut t = text.trim();
    if let Some(inner) = t.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        t = inner;
    }
    if let Some(rest) = t.strip_prefix("CVSS:2.0/") {
        t = rest;
    }
    let (mut av, mut ac, mut au, mut c, mut i, mut a) = (None, None, None, None, None, None);
    for part in t.split('/') {
        let (k, v) = part.split_once(':')?;
        let slot = match k {
            "AV" => &mut av,
            "AC" => &mut ac,
            "Au" => &mut au,
            "C" => &mut c,
            "I" => &mut i,
            "A" => &mut a,
            "E" | "RL" | "RC" | "CDP" | "TD" | "CR" | "IR" | "AR" => continue,
            _ => return None,
        };
        let w = match (k, v) {
            ("AV", "L") => 0.395,
            ("AV", "A") => 0.646,
            ("AV", "N") => 1.0,
            ("AC", "H") => 0.35,
            ("AC", "M") => 0.61,
            ("AC", "L") => 0.71,
            ("Au", "M") => 0.45,
            ("Au", "S") => 0.56,
            ("Au", "N") => 0.704,
            ("C" | "I" | "A", "N") => 0.0,
            ("C" | "I" | "A", "P") => 0.275,
            ("C" | "I" | "A", "C") => 0.660,
            _ => return None,
        };
        if slot.replace(w).is_some() {
            return None;
        }
    }
    let (av, ac, au, c, i, a) = (av?, ac?, au?, c?, i?, a?);
    let impact: f64 = 10.41 * (1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a));
    let exploitability = 20.0 * av * ac * au;
    let f_impact = if impact == 0.0 { 0.0 } else { 1.176 };
    let raw = ((0.6 * impact) + (0.4 * exploitability) - 1.5) * f_impact;
    // Round to one decimal; the small bias absorbs binary error on exact .x5 values.
    Some(((raw * 10.0) + 1e-9).round().max(0.0) / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvss_v2_scores_match_nvd() {
        // (vector, NVD base score)
        let cases = [
            ("AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5),
            ("AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0),
            ("AV:N/AC:M/Au:N/C:N/I:P/A:N", 4.3),
            ("AV:N/AC:L/Au:N/C:N/I:N/A:P", 5.0),
            ("AV:L/AC:L/Au:N/C:C/I:C/A:C", 7.2),
            ("AV:N/AC:M/Au:N/C:P/I:P/A:P", 6.8),
            ("AV:L/AC:L/Au:N/C:P/I:N/A:N", 2.1),
            ("AV:N/AC:H/Au:N/C:P/I:P/A:P", 5.1),
            ("AV:N/AC:L/Au:S/C:P/I:P/A:P", 6.5),
            ("AV:A/AC:L/Au:N/C:N/I:N/A:C", 6.1),
            ("AV:N/AC:L/Au:N/C:N/I:N/A:N", 0.0),
            ("(AV:N/AC:L/Au:N/C:P/I:P/A:P)", 7.5),
            ("CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5),
            ("AV:N/AC:L/Au:N/C:P/I:P/A:P/E:F/RL:OF/RC:C", 7.5),
        ];
        for (v, want) in cases {
            assert_eq!(cvss_v2_base(v), Some(want), "{v}");
        }
    }

    #[test]
    fn cvss_v2_rejects_malformed() {
        for v in [
            "",
            "AV:N/AC:L/Au:N/C:P/I:P",
            "AV:N/AC:L/Au:N/C:P/I:P/A:P/A:P",
            "AV:X/AC:L/Au:N/C:P/I:P/A:P",
            "AV:N/AC:L/Au:N/C:P/I:P/A:P/ZZ:1",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        ] {
            assert_eq!(cvss_v2_base(v), None, "{v}");
        }
    }

    #[test]
    fn scores_each_type() {
        let cases: &[(SeverityType, &str, Option<f64>, Option<SeverityLevel>)] = &[
            (
                SeverityType::CvssV3,
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                Some(9.8),
                Some(SeverityLevel::Critical),
            ),
            (
                SeverityType::CvssV3,
                "CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
                Some(8.1),
                Some(SeverityLevel::High),
            ),
            (
                SeverityType::CvssV3,
                "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:N",
                Some(0.0),
                Some(SeverityLevel::None),
            ),
            (
                SeverityType::CvssV4,
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                Some(9.3),
                Some(SeverityLevel::Critical),
            ),
            (
                SeverityType::CvssV2,
                "AV:N/AC:M/Au:N/C:N/I:P/A:N",
                Some(4.3),
                Some(SeverityLevel::Medium),
            ),
            (
                SeverityType::Ubuntu,
                "negligible",
                None,
                Some(SeverityLevel::Low),
            ),
            (
                SeverityType::Ubuntu,
                "high",
                None,
                Some(SeverityLevel::High),
            ),
            (SeverityType::Ubuntu, "untriaged", None, None),
            (SeverityType::Other, "whatever", None, None),
            // Malformed vectors: kept, not scored.
            (SeverityType::CvssV3, "CVSS:3.1/AV:N/AC:L", None, None),
            (
                SeverityType::CvssV3,
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:H",
                None,
                None,
            ),
            (SeverityType::CvssV3, "garbage", None, None),
            (SeverityType::CvssV4, "CVSS:4.0/AV:N", None, None),
            (
                SeverityType::CvssV4,
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                None,
                None,
            ),
        ];
        for (ty, text, base, level) in cases {
            let s = score(*ty, text.to_string());
            assert_eq!(s.score, *text);
            assert_eq!(s.base_score, *base, "{text}");
            assert_eq!(s.level, *level, "{text}");
        }
    }

    #[test]
    fn levels_are_monotone_in_score() {
        let mut prev3 = SeverityLevel::None;
        let mut prev2 = SeverityLevel::None;
        for tenth in 0..=100 {
            let s = f64::from(tenth) / 10.0;
            let (l3, l2) = (level_v3(s), level_v2(s));
            assert!(l3 >= prev3 && l2 >= prev2, "{s}");
            assert!(l2 <= SeverityLevel::High);
            prev3 = l3;
            prev2 = l2;
        }
        assert_eq!(level_v3(9.0), SeverityLevel::Critical);
        assert_eq!(level_v3(8.9), SeverityLevel::High);
        assert_eq!(level_v3(0.1), SeverityLevel::Low);
    }
}
