//! Package URLs: `pkg:type/namespace/name@version?qualifiers#subpath`.
//!
//! TODO(helper): full parser and canonical formatter, per-type normalization rules,
//! checked against every vector in ../shared/data/vectors/purl-spec.

use std::collections::BTreeMap;
use std::fmt;

/// A purl that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid purl {input:?}: {reason}")]
pub struct PurlError {
    pub input: String,
    pub reason: String,
}

/// A parsed, normalized package URL. Components are stored decoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Purl {
    pub ty: String,
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub qualifiers: BTreeMap<String, String>,
    pub subpath: Option<String>,
}

impl Purl {
    pub fn parse(input: &str) -> Result<Purl, PurlError> {
        Err(PurlError {
            input: input.to_string(),
            reason: "not implemented yet".into(),
        })
    }
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pkg:{}/{}", self.ty, self.name)
    }
}
