//! `patchpilot eval prioritize`: how well a ranking finds the vulnerabilities that attackers
//! go on to exploit, as the EPSS papers measure it (coverage and efficiency at a given
//! remediation effort), for Patchpilot's risk score, CVSS alone and EPSS alone.
//!
//! KEV is the label, so it must not be an input: the population excludes findings whose
//! CVEs were already in the *earlier* KEV catalog (`--kev-before`), Patchpilot's score is
//! computed without any KEV data, and the positives are the CVEs that the *later* catalog
//! (`--kev-after`) added. EPSS comes from the data directory or `--epss`; an EPSS file
//! dated after the earlier catalog has seen some of the exploitation it is scored on,
//! which BENCHMARKS.md says next to the results.

use std::collections::HashSet;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use patchpilot_advisory_db::Database;
use patchpilot_osv::{AdvisoryKind, Event};
use patchpilot_report::Finding;
use patchpilot_types::Package;

use crate::args::EvalArgs;

const EFFORTS: [f64; 4] = [0.05, 0.10, 0.20, 0.50];

fn kev_cves(path: &Path) -> crate::Result<(String, HashSet<String>)> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let k = patchpilot_intel::parse_kev(&bytes).with_context(|| path.display().to_string())?;
    Ok((k.version.clone(), k.entries.keys().cloned().collect()))
}

pub fn prioritize(data_dir: &Path, args: EvalArgs) -> crate::Result<ExitCode> {
    let db = Database::open(data_dir)?;
    if db.is_empty() {
        bail!(
            "the advisory database in {} is empty: run `patchpilot feeds import` first",
            data_dir.display()
        );
    }
    let (before_version, before) = kev_cves(&args.kev_before)?;
    let (after_version, after) = kev_cves(&args.kev_after)?;
    let epss = match &args.epss {
        Some(p) => {
            let b = std::fs::read(p).with_context(|| format!("{}: cannot read", p.display()))?;
            Some(patchpilot_intel::parse_epss(&b).with_context(|| p.display().to_string())?)
        }
        None => crate::prioritize::load(data_dir, &mut Vec::new())?.epss,
    };
    let intel = crate::prioritize::Intel { kev: None, epss };
    let asset = patchpilot_risk::AssetContext::default();
    let policy = patchpilot_risk::Policy::default();
    let today = crate::prioritize::today();

    // The population: every vulnerability advisory with a CVE, as a finding on a default
    // asset (one per advisory).
    let mut rows: Vec<(f64, f64, f64, bool)> = Vec::new();
    let mut skipped_known = 0usize;
    for adv in db.advisories() {
        if adv.withdrawn.is_some() || adv.kind != AdvisoryKind::Vulnerability {
            continue;
        }
        let cves: Vec<&str> = adv.cve_ids().collect();
        if cves.is_empty() {
            continue;
        }
        if cves.iter().any(|c| before.contains(*c)) {
            skipped_known += 1;
            continue;
        }
        let positive = cves.iter().any(|c| after.contains(*c));
        let fixes: Vec<&str> = adv
            .affected
            .iter()
            .flat_map(|a| a.ranges.iter().flat_map(|r| r.events.iter()))
            .filter_map(|e| match e {
                Event::Fixed(v) => Some(v.as_str()),
                _ => None,
            })
            .collect();
        let pkg = adv
            .affected
            .first()
            .map(|a| Package::new(a.ecosystem.clone(), a.name.clone(), ""))
            .unwrap_or_else(|| {
                Package::new(patchpilot_types::Ecosystem::Other(String::new()), "", "")
            });
        let f = Finding::new(&pkg, adv, &fixes, "eval");
        let score =
            crate::prioritize::assess(adv, !fixes.is_empty(), &intel, &asset, &policy, today).score
                as f64;
        let cvss = f
            .advisory
            .severity
            .as_ref()
            .and_then(|s| s.score)
            .unwrap_or(0.0);
        let epss = intel
            .epss
            .as_ref()
            .map(|e| {
                cves.iter()
                    .filter_map(|c| e.get(c))
                    .map(|s| s.epss as f64)
                    .fold(0.0, f64::max)
            })
            .unwrap_or(0.0);
        rows.push((score, cvss, epss, positive));
    }
    let positives = rows.iter().filter(|r| r.3).count();
    crate::out::outln!(
        "population: {} vulnerability advisories with a CVE ({} already in KEV {before_version} left out); \
         positives: {positives} added to KEV between {before_version} and {after_version}",
        rows.len(),
        skipped_known
    )?;
    crate::out::outln!(
        "{:<7} {:>34} {:>34} {:>34}",
        "effort",
        "patchpilot cov [95%] / eff",
        "cvss cov [95%] / eff",
        "epss cov [95%] / eff"
    )?;
    let eval = |pick: fn(&(f64, f64, f64, bool)) -> f64| {
        let items: Vec<(f64, bool)> = rows.iter().map(|r| (pick(r), r.3)).collect();
        patchpilot_risk::eval::coverage_efficiency(&items, &EFFORTS)
    };
    let ours = eval(|r| r.0);
    let cvss = eval(|r| r.1);
    let epss = eval(|r| r.2);
    let cell = |p: &patchpilot_risk::eval::Point| {
        let (lo, hi) = patchpilot_risk::eval::wilson_interval(p.coverage, positives);
        format!(
            "{:>5.1}% [{:>4.1}-{:>5.1}] / {:>5.2}%",
            p.coverage * 100.0,
            lo * 100.0,
            hi * 100.0,
            p.efficiency * 100.0
        )
    };
    let mut worse_than_cvss = Vec::new();
    for i in 0..EFFORTS.len() {
        crate::out::outln!(
            "{:<7} {:>34} {:>34} {:>34}",
            format!("{:.0}%", EFFORTS[i] * 100.0),
            cell(&ours[i]),
            cell(&cvss[i]),
            cell(&epss[i])
        )?;
        if ours[i].coverage + 1e-9 < cvss[i].coverage {
            worse_than_cvss.push(format!("{:.0}%", EFFORTS[i] * 100.0));
        }
    }
    crate::out::outln!(
        "[95%]: Wilson interval of the coverage over {positives} positives; a difference inside it is not evidence"
    )?;
    if !worse_than_cvss.is_empty() {
        crate::out::outln!(
            "patchpilot covers fewer later-KEV findings than CVSS alone at effort {}",
            worse_than_cvss.join(", ")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
