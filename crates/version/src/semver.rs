//! SemVer 2.0 precedence, as used by crates.io, npm (node-semver) and Go modules.
//!
//! Order: `major.minor.patch` numerically, then a version with a pre-release sorts before
//! the same version without one, then pre-release identifiers left to right (numeric ones
//! numerically and before alphanumeric ones, alphanumeric ones in ASCII order, a shorter
//! list first when it is a prefix). Build metadata (`+...`, including Go's `+incompatible`)
//! is ignored, so `1.0.0+a` and `1.0.0+b` compare Equal.
//!
//! Numbers have no size limit (`999999999999999999999999999991` parses and compares
//! exactly): [`Num`] keeps a `u64` when it fits and the digit string otherwise.
//!
//! Leniency, chosen so that real advisory data and the reference vectors parse (the
//! osv-scalibr vectors and node-semver's `loose` fixtures), while ordering stays SemVer's:
//! - surrounding whitespace is trimmed and a leading run of `v`, `=` and blanks is dropped
//!   (node-semver loose: `v1.2.3`, `=1.2.3`, ` v 1.2.3`; Go: `v1.2.3`);
//! - partial versions `1` and `1.2` mean `1.0.0` and `1.2.0` (Go's shorthand; osv-scalibr);
//! - more than three numeric components (`1.1.3.4.5`) are accepted and the extra ones are
//!   treated like build metadata (osv-scalibr's rule), i.e. ignored for precedence;
//! - leading zeros in numbers are accepted and compare by value (node-semver loose);
//! - a pre-release may follow the numbers without `-` (`1.2.3beta`, node-semver loose).
//!
//! Rejected: empty input, no leading number, empty identifiers (`1.2.3-`, `1.2.3-a..b`),
//! characters outside `[0-9A-Za-z-]` in pre-release or build identifiers.

use crate::{Scheme, VersionError};
use std::cmp::Ordering;

/// A non-negative integer of any size. `Small` when it fits in `u64`, otherwise the
/// decimal digits without leading zeros (so always greater than any `Small`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Num {
    Small(u64),
    Big(Box<str>),
}

impl Num {
    /// Parse ASCII digits (caller guarantees non-empty and all digits).
    pub(crate) fn from_digits(digits: &str) -> Num {
        let trimmed = digits.trim_start_matches('0');
        if trimmed.len() <= 19 {
            if let Ok(v) = trimmed.parse::<u64>() {
                return Num::Small(v);
            }
            if trimmed.is_empty() {
                return Num::Small(0);
            }
        }
        Num::Big(trimmed.into())
    }

    pub(crate) fn is_zero(&self) -> bool {
        matches!(self, Num::Small(0))
    }
}

impl Ord for Num {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Num::Small(a), Num::Small(b)) => a.cmp(b),
            (Num::Small(_), Num::Big(_)) => Ordering::Less,
            (Num::Big(_), Num::Small(_)) => Ordering::Greater,
            (Num::Big(a), Num::Big(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
        }
    }
}

impl PartialOrd for Num {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Num::Small(v) => write!(f, "{v}"),
            Num::Big(s) => f.write_str(s),
        }
    }
}

/// Compare two non-empty ASCII digit strings by numeric value, without allocating.
pub(crate) fn cmp_digit_strs(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// A pre-release or build identifier. Numeric identifiers sort before alphanumeric ones
/// (the derived order relies on the variant order).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Ident {
    Num(Num),
    Alpha(Box<str>),
}

/// The lenient SemVer-like syntax shared by SemVer, Dart pub and OpenSSL 3+.
#[derive(Debug, Clone)]
pub(crate) struct SemverParts {
    pub major: Num,
    pub minor: Num,
    pub patch: Num,
    /// Numeric components after the third (`1.1.3.4.5` -> `[4, 5]`).
    pub extra: Vec<Num>,
    pub pre: Box<[Ident]>,
    pub build: Box<[Ident]>,
}

fn parse_idents(s: &str, what: &str) -> Result<Box<[Ident]>, String> {
    let mut out = Vec::new();
    for part in s.split('.') {
        if part.is_empty() {
            return Err(format!("empty {what} identifier"));
        }
        if let Some(c) = part
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(format!("invalid character {c:?} in {what} identifier"));
        }
        if part.bytes().all(|b| b.is_ascii_digit()) {
            out.push(Ident::Num(Num::from_digits(part)));
        } else {
            out.push(Ident::Alpha(part.into()));
        }
    }
    Ok(out.into_boxed_slice())
}

/// Parse the lenient SemVer syntax described in the module docs.
pub(crate) fn parse_parts(input: &str) -> Result<SemverParts, String> {
    let s = input
        .trim()
        .trim_start_matches(|c: char| c == 'v' || c == '=' || c.is_whitespace());
    if s.is_empty() {
        return Err("empty version".into());
    }
    let bytes = s.as_bytes();
    let mut nums: Vec<Num> = Vec::with_capacity(3);
    let mut i = 0;
    loop {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(if nums.is_empty() {
                "expected a number at the start".into()
            } else {
                "expected a number after '.'".into()
            });
        }
        nums.push(Num::from_digits(&s[start..i]));
        if i < bytes.len() && bytes[i] == b'.' {
            i += 1;
            continue;
        }
        break;
    }
    let rest = &s[i..];
    let (pre_str, build_str) = match rest.find('+') {
        Some(p) => (&rest[..p], Some(&rest[p + 1..])),
        None => (rest, None),
    };
    let pre = if pre_str.is_empty() {
        Box::default()
    } else if let Some(p) = pre_str.strip_prefix('-') {
        parse_idents(p, "pre-release")?
    } else if pre_str.as_bytes()[0].is_ascii_alphabetic() {
        parse_idents(pre_str, "pre-release")?
    } else {
        let c = pre_str.chars().next().unwrap_or(' ');
        return Err(format!(
            "unexpected character {c:?} after the version numbers"
        ));
    };
    let build = match build_str {
        Some(b) => parse_idents(b, "build")?,
        None => Box::default(),
    };
    let mut it = nums.into_iter();
    let major = it.next().unwrap_or(Num::Small(0));
    let minor = it.next().unwrap_or(Num::Small(0));
    let patch = it.next().unwrap_or(Num::Small(0));
    Ok(SemverParts {
        major,
        minor,
        patch,
        extra: it.collect(),
        pre,
        build,
    })
}

/// SemVer precedence of two parsed versions (build metadata and extra components ignored).
pub(crate) fn cmp_precedence(a: &SemverParts, b: &SemverParts) -> Ordering {
    a.major
        .cmp(&b.major)
        .then_with(|| a.minor.cmp(&b.minor))
        .then_with(|| a.patch.cmp(&b.patch))
        .then_with(|| match (a.pre.is_empty(), b.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => a.pre.cmp(&b.pre),
        })
}

/// A parsed SemVer version (crates.io, npm, Go, Hex).
#[derive(Debug, Clone)]
pub struct SemVersion {
    raw: String,
    parts: SemverParts,
}

impl SemVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let parts = parse_parts(input)
            .map_err(|reason| VersionError::new(Scheme::Semver, input, reason))?;
        Ok(SemVersion {
            raw: input.to_string(),
            parts,
        })
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
    /// True when the version has a pre-release part (`1.0.0-rc.1`).
    pub fn is_prerelease(&self) -> bool {
        !self.parts.pre.is_empty()
    }
}

impl PartialEq for SemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for SemVersion {}
impl PartialOrd for SemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for SemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_precedence(&self.parts, &other.parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn c(a: &str, b: &str) -> Ordering {
        SemVersion::parse(a)
            .unwrap()
            .cmp(&SemVersion::parse(b).unwrap())
    }

    #[test]
    fn spec_examples_in_order() {
        let v = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2.0.0",
            "2.1.0",
            "2.1.1",
        ];
        for w in v.windows(2) {
            assert_eq!(c(w[0], w[1]), Less, "{} < {}", w[0], w[1]);
            assert_eq!(c(w[1], w[0]), Greater);
        }
    }

    #[test]
    fn build_metadata_and_go_forms() {
        let cases = [
            ("1.0.0+a", "1.0.0+b", Equal),
            ("v1.2.3", "1.2.3", Equal),
            ("v2.0.0+incompatible", "2.0.0", Equal),
            ("0.0.0-0", "0.0.0", Less),
            (
                "v0.0.0-20210101000000-abcdef123456",
                "v0.0.0-20220101000000-abcdef123456",
                Less,
            ),
            ("1.2", "1.2.0", Equal),
            ("1", "1.0.0", Equal),
            ("1.1.3.4.5", "1.1.3", Equal),
            (
                "18446744073709551616.0.0",
                "18446744073709551615.0.0",
                Greater,
            ),
            ("1.2.3-01", "1.2.3-1", Equal),
            ("1.2.3beta", "1.2.3-beta", Equal),
        ];
        for (a, b, want) in cases {
            assert_eq!(c(a, b), want, "{a} vs {b}");
        }
    }

    #[test]
    fn rejects_garbage_with_reason() {
        for bad in [
            "",
            "  ",
            "v",
            "x1.2.3",
            "1.",
            "1.2.3-",
            "1.2.3-a..b",
            "1.2.3+",
            "1.2.3-a_b",
            "1.2.3 4",
        ] {
            let e = SemVersion::parse(bad).expect_err(bad);
            assert_eq!(e.scheme, Scheme::Semver);
            assert!(!e.reason.is_empty());
        }
    }

    #[test]
    fn num_order_is_numeric() {
        assert!(Num::from_digits("0009") < Num::from_digits("10"));
        assert!(
            Num::from_digits("99999999999999999999") > Num::from_digits("18446744073709551615")
        );
        assert_eq!(Num::from_digits("000"), Num::Small(0));
        assert_eq!(cmp_digit_strs("010", "10"), Equal);
    }
}
