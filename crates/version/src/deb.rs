//! Debian/dpkg versions: `[epoch:]upstream[-revision]`, ordered exactly as dpkg's
//! `verrevcmp` (lib/dpkg/version.c) orders them.
//!
//! Parsing follows dpkg's `parseversion`: leading and trailing blanks are trimmed, the epoch
//! is everything before the first `:` and must be a number in `0..=i32::MAX`, the revision is
//! everything after the last `-`. Everything dpkg fails with ("bad syntax" errors:
//! `dpkg --compare-versions` exits 2) is an error here too, with dpkg's reason. Where dpkg
//! only *warns* (`dpkg --compare-versions` still compares), we accept a version whose
//! upstream does not start with a digit (`a1.0`; `1::` is epoch 1, upstream `:`, and greater
//! than `2`, as dpkg says), but we reject characters dpkg calls invalid (upstream: ASCII
//! alphanumerics and `.+~-:`; revision: ASCII alphanumerics and `.+~`), because no package
//! can be built with them and they mostly mean the input is not a version at all. The
//! integration tests hold both lists as tables and check them against dpkg.
//!
//! Comparison is allocation-free: the epoch is an integer, and upstream and revision are
//! compared in place with `verrevcmp`, where `~` sorts before everything (even the end of the
//! string), letters sort before non-letters, and digit runs compare as numbers of any length
//! (leading zeros skipped, then length, then digits: no overflow).

use crate::{Scheme, VersionError};
use std::cmp::Ordering;
use std::ops::Range;

/// A parsed dpkg version.
#[derive(Debug, Clone)]
pub struct DebVersion {
    raw: String,
    epoch: u32,
    upstream: Range<usize>,
    revision: Range<usize>,
}

impl DebVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let err = |reason: &str| VersionError::new(Scheme::Deb, input, reason);
        let is_blank = |c: char| c == ' ' || c == '\t';
        let start = input.len() - input.trim_start_matches(is_blank).len();
        let s = input.trim_matches(is_blank);
        if s.is_empty() {
            return Err(err("version string is empty"));
        }
        if s.contains(is_blank) {
            return Err(err("version string has embedded spaces"));
        }
        let end = start + s.len();
        let mut version_start = start;
        let mut epoch = 0u32;
        if let Some(colon) = s.find(':') {
            epoch = parse_epoch(&s[..colon]).map_err(err)?;
            if colon + 1 == s.len() {
                return Err(err("nothing after colon in version number"));
            }
            version_start = start + colon + 1;
        }
        let version = &input[version_start..end];
        let (upstream, revision) = match version.rfind('-') {
            Some(h) => {
                if h + 1 == version.len() {
                    return Err(err("revision number is empty"));
                }
                (version_start..version_start + h, version_start + h + 1..end)
            }
            None => (version_start..end, end..end),
        };
        let up = &input[upstream.clone()];
        if up.is_empty() {
            return Err(err("version number is empty"));
        }
        if let Some(c) = up
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || ".-+~:".contains(c)))
        {
            return Err(err(&format!("invalid character {c:?} in version number")));
        }
        if let Some(c) = input[revision.clone()]
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || ".+~".contains(c)))
        {
            return Err(err(&format!("invalid character {c:?} in revision number")));
        }
        Ok(DebVersion {
            raw: input.to_string(),
            epoch,
            upstream,
            revision,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The epoch (0 when absent).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The upstream version (between the epoch and the last `-`).
    pub fn upstream(&self) -> &str {
        &self.raw[self.upstream.clone()]
    }

    /// The Debian revision (after the last `-`), empty when absent.
    pub fn revision(&self) -> &str {
        &self.raw[self.revision.clone()]
    }
}

/// The epoch as dpkg reads it with `strtol`: an optional sign, then decimal digits that must
/// run up to the colon; negative or above `INT_MAX` is an error.
fn parse_epoch(s: &str) -> Result<u32, &'static str> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let run = digits.bytes().take_while(u8::is_ascii_digit).count();
    if run == 0 {
        return Err("epoch in version is empty");
    }
    if run != digits.len() {
        return Err("epoch in version is not number");
    }
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Ok(0);
    }
    if negative {
        return Err("epoch in version is negative");
    }
    match significant.parse::<u32>() {
        Ok(v) if v <= i32::MAX as u32 => Ok(v),
        _ => Err("epoch in version is too big"),
    }
}

/// dpkg's `order()`: the weight of a non-digit character (0 for digits and end of string).
#[inline]
fn order(c: u8) -> i32 {
    if c.is_ascii_digit() {
        0
    } else if c.is_ascii_alphabetic() {
        c as i32
    } else if c == b'~' {
        -1
    } else if c != 0 {
        c as i32 + 256
    } else {
        0
    }
}

/// dpkg's `verrevcmp` over byte slices (a missing byte reads as NUL, as in C).
pub(crate) fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let (mut i, mut j) = (0usize, 0usize);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = order(at(a, i));
            let bc = order(at(b, j));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while at(a, i) == b'0' {
            i += 1;
        }
        while at(b, j) == b'0' {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while at(a, i).is_ascii_digit() && at(b, j).is_ascii_digit() {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if at(a, i).is_ascii_digit() {
            return Ordering::Greater;
        }
        if at(b, j).is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

impl PartialEq for DebVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for DebVersion {}
impl PartialOrd for DebVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for DebVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| {
                verrevcmp(
                    self.raw[self.upstream.clone()].as_bytes(),
                    other.raw[other.upstream.clone()].as_bytes(),
                )
            })
            .then_with(|| {
                verrevcmp(
                    self.raw[self.revision.clone()].as_bytes(),
                    other.raw[other.revision.clone()].as_bytes(),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        DebVersion::parse(a)
            .unwrap()
            .cmp(&DebVersion::parse(b).unwrap())
    }

    #[test]
    fn parts() {
        let v = DebVersion::parse("2:1.0-1-2ubuntu1").unwrap();
        assert_eq!(
            (v.epoch(), v.upstream(), v.revision()),
            (2, "1.0-1", "2ubuntu1")
        );
        let v = DebVersion::parse(" 1.0 ").unwrap();
        assert_eq!((v.epoch(), v.upstream(), v.revision()), (0, "1.0", ""));
        assert_eq!(v.as_str(), " 1.0 ");
    }

    #[test]
    fn ordering_table() {
        use Ordering::*;
        for (a, b, want) in [
            ("1.0", "0:1.0", Equal),
            ("1.0~rc1", "1.0", Less),
            ("1.0~~", "1.0~", Less),
            ("1.0", "1.0+b1", Less),
            ("1.0a", "1.0+", Less),
            ("1.0-1", "1.0-1~bpo1", Greater),
            ("1.09", "1.9", Equal),
            ("1:0.1", "9.9", Greater),
            ("1.0-0", "1.0", Equal),
            // Digit runs far beyond u64 compare as numbers.
            (
                "1.123456789012345678901234567890",
                "1.123456789012345678901234567891",
                Less,
            ),
            ("1.00000000000000000000000000002", "1.2", Equal),
        ] {
            assert_eq!(cmp(a, b), want, "{a} vs {b}");
            assert_eq!(cmp(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "   ",
            "1.0 1",
            ":1.0",
            "a:1.0",
            "1a:1.0",
            "-1:1.0",
            "99999999999:1.0",
            "1:",
            "1.0-",
            "-1",
            "1.0_1",
            "1.0-1:2",
            "1.0/2",
            "1.é",
        ] {
            let e = DebVersion::parse(bad).expect_err(bad);
            assert_eq!(e.scheme, Scheme::Deb);
        }
        // dpkg only warns for these, and compares them.
        for ok in ["a1.0", "+0:1.0", "1.0-1-1", "1:2:3"] {
            DebVersion::parse(ok).expect(ok);
        }
    }
}
