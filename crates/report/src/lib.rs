//! Scan reports. [`Report`] *is* the JSON output (a versioned contract, see
//! [`SCHEMA_VERSION`]); the table and SARIF renderers read the same struct, so the three
//! formats can never disagree about what was found.
//!
//! What this crate does not do: decide what is vulnerable (`patchpilot-matcher`) or rank it
//! (the risk engine, later).

use std::fmt::Write as _;

use patchpilot_osv::{Advisory, AdvisoryKind, SeverityLevel};
use patchpilot_types::Package;
use serde::Serialize;

/// Version of the JSON report schema. Bump on any incompatible change.
pub const SCHEMA_VERSION: &str = "1";

/// The whole scan result.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: &'static str,
    pub tool: Tool,
    pub database: DatabaseInfo,
    /// Every inventory that was scanned.
    pub inputs: Vec<Input>,
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
    /// `…`; the summary line follows.
    pub fn to_table(&self, width: usize) -> String {
        let mut out = String::new();
        let active: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.suppressed.is_none())
            .collect();
        if active.is_empty() && self.summary.suppressed == 0 {
            let _ = writeln!(
                out,
                "No findings in {} packages from {} input(s).",
                self.summary.packages,
                self.inputs.len()
            );
            return out;
        }
        let prioritized = active.iter().any(|f| f.risk.is_some());
        if prioritized {
            let rows: Vec<Vec<String>> = active
                .iter()
                .map(|f| {
                    let (ssvc, score, due) = match &f.risk {
                        Some(r) => (
                            decision_word(r.ssvc).to_string(),
                            format!("{:.1}", r.score),
                            r.due.date.to_string(),
                        ),
                        None => ("-".into(), "-".into(), "-".into()),
                    };
                    vec![
                        ssvc,
                        score,
                        due,
                        f.package.name.clone(),
                        f.package.version.clone(),
                        f.advisory.id.clone(),
                    ]
                })
                .collect();
            let whys: Vec<Option<String>> = active
                .iter()
                .map(|f| f.risk.as_ref().map(|r| format!("  why: {}", r.explanation)))
                .collect();
            render_table(
                &["SSVC", "SCORE", "DUE", "PACKAGE", "INSTALLED", "ADVISORY"],
                &rows,
                &[12, 5, 10, 10, 9, 14],
                &whys,
                width,
                &mut out,
            );
        } else {
            let rows: Vec<Vec<String>> = active
                .iter()
                .map(|f| {
                    vec![
                        severity_label(f),
                        f.package.name.clone(),
                        f.package.version.clone(),
                        f.advisory.id.clone(),
                        f.fixed_versions
                            .first()
                            .cloned()
                            .unwrap_or_else(|| "no fix".into()),
                    ]
                })
                .collect();
            render_table(
                &["SEVERITY", "PACKAGE", "INSTALLED", "ADVISORY", "FIXED IN"],
                &rows,
                &[8, 10, 9, 14, 8],
                &[],
                width,
                &mut out,
            );
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
        let mut summary = format!(
            "{} finding(s) in {} packages: {} critical, {} high, {} medium, {} low, {} unrated; {} informational.",
            s.findings, s.packages, s.critical, s.high, s.medium, s.low, s.unknown_severity, s.informational
        );
        if s.suppressed > 0 {
            summary.push_str(&format!(" {} suppressed by VEX.", s.suppressed));
        }
        if s.accepted > 0 {
            summary.push_str(&format!(" {} accepted by policy exceptions.", s.accepted));
        }
        out.push('\n');
        out.push_str(&wrap(&summary, width));
        out
    }

    /// SARIF 2.1.0 as GitHub code scanning accepts it: one rule per advisory, one result per
    /// finding, located at the inventory file.
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
            }]
        });
        serde_json::to_string_pretty(&doc).expect("sarif serializes")
    }
}

/// Columns fitted to `width`: natural widths, then the widest column above its minimum
/// shrinks until the row fits; cut cells end in `…`. `notes[i]`, when present, is printed
/// (cut to `width`) under row `i`.
fn render_table(
    header: &[&str],
    rows: &[Vec<String>],
    min: &[usize],
    notes: &[Option<String>],
    width: usize,
    out: &mut String,
) {
    if rows.is_empty() {
        return;
    }
    let n = header.len();
    let sep = 2;
    let mut w: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
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
    let line = |cells: &[&str], out: &mut String| {
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
    line(header, out);
    for (i, r) in rows.iter().enumerate() {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        line(&cells, out);
        if let Some(Some(note)) = notes.get(i) {
            let _ = writeln!(out, "{}", fit(note, width));
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

/// Rank findings by risk ([`patchpilot_risk::Risk::rank_cmp`]: highest score first, then
/// the more urgent SSVC decision and the earlier due date); findings without an assessment go last in their previous order.
pub fn sort_by_risk(findings: &mut [Finding]) {
    findings.sort_by(|a, b| match (&a.risk, &b.risk) {
        (Some(x), Some(y)) => x.rank_cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
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

/// Cut `s` to `w` characters, marking the cut with `…`.
fn fit(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        return s.to_string();
    }
    let mut out: String = s.chars().take(w.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split(' ') {
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
