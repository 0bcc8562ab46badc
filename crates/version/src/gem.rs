//! TODO(helper): gem scheme. Placeholder so the workspace builds; replaced by the real parser.

use crate::{Scheme, VersionError};
use std::cmp::Ordering;

/// A parsed gem version.
#[derive(Debug, Clone)]
pub struct GemVersion {
    raw: String,
}

impl GemVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        Err(VersionError::new(Scheme::Gem, input, "not implemented yet"))
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl PartialEq for GemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for GemVersion {}
impl PartialOrd for GemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for GemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.raw.cmp(&other.raw)
    }
}
