//! The few CVSS facts the risk engine needs, read from a v3.x or v4.0 vector string.
//!
//! Scoring a vector is the OSV crate's job; here we only need the four exploitability
//! metrics behind SSVC's *Automatable* (`AV:N/AC:L/PR:N/UI:N` means an attacker can script
//! the exploit across targets) and the threat metric `E` (exploit maturity), which is
//! evidence of exploitation. Metrics we do not use are skipped, but the ones we read are
//! validated, and a metric given twice is an error.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ssvc::{Automatable, Exploitation};

/// CVSS major version of a vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CvssVersion {
    #[serde(rename = "3.0")]
    V3_0,
    #[serde(rename = "3.1")]
    V3_1,
    #[serde(rename = "4.0")]
    V4_0,
}

impl CvssVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            CvssVersion::V3_0 => "3.0",
            CvssVersion::V3_1 => "3.1",
            CvssVersion::V4_0 => "4.0",
        }
    }
}

/// A parsed CVSS v3.x / v4.0 vector (only the metrics the risk engine uses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CvssVector {
    pub version: CvssVersion,
    /// AV: N, A, L or P.
    pub attack_vector: char,
    /// AC: L or H.
    pub attack_complexity: char,
    /// PR: N, L or H.
    pub privileges_required: char,
    /// UI: N or R (v3); N, P or A (v4).
    pub user_interaction: char,
    /// E, when given and not X: U, P, F, H (v3); U, P, A (v4).
    pub exploit_maturity: Option<char>,
    /// The vector as given (trimmed).
    pub text: String,
}

/// Why a CVSS vector was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CVSS vector {vector:?}: {reason}")]
pub struct CvssError {
    vector: String,
    reason: String,
}

impl CvssVector {
    /// SSVC Automatable: `yes` exactly when AV:N, AC:L, PR:N and UI:N.
    pub fn automatable(&self) -> Automatable {
        if (
            self.attack_vector,
            self.attack_complexity,
            self.privileges_required,
            self.user_interaction,
        ) == ('N', 'L', 'N', 'N')
        {
            Automatable::Yes
        } else {
            Automatable::No
        }
    }

    /// Exploitation evidence from the threat metric: v4 `E:A` (attacked) is active;
    /// v4 `E:P` and v3 `E:P`/`E:F`/`E:H` (code exists) are a public PoC; `E:U` is none.
    pub fn exploitation(&self) -> Exploitation {
        match (self.version, self.exploit_maturity) {
            (CvssVersion::V4_0, Some('A')) => Exploitation::Active,
            (_, Some('P' | 'F' | 'H')) => Exploitation::PublicPoc,
            _ => Exploitation::None,
        }
    }
}

impl FromStr for CvssVector {
    type Err = CvssError;

    fn from_str(s: &str) -> Result<CvssVector, CvssError> {
        let text = s.trim();
        let err = |reason: String| CvssError {
            vector: text.to_string(),
            reason,
        };
        let (version, rest) = if let Some(r) = text.strip_prefix("CVSS:3.0/") {
            (CvssVersion::V3_0, r)
        } else if let Some(r) = text.strip_prefix("CVSS:3.1/") {
            (CvssVersion::V3_1, r)
        } else if let Some(r) = text.strip_prefix("CVSS:4.0/") {
            (CvssVersion::V4_0, r)
        } else {
            return Err(err(
                "expected a CVSS:3.0/, CVSS:3.1/ or CVSS:4.0/ prefix (v2 vectors are not used)"
                    .into(),
            ));
        };
        let v4 = version == CvssVersion::V4_0;
        let mut m: [Option<char>; 5] = [None; 5];
        for part in rest.split('/') {
            let Some((key, value)) = part.split_once(':') else {
                return Err(err(format!("metric {part:?} is not KEY:VALUE")));
            };
            let (slot, allowed): (usize, &str) = match key {
                "AV" => (0, "NALP"),
                "AC" => (1, "LH"),
                "PR" => (2, "NLH"),
                "UI" if v4 => (3, "NPA"),
                "UI" => (3, "NR"),
                "E" if v4 => (4, "XUPA"),
                "E" => (4, "XUPFH"),
                _ if key.is_empty() || value.is_empty() => {
                    return Err(err(format!("metric {part:?} is not KEY:VALUE")))
                }
                _ => continue,
            };
            let mut chars = value.chars();
            let (Some(c), None) = (chars.next(), chars.next()) else {
                return Err(err(format!("{key}:{value} is not one of {allowed}")));
            };
            if !allowed.contains(c) {
                return Err(err(format!("{key}:{value} is not one of {allowed}")));
            }
            if m[slot].replace(c).is_some() {
                return Err(err(format!("metric {key} given twice")));
            }
        }
        let need = |i: usize, key: &str| m[i].ok_or_else(|| err(format!("metric {key} missing")));
        Ok(CvssVector {
            version,
            attack_vector: need(0, "AV")?,
            attack_complexity: need(1, "AC")?,
            privileges_required: need(2, "PR")?,
            user_interaction: need(3, "UI")?,
            exploit_maturity: m[4].filter(|&c| c != 'X'),
            text: text.to_string(),
        })
    }
}

impl fmt::Display for CvssVector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Qualitative severity of a CVSS base score (the v3.1/v4.0 bands).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    None,
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

impl Severity {
    /// 0.0 none, 0.1-3.9 low, 4.0-6.9 medium, 7.0-8.9 high, 9.0-10.0 critical. Monotone.
    pub fn from_score(score: f32) -> Severity {
        match score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatable_table() {
        let cases = [
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                Automatable::Yes,
            ),
            (
                "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
                Automatable::Yes,
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
                Automatable::No,
            ),
            (
                "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
                Automatable::No,
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
                Automatable::No,
            ),
            (
                "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                Automatable::No,
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                Automatable::Yes,
            ),
            (
                "CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                Automatable::No,
            ),
        ];
        for (v, want) in cases {
            let parsed: CvssVector = v.parse().unwrap_or_else(|e| panic!("{v}: {e}"));
            assert_eq!(parsed.automatable(), want, "{v}");
            assert_eq!(parsed.to_string(), v);
        }
    }

    #[test]
    fn exploit_maturity() {
        let cases = [
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A",
                Exploitation::Active,
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:P",
                Exploitation::PublicPoc,
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U",
                Exploitation::None,
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:X",
                Exploitation::None,
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:H/RL:O/RC:C",
                Exploitation::PublicPoc,
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:F",
                Exploitation::PublicPoc,
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                Exploitation::None,
            ),
        ];
        for (v, want) in cases {
            assert_eq!(v.parse::<CvssVector>().unwrap().exploitation(), want, "{v}");
        }
    }

    #[test]
    fn rejects_bad_vectors() {
        let cases = [
            ("AV:N/AC:L/Au:N/C:P/I:P/A:P", "prefix"),
            ("CVSS:3.1/AV:N/AC:L/PR:N", "UI missing"),
            ("CVSS:3.1/AV:X/AC:L/PR:N/UI:N", "AV:X"),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:P", "UI:P"),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/AV:L", "given twice"),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/E:A", "E:A"),
            ("CVSS:3.1/AV:N/AC:LL/PR:N/UI:N", "AC:LL"),
            ("CVSS:3.1/AV:N//AC:L/PR:N/UI:N", "KEY:VALUE"),
            ("CVSS:3.1/", "KEY:VALUE"),
            ("", "prefix"),
        ];
        for (v, want) in cases {
            let e = v.parse::<CvssVector>().unwrap_err().to_string();
            assert!(e.contains(want), "{v}: {e}");
        }
    }

    #[test]
    fn severity_bands() {
        let cases = [
            (0.0, Severity::None),
            (0.1, Severity::Low),
            (3.9, Severity::Low),
            (4.0, Severity::Medium),
            (6.9, Severity::Medium),
            (7.0, Severity::High),
            (8.9, Severity::High),
            (9.0, Severity::Critical),
            (10.0, Severity::Critical),
            (f32::NAN, Severity::None),
        ];
        for (s, want) in cases {
            assert_eq!(Severity::from_score(s), want, "{s}");
        }
    }
}
