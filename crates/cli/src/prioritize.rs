//! `scan --prioritize`: attach a risk assessment to every finding, from the synced or
//! imported threat intelligence (CISA KEV, FIRST EPSS), the advisory's CVSS vector (or
//! NVD's, when the advisory has none the risk model can read) and the asset context of the
//! finding's inventory (see `scan.rs`: flags, inventory labels, the policy's `[asset]`,
//! defaults). The loading and the assessment are `patchpilot-prioritize`'s (the server
//! ranks with the same); this module adds the CLI's warnings and clock.

use std::path::Path;

use patchpilot_intel::{Date, NvdStore};
use patchpilot_osv::Advisory;
use patchpilot_report::Warning;
use patchpilot_risk::{AssetContext, Policy, ResolvedAsset};

pub use patchpilot_prioritize::{nvd_for, Intel};

/// `feeds/nvd.json` when present (NVD is optional: no warning when it is absent; a corrupt
/// store is an error, it was validated when it was written).
pub fn load_nvd(data_dir: &Path) -> crate::Result<Option<NvdStore>> {
    Ok(patchpilot_prioritize::load_nvd(data_dir)?)
}

/// Load `feeds/kev.json` and `feeds/epss.csv.gz` when present (a missing file is a
/// warning, a corrupt one an error: it was validated when it was written).
pub fn load(data_dir: &Path, warnings: &mut Vec<Warning>) -> crate::Result<Intel> {
    let intel = Intel::load(data_dir)?;
    for what in intel.missing() {
        warnings.push(Warning {
            source: data_dir.display().to_string(),
            message: format!(
                "no {what} data: ranking without it (run `patchpilot feeds sync`, or `feeds import` a local copy)"
            ),
        });
    }
    Ok(intel)
}

/// Today's date (UTC), the first-seen date of findings in a one-off scan.
pub fn today() -> Date {
    Date::from_days((crate::now_secs() / 86_400) as i64)
}

/// Assess a finding of `adv` first seen `today`, without NVD data, on a context without
/// origins.
pub fn assess(
    adv: &Advisory,
    fix_available: bool,
    intel: &Intel,
    asset: &AssetContext,
    policy: &Policy,
    today: Date,
) -> patchpilot_risk::Risk {
    let asset = ResolvedAsset::from(asset.clone());
    assess_with(adv, fix_available, intel, None, &asset, policy, today)
}

/// Assess a finding of `adv` first seen `today`; `nvd` fills in CVSS where the advisory
/// has none.
pub fn assess_with(
    adv: &Advisory,
    fix_available: bool,
    intel: &Intel,
    nvd: Option<&NvdStore>,
    asset: &ResolvedAsset,
    policy: &Policy,
    today: Date,
) -> patchpilot_risk::Risk {
    patchpilot_prioritize::assess(adv, fix_available, today, intel, nvd, asset, policy)
}
