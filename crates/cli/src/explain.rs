//! `patchpilot explain ID`: everything behind an advisory's rank — its severity, its
//! threat intelligence (CISA KEV, EPSS, NVD's CVSS) with sources and dates, and the risk
//! factors for a finding of it on an asset of the given tier and exposure.
//!
//! [`Explanation`] *is* the `--format json` output (versioned by [`SCHEMA_VERSION`], like
//! the scan report); the text form is rendered from the same struct, so the two never
//! disagree.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use patchpilot_advisory_db::Database;
use patchpilot_intel::{Date, NvdStore, NvdTime};
use patchpilot_osv::AdvisoryKind;
use patchpilot_osv::{Advisory, Event};
use patchpilot_report::{Tool, Unrated};
use serde::Serialize;

use crate::args::{ExplainArgs, ExplainFormat};
use crate::prioritize::Intel;

/// Version of the `explain --format json` schema. Bump on any incompatible change.
pub const SCHEMA_VERSION: &str = "1";

/// The whole `explain` result.
#[derive(Debug, Serialize)]
pub struct Explanation {
    pub schema_version: &'static str,
    pub tool: Tool,
    /// The id or alias asked about.
    pub query: String,
    /// The day the risk is computed for (a finding first seen that day).
    pub as_of: Date,
    pub asset: AssetRef,
    /// Every advisory with that id or alias.
    pub advisories: Vec<ExplainedAdvisory>,
}

/// The asset the risk is computed for.
#[derive(Debug, Serialize)]
pub struct AssetRef {
    pub tier: u8,
    pub exposure: &'static str,
}

#[derive(Debug, Serialize)]
pub struct ExplainedAdvisory {
    pub id: String,
    pub summary: Option<String>,
    pub aliases: Vec<String>,
    pub published: Option<String>,
    pub modified: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// The advisory's own severity entries (source: the advisory).
    pub severity: Vec<SeverityFact>,
    /// Why a vulnerability has no severity rating (as in the scan report); absent when it
    /// has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unrated: Option<Unrated>,
    pub affected: Vec<AffectedFact>,
    /// CISA KEV listings of the advisory's CVEs.
    pub kev: Vec<KevFact>,
    /// FIRST EPSS scores of the advisory's CVEs.
    pub epss: Vec<EpssFact>,
    /// NVD's preferred CVSS metric for each of the advisory's CVEs that NVD scored.
    pub nvd: Vec<NvdFact>,
    /// The risk of a finding of this advisory on the asset: every factor with its source
    /// and date, the SSVC decision, the due date and the sentence.
    pub risk: patchpilot_risk::Risk,
}

#[derive(Debug, Serialize)]
pub struct SeverityFact {
    /// The vector (or Ubuntu priority word) as published.
    pub score: String,
    pub base_score: Option<f64>,
    pub source: String,
}

#[derive(Debug, Serialize)]
pub struct AffectedFact {
    pub ecosystem: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    pub name: String,
    /// One line per range: `introduced 0, fixed 1.2.3`.
    pub ranges: Vec<String>,
    /// How many versions the entry lists explicitly.
    pub versions: usize,
}

#[derive(Debug, Serialize)]
pub struct KevFact {
    pub cve: String,
    pub date_added: Date,
    pub due_date: Date,
    pub ransomware: bool,
    pub required_action: String,
    /// `CISA KEV catalog 2026.08.07`.
    pub source: String,
    /// The catalog's release date.
    pub date: Date,
}

#[derive(Debug, Serialize)]
pub struct EpssFact {
    pub cve: String,
    pub epss: f32,
    pub percentile: f32,
    /// `FIRST EPSS v2025.03.14`.
    pub source: String,
    /// The score date.
    pub date: Option<Date>,
}

#[derive(Debug, Serialize)]
pub struct NvdFact {
    pub cve: String,
    /// CVSS version: `4.0`, `3.1`, `3.0`, `2.0`.
    pub version: String,
    pub vector: String,
    pub base_score: f32,
    /// Who scored it: `nvd@nist.gov` or a CNA.
    pub scored_by: String,
    /// `Primary` or `Secondary`.
    pub metric_type: String,
    /// `NVD`.
    pub source: &'static str,
    /// The date of the record's `lastModified`.
    pub date: Date,
    pub last_modified: NvdTime,
    /// The risk took its CVSS from this record (the advisory has none it can read).
    pub used: bool,
}

pub fn run(data_dir: &Path, args: ExplainArgs) -> crate::Result<ExitCode> {
    let db = Database::open(data_dir)?;
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
    let nvd = crate::prioritize::load_nvd(data_dir)?;
    for w in &warnings {
        eprintln!("patchpilot: warning: {}", w.message);
    }
    let asset = crate::scan::asset_context(args.tier, args.exposure.as_deref())?;
    let policy = patchpilot_risk::Policy::default();
    let today = crate::prioritize::today();
    let explanation = Explanation {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "patchpilot",
            version: env!("CARGO_PKG_VERSION"),
        },
        query: args.id.clone(),
        as_of: today,
        asset: AssetRef {
            tier: asset.context.tier.get(),
            exposure: asset.context.exposure.as_str(),
        },
        advisories: advisories
            .into_iter()
            .map(|adv| explain_one(adv, &intel, nvd.as_ref(), &asset, &policy, today))
            .collect(),
    };
    match args.format {
        ExplainFormat::Json => crate::out::outln!(
            "{}",
            serde_json::to_string_pretty(&explanation).expect("the explanation serializes")
        ),
        ExplainFormat::Text => crate::out::print(&to_text(&explanation)),
    }?;
    Ok(ExitCode::SUCCESS)
}

fn explain_one(
    adv: &Advisory,
    intel: &Intel,
    nvd: Option<&NvdStore>,
    asset: &patchpilot_risk::ResolvedAsset,
    policy: &patchpilot_risk::Policy,
    today: Date,
) -> ExplainedAdvisory {
    let mut fixes = Vec::new();
    let affected = adv
        .affected
        .iter()
        .map(|aff| AffectedFact {
            ecosystem: aff.ecosystem.to_string(),
            release: aff.release.clone(),
            name: aff.name.clone(),
            ranges: aff
                .ranges
                .iter()
                .map(|r| {
                    r.events
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
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .collect(),
            versions: aff.versions.len(),
        })
        .collect();

    let cves: Vec<&str> = adv.cve_ids().collect();
    let kev = intel.kev.as_ref().map_or_else(Vec::new, |catalog| {
        cves.iter()
            .filter_map(|c| catalog.get(c))
            .map(|k| KevFact {
                cve: k.cve.clone(),
                date_added: k.date_added,
                due_date: k.due_date,
                ransomware: k.ransomware_known(),
                required_action: k.required_action.clone(),
                source: format!("CISA KEV catalog {}", catalog.version),
                date: catalog.released,
            })
            .collect()
    });
    let epss = intel.epss.as_ref().map_or_else(Vec::new, |scores| {
        cves.iter()
            .filter_map(|c| scores.get(c).map(|s| (c, s)))
            .map(|(c, s)| EpssFact {
                cve: c.to_string(),
                epss: s.epss,
                percentile: s.percentile,
                source: format!(
                    "FIRST EPSS {}",
                    scores.model_version.as_deref().unwrap_or("?")
                ),
                date: scores.score_date,
            })
            .collect()
    });

    let risk =
        crate::prioritize::assess_with(adv, !fixes.is_empty(), intel, nvd, asset, policy, today);
    let nvd_used = risk
        .factors
        .iter()
        .any(|f| f.name == "cvss" && f.source.starts_with("NVD"));
    let used_cve = nvd_used
        .then(|| crate::prioritize::nvd_for(nvd, cves.iter().copied()))
        .flatten()
        .map(|(r, _)| r.id.as_str());
    let nvd_facts = cves
        .iter()
        .filter_map(|c| nvd?.get(c))
        .filter_map(|r| r.preferred().map(|m| (r, m)))
        .map(|(r, m)| NvdFact {
            cve: r.id.clone(),
            version: m.version.to_string(),
            vector: m.vector.clone(),
            base_score: m.base_score,
            scored_by: m.source.clone(),
            metric_type: m.ty.as_str().to_string(),
            source: "NVD",
            date: r.last_modified.date(),
            last_modified: r.last_modified,
            used: used_cve == Some(r.id.as_str()),
        })
        .collect();
    let unrated = (adv.kind == AdvisoryKind::Vulnerability && adv.severity_level().is_none()).then(
        || match () {
            _ if cves.is_empty() => Unrated::NoCve,
            _ if nvd.is_none() => Unrated::NvdNotSynced,
            _ if nvd_used => Unrated::RankedWithNvd,
            _ => Unrated::NotInNvd,
        },
    );

    ExplainedAdvisory {
        id: adv.id.clone(),
        summary: adv.summary.clone(),
        aliases: adv.aliases.clone(),
        published: adv.published.clone(),
        modified: adv.modified.clone(),
        withdrawn: adv.withdrawn.clone(),
        severity: adv
            .severity
            .iter()
            .map(|s| SeverityFact {
                score: s.score.clone(),
                base_score: s.base_score,
                source: adv.id.clone(),
            })
            .collect(),
        unrated,
        affected,
        kev,
        epss,
        nvd: nvd_facts,
        risk,
    }
}

fn to_text(e: &Explanation) -> String {
    let mut out = String::new();
    for a in &e.advisories {
        let _ = writeln!(out, "{}  {}", a.id, a.summary.as_deref().unwrap_or(""));
        if !a.aliases.is_empty() {
            let _ = writeln!(out, "  aliases: {}", a.aliases.join(", "));
        }
        let _ = writeln!(
            out,
            "  published {}, modified {}{}",
            a.published.as_deref().unwrap_or("?"),
            a.modified,
            a.withdrawn
                .as_deref()
                .map(|w| format!(", WITHDRAWN {w}"))
                .unwrap_or_default()
        );
        for s in &a.severity {
            let _ = writeln!(
                out,
                "  severity: {} (base {}) [source: {}]",
                s.score,
                s.base_score.map_or("?".into(), |b| format!("{b:.1}")),
                s.source
            );
        }
        if let Some(u) = a.unrated {
            let _ = writeln!(out, "  severity: unrated ({})", u.text());
        }
        for aff in &a.affected {
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
                if aff.ranges.is_empty() {
                    "listed versions".into()
                } else {
                    aff.ranges.join("; ")
                },
                if aff.versions == 0 {
                    String::new()
                } else {
                    format!(" ({} versions listed)", aff.versions)
                }
            );
        }
        for k in &a.kev {
            let _ = writeln!(
                out,
                "  {}: in CISA KEV since {}, due {}{}; {} [source: {}]",
                k.cve,
                k.date_added,
                k.due_date,
                if k.ransomware {
                    ", known ransomware use"
                } else {
                    ""
                },
                k.required_action,
                k.source
            );
        }
        for s in &a.epss {
            let _ = writeln!(
                out,
                "  {}: EPSS {:.4}, percentile {:.3} [source: {}, {}]",
                s.cve,
                s.epss,
                s.percentile,
                s.source,
                s.date.map(|d| d.to_string()).unwrap_or_else(|| "?".into())
            );
        }
        for n in &a.nvd {
            let _ = writeln!(
                out,
                "  {}: CVSS {:.1} {} by {} ({}){} [source: {}, {}]",
                n.cve,
                n.base_score,
                n.vector,
                n.scored_by,
                n.metric_type,
                if n.used { ", used for the risk" } else { "" },
                n.source,
                n.date
            );
        }
        let r = &a.risk;
        let _ = writeln!(
            out,
            "  risk on a tier-{} {} asset, first seen {}: score {:.1}, SSVC {:?}, due {}",
            e.asset.tier, e.asset.exposure, e.as_of, r.score, r.ssvc, r.due.date
        );
        for f in &r.factors {
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
        let _ = writeln!(out, "  why: {}", r.explanation);
        out.push('\n');
    }
    out
}
