//! Explainable risk prioritization for one finding on one asset.
//!
//! *Pure*: plain data in, a [`Risk`] out; no IO, no clock (the caller passes the date a
//! finding was first seen), no global state. Feeds are parsed by `patchpilot-intel`; this
//! crate only reads the few facts it needs from them ([`KevSignal`], [`EpssSignal`]).
//!
//! For each finding [`assess`] computes:
//! - **SSVC** ([`ssvc`]): CERT/CC's deployer decision from four decision points, derived as
//!   *Exploitation* = active if KEV-listed (or CVSS v4 `E:A`), public PoC if EPSS ≥
//!   `epss-threshold` (default 0.1), an exploit reference, or CVSS `E:P/F/H`, else none;
//!   *System Exposure* from the asset's exposure (internet-facing → open, internal →
//!   controlled, isolated → small); *Automatable* = yes iff the CVSS vector has
//!   `AV:N/AC:L/PR:N/UI:N` (no vector → no); *Human Impact* from the tier (1 → very high …
//!   4 → low) with a floor from data sensitivity.
//! - **Score** 0-100 ([`score`]): the documented formula and why it is monotone.
//! - **Due date** ([`sla`]): KEV and severity deadlines, per-tier overrides.
//! - **Factors and a sentence** ([`explain`]). The exposure and criticality factors name
//!   where the asset's value came from (a flag, a label in an inventory, the policy, the
//!   default: [`ContextOrigin`]), and [`Risk::asset`] carries the whole context used.
//!
//! # The policy file
//! [`Policy`] *is* the TOML policy file (`scan --policy`): `epss-threshold`, `[weights]`,
//! `[sla]`, `[asset]` (an [`AssetPatch`]: the context of assets whose inventories and flags
//! do not say), `[[exceptions]]` (risk acceptances), and VEX: `vex-files = [...]` (OpenVEX or
//! CycloneDX documents; the CLI resolves the paths against the policy file's directory)
//! and `[[vex]]` tables (inline statements, [`patchpilot_vex::InlineStatement`]), checked by
//! [`Policy::validate`] with each statement's position. The user-facing reference is
//! `docs/policy.md`.
//!
//! **Monotonicity** (checked by property tests in `tests/it`): raising EPSS (probability or
//! percentile), the CVSS base score, exposure or criticality never lowers the score or the
//! SSVC decision. For SSVC, each of those inputs reaches a decision point through a
//! non-decreasing map (EPSS → Exploitation by threshold, exposure → System Exposure, tier →
//! Human Impact as a `max`), the CVSS *base score* reaches none, and the CERT/CC table is
//! itself monotone in every decision point (unit-tested over all 72 rows).

pub mod asset;
pub mod cvss;
pub mod eval;
pub mod exception;
pub mod explain;
pub mod score;
pub mod sla;
pub mod ssvc;

use serde::{Deserialize, Serialize};

pub use asset::{
    AssetContext, AssetPatch, ContextOrigin, ContextOrigins, DataSensitivity, Environment,
    Exposure, LabelError, ResolvedAsset, Tier,
};
pub use cvss::{CvssVector, CvssVersion, Severity};
pub use explain::Factor;
pub use patchpilot_intel::Date;
pub use score::Weights;
pub use sla::{Due, DueRule, SlaPolicy};
pub use ssvc::{Automatable, Decision, Exploitation, HumanImpact, SsvcInputs, SystemExposure};

/// A policy setting that makes no sense, named by its dotted path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid policy setting {field}: {reason}")]
pub struct PolicyError {
    pub field: String,
    pub reason: String,
}

/// A finding input rejected at the boundary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("CVSS base score {0} is outside 0..=10")]
    CvssScore(String),
    #[error("EPSS {what} {value} is outside 0..=1")]
    Epss { what: &'static str, value: String },
    #[error(transparent)]
    CvssVector(#[from] cvss::CvssError),
}

/// The risk policy: thresholds, weights and SLAs (`[weights]`, `[sla]` in a TOML file),
/// the default asset context, risk acceptances and VEX statements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Policy {
    /// EPSS probability at or above which exploitation counts as a public PoC. Default 0.1.
    pub epss_threshold: f64,
    /// VEX documents (OpenVEX or CycloneDX JSON), as written: the CLI reads them relative to
    /// the policy file's directory.
    pub vex_files: Vec<String>,
    pub weights: Weights,
    pub sla: SlaPolicy,
    /// The asset context where inventory labels and flags do not say (`[asset]`).
    pub asset: AssetPatch,
    /// Risk acceptances (`[[exceptions]]`), each with owner, reason and expiry.
    pub exceptions: Vec<exception::Exception>,
    /// Inline VEX statements (`[[vex]]`).
    pub vex: Vec<patchpilot_vex::InlineStatement>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            epss_threshold: 0.1,
            vex_files: Vec::new(),
            weights: Weights::default(),
            sla: SlaPolicy::default(),
            asset: AssetPatch::default(),
            exceptions: Vec::new(),
            vex: Vec::new(),
        }
    }
}

impl Policy {
    /// Reject settings that are out of range (see [`Weights::validate`]) and VEX
    /// statements that break OpenVEX's rules (named `vex[N]`, counting from 0).
    pub fn validate(&self) -> Result<(), PolicyError> {
        if !(self.epss_threshold > 0.0 && self.epss_threshold <= 1.0) {
            return Err(PolicyError {
                field: "epss-threshold".into(),
                reason: "must be in (0, 1]".into(),
            });
        }
        if let Some(i) = self.vex_files.iter().position(|f| f.trim().is_empty()) {
            return Err(PolicyError {
                field: format!("vex-files[{i}]"),
                reason: "empty path".into(),
            });
        }
        self.vex_statements("")?;
        self.weights.validate()
    }

    /// The inline `[[vex]]` statements, checked, each with `source` = `"{file} vex[N]"`
    /// (`"vex[N]"` when `file` is empty), in file order.
    pub fn vex_statements(
        &self,
        file: &str,
    ) -> Result<Vec<patchpilot_vex::Statement>, PolicyError> {
        self.vex
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let at = format!("vex[{i}]");
                let source = if file.is_empty() {
                    at.clone()
                } else {
                    format!("{file} {at}")
                };
                s.to_statement(&source).map_err(|e| PolicyError {
                    field: at,
                    reason: match e {
                        patchpilot_vex::VexError::Invalid { reason, .. } => reason,
                        other => other.to_string(),
                    },
                })
            })
            .collect()
    }
}

/// What KEV says about a CVE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevSignal {
    pub date_added: Date,
    pub due_date: Date,
    /// CISA knows of ransomware use.
    pub ransomware: bool,
}

impl From<&patchpilot_intel::KevEntry> for KevSignal {
    fn from(e: &patchpilot_intel::KevEntry) -> KevSignal {
        KevSignal {
            date_added: e.date_added,
            due_date: e.due_date,
            ransomware: e.ransomware_known(),
        }
    }
}

/// What EPSS says about a CVE, and as of when.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpssSignal {
    pub epss: f32,
    pub percentile: f32,
    pub date: Option<Date>,
}

impl EpssSignal {
    /// Validated: both values in `0..=1` (what `patchpilot-intel` already guarantees).
    pub fn new(epss: f32, percentile: f32, date: Option<Date>) -> Result<EpssSignal, InputError> {
        for (what, v) in [("probability", epss), ("percentile", percentile)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(InputError::Epss {
                    what,
                    value: v.to_string(),
                });
            }
        }
        Ok(EpssSignal {
            epss,
            percentile,
            date,
        })
    }

    pub fn from_score(s: patchpilot_intel::EpssScore, date: Option<Date>) -> EpssSignal {
        EpssSignal {
            epss: s.epss,
            percentile: s.percentile,
            date,
        }
    }
}

/// The CVSS facts of a finding: a v3.1/v4.0 base score and, ideally, its vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvssInput {
    pub base_score: f32,
    pub vector: Option<CvssVector>,
}

impl CvssInput {
    /// Validated: score in `0..=10`, vector parsed.
    pub fn new(base_score: f32, vector: Option<&str>) -> Result<CvssInput, InputError> {
        if !(0.0..=10.0).contains(&base_score) {
            return Err(InputError::CvssScore(base_score.to_string()));
        }
        Ok(CvssInput {
            base_score,
            vector: vector.map(str::parse).transpose()?,
        })
    }
}

/// Everything the engine needs about one finding (independent of the asset).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub cvss: Option<CvssInput>,
    pub epss: Option<EpssSignal>,
    pub kev: Option<KevSignal>,
    /// A reference showing a public exploit or a demonstration of the vulnerability, as
    /// the `exploitation` factor names its source (`advisory reference (OSV EVIDENCE):
    /// URL`); any makes exploitation at least a public PoC.
    pub exploit_reference: Option<String>,
    pub fix_available: bool,
    /// When the finding was first seen on this asset; SLA clocks start here.
    pub first_seen: Date,
}

/// The output contract: one finding's risk on one asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Risk {
    /// 0-100, one decimal.
    pub score: f32,
    pub ssvc: Decision,
    pub ssvc_inputs: SsvcInputs,
    pub due: Due,
    /// Ordered: largest effect on the score first, then the SLA rule.
    pub factors: Vec<Factor>,
    /// The top factors in plain words.
    pub explanation: String,
    /// The asset context this risk was computed for, and where each value came from.
    #[serde(default)]
    pub asset: ResolvedAsset,
}

/// What ranks a risk: its score, SSVC decision and due date (a few bytes, for rankers that
/// keep many of them, such as the server's per-ranking cache).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankKey {
    pub score: f32,
    pub ssvc: Decision,
    pub due: Date,
}

impl RankKey {
    /// The rank order of a queue: the higher score first, then the more urgent SSVC
    /// decision, then the earlier due date. `Less` means `self` ranks first.
    pub fn rank_cmp(&self, other: &RankKey) -> std::cmp::Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then_with(|| other.ssvc.cmp(&self.ssvc))
            .then_with(|| self.due.cmp(&other.due))
    }
}

/// A finding's place in a queue (`scan --prioritize`, the server's `prioritize=true`):
/// vulnerabilities first, by their risk ([`RankKey::rank_cmp`]); then informational
/// advisories (unmaintained, unsound, notice), which are not ranked among vulnerabilities,
/// the earlier due date first and those without one (the policy sets no
/// `[sla] informational`) last; then findings that could not be assessed at all (on the
/// server, those whose advisory is no longer in the database).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum QueueKey {
    /// A vulnerability, by its risk.
    Ranked(RankKey),
    /// An informational advisory, by its due date ([`SlaPolicy::informational_due`]).
    Informational { due: Option<Date> },
    /// Not assessed.
    Unassessed,
}

impl QueueKey {
    /// The queue order: `Less` means `self` comes first.
    pub fn queue_cmp(&self, other: &QueueKey) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self, other) {
            (QueueKey::Ranked(a), QueueKey::Ranked(b)) => a.rank_cmp(b),
            (QueueKey::Informational { due: a }, QueueKey::Informational { due: b }) => {
                match (a, b) {
                    (Some(x), Some(y)) => x.cmp(y),
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => Ordering::Equal,
                }
            }
            _ => self.group().cmp(&other.group()),
        }
    }

    fn group(&self) -> u8 {
        match self {
            QueueKey::Ranked(_) => 0,
            QueueKey::Informational { .. } => 1,
            QueueKey::Unassessed => 2,
        }
    }
}

impl Risk {
    pub fn rank_key(&self) -> RankKey {
        RankKey {
            score: self.score,
            ssvc: self.ssvc,
            due: self.due.date,
        }
    }

    /// [`RankKey::rank_cmp`] of the two risks: the one order of every ranked list
    /// (`scan --prioritize`, the server's `prioritize=true`).
    pub fn rank_cmp(&self, other: &Risk) -> std::cmp::Ordering {
        self.rank_key().rank_cmp(&other.rank_key())
    }
}

/// Exploitation evidence, strongest first: KEV or CVSS v4 `E:A` → active; EPSS at or above
/// the threshold, an exploit reference, or CVSS `E:P/F/H` → public PoC.
pub fn exploitation(f: &Finding, epss_threshold: f64) -> Exploitation {
    let from_vector = f
        .cvss
        .as_ref()
        .and_then(|c| c.vector.as_ref())
        .map_or(Exploitation::None, CvssVector::exploitation);
    let mut e = from_vector;
    if f.kev.is_some() {
        e = e.max(Exploitation::Active);
    }
    let epss_poc = f.epss.is_some_and(|s| f64::from(s.epss) >= epss_threshold);
    if epss_poc || f.exploit_reference.is_some() {
        e = e.max(Exploitation::PublicPoc);
    }
    e
}

/// Assess one finding on one asset under `policy` (a context without origins: see
/// [`assess_on`]).
pub fn assess(f: &Finding, asset: &AssetContext, policy: &Policy) -> Risk {
    assess_on(f, &ResolvedAsset::from(asset.clone()), policy)
}

/// Assess one finding on one asset under `policy`; the factors say where the asset's
/// exposure and tier came from.
pub fn assess_on(f: &Finding, resolved: &ResolvedAsset, policy: &Policy) -> Risk {
    let asset = &resolved.context;
    let exploitation = exploitation(f, policy.epss_threshold);
    let vector = f.cvss.as_ref().and_then(|c| c.vector.as_ref());
    let ssvc_inputs = SsvcInputs {
        exploitation,
        exposure: asset.exposure.into(),
        automatable: vector.map_or(Automatable::No, CvssVector::automatable),
        human_impact: HumanImpact::from_asset(asset.tier, asset.data_sensitivity),
    };
    let breakdown = score::compute(
        &policy.weights,
        &score::ScoreInputs {
            cvss: f.cvss.as_ref().map(|c| c.base_score),
            epss: f.epss.map_or(0.0, |e| e.epss),
            epss_percentile: f.epss.map_or(0.0, |e| e.percentile),
            poc: exploitation >= Exploitation::PublicPoc,
            active: exploitation == Exploitation::Active,
            ransomware: f.kev.is_some_and(|k| k.ransomware),
            fix_available: f.fix_available,
            exposure: asset.exposure,
            tier: asset.tier,
        },
    );
    let severity = f.cvss.as_ref().map_or(policy.sla.unknown_severity, |c| {
        Severity::from_score(c.base_score)
    });
    let due = policy
        .sla
        .due(severity, f.kev.as_ref(), asset.tier, f.first_seen);
    let (factors, explanation) =
        explain::explain(f, resolved, policy, exploitation, &breakdown, &due);
    Risk {
        score: score::round1(breakdown.score),
        ssvc: ssvc::decide(&ssvc_inputs),
        ssvc_inputs,
        due,
        factors,
        explanation,
        asset: resolved.clone(),
    }
}
