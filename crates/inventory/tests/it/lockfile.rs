//! Lockfile readers against real fixtures: every osv-scalibr fixture of the formats we read
//! (each file of each directory must have an expectation here, so a new fixture cannot be
//! silently ignored) and every cargo-audit scenario's `Cargo.lock`.
//!
//! Expectations follow osv-scalibr's own tests, except where our documented choices differ
//! (each difference is commented at the case): we report only registry packages for
//! JavaScript (no git/file/link), no Cargo workspace members, only pinned requirements,
//! Go versions with their `v`, and we do not read `go.sum`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use patchpilot_inventory::{read_path, Ecosystem, Format, Inventory};

enum Want {
    /// Exactly these `name@version` (order does not matter).
    Pkgs(&'static [&'static str]),
    /// This many packages (large files).
    Count(usize),
    /// An error whose message contains this text.
    Fails(&'static str),
    /// Not a file of this format (kept in the fixture directory for another reader).
    NotThisFormat(&'static str),
}
use Want::*;

const SCALIBR: &str = "lockfiles/osv-scalibr";

/// Check every file under `dir` (relative to the osv-scalibr fixtures) against `cases`.
/// Returns the number of files checked.
fn check_dir(test: &str, dir: &str, format: Format, cases: &[(&str, Want)]) -> usize {
    let Some(root) = patchpilot_testdata::shared_data(test) else {
        return 0;
    };
    let dir_path = root.join(SCALIBR).join(dir);
    let mut files = Vec::new();
    walk(&dir_path, &mut files);
    files.sort();
    let table: BTreeMap<&str, &Want> = cases.iter().map(|(f, w)| (*f, w)).collect();
    assert_eq!(table.len(), cases.len(), "{dir}: duplicate case");
    let mut checked = 0;
    for file in &files {
        let rel = file
            .strip_prefix(&dir_path)
            .expect("under dir")
            .to_string_lossy()
            .replace('\\', "/");
        let want = table
            .get(rel.as_str())
            .unwrap_or_else(|| panic!("{dir}/{rel}: fixture has no expectation in the test"));
        let got = read_path(file, Some(format));
        match (want, got) {
            (NotThisFormat(why), _) => {
                eprintln!("{rel}: not checked: {why}");
                continue;
            }
            (Fails(text), Ok(inv)) => panic!("{rel}: want error {text:?}, got {:?}", pairs(&inv)),
            (Fails(text), Err(e)) => {
                let msg = e.to_string();
                assert!(msg.contains(text), "{rel}: error {msg:?} lacks {text:?}");
                assert!(msg.contains(format.name()), "{rel}: {msg}");
                assert!(msg.contains(&*file.to_string_lossy()), "{rel}: {msg}");
            }
            (_, Err(e)) => panic!("{rel}: unexpected error {e}"),
            (Pkgs(want), Ok(inv)) => {
                let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
                want.sort();
                let mut got = pairs(&inv);
                got.sort();
                assert_eq!(got, want, "{rel}");
                check_identity(&inv, format);
            }
            (Count(n), Ok(inv)) => {
                assert_eq!(inv.packages.len(), *n, "{rel}");
                check_identity(&inv, format);
            }
        }
        checked += 1;
    }
    for (name, _) in cases {
        assert!(
            files.iter().any(|f| f.ends_with(name)),
            "{dir}/{name}: case for a fixture that does not exist"
        );
    }
    eprintln!("{test}: checked {checked} fixtures in {dir}");
    checked
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn pairs(inv: &Inventory) -> Vec<String> {
    inv.packages
        .iter()
        .map(|p| format!("{}@{}", p.name, p.version))
        .collect()
}

/// Every package has the format's ecosystem, no duplicate, and a purl that spells its
/// name and version the way the purl spec wants for that type.
fn check_identity(inv: &Inventory, format: Format) {
    let (eco, ty) = match format {
        Format::CargoLock => (Ecosystem::CratesIo, "cargo"),
        Format::PackageLockJson | Format::YarnLock | Format::PnpmLock => (Ecosystem::Npm, "npm"),
        Format::GoMod => (Ecosystem::Go, "golang"),
        _ => (Ecosystem::PyPI, "pypi"),
    };
    assert_eq!(inv.format, format.name());
    let mut seen = std::collections::HashSet::new();
    for p in &inv.packages {
        assert!(!p.name.is_empty() && !p.version.is_empty(), "{p:?}");
        assert!(seen.insert((&p.name, &p.version)), "duplicate {p:?}");
        if format == Format::CargoLock && p.ecosystem != eco {
            // Git and other-registry crates: not crates.io, so no crates.io purl.
            assert!(
                matches!(&p.ecosystem, Ecosystem::Other(k) if k == "cargo:git" || k == "cargo:registry"),
                "{p:?}"
            );
            assert_eq!(p.purl, None, "{p:?}");
            continue;
        }
        assert_eq!(p.ecosystem, eco, "{p:?}");
        let name = match ty {
            "npm" => p.name.to_ascii_lowercase().replacen('@', "%40", 1),
            "pypi" => p.name.to_ascii_lowercase().replace('_', "-"),
            _ => p.name.clone(),
        };
        let want = format!("pkg:{ty}/{name}@{}", p.version.replace('+', "%2B"));
        assert_eq!(p.purl.as_deref(), Some(want.as_str()), "{p:?}");
    }
}

#[test]
fn cargo_lock_fixtures() {
    let n = check_dir(
        "cargo_lock_fixtures",
        "rust/cargolock/testdata",
        Format::CargoLock,
        &[
            ("duplicate.lock", Pkgs(&["syn@1.0.73", "syn@2.0.0"])),
            ("empty.lock", Pkgs(&[])),
            (
                "many-packages.lock",
                Pkgs(&[
                    "zstd@0.11.2",
                    "aho-corasick@0.7.18",
                    "memchr@2.4.1",
                    "syn@1.0.109",
                    "libc@0.2.140",
                    "syn@2.0.15",
                ]),
            ),
            ("not-toml.txt", Fails("invalid TOML at line 1")),
            ("one-package.lock", Pkgs(&["addr2line@0.15.2"])),
            (
                "package-with-build-string.lock",
                Pkgs(&["wasi@0.10.2+wasi-snapshot-preview1"]),
            ),
            // `syn` comes from git: kept (real crate name).
            (
                "package-with-comments.lock",
                Pkgs(&["addr2line@0.15.2", "syn@1.0.73"]),
            ),
            // osv-scalibr also reports `local-rust-pkg@0.1.0`, a workspace member (no
            // `source`): we leave it out.
            ("two-packages-with-local.lock", Pkgs(&["addr2line@0.15.2"])),
            (
                "two-packages.lock",
                Pkgs(&["addr2line@0.15.2", "syn@1.0.73"]),
            ),
        ],
    );
    assert!(n == 0 || n == 9, "{n}");
}

#[test]
fn cargo_audit_scenarios_all_parse() {
    let Some(root) = patchpilot_testdata::shared_data("cargo_audit_scenarios_all_parse") else {
        return;
    };
    let dir = root.join("lockfiles/cargo-audit-fixtures");
    // Registry and git packages, de-duplicated on (name, version); counted independently
    // with Python's tomllib.
    let cases = [
        ("base64_vuln/Cargo.lock", 2),
        (
            "binaries/vulnerable-binary-with-affected-functions/Cargo.lock",
            456,
        ),
        (
            "binaries/vulnerable-binary-with-panic-message/Cargo.lock",
            10,
        ),
        ("branch-regression/Cargo.lock", 817),
        ("no_vulns/Cargo.lock", 0),
        ("notice/Cargo.lock", 4),
        ("unaffected-newer/Cargo.lock", 93),
        ("unmaintained/Cargo.lock", 1),
        ("unsound/Cargo.lock", 6),
        ("yanked/Cargo.lock", 1),
    ];
    let mut all = Vec::new();
    walk(&dir, &mut all);
    let locks: Vec<_> = all.iter().filter(|p| p.ends_with("Cargo.lock")).collect();
    assert_eq!(locks.len(), cases.len(), "every scenario has a case");
    for (rel, count) in cases {
        let path = dir.join(rel);
        // Detected from the file name.
        let inv = read_path(&path, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(inv.packages.len(), count, "{rel}");
        check_identity(&inv, Format::CargoLock);
    }
    let inv = read_path(&dir.join("base64_vuln/Cargo.lock"), None).expect("parses");
    assert_eq!(pairs(&inv), ["base64@0.5.1", "byteorder@1.3.1"]);
    eprintln!("checked {} cargo-audit lockfiles", cases.len());
}

#[test]
fn package_lock_json_fixtures() {
    const TWO: Want = Pkgs(&["wrappy@1.0.2", "supports-color@5.5.0"]);
    const NESTED: Want = Pkgs(&[
        "postcss@6.0.23",
        "postcss-calc@7.0.1",
        "postcss@7.0.16",
        "supports-color@6.1.0",
        "supports-color@5.5.0",
    ]);
    const ALIAS: Want = Pkgs(&[
        "@babel/code-frame@7.0.0",
        "string-width@5.1.2",
        "string-width@4.2.0",
    ]);
    const GROUPS: Want = Pkgs(&["ajv@5.5.2", "eslint@1.2.3", "table@1.0.0"]);
    const SCOPED: Want = Pkgs(&["@babel/code-frame@7.0.0", "wrappy@1.0.2"]);
    const WRAPPY: Want = Pkgs(&["wrappy@1.0.2"]);
    // osv-scalibr also reports the git dependencies (with a commit, mostly aliases like
    // `is-number-1`): we leave them out.
    const COMMITS: Want = Pkgs(&["ansi-styles@1.0.0", "postcss-calc@7.0.1"]);
    check_dir(
        "package_lock_json_fixtures",
        "javascript/packagelockjson/testdata",
        Format::PackageLockJson,
        &[
            ("alias.v1.json", ALIAS),
            ("alias.v2.json", ALIAS),
            ("both/npm-shrinkwrap.json", TWO),
            ("both/package-lock.json", TWO),
            (
                "bundled-dependencies.v3.json",
                Pkgs(&["ansi-regex@6.2.2", "semver@7.7.2", "strip-ansi@7.1.2"]),
            ),
            ("commits.v1.json", COMMITS),
            ("commits.v2.json", COMMITS),
            ("empty.v1.json", Pkgs(&[])),
            ("empty.v2.json", Pkgs(&[])),
            // `other_package` / `etag` are `file:` dependencies: left out.
            ("files.v1.json", Pkgs(&["lodash@1.3.1"])),
            ("files.v2.json", Pkgs(&["abbrev@1.0.9", "abbrev@2.3.4"])),
            ("nested-dependencies-dup.v1.json", Count(39)),
            (
                "nested-dependencies-dup.v2.json",
                Pkgs(&["supports-color@6.1.0", "supports-color@2.0.0"]),
            ),
            ("nested-dependencies.v1.json", NESTED),
            ("nested-dependencies.v2.json", NESTED),
            ("not-json.txt", Fails("invalid JSON")),
            ("npm-shrinkwrap-only/npm-shrinkwrap.json", TWO),
            ("null.v2.jsontest", Fails("JSON null")),
            ("one-package-dev.v1.json", WRAPPY),
            ("one-package-dev.v2.json", WRAPPY),
            ("one-package.v1.json", WRAPPY),
            ("one-package.v2.json", WRAPPY),
            ("optional-package.v1.json", TWO),
            ("optional-package.v2.json", TWO),
            ("package-lock-only/package-lock.json", TWO),
            ("same-package-different-groups.v1.json", GROUPS),
            ("same-package-different-groups.v2.json", GROUPS),
            ("scoped-packages.v1.json", SCOPED),
            ("scoped-packages.v2.json", SCOPED),
            ("two-packages.v1.json", TWO),
            ("two-packages.v2.json", TWO),
        ],
    );
}

#[test]
fn package_lock_nested_dup_v1_exact() {
    // The 39 packages of the large v1 file, as osv-scalibr lists them.
    let Some(path) = patchpilot_testdata::shared_file(
        "package_lock_nested_dup_v1_exact",
        "lockfiles/osv-scalibr/javascript/packagelockjson/testdata/nested-dependencies-dup.v1.json",
    ) else {
        return;
    };
    let want = "supports-color@2.0.0 postcss-normalize-display-values@4.0.2 \
        postcss-normalize-timing-functions@4.0.2 postcss-normalize-string@4.0.2 \
        postcss-normalize-whitespace@4.0.2 supports-color@6.1.0 cssnano-preset-default@4.0.7 \
        postcss-merge-longhand@4.0.11 postcss-discard-overridden@4.0.1 \
        postcss-reduce-transforms@4.0.2 postcss-svgo@4.0.2 postcss-ordered-values@4.1.2 \
        postcss-minify-selectors@4.0.2 babel-code-frame@6.26.0 css-declaration-sorter@4.0.1 \
        postcss-normalize-url@4.0.1 postcss-minify-params@4.0.2 supports-color@5.5.0 \
        postcss-colormin@4.0.3 autoprefixer@9.5.1 postcss-normalize-charset@4.0.1 \
        postcss-unique-selectors@4.0.1 postcss-reduce-initial@4.0.3 \
        postcss-normalize-positions@4.0.2 postcss-discard-duplicates@4.0.2 \
        postcss-loader@3.0.0 cssnano@4.1.10 postcss-discard-empty@4.0.1 \
        postcss-normalize-repeat-style@4.0.2 postcss-convert-values@4.0.1 \
        friendly-errors-webpack-plugin@1.7.0 @vue/component-compiler-utils@2.6.0 \
        postcss-merge-rules@4.0.3 postcss-normalize-unicode@4.0.1 \
        postcss-minify-font-values@4.0.2 postcss-minify-gradients@4.0.2 \
        cssnano-util-raw-cache@4.0.1 postcss-calc@7.0.1 postcss-discard-comments@4.0.2";
    let mut want: Vec<&str> = want.split_whitespace().collect();
    want.sort();
    let inv = read_path(&path, Some(Format::PackageLockJson)).expect("parses");
    let mut got = pairs(&inv);
    got.sort();
    assert_eq!(got, want);
}

#[test]
fn yarn_lock_fixtures() {
    const TWO_V1: Want = Pkgs(&["concat-map@0.0.1", "concat-stream@1.6.2"]);
    const TWO_V2: Want = Pkgs(&["compare-func@2.0.0", "concat-map@0.0.1"]);
    const ALIASES: Want = Pkgs(&[
        "ansi-regex@5.0.1",
        "ansi-regex@6.0.1",
        "@babel/helper-validator-identifier@7.22.20",
    ]);
    const BALANCED: Want = Pkgs(&["balanced-match@1.0.2"]);
    // `domino@2.1.6+git` is a git dependency: left out (osv-scalibr reports it).
    const BUILD: Want = Pkgs(&["tslib@2.6.2"]);
    check_dir(
        "yarn_lock_fixtures",
        "javascript/yarnlock/testdata",
        Format::YarnLock,
        &[
            // Every entry is a git/GitHub dependency (osv-scalibr reports them with their
            // commits): none is a registry package.
            ("commits.v1.lock", Pkgs(&[])),
            ("commits.v2.lock", Pkgs(&[])),
            ("empty.v1.lock", Pkgs(&[])),
            ("empty.v2.lock", Pkgs(&[])),
            // `@ws/ansi-regex@workspace:` is the project's own workspace.
            ("exclude-root.v2.lock", Pkgs(&["ansi-regex@6.1.0"])),
            // `file:`/`link:` entries left out (osv-scalibr keeps them).
            ("files.v1.lock", Pkgs(&["etag@1.8.1", "lodash@1.3.1"])),
            ("files.v2.lock", Pkgs(&[])),
            ("metadata-only.v2.lock", Pkgs(&[])),
            (
                "multiple-constraints.v1.lock",
                Pkgs(&["@babel/code-frame@7.12.13", "domelementtype@1.3.1"]),
            ),
            (
                "multiple-versions.v1.lock",
                Pkgs(&[
                    "define-properties@1.1.3",
                    "define-property@0.2.5",
                    "define-property@1.0.0",
                    "define-property@2.0.2",
                ]),
            ),
            (
                "multiple-versions.v2.lock",
                Pkgs(&["debug@4.3.3", "debug@2.6.9", "debug@3.2.7"]),
            ),
            ("no-version.v1.lock", BALANCED),
            ("one-package.v1.lock", BALANCED),
            ("one-package.v2.lock", BALANCED),
            (
                "scoped-packages.v1.lock",
                Pkgs(&["@babel/code-frame@7.12.11", "@babel/compat-data@7.14.0"]),
            ),
            (
                "scoped-packages.v2.lock",
                Pkgs(&[
                    "@babel/cli@7.16.8",
                    "@babel/code-frame@7.16.7",
                    "@babel/compat-data@7.16.8",
                ]),
            ),
            ("two-packages.v1.lock", TWO_V1),
            ("two-packages.v2.lock", TWO_V2),
            ("with-aliases.v1.lock", ALIASES),
            ("with-aliases.v2.lock", ALIASES),
            ("with-build-string.v1.lock", BUILD),
            ("with-build-string.v2.lock", BUILD),
            (
                "with-prerelease.v1.lock",
                Pkgs(&[
                    "css-tree@1.0.0-alpha.37",
                    "gensync@1.0.0-beta.2",
                    "node-fetch@3.0.0-beta.9",
                    "resolve@1.20.0",
                    "resolve@2.0.0-next.3",
                ]),
            ),
            (
                "with-prerelease.v2.lock",
                Pkgs(&[
                    "@nicolo-ribaudo/chokidar-2@2.1.8-no-fsevents.3",
                    "gensync@1.0.0-beta.2",
                ]),
            ),
            ("with-quotes.v1.lock", TWO_V1),
            ("with-quotes.v2.lock", TWO_V2),
        ],
    );
}

#[test]
fn pnpm_lock_fixtures() {
    const ACORN: Want = Pkgs(&["acorn@8.7.0"]);
    const ACORN9: Want = Pkgs(&["acorn@8.11.3"]);
    const MIXED5: Want = Pkgs(&["ansi-regex@5.0.1", "is-number@7.0.0", "uuid@8.3.2"]);
    check_dir(
        "pnpm_lock_fixtures",
        "javascript/pnpmlock/testdata",
        Format::PnpmLock,
        &[
            // git dependencies (commit or codeload tarball): left out.
            ("commits.v9.yaml", Pkgs(&[])),
            ("commits.yaml", Pkgs(&[])),
            ("empty.yaml", Pkgs(&[])),
            (
                "exotic.yaml",
                Pkgs(&[
                    "foo@1.0.0",
                    "@foo/bar@1.0.0",
                    "foo@1.1.0",
                    "@foo/bar@1.1.0",
                    "foo@1.2.0",
                    "foo@1.3.0",
                    "foo@1.4.0",
                ]),
            ),
            // `file:` packages: left out.
            ("files.yaml", Pkgs(&[])),
            // osv-scalibr returns acorn *and* an error for the unreadable keys; we skip
            // keys without a name and version and keep the rest.
            ("invalid-path.yaml", ACORN),
            ("invalid-paths.yaml", ACORN),
            ("missing-packages.yaml", Pkgs(&[])),
            ("mixed-groups.v53.yaml", MIXED5),
            ("mixed-groups.v54.yaml", MIXED5),
            (
                "mixed-groups.v6.yaml",
                Pkgs(&["ansi-regex@5.0.0", "is-number@7.0.0", "uuid@8.0.0"]),
            ),
            ("mixed-groups.v9.yaml", MIXED5),
            (
                "multiple-packages.yaml",
                Pkgs(&[
                    "aws-sdk@2.1087.0",
                    "base64-js@1.5.1",
                    "buffer@4.9.2",
                    "events@1.1.1",
                    "ieee754@1.1.13",
                    "isarray@1.0.0",
                    "jmespath@0.16.0",
                    "punycode@1.3.2",
                    "querystring@0.2.0",
                    "sax@1.2.1",
                    "url@0.10.3",
                    "uuid@3.3.2",
                    "xml2js@0.4.19",
                    "xmlbuilder@9.0.7",
                ]),
            ),
            (
                "multiple-versions.v9.yaml",
                Pkgs(&["uuid@8.0.0", "uuid@8.3.2", "xmlbuilder@11.0.1"]),
            ),
            (
                "multiple-versions.yaml",
                Pkgs(&["uuid@3.3.2", "uuid@8.3.2", "xmlbuilder@9.0.7"]),
            ),
            ("no-packages.v9.yaml", Pkgs(&[])),
            ("no-packages.yaml", Pkgs(&[])),
            ("not-yaml.txt", Fails("invalid YAML")),
            ("one-package-dev.v9.yaml", ACORN9),
            ("one-package-dev.yaml", ACORN),
            ("one-package-v6-lockfile.yaml", ACORN),
            ("one-package.v9.yaml", ACORN9),
            ("one-package.yaml", ACORN),
            (
                "peer-dependencies-advanced-rc-v6.yaml",
                Pkgs(&[
                    "js-tokens@4.0.0",
                    "loose-envify@1.4.0",
                    "react-dom@18.0.0-rc.3",
                    "react@18.2.0",
                    "scheduler@0.21.0",
                ]),
            ),
            (
                "peer-dependencies-advanced-v6.yaml",
                Pkgs(&[
                    "js-tokens@4.0.0",
                    "loose-envify@1.4.0",
                    "react-dom@18.3.0-canary-ab31a9ed2-20230824",
                    "react@18.3.0-canary-ab31a9ed2-20230824",
                    "scheduler@0.24.0-canary-ab31a9ed2-20230824",
                ]),
            ),
            (
                "peer-dependencies-advanced.v9.yaml",
                Pkgs(&[
                    "@eslint-community/eslint-utils@4.4.0",
                    "@eslint/eslintrc@2.1.4",
                    "@typescript-eslint/eslint-plugin@5.62.0",
                    "@typescript-eslint/parser@5.62.0",
                    "@typescript-eslint/type-utils@5.62.0",
                    "@typescript-eslint/typescript-estree@5.62.0",
                    "@typescript-eslint/utils@5.62.0",
                    "debug@4.3.4",
                    "eslint@8.57.0",
                    "has-flag@4.0.0",
                    "supports-color@7.2.0",
                    "tsutils@3.21.0",
                    "typescript@4.9.5",
                ]),
            ),
            (
                "peer-dependencies-advanced.yaml",
                Pkgs(&[
                    "@typescript-eslint/eslint-plugin@5.13.0",
                    "@typescript-eslint/parser@5.13.0",
                    "@typescript-eslint/type-utils@5.13.0",
                    "@typescript-eslint/types@5.13.0",
                    "@typescript-eslint/typescript-estree@5.13.0",
                    "@typescript-eslint/utils@5.13.0",
                    "eslint-utils@3.0.0",
                    "eslint@8.10.0",
                    "tsutils@3.21.0",
                ]),
            ),
            (
                "peer-dependencies-v6.yaml",
                Pkgs(&[
                    "js-tokens@4.0.0",
                    "loose-envify@1.4.0",
                    "react-dom@18.2.0",
                    "react@18.2.0",
                    "scheduler@0.23.0",
                ]),
            ),
            (
                "peer-dependencies.v9.yaml",
                Pkgs(&["acorn-jsx@5.3.2", "acorn@8.11.3"]),
            ),
            (
                "peer-dependencies.yaml",
                Pkgs(&["acorn-jsx@5.3.2", "acorn@8.7.0"]),
            ),
            (
                "scoped-packages-v6-lockfile.yaml",
                Pkgs(&["@typescript-eslint/types@5.57.1"]),
            ),
            (
                "scoped-packages.v9.yaml",
                Pkgs(&["@typescript-eslint/types@5.62.0"]),
            ),
            (
                "scoped-packages.yaml",
                Pkgs(&["@typescript-eslint/types@5.13.0"]),
            ),
            // A tarball from a (private) registry: kept.
            ("tarball.yaml", Pkgs(&["@my-org/my-package@3.2.3"])),
        ],
    );
}

#[test]
fn requirements_txt_fixtures() {
    check_dir(
        "requirements_txt_fixtures",
        "python/requirements/testdata",
        Format::RequirementsTxt,
        &[
            (
                "comments.txt",
                Pkgs(&[
                    "PyCrypto@1.2-alpha",
                    "GMPY2@1",
                    "SymPy@1.2",
                    "requests@1.0",
                    "six@1.2",
                ]),
            ),
            // `qwert==${MY_VARIABLE_1}` needs the environment: skipped.
            ("env_var.txt", Pkgs(&["asdf@1.2", "another@1.0"])),
            // Only `docopt == 0.6.1` is pinned; osv-scalibr also lists the unpinned ones
            // (with their lowest bound) and follows `-r other-requirements.txt`.
            ("example.txt", Pkgs(&["docopt@0.6.1"])),
            ("extras.txt", Pkgs(&["pyjwt@2.1.0", "celery@4.4.7"])),
            // osv-scalibr skips bad lines silently; pip (and we) refuse the file.
            ("invalid.txt", Fails("line 1: bad version")),
            ("loop.txt", Pkgs(&[])),
            (
                "multiline_and_comments.txt",
                Pkgs(&["pkgA@1.0", "pkgB@2.0"]),
            ),
            ("no_version.txt", Pkgs(&[])),
            ("other-loop.txt", Pkgs(&[])),
            ("other-requirements.txt", Pkgs(&["pandas@2.2.3"])),
            // Line 13 is `foo7==1.0 unexpected_text…`, which pip rejects too; the valid
            // lines are checked in `requirements_per_req_options_valid_lines`.
            ("per_req_options.txt", Fails("line 13: bad version")),
            ("trailing_backslash.txt", Pkgs(&["pkg1@1.0"])),
            // `newspaper3k>=`, `asdf==0.7.*`, `combination…>=` and `pkg<=` are not pins.
            (
                "with_versions.txt",
                Pkgs(&[
                    "nltk@3.2.2",
                    "tabulate@0.7.7",
                    "qwerty@0.1",
                    "hy-phen@1.2",
                    "under_score@1.3",
                    "pkg.dot.name@5.0.0",
                    "yolo@1.0",
                ]),
            ),
        ],
    );
}

#[test]
fn requirements_per_req_options_valid_lines() {
    let Some(path) = patchpilot_testdata::shared_file(
        "requirements_per_req_options_valid_lines",
        "lockfiles/osv-scalibr/python/requirements/testdata/per_req_options.txt",
    ) else {
        return;
    };
    let text = std::fs::read_to_string(&path).expect("readable");
    // Drop the three requirements pip rejects (foo7: text before the options; foo10 and
    // foo15: `==` without a version).
    let kept: String = text
        .lines()
        .filter(|l| {
            !["foo7==", "foo10==", "foo15=="]
                .iter()
                .any(|b| l.starts_with(b))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("requirements.txt");
    std::fs::write(&file, kept).expect("write");
    let inv = read_path(&file, None).expect("parses");
    let mut got = pairs(&inv);
    got.sort();
    let mut want = vec![
        "foo1@1.0",
        "foo2@1.0",
        "foo3@1.0",
        "foo4@1.0",
        "foo5@1.0",
        "foo6@1.0",
        "foo8@1.0",
        "foo9@1.0",
        "foo11@1.0",
        "foo12@1.0",
        "foo13@1.0",
        "foo14@1.0",
        "foo16-Client@1.0",
        "foo17--hash@1.0",
        "foo18-Client@1.0",
    ];
    want.sort();
    assert_eq!(got, want);
    check_identity(&inv, Format::RequirementsTxt);
}

#[test]
fn poetry_lock_fixtures() {
    const NUMPY: Want = Pkgs(&["numpy@1.23.3"]);
    const NAMES: Want = Pkgs(&["first-pkg@1.0.0", "second-pkg@2.0.0"]);
    check_dir(
        "poetry_lock_fixtures",
        "python/poetrylock/testdata",
        Format::PoetryLock,
        &[
            ("empty-file.lock", Pkgs(&[])),
            ("empty.lock", Pkgs(&[])),
            (
                "multiple-packages.v2.lock",
                Pkgs(&[
                    "async-timeout@5.0.1",
                    "factory-boy@3.3.1",
                    "faker@33.3.0",
                    "proto-plus@1.22.0",
                    "proto-plus@1.23.0",
                    "protobuf@4.25.5",
                    "python-dateutil@2.9.0.post0",
                    "redis@5.2.1",
                    "six@1.17.0",
                    "typing-extensions@4.12.2",
                    "urllib3@2.3.0",
                ]),
            ),
            ("names-outside-package-block.lock", NAMES),
            ("not-toml.txt", Fails("invalid TOML")),
            ("one-package-with-metadata.lock", Pkgs(&["emoji@2.0.0"])),
            ("one-package.lock", NUMPY),
            ("optional-package.lock", NUMPY),
            ("source-git.lock", Pkgs(&["ike@0.2.0"])),
            ("source-legacy.lock", Pkgs(&["appdirs@1.4.4"])),
            (
                "two-packages.lock",
                Pkgs(&["proto-plus@1.22.0", "protobuf@4.21.5"]),
            ),
        ],
    );
}

#[test]
fn pipfile_lock_fixtures() {
    const MARKUPSAFE: Want = Pkgs(&["markupsafe@2.1.1"]);
    const TWO: Want = Pkgs(&["itsdangerous@2.1.2", "markupsafe@2.1.1"]);
    check_dir(
        "pipfile_lock_fixtures",
        "python/pipfilelock/testdata",
        Format::PipfileLock,
        &[
            ("empty-file", Pkgs(&[])),
            ("empty.json", Pkgs(&[])),
            ("minified.json", MARKUPSAFE),
            (
                "multiple-packages.json",
                Pkgs(&[
                    "itsdangerous@2.1.2",
                    "pluggy@1.0.1",
                    "markupsafe@2.1.1",
                    "pluggy@1.0.0",
                ]),
            ),
            // Only git/editable entries, without a version.
            ("no-version.json", Pkgs(&[])),
            ("not-json.txt", Fails("invalid JSON")),
            ("one-package-dev.json", MARKUPSAFE),
            ("one-package.json", MARKUPSAFE),
            ("two-packages-alt.json", TWO),
            ("two-packages.json", TWO),
        ],
    );
}

#[test]
fn uv_lock_fixtures() {
    const EMOJI: Want = Pkgs(&["emoji@2.14.0"]);
    check_dir(
        "uv_lock_fixtures",
        "python/uvlock/testdata",
        Format::UvLock,
        &[
            ("empty.lock", Pkgs(&[])),
            // 15 packages, minus the virtual project itself.
            (
                "grouped-packages.lock",
                Pkgs(&[
                    "black@24.10.0",
                    "click@8.1.7",
                    "colorama@0.4.6",
                    "emoji@2.14.0",
                    "flake8@7.1.1",
                    "mccabe@0.7.0",
                    "mypy-extensions@1.0.0",
                    "packaging@24.2",
                    "pathspec@0.12.1",
                    "platformdirs@4.3.6",
                    "pycodestyle@2.12.1",
                    "pyflakes@3.2.0",
                    "tomli@2.2.1",
                    "typing-extensions@4.12.2",
                ]),
            ),
            (
                "names-outside-package-block.lock",
                Pkgs(&["first-pkg@1.0.0", "second-pkg@2.0.0"]),
            ),
            ("no-dependencies.lock", Pkgs(&[])),
            ("no-packages.lock", Pkgs(&[])),
            ("not-toml.txt", Fails("invalid TOML")),
            ("one-package.lock", EMOJI),
            ("source-git.lock", Pkgs(&["ruff@0.8.1"])),
            (
                "two-packages.lock",
                Pkgs(&["emoji@2.14.0", "protobuf@4.25.5"]),
            ),
        ],
    );
}

#[test]
fn go_mod_fixtures() {
    check_dir(
        "go_mod_fixtures",
        "golang/gomod/testdata",
        Format::GoMod,
        &[
            ("empty.mod", Pkgs(&[])),
            // osv-scalibr also reads go.sum for go <= 1.16 (indirect requirements were not
            // listed then); we parse go.mod alone.
            (
                "indirect-1.16.mod",
                Pkgs(&["github.com/sirupsen/logrus@v1.9.3", "stdlib@v1.16.0"]),
            ),
            (
                "indirect-1.16.sum",
                NotThisFormat("go.sum, read by osv-scalibr's go.mod extractor"),
            ),
            (
                "indirect-1.23.mod",
                Pkgs(&[
                    "github.com/sirupsen/logrus@v1.9.3",
                    "golang.org/x/sys@v0.0.0-20220715151400-c0bba94af5f8",
                    "stdlib@v1.23.0",
                ]),
            ),
            ("indirect-1.23.sum", NotThisFormat("go.sum")),
            (
                "indirect-packages.mod",
                Pkgs(&[
                    "github.com/BurntSushi/toml@v1.0.0",
                    "gopkg.in/yaml.v2@v2.4.0",
                    "github.com/mattn/go-colorable@v0.1.9",
                    "github.com/mattn/go-isatty@v0.0.14",
                    "golang.org/x/sys@v0.0.0-20210630005230-0f9fa26af87c",
                    "stdlib@v1.17.0",
                ]),
            ),
            (
                "not-go-mod.mod",
                Fails("line 1: unknown directive \"this\""),
            ),
            (
                "one-package.mod",
                Pkgs(&["github.com/BurntSushi/toml@v1.0.0"]),
            ),
            (
                "replace-different.mod",
                Pkgs(&["example.com/fork/foe@v1.4.5", "example.com/fork/foe@v1.4.2"]),
            ),
            // osv-scalibr reports `./fork/net` with no version; a local replacement is
            // the project's own code: left out.
            (
                "replace-local.mod",
                Pkgs(&["github.com/BurntSushi/toml@v1.0.0"]),
            ),
            (
                "replace-mixed.mod",
                Pkgs(&["example.com/fork/net@v1.4.5", "golang.org/x/net@v0.5.6"]),
            ),
            (
                "replace-no-version.mod",
                Pkgs(&["example.com/fork/net@v1.4.5"]),
            ),
            (
                "replace-not-required.mod",
                Pkgs(&[
                    "golang.org/x/net@v0.5.6",
                    "github.com/BurntSushi/toml@v1.0.0",
                ]),
            ),
            ("replace-one.mod", Pkgs(&["example.com/fork/net@v1.4.5"])),
            (
                "toolchain-with-suffix.mod",
                Pkgs(&["github.com/BurntSushi/toml@v1.0.0", "stdlib@v1.23.6"]),
            ),
            (
                "toolchain.mod",
                Pkgs(&["github.com/BurntSushi/toml@v1.0.0", "stdlib@v1.23.6"]),
            ),
            (
                "two-packages.mod",
                Pkgs(&[
                    "github.com/BurntSushi/toml@v1.0.0",
                    "gopkg.in/yaml.v2@v2.4.0",
                    "stdlib@v1.17.0",
                ]),
            ),
        ],
    );
}

#[test]
fn formats_detected_from_file_names() {
    let Some(root) = patchpilot_testdata::shared_data("formats_detected_from_file_names") else {
        return;
    };
    let base = root.join(SCALIBR);
    for (rel, format) in [
        (
            "javascript/packagelockjson/testdata/package-lock-only/package-lock.json",
            Format::PackageLockJson,
        ),
        (
            "javascript/packagelockjson/testdata/npm-shrinkwrap-only/npm-shrinkwrap.json",
            Format::PackageLockJson,
        ),
        ("golang/gomod/testdata/two-packages.mod", Format::GoMod),
    ] {
        let inv = read_path(&base.join(rel), None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(inv.format, format.name(), "{rel}");
        assert!(!inv.packages.is_empty(), "{rel}");
    }
}

#[test]
fn purls_of_scoped_and_go_packages() {
    let Some(root) = patchpilot_testdata::shared_data("purls_of_scoped_and_go_packages") else {
        return;
    };
    let base = root.join(SCALIBR);
    let purls = |rel: &str, format| -> Vec<String> {
        read_path(&base.join(rel), Some(format))
            .unwrap_or_else(|e| panic!("{e}"))
            .packages
            .into_iter()
            .filter_map(|p| p.purl)
            .collect()
    };
    assert_eq!(
        purls(
            "javascript/pnpmlock/testdata/scoped-packages.yaml",
            Format::PnpmLock
        ),
        ["pkg:npm/%40typescript-eslint/types@5.13.0"]
    );
    assert_eq!(
        purls("golang/gomod/testdata/toolchain.mod", Format::GoMod),
        [
            "pkg:golang/github.com/BurntSushi/toml@v1.0.0",
            "pkg:golang/stdlib@v1.23.6"
        ]
    );
    assert_eq!(
        purls(
            "python/requirements/testdata/comments.txt",
            Format::RequirementsTxt
        )[0],
        "pkg:pypi/pycrypto@1.2-alpha"
    );
}

/// A generated 5,000-package v3 `package-lock.json` parses in a few milliseconds (in a
/// release build; the bound here is loose because tests run unoptimized).
#[test]
fn large_package_lock_parses_completely() {
    let mut json = String::from(
        r#"{"name":"big","lockfileVersion":3,"requires":true,"packages":{"":{"name":"big","version":"1.0.0"}"#,
    );
    for i in 0..5000 {
        let scope = if i % 5 == 0 { "@scope/" } else { "" };
        json.push_str(&format!(
            r#","node_modules/{scope}pkg-{i}":{{"version":"1.{}.{}","resolved":"https://registry.npmjs.org/{scope}pkg-{i}/-/pkg-{i}-1.0.0.tgz","integrity":"sha512-{}","dependencies":{{"a":"^1.0.0","b":"^2.0.0"}},"engines":{{"node":">=12"}}}}"#,
            i % 7,
            i % 13,
            "A".repeat(86)
        ));
    }
    json.push_str("}}");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("package-lock.json");
    std::fs::write(&file, &json).expect("write");
    let data = std::fs::read(&file).expect("read");
    let parsed = patchpilot_inventory::parse(Format::PackageLockJson, &data).expect("parses");
    assert_eq!(parsed.packages.len(), 5000);
    assert_eq!(parsed.packages[0].name, "@scope/pkg-0");
    assert_eq!(
        parsed.packages[0].purl.as_deref(),
        Some("pkg:npm/%40scope/pkg-0@1.0.0")
    );
}
