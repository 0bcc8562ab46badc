//! Maven's `ComparableVersion` (maven-artifact), the order Maven itself uses.
//!
//! The version is lower-cased and split into items at `.` and `-` and at every
//! transition between digits and non-digits. A `-` (and a digit/letter transition) opens a
//! nested list, so `1.0-alpha-1` is `[1, [alpha, [1]]]`. Items are numbers (any size),
//! qualifiers or lists. Qualifiers order `alpha < beta < milestone < rc = cr < snapshot <
//! "" = ga = final = release < sp`, then unknown qualifiers lexically; `a1`, `b1`, `m1`
//! mean alpha/beta/milestone when directly followed by a digit. After parsing, trailing
//! "null" items (`0`, `""`, empty lists) are trimmed from every list, which makes
//! `1 = 1.0 = 1.0.0 = 1-0 = 1-ga`. Mixed types compare as Maven does: number > list >
//! qualifier, and padding a shorter list compares each item against "null".
//!
//! Parsing never fails except on empty input: every string is a Maven version. Digits
//! are ASCII digits (Java's `Character.isDigit` also accepts other Unicode digits; such
//! versions do not occur in practice).

use crate::semver::Num;
use crate::{Scheme, VersionError};
use std::cmp::Ordering;

/// Index of the release qualifier (`""`) in the known-qualifier order.
const RELEASE_INDEX: u8 = 5;
/// Rank given to unknown qualifiers (after all known ones).
const UNKNOWN: u8 = 7;

#[derive(Debug, Clone)]
enum Item {
    Int(Num),
    /// A qualifier: rank 0..=6 for known ones, [`UNKNOWN`] plus the text otherwise.
    Str(u8, Box<str>),
    List(Vec<Item>),
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Int(n) => n.is_zero(),
            Item::Str(rank, _) => *rank == RELEASE_INDEX,
            Item::List(l) => l.is_empty(),
        }
    }
}

fn string_item(value: &str, followed_by_digit: bool) -> Item {
    let value = match (followed_by_digit, value) {
        (true, "a") => "alpha",
        (true, "b") => "beta",
        (true, "m") => "milestone",
        _ => value,
    };
    let value = match value {
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        v => v,
    };
    let rank = match value {
        "alpha" => 0,
        "beta" => 1,
        "milestone" => 2,
        "rc" => 3,
        "snapshot" => 4,
        "" => RELEASE_INDEX,
        "sp" => 6,
        _ => UNKNOWN,
    };
    let text = if rank == UNKNOWN { value } else { "" };
    Item::Str(rank, text.into())
}

fn parse_item(is_digit: bool, buf: &str) -> Item {
    if is_digit {
        Item::Int(Num::from_digits(buf))
    } else {
        string_item(buf, false)
    }
}

/// Java `String.compareTo` (UTF-16 code units); bytes suffice for ASCII.
fn java_str_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.cmp(b)
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

fn cmp_str_items(ra: u8, ta: &str, rb: u8, tb: &str) -> Ordering {
    ra.cmp(&rb).then_with(|| {
        if ra == UNKNOWN {
            java_str_cmp(ta, tb)
        } else {
            Ordering::Equal
        }
    })
}

/// `l.compareTo(r)` where `r == None` stands for Java's `null` (padding).
fn cmp_item(l: &Item, r: Option<&Item>) -> Ordering {
    use Ordering::*;
    match (l, r) {
        (Item::Int(n), None) => {
            if n.is_zero() {
                Equal
            } else {
                Greater
            }
        }
        (Item::Str(rank, _), None) => rank.cmp(&RELEASE_INDEX),
        // Every item against null, not only the first (MNG-6964, in 3.8.x and later).
        (Item::List(items), None) => items
            .iter()
            .map(|it| cmp_item(it, None))
            .find(|o| *o != Equal)
            .unwrap_or(Equal),
        (Item::Int(a), Some(Item::Int(b))) => a.cmp(b),
        (Item::Int(_), Some(_)) => Greater,
        (Item::Str(..), Some(Item::Int(_))) => Less,
        (Item::Str(ra, ta), Some(Item::Str(rb, tb))) => cmp_str_items(*ra, ta, *rb, tb),
        (Item::Str(..), Some(Item::List(_))) => Less,
        (Item::List(_), Some(Item::Int(_))) => Less,
        (Item::List(_), Some(Item::Str(..))) => Greater,
        (Item::List(a), Some(Item::List(b))) => cmp_lists(a, b),
    }
}

fn cmp_lists(a: &[Item], b: &[Item]) -> Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let ord = match (a.get(i), b.get(i)) {
            (Some(l), r) => cmp_item(l, r),
            (None, Some(r)) => cmp_item(r, None).reverse(),
            (None, None) => Ordering::Equal,
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// `ListItem.normalize()`: drop trailing null items, looking through non-null lists.
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

fn parse_items(version: &str) -> Vec<Item> {
    let version = version.to_lowercase();
    // levels[k] is the k-th nested list; the newest list is always the last item of its
    // parent, so it is attached to the parent when parsing is done (innermost first, as
    // Maven normalizes them when popping its stack).
    let mut levels: Vec<Vec<Item>> = vec![Vec::new()];
    let mut is_digit = false;
    let mut start = 0usize;
    for (i, c) in version.char_indices() {
        let cur = levels.len() - 1;
        if c == '.' {
            let item = if i == start {
                Item::Int(Num::Small(0))
            } else {
                parse_item(is_digit, &version[start..i])
            };
            levels[cur].push(item);
            start = i + 1;
        } else if c == '-' {
            let item = if i == start {
                Item::Int(Num::Small(0))
            } else {
                parse_item(is_digit, &version[start..i])
            };
            levels[cur].push(item);
            start = i + 1;
            levels.push(Vec::new());
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                levels[cur].push(string_item(&version[start..i], true));
                start = i;
                levels.push(Vec::new());
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                levels[cur].push(parse_item(true, &version[start..i]));
                start = i;
                levels.push(Vec::new());
            }
            is_digit = false;
        }
    }
    if version.len() > start {
        let cur = levels.len() - 1;
        levels[cur].push(parse_item(is_digit, &version[start..]));
    }
    let mut list = levels.pop().unwrap_or_default();
    normalize(&mut list);
    while let Some(mut parent) = levels.pop() {
        parent.push(Item::List(list));
        normalize(&mut parent);
        list = parent;
    }
    list
}

/// A parsed Maven version.
#[derive(Debug, Clone)]
pub struct MavenVersion {
    raw: String,
    items: Vec<Item>,
}

impl MavenVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        if input.is_empty() {
            return Err(VersionError::new(Scheme::Maven, input, "empty version"));
        }
        Ok(MavenVersion {
            raw: input.to_string(),
            items: parse_items(input),
        })
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for MavenVersion {}
impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_lists(&self.items, &other.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn c(a: &str, b: &str) -> Ordering {
        MavenVersion::parse(a)
            .unwrap()
            .cmp(&MavenVersion::parse(b).unwrap())
    }

    #[test]
    fn maven_test_suite_order() {
        // From maven-artifact's ComparableVersionTest VERSIONS_QUALIFIER.
        let v = [
            "1-alpha2snapshot",
            "1-alpha2",
            "1-alpha-123",
            "1-beta-2",
            "1-beta123",
            "1-m2",
            "1-m11",
            "1-rc",
            "1-cr2",
            "1-rc123",
            "1-SNAPSHOT",
            "1",
            "1-sp",
            "1-sp2",
            "1-sp123",
            "1-abc",
            "1-def",
            "1-pom-1",
            "1-1-snapshot",
            "1-1",
            "1-2",
            "1-123",
        ];
        for w in v.windows(2) {
            assert_eq!(c(w[0], w[1]), Less, "{} < {}", w[0], w[1]);
            assert_eq!(c(w[1], w[0]), Greater, "{} > {}", w[1], w[0]);
        }
    }

    #[test]
    fn equal_spellings() {
        for (a, b) in [
            ("1", "1.0.0"),
            ("1", "1-0"),
            ("1ga", "1"),
            ("1.0.RELEASE", "1.0"),
            ("1cr", "1rc"),
            ("1a1", "1-alpha-1"),
            ("1m3", "1MILESTONE3"),
            ("1.0000000000000000000000001", "1.1"),
        ] {
            assert_eq!(c(a, b), Equal, "{a} = {b}");
        }
    }

    #[test]
    fn empty_is_rejected() {
        assert!(MavenVersion::parse("").is_err());
        assert!(MavenVersion::parse("-").is_ok());
    }
}
