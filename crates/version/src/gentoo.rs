//! Gentoo versions, as the Package Manager Specification (PMS, section 3.2 "Version
//! specifications" and 3.3 "Version comparison") defines them and portage implements them:
//! `1.2.3a_alpha4_pre5-r6`.
//!
//! Syntax: `digits(.digits)*[a-z]?(_(alpha|beta|pre|rc|p)digits?)*(-rdigits)?`; anything else
//! is rejected. Order (PMS algorithms 3.1-3.7):
//! 1. the first numeric component as an integer;
//! 2. each further numeric component: if either starts with `0`, both are compared as strings
//!    after dropping trailing zeros (`1.01` < `1.1`, `1.010` == `1.01`), else as integers;
//!    then more components win (`1.0` < `1.0.0`);
//! 3. the letter (none < `a` < ... < `z`);
//! 4. suffixes pairwise (`alpha` < `beta` < `pre` < `rc` < `p`, then the number, missing =
//!    0); an extra suffix makes the version newer if it is `_p`, older otherwise;
//! 5. the revision as an integer (missing = `-r0`).
//!
//! Numbers are unbounded (compared as digit strings), and comparison never allocates.

use crate::rpm::cmp_digit_runs;
use crate::{Scheme, VersionError};
use std::cmp::Ordering;

type Span = (u32, u32);

/// A parsed Gentoo version.
#[derive(Debug, Clone)]
pub struct GentooVersion {
    raw: String,
    /// Numeric components (the first one included).
    numbers: Vec<Span>,
    letter: Option<u8>,
    /// (kind, number digits; empty span = 0). Kind: alpha 0, beta 1, pre 2, rc 3, p 4.
    suffixes: Vec<(u8, Span)>,
    revision: Span,
}

const SUFFIX_P: u8 = 4;

impl GentooVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let err = |reason: String| VersionError::new(Scheme::Gentoo, input, reason);
        if input.is_empty() {
            return Err(err("version string is empty".into()));
        }
        if input.len() > u32::MAX as usize {
            return Err(err("version string too long".into()));
        }
        let s = input.as_bytes();
        let mut pos = 0usize;
        let digits = |pos: &mut usize| -> Span {
            let start = *pos;
            while *pos < s.len() && s[*pos].is_ascii_digit() {
                *pos += 1;
            }
            (start as u32, *pos as u32)
        };
        let mut numbers = Vec::with_capacity(4);
        let first = digits(&mut pos);
        if first.0 == first.1 {
            return Err(err("version must start with a number".into()));
        }
        numbers.push(first);
        while pos < s.len() && s[pos] == b'.' {
            pos += 1;
            let n = digits(&mut pos);
            if n.0 == n.1 {
                return Err(err(format!("expected a number after '.' at byte {pos}")));
            }
            numbers.push(n);
        }
        let mut letter = None;
        if pos < s.len() && s[pos].is_ascii_lowercase() {
            letter = Some(s[pos]);
            pos += 1;
        }
        let mut suffixes = Vec::new();
        while pos < s.len() && s[pos] == b'_' {
            pos += 1;
            let rest = &s[pos..];
            let (kind, len) = if rest.starts_with(b"alpha") {
                (0, 5)
            } else if rest.starts_with(b"beta") {
                (1, 4)
            } else if rest.starts_with(b"pre") {
                (2, 3)
            } else if rest.starts_with(b"rc") {
                (3, 2)
            } else if rest.starts_with(b"p") {
                (SUFFIX_P, 1)
            } else {
                return Err(err(format!(
                    "unknown suffix at byte {pos} (want _alpha, _beta, _pre, _rc or _p)"
                )));
            };
            pos += len;
            suffixes.push((kind, digits(&mut pos)));
        }
        let mut revision = (pos as u32, pos as u32);
        if pos < s.len() && s[pos] == b'-' {
            if s.get(pos + 1) != Some(&b'r') {
                return Err(err(format!("expected -r<number> at byte {pos}")));
            }
            pos += 2;
            revision = digits(&mut pos);
            if revision.0 == revision.1 {
                return Err(err("revision -r needs a number".into()));
            }
        }
        if pos != s.len() {
            return Err(err(format!("unexpected character at byte {pos}")));
        }
        Ok(GentooVersion {
            raw: input.to_string(),
            numbers,
            letter,
            suffixes,
            revision,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    fn span(&self, s: Span) -> &[u8] {
        &self.raw.as_bytes()[s.0 as usize..s.1 as usize]
    }
}

fn strip_trailing_zeros(x: &[u8]) -> &[u8] {
    let z = x.iter().rev().take_while(|&&c| c == b'0').count();
    &x[..x.len() - z]
}

impl PartialEq for GentooVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for GentooVersion {}
impl PartialOrd for GentooVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for GentooVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        // 3.2: first component as integers.
        let ord = cmp_digit_runs(self.span(self.numbers[0]), other.span(other.numbers[0]));
        if ord != Ordering::Equal {
            return ord;
        }
        // 3.3: further components.
        for (&a, &b) in self.numbers.iter().zip(&other.numbers).skip(1) {
            let (a, b) = (self.span(a), other.span(b));
            let ord = if a[0] == b'0' || b[0] == b'0' {
                strip_trailing_zeros(a).cmp(strip_trailing_zeros(b))
            } else {
                cmp_digit_runs(a, b)
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        let ord = self.numbers.len().cmp(&other.numbers.len());
        if ord != Ordering::Equal {
            return ord;
        }
        // 3.4: letter.
        let ord = self.letter.cmp(&other.letter);
        if ord != Ordering::Equal {
            return ord;
        }
        // 3.5 / 3.6: suffixes.
        for (&(ka, na), &(kb, nb)) in self.suffixes.iter().zip(&other.suffixes) {
            let ord = ka
                .cmp(&kb)
                .then_with(|| cmp_digit_runs(self.span(na), other.span(nb)));
            if ord != Ordering::Equal {
                return ord;
            }
        }
        let common = self.suffixes.len().min(other.suffixes.len());
        if let Some(&(k, _)) = self.suffixes.get(common) {
            return if k == SUFFIX_P {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        if let Some(&(k, _)) = other.suffixes.get(common) {
            return if k == SUFFIX_P {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        // 3.7: revision.
        cmp_digit_runs(self.span(self.revision), other.span(other.revision))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        GentooVersion::parse(a)
            .unwrap()
            .cmp(&GentooVersion::parse(b).unwrap())
    }

    #[test]
    fn ordering_table() {
        use Ordering::*;
        for (a, b, want) in [
            ("1.0", "1.0-r0", Equal),
            ("1.0-r1", "1.0", Greater),
            ("1.01", "1.1", Less),
            ("1.010", "1.01", Equal),
            ("1.0", "1.00", Equal),
            ("1.0", "1.0.0", Less),
            ("1.0a", "1.0", Greater),
            ("1.0a", "1.0.1", Less),
            ("1.0_alpha", "1.0_beta", Less),
            ("1.0_rc1", "1.0", Less),
            ("1.0_p1", "1.0", Greater),
            ("1.0_alpha_p1", "1.0_alpha", Greater),
            ("1.0_alpha_rc1", "1.0_alpha", Less),
            ("1.0_alpha0", "1.0_alpha", Equal),
            ("1.2.3a_alpha4_pre5-r6", "1.2.3a_alpha4_pre5-r7", Less),
            ("0001", "1", Equal),
            (
                "99999999999999999999999",
                "99999999999999999999998",
                Greater,
            ),
        ] {
            assert_eq!(cmp(a, b), want, "{a} vs {b}");
            assert_eq!(cmp(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "a",
            ".1",
            "1.",
            "1..2",
            "1.0ab",
            "1.0A",
            "1.0_foo",
            "1.0-r",
            "1.0-1",
            "1.0_",
            "v1",
            "1.0 ",
            "1.0-r1_p1",
        ] {
            assert!(GentooVersion::parse(bad).is_err(), "{bad:?}");
        }
    }
}
