//! PEP 440 versions (PyPI), parsed and ordered exactly as Python `packaging.version.Version`.
//!
//! Parsing is a hand-written matcher for packaging's `VERSION_PATTERN` (case-insensitive,
//! surrounding whitespace allowed), so every spelling packaging accepts is accepted and
//! normalized the same way: a leading `v`; `alpha`/`a`, `beta`/`b`, `c`/`pre`/`preview`/`rc`;
//! `rev`/`r`/`post` and the implicit post release `1.0-1`; optional `-`, `_`, `.` separators
//! around labels; implicit `0` numbers (`1.0a` = `1.0a0`); local versions `+abc.5` (split on
//! `-_.`). Whatever packaging raises `InvalidVersion` for is rejected.
//!
//! The matcher is deterministic: at each point the regex's first (greedy) choice is also
//! the only one that can complete a match (no suffix of a label is itself a valid
//! continuation, and a separator taken by one part is never needed by the next), so no
//! backtracking is needed.
//!
//! Order is packaging's `_cmpkey`: epoch; release with trailing zeros dropped (`1.0.0` ==
//! `1.0`); pre-release (a dev release with no pre or post sorts before any pre-release, no
//! pre-release sorts after all); post (none first); dev (none last); local (none first;
//! numeric segments beat alphanumeric ones, alphanumeric ones compare lower-cased).
//! Numbers are unbounded (kept as digit spans of the input, compared by value), and
//! comparison never allocates.
//!
//! Known divergence: Python's case-insensitive regex also lets the non-ASCII `ſ` (U+017F)
//! and `K` (U+212A) match `s` and `k`; we accept ASCII only.

use crate::rpm::cmp_digit_runs;
use crate::{Scheme, VersionError};
use std::cmp::Ordering;
use std::fmt::Write as _;

/// A digit span of the raw input (leading zeros already skipped; empty = 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Num {
    start: u32,
    end: u32,
}

impl Num {
    const ZERO: Num = Num { start: 0, end: 0 };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PreKind {
    A,
    B,
    Rc,
}

#[derive(Debug, Clone, Copy)]
enum LocalPart {
    Num(Num),
    /// A span of letters and digits (at least one letter), compared lower-cased.
    Str(u32, u32),
}

/// A parsed PEP 440 version.
#[derive(Debug, Clone)]
pub struct Pep440Version {
    raw: String,
    epoch: Num,
    release: Vec<Num>,
    /// `release` without trailing zeros, for comparison.
    release_cmp_len: usize,
    pre: Option<(PreKind, Num)>,
    post: Option<Num>,
    dev: Option<Num>,
    /// Empty when there is no local version (a present one is never empty).
    local: Vec<LocalPart>,
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).map(u8::to_ascii_lowercase)
    }

    fn peek_at(&self, off: usize) -> Option<u8> {
        self.s.get(self.pos + off).map(u8::to_ascii_lowercase)
    }

    fn is_sep(c: Option<u8>) -> bool {
        matches!(c, Some(b'-' | b'_' | b'.'))
    }

    /// Case-insensitive literal at `pos + off`.
    fn lit_at(&self, off: usize, lit: &[u8]) -> bool {
        let start = self.pos + off;
        self.s
            .get(start..start + lit.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(lit))
    }

    /// `[0-9]+`, returning the span without leading zeros.
    fn number(&mut self) -> Option<Num> {
        let start = self.pos;
        while self.s.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        if self.pos == start {
            return None;
        }
        let mut nz = start;
        while nz < self.pos && self.s[nz] == b'0' {
            nz += 1;
        }
        Some(Num {
            start: nz as u32,
            end: self.pos as u32,
        })
    }

    /// `[-_.]? (?P<l>labels) [-_.]? (?P<n>[0-9]+)?` where `labels` are tried longest first;
    /// returns the label's index and number (missing = 0), or None without moving.
    fn labelled(&mut self, labels: &[&[u8]]) -> Option<(usize, Num)> {
        let save = self.pos;
        let off = usize::from(Self::is_sep(self.peek()));
        let found = labels
            .iter()
            .enumerate()
            .filter(|(_, l)| self.lit_at(off, l))
            .max_by_key(|(_, l)| l.len())
            .map(|(i, l)| (i, l.len()));
        let Some((idx, len)) = found else {
            self.pos = save;
            return None;
        };
        self.pos += off + len;
        if Self::is_sep(self.peek()) && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        } else if Self::is_sep(self.peek()) {
            // The regex's greedy `[-_.]?` takes the separator even with no number after it;
            // a following part that starts with its own optional separator is unaffected,
            // and `-N` (implicit post) needs a digit, which is handled above.
            self.pos += 1;
            return Some((idx, Num::ZERO));
        }
        let n = self.number().unwrap_or(Num::ZERO);
        Some((idx, n))
    }
}

fn is_py_space(c: char) -> bool {
    // Python's str.isspace(): Unicode White_Space plus the ASCII information separators.
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

impl Pep440Version {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let err = |reason: &str| VersionError::new(Scheme::Pep440, input, reason);
        if input.len() > u32::MAX as usize {
            return Err(err("version string too long"));
        }
        let lead = input.len() - input.trim_start_matches(is_py_space).len();
        let body_end = input.trim_end_matches(is_py_space).len();
        if lead >= body_end {
            return Err(err("version string is empty"));
        }
        let mut p = Parser {
            s: &input.as_bytes()[..body_end],
            pos: lead,
        };
        if p.peek() == Some(b'v') {
            p.pos += 1;
        }
        // Epoch and release: `([0-9]+!)? [0-9]+(\.[0-9]+)*`.
        let first = p.number().ok_or_else(|| err("expected a release number"))?;
        let mut epoch = Num::ZERO;
        let mut release = Vec::with_capacity(4);
        if p.peek() == Some(b'!') {
            p.pos += 1;
            epoch = first;
            release.push(
                p.number()
                    .ok_or_else(|| err("expected a release number after the epoch '!'"))?,
            );
        } else {
            release.push(first);
        }
        while p.peek() == Some(b'.') && p.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            p.pos += 1;
            release.push(p.number().unwrap_or(Num::ZERO));
        }
        // Pre-release.
        let pre = p
            .labelled(&[
                b"a", b"b", b"c", b"rc", b"alpha", b"beta", b"pre", b"preview",
            ])
            .map(|(i, n)| {
                let kind = match i {
                    0 | 4 => PreKind::A,
                    1 | 5 => PreKind::B,
                    _ => PreKind::Rc,
                };
                (kind, n)
            });
        // Post-release: `-N` or `[-_.]?(post|rev|r)[-_.]?N?`.
        let post = if p.peek() == Some(b'-') && p.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            p.pos += 1;
            p.number()
        } else {
            p.labelled(&[b"post", b"rev", b"r"]).map(|(_, n)| n)
        };
        // Dev release.
        let dev = p.labelled(&[b"dev"]).map(|(_, n)| n);
        // Local version: `\+[a-z0-9]+([-_.][a-z0-9]+)*`.
        let mut local = Vec::new();
        if p.peek() == Some(b'+') {
            p.pos += 1;
            loop {
                let start = p.pos;
                let mut letters = false;
                while let Some(c) = p.s.get(p.pos) {
                    if c.is_ascii_digit() {
                    } else if c.is_ascii_alphabetic() {
                        letters = true;
                    } else {
                        break;
                    }
                    p.pos += 1;
                }
                if p.pos == start {
                    return Err(err("empty segment in local version"));
                }
                if letters {
                    local.push(LocalPart::Str(start as u32, p.pos as u32));
                } else {
                    let mut nz = start;
                    while nz < p.pos && p.s[nz] == b'0' {
                        nz += 1;
                    }
                    local.push(LocalPart::Num(Num {
                        start: nz as u32,
                        end: p.pos as u32,
                    }));
                }
                if Parser::is_sep(p.peek()) {
                    p.pos += 1;
                } else {
                    break;
                }
            }
        }
        if p.pos != p.s.len() {
            return Err(err(&format!(
                "unexpected {:?} at byte {}",
                input[p.pos..].chars().next().unwrap_or('?'),
                p.pos
            )));
        }
        let release_cmp_len = release.len()
            - release
                .iter()
                .rev()
                .take_while(|n| n.start == n.end)
                .count();
        Ok(Pep440Version {
            raw: input.to_string(),
            epoch,
            release,
            release_cmp_len,
            pre,
            post,
            dev,
            local,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    fn digits(&self, n: Num) -> &[u8] {
        &self.raw.as_bytes()[n.start as usize..n.end as usize]
    }

    fn num_str(&self, n: Num) -> &str {
        if n.start == n.end {
            "0"
        } else {
            &self.raw[n.start as usize..n.end as usize]
        }
    }

    /// The normalized form, as `str(packaging.version.Version(s))` prints it.
    pub fn normalized(&self) -> String {
        let mut out = String::with_capacity(self.raw.len());
        if self.epoch.start != self.epoch.end {
            let _ = write!(out, "{}!", self.num_str(self.epoch));
        }
        for (i, n) in self.release.iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            out.push_str(self.num_str(*n));
        }
        if let Some((k, n)) = self.pre {
            out.push_str(match k {
                PreKind::A => "a",
                PreKind::B => "b",
                PreKind::Rc => "rc",
            });
            out.push_str(self.num_str(n));
        }
        if let Some(n) = self.post {
            let _ = write!(out, ".post{}", self.num_str(n));
        }
        if let Some(n) = self.dev {
            let _ = write!(out, ".dev{}", self.num_str(n));
        }
        for (i, part) in self.local.iter().enumerate() {
            out.push(if i == 0 { '+' } else { '.' });
            match *part {
                LocalPart::Num(n) => out.push_str(self.num_str(n)),
                LocalPart::Str(s, e) => {
                    out.push_str(&self.raw[s as usize..e as usize].to_ascii_lowercase())
                }
            }
        }
        out
    }

    /// True for alpha, beta, rc or dev releases (packaging's `is_prerelease`).
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }

    fn cmp_num(&self, a: Num, other: &Self, b: Num) -> Ordering {
        cmp_digit_runs(self.digits(a), other.digits(b))
    }
}

/// Rank for the `Infinity` / `NegativeInfinity` sentinels of packaging's `_cmpkey`.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    NegInf,
    Value,
    Inf,
}

impl PartialEq for Pep440Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Pep440Version {}
impl PartialOrd for Pep440Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pep440Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let ord = self.cmp_num(self.epoch, other, other.epoch);
        if ord != Ordering::Equal {
            return ord;
        }
        // Release, trailing zeros dropped: element-wise, then the longer wins.
        let (ra, rb) = (
            &self.release[..self.release_cmp_len],
            &other.release[..other.release_cmp_len],
        );
        for (&a, &b) in ra.iter().zip(rb) {
            let ord = self.cmp_num(a, other, b);
            if ord != Ordering::Equal {
                return ord;
            }
        }
        let ord = ra.len().cmp(&rb.len());
        if ord != Ordering::Equal {
            return ord;
        }
        // Pre-release.
        let pre_rank = |v: &Self| match v.pre {
            Some(_) => Rank::Value,
            None if v.post.is_none() && v.dev.is_some() => Rank::NegInf,
            None => Rank::Inf,
        };
        let ord = pre_rank(self).cmp(&pre_rank(other));
        if ord != Ordering::Equal {
            return ord;
        }
        if let (Some((ka, na)), Some((kb, nb))) = (self.pre, other.pre) {
            let ord = ka.cmp(&kb).then_with(|| self.cmp_num(na, other, nb));
            if ord != Ordering::Equal {
                return ord;
            }
        }
        // Post-release: none sorts first.
        let ord = match (self.post, other.post) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(a), Some(b)) => self.cmp_num(a, other, b),
        };
        if ord != Ordering::Equal {
            return ord;
        }
        // Dev release: none sorts last.
        let ord = match (self.dev, other.dev) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => self.cmp_num(a, other, b),
        };
        if ord != Ordering::Equal {
            return ord;
        }
        // Local: none sorts first; then segment-wise, numbers beat strings, then longer wins.
        for (a, b) in self.local.iter().zip(&other.local) {
            let ord = match (*a, *b) {
                (LocalPart::Num(x), LocalPart::Num(y)) => self.cmp_num(x, other, y),
                (LocalPart::Num(_), LocalPart::Str(..)) => Ordering::Greater,
                (LocalPart::Str(..), LocalPart::Num(_)) => Ordering::Less,
                (LocalPart::Str(s1, e1), LocalPart::Str(s2, e2)) => {
                    let x = &self.raw.as_bytes()[s1 as usize..e1 as usize];
                    let y = &other.raw.as_bytes()[s2 as usize..e2 as usize];
                    x.iter()
                        .map(u8::to_ascii_lowercase)
                        .cmp(y.iter().map(u8::to_ascii_lowercase))
                }
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        self.local.len().cmp(&other.local.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Pep440Version {
        Pep440Version::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn normalization_table() {
        for (input, want) in [
            ("1.0", "1.0"),
            ("v1.0", "1.0"),
            ("  V1.0\n", "1.0"),
            ("1!2.0", "1!2.0"),
            ("0!2.0", "2.0"),
            ("01.02.003", "1.2.3"),
            ("1.0a", "1.0a0"),
            ("1.0.alpha.1", "1.0a1"),
            ("1.0-BETA_2", "1.0b2"),
            ("1.0c1", "1.0rc1"),
            ("1.0pre", "1.0rc0"),
            ("1.0preview-3", "1.0rc3"),
            ("1.0-1", "1.0.post1"),
            ("1.0-r", "1.0.post0"),
            ("1.0.rev4", "1.0.post4"),
            ("1.0post", "1.0.post0"),
            ("1.0.dev", "1.0.dev0"),
            ("1.0-dev-7", "1.0.dev7"),
            ("1.0a..post1", "1.0a0.post1"),
            ("1.0a.-1", "1.0a0.post1"),
            ("1.0a-1", "1.0a1"),
            ("1.0a.", "1.0a0"),
            ("1.0.dev.", "1.0.dev0"),
            ("1.0.post.", "1.0.post0"),
            ("1.0PREVIEW2", "1.0rc2"),
            ("1.0-r-4", "1.0.post4"),
            ("1.0+ABC-01_x.007", "1.0+abc.1.x.7"),
            ("1.0rc1.post2.dev3+local", "1.0rc1.post2.dev3+local"),
        ] {
            assert_eq!(v(input).normalized(), want, "{input:?}");
        }
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            " ",
            "1.0.",
            ".1",
            "1..0",
            "1.0+",
            "1.0+a..b",
            "1.0+a_",
            "1.0ab",
            "1.0-",
            "1.0--1",
            "1.0a1a1",
            "1.0.post1.post2",
            "1.0dev1a1",
            "1!",
            "!1",
            "1.0 1",
            "vv1",
            "french toast",
            "1.0+é",
            "1.0-1-1",
            "1.0_",
            "1.0a_b",
            "1.0.",
        ] {
            let e = Pep440Version::parse(bad).expect_err(bad);
            assert_eq!(e.scheme, Scheme::Pep440);
        }
    }

    #[test]
    fn ordering_table() {
        use Ordering::*;
        for (a, b, want) in [
            ("1.0", "1.0.0", Equal),
            ("1.0", "v1.0.0.0", Equal),
            ("1.0.dev1", "1.0a1", Less),
            ("1.0a1.dev1", "1.0a1", Less),
            ("1.0", "1.0.post0.dev0", Less),
            ("1.0.post1", "1.0.post1+local", Less),
            ("1.0+a", "1.0+1", Less),
            ("1.0+abc", "1.0+ABC", Equal),
            ("1.0+1.a", "1.0+1", Greater),
            ("1!0.1", "2.0", Greater),
            ("1.0c1", "1.0rc1", Equal),
            ("1.0-1", "1.0.post1", Equal),
            (
                "1.123456789012345678901234567890",
                "1.123456789012345678901234567891",
                Less,
            ),
        ] {
            assert_eq!(v(a).cmp(&v(b)), want, "{a} vs {b}");
            assert_eq!(v(b).cmp(&v(a)), want.reverse(), "{b} vs {a}");
        }
    }
}
