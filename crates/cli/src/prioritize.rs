//! `scan --prioritize`: attach a risk assessment (`patchpilot-risk`) to every finding,
//! from the synced or imported threat intelligence (CISA KEV, FIRST EPSS), the advisory's
//! CVSS vector and the asset context given on the command line.

use std::path::Path;

use anyhow::Context;
use patchpilot_intel::{Date, EpssScores, KevCatalog};
use patchpilot_report::{Finding, Warning};
use patchpilot_risk::{AssetContext, CvssInput, EpssSignal, KevSignal, Policy};

/// Threat intelligence from the data directory; each part is optional.
pub struct Intel {
    pub kev: Option<KevCatalog>,
    pub epss: Option<EpssScores>,
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

/// Assess one finding.
pub fn assess(
    f: &Finding,
    intel: &Intel,
    asset: &AssetContext,
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
    // A vector the risk model cannot read (CVSS v2) still gives its base score.
    let cvss = f.advisory.severity.as_ref().and_then(|s| {
        let score = s.score? as f32;
        CvssInput::new(score, s.vector.as_deref())
            .or_else(|_| CvssInput::new(score, None))
            .ok()
    });
    let finding = patchpilot_risk::Finding {
        cvss,
        epss,
        kev,
        exploit_reference: false,
        fix_available: !f.fixed_versions.is_empty(),
        first_seen: today,
    };
    patchpilot_risk::assess(&finding, asset, policy)
}
