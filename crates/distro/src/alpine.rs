//! Alpine secdb → advisories.
//!
//! Input (YAML, or the JSON form of the same structure; both are read with the YAML
//! parser, JSON being YAML): `{distroversion: v3.15, reponame: main, packages: [{pkg:
//! {name, secfixes: {"1.2.3-r0": [CVE-…], "0": [CVE-…]}}}]}`. `name` is the origin (source)
//! package, which is what the matcher looks up for Alpine.
//!
//! Rules:
//! - Each id under version V gives package `name` the range `introduced 0, fixed V` on
//!   release `distroversion` (`v3.15`, `edge`).
//! - Version `"0"` (YAML may spell it as the integer `0`) means "never affected in Alpine":
//!   no entry.
//! - An entry may hold several ids or a note (`CVE-2019-1 CVE-2019-2`, `CVE-2020-1
//!   (disputed)`): it is split on white space and only tokens that look like ids are kept.
//! - One advisory per id in the file; all packages naming it are merged into it. An id
//!   listed under two versions of one package gets both ranges (the matcher then reports
//!   the package as affected below the later fix, the conservative reading).
//! - Any other non-string version key (a YAML float such as `1.10`, which would lose its
//!   trailing zero) is refused rather than guessed.

use std::collections::BTreeMap;

use patchpilot_osv::{Advisory, Affected, Ecosystem, Event, Range, RangeType};
use serde::Deserialize;
use serde_yaml::Value;

use crate::{invalid, looks_like_id, syntax, tracker_advisory, DistroError, Format};

#[derive(Deserialize)]
struct RawSecDb {
    distroversion: String,
    #[serde(default)]
    reponame: Option<String>,
    #[serde(default)]
    packages: Vec<RawEntry>,
}

#[derive(Deserialize)]
struct RawEntry {
    pkg: RawPkg,
}

#[derive(Deserialize)]
struct RawPkg {
    name: String,
    #[serde(default)]
    secfixes: Option<serde_yaml::Mapping>,
}

fn version_key(key: &Value) -> Option<String> {
    match key {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) if n.as_u64() == Some(0) => Some("0".into()),
        _ => None,
    }
}

pub(crate) fn convert(bytes: &[u8], source_name: &str) -> Result<Vec<Advisory>, DistroError> {
    let db: RawSecDb =
        serde_yaml::from_slice(bytes).map_err(|e| syntax(source_name, Format::AlpineSecDb, e))?;
    let release = db.distroversion.trim();
    if release.is_empty() {
        return Err(invalid(source_name, "distroversion", "is empty"));
    }
    // id → package name → fixed versions (in file order).
    let mut by_id: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for (i, entry) in db.packages.iter().enumerate() {
        let name = entry.pkg.name.trim();
        if name.is_empty() {
            return Err(invalid(
                source_name,
                format!("packages[{i}].pkg.name"),
                "is empty",
            ));
        }
        let Some(secfixes) = &entry.pkg.secfixes else {
            continue;
        };
        for (key, ids) in secfixes {
            let field = || format!("packages[{i}] ({name}).secfixes");
            let Some(version) = version_key(key) else {
                return Err(invalid(
                    source_name,
                    field(),
                    format!("version key {key:?} is not a string"),
                ));
            };
            if version.is_empty() {
                return Err(invalid(source_name, field(), "empty version key"));
            }
            let items = match ids {
                Value::Null => continue,
                Value::Sequence(items) => items,
                _ => {
                    return Err(invalid(
                        source_name,
                        format!("{}.{version}", field()),
                        "is not a list of ids",
                    ))
                }
            };
            if version == "0" {
                continue; // never affected
            }
            for item in items {
                let Value::String(text) = item else {
                    return Err(invalid(
                        source_name,
                        format!("{}.{version}", field()),
                        format!("entry {item:?} is not a string"),
                    ));
                };
                for token in text.split_whitespace() {
                    let token = token.trim_matches(|c: char| ",;()[]".contains(c));
                    if !looks_like_id(token) {
                        continue;
                    }
                    let versions = by_id
                        .entry(token.to_string())
                        .or_default()
                        .entry(name.to_string())
                        .or_default();
                    if !versions.contains(&version) {
                        versions.push(version.clone());
                    }
                }
            }
        }
    }
    let ds = serde_json::json!({
        "source": source_name,
        "reponame": db.reponame.as_deref().unwrap_or(""),
    })
    .to_string();
    Ok(by_id
        .into_iter()
        .map(|(id, packages)| {
            let affected: Vec<Affected> = packages
                .into_iter()
                .map(|(name, fixes)| Affected {
                    ecosystem: Ecosystem::Alpine,
                    release: Some(release.to_string()),
                    name,
                    purl: None,
                    ranges: fixes
                        .into_iter()
                        .map(|v| Range {
                            ty: RangeType::Ecosystem,
                            repo: None,
                            events: vec![Event::Introduced("0".into()), Event::Fixed(v)],
                        })
                        .collect(),
                    versions: Vec::new(),
                    severity: Vec::new(),
                    ecosystem_specific: None,
                    database_specific: None,
                })
                .collect();
            tracker_advisory(
                "ALPINE",
                &id,
                affected,
                None,
                format!("https://security.alpinelinux.org/vuln/{id}"),
                ds.clone(),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(yaml: &str) -> Result<Vec<Advisory>, DistroError> {
        convert(yaml.as_bytes(), "main.yaml")
    }

    const HEAD: &str = "distroversion: v3.18\nreponame: main\npackages:\n";

    #[test]
    fn merges_packages_skips_zero_and_splits_notes() {
        let yaml = format!(
            "{HEAD}- pkg:\n    name: a\n    secfixes:\n      1.0-r1:\n      - CVE-2020-1 CVE-2020-2\n      0:\n      - CVE-2020-3\n\
             - pkg:\n    name: b\n    secfixes:\n      2.0-r0:\n      - CVE-2020-1 (disputed)\n      - XSA-7\n"
        );
        let out = run(&yaml).unwrap();
        let ids: Vec<&str> = out.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            ids,
            ["ALPINE-CVE-2020-1", "ALPINE-CVE-2020-2", "ALPINE-XSA-7"]
        );
        let c1 = &out[0];
        assert_eq!(c1.aliases, ["CVE-2020-1"]);
        let names: Vec<&str> = c1.affected.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(
            c1.affected[1].ranges[0].events,
            [Event::Introduced("0".into()), Event::Fixed("2.0-r0".into())]
        );
        assert_eq!(c1.affected[0].release.as_deref(), Some("v3.18"));
        assert!(out[2].aliases.is_empty());
    }

    #[test]
    fn json_form_is_accepted() {
        let json = r#"{"distroversion": "v3.19", "reponame": "main", "packages":
            [{"pkg": {"name": "zlib", "secfixes": {"1.2.12-r2": ["CVE-2022-37434"], "0": ["CVE-2023-1"]}}}]}"#;
        let out = convert(json.as_bytes(), "main.json").unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].affected[0].release.as_deref(), Some("v3.19"));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let cases = [
            "",
            "[1, 2]",
            "packages: []\n",
            "distroversion: ''\npackages: []\n",
            &format!("{HEAD}- pkg:\n    name: ''\n"),
            &format!("{HEAD}- pkg:\n    name: a\n    secfixes:\n      1.10:\n      - CVE-2020-1\n"),
            &format!("{HEAD}- pkg:\n    name: a\n    secfixes:\n      1.0-r0: CVE-2020-1\n"),
            &format!("{HEAD}- pkg:\n    name: a\n    secfixes:\n      1.0-r0:\n      - [x]\n"),
            "distroversion: v3.18\npackages: {a: 1}\n",
        ];
        for bad in cases {
            let e = run(bad).unwrap_err().to_string();
            assert!(e.starts_with("main.yaml: "), "{bad}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
