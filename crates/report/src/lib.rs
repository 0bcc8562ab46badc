//! Scan reports. [`Report`] *is* the JSON output (a versioned contract, see
//! [`SCHEMA_VERSION`]); the table and SARIF renderers read the same struct, so the three
//! formats can never disagree about what was found.
//!
//! What this crate does not do: decide what is vulnerable (`patchpilot-matcher`) or rank it
//! (the risk engine, later).

use std::fmt::Write as _;

use patchpilot_osv::{Advisory, AdvisoryKind, SeverityLevel};
pub use patchpilot_types::CoverageState;
use patchpilot_types::Package;
use serde::Serialize;

/// Version of the JSON report schema. Bump on any incompatible change.
///
/// 2: with `--prioritize`, findings of informational advisories (unmaintained, unsound,
/// notices) carry no `risk` (they are not ranked; `due` only when the policy sets
/// `[sla] informational`); new: `coverage`, and `unrated` on unrated vulnerabilities.
pub const SCHEMA_VERSION: &str = "2";

/// The whole scan result.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: &'static str,
    pub tool: Tool,
    pub database: DatabaseInfo,
    /// Every inventory that was scanned.
    pub inputs: Vec<Input>,
    /// What the advisory database covered of the inputs: one entry per ecosystem (and
    /// distro release) they hold. "No findings" means clean only where it is `covered`.
    pub coverage: Vec<Coverage>,
    pub findings: Vec<Finding>,
    /// Packages that could not be matched (e.g. a version the ecosystem cannot parse).
    pub warnings: Vec<Warning>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatabaseInfo {
    /// Advisories considered: those of the ecosystems the scanned inventories use.
    pub advisories: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Input {
    pub source: String,
    pub format: String,
    pub packages: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distro: Option<String>,
}

/// How far the advisory database covers one ecosystem (or distro release) of the inputs.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    /// The OSV ecosystem: `Debian`, `crates.io`.
    pub ecosystem: String,
    /// The distro release (`12`, `20.04`, `v3.18`) of OS packages; absent for language
    /// ecosystems, and for OS packages whose release is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// Packages of it in the inputs.
    pub packages: usize,
    /// `covered` (a whole feed was synced or imported), `partial` (only individual
    /// advisories), `unknown` (a database from before sources recorded it), `not_checked`
    /// (no advisory).
    pub state: CoverageState,
    /// Advisories in the database that can apply to its packages.
    pub advisories: usize,
    /// The imports or syncs behind the state: the whole feeds when covered, the sources of
    /// the individual advisories when partial.
    pub sources: Vec<String>,
    /// How to cover it, when it is not covered: a command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Coverage {
    /// `Debian 12`, `Alpine 3.18`, `Ubuntu 20.04`, `crates.io`.
    pub fn name(&self) -> String {
        patchpilot_types::display_name(&self.ecosystem, self.release.as_deref())
    }

    /// Why it is not covered, and what to do, in a few words; `None` when covered.
    pub fn gap(&self) -> Option<String> {
        let hint = self
            .hint
            .as_deref()
            .map(|h| format!("; {h}"))
            .unwrap_or_default();
        match self.state {
            CoverageState::Covered => None,
            CoverageState::NotChecked if self.release.is_none() && self.is_distro() => {
                Some(format!("no advisories apply{hint}"))
            }
            CoverageState::NotChecked => Some(format!("no advisories imported{hint}")),
            CoverageState::Partial => Some(format!(
                "only {} individual advisor{} imported, not a whole feed{hint}",
                self.advisories,
                if self.advisories == 1 { "y" } else { "ies" }
            )),
            CoverageState::Unknown => Some(format!(
                "{} advisories from a database written by an older version, which did not record what its imports covered; import or sync them again",
                self.advisories
            )),
        }
    }

    /// An OS distribution, whose advisories are specific to a release.
    fn is_distro(&self) -> bool {
        self.ecosystem
            .parse::<patchpilot_types::Ecosystem>()
            .is_ok_and(|e| e.is_distro())
    }

    /// The warning a scan prints for it; `None` when covered.
    pub fn warning(&self) -> Option<String> {
        let gap = self.gap()?;
        let what = match self.state {
            CoverageState::NotChecked => "not checked",
            CoverageState::Partial => "partly checked",
            _ => "coverage unknown",
        };
        Some(format!(
            "{what}: {} ({} package{}): {gap}",
            self.name(),
            self.packages,
            if self.packages == 1 { "" } else { "s" }
        ))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Warning {
    pub source: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub package: PackageRef,
    pub advisory: AdvisoryRef,
    pub kind: AdvisoryKind,
    /// Versions that resolve the finding, smallest first; empty when no fix exists.
    pub fixed_versions: Vec<String>,
    /// The file or inventory the package came from.
    pub source: String,
    /// With `scan --prioritize`: the risk assessment (score, SSVC, due date, factors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<patchpilot_risk::Risk>,
    /// A VEX statement that says this package is `not_affected` by (or `fixed` for) the
    /// vulnerability. A suppressed finding stays in the report, with its reason, but does
    /// not count in the summary or for `--fail-on`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
    /// A live risk acceptance from the policy file. Like a suppression, the finding stays in
    /// the report but does not count in the summary or for `--fail-on`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<Acceptance>,
    /// Why a vulnerability has no severity (the advisory carries no CVSS or rating, and
    /// what NVD could say); absent when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unrated: Option<Unrated>,
    /// With `scan --prioritize`, for an informational advisory (not ranked: no `risk`):
    /// its due date, only when the policy sets `[sla] informational`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<patchpilot_risk::Due>,
}

/// Why a vulnerability is unrated: its advisory carries no CVSS vector or severity (PyPI's
/// PYSEC records, for one), and NVD, which could fill in a CVSS score for ranking, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unrated {
    /// ... is not in the data directory (neither synced nor imported).
    NvdNotSynced,
    /// ... is there, and `--prioritize` reads it (a plain scan does not).
    NvdWithPrioritize,
    /// ... has no CVSS for the advisory's CVEs.
    NotInNvd,
    /// ... gave its CVSS, which ranks the finding (`--prioritize`).
    RankedWithNvd,
    /// ... cannot say: the advisory names no CVE to look up.
    NoCve,
}

impl Unrated {
    /// In a few words, for tables and explanations.
    pub fn text(self) -> &'static str {
        match self {
            Unrated::NvdNotSynced => "advisory has no CVSS; NVD not synced",
            Unrated::NvdWithPrioritize => "advisory has no CVSS; NVD's is used with --prioritize",
            Unrated::NotInNvd => "advisory has no CVSS; NVD has none for its CVEs",
            Unrated::RankedWithNvd => "advisory has no CVSS; ranked with NVD's",
            Unrated::NoCve => "advisory has no CVSS and no CVE to look up in NVD",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Acceptance {
    pub owner: String,
    pub reason: String,
    /// The last day the acceptance applies (YYYY-MM-DD).
    pub expires: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Suppression {
    /// `not_affected` or `fixed`.
    pub status: String,
    pub justification: Option<String>,
    pub detail: Option<String>,
    /// The VEX document it came from.
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackageRef {
    pub name: String,
    pub version: String,
    pub ecosystem: String,
    pub purl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AdvisoryRef {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    pub severity: Option<SeverityRef>,
    /// A human link for the advisory (its ADVISORY reference, else the first one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl AdvisoryRef {
    /// The advisory's own id, then its aliases (what VEX, exceptions and KEV look up).
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SeverityRef {
    pub level: SeverityLevel,
    /// CVSS base score, when a vector was published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub packages: usize,
    pub findings: usize,
    pub vulnerabilities: usize,
    pub informational: usize,
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub unknown_severity: usize,
    /// Findings a VEX statement suppressed (not counted above).
    pub suppressed: usize,
    /// Findings under a live risk acceptance (not counted above).
    pub accepted: usize,
}

impl Finding {
    pub fn new(pkg: &Package, adv: &Advisory, fixed: &[&str], source: &str) -> Finding {
        Finding {
            package: PackageRef {
                name: pkg.name.clone(),
                version: pkg.version.clone(),
                ecosystem: pkg.ecosystem.to_string(),
                purl: pkg.purl.clone(),
                source_name: pkg.source_name.clone(),
                source_version: pkg.source_version.clone(),
            },
            advisory: AdvisoryRef {
                id: adv.id.clone(),
                aliases: adv.aliases.clone(),
                summary: adv.summary.clone(),
                severity: severity_of(adv),
                url: adv
                    .references
                    .iter()
                    .find(|r| r.ty == "ADVISORY")
                    .or_else(|| adv.references.first())
                    .map(|r| r.url.clone()),
            },
            kind: adv.kind,
            fixed_versions: fixed.iter().map(|s| s.to_string()).collect(),
            source: source.to_string(),
            risk: None,
            suppressed: None,
            accepted: None,
            unrated: None,
            due: None,
        }
    }

    /// Neither suppressed by VEX nor accepted: it counts, and it can fail a scan.
    pub fn is_open(&self) -> bool {
        self.suppressed.is_none() && self.accepted.is_none()
    }

    /// The severity level, if known.
    pub fn level(&self) -> Option<SeverityLevel> {
        self.advisory.severity.as_ref().map(|s| s.level)
    }
}

fn severity_of(adv: &Advisory) -> Option<SeverityRef> {
    let level = adv.severity_level()?;
    let cvss = adv.cvss_vector();
    Some(SeverityRef {
        level,
        score: cvss.and_then(|s| s.base_score),
        vector: cvss.map(|s| s.score.clone()),
    })
}

impl Summary {
    pub fn of(packages: usize, findings: &[Finding]) -> Summary {
        let mut s = Summary {
            packages,
            findings: findings.iter().filter(|f| f.is_open()).count(),
            suppressed: findings.iter().filter(|f| f.suppressed.is_some()).count(),
            accepted: findings
                .iter()
                .filter(|f| f.suppressed.is_none() && f.accepted.is_some())
                .count(),
            ..Summary::default()
        };
        for f in findings.iter().filter(|f| f.is_open()) {
            if f.kind != AdvisoryKind::Vulnerability {
                s.informational += 1;
                continue;
            }
            s.vulnerabilities += 1;
            match f.level() {
                Some(SeverityLevel::Critical) => s.critical += 1,
                Some(SeverityLevel::High) => s.high += 1,
                Some(SeverityLevel::Medium) => s.medium += 1,
                Some(SeverityLevel::Low) => s.low += 1,
                Some(SeverityLevel::None) | None => s.unknown_severity += 1,
            }
        }
        s
    }
}

/// Sort findings for stable, readable output: most severe first, then package, advisory.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        let rank = |f: &Finding| (f.kind == AdvisoryKind::Vulnerability, f.level());
        rank(b)
            .cmp(&rank(a))
            .then_with(|| a.package.name.cmp(&b.package.name))
            .then_with(|| a.package.version.cmp(&b.package.version))
            .then_with(|| a.advisory.id.cmp(&b.advisory.id))
            .then_with(|| a.source.cmp(&b.source))
    });
}

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serializes")
    }

    /// A table that fits `width` columns (80 in a plain terminal). Long cells are cut with
    /// `…`. Vulnerabilities come first (ranked, with `--prioritize`), then informational
    /// advisories apart (unmaintained, unsound, notices: not ranked); with findings from
    /// more than one input, each input's rows are grouped under its path. Then VEX
    /// suppressions, accepted findings, and the summary: counts, why findings are
    /// unrated, and what the advisory database covered of the inputs.
    pub fn to_table(&self, width: usize) -> String {
        let mut out = String::new();
        let active: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.suppressed.is_none())
            .collect();
        let (vulns, notices): (Vec<&Finding>, Vec<&Finding>) = active
            .iter()
            .partition(|f| f.kind == AdvisoryKind::Vulnerability);
        let mut sources: Vec<&str> = active.iter().map(|f| f.source.as_str()).collect();
        sources.sort_unstable();
        sources.dedup();
        let grouped = sources.len() > 1;
        let fixed_in = |f: &Finding| {
            f.fixed_versions
                .first()
                .cloned()
                .unwrap_or_else(|| "no fix".into())
        };
        if vulns.iter().any(|f| f.risk.is_some()) {
            let lines = grouped_lines(&vulns, grouped, |f| {
                let (ssvc, score, due) = match &f.risk {
                    Some(r) => (
                        decision_word(r.ssvc).to_string(),
                        format!("{:.1}", r.score),
                        r.due.date.to_string(),
                    ),
                    None => ("-".into(), "-".into(), "-".into()),
                };
                let row = vec![
                    ssvc,
                    score,
                    due,
                    f.package.name.clone(),
                    f.package.version.clone(),
                    f.advisory.id.clone(),
                    fixed_in(f),
                ];
                let why = f.risk.as_ref().map(|r| format!("  why: {}", r.explanation));
                (row, why)
            });
            render_table(
                &[
                    "SSVC",
                    "SCORE",
                    "DUE",
                    "PACKAGE",
                    "INSTALLED",
                    "ADVISORY",
                    "FIXED IN",
                ],
                &lines,
                // Advisory ids stay whole (GHSA ids are 19 characters); package names
                // and versions give way first.
                &[12, 5, 10, 8, 7, 19, 7],
                width,
                &mut out,
            );
        } else {
            let lines = grouped_lines(&vulns, grouped, |f| {
                let row = vec![
                    severity_label(f),
                    f.package.name.clone(),
                    f.package.version.clone(),
                    f.advisory.id.clone(),
                    fixed_in(f),
                ];
                (row, None)
            });
            render_table(
                &["SEVERITY", "PACKAGE", "INSTALLED", "ADVISORY", "FIXED IN"],
                &lines,
                &[8, 10, 9, 19, 8],
                width,
                &mut out,
            );
        }
        if !notices.is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            let due = notices.iter().any(|f| f.due.is_some());
            out.push_str(if due {
                "Informational (unmaintained, unsound, notices): not ranked; due dates from the policy:\n"
            } else {
                "Informational (unmaintained, unsound, notices): not ranked, no due date:\n"
            });
            let lines = grouped_lines(&notices, grouped, |f| {
                let mut row = vec![kind_word(f.kind).to_string()];
                if due {
                    row.push(f.due.map_or_else(|| "-".into(), |d| d.date.to_string()));
                }
                row.extend([
                    f.package.name.clone(),
                    f.package.version.clone(),
                    f.advisory.id.clone(),
                    fixed_in(f),
                ]);
                (row, None)
            });
            let (header, min): (&[&str], &[usize]) = if due {
                (
                    &[
                        "KIND",
                        "DUE",
                        "PACKAGE",
                        "INSTALLED",
                        "ADVISORY",
                        "FIXED IN",
                    ],
                    &[12, 10, 10, 9, 19, 8],
                )
            } else {
                (
                    &["KIND", "PACKAGE", "INSTALLED", "ADVISORY", "FIXED IN"],
                    &[12, 10, 9, 19, 8],
                )
            };
            render_table(header, &lines, min, width, &mut out);
        }
        let suppressed: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.suppressed.is_some())
            .collect();
        if !suppressed.is_empty() {
            out.push_str("\nSuppressed by VEX:\n");
            for f in suppressed {
                let s = f.suppressed.as_ref().expect("filtered");
                let line = format!(
                    "  {} {} {}: {}{} [{}]",
                    f.advisory.id,
                    f.package.name,
                    f.package.version,
                    s.status,
                    s.justification
                        .as_deref()
                        .map(|j| format!(" ({j})"))
                        .unwrap_or_default(),
                    s.source
                );
                let _ = writeln!(out, "{}", fit(&line, width));
            }
        }
        let accepted: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.suppressed.is_none() && f.accepted.is_some())
            .collect();
        if !accepted.is_empty() {
            out.push_str("\nAccepted (policy exceptions):\n");
            for f in accepted {
                let a = f.accepted.as_ref().expect("filtered");
                let line = format!(
                    "  {} {} {}: until {} by {}: {}",
                    f.advisory.id, f.package.name, f.package.version, a.expires, a.owner, a.reason
                );
                let _ = writeln!(out, "{}", fit(&line, width));
            }
        }
        let s = &self.summary;
        let mut summary = if active.is_empty() && s.suppressed == 0 {
            format!(
                "No findings in {} packages from {} input(s).",
                s.packages,
                self.inputs.len()
            )
        } else {
            format!(
                "{} finding(s) in {} packages: {} critical, {} high, {} medium, {} low, {} unrated; {} informational.",
                s.findings, s.packages, s.critical, s.high, s.medium, s.low, s.unknown_severity, s.informational
            )
        };
        if s.suppressed > 0 {
            summary.push_str(&format!(" {} suppressed by VEX.", s.suppressed));
        }
        if s.accepted > 0 {
            summary.push_str(&format!(" {} accepted by policy exceptions.", s.accepted));
        }
        // Why findings are unrated, by reason, most frequent first.
        let mut unrated: Vec<(Unrated, usize)> = Vec::new();
        for r in vulns
            .iter()
            .filter(|f| f.is_open())
            .filter_map(|f| f.unrated)
        {
            match unrated.iter_mut().find(|(u, _)| *u == r) {
                Some((_, n)) => *n += 1,
                None => unrated.push((r, 1)),
            }
        }
        unrated.sort_by_key(|u| std::cmp::Reverse(u.1));
        for (reason, n) in unrated {
            summary.push_str(&format!(" Unrated ({n}): {}.", reason.text()));
        }
        summary.push_str(&self.coverage_sentences());
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&wrap(&summary, width));
        out
    }

    /// ` Checked: crates.io (1206 advisories). Not checked: Debian 12 (no advisories
    /// imported; run …).`: what the database covered of the inputs, for the summary.
    fn coverage_sentences(&self) -> String {
        let mut out = String::new();
        let covered: Vec<String> = self
            .coverage
            .iter()
            .filter(|c| c.state == CoverageState::Covered)
            .map(|c| format!("{} ({} advisories)", c.name(), c.advisories))
            .collect();
        if !covered.is_empty() {
            out.push_str(&format!(" Checked: {}.", covered.join(", ")));
        }
        for (state, label) in [
            (CoverageState::NotChecked, "Not checked"),
            (CoverageState::Partial, "Partly checked"),
            (CoverageState::Unknown, "Coverage unknown"),
        ] {
            let items: Vec<String> = self
                .coverage
                .iter()
                .filter(|c| c.state == state)
                .map(|c| format!("{} ({})", c.name(), c.gap().unwrap_or_default()))
                .collect();
            if !items.is_empty() {
                out.push_str(&format!(" {label}: {}.", items.join(", ")));
            }
        }
        out
    }

    /// SARIF 2.1.0 as GitHub code scanning accepts it: one rule per advisory, one result per
    /// finding, located at the inventory file; warnings (uncovered ecosystems among them)
    /// as the invocation's notifications, and the coverage as a run property.
    pub fn to_sarif(&self) -> String {
        use serde_json::json;
        let mut rules = Vec::new();
        let mut rule_index = std::collections::HashMap::new();
        for f in &self.findings {
            if rule_index.contains_key(&f.advisory.id) {
                continue;
            }
            rule_index.insert(f.advisory.id.clone(), rules.len());
            let summary = f
                .advisory
                .summary
                .clone()
                .unwrap_or_else(|| f.advisory.id.clone());
            let mut props = json!({
                "tags": ["security", "vulnerability", kind_word(f.kind)],
            });
            if let Some(score) = f
                .advisory
                .severity
                .as_ref()
                .and_then(|s| s.score.or(Some(level_score(s.level))))
            {
                props["security-severity"] = json!(format!("{score:.1}"));
            }
            let mut rule = json!({
                "id": f.advisory.id,
                "name": f.advisory.id.replace(['-', '.'], ""),
                "shortDescription": { "text": summary },
                "fullDescription": { "text": summary },
                "help": {
                    "text": format!("{}\nAliases: {}", summary, f.advisory.aliases.join(", ")),
                },
                "properties": props,
            });
            if let Some(url) = &f.advisory.url {
                rule["helpUri"] = json!(url);
            }
            rules.push(rule);
        }
        let results: Vec<_> = self
            .findings
            .iter()
            .map(|f| {
                let fix = match f.fixed_versions.first() {
                    Some(v) => format!("; fixed in {v}"),
                    None => "; no fixed version".to_string(),
                };
                json!({
                    "ruleId": f.advisory.id,
                    "ruleIndex": rule_index[&f.advisory.id],
                    "level": sarif_level(f),
                    "message": {
                        "text": format!(
                            "{} {} ({}) is affected by {}{}",
                            f.package.name, f.package.version, f.package.ecosystem, f.advisory.id, fix
                        )
                    },
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": { "uri": sarif_uri(&f.source) },
                            "region": { "startLine": 1 }
                        }
                    }],
                    "suppressions": f.suppressed.as_ref().map(|s| vec![json!({
                        "kind": "external",
                        "status": "accepted",
                        "justification": format!(
                            "VEX {}{} ({})",
                            s.status,
                            s.justification.as_deref().map(|j| format!(": {j}")).unwrap_or_default(),
                            s.source
                        ),
                    })]).unwrap_or_default(),
                    "partialFingerprints": {
                        "patchpilot/v1": format!("{}|{}|{}|{}", f.advisory.id, f.package.ecosystem, f.package.name, f.package.version)
                    }
                })
            })
            .collect();
        let doc = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {
                    "driver": {
                        "name": "patchpilot",
                        "version": self.tool.version,
                        "informationUri": "https://example.invalid/patchpilot",
                        "rules": rules,
                    }
                },
                "results": results,
                // What the advisory database covered of the inputs, and every warning (an
                // input nothing was checked against among them): SARIF's place for what
                // is not a result.
                "invocations": [{
                    "executionSuccessful": true,
                    "toolExecutionNotifications": self.warnings.iter().map(|w| json!({
                        "level": "warning",
                        "message": { "text": format!("{}: {}", w.source, w.message) },
                    })).collect::<Vec<_>>(),
                }],
                "properties": { "coverage": self.coverage },
            }]
        });
        serde_json::to_string_pretty(&doc).expect("sarif serializes")
    }
}

/// One line of a table: a row of cells, a note under the row before, or the heading of
/// a group of rows (an input's path).
enum Line {
    Row(Vec<String>),
    Note(String),
    Heading(String),
}

/// The lines of `findings` (in their order), as `cells` makes them (a row and a note).
/// With `grouped`, the rows of each input come together under a heading with its path,
/// the inputs in the order of their first finding (so the most severe, or highest ranked,
/// comes first).
fn grouped_lines(
    findings: &[&Finding],
    grouped: bool,
    cells: impl Fn(&Finding) -> (Vec<String>, Option<String>),
) -> Vec<Line> {
    let mut order: Vec<&str> = Vec::new();
    if grouped {
        for f in findings {
            if !order.contains(&f.source.as_str()) {
                order.push(&f.source);
            }
        }
    } else {
        order.push("");
    }
    let mut lines = Vec::new();
    for source in order {
        let group: Vec<&&Finding> = findings
            .iter()
            .filter(|f| !grouped || f.source == source)
            .collect();
        if grouped {
            lines.push(Line::Heading(format!(
                "{source} ({} finding{})",
                group.len(),
                if group.len() == 1 { "" } else { "s" }
            )));
        }
        for f in group {
            let (row, note) = cells(f);
            lines.push(Line::Row(row));
            lines.extend(note.map(Line::Note));
        }
    }
    lines
}

/// Columns fitted to `width`: natural widths over all rows, then the widest column above
/// its minimum shrinks until the row fits; cut cells end in `…`. Notes are cut to
/// `width`. The header starts the table and each group, after its heading (a path, cut at
/// the front so the file name stays).
fn render_table(header: &[&str], lines: &[Line], min: &[usize], width: usize, out: &mut String) {
    if !lines.iter().any(|l| matches!(l, Line::Row(_))) {
        return;
    }
    let n = header.len();
    let sep = 2;
    let mut w: Vec<usize> = (0..n)
        .map(|i| {
            lines
                .iter()
                .filter_map(|l| match l {
                    Line::Row(r) => Some(r[i].chars().count()),
                    _ => None,
                })
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    while w.iter().sum::<usize>() + sep * (n - 1) > width {
        let Some(i) = (0..n)
            .filter(|&i| w[i] > min[i])
            .max_by_key(|&i| w[i] - min[i])
        else {
            break;
        };
        w[i] -= 1;
    }
    let row = |cells: &[&str], out: &mut String| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            let cell = fit(c, w[i]);
            if i + 1 < n {
                let _ = write!(l, "{cell:<width$}{:sep$}", "", width = w[i], sep = sep);
            } else {
                l.push_str(&cell);
            }
        }
        let _ = writeln!(out, "{}", l.trim_end());
    };
    if !matches!(lines.first(), Some(Line::Heading(_))) {
        row(header, out);
    }
    for (i, l) in lines.iter().enumerate() {
        match l {
            Line::Row(r) => {
                let cells: Vec<&str> = r.iter().map(String::as_str).collect();
                row(&cells, out);
            }
            Line::Note(note) => {
                let _ = writeln!(out, "{}", fit(note, width));
            }
            Line::Heading(h) => {
                if i > 0 {
                    out.push('\n');
                }
                let _ = writeln!(out, "{}", fit_front(h, width));
                row(header, out);
            }
        }
    }
}

fn decision_word(d: patchpilot_risk::Decision) -> &'static str {
    match d {
        patchpilot_risk::Decision::Defer => "defer",
        patchpilot_risk::Decision::Scheduled => "scheduled",
        patchpilot_risk::Decision::OutOfCycle => "out-of-cycle",
        patchpilot_risk::Decision::Immediate => "immediate",
    }
}

/// Rank findings in queue order ([`patchpilot_risk::QueueKey::queue_cmp`], as the server
/// ranks): vulnerabilities by risk (highest score first, then the more urgent SSVC decision
/// and the earlier due date), then informational advisories (the earlier due date first,
/// none last), then vulnerabilities without an assessment; ties keep their previous order.
pub fn sort_by_risk(findings: &mut [Finding]) {
    fn key(f: &Finding) -> patchpilot_risk::QueueKey {
        use patchpilot_risk::QueueKey;
        match (&f.risk, f.kind) {
            (Some(r), _) => QueueKey::Ranked(r.rank_key()),
            (None, AdvisoryKind::Vulnerability) => QueueKey::Unassessed,
            (None, _) => QueueKey::Informational {
                due: f.due.map(|d| d.date),
            },
        }
    }
    findings.sort_by(|a, b| key(a).queue_cmp(&key(b)));
}

fn kind_word(k: AdvisoryKind) -> &'static str {
    match k {
        AdvisoryKind::Vulnerability => "vulnerability",
        AdvisoryKind::Unmaintained => "unmaintained",
        AdvisoryKind::Unsound => "unsound",
        AdvisoryKind::Notice => "notice",
    }
}

fn level_score(l: SeverityLevel) -> f64 {
    match l {
        SeverityLevel::Critical => 9.5,
        SeverityLevel::High => 8.0,
        SeverityLevel::Medium => 5.5,
        SeverityLevel::Low => 2.0,
        SeverityLevel::None => 0.0,
    }
}

fn sarif_level(f: &Finding) -> &'static str {
    if f.kind != AdvisoryKind::Vulnerability {
        return "note";
    }
    match f.level() {
        Some(SeverityLevel::Critical | SeverityLevel::High) => "error",
        Some(SeverityLevel::Low | SeverityLevel::None) => "note",
        _ => "warning",
    }
}

/// SARIF wants a URI; host inventories have no file, so they get a synthetic one.
fn sarif_uri(source: &str) -> String {
    if let Some(host) = source.strip_prefix("host:") {
        return format!("host/{}", host.trim_start_matches('/'));
    }
    source.trim_start_matches("./").to_string()
}

fn severity_label(f: &Finding) -> String {
    if f.kind != AdvisoryKind::Vulnerability {
        return kind_word(f.kind).to_string();
    }
    match f.level() {
        Some(SeverityLevel::Critical) => "critical",
        Some(SeverityLevel::High) => "high",
        Some(SeverityLevel::Medium) => "medium",
        Some(SeverityLevel::Low) => "low",
        Some(SeverityLevel::None) | None => "unrated",
    }
    .to_string()
}

/// Cut `s` to `w` characters at the front, marking the cut with `…` (a path keeps its
/// file name).
fn fit_front(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w {
        return s.to_string();
    }
    let mut out = String::from("…");
    out.extend(s.chars().skip(n - w.saturating_sub(1)));
    out
}

/// Cut `s` to `w` characters, marking the cut with `…`.
fn fit(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        return s.to_string();
    }
    let mut out: String = s.chars().take(w.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Fill lines up to `width` with the words of `text`; a `quoted command` is kept on one
/// line when it fits, so it can be copied.
fn wrap(text: &str, width: usize) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut open = false;
    for word in text.split(' ') {
        match words.last_mut() {
            Some(last) if open => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
        if word.matches('`').count() % 2 == 1 {
            open = !open;
        }
    }
    let words: Vec<String> = words
        .into_iter()
        .flat_map(|w| {
            // A unit that cannot fit on a line is split at its spaces after all.
            if w.chars().count() > width {
                w.split(' ').map(String::from).collect()
            } else {
                vec![w]
            }
        })
        .collect();
    let mut out = String::new();
    let mut line = String::new();
    for word in &words {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(name: &str, id: &str, level: Option<SeverityLevel>, kind: AdvisoryKind) -> Finding {
        Finding {
            package: PackageRef {
                name: name.into(),
                version: "1.0.0-very-long-prerelease-tag".into(),
                ecosystem: "crates.io".into(),
                purl: None,
                source_name: None,
                source_version: None,
            },
            advisory: AdvisoryRef {
                id: id.into(),
                aliases: vec!["CVE-2024-0001".into()],
                summary: Some("something bad".into()),
                severity: level.map(|level| SeverityRef {
                    level,
                    score: None,
                    vector: None,
                }),
                url: None,
            },
            kind,
            fixed_versions: vec!["1.0.1".into(), "2.0.0".into()],
            source: "Cargo.lock".into(),
            risk: None,
            suppressed: None,
            accepted: None,
            unrated: None,
            due: None,
        }
    }

    fn report(findings: Vec<Finding>) -> Report {
        Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "patchpilot",
                version: "0",
            },
            database: DatabaseInfo { advisories: 1 },
            inputs: vec![],
            coverage: vec![],
            summary: Summary::of(10, &findings),
            findings,
            warnings: vec![],
        }
    }

    #[test]
    fn table_fits_80_columns_even_with_long_cells() {
        let r = report(vec![
            finding(
                "an-extremely-long-crate-name-that-would-overflow-any-terminal",
                "RUSTSEC-2024-0001",
                Some(SeverityLevel::Critical),
                AdvisoryKind::Vulnerability,
            ),
            finding("x", "GHSA-aaaa-bbbb-cccc", None, AdvisoryKind::Unmaintained),
        ]);
        let t = r.to_table(80);
        for line in t.lines() {
            assert!(line.chars().count() <= 80, "too wide: {line:?}");
        }
        assert!(t.contains("RUSTSEC-2024-0001"));
        assert!(t.contains("critical"));
        assert!(t.contains("unmaintained"));
        assert!(t.contains('…'));
    }

    #[test]
    fn summary_counts_by_kind_and_level() {
        let s = Summary::of(
            3,
            &[
                finding(
                    "a",
                    "A",
                    Some(SeverityLevel::High),
                    AdvisoryKind::Vulnerability,
                ),
                finding("b", "B", None, AdvisoryKind::Vulnerability),
                finding("c", "C", None, AdvisoryKind::Unsound),
            ],
        );
        assert_eq!(
            (
                s.findings,
                s.vulnerabilities,
                s.high,
                s.unknown_severity,
                s.informational
            ),
            (3, 2, 1, 1, 1)
        );
    }

    #[test]
    fn sarif_has_one_rule_per_advisory_and_valid_levels() {
        let r = report(vec![
            finding(
                "a",
                "A-1",
                Some(SeverityLevel::High),
                AdvisoryKind::Vulnerability,
            ),
            finding(
                "b",
                "A-1",
                Some(SeverityLevel::High),
                AdvisoryKind::Vulnerability,
            ),
            finding("c", "B-2", None, AdvisoryKind::Notice),
        ]);
        let v: serde_json::Value = serde_json::from_str(&r.to_sarif()).unwrap();
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 2);
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        assert_eq!(results[0]["level"], "error");
        assert_eq!(results[2]["level"], "note");
        assert_eq!(results[1]["ruleIndex"], 0);
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "Cargo.lock"
        );
    }
}
