//! The threat intelligence files as `patchpilot feeds status` shows them: CISA KEV, FIRST
//! EPSS and NVD, each present or missing, how old, what it holds, and how to get one
//! that is missing. They come from `feeds sync` or `feeds import`, and an import leaves no
//! sync state, so the age is the last sync when there was one (a 304 counts: the data was
//! current then), else the file's modification time.

use std::path::{Path, PathBuf};

use patchpilot_advisory_db::Database;
use patchpilot_osv::Ecosystem;

use crate::{epss_file, kev_file, nvd_file, FeedError};

/// One threat intelligence source in the data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntelStatus {
    /// `CISA KEV`, `FIRST EPSS`, `NVD`.
    pub name: &'static str,
    pub file: PathBuf,
    /// Seconds since its last sync, else since the file was written; `None` when missing.
    pub age_secs: Option<u64>,
    /// What it holds (`catalog 2026.08.07, 1662 entries`), or why it cannot be read;
    /// `None` when missing.
    pub detail: Option<String>,
    /// What it is for and how to get it, for when it is missing.
    pub how: &'static str,
}

/// KEV, EPSS and NVD in `data_dir`, in that order, as of `now` (unix seconds). The KEV
/// and EPSS files are parsed for their version and size; NVD's store, which can be
/// hundreds of megabytes, is only measured.
pub fn intel_status(data_dir: &Path, now: u64) -> Result<Vec<IntelStatus>, FeedError> {
    let state = crate::state::load(data_dir)?;
    let age = |key: &str, file: &Path| -> Option<u64> {
        let meta = std::fs::metadata(file).ok()?;
        let written = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let at = state
            .sources
            .get(key)
            .map_or(written, |s| s.synced_at.max(written));
        Some(now.saturating_sub(at))
    };
    let read = |file: &Path| std::fs::read(file).ok();
    let kev = kev_file(data_dir);
    let epss = epss_file(data_dir);
    let nvd = nvd_file(data_dir);
    Ok(vec![
        IntelStatus {
            name: "CISA KEV",
            age_secs: age("kev", &kev),
            detail: read(&kev).map(|b| match patchpilot_intel::parse_kev(&b) {
                Ok(k) => format!("catalog {}, {} entries", k.version, k.len()),
                Err(e) => format!("unreadable ({e}); sync or import it again"),
            }),
            file: kev,
            how: "known exploitation, for ranking: `patchpilot feeds sync`, or `feeds import known_exploited_vulnerabilities.json`",
        },
        IntelStatus {
            name: "FIRST EPSS",
            age_secs: age("epss", &epss),
            detail: read(&epss).map(|b| match patchpilot_intel::parse_epss(&b) {
                Ok(e) => format!(
                    "{} CVEs, model {}, scores of {}",
                    e.len(),
                    e.model_version.as_deref().unwrap_or("?"),
                    e.score_date.map_or_else(|| "?".to_string(), |d| d.to_string())
                ),
                Err(e) => format!("unreadable ({e}); sync or import it again"),
            }),
            file: epss,
            how: "exploitation probability, for ranking: `patchpilot feeds sync`, or `feeds import epss_scores-current.csv.gz`",
        },
        IntelStatus {
            name: "NVD",
            age_secs: age("nvd", &nvd),
            detail: std::fs::metadata(&nvd).ok().map(|m| {
                match state.sources.get("nvd").filter(|s| s.records > 0) {
                    Some(s) => format!("{} CVEs with CVSS", s.records),
                    None => format!("{} KB of CVE records with CVSS", m.len().div_ceil(1024)),
                }
            }),
            file: nvd,
            how: "CVSS where advisories have none: `PATCHPILOT_NVD_API_KEY=… patchpilot feeds sync`, or `feeds import` saved NVD CVE API pages",
        },
    ])
}

/// What the data directory has nothing of, one line each with the command that gets it:
/// the default OSV ecosystems ([`crate::Config`]) and the distro trackers no source covers,
/// even in part, then the threat intelligence `intel` found missing. Without guessing:
/// when a source does not record what it covers (an older version imported it), only
/// intelligence is listed.
pub fn missing(db: &Database, intel: &[IntelStatus]) -> Vec<String> {
    let mut out = Vec::new();
    if db.sources().iter().all(|s| s.coverage.is_some()) {
        let present: std::collections::BTreeSet<Ecosystem> = db
            .sources()
            .iter()
            .filter_map(|s| s.coverage.as_ref())
            .flat_map(|c| c.feed.iter().chain(&c.records))
            .map(|k| Ecosystem::parse_osv(k).0)
            .collect();
        let wanted = crate::Config::default()
            .ecosystems
            .iter()
            .map(|e| e.parse::<Ecosystem>().expect("infallible"))
            .chain([Ecosystem::Debian, Ecosystem::Alpine, Ecosystem::RedHat])
            .collect::<Vec<_>>();
        for eco in wanted.iter().filter(|e| !present.contains(e)) {
            let how = crate::sync_hint(eco, None).unwrap_or_default();
            out.push(format!("{:<11} no advisories: {how}", eco.as_str()));
        }
    }
    for i in intel.iter().filter(|i| i.detail.is_none()) {
        out.push(format!("{:<11} {}", i.name, i.how));
    }
    out
}
