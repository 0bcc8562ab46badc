//! SBOM readers: CycloneDX JSON/XML and SPDX JSON, against CycloneDX's example BOMs,
//! osv-scanner's fixtures (Alpine, Debian stretch, duplicates, bad purls) and our own
//! fixtures for nesting, spec versions and the skip rules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use patchpilot_inventory::sbom::{cyclonedx, spdx};
use patchpilot_inventory::{read_path, Distro, Ecosystem, Package};
use patchpilot_testdata::shared_file;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

type Row<'a> = (
    &'a str,
    &'a str,
    Ecosystem,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

fn rows(p: &[Package]) -> Vec<Row<'_>> {
    p.iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.version.as_str(),
                p.ecosystem.clone(),
                p.release.as_deref(),
                p.source_name.as_deref(),
                p.source_version.as_deref(),
            )
        })
        .collect()
}

fn distro(id: &str, v: &str) -> Distro {
    Distro {
        id: id.into(),
        version_id: Some(v.into()),
        codename: None,
        pretty_name: None,
    }
}

/// What both encodings of `nested.cdx.*` must yield: nesting flattened in document order,
/// the subject (`metadata.component`), pedigree ancestors, purl-less, version-less and
/// bad-purl components and a duplicate left out; releases and source packages from the
/// purl qualifiers and Trivy properties.
fn nested_expected() -> Vec<Row<'static>> {
    use Ecosystem::*;
    vec![
        (
            "libc6",
            "2.36-9+deb12u4",
            Debian,
            Some("12"),
            Some("glibc"),
            None,
        ),
        (
            "bsdutils",
            "1:2.38.1-5+b1",
            Debian,
            Some("12"),
            Some("util-linux"),
            Some("2.38.1-5"),
        ),
        (
            "openssl-libs",
            "1:3.0.7-24.el9",
            RedHat,
            Some("9"),
            Some("openssl"),
            None,
        ),
        (
            "org.springframework:spring-core",
            "5.3.20",
            Maven,
            None,
            None,
            None,
        ),
        (
            "com.fasterxml.jackson.core:jackson-databind",
            "2.13.3",
            Maven,
            None,
            None,
            None,
        ),
        ("@babel/core", "7.22.5", Npm, None, None, None),
        ("django", "4.2.1", PyPI, None, None, None),
    ]
}

#[test]
fn cyclonedx_nested_json_and_xml_agree_for_every_spec_version() {
    let json = cyclonedx::parse_json(&std::fs::read(fixture("cyclonedx/nested.cdx.json")).unwrap())
        .unwrap();
    assert_eq!(rows(&json.packages), nested_expected());
    assert_eq!(json.distro, Some(distro("debian", "12")));
    // purls are kept as the SBOM wrote them.
    assert_eq!(
        json.packages[0].purl.as_deref(),
        Some("pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=bookworm")
    );

    let xml = std::fs::read_to_string(fixture("cyclonedx/nested.cdx.xml")).unwrap();
    for v in ["1.2", "1.3", "1.4", "1.5", "1.6"] {
        let doc = xml.replace("schema/bom/1.6", &format!("schema/bom/{v}"));
        let parsed = cyclonedx::parse_xml(doc.as_bytes()).unwrap();
        assert_eq!(parsed, json, "CycloneDX XML {v}");
        let as_json =
            String::from_utf8(std::fs::read(fixture("cyclonedx/nested.cdx.json")).unwrap())
                .unwrap()
                .replace(
                    "\"specVersion\": \"1.6\"",
                    &format!("\"specVersion\": \"{v}\""),
                );
        assert_eq!(
            cyclonedx::parse_json(as_json.as_bytes()).unwrap(),
            json,
            "JSON {v}"
        );
    }
    // A namespace prefix instead of a default namespace reads the same.
    let prefixed = xml
        .replace("<bom xmlns=", "<cdx:bom xmlns:cdx=")
        .replace("</bom>", "</cdx:bom>");
    assert_eq!(cyclonedx::parse_xml(prefixed.as_bytes()).unwrap(), json);
    // Through the front door, by file name.
    let inv = read_path(&fixture("cyclonedx/nested.cdx.xml"), None).unwrap();
    assert_eq!(
        (inv.format.as_str(), inv.packages.len()),
        ("cyclonedx-xml", 7)
    );
}

/// The number of distinct purls in a CycloneDX JSON's (nested) `components`, counted
/// without our reader.
fn distinct_purls(v: &serde_json::Value) -> (usize, BTreeSet<String>) {
    fn walk(v: &serde_json::Value, n: &mut usize, set: &mut BTreeSet<String>) {
        for c in v
            .get("components")
            .and_then(|c| c.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(p) = c.get("purl").and_then(|p| p.as_str()) {
                *n += 1;
                set.insert(p.to_string());
            }
            walk(c, n, set);
        }
    }
    let (mut n, mut set) = (0, BTreeSet::new());
    walk(v, &mut n, &mut set);
    (n, set)
}

#[test]
fn cyclonedx_examples() {
    // (file, components with a purl, distinct purls, ecosystem) — counted with jq.
    let cases = [
        ("keycloak-10.0.2/bom.json", 903, 903, Ecosystem::Maven),
        (
            "juice-shop/via_npm/flat/bom.1.4.json",
            1115,
            978,
            Ecosystem::Npm,
        ),
        ("dropwizard-1.3.15/bom.json", 167, 167, Ecosystem::Maven),
        ("laravel-7.12.0/bom.1.4.json", 62, 62, Ecosystem::Packagist),
        (
            "protonmail-webclient-v4-0912dff/bom.json",
            883,
            883,
            Ecosystem::Npm,
        ),
    ];
    for (file, components, distinct, eco) in cases {
        let Some(path) = shared_file(
            "cyclonedx_examples",
            &format!("sboms/cyclonedx-examples/{file}"),
        ) else {
            return;
        };
        let data = std::fs::read(&path).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&data).unwrap();
        let (n, set) = distinct_purls(&value);
        assert_eq!(
            (n, set.len()),
            (components, distinct),
            "{file}: fixture changed?"
        );

        let inv = read_path(&path, None).unwrap();
        assert_eq!(inv.format, "cyclonedx-json", "{file}");
        assert_eq!(inv.packages.len(), distinct, "{file}");
        assert!(inv.packages.iter().all(|p| p.ecosystem == eco), "{file}");
        let purls: BTreeSet<String> = inv.packages.iter().filter_map(|p| p.purl.clone()).collect();
        assert_eq!(purls, set, "{file}");
        // The subject (metadata.component) is not a package.
        let subject = value["metadata"]["component"]["purl"].as_str().unwrap();
        assert!(!purls.contains(subject), "{file}");
        assert!(inv
            .packages
            .iter()
            .all(|p| !p.version.is_empty() && p.release.is_none()));
    }

    let path = shared_file(
        "cyclonedx_examples",
        "sboms/cyclonedx-examples/keycloak-10.0.2/bom.json",
    )
    .unwrap();
    let inv = read_path(&path, None).unwrap();
    assert!(inv
        .packages
        .iter()
        .all(|p| p.name.contains(':') && !p.name.starts_with(':') && !p.name.ends_with(':')));
    let path = shared_file(
        "cyclonedx_examples",
        "sboms/cyclonedx-examples/juice-shop/via_npm/flat/bom.1.4.json",
    )
    .unwrap();
    let inv = read_path(&path, None).unwrap();
    assert!(inv
        .packages
        .iter()
        .any(|p| p.name.starts_with('@') && p.name.contains('/')));
}

#[test]
fn osv_scanner_cyclonedx_xml() {
    let Some(dir) = shared_file("osv_scanner_cyclonedx_xml", "sboms/osv-scanner") else {
        return;
    };
    let read = |f: &str| read_path(&dir.join(f), None).unwrap();

    // 16 components: the busybox application (no purl), the OS, and 14 apk packages.
    let alpine = read("alpine.cdx.xml");
    assert_eq!(alpine.format, "cyclonedx-xml");
    assert_eq!(alpine.packages.len(), 14);
    assert_eq!(alpine.distro, Some(distro("alpine", "3.17.2")));
    assert!(alpine
        .packages
        .iter()
        .all(|p| p.ecosystem == Ecosystem::Alpine && p.release.as_deref() == Some("v3.17")));
    let ssl = alpine
        .packages
        .iter()
        .find(|p| p.name == "libssl3")
        .unwrap();
    assert_eq!(
        (ssl.version.as_str(), ssl.source_name.as_deref()),
        ("3.0.8-r0", Some("openssl"))
    );

    // 16 purls, 14 distinct: the same 14 packages.
    let dups = read("with-duplicates.cdx.xml");
    assert_eq!(dups.packages, alpine.packages);

    // 14 purls of which 6 are broken (`pkg:pypi/`, `pkg:///`, `/`, no name): the 8 good
    // ones are kept, the file is not lost.
    let bad = read("bad-purls.cdx.xml");
    let names: Vec<&str> = bad.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "alpine-baselayout",
            "alpine-baselayout-data",
            "apk-tools",
            "busybox-binsh",
            "libcrypto3",
            "libssl3",
            "musl-utils",
            "scanelf"
        ]
    );
    // Its operating-system component has no name; the release still comes from the purls.
    assert_eq!(bad.distro, Some(distro("alpine", "3.17.2")));

    // Debian stretch (postgres image, syft): 132 deb + 3 Go + 1 generic; source packages
    // from `upstream=` or `syft:metadata:source` (97), source versions (8) — counted with
    // a Python script over the XML.
    let pg = read("postgres-stretch.cdx.xml");
    assert_eq!(pg.packages.len(), 136);
    assert_eq!(pg.distro, Some(distro("debian", "9")));
    let mut by_eco: BTreeMap<String, usize> = BTreeMap::new();
    for p in &pg.packages {
        *by_eco.entry(p.ecosystem.to_string()).or_default() += 1;
    }
    assert_eq!(
        by_eco,
        BTreeMap::from([
            ("Debian".to_string(), 132),
            ("Go".to_string(), 3),
            ("purl:generic".to_string(), 1)
        ])
    );
    let deb: Vec<_> = pg
        .packages
        .iter()
        .filter(|p| p.ecosystem == Ecosystem::Debian)
        .collect();
    assert!(deb.iter().all(|p| p.release.as_deref() == Some("9")));
    assert_eq!(deb.iter().filter(|p| p.source_name.is_some()).count(), 97);
    assert_eq!(deb.iter().filter(|p| p.source_version.is_some()).count(), 8);
    let bsdutils = deb.iter().find(|p| p.name == "bsdutils").unwrap();
    assert_eq!(bsdutils.version, "1:2.29.2-1+deb9u1");
    assert_eq!(bsdutils.source_name.as_deref(), Some("util-linux"));
    assert_eq!(bsdutils.source_version.as_deref(), Some("2.29.2-1+deb9u1"));
    let gosu = pg
        .packages
        .iter()
        .find(|p| p.name == "github.com/tianon/gosu")
        .unwrap();
    assert_eq!(
        (gosu.ecosystem.clone(), gosu.version.as_str()),
        (Ecosystem::Go, "(devel)")
    );
}

#[test]
fn osv_scanner_cyclonedx_json_and_spdx() {
    let Some(dir) = shared_file("osv_scanner_cyclonedx_json_and_spdx", "sboms/osv-scanner") else {
        return;
    };
    let zlib = read_path(&dir.join("alpine-zlib-16.cdx.json"), None).unwrap();
    assert_eq!(
        rows(&zlib.packages),
        [(
            "zlib",
            "1.2.12-r1",
            Ecosystem::Alpine,
            Some("v3.22"),
            Some("zlib"),
            None
        )]
    );
    assert_eq!(zlib.distro, Some(distro("alpine", "3.22.0")));

    // The SPDX name says libpcre3, but the purl (what advisories key on) says pcre3.
    let spdx = read_path(&dir.join("only-unimportant.spdx.json"), None).unwrap();
    assert_eq!(spdx.format, "spdx-json");
    assert_eq!(
        rows(&spdx.packages),
        [(
            "pcre3",
            "2:8.39-12ubuntu0.1",
            Ecosystem::Ubuntu,
            Some("20.04"),
            Some("pcre3"),
            None
        )]
    );
    assert_eq!(
        spdx.distro,
        Some(Distro {
            id: "ubuntu".into(),
            version_id: Some("20.04".into()),
            codename: Some("focal".into()),
            pretty_name: None
        })
    );
}

#[test]
fn spdx_2_2_rules() {
    let parsed =
        spdx::parse_json(&std::fs::read(fixture("spdx/sample-2.2.spdx.json")).unwrap()).unwrap();
    // The described image is the subject; the OS package names the distro; a purl ref
    // outside PACKAGE-MANAGER and a package without purl are skipped; a purl without a
    // version takes versionInfo.
    assert_eq!(
        rows(&parsed.packages),
        [
            (
                "zlib",
                "1.2.13-r1",
                Ecosystem::Alpine,
                Some("v3.18"),
                None,
                None
            ),
            (
                "libcrypto3",
                "3.1.4-r0",
                Ecosystem::Alpine,
                Some("v3.18"),
                Some("openssl"),
                None
            ),
            ("lodash", "4.17.21", Ecosystem::Npm, None, None, None),
        ]
    );
    assert_eq!(parsed.distro, Some(distro("alpine", "3.18.4")));
    let as_23 = String::from_utf8(std::fs::read(fixture("spdx/sample-2.2.spdx.json")).unwrap())
        .unwrap()
        .replace("SPDX-2.2", "SPDX-2.3");
    assert_eq!(spdx::parse_json(as_23.as_bytes()).unwrap(), parsed);
}

#[test]
fn distro_qualifiers() {
    use patchpilot_purl::Purl;
    let cases = [
        (
            "pkg:deb/debian/a@1?distro=debian-9",
            Some(("debian", "9", "9")),
        ),
        (
            "pkg:deb/debian/a@1?distro=debian-12.4",
            Some(("debian", "12.4", "12")),
        ),
        (
            "pkg:deb/debian/a@1?distro=bookworm",
            Some(("debian", "12", "12")),
        ),
        (
            "pkg:deb/ubuntu/a@1?distro=ubuntu-22.04",
            Some(("ubuntu", "22.04", "22.04")),
        ),
        (
            "pkg:deb/ubuntu/a@1?distro=jammy",
            Some(("ubuntu", "22.04", "22.04")),
        ),
        (
            "pkg:apk/alpine/a@1?distro=alpine-3.17.2",
            Some(("alpine", "3.17.2", "v3.17")),
        ),
        (
            "pkg:apk/alpine/a@1?distro=3.22.0",
            Some(("alpine", "3.22.0", "v3.22")),
        ),
        (
            "pkg:rpm/redhat/a@1-1?distro=rhel-9.3",
            Some(("rhel", "9.3", "9")),
        ),
        (
            "pkg:rpm/opensuse/a@1-1?distro=opensuse-leap-15.4",
            Some(("opensuse-leap", "15.4", "15.4")),
        ),
        ("pkg:deb/debian/a@1?distro=sid", None),
    ];
    for (purl, want) in cases {
        let p = Purl::parse(purl).unwrap();
        let got = cyclonedx::distro_from_qualifier(p.qualifier("distro").unwrap(), &p);
        let got = got.map(|d| {
            let rel = d.ecosystem().1.unwrap_or_default();
            (d.id, d.version_id.unwrap_or_default(), rel)
        });
        let want = want.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()));
        assert_eq!(got, want, "{purl}");
    }
}
