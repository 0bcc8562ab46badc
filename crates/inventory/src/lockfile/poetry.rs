//! `poetry.lock`: one `[[package]]` table per locked distribution, with `name` and
//! `version` (lock format 1.x and 2.x alike).
//!
//! Registry packages (PyPI or a `legacy` index) and git packages are reported; a git
//! package's `name` is its real distribution name, so a PyPI advisory about it is worth
//! showing. Packages whose `[package.source]` is a local `directory` or `file` are the
//! project's own code and are left out. Optional packages are reported: the lock does not
//! say whether their extra was installed, and missing a vulnerable package is the worse
//! mistake.

use serde::Deserialize;

use super::requirements::pypi_package;
use super::util::{is_blank, parse_toml, parsed, utf8};
use crate::{ParseError, Parsed};

#[derive(Deserialize)]
struct Lock {
    package: Option<Vec<LockPackage>>,
    metadata: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    source: Option<Source>,
}

#[derive(Deserialize)]
struct Source {
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// Parse a `poetry.lock`.
pub fn parse(data: &[u8]) -> Result<Parsed, ParseError> {
    let text = utf8(data)?;
    if is_blank(text) {
        return Ok(Parsed::default());
    }
    let lock: Lock = parse_toml(text)?;
    if lock.package.is_none() && lock.metadata.is_none() {
        return Err(ParseError::new(
            "no [[package]] or [metadata]: not a poetry.lock",
        ));
    }
    let packages = lock.package.unwrap_or_default();
    let mut out = Vec::with_capacity(packages.len());
    for (i, p) in packages.iter().enumerate() {
        if p.name.trim().is_empty() || p.version.trim().is_empty() {
            return Err(ParseError::new(format!(
                "[[package]] number {} has an empty name or version",
                i + 1
            )));
        }
        let local = p
            .source
            .as_ref()
            .and_then(|s| s.kind.as_deref())
            .is_some_and(|k| k == "directory" || k == "file");
        if !local {
            out.push(pypi_package(&p.name, &p.version));
        }
    }
    Ok(parsed(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_sources_dropped() {
        let lock = br#"
[[package]]
name = "Requests"
version = "2.31.0"

[[package]]
name = "mine"
version = "0.1.0"
[package.source]
type = "directory"
url = "../mine"

[[package]]
name = "forked"
version = "1.0.0"
[package.source]
type = "git"
url = "https://example.com/forked"
"#;
        let p = parse(lock).unwrap();
        let got: Vec<_> = p
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(got, [("Requests", "2.31.0"), ("forked", "1.0.0")]);
        assert_eq!(
            p.packages[0].purl.as_deref(),
            Some("pkg:pypi/requests@2.31.0")
        );
        assert!(parse(b"[[package]]\nname = \"a\"\n").is_err());
    }
}
