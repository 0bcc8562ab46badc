//! Arch Linux pacman versions: `[epoch:]pkgver[-pkgrel]`, ordered exactly as libalpm's
//! `alpm_pkg_vercmp` (lib/libalpm/version.c).
//!
//! pacman took `parseEVR` and `rpmvercmp` from rpm 4.8 and changed them, so this is *not*
//! the rpm scheme:
//! * a missing epoch is `0`, and the release is compared only when *both* sides have one, so
//!   `1.5` == `1.5-1` and `1.5` == `1.5-2` while `1.5-1` < `1.5-2`. That equality is not
//!   transitive (it is pacman's rule, checked by the vectors): avoid sorting a mix of
//!   versions with and without pkgrel, which real packages always have;
//! * no `~`/`^` handling; separators are skipped, but when both sides still have a segment,
//!   the side with the *shorter* run of separators is older (`1.0` < `1..0`);
//! * at the end, a remaining letter segment is older than nothing (`1.0a` < `1.0`), any
//!   other remainder is newer (`1.0.a` > `1.0`, `1.0.1` > `1.0`).
//!
//! Validation is the same as rpm's (non-empty, no whitespace or control characters).
//! Comparison works in place and never allocates.

use crate::rpm::{cmp_digit_runs, split_evr, validate_evr_chars};
use crate::{Scheme, VersionError};
use std::cmp::Ordering;
use std::ops::Range;

/// A parsed pacman version.
#[derive(Debug, Clone)]
pub struct AlpmVersion {
    raw: String,
    epoch: Option<Range<usize>>,
    version: Range<usize>,
    release: Option<Range<usize>>,
}

impl AlpmVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        validate_evr_chars(Scheme::Alpm, input)?;
        let (epoch, version, release) = split_evr(input);
        Ok(AlpmVersion {
            raw: input.to_string(),
            epoch,
            version,
            release,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The pkgver part.
    pub fn version(&self) -> &str {
        &self.raw[self.version.clone()]
    }

    /// The pkgrel part, `None` when there is no `-`.
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

/// libalpm's `rpmvercmp` over byte slices.
fn alpm_rpmvercmp(a: &[u8], b: &[u8]) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let at = |s: &[u8], k: usize| s.get(k).copied().unwrap_or(0);
    // one/two: cursors; p1/p2: end of the previous segment (start of the separators).
    let (mut one, mut two) = (0usize, 0usize);
    let (mut p1, mut p2) = (0usize, 0usize);
    while one < a.len() && two < b.len() {
        while one < a.len() && !a[one].is_ascii_alphanumeric() {
            one += 1;
        }
        while two < b.len() && !b[two].is_ascii_alphanumeric() {
            two += 1;
        }
        if one >= a.len() || two >= b.len() {
            break;
        }
        // Different separator lengths decide.
        if one - p1 != two - p2 {
            return (one - p1).cmp(&(two - p2));
        }
        p1 = one;
        p2 = two;
        let isnum = a[p1].is_ascii_digit();
        if isnum {
            while p1 < a.len() && a[p1].is_ascii_digit() {
                p1 += 1;
            }
            while p2 < b.len() && b[p2].is_ascii_digit() {
                p2 += 1;
            }
        } else {
            while p1 < a.len() && a[p1].is_ascii_alphabetic() {
                p1 += 1;
            }
            while p2 < b.len() && b[p2].is_ascii_alphabetic() {
                p2 += 1;
            }
        }
        if two == p2 {
            return if isnum {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (x, y) = (&a[one..p1], &b[two..p2]);
        let ord = if isnum {
            cmp_digit_runs(x, y)
        } else {
            x.cmp(y)
        };
        if ord != Ordering::Equal {
            return ord;
        }
        one = p1;
        two = p2;
    }
    let (c1, c2) = (at(a, one), at(b, two));
    if c1 == 0 && c2 == 0 {
        return Ordering::Equal;
    }
    // A remaining alpha segment never beats the end; anything else does.
    if (c1 == 0 && !c2.is_ascii_alphabetic()) || c1.is_ascii_alphabetic() {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}

impl PartialEq for AlpmVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for AlpmVersion {}
impl PartialOrd for AlpmVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for AlpmVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.raw.as_bytes(), other.raw.as_bytes());
        if a == b {
            return Ordering::Equal;
        }
        alpm_rpmvercmp(self.epoch_bytes(), other.epoch_bytes())
            .then_with(|| alpm_rpmvercmp(&a[self.version.clone()], &b[other.version.clone()]))
            .then_with(|| match (&self.release, &other.release) {
                (Some(x), Some(y)) => alpm_rpmvercmp(&a[x.clone()], &b[y.clone()]),
                _ => Ordering::Equal,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        AlpmVersion::parse(a)
            .unwrap()
            .cmp(&AlpmVersion::parse(b).unwrap())
    }

    #[test]
    fn ordering_table() {
        use Ordering::*;
        // Rows from pacman's test/util/vercmptest.sh.
        for (a, b, want) in [
            ("1.5.0", "1.5.0", Equal),
            ("1.5.1", "1.5.0", Greater),
            ("1.5.1", "1.5", Greater),
            ("1.5.0-1", "1.5.0-1", Equal),
            ("1.5.0-1", "1.5.0-2", Less),
            ("1.5", "1.5-1", Equal),
            ("1.5-1", "1.5", Equal),
            ("1.1-1", "1.1", Equal),
            ("1.0-1", "1.1", Less),
            ("1.5b-1", "1.5-1", Less),
            ("1.5b", "1.5", Less),
            ("1.5b", "1.5.1", Less),
            ("1.0a", "1.0alpha", Less),
            ("1.0rc", "1.0", Less),
            ("1.0", "1.0.a", Less),
            ("1.0.a", "1.0.1", Less),
            ("1.0", "1.0..0", Less),
            ("1.0.0", "1..0.0", Less),
            ("1.0+", "1.0", Greater),
            ("1.0", "1.0_", Less),
            ("1:1.0", "2.0", Greater),
            ("0:1.0", "1.0", Equal),
            ("1.0-1", "1.0-1.1", Less),
            ("1.0-1.1", "1.0-1.1.1", Less),
        ] {
            assert_eq!(cmp(a, b), want, "{a} vs {b}");
            assert_eq!(cmp(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn rejects() {
        for bad in ["", "1.0 1", "1.0\t"] {
            assert!(AlpmVersion::parse(bad).is_err(), "{bad:?}");
        }
    }
}
