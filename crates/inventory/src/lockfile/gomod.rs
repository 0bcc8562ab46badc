//! `go.mod`: the module requirements of a Go module (Go's minimal version selection makes
//! them the versions that are built, from Go 1.17 on, where indirect requirements are
//! listed too).
//!
//! Read the way `golang.org/x/mod/modfile` reads it: a directive is one line
//! (`require golang.org/x/net v0.1.0`) or a parenthesized block (`require ( … )`); `//`
//! starts a comment (so `// indirect` is dropped); paths may be quoted.
//!
//! - `require` entries are the packages, named by module path, versions as written
//!   (with their `v` prefix, e.g. `v0.0.0-20210630005230-0f9fa26af87c`,
//!   `v2.0.0+incompatible`).
//! - `replace old [v] => new [v]`: a required module that is replaced is reported under
//!   the replacement's path and version, which is the code that is built. A version-specific
//!   replacement wins over a path-wide one, as in Go. A replacement by a local directory
//!   (`=> ./fork`, no version) is the project's own code and is left out. Replacements of
//!   modules that are not required change nothing.
//! - `go` and `toolchain`: like osv-scanner, we report the Go standard library as the
//!   package `stdlib`, at the `toolchain` version when there is one (`go1.23.6-xyz` →
//!   `v1.23.6`), otherwise the `go` version (from Go 1.21 the minimum toolchain that may
//!   build the module). The version is padded to three numbers and gets a `v` like every
//!   Go version here (`go 1.17` → `v1.17.0`, `1.21rc1` → `v1.21.0-rc.1`). Without either
//!   directive, `stdlib` is not reported.
//! - `module`, `exclude`, `retract`, `godebug`, `tool` and `ignore` are read and ignored.
//!   Any other directive, a line outside a directive, an unclosed block or quote, or a
//!   requirement without a `v…` version make the file an error.

use super::util::{package, parsed, purl, utf8};
use crate::{Ecosystem, Package, ParseError, Parsed};

struct Replace {
    old: String,
    old_version: Option<String>,
    new: String,
    new_version: Option<String>,
}

#[derive(Default)]
struct GoMod {
    requires: Vec<(String, String)>,
    replaces: Vec<Replace>,
    go: Option<String>,
    toolchain: Option<String>,
}

/// Parse a `go.mod`.
pub fn parse(data: &[u8]) -> Result<Parsed, ParseError> {
    let text = utf8(data)?;
    let m = read(text)?;
    let mut out = Vec::with_capacity(m.requires.len() + 1);
    for (path, version) in &m.requires {
        let replace = m
            .replaces
            .iter()
            .find(|r| r.old == *path && r.old_version.as_deref() == Some(version.as_str()))
            .or_else(|| {
                m.replaces
                    .iter()
                    .find(|r| r.old == *path && r.old_version.is_none())
            });
        match replace {
            // No version: replaced by a local directory.
            Some(r) => {
                if let Some(v) = &r.new_version {
                    out.push(go_package(&r.new, v));
                }
            }
            None => out.push(go_package(path, version)),
        }
    }
    let stdlib = m
        .toolchain
        .as_deref()
        .and_then(|t| t.strip_prefix("go"))
        .or(m.go.as_deref())
        .and_then(go_version);
    if let Some(v) = stdlib {
        out.push(go_package("stdlib", &v));
    }
    Ok(parsed(out))
}

fn go_package(path: &str, version: &str) -> Package {
    let purl = match path.rsplit_once('/') {
        Some((ns, name)) => purl("golang", Some(ns), name, version),
        None => purl("golang", None, path, version),
    };
    package(Ecosystem::Go, path.to_string(), version.to_string(), purl)
}

/// `1.21` → `v1.21.0`, `1.21rc1` → `v1.21.0-rc.1`, `1.23.6-xyz` → `v1.23.6`.
fn go_version(s: &str) -> Option<String> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(end);
    let parts: Vec<&str> = num.split('.').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let mut v = format!("v{}", parts.join("."));
    for _ in parts.len()..3 {
        v.push_str(".0");
    }
    for pre in ["rc", "beta", "alpha"] {
        if let Some(n) = suffix.strip_prefix(pre) {
            if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
                v.push_str(&format!("-{pre}.{n}"));
            }
        }
    }
    Some(v)
}

fn read(text: &str) -> Result<GoMod, ParseError> {
    let mut m = GoMod::default();
    let mut block: Option<(String, usize)> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let err = |e: String| ParseError::new(format!("line {n}: {e}"));
        let tokens = tokenize(raw).map_err(err)?;
        if tokens.is_empty() {
            continue;
        }
        if let Some((verb, _)) = &block {
            if tokens == [")"] {
                block = None;
                continue;
            }
            let verb = verb.clone();
            directive(&mut m, &verb, &tokens).map_err(err)?;
            continue;
        }
        let verb = tokens[0].as_str();
        let args = &tokens[1..];
        match args {
            [open] if open == "(" => {
                check_verb(verb).map_err(err)?;
                block = Some((verb.to_string(), n));
            }
            [open, close] if open == "(" && close == ")" => check_verb(verb).map_err(err)?,
            _ => directive(&mut m, verb, args).map_err(err)?,
        }
    }
    if let Some((verb, line)) = block {
        return Err(ParseError::new(format!(
            "line {line}: `{verb} (` block is never closed"
        )));
    }
    Ok(m)
}

const VERBS: [&str; 10] = [
    "module",
    "go",
    "toolchain",
    "godebug",
    "require",
    "exclude",
    "replace",
    "retract",
    "tool",
    "ignore",
];

fn check_verb(verb: &str) -> Result<(), String> {
    if VERBS.contains(&verb) {
        Ok(())
    } else {
        Err(format!("unknown directive {verb:?}"))
    }
}

fn directive(m: &mut GoMod, verb: &str, args: &[String]) -> Result<(), String> {
    check_verb(verb)?;
    let one = |what: &str| match args {
        [a] => Ok(a.clone()),
        _ => Err(format!("`{what}` takes one argument")),
    };
    match verb {
        "go" => m.go = Some(one("go")?),
        "toolchain" => m.toolchain = Some(one("toolchain")?),
        "require" => match args {
            [path, version] if version.starts_with('v') => {
                m.requires.push((path.clone(), version.clone()))
            }
            _ => {
                return Err(format!(
                    "`require` needs a module path and a v… version, got {args:?}"
                ))
            }
        },
        "replace" => {
            let arrow = args
                .iter()
                .position(|a| a == "=>")
                .ok_or_else(|| format!("`replace` without `=>`: {args:?}"))?;
            let (old, new) = (&args[..arrow], &args[arrow + 1..]);
            let (old, old_version) = match old {
                [p] => (p.clone(), None),
                [p, v] => (p.clone(), Some(v.clone())),
                _ => return Err(format!("bad `replace` left side {old:?}")),
            };
            let (new, new_version) = match new {
                [p] => (p.clone(), None),
                [p, v] => (p.clone(), Some(v.clone())),
                _ => return Err(format!("bad `replace` right side {new:?}")),
            };
            m.replaces.push(Replace {
                old,
                old_version,
                new,
                new_version,
            });
        }
        _ => {}
    }
    Ok(())
}

/// Split a line into tokens: `//` comments dropped, `"…"` and `` `…` `` strings unquoted,
/// `(`, `)` and `=>` standing alone.
fn tokenize(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = line;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() || rest.starts_with("//") {
            return Ok(out);
        }
        if let Some(r) = rest.strip_prefix("=>") {
            out.push("=>".into());
            rest = r;
        } else if rest.starts_with('(') || rest.starts_with(')') {
            out.push(rest[..1].to_string());
            rest = &rest[1..];
        } else if let Some(r) = rest.strip_prefix('"') {
            let mut s = String::new();
            let mut chars = r.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    '\\' => {
                        if let Some((_, e)) = chars.next() {
                            s.push(e);
                        }
                    }
                    c => s.push(c),
                }
            }
            let end = end.ok_or("unclosed quote")?;
            out.push(s);
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('`') {
            let end = r.find('`').ok_or("unclosed quote")?;
            out.push(r[..end].to_string());
            rest = &r[end + 1..];
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"' || c == '(' || c == ')')
                .unwrap_or(rest.len());
            let end = match rest[..end].find("//") {
                Some(c) if c > 0 => c,
                _ => end,
            };
            let token = &rest[..end];
            match token.find("=>") {
                Some(a) if a > 0 => {
                    out.push(token[..a].to_string());
                    rest = &rest[a..];
                }
                _ => {
                    out.push(token.to_string());
                    rest = &rest[end..];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::util::{name_versions, pairs};

    fn pkgs(text: &str) -> Vec<(String, String)> {
        name_versions(parse(text.as_bytes()))
    }

    #[test]
    fn requires_replaces_and_stdlib() {
        let m = "module example.com/m // comment\n\ngo 1.21rc1\n\nrequire (\n\tgolang.org/x/net v0.1.0 // indirect\n\t\"example.com/q\" v1.0.0+incompatible\n\texample.com/local v1.0.0\n)\nrequire example.com/one v0.0.1\n\nreplace golang.org/x/net => example.com/fork/net v0.2.0\nreplace example.com/local v1.0.0 => ../local\nexclude example.com/x v1.0.0\n";
        assert_eq!(
            pkgs(m),
            pairs(&[
                ("example.com/fork/net", "v0.2.0"),
                ("example.com/q", "v1.0.0+incompatible"),
                ("example.com/one", "v0.0.1"),
                ("stdlib", "v1.21.0-rc.1"),
            ])
        );
        let p = parse(m.as_bytes()).unwrap();
        assert_eq!(
            p.packages[1].purl.as_deref(),
            Some("pkg:golang/example.com/q@v1.0.0%2Bincompatible")
        );
        assert_eq!(
            p.packages[3].purl.as_deref(),
            Some("pkg:golang/stdlib@v1.21.0-rc.1")
        );
        assert_eq!(p.packages[0].ecosystem, Ecosystem::Go);
    }

    #[test]
    fn go_versions() {
        for (input, want) in [
            ("1.17", Some("v1.17.0")),
            ("1.23.6-xyz", Some("v1.23.6")),
            ("1.22.0", Some("v1.22.0")),
            ("1.21beta2", Some("v1.21.0-beta.2")),
            ("x", None),
            ("1..2", None),
        ] {
            assert_eq!(go_version(input).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn errors() {
        for (bad, want) in [
            ("this is not a go.mod file!", "unknown directive"),
            ("require (\n\tgolang.org/x/net v0.1.0\n", "never closed"),
            ("require golang.org/x/net", "needs a module path"),
            ("require golang.org/x/net 1.0.0", "needs a module path"),
            ("module \"example.com/m", "unclosed quote"),
            ("replace a v1 b v2", "without `=>`"),
            ("go 1.21 1.22", "takes one argument"),
        ] {
            let e = parse(bad.as_bytes()).unwrap_err();
            assert!(e.0.contains(want), "{bad:?}: {e}");
        }
        assert!(parse(b"").unwrap().packages.is_empty());
    }
}
