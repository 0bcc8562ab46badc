//! TODO(helper): deb scheme. Placeholder so the workspace builds; replaced by the real parser.

use crate::{Scheme, VersionError};
use std::cmp::Ordering;

/// A parsed deb version.
#[derive(Debug, Clone)]
pub struct DebVersion {
    raw: String,
}

impl DebVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        Err(VersionError::new(Scheme::Deb, input, "not implemented yet"))
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl PartialEq for DebVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for DebVersion {}
impl PartialOrd for DebVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for DebVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.raw.cmp(&other.raw)
    }
}
