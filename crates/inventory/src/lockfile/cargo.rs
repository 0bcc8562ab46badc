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

#[derive(serde::Deserialize, Debug, PartialEq)]
struct Lock {
    package: Option<Vec<LockPackage>>,
    version: Option<serde::de::IgnoredAny>,
    root: Option<serde::de::IgnoredAny>,
    metadata: Option<serde::de::IgnoredAny>,
}

#[derive(serde::Deserialize, Debug, PartialEq)]
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
    // Cargo writes lockfiles in a small, regular subset of TOML; read that subset with a
    // strict line scanner (about 20× cheaper than a full TOML parse, which dominated scan
    // time on big lockfiles), and fall back to the TOML parser for anything else, so
    // hand-edited files and errors get the full parser's treatment.
    let lock = match fast::scan(text) {
        Some(lock) => lock,
        None => parse_toml(text)?,
    };
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

/// The line scanner for the TOML subset Cargo writes. It returns `None` (use the real
/// TOML parser) on anything outside that subset, so it can be strict without being wrong.
mod fast {
    use super::{Lock, LockPackage};

    /// A basic string with no escapes: `"..."`.
    fn string(v: &str) -> Option<&str> {
        let inner = v.strip_prefix('"')?.strip_suffix('"')?;
        (!inner.contains(['"', '\\'])).then_some(inner)
    }

    pub(super) fn scan(text: &str) -> Option<Lock> {
        #[derive(PartialEq)]
        enum Table {
            Top,
            Package,
            Other,
        }
        let mut table = Table::Top;
        let mut packages: Vec<LockPackage> = Vec::new();
        let mut cur: Option<(Option<String>, Option<String>, Option<String>)> = None;
        let mut version = false;
        let mut saw_other = false;
        let mut lines = text.lines();
        let flush = |cur: &mut Option<(Option<String>, Option<String>, Option<String>)>,
                     packages: &mut Vec<LockPackage>|
         -> Option<()> {
            if let Some((name, version, source)) = cur.take() {
                packages.push(LockPackage {
                    name: name?,
                    version: version?,
                    source,
                });
            }
            Some(())
        };
        while let Some(line) = lines.next() {
            let line = line.trim_end_matches('\r');
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with('[') && !line.contains('=') {
                flush(&mut cur, &mut packages)?;
                if line == "[[package]]" {
                    table = Table::Package;
                    cur = Some((None, None, None));
                } else if matches!(line, "[metadata]" | "[root]" | "[patch]")
                    || line.starts_with("[patch.")
                    || line.starts_with("[[patch.")
                {
                    table = Table::Other;
                    saw_other = true;
                } else {
                    return None;
                }
                continue;
            }
            let (key, value) = line.split_once(" = ")?;
            if key.is_empty()
                || !key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                // Quoted keys appear in v1 `[metadata]` ("checksum foo 1.0 (...)").
                if !(table == Table::Other && key.starts_with('"')) {
                    return None;
                }
            }
            if value.starts_with('[') {
                // An array of plain strings, on one line or one item per line.
                let mut v = value;
                loop {
                    if v.ends_with(']') {
                        break;
                    }
                    v = lines.next()?.trim();
                    if v == "]" {
                        break;
                    }
                    string(v.trim_end_matches(','))?;
                }
                if table == Table::Package && matches!(key, "name" | "version" | "source") {
                    return None;
                }
                continue;
            }
            match table {
                Table::Top if key == "version" && value.bytes().all(|b| b.is_ascii_digit()) => {
                    version = true;
                }
                Table::Package => {
                    let s = string(value)?.to_string();
                    let c = cur.as_mut()?;
                    let slot = match key {
                        "name" => &mut c.0,
                        "version" => &mut c.1,
                        "source" => &mut c.2,
                        _ => continue, // checksum, replace, ...
                    };
                    if slot.replace(s).is_some() {
                        return None; // a duplicate key: let the TOML parser report it
                    }
                }
                Table::Other => {
                    string(value)?;
                }
                Table::Top => return None,
            }
        }
        flush(&mut cur, &mut packages)?;
        if packages.is_empty() && !version && !saw_other {
            return None;
        }
        Some(Lock {
            package: (!packages.is_empty()).then_some(packages),
            version: version.then_some(serde::de::IgnoredAny),
            root: None,
            metadata: saw_other.then_some(serde::de::IgnoredAny),
        })
    }
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

    /// The line scanner and the TOML parser agree on every Cargo.lock in the shared data
    /// (where the scanner accepts the file at all), and the scanner accepts the real ones.
    #[test]
    fn fast_scanner_agrees_with_toml_parser() {
        let Some(dir) = patchpilot_testdata::shared_data("fast_scanner_agrees_with_toml_parser")
        else {
            return;
        };
        fn walk(d: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "lock") {
                    out.push(p);
                }
            }
        }
        let mut files = Vec::new();
        walk(&dir.join("lockfiles"), &mut files);
        let (mut fast_ok, mut checked) = (0, 0);
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            let slow: Result<Lock, _> = parse_toml(&text);
            if let Some(fast) = fast::scan(&text) {
                fast_ok += 1;
                let slow =
                    slow.unwrap_or_else(|e| panic!("{}: fast accepted, toml: {e}", f.display()));
                assert_eq!(fast.package, slow.package, "{}", f.display());
            }
            checked += 1;
        }
        let real: Vec<_> = files
            .iter()
            .filter(|f| f.file_name().is_some_and(|n| n == "Cargo.lock"))
            .collect();
        for f in &real {
            assert!(
                fast::scan(&std::fs::read_to_string(f).unwrap()).is_some(),
                "{}",
                f.display()
            );
        }
        eprintln!(
            "{checked} .lock files, fast scanner took {fast_ok}, {} real Cargo.lock",
            real.len()
        );
        assert!(real.len() >= 10);
    }

    #[test]
    fn fast_scanner_declines_what_it_does_not_know() {
        for text in [
            "[[package]]\nname = \"a\" # comment\nversion = \"1\"\n",
            "[[package]]\nname=\"a\"\nversion = \"1\"\n",
            "[[package]]\nname = \"a\\u0041\"\nversion = \"1\"\n",
            "[[package]]\nname = \"a\"\nname = \"b\"\nversion = \"1\"\n",
            "[[package]]\nname = \"a\"\n",
            "[unknown]\nx = \"1\"\n",
            "garbage",
        ] {
            assert!(fast::scan(text).is_none(), "{text:?}");
        }
        let lock = fast::scan("version = 3\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\ndependencies = [\n \"b\",\n \"c 1.0.0\",\n]\n").unwrap();
        let p = lock.package.unwrap();
        assert_eq!((p[0].name.as_str(), p[0].version.as_str()), ("a", "1.0.0"));
    }

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
