//! Software bills of materials.
//!
//! Besides packages, an SBOM can say things about its subject, the asset it describes:
//! [`labels`] reads name/value labels in one namespace from the places each format keeps
//! them for the whole document. What the labels mean is the caller's business (Patchpilot
//! reads `patchpilot:asset:*` into asset context; see `patchpilot-risk`).
//!
//! - **CycloneDX** (JSON and XML): `metadata.properties` (about the BOM) and
//!   `metadata.component.properties` (about its subject), document first. Properties are
//!   CycloneDX's own extension point, and names may repeat.
//! - **SPDX 2.2/2.3** (JSON): SPDX 2 has no name/value properties; its extension point is
//!   the annotation. Each line of an annotation `comment` that starts with the namespace is
//!   one `NAME=VALUE` label, read from the document's `annotations` and from those of the
//!   package(s) the document DESCRIBES. (SPDX 3, which this crate does not read yet, has
//!   `CdxPropertiesExtension` for CycloneDX-style properties: the natural carrier there.)

pub mod cyclonedx;
pub mod spdx;

use crate::{Format, ParseError};

/// The labels whose names start with `prefix` (ignoring ASCII case) that a document of
/// `format` attaches to itself or its subject, as `(name, value)` in document order; a
/// property without a value reads as an empty value. Formats that cannot carry labels
/// give none.
pub fn labels(
    format: Format,
    data: &[u8],
    prefix: &str,
) -> Result<Vec<(String, String)>, ParseError> {
    match format {
        Format::CycloneDxJson => cyclonedx::labels_json(data, prefix),
        Format::CycloneDxXml => cyclonedx::labels_xml(data, prefix),
        Format::SpdxJson => spdx::labels_json(data, prefix),
        _ => Ok(Vec::new()),
    }
}

/// Whether `name` starts with `prefix`, ignoring ASCII case.
pub(crate) fn in_namespace(name: &str, prefix: &str) -> bool {
    name.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}
