//! R package versions (`package_version` / `numeric_version`).
//!
//! A version is a sequence of non-negative integers separated by `.` or `-` (both weigh
//! the same). Comparison is numeric, component by component; when one is a prefix of the
//! other the longer one is greater (`0.1.0 < 0.1.0.0`), and leading zeros do not matter
//! (`0.01.0 = 0.1-0`). R requires two components for a *package* version; a single
//! number is accepted here (as `numeric_version` does) so that bounds like `1` parse.

use crate::semver::Num;
use crate::{Scheme, VersionError};
use std::cmp::Ordering;

/// A parsed CRAN version.
#[derive(Debug, Clone)]
pub struct CranVersion {
    raw: String,
    parts: Box<[Num]>,
}

impl CranVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(VersionError::new(Scheme::Cran, input, "empty version"));
        }
        let mut parts = Vec::new();
        for p in s.split(['.', '-']) {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(VersionError::new(
                    Scheme::Cran,
                    input,
                    format!("component {p:?} is not a non-negative integer"),
                ));
            }
            parts.push(Num::from_digits(p));
        }
        Ok(CranVersion {
            raw: input.to_string(),
            parts: parts.into_boxed_slice(),
        })
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
        self.parts.cmp(&other.parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let p = |s| CranVersion::parse(s).unwrap();
        assert_eq!(p("0.01.0"), p("0.1-0"));
        assert!(p("0.1.0") < p("0.1.0.0"));
        assert!(p("0.9") < p("0.75"));
        for bad in ["", "1.a", "1..2", "1.", "-1"] {
            assert!(CranVersion::parse(bad).is_err(), "{bad}");
        }
    }
}
