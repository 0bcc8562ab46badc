//! RPM versions: `[epoch:]version[-release]`, ordered exactly as rpm 4.18's `rpmverCmp`
//! (rpmio/rpmver.c, what Lua `rpm.vercmp` and `rpmdev-vercmp` use) on top of `rpmvercmp`
//! (rpmio/rpmvercmp.c).
//!
//! * Splitting (`parseEVR`): the epoch is the leading run of ASCII digits when a `:` follows it
//!   (an empty epoch reads as `0`; no epoch compares as `0`); the release is what follows the
//!   last `-` after that; the version is in between.
//! * Order: epoch, then version, then release. A missing release sorts *before* any release,
//!   even an empty one (`1.0` < `1.0-` < `1.0-0`), as `rpmverCmp`'s `compare_values` does.
//! * `rpmvercmp` splits into maximal ASCII digit or letter runs; everything else separates
//!   (and separators never matter, `1.0` == `1_0`). `~` sorts before anything including the
//!   end, `^` sorts after the end but before anything else; a digit run beats a letter run;
//!   digit runs compare as numbers of any length (leading zeros dropped, then length, then
//!   digits), letter runs bytewise.
//!
//! rpm accepts any non-empty string; we reject only the empty string and strings with
//! whitespace or control characters, which cannot be in an RPM EVR. Comparison is done in
//! place on the stored string and never allocates.

use crate::{Scheme, VersionError};
use std::cmp::Ordering;
use std::ops::Range;

/// A parsed RPM `[epoch:]version[-release]`.
#[derive(Debug, Clone)]
pub struct RpmVersion {
    raw: String,
    epoch: Option<Range<usize>>,
    version: Range<usize>,
    release: Option<Range<usize>>,
}

impl RpmVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        validate_evr_chars(Scheme::Rpm, input)?;
        let (epoch, version, release) = split_evr(input);
        Ok(RpmVersion {
            raw: input.to_string(),
            epoch,
            version,
            release,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The epoch as written (`None` when absent; an empty epoch `:1.0` reads as `"0"`).
    pub fn epoch(&self) -> Option<&str> {
        self.epoch
            .clone()
            .map(|r| if r.is_empty() { "0" } else { &self.raw[r] })
    }

    /// The version part.
    pub fn version(&self) -> &str {
        &self.raw[self.version.clone()]
    }

    /// The release part, `None` when there is no `-`.
    pub fn release(&self) -> Option<&str> {
        self.release.clone().map(|r| &self.raw[r])
    }

    fn epoch_bytes(&self) -> &[u8] {
        match &self.epoch {
            Some(r) if !r.is_empty() => &self.raw.as_bytes()[r.clone()],
            _ => b"0",
        }
    }
}

/// Shared by rpm and alpm: non-empty, no whitespace, no control characters.
pub(crate) fn validate_evr_chars(scheme: Scheme, input: &str) -> Result<(), VersionError> {
    if input.is_empty() {
        return Err(VersionError::new(scheme, input, "version string is empty"));
    }
    if let Some(c) = input.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(VersionError::new(
            scheme,
            input,
            format!("whitespace or control character {c:?} in version"),
        ));
    }
    Ok(())
}

/// rpm's (and pacman's) `parseEVR`: epoch range when `digits*:` leads, version range, and
/// release range after the last `-` that follows the epoch digits.
pub(crate) fn split_evr(s: &str) -> (Option<Range<usize>>, Range<usize>, Option<Range<usize>>) {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let dash = s[digits..].rfind('-').map(|d| d + digits);
    let (epoch, vstart) = if s.as_bytes().get(digits) == Some(&b':') {
        (Some(0..digits), digits + 1)
    } else {
        (None, 0)
    };
    match dash {
        Some(d) => (epoch, vstart..d, Some(d + 1..s.len())),
        None => (epoch, vstart..s.len(), None),
    }
}

/// rpm's `rpmvercmp` (with `~` and `^`) over byte slices.
pub(crate) fn rpmvercmp(a: &[u8], b: &[u8]) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    let (mut i, mut j) = (0usize, 0usize);
    while i < a.len() || j < b.len() {
        while i < a.len() && sep(a[i]) {
            i += 1;
        }
        while j < b.len() && sep(b[j]) {
            j += 1;
        }
        let ca = a.get(i).copied();
        let cb = b.get(j).copied();
        // Tilde sorts before everything else, even the end.
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        // Caret sorts after the end of the other string but before anything else.
        if ca == Some(b'^') || cb == Some(b'^') {
            if ca.is_none() {
                return Ordering::Less;
            }
            if cb.is_none() {
                return Ordering::Greater;
            }
            if ca != Some(b'^') {
                return Ordering::Greater;
            }
            if cb != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if i >= a.len() || j >= b.len() {
            break;
        }
        let (s1, s2) = (i, j);
        let isnum = a[i].is_ascii_digit();
        if isnum {
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
        } else {
            while i < a.len() && a[i].is_ascii_alphabetic() {
                i += 1;
            }
            while j < b.len() && b[j].is_ascii_alphabetic() {
                j += 1;
            }
        }
        // Segments of different types: numeric beats alpha.
        if j == s2 {
            return if isnum {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (x, y) = (&a[s1..i], &b[s2..j]);
        let ord = if isnum {
            cmp_digit_runs(x, y)
        } else {
            x.cmp(y)
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

/// Two runs of ASCII digits as unbounded numbers: drop leading zeros, longer wins, then
/// bytewise.
#[inline]
pub(crate) fn cmp_digit_runs(x: &[u8], y: &[u8]) -> Ordering {
    let x = strip_leading_zeros(x);
    let y = strip_leading_zeros(y);
    x.len().cmp(&y.len()).then_with(|| x.cmp(y))
}

#[inline]
pub(crate) fn strip_leading_zeros(x: &[u8]) -> &[u8] {
    let z = x.iter().take_while(|&&c| c == b'0').count();
    &x[z..]
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
        let (a, b) = (self.raw.as_bytes(), other.raw.as_bytes());
        rpmvercmp(self.epoch_bytes(), other.epoch_bytes())
            .then_with(|| rpmvercmp(&a[self.version.clone()], &b[other.version.clone()]))
            .then_with(|| match (&self.release, &other.release) {
                (None, None) => Ordering::Equal,
                (Some(_), None) => Ordering::Greater,
                (None, Some(_)) => Ordering::Less,
                (Some(x), Some(y)) => rpmvercmp(&a[x.clone()], &b[y.clone()]),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        RpmVersion::parse(a)
            .unwrap()
            .cmp(&RpmVersion::parse(b).unwrap())
    }

    #[test]
    fn split() {
        let v = RpmVersion::parse("3:10.3.39-1.module_el8.8.0+3609+204d4ab0").unwrap();
        assert_eq!(v.epoch(), Some("3"));
        assert_eq!(v.version(), "10.3.39");
        assert_eq!(v.release(), Some("1.module_el8.8.0+3609+204d4ab0"));
        let v = RpmVersion::parse("a:1-2-3").unwrap();
        assert_eq!(
            (v.epoch(), v.version(), v.release()),
            (None, "a:1-2", Some("3"))
        );
        let v = RpmVersion::parse(":1.0").unwrap();
        assert_eq!(
            (v.epoch(), v.version(), v.release()),
            (Some("0"), "1.0", None)
        );
    }

    #[test]
    fn ordering_table() {
        use Ordering::*;
        for (a, b, want) in [
            ("1.0", "0:1.0", Equal),
            ("1:1.0", "2.0", Greater),
            ("1.0", "1.0-1", Less),
            ("1.0", "1.0-", Less),
            ("1.0-", "1.0-0", Less),
            ("1.0~rc1", "1.0", Less),
            ("1.0^post1", "1.0", Greater),
            ("1.0^post1", "1.0.1", Less),
            ("1.0", "1_0", Equal),
            ("1a", "1.1", Less),
            ("10.0001", "10.1", Equal),
            (
                "2.0.99999999999999999999999",
                "2.0.99999999999999999999998",
                Greater,
            ),
        ] {
            assert_eq!(cmp(a, b), want, "{a} vs {b}");
            assert_eq!(cmp(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn rejects() {
        for bad in ["", "1.0 1", "1.0\n", "\t"] {
            assert!(RpmVersion::parse(bad).is_err(), "{bad:?}");
        }
    }
}
