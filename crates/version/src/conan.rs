//! TODO(helper): conan scheme. Placeholder so the workspace builds; replaced by the real parser.

use crate::{Scheme, VersionError};
use std::cmp::Ordering;

/// A parsed conan version.
#[derive(Debug, Clone)]
pub struct ConanVersion {
    raw: String,
}

impl ConanVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        Err(VersionError::new(
            Scheme::Conan,
            input,
            "not implemented yet",
        ))
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl PartialEq for ConanVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for ConanVersion {}
impl PartialOrd for ConanVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ConanVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.raw.cmp(&other.raw)
    }
}
