//! Bad lockfiles: for every lockfile format, truncated and garbage input is an error that
//! names the file, the format and the reason (through the public `read_path`), and no
//! input makes a parser panic.
//!
//! Truncation is only detectable when the cut breaks the syntax (inside a string, an open
//! block, a field without its value): a line-based file cut at a line boundary is a valid,
//! shorter file. The cuts below are all of the detectable kind, and every other prefix of
//! each sample is still checked not to panic.

use std::path::Path;

use patchpilot_inventory::{parse, read_path, Format};
use proptest::prelude::*;

/// One valid sample per format, the file name it is read under, and where to cut it so the
/// rest is syntactically broken (the cut keeps the text up to and including the marker).
struct Sample {
    format: Format,
    file: &'static str,
    text: &'static str,
    packages: usize,
    cuts: &'static [&'static str],
}

const SAMPLES: &[Sample] = &[
    Sample {
        format: Format::CargoLock,
        file: "Cargo.lock",
        text: "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"abc\"\n",
        packages: 1,
        cuts: &["name = \"ser", "version = \"1.0", "[[pack", "source = "],
    },
    Sample {
        format: Format::PackageLockJson,
        file: "package-lock.json",
        text: r#"{"name":"x","lockfileVersion":3,"packages":{"":{"name":"x"},"node_modules/@s/a":{"version":"1.0.0","resolved":"https://registry.npmjs.org/@s/a/-/a-1.0.0.tgz"},"node_modules/b":{"version":"2.0.0"}}}"#,
        packages: 2,
        cuts: &["\"lockfileVer", "\"version\":\"1.0", "\"node_modules/b\":", "{\"version\":\"2.0.0\"}"],
    },
    Sample {
        format: Format::YarnLock,
        file: "yarn.lock",
        text: "# yarn lockfile v1\n\n\"@s/a@^1.0.0\", \"@s/a@~1.0.0\":\n  version \"1.0.0\"\n  resolved \"https://registry.yarnpkg.com/@s/a/-/a-1.0.0.tgz\"\n\nb@^2.0.0:\n  version \"2.0.0\"\n",
        packages: 2,
        cuts: &["\"@s/a@~1.0", "version \"1.0", "b@^2.0.0:", "b@^2.0.0:\n  version \"2."],
    },
    Sample {
        format: Format::YarnLock,
        file: "yarn.lock",
        text: "__metadata:\n  version: 8\n  cacheKey: 10c0\n\n\"a@npm:^1.0.0\":\n  version: 1.0.0\n  resolution: \"a@npm:1.0.0\"\n  languageName: node\n  linkType: hard\n",
        packages: 1,
        cuts: &["\"a@npm:^1", "resolution: \"a@np", "version: 1.0.0\n"],
    },
    Sample {
        format: Format::PnpmLock,
        file: "pnpm-lock.yaml",
        text: "lockfileVersion: '9.0'\n\npackages:\n\n  acorn@8.11.3:\n    resolution: {integrity: sha512-abc}\n    engines: {node: '>=0.4.0'}\n\n  '@s/b@1.0.0':\n    resolution: {integrity: sha512-def}\n",
        packages: 2,
        cuts: &["lockfileVersion: '9", "resolution: {integrity: sha512-abc", "'@s/b@1.0"],
    },
    Sample {
        format: Format::RequirementsTxt,
        file: "requirements.txt",
        text: "# pinned\nrequests==2.31.0 --hash=sha256:abc\nDjango[bcrypt]==4.2.1 ; python_version >= \"3.8\"\n",
        packages: 2,
        cuts: &["requests==", "Django[bcr", "Django[bcrypt]="],
    },
    Sample {
        format: Format::PoetryLock,
        file: "poetry.lock",
        text: "[[package]]\nname = \"requests\"\nversion = \"2.31.0\"\ndescription = \"HTTP\"\noptional = false\n\n[metadata]\nlock-version = \"2.0\"\n",
        packages: 1,
        cuts: &["name = \"req", "version = \"2.3", "[[package]]\nname = \"requests\"\n", "[meta"],
    },
    Sample {
        format: Format::PipfileLock,
        file: "Pipfile.lock",
        text: r#"{"_meta":{"pipfile-spec":6},"default":{"requests":{"hashes":["sha256:abc"],"version":"==2.31.0"}},"develop":{"pytest":{"version":"==8.0.0"}}}"#,
        packages: 2,
        cuts: &["{\"_meta\":{\"pipfile-spec\":6}", "\"version\":\"==2.3", "\"develop\":"],
    },
    Sample {
        format: Format::UvLock,
        file: "uv.lock",
        text: "version = 1\nrequires-python = \">=3.10\"\n\n[[package]]\nname = \"emoji\"\nversion = \"2.14.0\"\nsource = { registry = \"https://pypi.org/simple\" }\n\n[[package]]\nname = \"me\"\nversion = \"0.1.0\"\nsource = { virtual = \".\" }\n",
        packages: 1,
        cuts: &["name = \"emo", "source = { registry = \"https://pypi.org/simple\"", "[[package]]\nname = \"me\"\nversion = "],
    },
    Sample {
        format: Format::GoMod,
        file: "go.mod",
        text: "module \"example.com/m\"\n\ngo 1.22\n\nrequire (\n\tgithub.com/BurntSushi/toml v1.0.0\n\tgolang.org/x/net v0.20.0 // indirect\n)\n\nreplace golang.org/x/net => golang.org/x/net v0.21.0\n",
        packages: 3,
        cuts: &["module \"", "require (\n\tgithub.com/BurntSushi/toml v1.0.0\n", "github.com/BurntSushi/toml", "replace golang.org/x/net =>", "replace golang.org/x/net"],
    },
];

fn cut<'a>(text: &'a str, marker: &str) -> &'a str {
    let at = text
        .find(marker)
        .unwrap_or_else(|| panic!("marker {marker:?} not in sample"));
    &text[..at + marker.len()]
}

/// Read `data` as `sample.file` and check the error names the file, format and a reason.
fn expect_error(dir: &Path, sample: &Sample, data: &[u8], what: &str) -> String {
    let path = dir.join(sample.file);
    std::fs::write(&path, data).expect("write");
    let err = match read_path(&path, Some(sample.format)) {
        Ok(inv) => panic!(
            "{} {what}: want an error, got {} packages from {:?}",
            sample.format,
            inv.packages.len(),
            String::from_utf8_lossy(data)
        ),
        Err(e) => e.to_string(),
    };
    let prefix = format!("{}: {}: ", path.display(), sample.format.name());
    assert!(err.starts_with(&prefix), "{what}: {err:?}");
    let reason = &err[prefix.len()..];
    assert!(reason.len() > 5, "{what}: no reason in {err:?}");
    assert!(
        !err.contains('\n'),
        "{what}: error is not one line: {err:?}"
    );
    err
}

#[test]
fn samples_are_valid() {
    for s in SAMPLES {
        let parsed = parse(s.format, s.text.as_bytes())
            .unwrap_or_else(|e| panic!("{} sample: {e}", s.format));
        assert_eq!(parsed.packages.len(), s.packages, "{} sample", s.format);
    }
}

#[test]
fn truncated_lockfiles_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut checked = 0;
    for s in SAMPLES {
        for marker in s.cuts {
            let data = cut(s.text, marker);
            expect_error(
                dir.path(),
                s,
                data.as_bytes(),
                &format!("cut after {marker:?}"),
            );
            checked += 1;
        }
    }
    eprintln!("checked {checked} truncations");
}

#[test]
fn garbage_is_an_error_for_every_lockfile_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let garbage: [&[u8]; 4] = [
        b"\x00\xff\xfe\x80garbage",
        b"}{ this is not a lockfile ][\n",
        b"\xef\xbb\xbf\xc3\x28",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
    ];
    let mut formats_seen = std::collections::HashSet::new();
    for s in SAMPLES {
        formats_seen.insert(s.format);
        for (i, g) in garbage.iter().enumerate() {
            let err = expect_error(dir.path(), s, g, &format!("garbage #{i}"));
            if i == 0 {
                assert!(err.contains("not UTF-8"), "{err}");
            }
        }
    }
    // Every lockfile format has a sample here.
    for f in [
        Format::CargoLock,
        Format::PackageLockJson,
        Format::YarnLock,
        Format::PnpmLock,
        Format::RequirementsTxt,
        Format::PoetryLock,
        Format::PipfileLock,
        Format::UvLock,
        Format::GoMod,
    ] {
        assert!(formats_seen.contains(&f), "{f} has no sample");
    }
}

#[test]
fn wrong_document_shapes_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let by_format = |f: Format| SAMPLES.iter().find(|s| s.format == f).expect("sample");
    let cases: &[(Format, &str, &str)] = &[
        (
            Format::CargoLock,
            "[package]\nname = \"x\"\n",
            "invalid TOML",
        ),
        (
            Format::CargoLock,
            "title = \"not a lock\"\n",
            "not a Cargo.lock",
        ),
        (Format::PackageLockJson, "[1, 2]", "invalid JSON"),
        (
            Format::PackageLockJson,
            "{\"name\": \"x\"}",
            "lockfileVersion",
        ),
        (Format::PackageLockJson, "null", "JSON null"),
        (Format::PnpmLock, "- a\n- b\n", "invalid YAML"),
        (
            Format::PnpmLock,
            "packages:\n  /a/1.0.0: {}\n",
            "lockfileVersion",
        ),
        (Format::YarnLock, "a@1:\n  resolved \"x\"\n", "no version"),
        (Format::PipfileLock, "{\"x\": 1}", "not a Pipfile.lock"),
        (Format::PoetryLock, "title = \"x\"\n", "not a poetry.lock"),
        (Format::UvLock, "title = \"x\"\n", "not a uv.lock"),
        (Format::GoMod, "require (\n", "never closed"),
        (Format::RequirementsTxt, "requests 2.0\n", "line 1"),
    ];
    for (format, text, want) in cases {
        let err = expect_error(dir.path(), by_format(*format), text.as_bytes(), text);
        assert!(err.contains(want), "{format} {text:?}: {err}");
    }
}

#[test]
fn every_prefix_of_every_sample_is_handled() {
    let mut n = 0;
    for s in SAMPLES {
        for end in 0..=s.text.len() {
            // Ok or Err, never a panic.
            let _ = parse(s.format, &s.text.as_bytes()[..end]);
            n += 1;
        }
    }
    eprintln!("parsed {n} prefixes");
}

fn lockfile_formats() -> impl Strategy<Value = usize> {
    0..SAMPLES.len()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Arbitrary bytes never panic any lockfile parser.
    #[test]
    fn arbitrary_bytes_never_panic(i in lockfile_formats(), data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(SAMPLES[i].format, &data);
    }

    /// A valid sample with a slice replaced by arbitrary text never panics either (this
    /// reaches deeper than random bytes, which rarely get past the first syntax check).
    #[test]
    fn mutated_samples_never_panic(
        i in lockfile_formats(),
        start in 0usize..400,
        len in 0usize..40,
        insert in "[ -~\n\t\"'{}\\[\\]:@=#/\\\\]{0,24}",
    ) {
        let text = SAMPLES[i].text;
        let start = start.min(text.len());
        let end = (start + len).min(text.len());
        let mut data = text.as_bytes()[..start].to_vec();
        data.extend_from_slice(insert.as_bytes());
        data.extend_from_slice(&text.as_bytes()[end..]);
        if let Ok(parsed) = parse(SAMPLES[i].format, &data) {
            for p in parsed.packages {
                prop_assert!(!p.name.is_empty() && !p.version.is_empty());
                // Only crates outside crates.io (git, other registries) go without a purl.
                prop_assert!(p.purl.is_some() || matches!(p.ecosystem, patchpilot_inventory::Ecosystem::Other(_)));
            }
        }
    }
}
