//! Composer (Packagist) versions, ordered by PHP's `version_compare`, the function
//! Composer's `Comparator` ends in.
//!
//! A leading `v`/`V` is dropped (Composer's normalizer does that). The rest follows
//! `php_version_compare` (ext/standard/versioning.c) exactly: the string is canonicalized
//! (`-`, `_`, `+` and other non-alphanumerics become `.`, a `.` is inserted between digits
//! and non-digits, repeated dots collapse), split at `.`, and compared part by part:
//! numbers numerically; words by the special form their prefix names,
//! `dev < alpha = a < beta = b < RC = rc < # (a number) < pl = p`, anything else below
//! `dev`; a number against a word compares as `#`. When one side runs out, a following
//! number wins, otherwise the rest is compared against `#`. So `1.0-dev < 1.0a1 < 1.0b1 <
//! 1.0RC1 < 1.0 < 1.0pl1`, and `1.0 < 1.0.0` (PHP does not pad).
//!
//! Why raw `version_compare` and not Composer's normalization first: OSV's Packagist data
//! and the reference vectors (generated with PHP's `version_compare`) treat `1.0` and
//! `1.0.0` as different versions; normalizing would make them equal. `dev-<branch>`
//! versions parse and sort as the word `dev` (Composer itself refuses to order branches).
//!
//! Deviations from PHP: numbers have no size limit (PHP's `strtol` saturates at
//! `i64::MAX`) and `#` is kept as a word (PHP drops it as punctuation), so
//! `1.2.3.# = 1.2.3` — both required by the osv-scalibr vectors; a trailing separator is
//! ignored (`1. = 1`; PHP even says `1.` < `1.`, which no order can); strings without
//! any digit or letter are rejected.

use crate::semver::cmp_digit_strs;
use crate::{Scheme, VersionError};
use std::cmp::Ordering;

/// A parsed Composer version.
#[derive(Debug, Clone)]
pub struct ComposerVersion {
    raw: String,
    canon: Box<[u8]>,
    spans: Box<[(u32, u32)]>,
}

#[derive(Clone, Copy)]
struct Parts<'a> {
    base: &'a [u8],
    spans: &'a [(u32, u32)],
}

const SPECIAL: Parts<'static> = Parts {
    base: b"#N#",
    spans: &[(0, 3)],
};

impl<'a> Parts<'a> {
    fn len(&self) -> usize {
        self.spans.len()
    }
    fn get(&self, i: usize) -> &'a [u8] {
        let (s, e) = self.spans[i];
        &self.base[s as usize..e as usize]
    }
    fn tail(&self, i: usize) -> Parts<'a> {
        Parts {
            base: self.base,
            spans: &self.spans[i..],
        }
    }
    /// The remaining string from part `i` on is empty.
    fn rest_empty(&self, i: usize) -> bool {
        i + 1 == self.len() && self.get(i).is_empty()
    }
}

fn is_word_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'#'
}

/// `php_canonicalize_version`, keeping `#` (see module docs).
fn canonicalize(v: &[u8]) -> Vec<u8> {
    let mut q = Vec::with_capacity(v.len() * 2);
    let Some((&first, rest)) = v.split_first() else {
        return q;
    };
    if first == b'#' {
        return v.to_vec();
    }
    q.push(first);
    let mut lp = first;
    let isdig = |x: u8| x.is_ascii_digit();
    let isndig = |x: u8| !x.is_ascii_digit() && x != b'.';
    for &p in rest {
        let lq = *q.last().unwrap_or(&b'.');
        if p == b'-' || p == b'_' || p == b'+' {
            if lq != b'.' {
                q.push(b'.');
            }
        } else if (isndig(lp) && isdig(p)) || (isdig(lp) && isndig(p)) {
            if lq != b'.' {
                q.push(b'.');
            }
            q.push(p);
        } else if !is_word_char(p) {
            if lq != b'.' {
                q.push(b'.');
            }
        } else {
            q.push(p);
        }
        lp = p;
    }
    q
}

fn special_rank(form: &[u8]) -> i8 {
    const FORMS: [(&[u8], i8); 10] = [
        (b"dev", 0),
        (b"alpha", 1),
        (b"a", 1),
        (b"beta", 2),
        (b"b", 2),
        (b"RC", 3),
        (b"rc", 3),
        (b"#", 4),
        (b"pl", 5),
        (b"p", 5),
    ];
    FORMS
        .iter()
        .find(|(name, _)| form.starts_with(name))
        .map_or(-1, |(_, r)| *r)
}

fn starts_digit(p: &[u8]) -> bool {
    p.first().is_some_and(|b| b.is_ascii_digit())
}

fn leading_digits(p: &[u8]) -> &str {
    let n = p.iter().take_while(|b| b.is_ascii_digit()).count();
    // ASCII digits are valid UTF-8.
    std::str::from_utf8(&p[..n]).unwrap_or("0")
}

fn part_cmp(a: &[u8], b: &[u8]) -> Ordering {
    match (starts_digit(a), starts_digit(b)) {
        (true, true) => cmp_digit_strs(leading_digits(a), leading_digits(b)),
        (false, false) => special_rank(a).cmp(&special_rank(b)),
        (true, false) => special_rank(b"#N#").cmp(&special_rank(b)),
        (false, true) => special_rank(a).cmp(&special_rank(b"#N#")),
    }
}

/// `php_version_compare` over canonical parts.
fn php_cmp(a: Parts<'_>, b: Parts<'_>) -> Ordering {
    match (a.rest_empty(0), b.rest_empty(0)) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        (false, false) => {}
    }
    let (mut i, mut j) = (0, 0);
    let (mut n1, mut n2) = (true, true);
    let mut ord = Ordering::Equal;
    while !a.rest_empty(i) && !b.rest_empty(j) && n1 && n2 {
        n1 = i + 1 < a.len();
        n2 = j + 1 < b.len();
        ord = part_cmp(a.get(i), b.get(j));
        if ord != Ordering::Equal {
            break;
        }
        if n1 {
            i += 1;
        }
        if n2 {
            j += 1;
        }
    }
    if ord == Ordering::Equal {
        if n1 {
            ord = if starts_digit(a.get(i)) {
                Ordering::Greater
            } else {
                php_cmp(a.tail(i), SPECIAL)
            };
        } else if n2 {
            ord = if starts_digit(b.get(j)) {
                Ordering::Less
            } else {
                php_cmp(SPECIAL, b.tail(j))
            };
        }
    }
    ord
}

impl ComposerVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let s = input.trim();
        let s = s
            .strip_prefix('v')
            .or_else(|| s.strip_prefix('V'))
            .unwrap_or(s);
        if s.is_empty() {
            return Err(VersionError::new(Scheme::Composer, input, "empty version"));
        }
        if s.chars().any(char::is_control) {
            return Err(VersionError::new(
                Scheme::Composer,
                input,
                "control character in version",
            ));
        }
        if !s.bytes().any(is_word_char) {
            return Err(VersionError::new(
                Scheme::Composer,
                input,
                "no digits or letters in version",
            ));
        }
        let mut canon = canonicalize(s.as_bytes());
        // PHP's version_compare is not reflexive for a trailing separator ("1." < "1."),
        // so a trailing separator is ignored.
        while canon.len() > 1 && canon.last() == Some(&b'.') {
            canon.pop();
        }
        let mut spans = Vec::new();
        let mut start = 0u32;
        for (i, &b) in canon.iter().enumerate() {
            if b == b'.' {
                spans.push((start, i as u32));
                start = i as u32 + 1;
            }
        }
        spans.push((start, canon.len() as u32));
        Ok(ComposerVersion {
            raw: input.to_string(),
            canon: canon.into_boxed_slice(),
            spans: spans.into_boxed_slice(),
        })
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
    fn parts(&self) -> Parts<'_> {
        Parts {
            base: &self.canon,
            spans: &self.spans,
        }
    }
}

impl PartialEq for ComposerVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for ComposerVersion {}
impl PartialOrd for ComposerVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ComposerVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        php_cmp(self.parts(), other.parts())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn c(a: &str, b: &str) -> Ordering {
        ComposerVersion::parse(a)
            .unwrap()
            .cmp(&ComposerVersion::parse(b).unwrap())
    }

    #[test]
    fn canonical_form() {
        let f = |s: &str| String::from_utf8(canonicalize(s.as_bytes())).unwrap();
        assert_eq!(f("1.0rc1"), "1.0.rc.1");
        assert_eq!(f("1.0-dev"), "1.0.dev");
        assert_eq!(f("1..0__1"), "1.0.1");
        assert_eq!(f("4.3-2RC1"), "4.3.2.RC.1");
    }

    #[test]
    fn php_table() {
        for (a, b, want) in [
            ("1.0-dev", "1.0a1", Less),
            ("1.0a1", "1.0b1", Less),
            ("1.0b1", "1.0RC1", Less),
            ("1.0RC1", "1.0rc1", Equal),
            ("1.0rc1", "1.0", Less),
            ("1.0", "1.0pl1", Less),
            ("1.0", "1.0.0", Less),
            ("1.0.0-patch1", "1.0.0", Greater),
            ("v1.0.0", "V1.0.0", Equal),
            ("dev-foo", "1.26.0", Less),
            ("1.0-stable", "1.0-dev", Less),
            ("1.", "1", Equal),
            ("1-", "1.", Equal),
        ] {
            assert_eq!(c(a, b), want, "{a} vs {b}");
            assert_eq!(c(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn rejects_empty() {
        assert!(ComposerVersion::parse("").is_err());
        assert!(ComposerVersion::parse("v").is_err());
        assert!(ComposerVersion::parse("1\n2").is_err());
        assert!(ComposerVersion::parse("-.").is_err());
    }
}
