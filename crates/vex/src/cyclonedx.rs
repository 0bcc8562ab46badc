//! CycloneDX 1.4–1.6 JSON: `vulnerabilities[]` with `analysis` become statements.

use std::collections::HashMap;

use serde::Deserialize;

use crate::{
    check_justification, check_time, parse_purl, AffectedVersion, Product, Statement, Status,
    VersionStatus, VexError, CYCLONEDX_JUSTIFICATIONS,
};

#[derive(Deserialize)]
struct Bom {
    #[serde(rename = "bomFormat")]
    bom_format: Option<String>,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    components: Vec<Component>,
    #[serde(default)]
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Deserialize)]
struct Metadata {
    timestamp: Option<String>,
    component: Option<Component>,
}

#[derive(Deserialize)]
struct Component {
    #[serde(rename = "bom-ref")]
    bom_ref: Option<String>,
    name: Option<String>,
    version: Option<String>,
    purl: Option<String>,
    #[serde(default)]
    components: Vec<Component>,
}

#[derive(Deserialize)]
struct Vulnerability {
    id: Option<String>,
    #[serde(default)]
    references: Vec<Reference>,
    analysis: Option<Analysis>,
    #[serde(default)]
    affects: Vec<Affects>,
    updated: Option<String>,
    published: Option<String>,
}

#[derive(Deserialize)]
struct Reference {
    id: Option<String>,
}

#[derive(Deserialize)]
struct Analysis {
    state: Option<String>,
    justification: Option<String>,
    detail: Option<String>,
    #[serde(rename = "lastUpdated")]
    last_updated: Option<String>,
}

#[derive(Deserialize)]
struct Affects {
    #[serde(rename = "ref")]
    reference: Option<String>,
    #[serde(default)]
    versions: Vec<Version>,
}

#[derive(Deserialize)]
struct Version {
    version: Option<String>,
    range: Option<String>,
    status: Option<String>,
}

/// A component's identity, found by bom-ref.
struct Known<'a> {
    name: Option<&'a str>,
    version: Option<&'a str>,
    purl: Option<&'a str>,
}

fn collect<'a>(c: &'a Component, into: &mut HashMap<&'a str, Known<'a>>) {
    if let Some(r) = &c.bom_ref {
        into.entry(r.as_str()).or_insert(Known {
            name: c.name.as_deref(),
            version: c.version.as_deref(),
            purl: c.purl.as_deref(),
        });
    }
    for sub in &c.components {
        collect(sub, into);
    }
}

fn state(s: &str) -> Option<Status> {
    Some(match s {
        "resolved" | "resolved_with_pedigree" => Status::Fixed,
        "exploitable" => Status::Affected,
        "in_triage" => Status::UnderInvestigation,
        "false_positive" | "not_affected" => Status::NotAffected,
        _ => return None,
    })
}

fn version_status(s: &str) -> Option<VersionStatus> {
    Some(match s {
        "affected" => VersionStatus::Affected,
        "unaffected" => VersionStatus::Unaffected,
        "unknown" => VersionStatus::Unknown,
        _ => return None,
    })
}

pub(crate) fn from_value(
    value: serde_json::Value,
    source: &str,
) -> Result<Vec<Statement>, VexError> {
    let bom: Bom = serde_json::from_value(value).map_err(|e| VexError::json(source, &e))?;
    if bom.bom_format.as_deref() != Some("CycloneDX") {
        return Err(VexError::invalid(
            source,
            "not a CycloneDX document: bomFormat must be \"CycloneDX\"",
        ));
    }
    let mut known = HashMap::new();
    if let Some(c) = bom.metadata.as_ref().and_then(|m| m.component.as_ref()) {
        collect(c, &mut known);
    }
    for c in &bom.components {
        collect(c, &mut known);
    }
    let doc_time = bom.metadata.as_ref().and_then(|m| m.timestamp.clone());
    let doc_time = check_time(doc_time, source, "metadata.timestamp")?;

    let mut out = Vec::new();
    for (i, v) in bom.vulnerabilities.iter().enumerate() {
        let at = format!("vulnerabilities[{i}]");
        let Some(analysis) = &v.analysis else {
            continue;
        };
        let id =
            v.id.as_deref()
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| VexError::invalid(source, format!("{at}: no id")))?;
        let state_str = analysis.state.as_deref().ok_or_else(|| {
            VexError::invalid(source, format!("{at} ({id}): analysis has no state"))
        })?;
        let status = state(state_str).ok_or_else(|| {
            VexError::invalid(
                source,
                format!("{at} ({id}): unknown analysis.state {state_str:?}"),
            )
        })?;
        check_justification(
            analysis.justification.as_deref(),
            &CYCLONEDX_JUSTIFICATIONS,
            source,
            &format!("{at} ({id}): analysis"),
        )?;
        let mut aliases: Vec<String> = Vec::new();
        for r in &v.references {
            if let Some(a) = &r.id {
                if !a.eq_ignore_ascii_case(id) && !aliases.contains(a) {
                    aliases.push(a.clone());
                }
            }
        }
        let mut products = Vec::new();
        for (j, a) in v.affects.iter().enumerate() {
            let Some(r) = a.reference.as_deref() else {
                return Err(VexError::invalid(
                    source,
                    format!("{at}.affects[{j}]: no ref"),
                ));
            };
            let versions = a
                .versions
                .iter()
                .map(|ver| {
                    let status = match &ver.status {
                        None => None,
                        Some(s) => Some(version_status(s).ok_or_else(|| {
                            VexError::invalid(
                                source,
                                format!("{at}.affects[{j}].versions: unknown status {s:?}"),
                            )
                        })?),
                    };
                    if ver.version.is_none() && ver.range.is_none() {
                        return Err(VexError::invalid(
                            source,
                            format!(
                                "{at}.affects[{j}].versions: entry with neither version nor range"
                            ),
                        ));
                    }
                    Ok(AffectedVersion {
                        version: ver.version.clone(),
                        range: ver.range.clone(),
                        status,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            products.push(resolve(r, &known, versions, source, &at)?);
        }
        let timestamp = analysis
            .last_updated
            .clone()
            .or_else(|| v.updated.clone())
            .or_else(|| v.published.clone());
        let timestamp =
            check_time(timestamp, source, &format!("{at}: timestamp"))?.or(doc_time.clone());
        out.push(Statement {
            vulnerability: id.to_string(),
            aliases,
            products,
            status,
            justification: analysis.justification.clone(),
            detail: analysis.detail.clone(),
            timestamp,
            author: None,
            source: source.to_string(),
        });
    }
    Ok(out)
}

fn resolve(
    r: &str,
    known: &HashMap<&str, Known<'_>>,
    versions: Vec<AffectedVersion>,
    source: &str,
    at: &str,
) -> Result<Product, VexError> {
    let mut p = Product {
        purl: None,
        reference: None,
        name: None,
        version: None,
        versions,
        within: None,
    };
    if let Some(k) = known.get(r) {
        p.reference = Some(r.to_string());
        p.name = k.name.map(str::to_string);
        p.version = k.version.map(str::to_string);
        if let Some(purl) = k.purl {
            p.purl = Some(parse_purl(purl, source, &format!("{at}: purl of {r:?}"))?);
        }
    } else if r.starts_with("pkg:") {
        p.purl = Some(parse_purl(r, source, &format!("{at}: affects ref"))?);
    } else {
        // A `urn:cdx:` BOM-link or a bom-ref of another document: opaque.
        p.reference = Some(r.to_string());
    }
    Ok(p)
}
