//! TODO(helper): cran scheme. Placeholder so the workspace builds; replaced by the real parser.

use crate::{Scheme, VersionError};
use std::cmp::Ordering;

/// A parsed cran version.
#[derive(Debug, Clone)]
pub struct CranVersion {
    raw: String,
}

impl CranVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        Err(VersionError::new(
            Scheme::Cran,
            input,
            "not implemented yet",
        ))
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl PartialEq for CranVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for CranVersion {}
impl PartialOrd for CranVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for CranVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.raw.cmp(&other.raw)
    }
}
