//! Alpine apk versions: `number{.number}...{letter}{_suffix{number}}...{-r#}`, ordered
//! exactly as apk-tools 2.14's `apk_version_compare_blob` (src/version.c at v2.14.10), the
//! apk of the Alpine 3.x releases that Alpine's security database and OSV records describe.
//!
//! The comparison is apk's lexer run over both strings in lockstep, comparing token values:
//! the first number; `.number`s (a component with leading zeros counts its extra zeros as a
//! negative value, so `1.01` < `1.1` and `1.00` < `1.0`); a lower-case letter; digits after
//! the letter; `_suffix` (`alpha` < `beta` < `pre` < `rc` < *none* < `cvs` < `svn` < `git`
//! < `hg` < `p`, matched by prefix as apk does) and its number; `-r#`. Numbers of 18 or more
//! digits are invalid, as in apk. When one side runs out (or hits something apk cannot
//! lex) first, a pre-release suffix on the other side makes that side older, otherwise the
//! side whose next token kind comes later is older: `1.0` > `1.0_rc1`, `1.0` < `1.0.1`,
//! `1.0` < `1.0a`, `1.0` < `1.0-r1`.
//!
//! apk compares any two strings, valid or not, and so does this type: it rejects only the
//! empty string, whitespace and control characters. [`ApkVersion::is_valid`] tells whether
//! apk would accept the version (`apk_version_validate`). Comparison works in place on the
//! stored string and never allocates.
//!
//! Why 2.14 and not apk-tools 3 (2024+, Alpine 3.23): version 3 rewrote the lexer and now
//! treats a digit after the letter (`6.0p1`, common in older Alpine records) as invalid, so it
//! calls `6.0.2p1-r0` and `6.0.2p1-r8` equal, and orders `1.0` vs `1.00` the other way. On the
//! versions in Alpine's feeds, 2.14 is what the vectors (generated with apk itself) follow.

use crate::{Scheme, VersionError};
use std::cmp::Ordering;

/// A parsed apk version.
#[derive(Debug, Clone)]
pub struct ApkVersion {
    raw: String,
}

impl ApkVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        if input.is_empty() {
            return Err(VersionError::new(
                Scheme::Apk,
                input,
                "version string is empty",
            ));
        }
        if let Some(c) = input.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(VersionError::new(
                Scheme::Apk,
                input,
                format!("whitespace or control character {c:?} in version"),
            ));
        }
        Ok(ApkVersion {
            raw: input.to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Whether apk itself accepts this as a well-formed version (`apk_version_validate`).
    pub fn is_valid(&self) -> bool {
        let mut lx = Lexer::new(self.raw.as_bytes());
        while lx.kind != END && lx.kind != INVALID {
            lx.get_token();
        }
        lx.kind == END
    }
}

// apk's token kinds (`enum PARTS`); their numeric order matters.
const INVALID: i8 = -1;
const DIGIT_OR_ZERO: i8 = 0;
const DIGIT: i8 = 1;
const LETTER: i8 = 2;
const SUFFIX: i8 = 3;
const SUFFIX_NO: i8 = 4;
const REVISION_NO: i8 = 5;
const END: i8 = 6;

const PRE_SUFFIXES: [&[u8]; 4] = [b"alpha", b"beta", b"pre", b"rc"];
const POST_SUFFIXES: [&[u8]; 5] = [b"cvs", b"svn", b"git", b"hg", b"p"];

/// apk's lexer state: the kind of the *next* token and the unread rest of the string.
struct Lexer<'a> {
    s: &'a [u8],
    kind: i8,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a [u8]) -> Self {
        Lexer { s, kind: DIGIT }
    }

    /// `next_token`: decide the kind of the token after the current one.
    fn next_token(&mut self) {
        let t = self.kind;
        let mut n = INVALID;
        match self.s.first() {
            None => n = END,
            Some(&c) if (t == DIGIT || t == DIGIT_OR_ZERO) && c.is_ascii_lowercase() => n = LETTER,
            Some(&c) if t == LETTER && c.is_ascii_digit() => n = DIGIT,
            Some(&c) if t == SUFFIX && c.is_ascii_digit() => n = SUFFIX_NO,
            Some(&c) => {
                match c {
                    b'.' => n = DIGIT_OR_ZERO,
                    b'_' => n = SUFFIX,
                    b'-' if self.s.get(1) == Some(&b'r') => {
                        n = REVISION_NO;
                        self.s = &self.s[1..];
                    }
                    _ => {}
                }
                self.s = &self.s[1..];
            }
        }
        if n < t
            && !((n == DIGIT_OR_ZERO && t == DIGIT)
                || (n == SUFFIX && t == SUFFIX_NO)
                || (n == DIGIT && t == LETTER))
        {
            n = INVALID;
        }
        self.kind = n;
    }

    /// `get_token`: read the token of kind `self.kind`, return its value, move on.
    fn get_token(&mut self) -> i64 {
        if self.s.is_empty() {
            self.kind = END;
            return 0;
        }
        let s = self.s;
        let mut i = 0usize;
        let mut nt = INVALID;
        let v: i64;
        match self.kind {
            DIGIT_OR_ZERO if s[0] == b'0' => {
                // Leading zeros: the extra zeros count as a negative value.
                while i + 1 < s.len() && s[i + 1] == b'0' {
                    i += 1;
                }
                nt = DIGIT;
                v = -(i as i64);
            }
            DIGIT_OR_ZERO | DIGIT | SUFFIX_NO | REVISION_NO => {
                i = s.iter().take_while(|c| c.is_ascii_digit()).count();
                if i >= 18 {
                    return self.invalid();
                }
                v = s[..i]
                    .iter()
                    .fold(0i64, |n, &c| n * 10 + i64::from(c - b'0'));
            }
            LETTER => {
                v = i64::from(s[0]);
                i = 1;
            }
            SUFFIX => {
                if let Some((k, p)) = PRE_SUFFIXES
                    .iter()
                    .enumerate()
                    .find(|(_, p)| s.starts_with(p))
                {
                    v = k as i64 - PRE_SUFFIXES.len() as i64;
                    i = p.len();
                } else if let Some((k, p)) = POST_SUFFIXES
                    .iter()
                    .enumerate()
                    .find(|(_, p)| s.starts_with(p))
                {
                    v = k as i64;
                    i = p.len();
                } else {
                    return self.invalid();
                }
            }
            _ => return self.invalid(),
        }
        self.s = &s[i..];
        if self.s.is_empty() {
            self.kind = END;
        } else if nt != INVALID {
            self.kind = nt;
        } else {
            self.next_token();
        }
        v
    }

    fn invalid(&mut self) -> i64 {
        self.kind = INVALID;
        -1
    }
}

/// `apk_version_compare_blob` (not fuzzy) on two arbitrary strings.
pub(crate) fn apk_compare(a: &[u8], b: &[u8]) -> Ordering {
    let mut la = Lexer::new(a);
    let mut lb = Lexer::new(b);
    let (mut av, mut bv) = (0i64, 0i64);
    while la.kind == lb.kind && la.kind != END && la.kind != INVALID && av == bv {
        av = la.get_token();
        bv = lb.get_token();
    }
    if av != bv {
        return av.cmp(&bv);
    }
    if la.kind == lb.kind {
        return Ordering::Equal;
    }
    // One side goes on: it is older only with a pre-release suffix next.
    if la.kind == SUFFIX && la.get_token() < 0 {
        return Ordering::Less;
    }
    if lb.kind == SUFFIX && lb.get_token() < 0 {
        return Ordering::Greater;
    }
    lb.kind.cmp(&la.kind)
}

impl PartialEq for ApkVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for ApkVersion {}
impl PartialOrd for ApkVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ApkVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        apk_compare(self.raw.as_bytes(), other.raw.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        ApkVersion::parse(a)
            .unwrap()
            .cmp(&ApkVersion::parse(b).unwrap())
    }

    #[test]
    fn ordering_table() {
        use Ordering::*;
        for (a, b, want) in [
            ("1.0", "1.0-r0", Less),
            ("1.0-r1", "1.0-r01", Equal),
            ("1-r", "1-r0", Equal),
            ("1.0_rc1", "1.0", Less),
            ("1.0_p1", "1.0", Greater),
            ("1.0_p1", "1.0_git1", Greater),
            ("1.0_alpha", "1.0_alpha1", Less),
            ("1.0a", "1.0", Greater),
            ("1.0a", "1.0b", Less),
            ("1.0", "1.0a", Less),
            ("1.01", "1.1", Less),
            ("1.00", "1.0", Less),
            ("6.0.2p1-r0", "6.0.2p1-r8", Less),
            ("6.6.2p1", "6.6.2_p1", Greater),
            ("1.0", "1.0bc", Less),
            ("2.34", "0.1.0_alpha", Greater),
            ("23_foo", "4_beta", Greater),
            ("12345678901234567", "12345678901234568", Less),
        ] {
            assert_eq!(cmp(a, b), want, "{a} vs {b}");
            assert_eq!(cmp(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn validity() {
        for ok in [
            "1",
            "1.2.3a_rc1_p2-r3",
            "0.1_git20240101",
            "1.0-r0",
            "6.0p1",
            "1-r",
        ] {
            assert!(ApkVersion::parse(ok).unwrap().is_valid(), "{ok}");
        }
        for bad in [
            "1.0bc",
            "1.0_foo",
            "1.0~abc",
            "1.0A",
            "1.0-1",
            "123456789012345678",
        ] {
            assert!(!ApkVersion::parse(bad).unwrap().is_valid(), "{bad}");
        }
        for rejected in ["", "1 2", "1\n"] {
            assert!(ApkVersion::parse(rejected).is_err(), "{rejected:?}");
        }
    }
}
