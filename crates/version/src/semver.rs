//! TODO(helper): semver scheme. Placeholder so the workspace builds; replaced by the real parser.

use crate::{Scheme, VersionError};
use std::cmp::Ordering;

/// A parsed semver version.
#[derive(Debug, Clone)]
pub struct SemVersion {
    raw: String,
}

impl SemVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        Err(VersionError::new(
            Scheme::Semver,
            input,
            "not implemented yet",
        ))
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl PartialEq for SemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for SemVersion {}
impl PartialOrd for SemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for SemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.raw.cmp(&other.raw)
    }
}
