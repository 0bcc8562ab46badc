//! dpkg `status` (and opkg `status`): the database of what dpkg installed.
//!
//! The file is a list of RFC 822-style stanzas separated by blank lines; fields are
//! `Name: value`, and a line starting with a space or tab continues the previous field
//! (`Description`, `Conffiles`). We read only `Package`, `Status`, `Version`,
//! `Architecture` and `Source`, working on bytes so a stray non-UTF-8 byte in a description
//! cannot fail the file (the fields we keep must be UTF-8).
//!
//! Which stanzas are installed packages follows dpkg itself: the third word of `Status`
//! (the package state) must be `installed`, or one of the trigger states that only happen
//! after configuration (`triggers-awaited`, `triggers-pending`). The first word is only the
//! user's wish, so `hold ok installed`, `deinstall reinstreq installed` and
//! `purge ok installed` are installed (their files are on disk), while `config-files`,
//! `half-installed`, `unpacked`, `half-configured` and `not-installed` are not. A stanza
//! without `Status` is not installed in the main `status` file (as for dpkg), but *is* in
//! the one-file-per-package `status.d/` directory of distroless images, which never
//! writes the field: see [`parse_status_d`].
//!
//! Like `dpkg-query`, a stanza without `Package`, an installed package without `Version`,
//! a duplicated key field, a malformed `Status` or a line that is not a field make the
//! whole file an error: the database is corrupt, and guessing would hide that.

use crate::host::OsTarget;
use crate::{Package, ParseError, Parsed};

/// Parse a dpkg/opkg `status` file, as Debian packages (the caller may know better: see
/// [`parse_for`]).
pub fn parse(data: &[u8]) -> Result<Parsed, ParseError> {
    parse_for(data, &OsTarget::debian())
}

/// Parse one file of a distroless `/var/lib/dpkg/status.d/` directory, where a missing
/// `Status` field means installed.
pub fn parse_status_d(data: &[u8], target: &OsTarget) -> Result<Parsed, ParseError> {
    parse_inner(data, target, true)
}

/// Parse a `status` file for a known distro (ecosystem, release and purl namespace).
pub fn parse_for(data: &[u8], target: &OsTarget) -> Result<Parsed, ParseError> {
    parse_inner(data, target, false)
}

/// The fields of one stanza we care about, as raw (trimmed) values.
#[derive(Default)]
struct Stanza<'a> {
    start_line: usize,
    package: Option<&'a [u8]>,
    status: Option<&'a [u8]>,
    version: Option<&'a [u8]>,
    arch: Option<&'a [u8]>,
    source: Option<&'a [u8]>,
    any_field: bool,
}

fn parse_inner(
    data: &[u8],
    target: &OsTarget,
    missing_status_installed: bool,
) -> Result<Parsed, ParseError> {
    let mut packages = Vec::new();
    let mut st = Stanza::default();
    let mut in_field = false;
    for (i, raw) in lines(data).enumerate() {
        let lineno = i + 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.iter().all(|b| *b == b' ' || *b == b'\t') {
            if st.any_field {
                finish(&st, target, missing_status_installed, &mut packages)?;
            }
            st = Stanza::default();
            in_field = false;
            continue;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if !in_field {
                return Err(ParseError::new(format!(
                    "line {lineno}: continuation line without a field before it"
                )));
            }
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Err(ParseError::new(format!(
                "line {lineno}: expected `Field: value`, got {:?}",
                shorten(line)
            )));
        };
        let name = &line[..colon];
        if name.is_empty() || name.iter().any(|b| b.is_ascii_whitespace()) {
            return Err(ParseError::new(format!(
                "line {lineno}: invalid field name {:?}",
                shorten(name)
            )));
        }
        let value = line[colon + 1..].trim_ascii();
        if !st.any_field {
            st.start_line = lineno;
            st.any_field = true;
        }
        in_field = true;
        let slot = if name.eq_ignore_ascii_case(b"Package") {
            &mut st.package
        } else if name.eq_ignore_ascii_case(b"Status") {
            &mut st.status
        } else if name.eq_ignore_ascii_case(b"Version") {
            &mut st.version
        } else if name.eq_ignore_ascii_case(b"Architecture") {
            &mut st.arch
        } else if name.eq_ignore_ascii_case(b"Source") {
            &mut st.source
        } else {
            continue;
        };
        if slot.is_some() {
            return Err(ParseError::new(format!(
                "line {lineno}: duplicate field {:?} in one stanza",
                String::from_utf8_lossy(name)
            )));
        }
        *slot = Some(value);
    }
    if st.any_field {
        finish(&st, target, missing_status_installed, &mut packages)?;
    }
    Ok(Parsed {
        packages,
        distro: None,
    })
}

fn finish(
    st: &Stanza<'_>,
    target: &OsTarget,
    missing_status_installed: bool,
    out: &mut Vec<Package>,
) -> Result<(), ParseError> {
    let at = st.start_line;
    let name = match st.package {
        Some(p) if !p.is_empty() => utf8(p, at, "Package")?,
        _ => {
            return Err(ParseError::new(format!(
                "line {at}: stanza without a Package field"
            )))
        }
    };
    let installed = match st.status {
        None => missing_status_installed,
        Some(s) => {
            let s = utf8(s, at, "Status")?;
            let words: Vec<&str> = s.split_ascii_whitespace().collect();
            let [_want, _flag, state] = words[..] else {
                return Err(ParseError::new(format!(
                    "line {at}: package {name}: malformed Status {s:?} (want `<want> <flag> <state>`)"
                )));
            };
            matches!(state, "installed" | "triggers-awaited" | "triggers-pending")
        }
    };
    if !installed {
        return Ok(());
    }
    let version = match st.version {
        Some(v) if !v.is_empty() => utf8(v, at, "Version")?,
        _ => {
            return Err(ParseError::new(format!(
                "line {at}: installed package {name} has no Version"
            )))
        }
    };
    if version.contains(char::is_whitespace) {
        return Err(ParseError::new(format!(
            "line {at}: package {name}: Version {version:?} contains whitespace"
        )));
    }
    let arch = st.arch.map(|a| utf8(a, at, "Architecture")).transpose()?;
    let (source_name, source_version) = match st.source {
        None => (None, None),
        Some(s) => {
            let s = utf8(s, at, "Source")?;
            let (sn, sv) = parse_source(s).ok_or_else(|| {
                ParseError::new(format!(
                    "line {at}: package {name}: malformed Source {s:?} (want `name` or `name (version)`)"
                ))
            })?;
            (
                Some(sn.to_string()),
                sv.filter(|v| *v != version).map(str::to_string),
            )
        }
    };
    let mut pkg = Package::new(target.ecosystem.clone(), name, version);
    pkg.release = target.release.clone();
    pkg.purl = target.purl("deb", name, version, &[("arch", arch)]);
    pkg.source_name = source_name;
    pkg.source_version = source_version;
    out.push(pkg);
    Ok(())
}

/// `name` or `name (version)`.
fn parse_source(s: &str) -> Option<(&str, Option<&str>)> {
    match s.split_once('(') {
        None => {
            let n = s.trim();
            (!n.is_empty() && !n.contains(char::is_whitespace)).then_some((n, None))
        }
        Some((n, rest)) => {
            let n = n.trim();
            let v = rest.trim_end().strip_suffix(')')?.trim();
            let ok = !n.is_empty()
                && !n.contains(char::is_whitespace)
                && !v.is_empty()
                && !v.contains(char::is_whitespace);
            ok.then_some((n, Some(v)))
        }
    }
}

fn utf8<'a>(v: &'a [u8], at: usize, field: &str) -> Result<&'a str, ParseError> {
    std::str::from_utf8(v)
        .map_err(|_| ParseError::new(format!("line {at}: field {field} is not valid UTF-8")))
}

/// The lines of `data` split at `\n` (like `data.split(..)`, a final empty line included),
/// found with `memchr`: most of a status file is description text we skip.
pub(crate) fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut pos = Some(0);
    std::iter::from_fn(move || {
        let start = pos?;
        let rest = data.get(start..)?;
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                pos = Some(start + i + 1);
                Some(&rest[..i])
            }
            None => {
                pos = None;
                Some(rest)
            }
        }
    })
}

/// The start of a bad line, for an error message.
pub(crate) fn shorten(line: &[u8]) -> String {
    let s = String::from_utf8_lossy(&line[..line.len().min(40)]).into_owned();
    if line.len() > 40 {
        format!("{s}…")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ecosystem;

    type SourceCase<'a> = (&'a str, Option<(&'a str, Option<&'a str>)>);

    #[test]
    fn source_field_forms() {
        let cases: &[SourceCase] = &[
            ("bash", Some(("bash", None))),
            (
                "util-linux (2.38.1-5+deb12u3)",
                Some(("util-linux", Some("2.38.1-5+deb12u3"))),
            ),
            ("  x  ( 1.0 ) ", Some(("x", Some("1.0")))),
            ("", None),
            ("a b", None),
            ("a (1.0", None),
            ("a ()", None),
            ("(1.0)", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_source(input), *want, "{input:?}");
        }
    }

    #[test]
    fn lines_split_like_slice_split() {
        for data in [
            &b""[..],
            b"\n",
            b"a",
            b"a\n",
            b"a\nb",
            b"\n\na\n\n",
            b"ab\ncd\n\nef",
        ] {
            let want: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
            assert_eq!(lines(data).collect::<Vec<_>>(), want, "{data:?}");
        }
    }

    #[test]
    fn status_states() {
        let cases = [
            ("install ok installed", true),
            ("hold ok installed", true),
            ("deinstall reinstreq installed", true),
            ("purge ok installed", true),
            ("install ok triggers-pending", true),
            ("install ok triggers-awaited", true),
            ("deinstall ok config-files", false),
            ("install reinstreq half-installed", false),
            ("install ok unpacked", false),
            ("install ok half-configured", false),
            ("purge ok not-installed", false),
        ];
        for (status, want) in cases {
            let data = format!("Package: p\nStatus: {status}\nVersion: 1.0\n");
            let got = parse(data.as_bytes()).unwrap();
            assert_eq!(got.packages.len(), usize::from(want), "{status}");
        }
    }

    #[test]
    fn stanza_fields_and_continuations() {
        let data = b"Package: libc6\r\nStatus: install ok installed\nArchitecture: amd64\n\
Source: glibc (2.36-9+deb12u4)\nVersion: 2.36-9+deb12u4+b1\nConffiles:\n /etc/x 0123\n\
Description: GNU C Library\n multi\n .\n line\n\n\n\nPackage: tzdata\nStatus: hold ok installed\n\
Version: 2024a-0+deb12u1\nArchitecture: all\nSource: tzdata\n";
        let p = parse(data).unwrap().packages;
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].name, "libc6");
        assert_eq!(p[0].version, "2.36-9+deb12u4+b1");
        assert_eq!(p[0].ecosystem, Ecosystem::Debian);
        assert_eq!(p[0].source_name.as_deref(), Some("glibc"));
        assert_eq!(p[0].source_version.as_deref(), Some("2.36-9+deb12u4"));
        assert_eq!(p[1].source_name.as_deref(), Some("tzdata"));
        assert_eq!(p[1].source_version, None);
    }

    #[test]
    fn source_version_equal_to_version_is_dropped() {
        let data =
            b"Package: a\nStatus: install ok installed\nVersion: 1:2.0-1\nSource: b (1:2.0-1)\n";
        let p = parse(data).unwrap().packages;
        assert_eq!(p[0].version, "1:2.0-1");
        assert_eq!(p[0].source_name.as_deref(), Some("b"));
        assert_eq!(p[0].source_version, None);
    }

    #[test]
    fn errors() {
        let cases: &[(&[u8], &str)] = &[
            (b"asdf\n", "line 1: expected `Field: value`"),
            (b" cont\n", "line 1: continuation line without a field"),
            (
                b"Status: install ok installed\nVersion: 1\n",
                "line 1: stanza without a Package field",
            ),
            (
                b"Package: a\nStatus: install ok installed\n",
                "installed package a has no Version",
            ),
            (b"Package: a\nPackage: b\n", "line 2: duplicate field"),
            (
                b"Package: a\nStatus: installed\nVersion: 1\n",
                "malformed Status",
            ),
            (
                b"Package: a\nStatus: install ok installed\nVersion: 1\nSource: x (\n",
                "malformed Source",
            ),
            (
                b"Package: \xff\nStatus: install ok installed\nVersion: 1\n",
                "not valid UTF-8",
            ),
            (
                b"Package: a\nStatus: install ok installed\nVersion: 1 2\n",
                "contains whitespace",
            ),
            (b": x\n", "invalid field name"),
        ];
        for (data, want) in cases {
            let err = parse(data).unwrap_err().0;
            assert!(
                err.contains(want),
                "{:?}: got {err:?}, want {want:?}",
                String::from_utf8_lossy(data)
            );
        }
    }

    #[test]
    fn not_installed_without_version_is_fine() {
        let data = b"Package: a\nStatus: purge ok not-installed\n\nPackage: b\nStatus: install ok installed\nVersion: 1\n";
        let p = parse(data).unwrap().packages;
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].name, "b");
    }

    #[test]
    fn missing_status_depends_on_the_file_kind() {
        let data = b"Package: foo\nVersion: 1.2.3\nArchitecture: amd64\n";
        assert!(parse(data).unwrap().packages.is_empty());
        let p = parse_status_d(data, &OsTarget::debian()).unwrap().packages;
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].name, "foo");
    }

    #[test]
    fn empty_and_blank_files_have_no_packages() {
        for data in [&b""[..], b"\n\n", b"  \n\t\n"] {
            assert!(parse(data).unwrap().packages.is_empty());
        }
    }
}
