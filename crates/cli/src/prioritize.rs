//! `scan --prioritize`: attach a risk assessment (`patchpilot-risk`) to every finding,
//! from the synced or imported threat intelligence (CISA KEV, FIRST EPSS), the advisory's
//! CVSS vector (or NVD's, when the advisory has none the risk model can read) and the
//! asset context of the finding's inventory (see `scan.rs`: flags, inventory labels, the
//! policy's `[asset]`, defaults).

use std::path::Path;

use anyhow::Context;
use patchpilot_intel::nvd::CvssMetric;
use patchpilot_intel::{Date, EpssScores, KevCatalog, NvdRecord, NvdStore};
use patchpilot_report::{Finding, Warning};
use patchpilot_risk::{AssetContext, CvssInput, EpssSignal, KevSignal, Policy, ResolvedAsset};

/// Threat intelligence from the data directory; each part is optional.
pub struct Intel {
    pub kev: Option<KevCatalog>,
    pub epss: Option<EpssScores>,
}

/// `feeds/nvd.json` when present (NVD is optional: no warning when it is absent; a corrupt
/// store is an error, it was validated when it was written).
pub fn load_nvd(data_dir: &Path) -> crate::Result<Option<NvdStore>> {
    patchpilot_feeds::load_nvd(data_dir)
        .with_context(|| format!("reading NVD data in {}", data_dir.display()))
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

/// Load `feeds/kev.json` and `feeds/epss.csv.gz` when present (a missing file is a
/// warning, a corrupt one an error: it was validated when it was written).
pub fn load(data_dir: &Path, warnings: &mut Vec<Warning>) -> crate::Result<Intel> {
    let read = |path: &Path| -> crate::Result<Option<Vec<u8>>> {
        match std::fs::read(path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| path.display().to_string()),
        }
    };
    let kev_path = patchpilot_feeds::kev_file(data_dir);
    let kev = match read(&kev_path)? {
        Some(b) => {
            Some(patchpilot_intel::parse_kev(&b).with_context(|| kev_path.display().to_string())?)
        }
        None => None,
    };
    let epss_path = patchpilot_feeds::epss_file(data_dir);
    let epss = match read(&epss_path)? {
        Some(b) => Some(
            patchpilot_intel::parse_epss(&b).with_context(|| epss_path.display().to_string())?,
        ),
        None => None,
    };
    for (what, missing) in [("CISA KEV", kev.is_none()), ("FIRST EPSS", epss.is_none())] {
        if missing {
            warnings.push(Warning {
                source: data_dir.display().to_string(),
                message: format!(
                    "no {what} data: ranking without it (run `patchpilot feeds sync`, or `feeds import` a local copy)"
                ),
            });
        }
    }
    Ok(Intel { kev, epss })
}

/// Today's date (UTC), the first-seen date of findings in a one-off scan.
pub fn today() -> Date {
    Date::from_days((crate::now_secs() / 86_400) as i64)
}

/// Assess one finding without NVD data, on a context without origins.
pub fn assess(
    f: &Finding,
    intel: &Intel,
    asset: &AssetContext,
    policy: &Policy,
    today: Date,
) -> patchpilot_risk::Risk {
    let asset = ResolvedAsset::from(asset.clone());
    assess_with(f, intel, None, &asset, policy, today)
}

/// Assess one finding; `nvd` fills in CVSS where the advisory has none.
pub fn assess_with(
    f: &Finding,
    intel: &Intel,
    nvd: Option<&NvdStore>,
    asset: &ResolvedAsset,
    policy: &Policy,
    today: Date,
) -> patchpilot_risk::Risk {
    let cves: Vec<&str> = f
        .advisory
        .ids()
        .filter(|id| id.starts_with("CVE-"))
        .collect();
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
    let own = f.advisory.severity.as_ref().and_then(|s| {
        let score = s.score? as f32;
        CvssInput::new(score, s.vector.as_deref())
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
        exploit_reference: false,
        fix_available: !f.fixed_versions.is_empty(),
        first_seen: today,
    };
    let mut risk = patchpilot_risk::assess_on(&finding, asset, policy);
    if let Some((c, r, m)) = nvd {
        credit_nvd(&mut risk, c.base_score, r, m);
    }
    risk
}

/// `NVD CVSS v3.1 (nvd@nist.gov, Primary)`: where a CVSS score came from.
pub fn nvd_source(m: &CvssMetric) -> String {
    format!("NVD CVSS v{} ({}, {})", m.version, m.source, m.ty.as_str())
}

/// Say in the risk's `cvss` factor and sentence that the score is NVD's, and as of when
/// (`CVSS 9.8 critical from NVD, 2024-11-21`). The risk engine names CVSS versions only;
/// the score's origin is known here.
fn credit_nvd(risk: &mut patchpilot_risk::Risk, score: f32, r: &NvdRecord, m: &CvssMetric) {
    let date = r.last_modified.date();
    if let Some(f) = risk.factors.iter_mut().find(|f| f.name == "cvss") {
        f.source = nvd_source(m);
        f.date = Some(date);
    }
    let phrase = format!(
        "CVSS {score:.1} {}",
        patchpilot_risk::Severity::from_score(score).as_str()
    );
    if let Some(at) = risk.explanation.find(&phrase) {
        risk.explanation
            .insert_str(at + phrase.len(), &format!(" from NVD, {date}"));
    }
}
