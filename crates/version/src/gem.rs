//! RubyGems `Gem::Version`.
//!
//! Syntax (`Gem::Version::ANCHORED_VERSION_PATTERN`): `N(.[0-9A-Za-z]+)*(-[0-9A-Za-z-]+(.[0-9A-Za-z-]+)*)?`
//! with surrounding whitespace allowed. `-` means `.pre.`. The string is scanned into
//! segments (runs of digits become numbers of any size, runs of letters stay strings),
//! and compared on the *canonical* segments: trailing zeros are dropped from the numeric
//! prefix and from the rest, so `1.0 = 1`, `1.0.a = 1.a`, `1.a.0 = 1.a`. Comparison pads
//! with 0; a string segment sorts before a number (letters mean pre-release, so
//! `1.0.a < 1.0`), strings compare byte-wise (case-sensitive), numbers numerically.
//!
//! Deviations: the empty string is rejected (Ruby reads it as `0`); letters may directly
//! follow the first number (`1beta`, which Ruby's pattern rejects but osv-scalibr's
//! RubyGems vectors use); it means the same as `1.beta`.

use crate::semver::Num;
use crate::{Scheme, VersionError};
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Num(Num),
    Str(Box<str>),
}

const ZERO: Seg = Seg::Num(Num::Small(0));

fn cmp_seg(a: &Seg, b: &Seg) -> Ordering {
    match (a, b) {
        (Seg::Num(x), Seg::Num(y)) => x.cmp(y),
        (Seg::Str(_), Seg::Num(_)) => Ordering::Less,
        (Seg::Num(_), Seg::Str(_)) => Ordering::Greater,
        (Seg::Str(x), Seg::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
    }
}

fn valid(s: &str) -> bool {
    let (main, pre) = match s.find('-') {
        Some(p) => (&s[..p], Some(&s[p + 1..])),
        None => (s, None),
    };
    let mut parts = main.split('.');
    let first_ok = parts.next().is_some_and(|f| {
        f.bytes().next().is_some_and(|b| b.is_ascii_digit())
            && f.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    let rest_ok = parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    let pre_ok = pre.is_none_or(|p| {
        p.split('.')
            .all(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    });
    first_ok && rest_ok && pre_ok
}

/// A parsed RubyGems version.
#[derive(Debug, Clone)]
pub struct GemVersion {
    raw: String,
    canonical: Box<[Seg]>,
}

impl GemVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let s = input.trim_matches(|c: char| c.is_ascii_whitespace());
        if s.is_empty() {
            return Err(VersionError::new(Scheme::Gem, input, "empty version"));
        }
        if !valid(s) {
            return Err(VersionError::new(
                Scheme::Gem,
                input,
                "does not match Gem::Version's pattern",
            ));
        }
        // `-` is `.pre.`; scanning /[0-9]+|[a-z]+/i over that string.
        let mut segs = Vec::new();
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b.is_ascii_digit() {
                let st = i;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                segs.push(Seg::Num(Num::from_digits(&s[st..i])));
            } else if b.is_ascii_alphabetic() {
                let st = i;
                while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                    i += 1;
                }
                segs.push(Seg::Str(s[st..i].into()));
            } else {
                if b == b'-' {
                    segs.push(Seg::Str("pre".into()));
                }
                i += 1;
            }
        }
        // canonical_segments: split at the first string, drop trailing zeros of each half.
        let split = segs
            .iter()
            .position(|x| matches!(x, Seg::Str(_)))
            .unwrap_or(segs.len());
        let mut strings = segs.split_off(split);
        while segs.last() == Some(&ZERO) {
            segs.pop();
        }
        while strings.last() == Some(&ZERO) {
            strings.pop();
        }
        segs.extend(strings);
        Ok(GemVersion {
            raw: input.to_string(),
            canonical: segs.into_boxed_slice(),
        })
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
    /// True when the version contains a letter (RubyGems' definition of pre-release).
    pub fn is_prerelease(&self) -> bool {
        self.canonical.iter().any(|s| matches!(s, Seg::Str(_)))
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
        let (a, b) = (&self.canonical, &other.canonical);
        for i in 0..a.len().max(b.len()) {
            let ord = cmp_seg(a.get(i).unwrap_or(&ZERO), b.get(i).unwrap_or(&ZERO));
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn c(a: &str, b: &str) -> Ordering {
        GemVersion::parse(a)
            .unwrap()
            .cmp(&GemVersion::parse(b).unwrap())
    }

    #[test]
    fn table() {
        for (a, b, want) in [
            ("1.0", "1", Equal),
            ("1.0.a", "1.a", Equal),
            ("1.a.0", "1.a", Equal),
            ("1.0.a2", "1.0.a.2", Equal),
            ("1.0.b1", "1.0", Less),
            ("1.0.a10", "1.0.a9", Greater),
            ("1.0-1", "1.0.pre.1", Equal),
            ("1.0-1", "1.0", Less),
            ("3.10", "3.2", Greater),
            ("1.0.A", "1.0.a", Less),
            (" 1.2 ", "1.2", Equal),
        ] {
            assert_eq!(c(a, b), want, "{a} vs {b}");
        }
    }

    #[test]
    fn rejects() {
        for bad in ["", "a", "1..2", "1.2-", "1.2.", "1_2", "1.2 3", "-1", "b1"] {
            assert!(GemVersion::parse(bad).is_err(), "{bad}");
        }
    }
}
