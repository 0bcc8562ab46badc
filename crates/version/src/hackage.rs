//! Haskell Hackage versions (`Data.Version`'s numeric branch, as Cabal orders them).
//!
//! Non-negative integers separated by `.`, compared as lists: numerically component by
//! component, and a proper prefix sorts first (`1.0 < 1.0.0`). The deprecated tags
//! (`1.0-foo`) are rejected, as Cabal rejects them.

use crate::semver::Num;
use crate::{Scheme, VersionError};
use std::cmp::Ordering;

/// A parsed Hackage version.
#[derive(Debug, Clone)]
pub struct HackageVersion {
    raw: String,
    parts: Box<[Num]>,
}

impl HackageVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(VersionError::new(Scheme::Hackage, input, "empty version"));
        }
        let mut parts = Vec::new();
        for p in s.split('.') {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(VersionError::new(
                    Scheme::Hackage,
                    input,
                    format!("component {p:?} is not a non-negative integer"),
                ));
            }
            parts.push(Num::from_digits(p));
        }
        Ok(HackageVersion {
            raw: input.to_string(),
            parts: parts.into_boxed_slice(),
        })
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl PartialEq for HackageVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for HackageVersion {}
impl PartialOrd for HackageVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for HackageVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts.cmp(&other.parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let p = |s| HackageVersion::parse(s).unwrap();
        assert!(p("1.0") < p("1.0.0"));
        assert!(p("0.11.3.0") < p("1.0"));
        assert_eq!(p("01.2"), p("1.2"));
        for bad in ["", "1.0-foo", "1..2", "v1"] {
            assert!(HackageVersion::parse(bad).is_err(), "{bad}");
        }
    }
}
