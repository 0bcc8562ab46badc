//! pip `requirements.txt`: the pinned requirements (`name==1.2.3`, `name===1.2.3`).
//!
//! A requirements file is not a lockfile: `requests>=2` says nothing about what is
//! installed, so only requirements pinned to one exact version are reported. The file is
//! read as pip reads it: lines ending in `\` continue on the next line; `#` starts a comment
//! at the start of a line or after whitespace; per-requirement options (`--hash=…`,
//! `--config-settings …`, `-C …`) end the requirement; extras (`name[extra]==1`) and
//! environment markers (`; python_version < "3.8"`) are dropped (markers are not
//! evaluated: we report what the file pins, for any platform).
//!
//! Skipped, and why:
//! - option lines (`-r other.txt`, `-c`, `-e`, `-i`, `--index-url`, …): this parser gets
//!   bytes, not a path, so it cannot follow `-r`/`-c` includes; a caller that wants them
//!   must read those files itself;
//! - requirements that are not pinned to a single version (`>=`, `~=`, `==1.*`, several
//!   clauses, no specifier at all);
//! - direct references (`name @ https://…`), local paths and URLs (`./pkg.whl`,
//!   `git+https://…`): they have no PyPI version;
//! - lines using `${VARIABLE}`: pip substitutes environment variables we do not have.
//!
//! Any other line must be a well-formed requirement (PEP 508 name, specifiers made of an
//! operator and a version): pip refuses a file with one bad line, and so do we, naming the
//! line. Names are kept as written (`Django`, `zope.interface`); PEP 503 normalization
//! happens at match time. The purl name is lowercased with `_` as `-`, as the purl spec
//! asks for the pypi type.

use super::util::{package, parsed, purl, utf8};
use crate::{Ecosystem, Package, ParseError, Parsed};

/// Parse a `requirements.txt`.
pub fn parse(data: &[u8]) -> Result<Parsed, ParseError> {
    let text = utf8(data)?;
    let mut out = Vec::new();
    let mut logical = String::new();
    let mut start = 0;
    let mut lines = text.lines().enumerate().peekable();
    while let Some((i, raw)) = lines.next() {
        if logical.is_empty() {
            start = i + 1;
        }
        let line = strip_comment(raw);
        if let Some(cont) = line.strip_suffix('\\') {
            logical.push_str(cont);
            logical.push(' ');
            if lines.peek().is_some() {
                continue;
            }
        } else {
            logical.push_str(line);
        }
        let l = std::mem::take(&mut logical);
        if let Some(p) =
            requirement(&l).map_err(|e| ParseError::new(format!("line {start}: {e}")))?
        {
            out.push(p);
        }
    }
    Ok(parsed(out))
}

/// pip's comment rule: `#` at the start or after whitespace.
fn strip_comment(line: &str) -> &str {
    let b = line.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'#' && (i == 0 || b[i - 1].is_ascii_whitespace()) {
            return line[..i].trim_end();
        }
    }
    line.trim_end()
}

/// One logical line: `Ok(None)` when it pins nothing.
fn requirement(line: &str) -> Result<Option<Package>, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('-') {
        return Ok(None);
    }
    if line.contains("${") {
        return Ok(None);
    }
    // Per-requirement options start at the first whitespace-preceded `-`.
    let line = match line.find(" -").or_else(|| line.find("\t-")) {
        Some(i) => line[..i].trim_end(),
        None => line,
    };
    // Environment markers.
    let line = line.split(';').next().unwrap_or(line).trim();
    if is_path_or_url(line) {
        return Ok(None);
    }
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(line.len());
    let name = &line[..name_end];
    if !valid_name(name) {
        return Err(format!("not a requirement: {line:?}"));
    }
    let mut rest = line[name_end..].trim_start();
    if let Some(r) = rest.strip_prefix('[') {
        let Some(close) = r.find(']') else {
            return Err(format!("unclosed extras in {line:?}"));
        };
        rest = r[close + 1..].trim_start();
    }
    if rest.starts_with('@') {
        return Ok(None); // direct reference
    }
    let rest = rest
        .strip_prefix('(')
        .and_then(|r| r.trim_end().strip_suffix(')'))
        .unwrap_or(rest)
        .trim();
    if rest.is_empty() {
        return Ok(None); // no version constraint
    }
    let mut pinned = None;
    let clauses: Vec<&str> = rest.split(',').map(str::trim).collect();
    for clause in &clauses {
        let (op, version) = split_op(clause)
            .ok_or_else(|| format!("bad version specifier {clause:?} in {line:?}"))?;
        if version.is_empty() || version.contains(char::is_whitespace) {
            return Err(format!("bad version in {clause:?}"));
        }
        if op != "==="
            && !version
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-+!*".contains(&b))
        {
            return Err(format!("bad version in {clause:?}"));
        }
        if (op == "==" && !version.contains('*')) || op == "===" {
            pinned = Some(version);
        }
    }
    match pinned {
        Some(version) if clauses.len() == 1 => Ok(Some(pypi_package(name, version))),
        _ => Ok(None),
    }
}

fn split_op(clause: &str) -> Option<(&str, &str)> {
    for op in ["===", "==", "!=", "<=", ">=", "~=", "<", ">"] {
        if let Some(v) = clause.strip_prefix(op) {
            return Some((op, v.trim()));
        }
    }
    None
}

fn is_path_or_url(line: &str) -> bool {
    line.starts_with('.')
        || line.starts_with('/')
        || line.contains("://")
        || line.starts_with("git+")
        || [".whl", ".tar.gz", ".zip", ".tgz"]
            .iter()
            .any(|ext| line.ends_with(ext) && !line.contains("=="))
}

/// A PEP 508 name: letters, digits, `.`, `_`, `-`, starting and ending alphanumeric.
pub(crate) fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// A PyPI package with its purl (name lowercased, `_` → `-`).
pub(crate) fn pypi_package(name: &str, version: &str) -> Package {
    let purl = purl("pypi", None, name, version);
    package(Ecosystem::PyPI, name.to_string(), version.to_string(), purl)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::util::name_versions;

    fn pins(text: &str) -> Vec<(String, String)> {
        name_versions(parse(text.as_bytes()))
    }

    #[test]
    fn table() {
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            ("a==1.0", Some(("a", "1.0"))),
            ("a === 1.0-x", Some(("a", "1.0-x"))),
            (
                "Django[bcrypt] == 4.2.1 ; python_version >= '3.8'",
                Some(("Django", "4.2.1")),
            ),
            (
                "a==1.0 --hash=sha256:abc --hash=sha256:def",
                Some(("a", "1.0")),
            ),
            ("a==1.0 # comment", Some(("a", "1.0"))),
            ("a>=1.0", None),
            ("a==1.*", None),
            ("a>=1,==1.5", None),
            ("a", None),
            ("a @ https://x/a.zip", None),
            ("./local/pkg.whl", None),
            ("-r other.txt", None),
            ("--index-url https://x", None),
            ("a==${VERSION}", None),
            ("zope.interface (==5.0)", Some(("zope.interface", "5.0"))),
        ];
        for (line, want) in cases {
            let got = parse(line.as_bytes()).unwrap_or_else(|e| panic!("{line}: {e}"));
            let got = got
                .packages
                .first()
                .map(|p| (p.name.as_str(), p.version.as_str()));
            assert_eq!(got, *want, "{line}");
        }
    }

    #[test]
    fn continuation_and_errors() {
        assert_eq!(
            pins("a \\\n  ==1.0 \\\n  --hash=x\nb==2\n"),
            [
                ("a".to_string(), "1.0".to_string()),
                ("b".into(), "2".into())
            ]
        );
        assert_eq!(pins("a==1.0 \\"), [("a".to_string(), "1.0".to_string())]);
        let e = parse(b"a==1\nasdf 1.0\n").unwrap_err();
        assert!(e.0.starts_with("line 2:"), "{e}");
        for bad in ["a==", "a#b==1.0", "a==1.0 (x)", "a[x==1", "==1.0", "a 1.0"] {
            assert!(requirement(bad).is_err(), "{bad}");
        }
        assert!(parse(b"\xff").is_err());
    }

    #[test]
    fn purl_name_normalized() {
        let p = pypi_package("Foo_Bar", "1.0");
        assert_eq!(p.purl.as_deref(), Some("pkg:pypi/foo-bar@1.0"));
        assert_eq!(p.name, "Foo_Bar");
    }
}
