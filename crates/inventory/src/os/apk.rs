//! apk `installed` (`/lib/apk/db/installed`): Alpine's database of installed packages.
//!
//! One block per package, blocks separated by blank lines, each line `K:value` with a
//! one-character key. We keep `P` (name), `V` (version), `A` (architecture) and `o`
//! (origin: the aport the package was built from, which Alpine's secdb and OSV name) as
//! `source_name`. Everything else (file lists `F`/`R`, checksums `Z`, ...) is skipped
//! unread, which keeps a 10,000-file database fast.
//!
//! A line that is not `K:value`, a block without `P` or an installed package without `V`
//! make the file an error: apk itself would refuse such a database.

use super::dpkg::{lines, shorten};
use crate::host::OsTarget;
use crate::{Package, ParseError, Parsed};

/// Parse an apk `installed` database as Alpine packages of an unknown release.
pub fn parse(data: &[u8]) -> Result<Parsed, ParseError> {
    parse_for(data, &OsTarget::alpine())
}

#[derive(Default)]
struct Block<'a> {
    start_line: usize,
    name: Option<&'a [u8]>,
    version: Option<&'a [u8]>,
    arch: Option<&'a [u8]>,
    origin: Option<&'a [u8]>,
    any: bool,
}

/// Parse an apk `installed` database for a known distro.
pub fn parse_for(data: &[u8], target: &OsTarget) -> Result<Parsed, ParseError> {
    let mut packages = Vec::new();
    let mut b = Block::default();
    for (i, raw) in lines(data).enumerate() {
        let lineno = i + 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.iter().all(u8::is_ascii_whitespace) {
            if b.any {
                finish(&b, target, &mut packages)?;
            }
            b = Block::default();
            continue;
        }
        let (key, value) = match line {
            [k, b':', rest @ ..] if k.is_ascii_alphanumeric() => (*k, rest.trim_ascii()),
            _ => {
                return Err(ParseError::new(format!(
                    "line {lineno}: expected `K:value` (one-letter key), got {:?}",
                    shorten(line)
                )))
            }
        };
        if !b.any {
            b.any = true;
            b.start_line = lineno;
        }
        let slot = match key {
            b'P' => &mut b.name,
            b'V' => &mut b.version,
            b'A' => &mut b.arch,
            b'o' => &mut b.origin,
            _ => continue,
        };
        if slot.is_some() {
            return Err(ParseError::new(format!(
                "line {lineno}: duplicate `{}:` line in one package block",
                char::from(key)
            )));
        }
        *slot = Some(value);
    }
    if b.any {
        finish(&b, target, &mut packages)?;
    }
    Ok(Parsed {
        packages,
        distro: None,
    })
}

fn finish(b: &Block<'_>, target: &OsTarget, out: &mut Vec<Package>) -> Result<(), ParseError> {
    let at = b.start_line;
    fn text<'a>(v: &'a [u8], at: usize, what: &str) -> Result<&'a str, ParseError> {
        std::str::from_utf8(v)
            .map_err(|_| ParseError::new(format!("line {at}: {what} is not valid UTF-8")))
    }
    let name = match b.name {
        Some(n) if !n.is_empty() => text(n, at, "package name")?,
        _ => {
            return Err(ParseError::new(format!(
                "line {at}: package block without a `P:` (name) line"
            )))
        }
    };
    let version = match b.version {
        Some(v) if !v.is_empty() => text(v, at, "version")?,
        _ => {
            return Err(ParseError::new(format!(
                "line {at}: package {name} has no `V:` (version) line"
            )))
        }
    };
    if name.contains(char::is_whitespace) || version.contains(char::is_whitespace) {
        return Err(ParseError::new(format!(
            "line {at}: whitespace in package name or version ({name:?} {version:?})"
        )));
    }
    let arch = b.arch.map(|a| text(a, at, "architecture")).transpose()?;
    let origin = b.origin.map(|o| text(o, at, "origin")).transpose()?;
    let mut pkg = Package::new(target.ecosystem.clone(), name, version);
    pkg.release = target.release.clone();
    pkg.purl = target.purl("apk", name, version, &[("arch", arch)]);
    pkg.source_name = origin.filter(|o| !o.is_empty()).map(str::to_string);
    out.push(pkg);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ecosystem;

    #[test]
    fn blocks() {
        let data =
            b"C:Q1abc=\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\no:openssl\nF:lib\nR:libcrypto.so.3\n\n\
P:busybox\r\nV:1.36.1-r15\r\n\r\n\n";
        let p = parse(data).unwrap().packages;
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].name, "libcrypto3");
        assert_eq!(p[0].version, "3.1.4-r5");
        assert_eq!(p[0].ecosystem, Ecosystem::Alpine);
        assert_eq!(p[0].source_name.as_deref(), Some("openssl"));
        assert_eq!(p[1].name, "busybox");
        assert_eq!(p[1].source_name, None);
    }

    #[test]
    fn errors() {
        let cases: &[(&[u8], &str)] = &[
            (b"asdf\n", "line 1: expected `K:value`"),
            (b"P:a\nV:1\nPP:x\n", "line 3: expected `K:value`"),
            (b"V:1\nA:x86_64\n", "line 1: package block without a `P:`"),
            (b"P:a\n\nP:b\nV:1\n", "line 1: package a has no `V:`"),
            (b"P:a\nP:b\nV:1\n", "line 2: duplicate `P:`"),
            (b"P:\xfe\nV:1\n", "not valid UTF-8"),
        ];
        for (data, want) in cases {
            let err = parse(data).unwrap_err().0;
            assert!(
                err.contains(want),
                "{:?}: {err:?} lacks {want:?}",
                String::from_utf8_lossy(data)
            );
        }
    }
}
