//! `Pipfile.lock`: JSON with `default` (runtime) and `develop` (dev) sections mapping each
//! name to `{ "version": "==1.2.3", … }`.
//!
//! Both sections are reported (a vulnerable dev tool still runs on developer machines and
//! CI). Entries without `version` are git, path or editable requirements: they have no
//! PyPI version and are left out. The top level must be an object with `_meta`,
//! `default` or `develop`, so other JSON is not taken for an empty lockfile; an empty
//! (blank) file is an empty lockfile.

use serde::Deserialize;

use super::requirements::pypi_package;
use super::util::{is_blank, parse_json, parsed, utf8, Ordered};
use crate::{ParseError, Parsed};

#[derive(Deserialize)]
struct Lock {
    #[serde(rename = "_meta")]
    meta: Option<serde::de::IgnoredAny>,
    default: Option<Ordered<Entry>>,
    develop: Option<Ordered<Entry>>,
}

#[derive(Deserialize)]
struct Entry {
    version: Option<String>,
}

/// Parse a `Pipfile.lock`.
pub fn parse(data: &[u8]) -> Result<Parsed, ParseError> {
    let text = utf8(data)?;
    if is_blank(text) {
        return Ok(Parsed::default());
    }
    let lock: Option<Lock> = parse_json(text)?;
    let Some(lock) = lock else {
        return Err(ParseError::new("the lockfile is JSON null, not an object"));
    };
    if lock.meta.is_none() && lock.default.is_none() && lock.develop.is_none() {
        return Err(ParseError::new(
            "no \"_meta\", \"default\" or \"develop\": not a Pipfile.lock",
        ));
    }
    let mut out = Vec::new();
    for (name, entry) in lock
        .default
        .unwrap_or_default()
        .0
        .into_iter()
        .chain(lock.develop.unwrap_or_default().0)
    {
        let Some(spec) = entry.version else { continue };
        let Some(version) = spec
            .trim()
            .strip_prefix("==")
            .map(|v| v.trim_start_matches('=').trim())
        else {
            return Err(ParseError::new(format!(
                "{name:?}: version {spec:?} is not pinned with `==`"
            )));
        };
        if name.trim().is_empty() || version.is_empty() {
            return Err(ParseError::new(format!("{name:?}: empty name or version")));
        }
        out.push(pypi_package(&name, version));
    }
    Ok(parsed(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sections_and_no_version() {
        let lock = br#"{"_meta": {}, "default": {"a": {"version": "==1.0"}, "g": {"git": "x"}},
                        "develop": {"b": {"version": "==2.0"}, "a": {"version": "==1.0"}}}"#;
        let p = parse(lock).unwrap();
        let got: Vec<_> = p
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(got, [("a", "1.0"), ("b", "2.0")]);
        assert!(parse(b"{}").is_err());
        assert!(parse(b"null").is_err());
        assert!(parse(br#"{"default": {"a": {"version": ">=1"}}}"#).is_err());
    }
}
