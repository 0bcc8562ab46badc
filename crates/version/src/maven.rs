//! TODO(helper): maven scheme. Placeholder so the workspace builds; replaced by the real parser.

use crate::{Scheme, VersionError};
use std::cmp::Ordering;

/// A parsed maven version.
#[derive(Debug, Clone)]
pub struct MavenVersion {
    raw: String,
}

impl MavenVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        Err(VersionError::new(
            Scheme::Maven,
            input,
            "not implemented yet",
        ))
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for MavenVersion {}
impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.raw.cmp(&other.raw)
    }
}
