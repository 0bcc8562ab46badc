//! `package-lock.json` and `npm-shrinkwrap.json` (lockfile versions 1, 2 and 3).
//!
//! - Version 2 and 3 files list every installed folder under `packages`, keyed by its path
//!   (`node_modules/a`, `node_modules/a/node_modules/@s/b`). The package name is the
//!   entry's `name` when present (an alias `"x": "npm:real@1"` installs `real` into
//!   `node_modules/x` and records `name: "real"`), otherwise the path after the last
//!   `node_modules/`. When `packages` is present it is the whole truth, and the older
//!   `dependencies` tree that version 2 also carries is ignored.
//! - Version 1 files only have the nested `dependencies` tree: the key is the name and
//!   `version` is either a version, an alias `npm:real@1.2.3`, or a non-registry specifier.
//!
//! Only packages that come from a registry are reported, because advisories are about
//! registry releases. Left out are: the root project (`""`), `link: true` entries (symlinks
//! to local folders), folders outside any `node_modules` (workspaces and `file:`
//! directories; packages installed *inside* them are kept), local tarballs (`file:`), and
//! git dependencies (`git+…`, `github:…`): their `version` is whatever the repository's
//! package.json says and their key is often just an alias, so they name no registry
//! release. Packages are de-duplicated on (name, version).
//!
//! The top level must be an object with `lockfileVersion`, which every npm since 5 writes;
//! this keeps other JSON files from passing as an empty lockfile.

use serde::Deserialize;

use super::util::{is_blank, package, parse_json, parsed, purl, utf8, Ordered};
use crate::{Ecosystem, Package, ParseError, Parsed};

#[derive(Deserialize)]
struct Lock {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<serde::de::IgnoredAny>,
    packages: Option<Ordered<V2Entry>>,
    dependencies: Option<Ordered<V1Entry>>,
}

#[derive(Deserialize)]
struct V2Entry {
    name: Option<String>,
    version: Option<String>,
    resolved: Option<String>,
    #[serde(default)]
    link: bool,
}

#[derive(Deserialize)]
struct V1Entry {
    version: Option<String>,
    dependencies: Option<Ordered<V1Entry>>,
}

/// Parse a `package-lock.json` or `npm-shrinkwrap.json`.
pub fn parse(data: &[u8]) -> Result<Parsed, ParseError> {
    let text = utf8(data)?;
    if is_blank(text) {
        return Ok(Parsed::default());
    }
    let lock: Option<Lock> = parse_json(text)?;
    let Some(lock) = lock else {
        return Err(ParseError::new("the lockfile is JSON null, not an object"));
    };
    if lock.lockfile_version.is_none() {
        return Err(ParseError::new(
            "no \"lockfileVersion\": not a package-lock.json",
        ));
    }
    let mut out = Vec::new();
    if let Some(packages) = lock.packages {
        out.reserve(packages.0.len());
        for (path, entry) in packages.0 {
            if let Some(p) = v2_package(&path, entry) {
                out.push(p);
            }
        }
    } else if let Some(deps) = lock.dependencies {
        v1_packages(deps, &mut out);
    }
    Ok(parsed(out))
}

fn v2_package(path: &str, entry: V2Entry) -> Option<Package> {
    if entry.link {
        return None;
    }
    // The installed folder's name: after the last `node_modules/`. No `node_modules` at
    // all means the root, a workspace or a local `file:` directory.
    let idx = path.rfind("node_modules/")?;
    let folder = &path[idx + "node_modules/".len()..];
    let name = entry
        .name
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| folder.to_string());
    let version = entry.version.filter(|v| !v.is_empty())?;
    if let Some(resolved) = entry.resolved.as_deref() {
        if is_non_registry(resolved) {
            return None;
        }
    }
    if !is_version(&version) {
        return None;
    }
    Some(npm_package(name, version))
}

fn v1_packages(deps: Ordered<V1Entry>, out: &mut Vec<Package>) {
    for (key, entry) in deps.0 {
        if let Some(spec) = entry.version.as_deref() {
            let (name, version) = match spec.strip_prefix("npm:") {
                Some(alias) => match split_name_version(alias) {
                    Some((n, v)) => (n.to_string(), v.to_string()),
                    None => (String::new(), String::new()),
                },
                None => (key.clone(), spec.to_string()),
            };
            if !name.is_empty() && is_version(&version) {
                out.push(npm_package(name, version));
            }
        }
        if let Some(nested) = entry.dependencies {
            v1_packages(nested, out);
        }
    }
}

/// An npm package with its purl (`@scope/name` → namespace `%40scope`).
pub(crate) fn npm_package(name: String, version: String) -> Package {
    let purl = match name.split_once('/') {
        Some((scope, rest)) if scope.starts_with('@') => purl("npm", Some(scope), rest, &version),
        _ => purl("npm", None, &name, &version),
    };
    package(Ecosystem::Npm, name, version, purl)
}

/// `name@version` where the name may be scoped (`@s/n@1.0.0`).
pub(crate) fn split_name_version(s: &str) -> Option<(&str, &str)> {
    let at = s.get(1..)?.find('@')? + 1;
    let (name, version) = (&s[..at], &s[at + 1..]);
    (!name.is_empty() && !version.is_empty()).then_some((name, version))
}

/// A registry version: semver starts with a digit (npm strips a leading `v` or `=`).
pub(crate) fn is_version(v: &str) -> bool {
    v.as_bytes().first().is_some_and(u8::is_ascii_digit) && !v.contains(['/', ':', '#', ' '])
}

/// A `resolved` location that is not a registry download.
pub(crate) fn is_non_registry(resolved: &str) -> bool {
    const PREFIXES: [&str; 10] = [
        "git+",
        "git:",
        "git@",
        "github:",
        "gitlab:",
        "bitbucket:",
        "gist:",
        "file:",
        "link:",
        "ssh:",
    ];
    PREFIXES.iter().any(|p| resolved.starts_with(p))
        || resolved.starts_with("https://codeload.github.com/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::util::{name_versions, pairs};

    fn names(data: &str) -> Vec<(String, String)> {
        name_versions(parse(data.as_bytes()))
    }

    #[test]
    fn v3_paths_aliases_links_and_git() {
        let lock = r#"{"lockfileVersion": 3, "packages": {
            "": {"name": "root", "version": "1.0.0"},
            "node_modules/a": {"version": "1.0.0", "resolved": "https://registry.npmjs.org/a/-/a-1.0.0.tgz"},
            "node_modules/a/node_modules/@s/b": {"version": "2.0.0"},
            "node_modules/alias": {"name": "real", "version": "3.0.0"},
            "node_modules/local": {"resolved": "packages/local", "link": true},
            "packages/local": {"name": "local", "version": "0.0.1"},
            "packages/local/node_modules/c": {"version": "4.0.0"},
            "node_modules/g": {"version": "5.0.0", "resolved": "git+ssh://git@github.com/x/g.git#abc"},
            "node_modules/t": {"version": "6.0.0", "resolved": "file:t-6.0.0.tgz"},
            "node_modules/dup": {"version": "1.0.0"},
            "node_modules/x/node_modules/dup": {"version": "1.0.0"}
        }}"#;
        assert_eq!(
            names(lock),
            pairs(&[
                ("a", "1.0.0"),
                ("@s/b", "2.0.0"),
                ("real", "3.0.0"),
                ("c", "4.0.0"),
                ("dup", "1.0.0")
            ])
        );
        let p = parse(lock.as_bytes()).unwrap();
        assert_eq!(p.packages[1].purl.as_deref(), Some("pkg:npm/%40s/b@2.0.0"));
        assert_eq!(p.packages[0].ecosystem, Ecosystem::Npm);
    }

    #[test]
    fn v1_nested_and_aliases() {
        let lock = r#"{"lockfileVersion": 1, "dependencies": {
            "a": {"version": "1.0.0", "dependencies": {"b": {"version": "2.0.0"}}},
            "x": {"version": "npm:@s/real@3.0.0"},
            "g": {"version": "github:x/g#abc"},
            "f": {"version": "file:deps/f"}
        }}"#;
        assert_eq!(
            names(lock),
            pairs(&[("a", "1.0.0"), ("b", "2.0.0"), ("@s/real", "3.0.0")])
        );
    }

    #[test]
    fn rejects_non_lockfiles() {
        for bad in [
            "null",
            "[]",
            "{}",
            "{\"lockfileVersion\": 2, \"packages\": []}",
            "{",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(parse(b"  \n").unwrap().packages.is_empty());
    }

    #[test]
    fn name_version_split() {
        assert_eq!(split_name_version("@s/n@1.0.0"), Some(("@s/n", "1.0.0")));
        assert_eq!(split_name_version("n@^1"), Some(("n", "^1")));
        assert_eq!(split_name_version("n"), None);
        assert_eq!(split_name_version("@"), None);
        assert_eq!(split_name_version(""), None);
    }
}
