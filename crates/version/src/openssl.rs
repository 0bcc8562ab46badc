//! OpenSSL versions: legacy letter releases (`0.9.8zh`, `1.0.2k`, `1.1.1w`) and SemVer
//! releases from 3.0.0 on, ordered like univers' `OpensslVersion`.
//!
//! Legacy versions are `major.minor.build` with a single-digit build followed by a letter
//! patch (`1.1.1w`), or a numeric build (`1.0.10`), optionally with a `-alphaN`/`-betaN`
//! pre-release, and must start with a known legacy base (`0.9.1` ... `1.1.1`). They order
//! by `(major, minor, build)`, then pre-releases before the release, then the patch
//! letters as a string (`z < za < zb`). Every legacy version is below every 3.x+ version,
//! and 3.x+ versions follow SemVer precedence.

use crate::semver::{cmp_precedence, parse_parts, Num, SemverParts};
use crate::{Scheme, VersionError};
use std::cmp::Ordering;

const LEGACY_BASES: [&str; 13] = [
    "0.9.1", "0.9.2", "0.9.3", "0.9.4", "0.9.5", "0.9.6", "0.9.7", "0.9.8", "1.0.0", "1.0.1",
    "1.0.2", "1.1.0", "1.1.1",
];

#[derive(Debug, Clone)]
enum Kind {
    Legacy {
        major: Num,
        minor: Num,
        build: Num,
        /// false for `-alpha`/`-beta` pre-releases, which sort before the release.
        released: bool,
        patch: Box<str>,
    },
    New(SemverParts),
}

fn parse_legacy(s: &str) -> Result<Kind, String> {
    let segs: Vec<&str> = s.split('.').collect();
    let [major, minor, build] = segs[..] else {
        return Err("a legacy OpenSSL version has three components".into());
    };
    let num = |x: &str| {
        if !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Num::from_digits(x))
        } else {
            Err(format!("{x:?} is not a number"))
        }
    };
    let (major, minor) = (num(major)?, num(minor)?);
    let (build, patch) = if build.bytes().all(|b| b.is_ascii_digit()) {
        (num(build)?, "")
    } else {
        if !build.is_char_boundary(1) {
            return Err("legacy build must start with a digit".into());
        }
        let (b, p) = build.split_at(1);
        if p.as_bytes().first().is_some_and(|c| c.is_ascii_digit()) {
            return Err("legacy build is one digit followed by letters".into());
        }
        if !p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
            return Err("invalid character in the letter release".into());
        }
        (num(b)?, p)
    };
    Ok(Kind::Legacy {
        major,
        minor,
        build,
        released: !(patch.starts_with("-beta") || patch.starts_with("-alpha")),
        patch: patch.into(),
    })
}

/// A parsed OpenSSL version.
#[derive(Debug, Clone)]
pub struct OpensslVersion {
    raw: String,
    kind: Kind,
}

impl OpensslVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let err = |r: String| VersionError::new(Scheme::Openssl, input, r);
        let s = input.trim();
        let kind = if LEGACY_BASES.iter().any(|b| s.starts_with(b)) {
            parse_legacy(s).map_err(err)?
        } else {
            let parts = parse_parts(s).map_err(err)?;
            if parts.major < Num::Small(3) {
                return Err(err("not a known legacy release and below 3.0.0".to_string()));
            }
            Kind::New(parts)
        };
        Ok(OpensslVersion {
            raw: input.to_string(),
            kind,
        })
    }
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl PartialEq for OpensslVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for OpensslVersion {}
impl PartialOrd for OpensslVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OpensslVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.kind, &other.kind) {
            (
                Kind::Legacy {
                    major,
                    minor,
                    build,
                    released,
                    patch,
                },
                Kind::Legacy {
                    major: m2,
                    minor: n2,
                    build: b2,
                    released: r2,
                    patch: p2,
                },
            ) => (major, minor, build, released, patch).cmp(&(m2, n2, b2, r2, p2)),
            (Kind::Legacy { .. }, Kind::New(_)) => Ordering::Less,
            (Kind::New(_), Kind::Legacy { .. }) => Ordering::Greater,
            (Kind::New(a), Kind::New(b)) => cmp_precedence(a, b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering() {
        let v = [
            "0.9.8",
            "0.9.8a",
            "0.9.8z",
            "0.9.8za",
            "0.9.8zh",
            "1.0.1-beta1",
            "1.0.1",
            "1.0.1f",
            "1.0.2k",
            "1.1.1",
            "1.1.1w",
            "3.0.0-alpha1",
            "3.0.0",
            "3.0.13",
            "3.1.0",
        ];
        for w in v.windows(2) {
            let a = OpensslVersion::parse(w[0]).unwrap();
            let b = OpensslVersion::parse(w[1]).unwrap();
            assert!(a < b, "{} < {}", w[0], w[1]);
        }
        for bad in ["", "2.0.0", "1.2.4fg", "1.0.2.3", "1.0.12a"] {
            assert!(OpensslVersion::parse(bad).is_err(), "{bad}");
        }
    }
}
