//! NuGet versions (NuGet.Versioning `NuGetVersion` with `VersionComparer.Default`).
//!
//! `major[.minor[.patch[.revision]]][-label(.label)*][+metadata]`: one to four numeric
//! parts (missing ones are 0, leading zeros allowed, so `1.0.01 = 1.0.1.0`), then
//! release labels. A version with labels sorts before the same version without. Labels
//! compare left to right: labels that parse as a 32-bit integer compare numerically and
//! before other labels, other labels compare ordinal-ignore-case (`BETA = beta`); more
//! labels win when one list is a prefix of the other. Metadata is ignored.
//!
//! Deviation: numeric parts have no size limit here (NuGet rejects parts above
//! `i32::MAX`), so nothing valid in NuGet is rejected and order among larger numbers is
//! still numeric.

use crate::semver::Num;
use crate::{Scheme, VersionError};
use std::cmp::Ordering;

#[derive(Debug, Clone)]
enum Label {
    Num(i32),
    Text(Box<str>),
}

fn cmp_label(a: &Label, b: &Label) -> Ordering {
    match (a, b) {
        (Label::Num(x), Label::Num(y)) => x.cmp(y),
        (Label::Num(_), Label::Text(_)) => Ordering::Less,
        (Label::Text(_), Label::Num(_)) => Ordering::Greater,
        (Label::Text(x), Label::Text(y)) => x
            .bytes()
            .map(|c| c.to_ascii_uppercase())
            .cmp(y.bytes().map(|c| c.to_ascii_uppercase())),
    }
}

/// A parsed NuGet version.
#[derive(Debug, Clone)]
pub struct NuGetVersion {
    raw: String,
    parts: [Num; 4],
    labels: Box<[Label]>,
}

fn valid_ident(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn parse(input: &str) -> Result<([Num; 4], Box<[Label]>), String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("empty version".into());
    }
    let (s, meta) = match s.find('+') {
        Some(p) => (&s[..p], Some(&s[p + 1..])),
        None => (s, None),
    };
    if let Some(meta) = meta {
        if !meta.split('.').all(valid_ident) {
            return Err("invalid metadata".into());
        }
    }
    let (core, labels) = match s.find('-') {
        Some(p) => (&s[..p], Some(&s[p + 1..])),
        None => (s, None),
    };
    let nums: Vec<&str> = core.split('.').collect();
    if nums.len() > 4 {
        return Err("more than four numeric parts".into());
    }
    let mut parts = [Num::Small(0), Num::Small(0), Num::Small(0), Num::Small(0)];
    for (i, n) in nums.iter().enumerate() {
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("numeric part {n:?} is not a number"));
        }
        parts[i] = Num::from_digits(n);
    }
    let mut out = Vec::new();
    if let Some(labels) = labels {
        for l in labels.split('.') {
            if !valid_ident(l) {
                return Err(format!("invalid release label {l:?}"));
            }
            // Int32.TryParse: optional sign, digits, within range.
            let numeric = l.strip_prefix('-').unwrap_or(l);
            let label = match (numeric.bytes().all(|b| b.is_ascii_digit()) && !numeric.is_empty())
                .then(|| l.parse::<i32>().ok())
                .flatten()
            {
                Some(v) => Label::Num(v),
                None => Label::Text(l.into()),
            };
            out.push(label);
        }
    }
    Ok((parts, out.into_boxed_slice()))
}

impl NuGetVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let (parts, labels) =
            parse(input).map_err(|r| VersionError::new(Scheme::Nuget, input, r))?;
        Ok(NuGetVersion {
            raw: input.to_string(),
            parts,
            labels,
        })
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl PartialEq for NuGetVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for NuGetVersion {}
impl PartialOrd for NuGetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for NuGetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let ord = self.parts.cmp(&other.parts);
        if ord != Ordering::Equal {
            return ord;
        }
        match (self.labels.is_empty(), other.labels.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            (false, false) => {}
        }
        for (a, b) in self.labels.iter().zip(other.labels.iter()) {
            let ord = cmp_label(a, b);
            if ord != Ordering::Equal {
                return ord;
            }
        }
        self.labels.len().cmp(&other.labels.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn c(a: &str, b: &str) -> Ordering {
        NuGetVersion::parse(a)
            .unwrap()
            .cmp(&NuGetVersion::parse(b).unwrap())
    }

    #[test]
    fn table() {
        for (a, b, want) in [
            ("1.0", "1.0.0.0", Equal),
            ("1.0.01", "1.0.1.0", Equal),
            ("1.0.0-BETA", "1.0.0-beta", Equal),
            ("1.0.0+aa", "1.0.0+bb", Equal),
            ("1.0.0-beta", "1.0.0", Less),
            ("1.0.0-2", "1.0.0-10", Less),
            ("1.0.0-10", "1.0.0-a", Less),
            ("1.0.0-beta", "1.0.0-beta.1", Less),
            ("1.0.0.1-alpha", "1.0.0.1", Less),
            ("1.0.0", "1.0.0.1-alpha", Less),
        ] {
            assert_eq!(c(a, b), want, "{a} vs {b}");
        }
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "1.2.3.4.5",
            "a.b",
            "1.0-",
            "1.0-a..b",
            "1.0+",
            "v1.0",
            "1..0",
        ] {
            assert!(NuGetVersion::parse(bad).is_err(), "{bad}");
        }
    }
}
