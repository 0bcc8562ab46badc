//! TODO(helper): apk scheme. Placeholder so the workspace builds; replaced by the real parser.

use crate::{Scheme, VersionError};
use std::cmp::Ordering;

/// A parsed apk version.
#[derive(Debug, Clone)]
pub struct ApkVersion {
    raw: String,
}

impl ApkVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        Err(VersionError::new(Scheme::Apk, input, "not implemented yet"))
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl PartialEq for ApkVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for ApkVersion {}
impl PartialOrd for ApkVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ApkVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.raw.cmp(&other.raw)
    }
}
