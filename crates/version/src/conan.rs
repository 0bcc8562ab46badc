//! Conan (C/C++) versions, ordered like Conan 2's `Version` (as ported by univers).
//!
//! `main[-pre][+build]`: the build is split off at the last `+`, then the pre-release at
//! the last `-`; both are versions themselves. The main part is split at `.` into items,
//! integers when all digits, strings otherwise, and trailing zero items are dropped (so
//! `1 = 1.0 = 1.0.0`). Items compare numerically when both are integers, as strings when
//! both are strings, and by their decimal text otherwise (Python's fallback). A version
//! with a pre-release is lower than the same main version without one; builds order after
//! no build (`1.1 < 1.1+b1`).
//!
//! Note: Conan's mixed integer/string rule is not transitive (`10 < 1a < 9`); this is the
//! reference behaviour and is kept.

use crate::semver::Num;
use crate::{Scheme, VersionError};
use std::cmp::Ordering;

#[derive(Debug, Clone)]
enum Item {
    /// The number and its Python `str()` (no leading zeros).
    Int(Num, Box<str>),
    Str(Box<str>),
}

fn cmp_item(a: &Item, b: &Item) -> Ordering {
    match (a, b) {
        (Item::Int(x, _), Item::Int(y, _)) => x.cmp(y),
        (Item::Str(x), Item::Str(y)) => x.cmp(y),
        (Item::Int(_, x), Item::Str(y)) | (Item::Str(x), Item::Int(_, y)) => x.cmp(y),
    }
}

#[derive(Debug, Clone)]
struct Core {
    items: Box<[Item]>,
    pre: Option<Box<Core>>,
    build: Option<Box<Core>>,
}

fn parse_core(s: &str) -> Core {
    let (value, build) = match s.rfind('+') {
        Some(p) => (&s[..p], Some(Box::new(parse_core(&s[p + 1..])))),
        None => (s, None),
    };
    let (value, pre) = match value.rfind('-') {
        Some(p) => (&value[..p], Some(Box::new(parse_core(&value[p + 1..])))),
        None => (value, None),
    };
    let mut items: Vec<Item> = value
        .split('.')
        .map(|it| {
            if !it.is_empty() && it.bytes().all(|b| b.is_ascii_digit()) {
                let n = Num::from_digits(it);
                let text = n.to_string().into_boxed_str();
                Item::Int(n, text)
            } else {
                Item::Str(it.into())
            }
        })
        .collect();
    while matches!(items.last(), Some(Item::Int(n, _)) if n.is_zero()) {
        items.pop();
    }
    Core {
        items: items.into_boxed_slice(),
        pre,
        build,
    }
}

fn cmp_items(a: &[Item], b: &[Item]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = cmp_item(x, y);
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

fn cmp_opt(a: &Option<Box<Core>>, b: &Option<Box<Core>>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => cmp_core(x, y),
    }
}

fn cmp_core(a: &Core, b: &Core) -> Ordering {
    let items = cmp_items(&a.items, &b.items);
    match (&a.pre, &b.pre) {
        (Some(pa), Some(pb)) => items
            .then_with(|| cmp_core(pa, pb))
            .then_with(|| cmp_opt(&a.build, &b.build)),
        (Some(_), None) if items == Ordering::Equal => Ordering::Less,
        (None, Some(_)) if items == Ordering::Equal => Ordering::Greater,
        (Some(_), None) | (None, Some(_)) => items,
        (None, None) => items.then_with(|| cmp_opt(&a.build, &b.build)),
    }
}

/// A parsed Conan version.
#[derive(Debug, Clone)]
pub struct ConanVersion {
    raw: String,
    core: Core,
}

impl ConanVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        if input.is_empty() {
            return Err(VersionError::new(Scheme::Conan, input, "empty version"));
        }
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(VersionError::new(
                Scheme::Conan,
                input,
                "whitespace or control character in version",
            ));
        }
        Ok(ConanVersion {
            raw: input.to_string(),
            core: parse_core(input),
        })
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl PartialEq for ConanVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for ConanVersion {}
impl PartialOrd for ConanVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ConanVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_core(&self.core, &other.core)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn table() {
        let c = |a: &str, b: &str| {
            ConanVersion::parse(a)
                .unwrap()
                .cmp(&ConanVersion::parse(b).unwrap())
        };
        for (a, b, want) in [
            ("1", "1.0.0", Equal),
            ("1.22", "1.3", Greater),
            ("1.a", "1.1", Greater),
            ("1.1-alpha.1", "1.1", Less),
            ("1.1", "1.1+b1", Less),
            ("1.0.0-", "1.0.0-alpha1", Less),
            ("1.0-pre1.0", "1.0.0-pre1", Equal),
        ] {
            assert_eq!(c(a, b), want, "{a} vs {b}");
        }
        assert!(ConanVersion::parse("").is_err());
        assert!(ConanVersion::parse("1 2").is_err());
    }
}
