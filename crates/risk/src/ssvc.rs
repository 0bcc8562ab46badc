//! SSVC deployer decision: CERT/CC "Deployer Patch Application Priority" 1.0.0.
//!
//! Four decision points, each an ordered scale, map to one of Defer < Scheduled <
//! Out-of-Cycle < Immediate. The 72-row table in [`TABLE`] is transcribed from CERT/CC's
//! `deployer_patch_application_priority_1_0_0.csv` (the integration test re-reads that CSV
//! and checks every row). The table is monotone: raising any one decision point never lowers
//! the decision (a unit test checks all 72 × 4 neighbours), which is what makes the engine's
//! SSVC urgency monotone in EPSS, CVSS, exposure and criticality: each of those feeds a
//! decision point through a non-decreasing mapping (see `lib.rs`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::asset::{DataSensitivity, Exposure, Tier};

/// Exploitation v1.1.0: evidence of exploitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exploitation {
    None,
    PublicPoc,
    Active,
}

/// System Exposure v1.0.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SystemExposure {
    Small,
    Controlled,
    Open,
}

/// Automatable v2.0.0: can an attacker script steps 1-4 of the kill chain?
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Automatable {
    No,
    Yes,
}

/// Human Impact v2.0.2 (mission and well-being impact combined).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HumanImpact {
    Low,
    Medium,
    High,
    VeryHigh,
}

/// The deployer's decision, ordered by urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    Defer,
    Scheduled,
    OutOfCycle,
    Immediate,
}

/// The four decision points for one finding on one asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SsvcInputs {
    pub exploitation: Exploitation,
    pub exposure: SystemExposure,
    pub automatable: Automatable,
    pub human_impact: HumanImpact,
}

use Decision::{Defer as D, Immediate as I, OutOfCycle as O, Scheduled as S};

/// Indexed by `((exploitation * 3 + exposure) * 2 + automatable) * 4 + human_impact`, which
/// is the row order of CERT/CC's CSV.
#[rustfmt::skip]
pub const TABLE: [Decision; 72] = [
    // none, small, automatable no: low, medium, high, very high
    D, D, S, S,
    // none, small, automatable yes
    D, S, S, S,
    // none, controlled, automatable no
    D, S, S, S,
    // none, controlled, automatable yes
    S, S, S, S,
    // none, open, automatable no
    D, S, S, S,
    // none, open, automatable yes
    S, S, S, O,
    // public poc, small, automatable no
    D, S, S, S,
    // public poc, small, automatable yes
    S, S, S, S,
    // public poc, controlled, automatable no
    D, S, S, S,
    // public poc, controlled, automatable yes
    S, S, S, O,
    // public poc, open, automatable no
    S, S, S, O,
    // public poc, open, automatable yes
    S, S, O, O,
    // active, small, automatable no
    S, S, O, O,
    // active, small, automatable yes
    S, O, O, O,
    // active, controlled, automatable no
    S, S, O, O,
    // active, controlled, automatable yes
    O, O, O, O,
    // active, open, automatable no
    S, O, O, I,
    // active, open, automatable yes
    O, O, I, I,
];

/// The deployer decision for the given decision points.
pub fn decide(i: &SsvcInputs) -> Decision {
    let idx = ((i.exploitation as usize * 3 + i.exposure as usize) * 2 + i.automatable as usize)
        * 4
        + i.human_impact as usize;
    TABLE[idx]
}

impl Exploitation {
    pub const ALL: [Exploitation; 3] = [
        Exploitation::None,
        Exploitation::PublicPoc,
        Exploitation::Active,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Exploitation::None => "none",
            Exploitation::PublicPoc => "public poc",
            Exploitation::Active => "active",
        }
    }
}

impl SystemExposure {
    pub const ALL: [SystemExposure; 3] = [
        SystemExposure::Small,
        SystemExposure::Controlled,
        SystemExposure::Open,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SystemExposure::Small => "small",
            SystemExposure::Controlled => "controlled",
            SystemExposure::Open => "open",
        }
    }
}

impl From<Exposure> for SystemExposure {
    /// Internet-facing is open, internal is controlled, isolated is small. Monotone.
    fn from(e: Exposure) -> SystemExposure {
        match e {
            Exposure::Isolated => SystemExposure::Small,
            Exposure::Internal => SystemExposure::Controlled,
            Exposure::InternetFacing => SystemExposure::Open,
        }
    }
}

impl Automatable {
    pub const ALL: [Automatable; 2] = [Automatable::No, Automatable::Yes];

    pub fn as_str(self) -> &'static str {
        match self {
            Automatable::No => "no",
            Automatable::Yes => "yes",
        }
    }
}

impl HumanImpact {
    pub const ALL: [HumanImpact; 4] = [
        HumanImpact::Low,
        HumanImpact::Medium,
        HumanImpact::High,
        HumanImpact::VeryHigh,
    ];

    /// Tier 1 is very high, 2 high, 3 medium, 4 low; data sensitivity sets a floor
    /// (confidential at least medium, restricted at least high). Monotone in both.
    pub fn from_asset(tier: Tier, sensitivity: DataSensitivity) -> HumanImpact {
        let by_tier = HumanImpact::ALL[usize::from(tier.criticality())];
        let by_data = match sensitivity {
            DataSensitivity::Public | DataSensitivity::Internal => HumanImpact::Low,
            DataSensitivity::Confidential => HumanImpact::Medium,
            DataSensitivity::Restricted => HumanImpact::High,
        };
        by_tier.max(by_data)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HumanImpact::Low => "low",
            HumanImpact::Medium => "medium",
            HumanImpact::High => "high",
            HumanImpact::VeryHigh => "very high",
        }
    }
}

impl Decision {
    pub const ALL: [Decision; 4] = [
        Decision::Defer,
        Decision::Scheduled,
        Decision::OutOfCycle,
        Decision::Immediate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Defer => "defer",
            Decision::Scheduled => "scheduled",
            Decision::OutOfCycle => "out-of-cycle",
            Decision::Immediate => "immediate",
        }
    }
}

/// Why an SSVC value given as text was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid SSVC {what} {got:?}")]
pub struct SsvcValueError {
    what: &'static str,
    got: String,
}

macro_rules! labelled {
    ($($ty:ty => $what:literal),* $(,)?) => {$(
        impl FromStr for $ty {
            type Err = SsvcValueError;
            /// The CERT/CC label (`public poc`, `very high`, `out-of-cycle`); case, `-`, `_`
            /// and spaces are not significant.
            fn from_str(s: &str) -> Result<$ty, SsvcValueError> {
                let norm = |x: &str| {
                    x.chars()
                        .filter(|c| !matches!(c, ' ' | '-' | '_'))
                        .collect::<String>()
                        .to_ascii_lowercase()
                };
                let mut want = norm(s);
                if want == "poc" {
                    // the legacy CERT/CC label for "public poc"
                    want = "publicpoc".to_string();
                }
                <$ty>::ALL
                    .into_iter()
                    .find(|v| norm(v.as_str()) == want)
                    .ok_or_else(|| SsvcValueError { what: $what, got: s.to_string() })
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

labelled!(
    Exploitation => "exploitation",
    SystemExposure => "system exposure",
    Automatable => "automatable",
    HumanImpact => "human impact",
    Decision => "decision",
);

#[cfg(test)]
mod tests {
    use super::*;

    fn all_inputs() -> impl Iterator<Item = SsvcInputs> {
        Exploitation::ALL.into_iter().flat_map(|e| {
            SystemExposure::ALL.into_iter().flat_map(move |x| {
                Automatable::ALL.into_iter().flat_map(move |a| {
                    HumanImpact::ALL.into_iter().map(move |h| SsvcInputs {
                        exploitation: e,
                        exposure: x,
                        automatable: a,
                        human_impact: h,
                    })
                })
            })
        })
    }

    #[test]
    fn table_is_monotone_in_every_decision_point() {
        let mut pairs = 0;
        for i in all_inputs() {
            let d = decide(&i);
            let ups = [
                Exploitation::ALL
                    .get(i.exploitation as usize + 1)
                    .map(|&e| SsvcInputs {
                        exploitation: e,
                        ..i
                    }),
                SystemExposure::ALL
                    .get(i.exposure as usize + 1)
                    .map(|&x| SsvcInputs { exposure: x, ..i }),
                Automatable::ALL
                    .get(i.automatable as usize + 1)
                    .map(|&a| SsvcInputs {
                        automatable: a,
                        ..i
                    }),
                HumanImpact::ALL
                    .get(i.human_impact as usize + 1)
                    .map(|&h| SsvcInputs {
                        human_impact: h,
                        ..i
                    }),
            ];
            for up in ups.into_iter().flatten() {
                assert!(decide(&up) >= d, "{i:?} -> {up:?}");
                pairs += 1;
            }
        }
        assert_eq!(all_inputs().count(), 72);
        // 3*3*2*4 points; (2*3*2*4) + (3*2*2*4) + (3*3*1*4) + (3*3*2*3) neighbour pairs.
        assert_eq!(pairs, 48 + 48 + 36 + 54);
    }

    #[test]
    fn extremes() {
        let i = all_inputs().next().unwrap();
        assert_eq!(decide(&i), Decision::Defer);
        let j = all_inputs().last().unwrap();
        assert_eq!(decide(&j), Decision::Immediate);
    }

    #[test]
    fn labels_round_trip() {
        assert_eq!(
            "public poc".parse::<Exploitation>().unwrap(),
            Exploitation::PublicPoc
        );
        assert_eq!(
            "Very High".parse::<HumanImpact>().unwrap(),
            HumanImpact::VeryHigh
        );
        assert_eq!(
            "out-of-cycle".parse::<Decision>().unwrap(),
            Decision::OutOfCycle
        );
        assert_eq!(
            "OutOfCycle".parse::<Decision>().unwrap(),
            Decision::OutOfCycle
        );
        for d in Decision::ALL {
            assert_eq!(d.to_string().parse::<Decision>().unwrap(), d);
        }
        assert!("urgent".parse::<Decision>().is_err());
        assert_eq!(
            serde_json::to_string(&Decision::OutOfCycle).unwrap(),
            "\"out-of-cycle\""
        );
    }

    #[test]
    fn human_impact_mapping() {
        use DataSensitivity as Ds;
        let cases = [
            (1, Ds::Public, HumanImpact::VeryHigh),
            (2, Ds::Internal, HumanImpact::High),
            (3, Ds::Internal, HumanImpact::Medium),
            (4, Ds::Internal, HumanImpact::Low),
            (4, Ds::Confidential, HumanImpact::Medium),
            (4, Ds::Restricted, HumanImpact::High),
            (3, Ds::Restricted, HumanImpact::High),
            (1, Ds::Restricted, HumanImpact::VeryHigh),
        ];
        for (t, s, want) in cases {
            assert_eq!(
                HumanImpact::from_asset(Tier::new(t).unwrap(), s),
                want,
                "{t} {s:?}"
            );
        }
    }
}
