//! VEX (Vulnerability Exploitability eXchange): what a supplier or an operator says about
//! whether a vulnerability really affects a product.
//!
//! Two formats are read into one model, [`Statement`]:
//! - CycloneDX 1.4–1.6 JSON ([`parse_cyclonedx`]): `vulnerabilities[]` that carry an
//!   `analysis`. A vulnerability without `analysis` is a plain finding, not a VEX
//!   statement, and is skipped. `affects[].ref` is resolved against the bom-refs of
//!   `metadata.component` and `components[]` (recursively) to the component's purl; a ref
//!   that is itself a purl is parsed as one; a `urn:cdx:` BOM-link, or a bom-ref that names
//!   no component of this document, is kept as an opaque [`Product::reference`].
//!   `affects[].versions` is kept as data ([`AffectedVersion`]).
//! - OpenVEX 0.2 JSON ([`parse_openvex`]), also accepting the 0.0.x shapes (a
//!   `vulnerability` string, product strings). A product with `subcomponents` yields one
//!   [`Product`] per subcomponent, with [`Product::within`] naming the product: a scanner's
//!   finding is about the package (the subcomponent), not the image that holds it.
//!
//! - Statements written inline in a Patchpilot policy file (`[[vex]]`, [`InlineStatement`]):
//!   OpenVEX's vocabulary in TOML, checked by the same rules as an OpenVEX document.
//!
//! [`parse`] tells the two documents apart (`bomFormat: "CycloneDX"` versus an OpenVEX
//! `@context` or `statements`).
//!
//! # Validation
//! Statuses must be the format's own words. A justification must be one of the format's
//! labels ([`OPENVEX_JUSTIFICATIONS`], [`CYCLONEDX_JUSTIFICATIONS`]), and an OpenVEX (or
//! inline) `not_affected` statement must carry a justification or an impact statement, as
//! the OpenVEX spec requires: a suppression whose reason nobody can read is refused rather
//! than applied. CycloneDX makes the justification optional, and so do we there.
//!
//! # Semantics for the caller
//! - [`Status::NotAffected`] and [`Status::Fixed`] **suppress** a finding. The suppressed
//!   finding should stay visible with the statement's justification/detail and source, so
//!   a reader can see why it was hidden ([`Status::suppresses`]).
//! - [`Status::Affected`] and [`Status::UnderInvestigation`] suppress nothing; the detail
//!   may still be shown as context.
//!
//! # Matching ([`VexIndex::lookup`])
//! A statement applies to a package when one of the finding's ids equals the statement's
//! vulnerability id or one of its aliases (ASCII case-insensitive), and one of its products
//! matches the package purl:
//! - type, namespace and name are equal (after purl normalization);
//! - the version is compared only when the statement's purl has one;
//! - qualifiers are compared only for the keys the statement's purl has, and the subpath
//!   only when the statement's purl has one;
//! - when the product carries CycloneDX `affects[].versions`, the package version must equal
//!   one of the listed exact `version`s. `range`s (`vers:` strings) are **not evaluated**:
//!   a product that only lists ranges never matches, so an unevaluated range can never
//!   suppress a finding by accident.
//!
//! Products without a purl (an opaque reference, or a component without a purl) never
//! match a package purl; they are kept so reports can show them.
//!
//! When several statements match, the one with the **latest timestamp** wins; a statement
//! without a timestamp counts as older than any dated one. Ties go to the statement added
//! **last** (document order, then the order documents were given to [`VexIndex::new`]), so a
//! later statement supersedes an earlier one, as in a log.
//!
//! No IO: callers read the files and pass bytes plus a `source` label (usually the path)
//! that is copied into every statement for reporting.

mod cyclonedx;
mod index;
mod inline;
mod openvex;
mod time;

use patchpilot_purl::Purl;
use serde::Serialize;

pub use index::VexIndex;
pub use inline::InlineStatement;

/// OpenVEX 0.2's justification labels for `not_affected` (also the vocabulary of inline
/// statements).
pub const OPENVEX_JUSTIFICATIONS: [&str; 5] = [
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

/// CycloneDX 1.4–1.6 `analysis.justification` values.
pub const CYCLONEDX_JUSTIFICATIONS: [&str; 9] = [
    "code_not_present",
    "code_not_reachable",
    "requires_configuration",
    "requires_dependency",
    "requires_environment",
    "protected_by_compiler",
    "protected_at_runtime",
    "protected_at_perimeter",
    "protected_by_mitigating_control",
];

/// A VEX document that cannot be read. Every variant names the source and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VexError {
    /// Not JSON, or JSON of the wrong shape.
    #[error("{document}: invalid JSON: {message}")]
    Json { document: String, message: String },
    /// JSON, but neither CycloneDX nor OpenVEX.
    #[error("{document}: not a VEX document (neither CycloneDX with bomFormat nor OpenVEX with @context/statements)")]
    UnknownFormat { document: String },
    /// The right format, with a value that breaks it (unknown status, bad purl, ...).
    #[error("{document}: {reason}")]
    Invalid { document: String, reason: String },
}

impl VexError {
    pub(crate) fn invalid(source: &str, reason: impl Into<String>) -> Self {
        VexError::Invalid {
            document: source.to_string(),
            reason: reason.into(),
        }
    }
    pub(crate) fn json(source: &str, e: &serde_json::Error) -> Self {
        VexError::Json {
            document: source.to_string(),
            message: e.to_string(),
        }
    }
}

/// What a statement says about the vulnerability in its products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

impl Status {
    /// Whether this status hides a finding (NotAffected, Fixed).
    pub fn suppresses(self) -> bool {
        matches!(self, Status::NotAffected | Status::Fixed)
    }

    /// Read the OpenVEX spelling (`not_affected`, `affected`, `fixed`,
    /// `under_investigation`).
    pub fn from_openvex(s: &str) -> Option<Status> {
        Some(match s {
            "not_affected" => Status::NotAffected,
            "affected" => Status::Affected,
            "fixed" => Status::Fixed,
            "under_investigation" => Status::UnderInvestigation,
            _ => return None,
        })
    }

    /// The OpenVEX spelling, also used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotAffected => "not_affected",
            Status::Affected => "affected",
            Status::Fixed => "fixed",
            Status::UnderInvestigation => "under_investigation",
        }
    }
}

/// The status CycloneDX gives one entry of `affects[].versions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    Affected,
    Unaffected,
    Unknown,
}

/// One entry of CycloneDX `affects[].versions`: an exact version or a `vers:` range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AffectedVersion {
    pub version: Option<String>,
    pub range: Option<String>,
    pub status: Option<VersionStatus>,
}

/// What a statement is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    /// The normalized purl, when the product has one.
    #[serde(serialize_with = "ser_purl")]
    pub purl: Option<Purl>,
    /// The reference as written, when it is not (only) a purl: a CycloneDX bom-ref, a
    /// `urn:cdx:` BOM-link, or an OpenVEX `@id` that is not a purl.
    pub reference: Option<String>,
    /// The component's name and version when a bom-ref resolved to a component (kept for
    /// display; matching uses the purl only).
    pub name: Option<String>,
    pub version: Option<String>,
    /// CycloneDX `affects[].versions`; empty means "the product as identified".
    pub versions: Vec<AffectedVersion>,
    /// OpenVEX: the product this subcomponent was named within.
    pub within: Option<String>,
}

fn ser_purl<S: serde::Serializer>(p: &Option<Purl>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.serialize_some(&p.to_string()),
        None => s.serialize_none(),
    }
}

/// One VEX statement: a status for one vulnerability in some products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    /// The vulnerability id (CVE-…, GHSA-…, ...).
    pub vulnerability: String,
    /// Other ids for the same vulnerability.
    pub aliases: Vec<String>,
    pub products: Vec<Product>,
    pub status: Status,
    /// CycloneDX `analysis.justification` or OpenVEX `justification`, as written.
    pub justification: Option<String>,
    /// CycloneDX `analysis.detail`, or OpenVEX `impact_statement` (for not_affected) /
    /// `action_statement` (when there is no impact statement).
    pub detail: Option<String>,
    /// RFC 3339. CycloneDX: `analysis.lastUpdated`, else the vulnerability's `updated` /
    /// `published`, else `metadata.timestamp`. OpenVEX: the statement's, else the document's.
    pub timestamp: Option<String>,
    /// Who made the statement: the OpenVEX document's `author`, an inline statement's
    /// `author`; CycloneDX VEX has no per-statement author (none).
    pub author: Option<String>,
    /// The label the caller gave for the document (usually its path).
    pub source: String,
}

impl Statement {
    /// Whether `id` is this statement's vulnerability or one of its aliases.
    pub fn names(&self, id: &str) -> bool {
        self.vulnerability.eq_ignore_ascii_case(id)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
    }
}

impl Product {
    /// Whether this product identifies the package `pkg` (see the crate docs for the rule).
    pub fn matches(&self, pkg: &Purl) -> bool {
        let Some(p) = &self.purl else { return false };
        if p.ty != pkg.ty || p.namespace != pkg.namespace || p.name != pkg.name {
            return false;
        }
        if p.version.is_some() && p.version != pkg.version {
            return false;
        }
        if p.subpath.is_some() && p.subpath != pkg.subpath {
            return false;
        }
        if p.qualifiers
            .iter()
            .any(|(k, v)| pkg.qualifier(k) != Some(v.as_str()))
        {
            return false;
        }
        if self.versions.is_empty() {
            return true;
        }
        let Some(v) = &pkg.version else { return false };
        self.versions.iter().any(|e| e.version.as_ref() == Some(v))
    }
}

/// Parse a CycloneDX or an OpenVEX JSON document, telling them apart by their markers.
pub fn parse(bytes: &[u8], source: &str) -> Result<Vec<Statement>, VexError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| VexError::json(source, &e))?;
    let obj = value.as_object().ok_or_else(|| VexError::UnknownFormat {
        document: source.to_string(),
    })?;
    if obj.get("bomFormat").and_then(|v| v.as_str()) == Some("CycloneDX") {
        return cyclonedx::from_value(value, source);
    }
    let openvex_context = obj
        .get("@context")
        .and_then(|v| v.as_str())
        .is_some_and(|c| c.contains("openvex"));
    if openvex_context || obj.contains_key("statements") {
        return openvex::from_value(value, source);
    }
    Err(VexError::UnknownFormat {
        document: source.to_string(),
    })
}

/// Parse a CycloneDX 1.4–1.6 JSON document's VEX statements.
pub fn parse_cyclonedx(bytes: &[u8], source: &str) -> Result<Vec<Statement>, VexError> {
    let value = serde_json::from_slice(bytes).map_err(|e| VexError::json(source, &e))?;
    cyclonedx::from_value(value, source)
}

/// Parse an OpenVEX (0.2, or 0.0.x) JSON document.
pub fn parse_openvex(bytes: &[u8], source: &str) -> Result<Vec<Statement>, VexError> {
    let value = serde_json::from_slice(bytes).map_err(|e| VexError::json(source, &e))?;
    openvex::from_value(value, source)
}

/// Parse a purl at the boundary, naming where it came from on failure.
pub(crate) fn parse_purl(s: &str, source: &str, what: &str) -> Result<Purl, VexError> {
    Purl::parse(s).map_err(|e| VexError::invalid(source, format!("{what}: {e}")))
}

/// Check a justification against a format's labels; `at` says where it was written.
pub(crate) fn check_justification(
    j: Option<&str>,
    labels: &[&str],
    source: &str,
    at: &str,
) -> Result<(), VexError> {
    match j {
        Some(j) if !labels.contains(&j) => Err(VexError::invalid(
            source,
            format!(
                "{at}: unknown justification {j:?} (expected one of: {})",
                labels.join(", ")
            ),
        )),
        _ => Ok(()),
    }
}

/// Check an optional timestamp at the boundary.
pub(crate) fn check_time(
    t: Option<String>,
    source: &str,
    what: &str,
) -> Result<Option<String>, VexError> {
    if let Some(s) = &t {
        if time::parse_rfc3339(s).is_none() {
            return Err(VexError::invalid(
                source,
                format!("{what}: {s:?} is not an RFC 3339 timestamp"),
            ));
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(purl: &str) -> Product {
        Product {
            purl: Some(Purl::parse(purl).unwrap()),
            reference: None,
            name: None,
            version: None,
            versions: vec![],
            within: None,
        }
    }

    #[test]
    fn product_matching_table() {
        // (statement purl, package purl, expected)
        let cases = [
            ("pkg:npm/lodash", "pkg:npm/lodash@4.17.20", true),
            ("pkg:npm/lodash@4.17.20", "pkg:npm/lodash@4.17.20", true),
            ("pkg:npm/lodash@4.17.21", "pkg:npm/lodash@4.17.20", false),
            ("pkg:npm/lodash@4.17.21", "pkg:npm/lodash", false),
            ("pkg:npm/lodash", "pkg:npm/underscore@1", false),
            ("pkg:npm/lodash", "pkg:pypi/lodash@1", false),
            ("pkg:maven/org.a/b", "pkg:maven/org.x/b@1", false),
            ("pkg:PyPI/Django_Foo", "pkg:pypi/django-foo@1.0", true),
            (
                "pkg:deb/debian/curl",
                "pkg:deb/debian/curl@7?arch=amd64",
                true,
            ),
            (
                "pkg:deb/debian/curl?arch=amd64",
                "pkg:deb/debian/curl@7?arch=amd64",
                true,
            ),
            (
                "pkg:deb/debian/curl?arch=arm64",
                "pkg:deb/debian/curl@7?arch=amd64",
                false,
            ),
            (
                "pkg:deb/debian/curl?arch=amd64",
                "pkg:deb/debian/curl@7",
                false,
            ),
            ("pkg:golang/x/y#sub", "pkg:golang/x/y@1#sub", true),
            ("pkg:golang/x/y#sub", "pkg:golang/x/y@1#other", false),
            ("pkg:golang/x/y", "pkg:golang/x/y@1#other", true),
        ];
        for (stmt, pkg, want) in cases {
            let got = product(stmt).matches(&Purl::parse(pkg).unwrap());
            assert_eq!(got, want, "{stmt} vs {pkg}");
        }
    }

    #[test]
    fn versions_list_matches_exact_versions_only() {
        let mut p = product("pkg:npm/a");
        p.versions = vec![
            AffectedVersion {
                version: Some("1.0.0".into()),
                range: None,
                status: Some(VersionStatus::Unaffected),
            },
            AffectedVersion {
                version: None,
                range: Some("vers:npm/>=2.0.0|<3.0.0".into()),
                status: Some(VersionStatus::Unaffected),
            },
        ];
        assert!(p.matches(&Purl::parse("pkg:npm/a@1.0.0").unwrap()));
        // Ranges are not evaluated: never suppress on an unevaluated range.
        assert!(!p.matches(&Purl::parse("pkg:npm/a@2.5.0").unwrap()));
        assert!(!p.matches(&Purl::parse("pkg:npm/a").unwrap()));
    }

    #[test]
    fn product_without_purl_never_matches() {
        let p = Product {
            purl: None,
            reference: Some("product-ABC".into()),
            name: Some("ABC".into()),
            version: None,
            versions: vec![],
            within: None,
        };
        assert!(!p.matches(&Purl::parse("pkg:generic/ABC").unwrap()));
    }

    #[test]
    fn suppression_semantics() {
        assert!(Status::NotAffected.suppresses());
        assert!(Status::Fixed.suppresses());
        assert!(!Status::Affected.suppresses());
        assert!(!Status::UnderInvestigation.suppresses());
    }

    #[test]
    fn detection_and_bad_input() {
        let cases: [(&[u8], &str); 6] = [
            (b"", "invalid JSON"),
            (b"{not json", "invalid JSON"),
            (b"[1,2]", "not a VEX document"),
            (b"{\"foo\":1}", "not a VEX document"),
            (
                b"{\"bomFormat\":\"CycloneDX\",\"vulnerabilities\":5}",
                "invalid JSON",
            ),
            (b"{\"statements\":[{\"status\":\"weird\"}]}", "x.json"),
        ];
        for (input, want) in cases {
            let err = parse(input, "x.json").unwrap_err().to_string();
            assert!(err.contains(want), "{err:?} should contain {want:?}");
            assert!(err.starts_with("x.json"), "{err:?} should name the source");
        }
    }
}
