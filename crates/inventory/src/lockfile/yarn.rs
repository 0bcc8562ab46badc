//! `yarn.lock`: classic (v1) and berry (yarn 2+, with `__metadata`).
//!
//! - **v1** is yarn's own indentation format, not YAML: an unindented header lists the
//!   specifiers that resolved to one package (`a@^1.0.0, "a@~1.2.0":`), and indented lines
//!   are `key value` fields (`version "1.2.3"`, `resolved "…"`) or nested blocks
//!   (`dependencies:`). It is read line by line: the name comes from the first specifier
//!   (an alias `x@npm:real@^1` names `real`), the version from `version`.
//! - **berry** is YAML. Each entry's `resolution` is `name@protocol:reference`; only the
//!   `npm:` protocol is a registry package (the version is the `version` field). Other
//!   protocols are the project's own workspaces (`workspace:`), local code (`file:`,
//!   `link:`, `portal:`), patched copies of a package that is also listed unpatched
//!   (`patch:`), scripts (`exec:`) and git or URL sources.
//!
//! As for npm, only registry packages are reported: git, GitHub-shorthand, `file:` and
//! `link:` entries are left out (their key is the alias used in package.json and their
//! version whatever the repository says). An entry without a version (v1) or a resolution
//! (berry), a line that is neither a header nor a field, or an unclosed quote make the file
//! an error, so a truncated or foreign file does not pass as a short lockfile.

use serde::Deserialize;

use super::npm::{is_non_registry, is_version, npm_package, split_name_version};
use super::util::{is_blank, parsed, utf8, Ordered};
use crate::{Package, ParseError, Parsed};

/// Parse a `yarn.lock` (either format).
pub fn parse(data: &[u8]) -> Result<Parsed, ParseError> {
    let text = utf8(data)?;
    if is_blank(text) {
        return Ok(Parsed::default());
    }
    let berry = text
        .lines()
        .any(|l| l.trim_end() == "__metadata:" || l.trim_end() == "\"__metadata\":");
    let packages = if berry {
        parse_berry(text)?
    } else {
        parse_v1(text)?
    };
    Ok(parsed(packages))
}

// ----- v1 -------------------------------------------------------------------------------

struct Entry {
    line: usize,
    specs: Vec<String>,
    version: Option<String>,
    resolved: Option<String>,
}

fn parse_v1(text: &str) -> Result<Vec<Package>, ParseError> {
    let mut out = Vec::new();
    let mut current: Option<Entry> = None;
    let mut field_indent: Option<usize> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim_end();
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = line.len() - content.len();
        if indent == 0 {
            if let Some(entry) = current.take() {
                finish_v1(entry, &mut out)?;
            }
            let Some(header) = content.strip_suffix(':') else {
                return Err(ParseError::new(format!(
                    "line {n}: expected an entry header ending in `:`, found {content:?}"
                )));
            };
            let specs =
                split_specs(header).map_err(|e| ParseError::new(format!("line {n}: {e}")))?;
            current = Some(Entry {
                line: n,
                specs,
                version: None,
                resolved: None,
            });
            field_indent = None;
            continue;
        }
        let Some(entry) = current.as_mut() else {
            return Err(ParseError::new(format!(
                "line {n}: indented line outside any entry"
            )));
        };
        let level = *field_indent.get_or_insert(indent);
        if indent < level {
            return Err(ParseError::new(format!(
                "line {n}: inconsistent indentation"
            )));
        }
        let (key, value) =
            split_field(content).map_err(|e| ParseError::new(format!("line {n}: {e}")))?;
        if indent == level {
            match key.as_str() {
                "version" => entry.version = value,
                "resolved" => entry.resolved = value,
                _ => {}
            }
        }
    }
    if let Some(entry) = current.take() {
        finish_v1(entry, &mut out)?;
    }
    Ok(out)
}

fn finish_v1(entry: Entry, out: &mut Vec<Package>) -> Result<(), ParseError> {
    let first = entry.specs.first().map(String::as_str).unwrap_or_default();
    let Some(version) = entry.version else {
        return Err(ParseError::new(format!(
            "entry {first:?} (line {}) has no version",
            entry.line
        )));
    };
    let (name, _) = spec_name_range(first);
    if name.is_empty() {
        return Err(ParseError::new(format!(
            "line {}: no package name in {first:?}",
            entry.line
        )));
    }
    if entry
        .specs
        .iter()
        .any(|s| range_is_non_registry(spec_name_range(s).1))
        || entry.resolved.as_deref().is_some_and(is_non_registry)
        || !is_version(&version)
    {
        return Ok(());
    }
    out.push(npm_package(name.to_string(), version));
    Ok(())
}

/// `name@range` → (real name, range), resolving `alias@npm:real@range`.
fn spec_name_range(spec: &str) -> (&str, &str) {
    let (name, range) = match split_name_version(spec) {
        Some((n, r)) => (n, r),
        None => (spec, ""),
    };
    if let Some(aliased) = range.strip_prefix("npm:") {
        if aliased.get(1..).is_some_and(|rest| rest.contains('@')) {
            if let Some((real, r)) = split_name_version(aliased) {
                return (real, r);
            }
        }
        return (name, aliased);
    }
    (name, range)
}

/// A specifier range that does not pick a registry release.
fn range_is_non_registry(range: &str) -> bool {
    const PROTOCOLS: [&str; 14] = [
        "file:",
        "link:",
        "portal:",
        "workspace:",
        "exec:",
        "patch:",
        "git+",
        "git:",
        "git@",
        "github:",
        "gitlab:",
        "bitbucket:",
        "gist:",
        "ssh:",
    ];
    if PROTOCOLS.iter().any(|p| range.starts_with(p)) {
        return true;
    }
    if range.starts_with("http://") || range.starts_with("https://") {
        return !range.ends_with(".tgz");
    }
    range.contains('/') || range.contains('#')
}

/// Split a v1 header `a@1, "b@2"` into its specifiers.
fn split_specs(header: &str) -> Result<Vec<String>, String> {
    let mut specs = Vec::new();
    let mut rest = header.trim();
    while !rest.is_empty() {
        let (spec, after) = if rest.starts_with('"') {
            let (s, after) = unquote(rest)?;
            (s, after)
        } else {
            match rest.find(',') {
                Some(i) => (rest[..i].trim().to_string(), &rest[i..]),
                None => (rest.trim().to_string(), ""),
            }
        };
        if spec.is_empty() {
            return Err("empty specifier in entry header".into());
        }
        specs.push(spec);
        rest = after.trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r.trim_start();
            if rest.is_empty() {
                return Err("trailing comma in entry header".into());
            }
        } else if !rest.is_empty() {
            return Err(format!("unexpected text {rest:?} in entry header"));
        }
    }
    if specs.is_empty() {
        return Err("empty entry header".into());
    }
    Ok(specs)
}

/// Split a v1 field line `key value`, `"key" "value"` or `key:` (nested block).
fn split_field(content: &str) -> Result<(String, Option<String>), String> {
    let (key, rest) = if content.starts_with('"') {
        unquote(content)?
    } else {
        let end = content
            .find(|c: char| c.is_whitespace())
            .unwrap_or(content.len());
        (content[..end].to_string(), &content[end..])
    };
    let rest = rest.trim();
    let key = key.strip_suffix(':').map(str::to_string).unwrap_or(key);
    if rest.is_empty() || rest == ":" {
        return Ok((key, None));
    }
    let value = if rest.starts_with('"') {
        let (v, after) = unquote(rest)?;
        if !after.trim().is_empty() {
            return Err(format!("unexpected text {after:?} after a quoted value"));
        }
        v
    } else {
        rest.to_string()
    };
    Ok((key, Some(value)))
}

/// Read a `"…"` string (with `\"` and `\\` escapes) at the start of `s`; return it and the
/// rest.
fn unquote(s: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &s[i + 1..])),
            '\\' => match chars.next() {
                Some((_, e)) => out.push(e),
                None => break,
            },
            c => out.push(c),
        }
    }
    Err("unclosed quote".into())
}

// ----- berry ----------------------------------------------------------------------------

#[derive(Deserialize)]
struct BerryEntry {
    version: Option<serde_yaml::Value>,
    resolution: Option<String>,
}

fn parse_berry(text: &str) -> Result<Vec<Package>, ParseError> {
    let doc: Ordered<serde_yaml::Value> =
        serde_yaml::from_str(text).map_err(|e| ParseError::new(format!("invalid YAML: {e}")))?;
    let mut out = Vec::new();
    for (key, value) in doc.0 {
        if key == "__metadata" {
            continue;
        }
        let entry: BerryEntry = serde_yaml::from_value(value)
            .map_err(|e| ParseError::new(format!("entry {key:?}: {e}")))?;
        let Some(resolution) = entry.resolution else {
            return Err(ParseError::new(format!("entry {key:?} has no resolution")));
        };
        let Some((name, reference)) = split_name_version(&resolution) else {
            return Err(ParseError::new(format!(
                "entry {key:?}: resolution {resolution:?} is not `name@protocol:reference`"
            )));
        };
        let Some(npm_version) = reference.strip_prefix("npm:") else {
            continue; // workspace, patch, link, portal, file, exec, git or URL
        };
        let version = match entry.version {
            Some(serde_yaml::Value::String(s)) => s,
            Some(serde_yaml::Value::Number(n)) => n.to_string(),
            _ => npm_version.to_string(),
        };
        if is_version(&version) {
            out.push(npm_package(name.to_string(), version));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::util::name_versions;

    fn names(data: &str) -> Vec<(String, String)> {
        name_versions(parse(data.as_bytes()))
    }

    #[test]
    fn v1_specs_aliases_and_sources() {
        let lock = r#"# yarn lockfile v1

a@^1.0.0, "a@~1.0.2":
  version "1.0.3"
  resolved "https://registry.yarnpkg.com/a/-/a-1.0.3.tgz#abc"
  dependencies:
    b "^2.0.0"

"@s/b@^2.0.0":
  "version" "2.0.0"

"x@npm:@s/real@^3":
  version "3.1.0"

g@owner/repo#main:
  version "4.0.0"

"f@file:./f":
  version "5.0.0"
"#;
        assert_eq!(
            names(lock),
            [
                ("a".to_string(), "1.0.3".to_string()),
                ("@s/b".into(), "2.0.0".into()),
                ("@s/real".into(), "3.1.0".into())
            ]
        );
    }

    #[test]
    fn v1_errors() {
        for (bad, want) in [
            ("a@1:\n  version \"1.0", "unclosed quote"),
            ("a@1:\n  resolved \"x\"\n", "has no version"),
            ("  version \"1\"\n", "outside any entry"),
            ("this is not a lockfile\n", "expected an entry header"),
            ("a@1, :\n  version \"1\"\n", "trailing comma"),
        ] {
            let e = parse(bad.as_bytes()).unwrap_err();
            assert!(e.0.contains(want), "{bad:?}: {e}");
        }
    }

    #[test]
    fn berry_protocols() {
        let lock = r#"
__metadata:
  version: 8

"a@npm:^1.0.0":
  version: 1.0.3
  resolution: "a@npm:1.0.3"

"alias@npm:@s/b@^2":
  version: 2.0.0
  resolution: "@s/b@npm:2.0.0"

"p@patch:p@npm%3A1.0.0#./x.patch":
  version: 1.0.0
  resolution: "p@patch:p@npm%3A1.0.0#./x.patch::version=1.0.0&hash=1"

"w@workspace:.":
  version: 0.0.0-use.local
  resolution: "w@workspace:."
"#;
        assert_eq!(
            names(lock),
            [
                ("a".to_string(), "1.0.3".to_string()),
                ("@s/b".into(), "2.0.0".into())
            ]
        );
        let e = parse(b"__metadata:\n  version: 8\n\"a@npm:1\":\n  version: 1.0.0\n").unwrap_err();
        assert!(e.0.contains("no resolution"), "{e}");
    }
}
