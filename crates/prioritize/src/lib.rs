//! Risk assessment of advisory findings, from the threat intelligence in the data
//! directory: the step between matching and ranking that `scan --prioritize`, `explain`,
//! `eval prioritize` and the server's ranked findings (`GET /api/v1/findings?prioritize=true`)
//! share, so that they cannot disagree.
//!
//! - **Loading** (IO, at the edge): [`Intel::load`] reads `<data-dir>/feeds/kev.json` and
//!   `feeds/epss.csv.gz`, [`load_nvd`] reads `feeds/nvd.json`, [`load_policy`] reads a
//!   policy file (`scan --policy`). Each feed is optional: a missing file is `None` (the
//!   caller decides whether to warn, see [`Intel::missing`]); a file that does not parse is
//!   an error naming it, since feed sync and import validated it when they wrote it.
//! - **Assessing** (pure): [`assess`] takes what both the CLI and the server know of a
//!   finding — its advisory, whether a fix exists, the day it was first seen — plus the
//!   intel, an asset context and a policy, and returns `patchpilot-risk`'s [`Risk`]. It
//!   reads the earliest KEV listing and the highest EPSS among the advisory's CVE ids, and
//!   the advisory's own CVSS vector when the risk model can read it, else NVD's preferred
//!   metric for the CVE alias with the highest score (credited in the `cvss` factor and the
//!   sentence: "CVSS 9.8 critical from NVD, 2024-11-21").
//! - **Which findings are ranked** (pure): [`assess_finding`] assesses vulnerabilities
//!   only; an informational advisory (RustSec unmaintained, unsound, notice) is not ranked
//!   among them ([`Assessment::queue_key`] puts it after every vulnerability) and is due
//!   only when the policy sets `[sla] informational`. The CLI and the server both rank
//!   through it.
//!
//! Not here: where the asset context comes from (the CLI layers flags, inventory labels
//! and the policy's `[asset]`; the server uses the asset record), the order of a ranked
//! list (`patchpilot-risk`'s [`QueueKey`]), and output.
//!
//! Why a crate of its own: `patchpilot-risk` is pure and knows neither OSV advisories nor
//! files, and `patchpilot-feeds` is about fetching feeds, not using them; the binary and
//! the server both need this step, and the binary must stay thin.

/// Where the intel files live in a data directory.
pub use patchpilot_feeds::{epss_file, kev_file, nvd_file};
use std::path::{Path, PathBuf};

use patchpilot_intel::nvd::CvssMetric;
use patchpilot_intel::{Date, EpssError, EpssScores, KevCatalog, KevError, NvdRecord, NvdStore};
use patchpilot_osv::{Advisory, AdvisoryKind};
use patchpilot_risk::{
    CvssInput, Due, EpssSignal, KevSignal, Policy, PolicyError, QueueKey, ResolvedAsset, Risk,
    Severity,
};

/// Why intel or a policy could not be loaded. One line, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: {error}", path.display())]
    Kev { path: PathBuf, error: KevError },
    #[error("{}: {error}", path.display())]
    Epss { path: PathBuf, error: EpssError },
    #[error("reading NVD data in {}: {error}", data_dir.display())]
    Nvd {
        data_dir: PathBuf,
        error: patchpilot_feeds::FeedError,
    },
    #[error("{}: cannot read: {error}", path.display())]
    PolicyRead {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A TOML error at `line` (1-based, `?` when unknown), in the `[[vex]]` table
    /// `vex` (0-based) when the line is in one.
    #[error(
        "{}:{line}: invalid policy{}: {message}",
        path.display(),
        vex.map(|i| format!(" in vex[{i}]")).unwrap_or_default()
    )]
    PolicySyntax {
        path: PathBuf,
        line: String,
        vex: Option<usize>,
        message: String,
    },
    #[error("{}: {error}", path.display())]
    Policy { path: PathBuf, error: PolicyError },
}

/// Threat intelligence from the data directory; each part is optional.
#[derive(Debug, Clone, Default)]
pub struct Intel {
    pub kev: Option<KevCatalog>,
    pub epss: Option<EpssScores>,
}

impl Intel {
    /// Load `feeds/kev.json` and `feeds/epss.csv.gz` when present (a missing file is
    /// `None`, a corrupt one an error: it was validated when it was written).
    pub fn load(data_dir: &Path) -> Result<Intel, Error> {
        let kev_path = patchpilot_feeds::kev_file(data_dir);
        let kev = match read_optional(&kev_path)? {
            Some(b) => Some(patchpilot_intel::parse_kev(&b).map_err(|error| Error::Kev {
                path: kev_path,
                error,
            })?),
            None => None,
        };
        let epss_path = patchpilot_feeds::epss_file(data_dir);
        let epss = match read_optional(&epss_path)? {
            Some(b) => Some(
                patchpilot_intel::parse_epss(&b).map_err(|error| Error::Epss {
                    path: epss_path,
                    error,
                })?,
            ),
            None => None,
        };
        Ok(Intel { kev, epss })
    }

    /// The feeds that are absent, by name (`CISA KEV`, then `FIRST EPSS`): what a caller
    /// warns about, since a ranking without them is weaker.
    pub fn missing(&self) -> Vec<&'static str> {
        [
            ("CISA KEV", self.kev.is_none()),
            ("FIRST EPSS", self.epss.is_none()),
        ]
        .into_iter()
        .filter_map(|(what, missing)| missing.then_some(what))
        .collect()
    }
}

/// The file's bytes; `None` when it does not exist.
fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Error::Read {
            path: path.to_path_buf(),
            error,
        }),
    }
}

/// `feeds/nvd.json` when present (NVD is optional; a corrupt store is an error, it was
/// validated when it was written). A full store takes a while and a lot of memory to load:
/// callers that may not need it load it only when they do.
pub fn load_nvd(data_dir: &Path) -> Result<Option<NvdStore>, Error> {
    patchpilot_feeds::load_nvd(data_dir).map_err(|error| Error::Nvd {
        data_dir: data_dir.to_path_buf(),
        error,
    })
}

/// NVD's record and preferred metric for the CVE (of `cves`) with the highest score.
pub fn nvd_for<'a>(
    nvd: Option<&'a NvdStore>,
    cves: impl IntoIterator<Item = &'a str>,
) -> Option<(&'a NvdRecord, &'a CvssMetric)> {
    let nvd = nvd?;
    let mut best: Option<(&NvdRecord, &CvssMetric)> = None;
    for cve in cves {
        let Some(r) = nvd.get(cve) else { continue };
        let Some(m) = r.preferred() else { continue };
        if best.is_none_or(|(_, b)| m.base_score > b.base_score) {
            best = Some((r, m));
        }
    }
    best
}

/// The advisory's own CVSS base score and vector: the vector a report shows for it
/// ([`Advisory::cvss_vector`], for an advisory with a severity level), when it has a
/// base score.
fn own_cvss(adv: &Advisory) -> Option<(f32, &str)> {
    adv.severity_level()?;
    let s = adv.cvss_vector()?;
    Some((s.base_score? as f32, s.score.as_str()))
}

/// A public exploit or demonstration of the vulnerability, as a factor source naming it:
/// the advisory's own OSV reference of type `EVIDENCE` ("a demonstration of the validity
/// of a vulnerability claim"), else a reference NVD tags `Exploit` for one of its CVEs.
/// Either makes the exploitation level at least "public PoC" (SSVC), as the issue's
/// model says; CISA KEV still outranks it.
pub fn exploit_reference(advisory: &Advisory, nvd: Option<&NvdStore>) -> Option<String> {
    if let Some(r) = advisory.references.iter().find(|r| r.ty == "EVIDENCE") {
        return Some(format!("advisory reference (OSV EVIDENCE): {}", r.url));
    }
    let nvd = nvd?;
    advisory.cve_ids().find_map(|cve| {
        let url = nvd.get(cve)?.exploits.first()?;
        Some(format!("NVD reference tagged Exploit ({cve}): {url}"))
    })
}

/// Assess a finding of `advisory` on `asset` under `policy`: `fix_available` says whether
/// a fixed version exists, `first_seen` starts the SLA clock, and `nvd` fills in CVSS where
/// the advisory has none the risk model can read and names exploit references
/// ([`exploit_reference`]).
pub fn assess(
    advisory: &Advisory,
    fix_available: bool,
    first_seen: Date,
    intel: &Intel,
    nvd: Option<&NvdStore>,
    asset: &ResolvedAsset,
    policy: &Policy,
) -> Risk {
    let nvd_store = nvd;
    let cves: Vec<&str> = advisory.cve_ids().collect();
    // The earliest KEV listing and the highest EPSS among the advisory's CVEs.
    let kev = intel.kev.as_ref().and_then(|k| {
        cves.iter()
            .filter_map(|c| k.get(c))
            .min_by_key(|e| e.date_added)
            .map(KevSignal::from)
    });
    let epss = intel.epss.as_ref().and_then(|e| {
        cves.iter()
            .filter_map(|c| e.get(c))
            .max_by(|a, b| a.epss.total_cmp(&b.epss))
            .map(|s| EpssSignal::from_score(s, e.score_date))
    });
    // The advisory's own vector when the risk model can read it; else NVD's for one of its
    // CVEs; a vector the model cannot read (CVSS v2) still gives its base score.
    let own = own_cvss(advisory).and_then(|(score, vector)| {
        CvssInput::new(score, Some(vector))
            .map(|c| (c, true))
            .or_else(|_| CvssInput::new(score, None).map(|c| (c, false)))
            .ok()
    });
    let nvd = match &own {
        Some((_, true)) => None,
        _ => nvd_for(nvd, cves.iter().copied()).and_then(|(r, m)| {
            let readable = CvssInput::new(m.base_score, Some(&m.vector));
            match (readable, &own) {
                (Ok(c), _) => Some((c, r, m)),
                // Only a score: better than nothing, not better than the advisory's own.
                (Err(_), None) => CvssInput::new(m.base_score, None).ok().map(|c| (c, r, m)),
                (Err(_), Some(_)) => None,
            }
        }),
    };
    let cvss = match &nvd {
        Some((c, _, _)) => Some(c.clone()),
        None => own.map(|(c, _)| c),
    };
    let finding = patchpilot_risk::Finding {
        cvss,
        epss,
        kev,
        exploit_reference: exploit_reference(advisory, nvd_store),
        fix_available,
        first_seen,
    };
    let no_cvss = finding.cvss.is_none();
    let mut risk = patchpilot_risk::assess_on(&finding, asset, policy);
    if let Some((c, r, m)) = nvd {
        credit_nvd(&mut risk, c.base_score, r, m);
    }
    if no_cvss {
        say_why_no_cvss(&mut risk, unrated_reason(&cves, nvd_store));
    }
    risk
}

/// What a ranking makes of a finding, by its advisory's kind ([`assess_finding`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Assessment {
    /// A vulnerability: assessed, ranked by its risk (boxed: a risk is large, a notice's
    /// assessment small).
    Vulnerability(Box<Risk>),
    /// An informational advisory (unmaintained, unsound, notice): not a vulnerability, so
    /// not assessed nor ranked among vulnerabilities; due only when the policy sets
    /// `[sla] informational` ([`patchpilot_risk::SlaPolicy::informational_due`]).
    Informational {
        kind: AdvisoryKind,
        due: Option<Due>,
    },
}

impl Assessment {
    /// The finding's place in a queue: vulnerabilities by risk, then informational
    /// advisories ([`QueueKey::queue_cmp`]).
    pub fn queue_key(&self) -> QueueKey {
        match self {
            Assessment::Vulnerability(r) => QueueKey::Ranked(r.rank_key()),
            Assessment::Informational { due, .. } => QueueKey::Informational {
                due: due.map(|d| d.date),
            },
        }
    }

    /// The advisory's kind.
    pub fn kind(&self) -> AdvisoryKind {
        match self {
            Assessment::Vulnerability(_) => AdvisoryKind::Vulnerability,
            Assessment::Informational { kind, .. } => *kind,
        }
    }
}

/// A finding of `advisory` as a ranking takes it (`scan --prioritize` and the server's
/// `prioritize=true` both go through here, so they cannot disagree): a vulnerability is
/// [`assess`]ed; an informational advisory is not, and is due `[sla] informational` days
/// after `first_seen`, or never when the policy does not say.
pub fn assess_finding(
    advisory: &Advisory,
    fix_available: bool,
    first_seen: Date,
    intel: &Intel,
    nvd: Option<&NvdStore>,
    asset: &ResolvedAsset,
    policy: &Policy,
) -> Assessment {
    match advisory.kind {
        AdvisoryKind::Vulnerability => Assessment::Vulnerability(Box::new(assess(
            advisory,
            fix_available,
            first_seen,
            intel,
            nvd,
            asset,
            policy,
        ))),
        kind => Assessment::Informational {
            kind,
            due: policy.sla.informational_due(first_seen),
        },
    }
}

/// Why a finding has no CVSS score to rank by, in a few words: its advisory carries none,
/// and NVD ...
pub fn unrated_reason(cves: &[&str], nvd: Option<&NvdStore>) -> &'static str {
    match nvd {
        _ if cves.is_empty() => "advisory has no CVSS and no CVE to look up in NVD",
        None => "advisory has no CVSS; NVD not synced",
        Some(_) => "advisory has no CVSS; NVD has none for its CVEs",
    }
}

/// Say in the `cvss` factor and the sentence why the score is unknown
/// (`no CVSS score (advisory has no CVSS; NVD not synced)`).
fn say_why_no_cvss(risk: &mut Risk, why: &str) {
    if let Some(f) = risk.factors.iter_mut().find(|f| f.name == "cvss") {
        if let Some(rest) = f.value.strip_prefix("unknown") {
            f.value = format!("unknown ({why}){rest}");
        }
    }
    let phrase = "no CVSS score";
    if let Some(at) = risk.explanation.find(phrase) {
        risk.explanation
            .insert_str(at + phrase.len(), &format!(" ({why})"));
    }
}

/// `NVD CVSS v3.1 (nvd@nist.gov, Primary)`: where a CVSS score came from.
pub fn nvd_source(m: &CvssMetric) -> String {
    format!("NVD CVSS v{} ({}, {})", m.version, m.source, m.ty.as_str())
}

/// Say in the risk's `cvss` factor and sentence that the score is NVD's, and as of when
/// (`CVSS 9.8 critical from NVD, 2024-11-21`). The risk engine names CVSS versions only;
/// the score's origin is known here.
fn credit_nvd(risk: &mut Risk, score: f32, r: &NvdRecord, m: &CvssMetric) {
    let date = r.last_modified.date();
    if let Some(f) = risk.factors.iter_mut().find(|f| f.name == "cvss") {
        f.source = nvd_source(m);
        f.date = Some(date);
    }
    let phrase = format!("CVSS {score:.1} {}", Severity::from_score(score).as_str());
    if let Some(at) = risk.explanation.find(&phrase) {
        risk.explanation
            .insert_str(at + phrase.len(), &format!(" from NVD, {date}"));
    }
}

/// Read and validate a policy file (`scan --policy`). Errors name the file, and the line
/// for TOML errors (with the `[[vex]]` statement, when the line is in one). Paths in
/// `vex-files` are left as written: they are relative to the file's directory.
pub fn load_policy(path: &Path) -> Result<Policy, Error> {
    let text = std::fs::read_to_string(path).map_err(|error| Error::PolicyRead {
        path: path.to_path_buf(),
        error,
    })?;
    parse_policy(path, &text)
}

/// [`load_policy`] on text already read from `path`.
pub fn parse_policy(path: &Path, text: &str) -> Result<Policy, Error> {
    let p: Policy = toml::from_str(text).map_err(|e| Error::PolicySyntax {
        path: path.to_path_buf(),
        line: toml_line(text, &e),
        vex: e.span().and_then(|s| vex_table_at(text, s.start)),
        message: e.message().to_string(),
    })?;
    p.validate().map_err(|error| Error::Policy {
        path: path.to_path_buf(),
        error,
    })?;
    Ok(p)
}

/// The 1-based line of a TOML error, or `?` (for messages naming `file:line`).
pub fn toml_line(text: &str, e: &toml::de::Error) -> String {
    e.span().map_or_else(
        || "?".to_string(),
        |s| {
            let before = &text.as_bytes()[..s.start.min(text.len())];
            (before.iter().filter(|b| **b == b'\n').count() + 1).to_string()
        },
    )
}

/// Which `[[vex]]` table (0-based) the byte `at` of a policy file falls in, if any: the
/// last table header before it must be `[[vex]]`.
fn vex_table_at(text: &str, at: usize) -> Option<usize> {
    let mut count = 0;
    let mut current = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if offset > at {
            break;
        }
        let t = line.trim();
        if t.starts_with('[') {
            let header: String = t
                .split('#')
                .next()
                .unwrap_or("")
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            if header == "[[vex]]" {
                current = Some(count);
                count += 1;
            } else {
                current = None;
            }
        }
        offset += line.len();
    }
    current
}

#[cfg(test)]
mod tests;
