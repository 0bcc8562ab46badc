//! The 0-100 risk score and its weights.
//!
//! ```text
//! base  = w.cvss · cvss/10  +  w.epss · epss  +  w.epss-percentile · percentile
//!       + w.exploit-poc         · [exploitation ≥ public PoC]
//!       + w.active-exploitation · [exploitation = active]   (KEV, or CVSS v4 E:A)
//!       + w.ransomware          · [KEV says ransomware use is known]
//! threat = 100 · min(1, base)
//! score  = threat · exposure-factor · tier-factor · (fix available ? 1 : no-fix)
//! ```
//!
//! Missing CVSS counts as `missing-cvss` (default 5.0, a medium); missing EPSS as 0.
//! With the default weights (which sum to 1) a KEV-listed, ransomware-used, critical CVE with
//! EPSS 0.94 at the 99th percentile on an internet-facing tier-1 asset with a fix scores 98;
//! a CVSS 9.8 nobody exploits, on the same asset, scores 34; on an isolated tier-4 asset, 14.
//!
//! **Why it is monotone.** Every term of `base` is a non-negative weight times an input that
//! does not decrease when EPSS, its percentile or the CVSS base score rises (the exploitation
//! level is a non-decreasing step function of EPSS); `min`, multiplication by non-negative
//! factors and IEEE-754 rounding are all non-decreasing. The context factors are made
//! non-decreasing in exposure and criticality *by construction*: the factor used for a level
//! is the maximum of the configured factors at that level and every lower one (`cummax`), and
//! every weight is clamped to be non-negative and every factor to `0..=1`. So even a
//! misconfigured policy (which [`Weights::validate`] reports) cannot break monotonicity; it
//! can only flatten it. The final rounding to 0.1 is non-decreasing too.
//!
//! The breakdown splits the score into additive contributions (threat terms scaled by the
//! context multiplier) and the points each context factor took away, so the explanation's
//! numbers add up to the score.

use serde::{Deserialize, Serialize};

use crate::asset::{Exposure, Tier};
use crate::PolicyError;

/// Score weights, TOML-friendly (`[weights]` in a policy file). All defaults documented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Weights {
    /// Weight of the CVSS base score / 10. Default 0.35.
    pub cvss: f64,
    /// Weight of the EPSS probability. Default 0.20.
    pub epss: f64,
    /// Weight of the EPSS percentile. Default 0.10.
    pub epss_percentile: f64,
    /// Added when exploitation is at least a public PoC. Default 0.05.
    pub exploit_poc: f64,
    /// Added when exploitation is active (KEV-listed or CVSS v4 `E:A`). Default 0.25.
    pub active_exploitation: f64,
    /// Added when KEV reports known ransomware use. Default 0.05.
    pub ransomware: f64,
    /// CVSS base score assumed when none is known. Default 5.0.
    pub missing_cvss: f64,
    /// Multiplier per exposure. Defaults 1.0 / 0.8 / 0.6.
    pub exposure: ExposureFactors,
    /// Multiplier per criticality tier. Defaults 1.0 / 0.9 / 0.8 / 0.7.
    pub tier: TierFactors,
    /// Multiplier when no fix is available (the queue is for patching; unfixable findings
    /// rank just below equally risky fixable ones). Default 0.9.
    pub no_fix: f64,
}

impl Default for Weights {
    fn default() -> Weights {
        Weights {
            cvss: 0.35,
            epss: 0.20,
            epss_percentile: 0.10,
            exploit_poc: 0.05,
            active_exploitation: 0.25,
            ransomware: 0.05,
            missing_cvss: 5.0,
            exposure: ExposureFactors::default(),
            tier: TierFactors::default(),
            no_fix: 0.9,
        }
    }
}

/// Score multiplier per exposure level; must not decrease with exposure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct ExposureFactors {
    pub internet_facing: f64,
    pub internal: f64,
    pub isolated: f64,
}

impl Default for ExposureFactors {
    fn default() -> ExposureFactors {
        ExposureFactors {
            internet_facing: 1.0,
            internal: 0.8,
            isolated: 0.6,
        }
    }
}

/// Score multiplier per tier (`"1" = 1.0` ...); must not decrease with criticality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TierFactors {
    #[serde(rename = "1")]
    pub tier1: f64,
    #[serde(rename = "2")]
    pub tier2: f64,
    #[serde(rename = "3")]
    pub tier3: f64,
    #[serde(rename = "4")]
    pub tier4: f64,
}

impl Default for TierFactors {
    fn default() -> TierFactors {
        TierFactors {
            tier1: 1.0,
            tier2: 0.9,
            tier3: 0.8,
            tier4: 0.7,
        }
    }
}

/// A weight as used: NaN and negatives become 0, and it is capped so `0 · w` stays 0.
fn weight(x: f64) -> f64 {
    if x > 0.0 {
        x.min(1e6)
    } else {
        0.0
    }
}

/// A value clamped to `0..=1`, NaN to 0.
pub(crate) fn unit(x: f64) -> f64 {
    if x > 0.0 {
        x.min(1.0)
    } else {
        0.0
    }
}

/// Running maximum, least to most: makes a factor table non-decreasing.
fn cummax<const N: usize>(mut f: [f64; N]) -> [f64; N] {
    for i in 0..N {
        f[i] = unit(f[i]);
        if i > 0 && f[i] < f[i - 1] {
            f[i] = f[i - 1];
        }
    }
    f
}

impl ExposureFactors {
    /// The factor used for `e` (monotone by construction).
    pub fn effective(&self, e: Exposure) -> f64 {
        let f = cummax([self.isolated, self.internal, self.internet_facing]);
        f[e as usize]
    }
}

impl TierFactors {
    /// The factor used for tier `t` (monotone in criticality by construction).
    pub fn effective(&self, t: Tier) -> f64 {
        let f = cummax([self.tier4, self.tier3, self.tier2, self.tier1]);
        f[usize::from(t.criticality())]
    }
}

impl Weights {
    /// Report configuration mistakes: negative or non-finite weights, factors outside
    /// `0..=1`, factor tables that decrease, `missing-cvss` outside `0..=10`.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let bad = |field: &str, reason: &str| {
            Err(PolicyError {
                field: format!("weights.{field}"),
                reason: reason.to_string(),
            })
        };
        for (field, w) in [
            ("cvss", self.cvss),
            ("epss", self.epss),
            ("epss-percentile", self.epss_percentile),
            ("exploit-poc", self.exploit_poc),
            ("active-exploitation", self.active_exploitation),
            ("ransomware", self.ransomware),
        ] {
            if !(w.is_finite() && w >= 0.0) {
                return bad(field, "must be a finite number >= 0");
            }
        }
        if !(0.0..=10.0).contains(&self.missing_cvss) {
            return bad("missing-cvss", "must be a CVSS score in 0..=10");
        }
        let e = &self.exposure;
        let t = &self.tier;
        for (field, f) in [
            ("exposure.internet-facing", e.internet_facing),
            ("exposure.internal", e.internal),
            ("exposure.isolated", e.isolated),
            ("tier.1", t.tier1),
            ("tier.2", t.tier2),
            ("tier.3", t.tier3),
            ("tier.4", t.tier4),
            ("no-fix", self.no_fix),
        ] {
            if !(0.0..=1.0).contains(&f) {
                return bad(field, "must be a factor in 0..=1");
            }
        }
        if !(e.isolated <= e.internal && e.internal <= e.internet_facing) {
            return bad(
                "exposure",
                "factors must not decrease from isolated to internal to internet-facing",
            );
        }
        if !(t.tier4 <= t.tier3 && t.tier3 <= t.tier2 && t.tier2 <= t.tier1) {
            return bad(
                "tier",
                "factors must not decrease from tier 4 to tier 1 (1 is most critical)",
            );
        }
        Ok(())
    }
}

/// What the score needs to know about a finding on an asset, already reduced to numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreInputs {
    /// CVSS base score 0..=10, if known.
    pub cvss: Option<f32>,
    pub epss: f32,
    pub epss_percentile: f32,
    pub poc: bool,
    pub active: bool,
    pub ransomware: bool,
    pub fix_available: bool,
    pub exposure: Exposure,
    pub tier: Tier,
}

/// The score and the points each factor contributed (threat terms positive, context
/// factors zero or negative); the contributions sum to `score` (before rounding).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Breakdown {
    pub score: f64,
    pub cvss: f64,
    pub epss: f64,
    pub exploitation: f64,
    pub exposure: f64,
    pub tier: f64,
    pub fix: f64,
}

/// Compute the score (unrounded, `0..=100`) with its breakdown.
pub fn compute(w: &Weights, i: &ScoreInputs) -> Breakdown {
    let cvss = match i.cvss {
        Some(s) => f64::from(s),
        None => w.missing_cvss,
    };
    let parts = [
        weight(w.cvss) * unit(cvss / 10.0),
        weight(w.epss) * unit(f64::from(i.epss))
            + weight(w.epss_percentile) * unit(f64::from(i.epss_percentile)),
        weight(w.exploit_poc) * f64::from(u8::from(i.poc || i.active))
            + weight(w.active_exploitation) * f64::from(u8::from(i.active))
            + weight(w.ransomware) * f64::from(u8::from(i.ransomware)),
    ];
    let base: f64 = parts.iter().sum();
    let threat = 100.0 * base.min(1.0);
    let scale = if base > 0.0 { threat / base } else { 0.0 };
    let e = w.exposure.effective(i.exposure);
    let t = w.tier.effective(i.tier);
    let f = if i.fix_available { 1.0 } else { unit(w.no_fix) };
    Breakdown {
        score: threat * e * t * f,
        cvss: parts[0] * scale,
        epss: parts[1] * scale,
        exploitation: parts[2] * scale,
        exposure: -threat * (1.0 - e),
        tier: -threat * e * (1.0 - t),
        fix: -threat * e * t * (1.0 - f),
    }
}

/// Round to one decimal (non-decreasing, so ranking order is kept up to ties).
pub fn round1(x: f64) -> f32 {
    ((x * 10.0).round() / 10.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> ScoreInputs {
        ScoreInputs {
            cvss: Some(9.8),
            epss: 0.94,
            epss_percentile: 0.99,
            poc: true,
            active: true,
            ransomware: true,
            fix_available: true,
            exposure: Exposure::InternetFacing,
            tier: Tier::new(1).unwrap(),
        }
    }

    #[test]
    fn documented_examples() {
        let w = Weights::default();
        assert_eq!(round1(compute(&w, &inputs()).score), 98.0);
        let quiet = ScoreInputs {
            epss: 0.0,
            epss_percentile: 0.0,
            poc: false,
            active: false,
            ransomware: false,
            ..inputs()
        };
        assert_eq!(round1(compute(&w, &quiet).score), 34.3);
        let far = ScoreInputs {
            exposure: Exposure::Isolated,
            tier: Tier::new(4).unwrap(),
            ..quiet
        };
        assert_eq!(round1(compute(&w, &far).score), 14.4);
    }

    #[test]
    fn contributions_add_up() {
        let w = Weights::default();
        for i in [
            inputs(),
            ScoreInputs {
                fix_available: false,
                exposure: Exposure::Internal,
                tier: Tier::new(3).unwrap(),
                ..inputs()
            },
            ScoreInputs {
                cvss: None,
                ..inputs()
            },
        ] {
            let b = compute(&w, &i);
            let sum = b.cvss + b.epss + b.exploitation + b.exposure + b.tier + b.fix;
            assert!((sum - b.score).abs() < 1e-9, "{b:?}");
            assert!(b.exposure <= 0.0 && b.tier <= 0.0 && b.fix <= 0.0);
        }
    }

    #[test]
    fn weights_that_sum_past_one_cap_at_100() {
        let w = Weights {
            cvss: 1.0,
            epss: 1.0,
            ..Weights::default()
        };
        let b = compute(&w, &inputs());
        assert_eq!(b.score, 100.0);
        assert!((b.cvss + b.epss + b.exploitation - 100.0).abs() < 1e-9);
    }

    #[test]
    fn nonsense_weights_do_not_produce_nan_or_break_order() {
        let w = Weights {
            cvss: f64::NAN,
            epss: -3.0,
            epss_percentile: f64::INFINITY,
            exposure: ExposureFactors {
                internet_facing: 0.2,
                internal: 0.9,
                isolated: f64::NAN,
            },
            no_fix: 7.0,
            ..Weights::default()
        };
        assert!(w.validate().is_err());
        let s = |exposure| {
            compute(
                &w,
                &ScoreInputs {
                    exposure,
                    ..inputs()
                },
            )
            .score
        };
        let (a, b, c) = (
            s(Exposure::Isolated),
            s(Exposure::Internal),
            s(Exposure::InternetFacing),
        );
        assert!(
            a.is_finite() && a >= 0.0 && a <= b && b <= c && c <= 100.0,
            "{a} {b} {c}"
        );
    }

    #[test]
    fn validation_names_the_field() {
        assert_eq!(Weights::default().validate(), Ok(()));
        let cases = [
            (
                Weights {
                    epss: -0.1,
                    ..Weights::default()
                },
                "weights.epss",
            ),
            (
                Weights {
                    missing_cvss: 11.0,
                    ..Weights::default()
                },
                "weights.missing-cvss",
            ),
            (
                Weights {
                    tier: TierFactors {
                        tier1: 0.5,
                        ..TierFactors::default()
                    },
                    ..Weights::default()
                },
                "weights.tier",
            ),
            (
                Weights {
                    exposure: ExposureFactors {
                        internal: 1.5,
                        ..ExposureFactors::default()
                    },
                    ..Weights::default()
                },
                "weights.exposure.internal",
            ),
        ];
        for (w, field) in cases {
            let e = w.validate().unwrap_err();
            assert_eq!(e.field, field, "{e}");
        }
    }
}
