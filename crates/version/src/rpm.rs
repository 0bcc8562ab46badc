//! TODO(helper): rpm scheme. Placeholder so the workspace builds; replaced by the real parser.

use crate::{Scheme, VersionError};
use std::cmp::Ordering;

/// A parsed rpm version.
#[derive(Debug, Clone)]
pub struct RpmVersion {
    raw: String,
}

impl RpmVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        Err(VersionError::new(Scheme::Rpm, input, "not implemented yet"))
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl PartialEq for RpmVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for RpmVersion {}
impl PartialOrd for RpmVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for RpmVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.raw.cmp(&other.raw)
    }
}
