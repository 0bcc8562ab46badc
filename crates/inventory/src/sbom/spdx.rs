//! SPDX 2.x JSON documents (2.2 and 2.3).
//!
//! Packages are named by their purl `externalRefs` (`referenceType: purl`, category
//! `PACKAGE-MANAGER`, or `PACKAGE_MANAGER` as 2.2 spells it); a package without one is
//! skipped, for the same reason as in CycloneDX: without a purl its ecosystem is unknown.
//! From there, packages go through the same [`PackageCollector`] as CycloneDX (version from
//! the purl else `versionInfo`, dedupe, distro qualifiers, source packages).
//!
//! The document's subject (the one package it `DESCRIBES`, when the document holds others)
//! is skipped, like CycloneDX's `metadata.component`. A package whose
//! `primaryPackagePurpose` is `OPERATING-SYSTEM` names the distro.
//!
//! SPDX 3 (JSON-LD) is a different format and is refused with a clear error.
//!
//! Labels ([`labels_json`]): lines of annotation comments, see [`super::labels`].

use std::collections::HashSet;

use serde::Deserialize;

use super::cyclonedx::PackageCollector;
use crate::{Distro, ParseError, Parsed};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Doc {
    #[serde(default)]
    spdx_version: Option<String>,
    #[serde(default)]
    packages: Vec<SpdxPackage>,
    #[serde(default)]
    document_describes: Vec<String>,
    #[serde(default)]
    relationships: Vec<Relationship>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    #[serde(rename = "SPDXID", default)]
    spdx_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version_info: Option<String>,
    #[serde(default)]
    primary_package_purpose: Option<String>,
    #[serde(default)]
    external_refs: Vec<ExternalRef>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    #[serde(default)]
    reference_category: Option<String>,
    #[serde(default)]
    reference_type: Option<String>,
    #[serde(default)]
    reference_locator: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    #[serde(default)]
    spdx_element_id: Option<String>,
    #[serde(default)]
    relationship_type: Option<String>,
    #[serde(default)]
    related_spdx_element: Option<String>,
}

/// Parse an SPDX 2.2/2.3 JSON document.
pub fn parse_json(data: &[u8]) -> Result<Parsed, ParseError> {
    let doc: Doc =
        serde_json::from_slice(data).map_err(|e| ParseError::new(format!("invalid JSON: {e}")))?;
    match doc.spdx_version.as_deref() {
        Some(v) if v.starts_with("SPDX-2.") => {}
        Some(v) => {
            return Err(ParseError::new(format!(
                "unsupported spdxVersion {v:?} (supported: SPDX-2.2, SPDX-2.3)"
            )))
        }
        None => {
            return Err(ParseError::new(
                "no spdxVersion: not an SPDX 2 JSON document",
            ))
        }
    }

    let mut described: HashSet<&str> = doc.document_describes.iter().map(String::as_str).collect();
    for r in &doc.relationships {
        if r.spdx_element_id.as_deref() == Some("SPDXRef-DOCUMENT")
            && r.relationship_type.as_deref() == Some("DESCRIBES")
        {
            if let Some(id) = r.related_spdx_element.as_deref() {
                described.insert(id);
            }
        }
    }
    // Only a single subject among other packages is "the thing scanned"; a document that
    // describes several packages lists its contents that way.
    let subject = (described.len() == 1 && doc.packages.len() > 1)
        .then(|| described.iter().next().copied())
        .flatten();

    let mut c = PackageCollector::default();
    let mut os = None;
    for p in &doc.packages {
        if p.primary_package_purpose.as_deref() == Some("OPERATING-SYSTEM") {
            if let Some(name) = p.name.as_deref().filter(|n| !n.trim().is_empty()) {
                os.get_or_insert_with(|| Distro {
                    id: name.trim().to_ascii_lowercase(),
                    version_id: p.version_info.clone().filter(|v| !v.is_empty()),
                    codename: None,
                    pretty_name: None,
                });
            }
            continue;
        }
        if subject.is_some() && p.spdx_id.as_deref() == subject {
            continue;
        }
        for r in &p.external_refs {
            let category_ok = r
                .reference_category
                .as_deref()
                .is_none_or(|c| matches!(c, "PACKAGE-MANAGER" | "PACKAGE_MANAGER"));
            if r.reference_type.as_deref() == Some("purl") && category_ok {
                if let Some(purl) = r.reference_locator.as_deref() {
                    c.add(purl, p.version_info.as_deref(), &[]);
                }
            }
        }
    }
    let mut parsed = c.finish();
    if os.is_some() {
        parsed.distro = os;
    }
    Ok(parsed)
}

/// What [`labels_json`] reads: annotations of the document and of the packages it
/// describes.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LabelDoc {
    #[serde(default)]
    annotations: Vec<Annotation>,
    #[serde(default)]
    packages: Vec<LabelPackage>,
    #[serde(default)]
    document_describes: Vec<String>,
    #[serde(default)]
    relationships: Vec<Relationship>,
}

#[derive(Debug, Deserialize)]
struct Annotation {
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LabelPackage {
    #[serde(rename = "SPDXID", default)]
    spdx_id: Option<String>,
    #[serde(default)]
    annotations: Vec<Annotation>,
}

/// Labels of an SPDX 2 JSON document: each annotation comment line that starts with
/// `prefix` is `NAME=VALUE`; the document's annotations first, then those of the packages
/// it DESCRIBES (see [`super::labels`]). A line in the namespace without `=` is an error.
pub fn labels_json(data: &[u8], prefix: &str) -> Result<Vec<(String, String)>, ParseError> {
    let doc: LabelDoc =
        serde_json::from_slice(data).map_err(|e| ParseError::new(format!("invalid JSON: {e}")))?;
    let mut described: HashSet<&str> = doc.document_describes.iter().map(String::as_str).collect();
    for r in &doc.relationships {
        if r.spdx_element_id.as_deref() == Some("SPDXRef-DOCUMENT")
            && r.relationship_type.as_deref() == Some("DESCRIBES")
        {
            if let Some(id) = r.related_spdx_element.as_deref() {
                described.insert(id);
            }
        }
    }
    let mut out = Vec::new();
    let mut read = |anns: &[Annotation], at: &str| -> Result<(), ParseError> {
        for (i, a) in anns.iter().enumerate() {
            for line in a.comment.as_deref().unwrap_or("").lines() {
                let line = line.trim();
                if !super::in_namespace(line, prefix) {
                    continue;
                }
                let (name, value) = line.split_once('=').ok_or_else(|| {
                    ParseError::new(format!(
                        "{at}annotations[{i}]: {line:?} is not NAME=VALUE (e.g. {prefix}tier=1)"
                    ))
                })?;
                out.push((name.trim().to_string(), value.trim().to_string()));
            }
        }
        Ok(())
    };
    read(&doc.annotations, "")?;
    for (i, p) in doc.packages.iter().enumerate() {
        if p.spdx_id
            .as_deref()
            .is_some_and(|id| described.contains(id))
        {
            read(&p.annotations, &format!("packages[{i}]."))?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod label_tests {
    use super::*;

    const P: &str = "patchpilot:asset:";

    #[test]
    fn annotation_lines_are_labels() {
        let doc = br#"{
          "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT",
          "documentDescribes": ["SPDXRef-app"],
          "annotations": [
            {"annotationType": "OTHER", "annotator": "Tool: ci", "annotationDate": "2026-01-01T00:00:00Z",
             "comment": "asset context for Patchpilot\npatchpilot:asset:tier=1\n  patchpilot:asset:exposure = internet-facing"}
          ],
          "packages": [
            {"SPDXID": "SPDXRef-app", "name": "app",
             "annotations": [{"comment": "patchpilot:asset:owner=payments=team"}]},
            {"SPDXID": "SPDXRef-dep", "name": "dep",
             "annotations": [{"comment": "patchpilot:asset:tier=4"}]}
          ]
        }"#;
        let got = labels_json(doc, P).unwrap();
        let want: Vec<(String, String)> = [
            ("patchpilot:asset:tier", "1"),
            ("patchpilot:asset:exposure", "internet-facing"),
            ("patchpilot:asset:owner", "payments=team"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(got, want, "a dependency's annotations are not the asset's");
    }

    #[test]
    fn a_label_line_without_a_value_is_an_error() {
        let doc = br#"{"spdxVersion":"SPDX-2.3","annotations":[{"comment":"ok"},{"comment":"patchpilot:asset:tier 1"}]}"#;
        let e = labels_json(doc, P).unwrap_err().0;
        assert!(
            e.contains("annotations[1]: \"patchpilot:asset:tier 1\" is not NAME=VALUE"),
            "{e}"
        );
        assert!(labels_json(b"{\"annotations\": [", P)
            .unwrap_err()
            .0
            .contains("invalid JSON"));
    }
}
