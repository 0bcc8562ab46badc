//! `patchpilot scan`: inventories → matches → report.
//!
//! With `--prioritize`, every inventory is its own asset: its findings are ranked in that
//! asset's context, taken field by field from, strongest first,
//! 1. the flags (`--tier`, `--exposure`), which hold for every input of the run;
//! 2. the inventory's own labels: `patchpilot:asset:*` properties of a CycloneDX BOM's
//!    `metadata` (or its `metadata.component`), `patchpilot:asset:NAME=VALUE` lines in
//!    SPDX 2 annotations, or, for a host (`--root`), `etc/patchpilot/asset.toml` under the
//!    root in the shape of the policy's `[asset]`;
//! 3. the policy file's `[asset]`, the fallback for inventories that say nothing;
//! 4. the documented defaults (`patchpilot-risk::asset`).
//!
//! Labels travel with the inventory and describe that one asset, so they beat a
//! fleet-wide policy default; a flag is the operator saying "this run, this asset", so it
//! beats both. Each finding's `risk.asset` says which context it used and where every
//! value came from. VEX statements come from the policy (`vex-files`, then `[[vex]]`) and
//! then `--vex` files, into one index (latest timestamp wins; ties go to the later one).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use patchpilot_advisory_db::Database;
use patchpilot_inventory::{Format, Inventory};
use patchpilot_matcher::Index;
use patchpilot_osv::{AdvisoryKind, SeverityLevel};
use patchpilot_prioritize::Assessment;
use patchpilot_report::{
    CoverageState, DatabaseInfo, Finding, Input, Report, Summary, Tool, Unrated, Warning,
};
use patchpilot_risk::AssetPatch;
use patchpilot_types::{Distro, Ecosystem};
use rayon::prelude::*;

use crate::args::{FailOn, OutputFormat, ScanArgs};

pub fn run(data_dir: &Path, args: ScanArgs) -> crate::Result<ExitCode> {
    let forced = match &args.input_format {
        Some(name) => Some(Format::from_name(name).ok_or_else(|| {
            anyhow!(
                "unknown input format {name:?} (expected one of: {})",
                Format::ALL.map(|f| f.name()).join(", ")
            )
        })?),
        None => None,
    };
    let distro = args.distro.as_deref().map(parse_distro).transpose()?;

    let Collected {
        mut inventories,
        files,
        skipped,
    } = collect(&args, forced)?;
    for inv in &mut inventories {
        apply_distro(inv, distro.as_ref());
    }

    // Decode only the advisories of the ecosystems these inventories use.
    let ecosystems: BTreeSet<&str> = inventories
        .iter()
        .flat_map(|i| i.packages.iter().map(|p| p.ecosystem.as_str()))
        .collect();
    let ecosystems: Vec<&str> = ecosystems.into_iter().collect();
    // Errors name the file and the reason once (`…/advisories.db: corrupt …`).
    let db = Database::open_for(data_dir, &ecosystems)?;
    if db.written_at().is_none() {
        bail!(
            "no advisory database in {}: run `patchpilot feeds import` first",
            data_dir.display()
        );
    }

    let index = Index::build(db.advisories());
    let mut report = scan(&index, db.len(), &inventories);
    report.warnings.splice(0..0, skipped);
    report.coverage = coverage(&db, &inventories);
    for c in &report.coverage {
        if let Some(message) = c.warning() {
            report.warnings.push(Warning {
                source: inputs_of(&inventories, &c.ecosystem, c.release.as_deref()),
                message,
            });
        }
    }
    stale_feeds(data_dir, &db, &args, &mut report.warnings)?;
    let policy = load_policy(args.policy.as_deref())?;
    let vex = load_vex(&policy, args.policy.as_deref(), &args.vex)?;
    if !vex.is_empty() {
        apply_vex(&vex, &mut report);
    }
    apply_exceptions(&policy, &mut report);
    let nvd_present = patchpilot_feeds::nvd_file(data_dir).is_file();
    if args.prioritize {
        let assets = asset_contexts(&args, &policy, &inventories, &files)?;
        rank(data_dir, &db, &assets, &policy, &mut report)?;
    }
    explain_unrated(&mut report, nvd_present, args.prioritize);

    let text = match args.format {
        OutputFormat::Json => report.to_json(),
        OutputFormat::Sarif => report.to_sarif(),
        OutputFormat::Table => report.to_table(80),
    };
    // Warnings go to stderr even when stdout was closed early (`| head`).
    let printed = crate::out::print(&text);
    for w in &report.warnings {
        eprintln!("patchpilot: warning: {}: {}", w.source, w.message);
    }
    printed?;
    let failed = args
        .fail_on
        .is_some_and(|t| report.findings.iter().any(|f| meets(f, t)));
    let uncovered = args.fail_on_uncovered
        && report
            .coverage
            .iter()
            .any(|c| c.state == CoverageState::NotChecked);
    Ok(if failed || uncovered {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What the database covers of each ecosystem (and distro release) of the inventories,
/// with the packages of each and how to cover what is not.
fn coverage(db: &Database, inventories: &[Inventory]) -> Vec<patchpilot_report::Coverage> {
    let mut seen: BTreeMap<(String, Option<String>), (&Ecosystem, usize)> = BTreeMap::new();
    for p in inventories.iter().flat_map(|i| &i.packages) {
        seen.entry((p.ecosystem.as_str().to_string(), p.release.clone()))
            .or_insert((&p.ecosystem, 0))
            .1 += 1;
    }
    seen.into_iter()
        .map(|((name, release), (eco, packages))| {
            let c = db.coverage(eco, release.as_deref());
            let hint = if eco.is_distro() && release.is_none() {
                // Release-specific advisories cannot apply to it, whatever is imported.
                Some("its release is unknown: pass --distro ID:VERSION (e.g. debian:12)".into())
            } else {
                Some(
                    patchpilot_feeds::sync_hint(eco, release.as_deref())
                        .unwrap_or_else(|| "no advisory feed for it is known".into()),
                )
            };
            patchpilot_report::Coverage {
                hint: hint.filter(|_| c.state != CoverageState::Covered),
                ecosystem: name,
                release,
                packages,
                state: c.state,
                advisories: c.advisories,
                sources: c.sources,
            }
        })
        .collect()
}

/// The inventories holding packages of `ecosystem` at `release`, for a warning's source:
/// the first one's name, and how many more.
fn inputs_of(inventories: &[Inventory], ecosystem: &str, release: Option<&str>) -> String {
    let names: Vec<&str> = inventories
        .iter()
        .filter(|i| {
            i.packages
                .iter()
                .any(|p| p.ecosystem.as_str() == ecosystem && p.release.as_deref() == release)
        })
        .map(|i| i.source.as_str())
        .collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} and {} more input(s)", rest.len()),
    }
}

/// Say why each unrated vulnerability is unrated: its advisory has no CVSS, and what NVD
/// (which `--prioritize` reads for a CVSS score) could say.
fn explain_unrated(report: &mut Report, nvd_present: bool, prioritized: bool) {
    for f in &mut report.findings {
        if f.kind != AdvisoryKind::Vulnerability || f.advisory.severity.is_some() {
            continue;
        }
        let has_cve = f.advisory.ids().any(|id| id.starts_with("CVE-"));
        let nvd_used = f.risk.as_ref().is_some_and(|r| {
            r.factors
                .iter()
                .any(|x| x.name == "cvss" && x.source.starts_with("NVD"))
        });
        f.unrated = Some(match () {
            _ if !has_cve => Unrated::NoCve,
            _ if !nvd_present => Unrated::NvdNotSynced,
            _ if !prioritized => Unrated::NvdWithPrioritize,
            _ if nvd_used => Unrated::RankedWithNvd,
            _ => Unrated::NotInNvd,
        });
    }
}

/// Warn about feeds whose local copy is older than `--max-feed-age`.
fn stale_feeds(
    data_dir: &Path,
    db: &Database,
    args: &ScanArgs,
    warnings: &mut Vec<Warning>,
) -> crate::Result<()> {
    if args.max_feed_age.is_nan() || args.max_feed_age < 0.0 {
        bail!(
            "--max-feed-age {}: expected a number of days, 0 or more",
            args.max_feed_age
        );
    }
    if args.max_feed_age == 0.0 {
        return Ok(());
    }
    let limit = args.max_feed_age * 86_400.0;
    let now = crate::now_secs();
    let mut stale = |name: &str, age_secs: u64| {
        if age_secs as f64 > limit {
            warnings.push(Warning {
                source: data_dir.display().to_string(),
                message: format!(
                    "{name} was last updated {:.1} days ago (limit {} days): newer advisories are missing; run `patchpilot feeds sync` or import a newer copy",
                    age_secs as f64 / 86_400.0,
                    args.max_feed_age
                ),
            });
        }
    };
    let synced = patchpilot_feeds::status(data_dir)?;
    for s in db.sources() {
        // A synced source is judged by its last sync (304s keep it fresh): OSV by
        // ecosystem, a distro tracker by its name (`debian`, `alpine` ← `alpine/v3.20/main`).
        let fresh_sync = synced
            .iter()
            .filter(|f| {
                (f.name.starts_with("osv/") && s.name.starts_with(&f.name[4..]))
                    || f.name == s.name
                    || f.name
                        .strip_prefix(s.name.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
            .map(|f| f.age_secs)
            .min();
        stale(
            &s.name,
            fresh_sync.unwrap_or(now.saturating_sub(s.imported_at)),
        );
    }
    if args.prioritize {
        // Threat intel used only for ranking (advisory sources were judged above).
        for f in synced
            .iter()
            .filter(|f| matches!(f.name.as_str(), "kev" | "epss" | "nvd"))
        {
            stale(&f.name, f.age_secs);
        }
    }
    Ok(())
}

/// Every VEX statement of the run, in tie-break order: the policy's `vex-files` (paths
/// relative to the policy file), its `[[vex]]` statements, then the `--vex` files.
fn load_vex(
    policy: &patchpilot_risk::Policy,
    policy_path: Option<&Path>,
    flags: &[PathBuf],
) -> crate::Result<patchpilot_vex::VexIndex> {
    let mut index = patchpilot_vex::VexIndex::default();
    let read = |p: &Path, index: &mut patchpilot_vex::VexIndex| -> crate::Result<()> {
        let bytes = std::fs::read(p).with_context(|| format!("{}: cannot read", p.display()))?;
        for st in patchpilot_vex::parse(&bytes, &p.display().to_string())? {
            index.push(st);
        }
        Ok(())
    };
    if let Some(pp) = policy_path {
        let dir = pp.parent().unwrap_or(Path::new(""));
        for (i, f) in policy.vex_files.iter().enumerate() {
            read(&dir.join(f), &mut index)
                .with_context(|| format!("{}: vex-files[{i}]", pp.display()))?;
        }
        let label = pp.display().to_string();
        // Validated when the policy was loaded; an error here would still name the file.
        for st in policy
            .vex_statements(&label)
            .with_context(|| label.clone())?
        {
            index.push(st);
        }
    }
    for p in flags {
        read(p, &mut index)?;
    }
    Ok(index)
}

/// Mark findings that a VEX statement says are `not_affected` or `fixed`, and recount.
fn apply_vex(index: &patchpilot_vex::VexIndex, report: &mut Report) {
    for f in &mut report.findings {
        let Some(purl) = f.package.purl.as_deref() else {
            continue;
        };
        let ids: Vec<&str> = f.advisory.ids().collect();
        if let Some(st) = index.lookup(&ids, purl) {
            if st.status.suppresses() {
                f.suppressed = Some(patchpilot_report::Suppression {
                    status: st.status.as_str().to_string(),
                    justification: st.justification.clone(),
                    detail: st.detail.clone(),
                    source: match &st.author {
                        Some(a) => format!("{} (author: {a})", st.source),
                        None => st.source.clone(),
                    },
                });
            }
        }
    }
    report.summary = Summary::of(report.summary.packages, &report.findings);
}

/// The asset context from `--tier` and `--exposure` alone, on the documented defaults.
pub fn asset_context(
    tier: Option<u8>,
    exposure: Option<&str>,
) -> crate::Result<patchpilot_risk::ResolvedAsset> {
    let mut asset = patchpilot_risk::ResolvedAsset::default();
    asset.apply(&flag_patch(tier, exposure)?, |f| {
        patchpilot_risk::ContextOrigin::Flag {
            flag: format!("--{f}"),
        }
    });
    Ok(asset)
}

/// What `--tier` and `--exposure` set, validated.
fn flag_patch(tier: Option<u8>, exposure: Option<&str>) -> crate::Result<AssetPatch> {
    let mut patch = AssetPatch::default();
    if let Some(t) = tier {
        patch.tier = Some(patchpilot_risk::Tier::new(t).map_err(|e| anyhow!("--tier {t}: {e}"))?);
    }
    if let Some(e) = exposure {
        patch.exposure = Some(
            e.parse()
                .map_err(|err| anyhow!("--exposure {e:?}: {err}"))?,
        );
    }
    Ok(patch)
}

/// Where a host's labels live, under its root.
const HOST_LABELS: &str = "etc/patchpilot/asset.toml";

/// The asset context of each inventory, by its `source`: defaults, then the policy's
/// `[asset]`, then the inventory's labels, then the flags (see the module docs).
fn asset_contexts(
    args: &ScanArgs,
    policy: &patchpilot_risk::Policy,
    inventories: &[Inventory],
    files: &[Option<PathBuf>],
) -> crate::Result<HashMap<String, patchpilot_risk::ResolvedAsset>> {
    use patchpilot_risk::ContextOrigin;
    let mut base = patchpilot_risk::ResolvedAsset::default();
    base.apply(&policy.asset, |_| ContextOrigin::Policy {
        file: args.policy.as_ref().map(|p| p.display().to_string()),
    });
    let flags = flag_patch(args.tier, args.exposure.as_deref())?;
    let mut out = HashMap::new();
    for (inv, file) in inventories.iter().zip(files) {
        if out.contains_key(&inv.source) {
            continue;
        }
        let mut asset = base.clone();
        if let Some(labels) = inventory_labels(inv, file.as_deref(), &args.root)? {
            asset.apply(&labels.patch, |field| ContextOrigin::Label {
                name: labels.name(field),
                file: labels.file.clone(),
            });
        }
        asset.apply(&flags, |f| ContextOrigin::Flag {
            flag: format!("--{f}"),
        });
        out.insert(inv.source.clone(), asset);
    }
    Ok(out)
}

/// An inventory's asset labels, and where they are.
struct Labels {
    patch: AssetPatch,
    file: String,
    /// SBOM labels are namespaced (`patchpilot:asset:tier`); a host's TOML file is not.
    namespaced: bool,
}

impl Labels {
    /// The label that sets `field` (a kebab-case [`AssetPatch`] field), as written.
    fn name(&self, field: &str) -> String {
        match (self.namespaced, field) {
            (false, f) => f.to_string(),
            (true, "tags") => format!("{}tag", patchpilot_risk::asset::LABEL_PREFIX),
            (true, f) => format!("{}{f}", patchpilot_risk::asset::LABEL_PREFIX),
        }
    }
}

/// An inventory's asset labels: an SBOM's own, or a host's `etc/patchpilot/asset.toml`.
/// `None` when it has none.
fn inventory_labels(
    inv: &Inventory,
    file: Option<&Path>,
    root: &Path,
) -> crate::Result<Option<Labels>> {
    let Some(file) = file else {
        let path = root.join(HOST_LABELS);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
        };
        let patch: AssetPatch = toml::from_str(&text).map_err(|e| {
            anyhow!(
                "{}:{}: invalid asset labels: {}",
                path.display(),
                patchpilot_prioritize::toml_line(&text, &e),
                e.message()
            )
        })?;
        return Ok((!patch.is_empty()).then(|| Labels {
            patch,
            file: path.display().to_string(),
            namespaced: false,
        }));
    };
    let Some(format) = Format::from_name(&inv.format) else {
        return Ok(None);
    };
    if !matches!(
        format,
        Format::CycloneDxJson | Format::CycloneDxXml | Format::SpdxJson
    ) {
        return Ok(None);
    }
    // Read again: the inventory reader keeps packages only. Only with --prioritize.
    let bytes = std::fs::read(file).with_context(|| format!("{}: cannot read", file.display()))?;
    let labels =
        patchpilot_inventory::sbom::labels(format, &bytes, patchpilot_risk::asset::LABEL_PREFIX)
            .map_err(|e| anyhow!("{}: asset labels: {e}", file.display()))?;
    let patch = AssetPatch::from_labels(labels.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        .map_err(|e| anyhow!("{}: {e}", file.display()))?;
    Ok((!patch.is_empty()).then(|| Labels {
        patch,
        file: file.display().to_string(),
        namespaced: true,
    }))
}

/// Attach a risk assessment to every finding, in its inventory's asset context, and sort
/// by it.
fn rank(
    data_dir: &Path,
    db: &Database,
    assets: &HashMap<String, patchpilot_risk::ResolvedAsset>,
    policy: &patchpilot_risk::Policy,
    report: &mut Report,
) -> crate::Result<()> {
    let intel = crate::prioritize::load(data_dir, &mut report.warnings)?;
    // A full NVD store takes ~0.6 s and ~250 MB to load: only when a finding needs it.
    let needs_nvd = report.findings.iter().any(|f| {
        f.kind == AdvisoryKind::Vulnerability
            && !f
                .advisory
                .severity
                .as_ref()
                .and_then(|s| s.vector.as_deref())
                .is_some_and(|v| v.starts_with("CVSS:3") || v.starts_with("CVSS:4"))
    });
    let nvd = if needs_nvd {
        crate::prioritize::load_nvd(data_dir)?
    } else {
        None
    };
    let today = crate::prioritize::today();
    let fallback = patchpilot_risk::ResolvedAsset::default();
    for f in &mut report.findings {
        let asset = assets.get(&f.source).unwrap_or(&fallback);
        // The database the findings were matched against.
        let adv = db
            .get(&f.advisory.id)
            .ok_or_else(|| anyhow!("{}: not in the advisory database", f.advisory.id))?;
        // Informational advisories (unmaintained, unsound, notices) are not ranked among
        // vulnerabilities, and are due only when the policy says (`[sla] informational`):
        // the server ranks through the same function.
        match patchpilot_prioritize::assess_finding(
            adv,
            !f.fixed_versions.is_empty(),
            today,
            &intel,
            nvd.as_ref(),
            asset,
            policy,
        ) {
            Assessment::Vulnerability(risk) => f.risk = Some(*risk),
            Assessment::Informational { due, .. } => f.due = due,
        }
    }
    patchpilot_report::sort_by_risk(&mut report.findings);
    Ok(())
}

/// The policy file, validated; the defaults without one. Errors name the file, and the
/// line for TOML errors (with the `[[vex]]` statement, when the line is in one).
fn load_policy(path: Option<&Path>) -> crate::Result<patchpilot_risk::Policy> {
    match path {
        Some(path) => Ok(patchpilot_prioritize::load_policy(path)?),
        None => Ok(patchpilot_risk::Policy::default()),
    }
}

/// Mark findings under a live risk acceptance; an expired one leaves the finding open and
/// says so.
fn apply_exceptions(policy: &patchpilot_risk::Policy, report: &mut Report) {
    if policy.exceptions.is_empty() {
        return;
    }
    let today = crate::prioritize::today();
    for f in &mut report.findings {
        let ids: Vec<&str> = f.advisory.ids().collect();
        match patchpilot_risk::exception::verdict(&policy.exceptions, &ids, &f.package.name, today)
        {
            Some(patchpilot_risk::exception::Verdict::Accepted(e)) => {
                f.accepted = Some(patchpilot_report::Acceptance {
                    owner: e.owner.clone(),
                    reason: e.reason.clone(),
                    expires: e.expires.to_string(),
                });
            }
            Some(patchpilot_risk::exception::Verdict::Expired(e)) => {
                report.warnings.push(Warning {
                    source: f.source.clone(),
                    message: format!(
                    "the exception for {} ({}, owner {}) expired on {}: the finding is open again",
                    e.id, f.package.name, e.owner, e.expires
                ),
                })
            }
            None => {}
        }
    }
    report.summary = Summary::of(report.summary.packages, &report.findings);
}

/// Whether a finding reaches the `--fail-on` threshold. Only vulnerabilities count;
/// informational advisories (unmaintained, unsound, notice) never fail a scan. A
/// vulnerability without any severity data only fails `--fail-on any`.
fn meets(f: &Finding, t: FailOn) -> bool {
    if f.kind != AdvisoryKind::Vulnerability || !f.is_open() {
        return false;
    }
    let need = match t {
        FailOn::Any => return true,
        FailOn::Low => SeverityLevel::Low,
        FailOn::Medium => SeverityLevel::Medium,
        FailOn::High => SeverityLevel::High,
        FailOn::Critical => SeverityLevel::Critical,
    };
    f.level().is_some_and(|l| l >= need)
}

/// Match every package of every inventory; findings sorted, warnings for packages that
/// could not be matched.
pub fn scan(index: &Index<'_>, advisories: usize, inventories: &[Inventory]) -> Report {
    let mut findings = Vec::new();
    let mut warnings = Vec::new();
    let total: usize = inventories.iter().map(|i| i.packages.len()).sum();
    let bar = if total > 50_000 {
        let b = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("scanning [{bar:40}] {pos}/{len} packages")
                .expect("valid template")
                .progress_chars("=> "),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    for inv in inventories {
        let no_release = inv
            .packages
            .iter()
            .filter(|p| p.ecosystem.is_distro() && p.release.is_none())
            .count();
        if no_release > 0 {
            warnings.push(Warning {
                source: inv.source.clone(),
                message: format!(
                    "{no_release} OS package(s) without a distro release: release-specific advisories cannot apply; pass --distro ID:VERSION (e.g. debian:12)"
                ),
            });
        }
        let results: Vec<_> = inv
            .packages
            .par_iter()
            .map(|p| (p, index.matches(p)))
            .collect();
        bar.inc(inv.packages.len() as u64);
        for (pkg, r) in results {
            match r {
                Ok(ms) => findings.extend(
                    ms.iter()
                        .map(|m| Finding::new(pkg, m.advisory, &m.fixed_versions, &inv.source)),
                ),
                Err(e) => warnings.push(Warning {
                    source: inv.source.clone(),
                    message: format!("{} {}: not matched: {e}", pkg.name, pkg.version),
                }),
            }
        }
    }
    bar.finish_and_clear();
    patchpilot_report::sort_findings(&mut findings);
    Report {
        schema_version: patchpilot_report::SCHEMA_VERSION,
        tool: Tool {
            name: "patchpilot",
            version: env!("CARGO_PKG_VERSION"),
        },
        database: DatabaseInfo { advisories },
        inputs: inventories
            .iter()
            .map(|i| Input {
                source: i.source.clone(),
                format: i.format.clone(),
                packages: i.packages.len(),
                distro: i
                    .distro
                    .as_ref()
                    .map(|d| format!("{}:{}", d.id, d.version_id.as_deref().unwrap_or("?"))),
            })
            .collect(),
        coverage: Vec::new(),
        summary: Summary::of(total, &findings),
        findings,
        warnings,
    }
}

/// What [`collect`] read.
struct Collected {
    inventories: Vec<Inventory>,
    /// The file each inventory came from, in the same order (`None` for the host).
    files: Vec<Option<PathBuf>>,
    /// Files found in directories that did not parse.
    skipped: Vec<Warning>,
}

/// Read every inventory. A file named on the command line must parse (else exit 2); a
/// file found by searching a directory that does not parse becomes a warning and the scan
/// goes on, so one odd file in a monorepo does not hide the rest.
fn collect(args: &ScanArgs, forced: Option<Format>) -> crate::Result<Collected> {
    if args.paths.is_empty() {
        let invs = patchpilot_inventory::host::read_host(&args.root)?;
        if invs.is_empty() {
            bail!(
                "{}: no package database found (looked for dpkg, apk and rpm databases)",
                args.root.display()
            );
        }
        return Ok(Collected {
            files: vec![None; invs.len()],
            inventories: invs,
            skipped: Vec::new(),
        });
    }
    let mut out = Vec::new();
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for path in &args.paths {
        if path.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)
                .with_context(|| format!("{}: cannot list directory", path.display()))?;
            if found.is_empty() {
                bail!(
                    "{}: no lockfile, SBOM or package database found",
                    path.display()
                );
            }
            for f in found {
                match patchpilot_inventory::read_path(&f, forced) {
                    Ok(inv) => {
                        out.push(inv);
                        files.push(Some(f));
                    }
                    Err(e) => skipped.push(Warning {
                        source: f.display().to_string(),
                        message: format!("skipped: {}", e.kind),
                    }),
                }
            }
        } else {
            out.push(patchpilot_inventory::read_path(path, forced)?);
            files.push(Some(path.clone()));
        }
    }
    Ok(Collected {
        inventories: out,
        files,
        skipped,
    })
}

/// Files under `dir` whose names identify a format we read; skips VCS, build output and
/// vendored dependency trees.
fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        let ty = e.file_type()?;
        if ty.is_dir() {
            if matches!(
                name.as_ref(),
                ".git" | "node_modules" | "target" | ".venv" | "venv" | "__pycache__" | "vendor"
            ) {
                continue;
            }
            walk(&path, found)?;
        } else if ty.is_file() && Format::detect(&path, b"").is_some() {
            found.push(path);
        }
    }
    Ok(())
}

fn parse_distro(s: &str) -> crate::Result<Distro> {
    let (id, ver) = s
        .split_once(':')
        .ok_or_else(|| anyhow!("--distro {s:?}: expected ID:VERSION, e.g. debian:12"))?;
    if id.is_empty() || ver.is_empty() {
        bail!("--distro {s:?}: expected ID:VERSION, e.g. debian:12");
    }
    Ok(Distro {
        id: id.to_ascii_lowercase(),
        version_id: Some(ver.to_string()),
        codename: None,
        pretty_name: None,
    })
}

/// Give OS packages that lack a distro release the one from `--distro` (or the
/// inventory's own distro).
fn apply_distro(inv: &mut Inventory, flag: Option<&Distro>) {
    let Some(distro) = flag.or(inv.distro.as_ref()).cloned() else {
        return;
    };
    let (eco, release) = distro.ecosystem();
    let mut touched = false;
    for p in &mut inv.packages {
        if p.ecosystem.is_distro() && p.release.is_none() {
            p.ecosystem = eco.clone();
            p.release = release.clone();
            touched = true;
        }
    }
    if touched && inv.distro.is_none() {
        inv.distro = Some(distro);
    }
}
