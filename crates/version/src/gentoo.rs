//! TODO(helper): gentoo scheme. Placeholder so the workspace builds; replaced by the real parser.

use crate::{Scheme, VersionError};
use std::cmp::Ordering;

/// A parsed gentoo version.
#[derive(Debug, Clone)]
pub struct GentooVersion {
    raw: String,
}

impl GentooVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        Err(VersionError::new(
            Scheme::Gentoo,
            input,
            "not implemented yet",
        ))
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl PartialEq for GentooVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for GentooVersion {}
impl PartialOrd for GentooVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for GentooVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.raw.cmp(&other.raw)
    }
}
