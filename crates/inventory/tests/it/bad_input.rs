//! Bad input for the OS and SBOM readers: truncated and garbage files give one-line errors
//! that name the file, the format and the reason, and no input makes a parser panic.

use std::path::{Path, PathBuf};

use patchpilot_inventory::os::rpm;
use patchpilot_inventory::{parse, read_path, Format};
use proptest::prelude::*;

const OWN_FORMATS: [Format; 6] = [
    Format::DpkgStatus,
    Format::ApkInstalled,
    Format::RpmQa,
    Format::CycloneDxJson,
    Format::CycloneDxXml,
    Format::SpdxJson,
];

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// Write `data` to a temp file and read it as `format`: the error line, checked for shape.
fn error_line(dir: &Path, name: &str, format: Format, data: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    let err = match read_path(&path, Some(format)) {
        Ok(inv) => panic!(
            "{name} as {format}: expected an error, got {} packages",
            inv.packages.len()
        ),
        Err(e) => e.to_string(),
    };
    let prefix = format!("{}: {}: ", path.display(), format.name());
    assert!(
        err.starts_with(&prefix),
        "{err:?} does not start with {prefix:?}"
    );
    assert!(!err.contains('\n'), "not one line: {err:?}");
    assert!(err.len() > prefix.len() + 5, "no reason: {err:?}");
    err
}

/// Bytes that look like nothing we read: an ELF header and deterministic noise.
fn garbage() -> Vec<u8> {
    let mut out =
        b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x3e\x00".to_vec();
    let mut x: u32 = 0x1234_5678;
    for _ in 0..4096 {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        out.push((x >> 24) as u8);
    }
    out
}

#[test]
fn garbage_is_an_error_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let g = garbage();
    for format in OWN_FORMATS {
        error_line(
            dir.path(),
            &format!("garbage.{}", format.name()),
            format,
            &g,
        );
    }
    let err = error_line(dir.path(), "rpmdb.sqlite", Format::RpmSqlite, &g);
    assert!(err.contains("not a SQLite database"), "{err}");
}

/// Hand-picked broken inputs, with the reason each error must give.
#[test]
fn broken_inputs_give_precise_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(Format, &[u8], &str)] = &[
        (Format::DpkgStatus, b"Package: a\nStatus: install ok installed\nVer", "line 3: expected `Field: value`"),
        (Format::DpkgStatus, b"Package: a\nStatus: install ok installed\n", "installed package a has no Version"),
        (Format::DpkgStatus, b"Status: install ok installed\nVersion: 1.0\n", "stanza without a Package field"),
        (Format::DpkgStatus, b"Package: a\nStatus: install ok\nVersion: 1\n", "malformed Status"),
        (Format::ApkInstalled, b"C:Q1abc=\nP:musl\nV:1.2.4-r2\nA", "line 4: expected `K:value`"),
        (Format::ApkInstalled, b"P:musl\nA:x86_64\n", "package musl has no `V:`"),
        (Format::ApkInstalled, b"V:1.0\n\n", "without a `P:`"),
        (Format::RpmQa, b"bash\t0:5.1", "has no -RELEASE"),
        (Format::RpmQa, b"bash 0:5.1.8-6.el9 x86_64\n", "tab-separated columns"),
        (Format::CycloneDxJson, b"{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.5\", \"components\": [", "invalid JSON: EOF"),
        (Format::CycloneDxJson, b"{\"bomFormat\": \"SPDX\", \"specVersion\": \"1.5\"}", "bomFormat is \"SPDX\""),
        (Format::CycloneDxJson, b"{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"2.0\"}", "unsupported CycloneDX spec version"),
        (Format::CycloneDxJson, b"{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.5\", \"components\": {}}", "invalid JSON"),
        (Format::CycloneDxJson, b"", "invalid JSON: EOF"),
        (
            Format::CycloneDxXml,
            b"<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\"><components><component><name>a</nam></component></components></bom>",
            "invalid XML",
        ),
        (
            Format::CycloneDxXml,
            b"<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\"><components><component>",
            "truncated?",
        ),
        (Format::CycloneDxXml, b"<bom><components/></bom>", "no CycloneDX namespace"),
        (Format::CycloneDxXml, b"<html><body/></html>", "root element is <html>"),
        (Format::CycloneDxXml, b"", "no root element"),
        (Format::CycloneDxXml, b"<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\"/><bom/>", "more than one root"),
        (Format::SpdxJson, b"{\"spdxVersion\": \"SPDX-2.3\", \"packages\": [{\"name\": ", "invalid JSON: EOF"),
        (Format::SpdxJson, b"{\"spdxVersion\": \"SPDX-3.0\"}", "unsupported spdxVersion"),
        (Format::SpdxJson, b"{\"packages\": []}", "no spdxVersion"),
        (Format::SpdxJson, b"[1, 2]", "invalid JSON"),
    ];
    for (i, (format, data, want)) in cases.iter().enumerate() {
        let err = error_line(dir.path(), &format!("case{i}"), *format, data);
        assert!(
            err.contains(want),
            "case {i} ({format}): {err:?} lacks {want:?}"
        );
    }
}

/// Every strict prefix of a valid JSON or XML document that cuts before its final closing
/// bracket is an error, never a partial inventory.
#[test]
fn truncated_documents_are_errors() {
    let docs = [
        (
            Format::CycloneDxJson,
            fixture("cyclonedx/nested.cdx.json"),
            b'}',
        ),
        (
            Format::CycloneDxXml,
            fixture("cyclonedx/nested.cdx.xml"),
            b'>',
        ),
        (Format::SpdxJson, fixture("spdx/sample-2.2.spdx.json"), b'}'),
    ];
    let mut checked = 0;
    for (format, path, last) in docs {
        let data = std::fs::read(&path).unwrap();
        assert!(parse(format, &data).is_ok());
        let end = data.iter().rposition(|&b| b == last).unwrap();
        for cut in 0..end {
            let r = parse(format, &data[..cut]);
            assert!(r.is_err(), "{} cut at {cut} parsed: {r:?}", path.display());
            checked += 1;
        }
    }
    assert!(checked > 5000);

    // A truncated sqlite rpmdb: an error naming the file, never a panic or a partial list.
    let dir = tempfile::tempdir().unwrap();
    let db = std::fs::read(fixture("rpmdb/rpmdb.sqlite")).unwrap();
    for cut in [16, 100, 512, 4096, db.len() / 2, db.len() - 512] {
        let path = dir.path().join(format!("cut{cut}.sqlite"));
        std::fs::write(&path, &db[..cut]).unwrap();
        match rpm::read_sqlite(&path) {
            Err(e) => assert!(!e.0.is_empty()),
            // sqlite may still read every page the Packages table needs.
            Ok(p) => assert_eq!(p.packages.len(), 3, "cut at {cut}: partial result"),
        }
    }
}

fn rpm_blobs() -> Vec<Vec<u8>> {
    let c = rusqlite::Connection::open_with_flags(
        fixture("rpmdb/rpmdb.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut stmt = c.prepare("SELECT blob FROM Packages").unwrap();
    let blobs = stmt
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    blobs
}

/// Random edits of a valid input: set, insert or delete bytes at random places.
fn mutate(base: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut v = base.to_vec();
    for &(at, byte, op) in edits {
        if v.is_empty() {
            v.push(byte);
            continue;
        }
        let at = at % v.len();
        match op % 3 {
            0 => v[at] = byte,
            1 => v.insert(at, byte),
            _ => {
                v.remove(at);
            }
        }
    }
    v
}

fn valid_inputs() -> Vec<(Format, Vec<u8>)> {
    vec![
        (
            Format::DpkgStatus,
            b"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc (2.36-9)\n\
Version: 2.36-9+b1\nDescription: x\n more\n\nPackage: tzdata\nStatus: hold ok installed\nVersion: 2024a-0\n"
                .to_vec(),
        ),
        (
            Format::ApkInstalled,
            b"C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\nF:lib\nR:ld.so\n\nP:zlib\nV:1.3-r0\n".to_vec(),
        ),
        (
            Format::RpmQa,
            b"bash\t0:5.1.8-6.el9_1\tx86_64\tbash-5.1.8-6.el9_1.src.rpm\nopenssl\t1:3.0.7-24.el9\tx86_64\n".to_vec(),
        ),
        (Format::CycloneDxJson, std::fs::read(fixture("cyclonedx/nested.cdx.json")).unwrap()),
        (Format::CycloneDxXml, std::fs::read(fixture("cyclonedx/nested.cdx.xml")).unwrap()),
        (Format::SpdxJson, std::fs::read(fixture("spdx/sample-2.2.spdx.json")).unwrap()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary bytes, in every format: an answer, never a panic.
    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for format in OWN_FORMATS {
            let _ = parse(format, &data);
        }
        let _ = rpm::parse_header(&data);
    }

    /// Text built from the characters these formats are made of.
    #[test]
    fn parsers_never_panic_on_format_like_text(text in "([A-Za-z]{1,8}:[ \t]?[a-z0-9:.~+() -]{0,12}\n{0,2}|[ \t][a-z.]{0,5}\n|[<>/{}\\[\\]\",:= a-z]{0,12}){0,40}") {
        for format in OWN_FORMATS {
            let _ = parse(format, text.as_bytes());
        }
    }

    /// Random edits of valid inputs: an answer, never a panic.
    #[test]
    fn parsers_never_panic_on_mutated_inputs(
        which in 0usize..6,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..12),
    ) {
        let inputs = valid_inputs();
        let (format, base) = &inputs[which % inputs.len()];
        let _ = parse(*format, &mutate(base, &edits));
    }

    /// Random edits of real rpm headers (from our rpmdb fixture): bounds checks hold.
    #[test]
    fn rpm_header_never_panics_on_mutated_blobs(
        which in 0usize..4,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8),
    ) {
        let blobs = rpm_blobs();
        let base = &blobs[which % blobs.len()];
        let _ = rpm::parse_header(&mutate(base, &edits));
    }
}

#[test]
fn real_rpm_headers_parse() {
    let blobs = rpm_blobs();
    assert_eq!(blobs.len(), 4);
    for b in &blobs {
        let h = rpm::parse_header(b).unwrap();
        assert!(!h.name.is_empty() && !h.version.is_empty() && !h.release.is_empty());
        // Every strict prefix of a real header is refused.
        for cut in (0..b.len()).step_by(7) {
            assert!(rpm::parse_header(&b[..cut]).is_err(), "cut at {cut}");
        }
    }
}
