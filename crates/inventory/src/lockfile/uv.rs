//! `uv.lock`: one `[[package]]` table per locked distribution, with `name`, `version` and
//! `source` (`{ registry = … }`, `{ git = … }`, `{ url = … }`, or a local
//! `{ editable | virtual | directory | path = … }`).
//!
//! Registry, git and URL packages are reported. Local sources are the project itself (the
//! `virtual`/`editable` root, `.`) or other local code: they have no PyPI release, so they
//! are left out. A package without `version` only happens for dynamic local projects and is
//! left out too.

use serde::Deserialize;

use super::requirements::pypi_package;
use super::util::{is_blank, parse_toml, parsed, utf8};
use crate::{ParseError, Parsed};

#[derive(Deserialize)]
struct Lock {
    package: Option<Vec<LockPackage>>,
    version: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: String,
    version: Option<String>,
    #[serde(default)]
    source: Option<toml::Table>,
}

/// Parse a `uv.lock`.
pub fn parse(data: &[u8]) -> Result<Parsed, ParseError> {
    let text = utf8(data)?;
    if is_blank(text) {
        return Ok(Parsed::default());
    }
    let lock: Lock = parse_toml(text)?;
    if lock.package.is_none() && lock.version.is_none() {
        return Err(ParseError::new(
            "no `version` or [[package]]: not a uv.lock",
        ));
    }
    let packages = lock.package.unwrap_or_default();
    let mut out = Vec::with_capacity(packages.len());
    for (i, p) in packages.iter().enumerate() {
        if p.name.trim().is_empty() {
            return Err(ParseError::new(format!(
                "[[package]] number {} has an empty name",
                i + 1
            )));
        }
        let local = p.source.as_ref().is_some_and(|s| {
            ["editable", "virtual", "directory", "path"]
                .iter()
                .any(|k| s.contains_key(*k))
        });
        match p.version.as_deref() {
            Some(v) if !local && !v.trim().is_empty() => out.push(pypi_package(&p.name, v)),
            _ => {}
        }
    }
    Ok(parsed(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_itself_dropped() {
        let lock = br#"
version = 1
[[package]]
name = "emoji"
version = "2.14.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "me"
version = "0.1.0"
source = { editable = "." }

[[package]]
name = "lib"
version = "0.2.0"
source = { directory = "../lib" }
"#;
        let p = parse(lock).unwrap();
        let got: Vec<_> = p.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(got, ["emoji"]);
        assert!(parse(b"[[package]]\nversion = \"1\"\n").is_err());
    }
}
