//! `patchpilot explain ID`: everything behind an advisory's rank — its severity, its
//! threat intelligence (CISA KEV, EPSS) with sources and dates, and the risk factors for a
//! finding of it on an asset of the given tier and exposure.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use patchpilot_advisory_db::Database;
use patchpilot_osv::Event;
use patchpilot_report::Finding;
use patchpilot_types::Package;

use crate::args::ExplainArgs;

pub fn run(data_dir: &Path, args: ExplainArgs) -> crate::Result<ExitCode> {
    let db = Database::open(data_dir)
        .with_context(|| format!("opening the advisory database in {}", data_dir.display()))?;
    let advisories = db.find_all(&args.id);
    if advisories.is_empty() {
        bail!(
            "{:?}: no advisory with this id or alias in {} ({} advisories)",
            args.id,
            data_dir.display(),
            db.len()
        );
    }
    let mut warnings = Vec::new();
    let intel = crate::prioritize::load(data_dir, &mut warnings)?;
    for w in &warnings {
        eprintln!("patchpilot: warning: {}", w.message);
    }
    let asset = crate::scan::asset_context(args.tier, args.exposure.as_deref())?;
    let policy = patchpilot_risk::Policy::default();
    let today = crate::prioritize::today();
    let mut out = String::new();
    for adv in advisories {
        let _ = writeln!(out, "{}  {}", adv.id, adv.summary.as_deref().unwrap_or(""));
        if !adv.aliases.is_empty() {
            let _ = writeln!(out, "  aliases: {}", adv.aliases.join(", "));
        }
        let _ = writeln!(
            out,
            "  published {}, modified {}{}",
            adv.published.as_deref().unwrap_or("?"),
            adv.modified,
            adv.withdrawn
                .as_deref()
                .map(|w| format!(", WITHDRAWN {w}"))
                .unwrap_or_default()
        );
        for s in &adv.severity {
            let _ = writeln!(
                out,
                "  severity: {} (base {}) [source: {}]",
                s.score,
                s.base_score.map_or("?".into(), |b| format!("{b:.1}")),
                adv.id
            );
        }
        let mut fixes = Vec::new();
        for aff in &adv.affected {
            let mut ranges = Vec::new();
            for r in &aff.ranges {
                let ev: Vec<String> = r
                    .events
                    .iter()
                    .map(|e| match e {
                        Event::Introduced(v) => format!("introduced {v}"),
                        Event::Fixed(v) => {
                            fixes.push(v.clone());
                            format!("fixed {v}")
                        }
                        Event::LastAffected(v) => format!("last affected {v}"),
                        Event::Limit(v) => format!("limit {v}"),
                    })
                    .collect();
                ranges.push(ev.join(", "));
            }
            let release = aff
                .release
                .as_deref()
                .map(|r| format!(":{r}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  affects {}{release}/{}: {}{}",
                aff.ecosystem,
                aff.name,
                if ranges.is_empty() {
                    "listed versions".into()
                } else {
                    ranges.join("; ")
                },
                if aff.versions.is_empty() {
                    String::new()
                } else {
                    format!(" ({} versions listed)", aff.versions.len())
                }
            );
        }
        for cve in adv.cve_ids() {
            if let Some(k) = intel.kev.as_ref().and_then(|k| k.get(cve)) {
                let _ = writeln!(
                    out,
                    "  {cve}: in CISA KEV since {}, due {}{}; {} [source: CISA KEV catalog {}]",
                    k.date_added,
                    k.due_date,
                    if k.ransomware_known() {
                        ", known ransomware use"
                    } else {
                        ""
                    },
                    k.required_action,
                    intel
                        .kev
                        .as_ref()
                        .map(|c| c.version.as_str())
                        .unwrap_or("?")
                );
            }
            if let Some(e) = intel.epss.as_ref().and_then(|e| e.get(cve).map(|s| (s, e))) {
                let (s, scores) = e;
                let _ = writeln!(
                    out,
                    "  {cve}: EPSS {:.4}, percentile {:.3} [source: FIRST EPSS {}, {}]",
                    s.epss,
                    s.percentile,
                    scores.model_version.as_deref().unwrap_or("?"),
                    scores
                        .score_date
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "?".into())
                );
            }
        }
        let first = adv.affected.first();
        let pkg = Package::new(
            first
                .map(|a| a.ecosystem.clone())
                .unwrap_or(patchpilot_types::Ecosystem::Other(String::new())),
            first.map(|a| a.name.clone()).unwrap_or_default(),
            "",
        );
        let fixed: Vec<&str> = fixes.iter().map(String::as_str).collect();
        let finding = Finding::new(&pkg, adv, &fixed, "explain");
        let risk = crate::prioritize::assess(&finding, &intel, &asset, &policy, today);
        let _ = writeln!(
            out,
            "  risk on a tier-{} {} asset, first seen today: score {:.1}, SSVC {:?}, due {}",
            asset.tier.get(),
            args.exposure.as_deref().unwrap_or("internal"),
            risk.score,
            risk.ssvc,
            risk.due.date
        );
        for f in &risk.factors {
            let _ = writeln!(
                out,
                "    {:<13} {:<40} {:>+6.1}  [{}{}]",
                f.name,
                f.value,
                f.contribution,
                f.source,
                f.date.map(|d| format!(", {d}")).unwrap_or_default()
            );
        }
        let _ = writeln!(out, "  why: {}", risk.explanation);
        out.push('\n');
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}
