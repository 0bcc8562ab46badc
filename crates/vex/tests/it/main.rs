//! Integration tests: the CISA VEX use cases in CycloneDX (shared data), our own OpenVEX and
//! CycloneDX-with-purls fixtures, lookup through a [`VexIndex`], and bad input.

use std::path::{Path, PathBuf};

use patchpilot_vex::{
    parse, parse_cyclonedx, parse_openvex, Product, Statement, Status, VersionStatus, VexError,
    VexIndex,
};

const CASES: &str = "vex/cyclonedx-cisa-use-cases";

fn fixture(rel: &str) -> (Vec<u8>, String) {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    (std::fs::read(&p).unwrap(), p.display().to_string())
}

fn read_case(test: &str, rel: &str) -> Option<Vec<Statement>> {
    let path = patchpilot_testdata::shared_file(test, &format!("{CASES}/{rel}"))?;
    let bytes = std::fs::read(&path).unwrap();
    let stmts = parse_cyclonedx(&bytes, &path.display().to_string())
        .unwrap_or_else(|e| panic!("{rel}: {e}"));
    // Detection must agree with the explicit parser.
    assert_eq!(parse(&bytes, &path.display().to_string()).unwrap(), stmts);
    Some(stmts)
}

/// A product as `name@version` (resolved component), or the bom-ref in a BOM-link, plus
/// its `versions` entries (`=v` or the range).
fn describe(p: &Product) -> String {
    let who = match (&p.name, &p.version, &p.reference) {
        (Some(n), Some(v), _) => format!("{n}@{v}"),
        (Some(n), None, _) => n.clone(),
        (None, _, Some(r)) => r.rsplit('#').next().unwrap_or(r).to_string(),
        _ => "?".into(),
    };
    if p.versions.is_empty() {
        return who;
    }
    let vs: Vec<String> = p
        .versions
        .iter()
        .map(|v| match (&v.version, &v.range) {
            (Some(x), _) => format!("={x}"),
            (None, Some(r)) => r.clone(),
            (None, None) => "?".into(),
        })
        .collect();
    format!("{who}[{}]", vs.join(" "))
}

fn summary(stmts: &[Statement]) -> Vec<(String, Status, Vec<String>)> {
    stmts
        .iter()
        .map(|s| {
            (
                s.vulnerability.clone(),
                s.status,
                s.products.iter().map(describe).collect(),
            )
        })
        .collect()
}

#[test]
fn every_cisa_case_file_parses() {
    let Some(root) = patchpilot_testdata::shared_file("every_cisa_case_file_parses", CASES) else {
        return;
    };
    let mut files = 0;
    let mut statements = 0;
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 9, "Case-1..Case-9");
    for dir in dirs {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let got = parse(&bytes, &path.display().to_string())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            for s in &got {
                assert!(s.vulnerability.starts_with("CVE-"), "{s:?}");
                assert!(!s.products.is_empty(), "{s:?}");
                assert_eq!(
                    s.timestamp.as_deref(),
                    Some("2022-03-03T00:00:00Z").filter(|_| {
                        // BOM-link cases have no metadata timestamp.
                        !s.products[0]
                            .reference
                            .as_deref()
                            .unwrap_or("")
                            .starts_with("urn:cdx:")
                    })
                );
            }
            statements += got.len();
            files += 1;
        }
    }
    eprintln!("parsed {files} CISA case files, {statements} statements");
    assert_eq!(files, 15);
    // 1*4 + 19 + 19 + 1 + 1 + 2 + 4 + 8 (the BOMs hold none).
    assert_eq!(statements, 58);
}

#[test]
fn case_1_one_status_per_file() {
    let t = "case_1_one_status_per_file";
    let cases = [
        ("vex-affected.json", Status::Affected, "DEF@1.0", None),
        ("vex-fixed.json", Status::Fixed, "DEF@1.1", None),
        (
            "vex-not_affected.json",
            Status::NotAffected,
            "ABC@4.2",
            Some("code_not_present"),
        ),
        (
            "vex-under_investigation.json",
            Status::UnderInvestigation,
            "GHI@17.4",
            None,
        ),
    ];
    for (file, status, product, justification) in cases {
        let Some(s) = read_case(t, &format!("Case-1/{file}")) else {
            return;
        };
        assert_eq!(
            summary(&s),
            vec![(
                "CVE-2021-44228".to_string(),
                status,
                vec![product.to_string()]
            )],
            "{file}"
        );
        assert_eq!(s[0].justification.as_deref(), justification, "{file}");
        assert!(s[0].detail.is_some(), "{file}: detail is kept");
        // No purl on the product: nothing can be suppressed by accident.
        assert!(s[0].products[0].purl.is_none());
        assert_eq!(
            s[0].products[0].reference.as_deref(),
            Some(&*format!("product-{}", &product[..3]))
        );
    }
}

#[test]
fn case_2_many_vulnerabilities_all_not_affected() {
    let Some(s) = read_case("case_2", "Case-2/vex.json") else {
        return;
    };
    let ids: Vec<String> = (11896..=11914).map(|n| format!("CVE-2020-{n}")).collect();
    assert_eq!(s.len(), ids.len());
    for (stmt, id) in s.iter().zip(&ids) {
        assert_eq!(&stmt.vulnerability, id);
        assert_eq!(stmt.status, Status::NotAffected, "{id}");
        assert_eq!(stmt.justification.as_deref(), Some("code_not_reachable"));
        assert_eq!(
            stmt.products.iter().map(describe).collect::<Vec<_>>(),
            ["ABC@4.2"]
        );
    }
}

#[test]
fn case_3_many_vulnerabilities_many_statuses() {
    let Some(s) = read_case("case_3", "Case-3/vex.json") else {
        return;
    };
    // As the README lists them.
    let groups: [(Status, &[u32]); 4] = [
        (
            Status::NotAffected,
            &[11897, 11902, 11899, 11905, 11906, 11913],
        ),
        (Status::Affected, &[11898, 11907, 11909, 11910, 11911]),
        (
            Status::UnderInvestigation,
            &[11896, 11900, 11904, 11903, 11908],
        ),
        (Status::Fixed, &[11901, 11912, 11914]),
    ];
    let mut checked = 0;
    for (status, ids) in groups {
        for n in ids {
            let id = format!("CVE-2020-{n}");
            let found: Vec<_> = s.iter().filter(|x| x.vulnerability == id).collect();
            assert_eq!(found.len(), 1, "{id}");
            assert_eq!(found[0].status, status, "{id}");
            assert_eq!(
                found[0].products.iter().map(describe).collect::<Vec<_>>(),
                ["GHI@17.4"]
            );
            if status == Status::NotAffected {
                assert!(
                    found[0].justification.is_some(),
                    "{id}: justification stays visible"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, s.len(), "every statement is in the README's lists");
}

#[test]
fn case_4_multiple_versions_single_status() {
    let Some(s) = read_case("case_4", "Case-4/vex.json") else {
        return;
    };
    assert_eq!(
        summary(&s),
        [(
            "CVE-2021-44228".to_string(),
            Status::Affected,
            vec!["ABC[=2.4 =2.6 vers:generic/>=2.9|<=4.1]".to_string()]
        )]
    );
    assert!(s[0].products[0]
        .versions
        .iter()
        .all(|v| v.status == Some(VersionStatus::Affected)));
}

#[test]
fn case_5_all_versions_under_investigation() {
    let Some(s) = read_case("case_5", "Case-5/vex.json") else {
        return;
    };
    assert_eq!(
        summary(&s),
        [(
            "CVE-2021-44228".to_string(),
            Status::UnderInvestigation,
            vec!["XYZ".to_string()]
        )]
    );
    assert!(s[0].products[0].versions.is_empty(), "all versions");
}

fn abc_affected() -> String {
    "ABC[=2.4 =2.6 vers:generic/>=2.9|<=4.1]".into()
}
fn abc_not_affected() -> String {
    "ABC[vers:generic/>=1.0|<=2.3 =2.5 vers:generic/>=2.7|<=2.8 =4.2]".into()
}
fn link(name: &str, versions: &str) -> String {
    format!("product-{name}[{versions}]")
}

#[test]
fn case_6_multiple_versions_multiple_statuses() {
    let Some(s) = read_case("case_6", "Case-6/vex.json") else {
        return;
    };
    let id = "CVE-2021-44228".to_string();
    assert_eq!(
        summary(&s),
        [
            (id.clone(), Status::Affected, vec![abc_affected()]),
            (id, Status::NotAffected, vec![abc_not_affected()]),
        ]
    );
    let unaffected = &s[1].products[0].versions;
    assert!(unaffected
        .iter()
        .all(|v| v.status == Some(VersionStatus::Unaffected)));
}

/// The BOM-links in Case-7/8 point at the two BOMs beside them: `urn:cdx:<serial>/<version>#<bom-ref>`.
fn check_bom_links(test: &str, case: &str, stmts: &[Statement]) -> Option<()> {
    let mut targets = Vec::new();
    for bom in ["bom-1.json", "bom-2.json"] {
        let path = patchpilot_testdata::shared_file(test, &format!("{CASES}/{case}/{bom}"))?;
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            parse(&bytes, bom).unwrap().is_empty(),
            "{bom} holds no VEX statements"
        );
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let serial = v["serialNumber"]
            .as_str()
            .unwrap()
            .trim_start_matches("urn:uuid:");
        let r = v["metadata"]["component"]["bom-ref"].as_str().unwrap();
        targets.push(format!("urn:cdx:{serial}/{}#{r}", v["version"]));
    }
    for s in stmts {
        for p in &s.products {
            let r = p.reference.as_deref().unwrap();
            assert!(targets.iter().any(|t| t == r), "{r} points at neither BOM");
            assert!(
                p.purl.is_none() && p.name.is_none(),
                "BOM-links stay opaque"
            );
        }
    }
    Some(())
}

#[test]
fn case_7_multiple_products_single_vulnerability() {
    let t = "case_7";
    let Some(s) = read_case(t, "Case-7/vex.json") else {
        return;
    };
    let id = "CVE-2021-44228".to_string();
    assert_eq!(
        summary(&s),
        [
            (
                id.clone(),
                Status::Affected,
                vec![
                    link("ABC", "=2.4 =2.6 vers:generic/>=2.9|<=4.1"),
                    link("JKL", "vers:generic/>=4.5|<=5.0")
                ]
            ),
            (
                id.clone(),
                Status::NotAffected,
                vec![link(
                    "ABC",
                    "vers:generic/>=1.0|<=2.3 =2.5 vers:generic/>=2.7|<=2.8 =4.2"
                )]
            ),
            (
                id.clone(),
                Status::NotAffected,
                vec![link("JKL", "vers:generic/>=1.0|<=4.4")]
            ),
            (id, Status::Fixed, vec![link("JKL", "=5.1")]),
        ]
    );
    check_bom_links(t, "Case-7", &s);
}

#[test]
fn case_8_multiple_products_multiple_vulnerabilities() {
    let t = "case_8";
    let Some(s) = read_case(t, "Case-8/vex.json") else {
        return;
    };
    let (a, b) = ("CVE-2021-44228".to_string(), "CVE-2021-45105".to_string());
    let abc_aff = link("ABC", "=2.4 =2.6 vers:generic/>=2.9|<=4.1");
    let abc_not = link(
        "ABC",
        "vers:generic/>=1.0|<=2.3 =2.5 vers:generic/>=2.7|<=2.8 =4.2",
    );
    let jkl_not = link("JKL", "vers:generic/>=1.0|<=4.4");
    assert_eq!(
        summary(&s),
        [
            (
                a.clone(),
                Status::Affected,
                vec![abc_aff.clone(), link("JKL", "vers:generic/>=4.5|<=5.0")]
            ),
            (a.clone(), Status::NotAffected, vec![abc_not.clone()]),
            (a.clone(), Status::NotAffected, vec![jkl_not.clone()]),
            // The mitigation is now to upgrade to 5.2.
            (a, Status::Fixed, vec![link("JKL", "=5.1 =5.2")]),
            // JKL 5.1 is also affected by CVE-2021-45105.
            (
                b.clone(),
                Status::Affected,
                vec![abc_aff, link("JKL", "vers:generic/>=4.5|<=5.0 =5.1")]
            ),
            (
                b.clone(),
                Status::NotAffected,
                vec![abc_not, link("JKL", "vers:generic/>=1.0|<=4.4 =5.2")]
            ),
            (b.clone(), Status::NotAffected, vec![jkl_not]),
            (b, Status::Fixed, vec![link("JKL", "=5.2")]),
        ]
    );
    check_bom_links(t, "Case-8", &s);
}

#[test]
fn case_9_product_lines_are_not_supported_by_cyclonedx() {
    let Some(dir) = patchpilot_testdata::shared_file("case_9", &format!("{CASES}/Case-9")) else {
        return;
    };
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(readme.contains("CycloneDX does not support this use case"));
    let json = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count();
    assert_eq!(json, 0, "no document to parse for Case-9");
}

#[test]
fn cisa_products_without_purls_suppress_nothing() {
    let Some(s) = read_case("cisa_no_purls", "Case-1/vex-not_affected.json") else {
        return;
    };
    let idx = VexIndex::new(s);
    for purl in [
        "pkg:generic/ABC@4.2",
        "pkg:generic/ABC",
        "pkg:generic/product-ABC",
    ] {
        assert!(idx.lookup(&["CVE-2021-44228"], purl).is_none(), "{purl}");
    }
}

#[test]
fn openvex_fixture() {
    let (bytes, src) = fixture("openvex/vex.json");
    let s = parse_openvex(&bytes, &src).unwrap();
    assert_eq!(parse(&bytes, &src).unwrap(), s, "detected as OpenVEX");
    assert_eq!(s.len(), 5);

    assert_eq!(s[0].vulnerability, "CVE-2021-44228");
    assert_eq!(s[0].aliases, ["GHSA-jfh8-c2jp-5v3q"]);
    assert_eq!(s[0].status, Status::NotAffected);
    assert_eq!(
        s[0].justification.as_deref(),
        Some("vulnerable_code_not_in_execute_path")
    );
    assert_eq!(
        s[0].detail.as_deref(),
        Some("JNDI lookups are disabled by configuration.")
    );
    assert_eq!(
        s[0].timestamp.as_deref(),
        Some("2024-03-01T12:00:00Z"),
        "document timestamp"
    );
    assert_eq!(s[0].source, src);
    assert_eq!(s[0].author.as_deref(), Some("Patchpilot test fixture"));

    // Subcomponents become the products, each noting the product they sit in.
    assert_eq!(s[1].status, Status::Fixed);
    assert_eq!(s[1].timestamp.as_deref(), Some("2024-03-02T08:00:00Z"));
    let subs: Vec<String> = s[1]
        .products
        .iter()
        .map(|p| p.purl.as_ref().unwrap().to_string())
        .collect();
    assert_eq!(
        subs,
        ["pkg:golang/golang.org/x/net", "pkg:npm/left-pad@1.3.0"]
    );
    assert!(s[1]
        .products
        .iter()
        .all(|p| p.within.as_deref() == Some("pkg:oci/app@sha256%3Aabcd")));

    // 0.0.x shapes: vulnerability and product as strings.
    assert_eq!(s[2].vulnerability, "CVE-2024-0001");
    assert_eq!(s[2].status, Status::UnderInvestigation);

    // A non-purl @id with identifiers.purl: both kept, the purl normalized.
    let p = &s[3].products[0];
    assert_eq!(
        p.reference.as_deref(),
        Some("https://example.invalid/product/widget")
    );
    assert_eq!(p.purl.as_ref().unwrap().to_string(), "pkg:pypi/widget-lib");
    assert_eq!(s[3].detail.as_deref(), Some("Upgrade to 2.0."));
}

#[test]
fn openvex_lookup() {
    let (bytes, src) = fixture("openvex/vex.json");
    let idx = VexIndex::new(parse_openvex(&bytes, &src).unwrap());
    let log4j = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1";
    // Two statements match; the newer not_affected beats the older affected one even
    // though the affected one comes later in the document.
    let hit = idx.lookup(&["CVE-2021-44228"], log4j).unwrap();
    assert_eq!(hit.status, Status::NotAffected);
    assert!(hit.status.suppresses());
    assert!(
        idx.lookup(&["GHSA-jfh8-c2jp-5v3q"], log4j).is_some(),
        "by alias"
    );
    // The statement's purl has a version: other versions are not covered.
    assert!(idx
        .lookup(
            &["CVE-2021-44228"],
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.0"
        )
        .is_none());

    let net = idx
        .lookup(&["CVE-2023-44487"], "pkg:golang/golang.org/x/net@0.17.0")
        .unwrap();
    assert_eq!(net.status, Status::Fixed);
    assert!(idx
        .lookup(&["CVE-2023-44487"], "pkg:npm/left-pad@1.3.1")
        .is_none());

    // Statement has a qualifier: packages must carry it.
    let ui = idx.lookup(
        &["CVE-2024-0001"],
        "pkg:deb/debian/openssl@3.0.11?arch=amd64&distro=bookworm",
    );
    assert!(!ui.unwrap().status.suppresses());
    assert!(idx
        .lookup(
            &["CVE-2024-0001"],
            "pkg:deb/debian/openssl@3.0.11?arch=arm64"
        )
        .is_none());
    assert!(idx
        .lookup(&["CVE-2024-0001"], "pkg:deb/debian/openssl@3.0.11")
        .is_none());

    // identifiers.purl, matched after normalization.
    let w = idx
        .lookup(&["CVE-2024-0002"], "pkg:pypi/widget_lib@1.0")
        .unwrap();
    assert_eq!(w.status, Status::Affected);
    assert!(!w.status.suppresses());
}

#[test]
fn cyclonedx_with_purls_and_nested_components() {
    let (bytes, src) = fixture("cyclonedx-purls/vex.json");
    let s = parse(&bytes, &src).unwrap();
    assert_eq!(
        s.len(),
        2,
        "the vulnerability without analysis is not a statement"
    );

    assert_eq!(s[0].status, Status::NotAffected, "false_positive");
    assert_eq!(s[0].aliases, ["GHSA-57j2-w4cx-62h2"]);
    assert_eq!(
        s[0].timestamp.as_deref(),
        Some("2024-04-02T00:00:00Z"),
        "analysis.lastUpdated"
    );
    assert_eq!(s[1].status, Status::Fixed, "resolved_with_pedigree");
    assert_eq!(
        s[1].timestamp.as_deref(),
        Some("2024-04-01T00:00:00Z"),
        "metadata.timestamp"
    );
    let p = &s[1].products;
    assert_eq!(
        p[0].purl.as_ref().unwrap().to_string(),
        "pkg:npm/nested@1.0.0",
        "nested bom-ref"
    );
    assert_eq!(p[0].reference.as_deref(), Some("comp-nested"));
    assert_eq!(
        p[1].purl.as_ref().unwrap().to_string(),
        "pkg:cargo/serde@1.0.0",
        "ref is a purl"
    );
    assert!(p[2].purl.is_none() && p[2].reference.as_deref().unwrap().starts_with("urn:cdx:"));

    let idx = VexIndex::new(s);
    let jackson = "pkg:maven/com.fasterxml.jackson.core/jackson-databind";
    assert!(idx
        .lookup(&["CVE-2020-36518"], &format!("{jackson}@2.12.6"))
        .is_some());
    assert!(idx
        .lookup(&["GHSA-57j2-w4cx-62h2"], &format!("{jackson}@2.12.6"))
        .is_some());
    // Only listed in a range, which is not evaluated: no suppression.
    assert!(idx
        .lookup(&["CVE-2020-36518"], &format!("{jackson}@2.13.1"))
        .is_none());
    assert!(idx
        .lookup(&["CVE-2024-1111"], "pkg:npm/nested@1.0.0")
        .is_some());
    assert!(idx
        .lookup(&["CVE-2024-1111"], "pkg:npm/nested@1.0.1")
        .is_none());
    assert!(idx
        .lookup(&["CVE-2024-1111"], "pkg:cargo/serde@1.0.0")
        .is_some());
    assert!(idx
        .lookup(&["CVE-2024-2222"], "pkg:npm/nested@1.0.0")
        .is_none());
}

#[test]
fn bad_documents_give_clear_errors() {
    let cdx = |vulns: &str| {
        format!(
            r#"{{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{{"bom-ref":"c","purl":"pkg:npm/a"}}],"vulnerabilities":[{vulns}]}}"#
        )
    };
    let ovx = |stmt: &str| {
        format!(r#"{{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{stmt}]}}"#)
    };
    let cases: Vec<(String, &str)> = vec![
        (cdx(r#"{"id":"CVE-1","analysis":{"state":"maybe"},"affects":[{"ref":"c"}]}"#), "unknown analysis.state \"maybe\""),
        (cdx(r#"{"id":"CVE-1","analysis":{},"affects":[{"ref":"c"}]}"#), "analysis has no state"),
        (cdx(r#"{"analysis":{"state":"exploitable"}}"#), "vulnerabilities[0]: no id"),
        (cdx(r#"{"id":"CVE-1","analysis":{"state":"exploitable"},"affects":[{"ref":"pkg:"}]}"#), "invalid purl"),
        (cdx(r#"{"id":"CVE-1","analysis":{"state":"exploitable"},"affects":[{}]}"#), "no ref"),
        (cdx(r#"{"id":"CVE-1","analysis":{"state":"exploitable","lastUpdated":"soon"},"affects":[{"ref":"c"}]}"#), "not an RFC 3339 timestamp"),
        (cdx(r#"{"id":"CVE-1","analysis":{"state":"exploitable"},"affects":[{"ref":"c","versions":[{"version":"1","status":"odd"}]}]}"#), "unknown status \"odd\""),
        (cdx(r#"{"id":"CVE-1","analysis":{"state":"exploitable"},"affects":[{"ref":"c","versions":[{}]}]}"#), "neither version nor range"),
        (r#"{"bomFormat":"CycloneDX","components":[{"bom-ref":"c","purl":"npm/a"}],"vulnerabilities":[{"id":"CVE-1","analysis":{"state":"exploitable"},"affects":[{"ref":"c"}]}]}"#.to_string(), "purl of \"c\""),
        (ovx(r#"{"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:npm/a"}],"status":"nope"}"#), "unknown status \"nope\""),
        (ovx(r#"{"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:npm/a"}]}"#), "no status"),
        (ovx(r#"{"products":[{"@id":"pkg:npm/a"}],"status":"fixed"}"#), "no vulnerability"),
        (ovx(r#"{"vulnerability":{"name":"CVE-1"},"products":[],"status":"fixed"}"#), "no products"),
        (ovx(r#"{"vulnerability":{"name":"CVE-1"},"products":[{}],"status":"fixed"}"#), "neither @id nor identifiers.purl"),
        (ovx(r#"{"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:cargo/a/b"}],"status":"fixed"}"#), "invalid purl"),
        (ovx(r#"{"vulnerability":{"name":"CVE-1"},"products":["pkg:npm/a"],"status":"fixed","timestamp":"2024-02-30T00:00:00Z"}"#), "not an RFC 3339"),
        (ovx(r#"{"vulnerability":7,"products":["pkg:npm/a"],"status":"fixed"}"#), "invalid JSON"),
        // OpenVEX: a not_affected statement must say why; justifications are the spec's labels.
        (ovx(r#"{"vulnerability":{"name":"CVE-1"},"products":["pkg:npm/a"],"status":"not_affected"}"#), "statements[0] (CVE-1): not_affected needs a justification or an impact statement"),
        (ovx(r#"{"vulnerability":{"name":"CVE-1"},"products":["pkg:npm/a"],"status":"not_affected","impact_statement":"  "}"#), "not_affected needs a justification"),
        (ovx(r#"{"vulnerability":{"name":"CVE-1"},"products":["pkg:npm/a"],"status":"not_affected","justification":"code_not_reachable"}"#), "unknown justification \"code_not_reachable\""),
        (cdx(r#"{"id":"CVE-1","analysis":{"state":"not_affected","justification":"trust_me"},"affects":[{"ref":"c"}]}"#), "vulnerabilities[0] (CVE-1): analysis: unknown justification \"trust_me\""),
        (r#"{"@context":"https://openvex.dev/ns/v0.2.0"}"#.to_string(), "no statements array"),
        ("null".to_string(), "not a VEX document"),
    ];
    for (doc, want) in &cases {
        let err = parse(doc.as_bytes(), "bad.json").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("bad.json: "), "{msg}");
        assert!(msg.contains(want), "{msg:?} should contain {want:?}");
    }
    // The explicit parsers reject the other format.
    let (ov, _) = fixture("openvex/vex.json");
    assert!(matches!(
        parse_cyclonedx(&ov, "x").unwrap_err(),
        VexError::Invalid { .. } | VexError::Json { .. }
    ));
    let (cd, _) = fixture("cyclonedx-purls/vex.json");
    assert!(parse_openvex(&cd, "x")
        .unwrap_err()
        .to_string()
        .contains("no statements"));
}

#[test]
fn every_truncation_of_real_documents_errors_without_panicking() {
    let Some(path) =
        patchpilot_testdata::shared_file("truncation", &format!("{CASES}/Case-7/vex.json"))
    else {
        return;
    };
    let (ov, _) = fixture("openvex/vex.json");
    for bytes in [std::fs::read(path).unwrap(), ov] {
        let full = parse(&bytes, "full").unwrap();
        assert!(!full.is_empty());
        for cut in 0..bytes.len() {
            // A prefix may still be valid JSON only if it is the whole trimmed document.
            if let Ok(got) = parse(&bytes[..cut], "cut") {
                assert_eq!(
                    bytes[..cut].trim_ascii(),
                    bytes.trim_ascii(),
                    "cut at {cut} parsed"
                );
                assert_eq!(got.len(), full.len());
            }
        }
    }
}
