//! `Cargo.lock` (format versions 1 to 4): the crates a Rust workspace builds with.
//!
//! Every format version keeps one `[[package]]` table per crate with `name`, `version` and,
//! for crates that were downloaded, `source` (`registry+…`, `sparse+…` or `git+…`). Version
//! 1 also has a `[root]` table and a `[metadata]` table of checksums; both are ignored.
//!
//! Which packages are reported, and as what:
//! - crates from crates.io (`registry+https://github.com/rust-lang/crates.io-index` or
//!   `sparse+https://index.crates.io/`) are `crates.io` packages;
//! - crates from git or from another registry are reported under the ecosystems
//!   `cargo:git` and `cargo:registry`, which no advisory database matches. A git fork
//!   (say `bytes` at a company branch) keeps the crate's name and version number but not
//!   its code, and RustSec advisories are about the crates.io releases; `cargo audit` makes
//!   the same distinction (it matches an advisory only against its source registry).
//! - packages without `source` are the workspace's own members (and `path` dependencies).
//!   They are not downloaded from anywhere, so an advisory about a crates.io crate of the
//!   same name would be about different code: they are left out.

use super::util::{is_blank, package, parse_toml, parsed, purl, utf8};
use crate::{Ecosystem, ParseError, Parsed};

#[derive(serde::Deserialize)]
struct Lock {
    package: Option<Vec<LockPackage>>,
    version: Option<serde::de::IgnoredAny>,
    root: Option<serde::de::IgnoredAny>,
    metadata: Option<serde::de::IgnoredAny>,
}

#[derive(serde::Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
}

/// Parse a `Cargo.lock`.
pub fn parse(data: &[u8]) -> Result<Parsed, ParseError> {
    let text = utf8(data)?;
    if is_blank(text) {
        return Ok(Parsed::default());
    }
    let lock: Lock = parse_toml(text)?;
    if lock.package.is_none()
        && lock.version.is_none()
        && lock.root.is_none()
        && lock.metadata.is_none()
    {
        return Err(ParseError::new(
            "no [[package]], `version`, [root] or [metadata]: not a Cargo.lock",
        ));
    }
    let all = lock.package.unwrap_or_default();
    let mut packages = Vec::with_capacity(all.len());
    for (i, p) in all.into_iter().enumerate() {
        if p.name.trim().is_empty() || p.version.trim().is_empty() {
            return Err(ParseError::new(format!(
                "[[package]] number {} has an empty name or version",
                i + 1
            )));
        }
        let Some(source) = p.source.as_deref() else {
            continue; // a workspace member or path dependency
        };
        if source.starts_with("path+") {
            continue;
        }
        if is_crates_io(source) {
            let purl = purl("cargo", None, &p.name, &p.version);
            packages.push(package(Ecosystem::CratesIo, p.name, p.version, purl));
        } else {
            let kind = if source.starts_with("git+") {
                "cargo:git"
            } else {
                "cargo:registry"
            };
            packages.push(package(
                Ecosystem::Other(kind.into()),
                p.name,
                p.version,
                None,
            ));
        }
    }
    Ok(parsed(packages))
}

/// The crates.io index, in its git and sparse spellings.
fn is_crates_io(source: &str) -> bool {
    matches!(
        source.trim_end_matches('/'),
        "registry+https://github.com/rust-lang/crates.io-index" | "sparse+https://index.crates.io"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: &Parsed) -> Vec<(&str, &str)> {
        p.packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect()
    }

    #[test]
    fn registry_and_git_kept_workspace_members_dropped() {
        let lock = br#"
version = 4

[[package]]
name = "app"
version = "0.1.0"

[[package]]
name = "serde"
version = "1.0.200"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "fork"
version = "0.2.0"
source = "git+https://example.com/fork?branch=main#abcdef"

[[package]]
name = "sparse"
version = "0.3.0+build.1"
source = "sparse+https://index.crates.io/"
"#;
        let p = parse(lock).unwrap();
        assert_eq!(
            names(&p),
            [
                ("serde", "1.0.200"),
                ("fork", "0.2.0"),
                ("sparse", "0.3.0+build.1")
            ]
        );
        assert_eq!(p.packages[0].ecosystem, Ecosystem::CratesIo);
        assert_eq!(
            p.packages[2].purl.as_deref(),
            Some("pkg:cargo/sparse@0.3.0%2Bbuild.1")
        );
    }

    #[test]
    fn v1_root_and_metadata_ignored() {
        let lock = br#"
[root]
name = "app"
version = "0.1.0"

[[package]]
name = "libc"
version = "0.2.1"
source = "registry+https://github.com/rust-lang/crates.io-index"

[metadata]
"checksum libc 0.2.1 (registry+https://github.com/rust-lang/crates.io-index)" = "abc"
"#;
        assert_eq!(names(&parse(lock).unwrap()), [("libc", "0.2.1")]);
    }

    #[test]
    fn errors_name_the_position() {
        let e = parse(b"[[package]]\nname = \"x\"\nversion = ").unwrap_err();
        assert!(e.0.starts_with("invalid TOML at line 3"), "{e}");
        let e = parse(b"[[package]]\nname = \"x\"\n").unwrap_err();
        assert!(e.0.contains("missing field `version`"), "{e}");
        let e = parse(b"\xff\xfe").unwrap_err();
        assert!(e.0.contains("not UTF-8"), "{e}");
        let e = parse(b"[[package]]\nname = \"\"\nversion = \"1\"\n").unwrap_err();
        assert!(e.0.contains("empty name"), "{e}");
    }

    #[test]
    fn purl_encoding() {
        let cases = [
            (
                ("npm", Some("@babel"), "core", "7.0.0"),
                "pkg:npm/%40babel/core@7.0.0",
            ),
            (
                (
                    "golang",
                    Some("github.com/foo"),
                    "bar",
                    "v1.0.0+incompatible",
                ),
                "pkg:golang/github.com/foo/bar@v1.0.0%2Bincompatible",
            ),
            (
                ("pypi", None, "Django_Allauth", "1.11.1"),
                "pkg:pypi/django-allauth@1.11.1",
            ),
            (
                ("npm", None, "JSONStream", "1.3.5"),
                "pkg:npm/jsonstream@1.3.5",
            ),
            (("cargo", None, "a b", ""), "pkg:cargo/a%20b"),
        ];
        for ((ty, ns, name, v), want) in cases {
            assert_eq!(purl(ty, ns, name, v).as_deref(), Some(want));
        }
    }
}
