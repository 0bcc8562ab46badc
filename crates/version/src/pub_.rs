//! Dart pub versions (`pub_semver`'s `Version.compareTo`).
//!
//! SemVer 2.0 syntax and precedence (see [`crate::SemVersion`], whose lenient parser is
//! shared), with one difference that matters for matching: pub orders build metadata.
//! After equal precedence, a version without build sorts before one with a build, and
//! builds compare like pre-releases (numbers numerically and before words, words in ASCII
//! order, shorter list first). So `1.0.0-pre < 1.0.0-pre+build < 1.0.0 < 1.0.0+build`.
//! Extra numeric components (`1.1.3.4.5`) are treated as leading build identifiers, as
//! osv-scalibr does.

use crate::semver::{cmp_precedence, parse_parts, Ident, SemverParts};
use crate::{Scheme, VersionError};
use std::cmp::Ordering;

/// A parsed Dart pub version.
#[derive(Debug, Clone)]
pub struct PubVersion {
    raw: String,
    parts: SemverParts,
}

impl PubVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let mut parts = parse_parts(input).map_err(|r| VersionError::new(Scheme::Pub, input, r))?;
        if !parts.extra.is_empty() {
            let mut build: Vec<Ident> = parts.extra.drain(..).map(Ident::Num).collect();
            build.extend(parts.build.iter().cloned());
            parts.build = build.into_boxed_slice();
        }
        Ok(PubVersion {
            raw: input.to_string(),
            parts,
        })
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
        cmp_precedence(&self.parts, &other.parts)
            .then_with(|| self.parts.build.cmp(&other.parts.build))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_is_ordered() {
        let v = [
            "1.0.0-pre",
            "1.0.0-pre+build",
            "1.0.0",
            "1.0.0+1",
            "1.0.0+a",
            "1.0.0+a1",
        ];
        for w in v.windows(2) {
            let a = PubVersion::parse(w[0]).unwrap();
            let b = PubVersion::parse(w[1]).unwrap();
            assert!(a < b, "{} < {}", w[0], w[1]);
        }
        assert!(PubVersion::parse("1.0.0+").is_err());
    }
}
