//! Asset context: where a finding lives and how much that matters.
//!
//! Every field has a documented default so an inventory with no context at all still ranks
//! sensibly, as a "typical internal server": on-prem, tier 3, internal, internal data.
//! These defaults sit in the middle of each scale on purpose: an unknown asset neither
//! jumps the queue nor vanishes from it.
//!
//! The type is TOML-friendly (kebab-case values, `tier = 1`), e.g.
//!
//! ```toml
//! environment = "cloud"
//! site = "eu-west-1"
//! tier = 1
//! exposure = "internet-facing"
//! data-sensitivity = "restricted"
//! owner = "payments-team"
//! tags = ["pci"]
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where the asset runs. Default: `on-prem`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Environment {
    Cloud,
    #[default]
    OnPrem,
    Edge,
}

/// Network exposure, ordered from least to most exposed. Default: `internal`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Exposure {
    /// No network path from outside its segment (air-gapped, OT island).
    Isolated,
    /// Reachable only from the organisation's networks.
    #[default]
    Internal,
    /// Reachable from the internet.
    InternetFacing,
}

impl Exposure {
    pub const ALL: [Exposure; 3] = [
        Exposure::Isolated,
        Exposure::Internal,
        Exposure::InternetFacing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Exposure::Isolated => "isolated",
            Exposure::Internal => "internal",
            Exposure::InternetFacing => "internet-facing",
        }
    }
}

/// The most sensitive data the asset holds, ordered. Default: `internal`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum DataSensitivity {
    Public,
    #[default]
    Internal,
    Confidential,
    /// Regulated or safety-relevant data (PII, PHI, cardholder data, control systems).
    Restricted,
}

impl DataSensitivity {
    pub const ALL: [DataSensitivity; 4] = [
        DataSensitivity::Public,
        DataSensitivity::Internal,
        DataSensitivity::Confidential,
        DataSensitivity::Restricted,
    ];
}

/// Business criticality tier, 1 (most critical) to 4 (least). Default: 3.
///
/// `Ord` follows the number, so `Tier::new(1) < Tier::new(4)` although tier 1 matters more;
/// use [`Tier::criticality`] when "more critical" is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Tier(u8);

/// Why a tier was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("criticality tier must be 1, 2, 3 or 4 (1 = most critical), got {0:?}")]
pub struct TierError(String);

impl Tier {
    pub const ALL: [Tier; 4] = [Tier(1), Tier(2), Tier(3), Tier(4)];

    pub fn new(n: u8) -> Result<Tier, TierError> {
        if (1..=4).contains(&n) {
            Ok(Tier(n))
        } else {
            Err(TierError(n.to_string()))
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }

    /// 3 for tier 1 down to 0 for tier 4: larger means more critical.
    pub fn criticality(self) -> u8 {
        4 - self.0
    }
}

impl Default for Tier {
    fn default() -> Tier {
        Tier(3)
    }
}

impl TryFrom<u8> for Tier {
    type Error = TierError;
    fn try_from(n: u8) -> Result<Tier, TierError> {
        Tier::new(n)
    }
}

impl From<Tier> for u8 {
    fn from(t: Tier) -> u8 {
        t.0
    }
}

impl FromStr for Tier {
    type Err = TierError;
    /// `1`, `tier1` or `tier-1` (for CLI flags and inventory labels).
    fn from_str(s: &str) -> Result<Tier, TierError> {
        let t = s.trim().to_ascii_lowercase();
        let n = match t.strip_prefix("tier") {
            Some(rest) => rest.strip_prefix('-').unwrap_or(rest),
            None => &t,
        };
        n.parse::<u8>()
            .ok()
            .and_then(|n| Tier::new(n).ok())
            .ok_or_else(|| TierError(s.to_string()))
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tier-{}", self.0)
    }
}

/// Why a context value given as text was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {got:?}; expected one of: {expected}")]
pub struct ContextValueError {
    what: &'static str,
    got: String,
    expected: &'static str,
}

macro_rules! from_str_kebab {
    ($ty:ty, $what:literal, $expected:literal, { $($s:literal => $v:expr),* $(,)? }) => {
        impl FromStr for $ty {
            type Err = ContextValueError;
            fn from_str(s: &str) -> Result<$ty, ContextValueError> {
                match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
                    $($s => Ok($v),)*
                    _ => Err(ContextValueError { what: $what, got: s.to_string(), expected: $expected }),
                }
            }
        }
    };
}

from_str_kebab!(Environment, "environment", "cloud, on-prem, edge", {
    "cloud" => Environment::Cloud, "on-prem" => Environment::OnPrem,
    "onprem" => Environment::OnPrem, "edge" => Environment::Edge,
});
from_str_kebab!(Exposure, "exposure", "internet-facing, internal, isolated", {
    "internet-facing" => Exposure::InternetFacing, "internet" => Exposure::InternetFacing,
    "internal" => Exposure::Internal, "isolated" => Exposure::Isolated,
});
from_str_kebab!(DataSensitivity, "data sensitivity", "public, internal, confidential, restricted", {
    "public" => DataSensitivity::Public, "internal" => DataSensitivity::Internal,
    "confidential" => DataSensitivity::Confidential, "restricted" => DataSensitivity::Restricted,
});

/// The context of one asset (host, container image, edge device).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct AssetContext {
    pub environment: Environment,
    /// Region (cloud) or site (on-prem, edge). Default: none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    pub tier: Tier,
    pub exposure: Exposure,
    pub data_sensitivity: DataSensitivity,
    /// Owning person or team. Default: none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_a_typical_internal_server() {
        let a = AssetContext::default();
        assert_eq!(a.environment, Environment::OnPrem);
        assert_eq!(a.tier.get(), 3);
        assert_eq!(a.exposure, Exposure::Internal);
        assert_eq!(a.data_sensitivity, DataSensitivity::Internal);
        assert_eq!(a.owner, None);
        // An empty JSON object is the default context.
        let parsed: AssetContext = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed, a);
    }

    #[test]
    fn parses_text_values() {
        assert_eq!("tier-1".parse::<Tier>().unwrap().get(), 1);
        assert_eq!("Tier2".parse::<Tier>().unwrap().get(), 2);
        assert_eq!("4".parse::<Tier>().unwrap().get(), 4);
        for bad in ["0", "5", "tier", "", "-1", "tier--1"] {
            let e = bad.parse::<Tier>().unwrap_err().to_string();
            assert!(e.contains("1, 2, 3 or 4"), "{bad}: {e}");
        }
        assert_eq!(
            "Internet_Facing".parse::<Exposure>().unwrap(),
            Exposure::InternetFacing
        );
        assert_eq!(
            "on-prem".parse::<Environment>().unwrap(),
            Environment::OnPrem
        );
        let e = "dmz".parse::<Exposure>().unwrap_err().to_string();
        assert!(e.contains("internet-facing, internal, isolated"), "{e}");
        assert!("secret".parse::<DataSensitivity>().is_err());
    }

    #[test]
    fn json_rejects_bad_values() {
        for bad in [
            r#"{"tier":0}"#,
            r#"{"tier":5}"#,
            r#"{"exposure":"dmz"}"#,
            r#"{"unknown-field":1}"#,
        ] {
            assert!(serde_json::from_str::<AssetContext>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn criticality_reverses_tier_numbers() {
        let c: Vec<u8> = Tier::ALL.iter().map(|t| t.criticality()).collect();
        assert_eq!(c, [3, 2, 1, 0]);
    }
}
