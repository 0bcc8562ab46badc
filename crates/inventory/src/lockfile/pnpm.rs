//! `pnpm-lock.yaml` (lockfile versions 5.x, 6.x and 9.x).
//!
//! Every installed package is a key of `packages`, a "dependency path" whose shape changed
//! over time:
//! - 5.x: `/name/1.0.0`, `/@scope/name/1.0.0`, with peers after `_`
//!   (`/name/1.0.0_react@18.0.0`), or with a registry host instead of the leading `/`
//!   (`registry.npmjs.org/name/1.0.0`);
//! - 6.x: `/name@1.0.0`, `/@scope/name@1.0.0`, peers in parentheses
//!   (`/name@1.0.0(react@18.0.0)`);
//! - 9.x: `name@1.0.0` (peers only appear under `snapshots`, which we do not need).
//!
//! A `name` or `version` field inside the entry wins over the key (pnpm writes them when
//! the key cannot hold them, e.g. tarball and git dependencies).
//!
//! As for npm, only registry packages are reported: `file:` and `link:` entries, git
//! entries (`resolution` with `commit` or `type: git`, codeload.github.com tarballs) and
//! local directories (`type: directory`) are left out. A key we cannot read a name and a
//! version from (`github.com/kevva/is-positive`) is skipped rather than failing the file:
//! pnpm invents new key shapes now and then, and the rest of the file is still good.
//!
//! The document must be a mapping with `lockfileVersion`; an empty document (blank or only
//! comments) is an empty lockfile.

use serde::Deserialize;

use super::npm::{is_non_registry, is_version, npm_package, split_name_version};
use super::util::{is_blank, parsed, utf8, Ordered};
use crate::{Package, ParseError, Parsed};

#[derive(Deserialize)]
struct Lock {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<serde_yaml::Value>,
    #[serde(default)]
    packages: Option<Ordered<Option<Entry>>>,
}

#[derive(Deserialize, Default)]
struct Entry {
    name: Option<String>,
    version: Option<String>,
    resolution: Option<Resolution>,
}

#[derive(Deserialize, Default)]
struct Resolution {
    commit: Option<String>,
    tarball: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    directory: Option<String>,
}

/// Parse a `pnpm-lock.yaml`.
pub fn parse(data: &[u8]) -> Result<Parsed, ParseError> {
    let text = utf8(data)?;
    if is_blank(text)
        || text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(Parsed::default());
    }
    let lock: Lock =
        serde_yaml::from_str(text).map_err(|e| ParseError::new(format!("invalid YAML: {e}")))?;
    let major = match &lock.lockfile_version {
        Some(serde_yaml::Value::String(s)) => leading_major(s),
        Some(serde_yaml::Value::Number(n)) => n.as_f64().map(|f| f as u32),
        _ => None,
    }
    .ok_or_else(|| ParseError::new("no readable \"lockfileVersion\": not a pnpm-lock.yaml"))?;
    let mut out = Vec::new();
    for (key, entry) in lock.packages.unwrap_or_default().0 {
        if let Some(p) = package(&key, entry.unwrap_or_default(), major) {
            out.push(p);
        }
    }
    Ok(parsed(out))
}

fn leading_major(s: &str) -> Option<u32> {
    let digits: String = s.trim().chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn package(key: &str, entry: Entry, major: u32) -> Option<Package> {
    let key = key.trim_matches('\'');
    if key.starts_with("file:") || key.starts_with("link:") {
        return None;
    }
    if let Some(r) = &entry.resolution {
        if r.commit.is_some()
            || r.directory.is_some()
            || r.kind
                .as_deref()
                .is_some_and(|k| k == "git" || k == "directory")
            || r.tarball.as_deref().is_some_and(is_non_registry)
        {
            return None;
        }
    }
    let (key_name, key_version) = split_key(key, major).unwrap_or_default();
    let name = entry.name.filter(|n| !n.is_empty()).unwrap_or(key_name);
    let version = entry
        .version
        .filter(|v| !v.is_empty())
        .unwrap_or(key_version);
    if name.is_empty() || !is_version(&version) {
        return None;
    }
    Some(npm_package(name, version))
}

/// Name and version from a dependency path, or `None` when the key has neither.
fn split_key(key: &str, major: u32) -> Option<(String, String)> {
    // Peers: `(…)` from 6.0 on, `_…` before.
    let key = key.split('(').next().unwrap_or(key);
    if major >= 9 {
        let (name, version) = split_name_version(key)?;
        return Some((name.to_string(), version.to_string()));
    }
    // Drop the leading `/` or registry host.
    let (_, rest) = key.split_once('/')?;
    let mut parts = rest.splitn(3, '/');
    let first = parts.next()?;
    let (name, version) = if first.starts_with('@') {
        let second = parts.next()?;
        (format!("{first}/{}", name_part(second)), parts.next())
    } else {
        (name_part(first).to_string(), parts.next())
    };
    let version = match version {
        Some(v) => v.split('_').next().unwrap_or(v).to_string(),
        // 6.x: the version is after `@` in the last segment.
        None => {
            let last = if first.starts_with('@') { rest } else { first };
            let (_, v) = split_name_version(last)?;
            v.to_string()
        }
    };
    (!name.is_empty() && is_version(&version)).then_some((name, version))
}

/// `name@1.0.0` → `name` (6.x keys); anything else as is.
fn name_part(segment: &str) -> &str {
    match segment.find('@') {
        Some(i) if i > 0 => &segment[..i],
        _ => segment,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_paths() {
        type Case = (&'static str, u32, Option<(&'static str, &'static str)>);
        let cases: [Case; 12] = [
            ("/foo/1.0.0", 5, Some(("foo", "1.0.0"))),
            ("/@foo/bar/1.0.0", 5, Some(("@foo/bar", "1.0.0"))),
            (
                "registry.npmjs.org/@foo/bar/1.1.0",
                5,
                Some(("@foo/bar", "1.1.0")),
            ),
            (
                "/foo/1.4.0_@types+babel__core@7.1.14",
                5,
                Some(("foo", "1.4.0")),
            ),
            ("github.com/kevva/is-positive", 5, None),
            ("/foo/bar", 5, None),
            ("/acorn@8.7.0", 6, Some(("acorn", "8.7.0"))),
            ("/@s/n@1.0.0(react@18.0.0)", 6, Some(("@s/n", "1.0.0"))),
            (
                "/react-dom@18.0.0-rc.3(react@18.2.0)",
                6,
                Some(("react-dom", "18.0.0-rc.3")),
            ),
            ("@s/n@1.0.0", 9, Some(("@s/n", "1.0.0"))),
            ("n@1.0.0", 9, Some(("n", "1.0.0"))),
            ("invalidpath", 5, None),
        ];
        for (key, major, want) in cases {
            let got = split_key(key, major);
            let got = got.as_ref().map(|(n, v)| (n.as_str(), v.as_str()));
            if want.is_none() {
                assert!(got.is_none_or(|(_, v)| !is_version(v)), "{key}: {got:?}");
            } else {
                assert_eq!(got, want, "{key}");
            }
        }
    }

    #[test]
    fn requires_lockfile_version() {
        assert!(parse(b"packages:\n  /a/1.0.0: {}\n").is_err());
        assert!(parse(b"just a string").is_err());
        assert!(parse(b"# only a comment\n").unwrap().packages.is_empty());
        let p = parse(b"lockfileVersion: 5.4\npackages:\n  /a/1.0.0:\n    dev: false\n").unwrap();
        assert_eq!(p.packages[0].purl.as_deref(), Some("pkg:npm/a@1.0.0"));
    }
}
