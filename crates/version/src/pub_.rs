//! TODO(helper): pub_ scheme. Placeholder so the workspace builds; replaced by the real parser.

use crate::{Scheme, VersionError};
use std::cmp::Ordering;

/// A parsed pub_ version.
#[derive(Debug, Clone)]
pub struct PubVersion {
    raw: String,
}

impl PubVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        Err(VersionError::new(Scheme::Pub, input, "not implemented yet"))
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl PartialEq for PubVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for PubVersion {}
impl PartialOrd for PubVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for PubVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.raw.cmp(&other.raw)
    }
}
