//! The CLI contract: outputs, exit codes and one-line errors.

use crate::support::{audit_fixture, imported, run, stderr, stdout, with_feeds};

#[test]
fn version_compare_prints_symbol() {
    for (scheme, a, b, want) in [
        ("deb", "1:1.0-1", "2.0-1", ">"),
        ("Debian", "1.0~rc1", "1.0", "<"),
        ("rpm", "1.0^git1", "1.0", ">"),
        ("pep440", "1.0", "1.0.0", "="),
        ("PyPI", "1.0rc1", "1.0", "<"),
        ("semver", "1.0.0-alpha", "1.0.0", "<"),
        ("Go", "v1.2.3", "v1.2.3+incompatible", "="),
        ("crates.io", "0.10.0", "0.9.9", ">"),
        ("apk", "1.2.3-r1", "1.2.3-r0", ">"),
        ("maven", "1.0-SNAPSHOT", "1.0", "<"),
        ("nuget", "1.0.0-BETA", "1.0.0-beta", "="),
        ("gem", "1.0.a", "1.0", "<"),
        ("composer", "1.0.0-beta", "1.0.0-RC1", "<"),
    ] {
        let o = run(&["version", "compare", scheme, a, b], None);
        assert!(o.status.success(), "{scheme} {a} {b}: {}", stderr(&o));
        assert_eq!(stdout(&o).trim(), want, "{scheme} {a} {b}");
    }
}

#[test]
fn version_compare_rejects_bad_input_with_exit_2() {
    let o = run(
        &["version", "compare", "pep440", "1.0", "not a version!"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "one line: {e}");
    assert!(e.contains("pep440") && e.contains("not a version!"), "{e}");

    let o = run(&["version", "compare", "nosuch", "1", "2"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown version scheme"));
}

#[test]
fn batch_mode_keeps_order_and_reports_bad_lines() {
    let input = "1.0 2.0\n2.0 1.0\n1.0 1.0.0\nbad version here\n1!1.0 2.0\n";
    let o = run(&["version", "compare", "pep440", "--batch"], Some(input));
    assert_eq!(o.status.code(), Some(2), "bad lines make exit 2 at the end");
    let lines: Vec<String> = stdout(&o).lines().map(String::from).collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(&lines[..3], ["<", ">", "="]);
    assert!(lines[3].starts_with("error: "), "{}", lines[3]);
    assert_eq!(lines[4], ">");
}

#[test]
fn scan_without_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("Cargo.lock");
    std::fs::write(&lock, "version = 3\n").unwrap();
    let o = run(
        &[
            "--data-dir",
            &dir.path().join("empty").display().to_string(),
            "scan",
            &lock.display().to_string(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("feeds import"), "{}", stderr(&o));
}

#[test]
fn scan_formats_and_fail_on() {
    let Some((shared, _keep, data)) = with_feeds("scan_formats_and_fail_on", &["crates.io"]) else {
        return;
    };
    let lock = audit_fixture(&shared, "base64_vuln");

    let o = run(
        &["--data-dir", &data, "scan", "--format", "json", &lock],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["advisory"]["id"], "RUSTSEC-2017-0004");
    assert_eq!(f["package"]["name"], "base64");
    assert_eq!(f["package"]["ecosystem"], "crates.io");
    assert_eq!(f["package"]["purl"], "pkg:cargo/base64@0.5.1");
    assert_eq!(f["kind"], "vulnerability");
    assert_eq!(f["fixed_versions"][0], "0.5.2");
    assert_eq!(f["source"], lock.as_str());
    assert!(f["advisory"]["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "CVE-2017-1000430"));

    let o = run(&["--data-dir", &data, "scan", &lock], None);
    let table = stdout(&o);
    assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");
    assert!(table.contains("RUSTSEC-2017-0004"));

    let o = run(
        &["--data-dir", &data, "scan", "--format", "sarif", &lock],
        None,
    );
    let s: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(s["version"], "2.1.0");
    assert_eq!(s["runs"][0]["results"][0]["ruleId"], "RUSTSEC-2017-0004");

    // RUSTSEC-2017-0004 is CVSS 9.8 critical.
    let o = run(
        &["--data-dir", &data, "scan", "--fail-on", "critical", &lock],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let clean = audit_fixture(&shared, "no_vulns");
    let o = run(
        &["--data-dir", &data, "scan", "--fail-on", "any", &clean],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Informational findings never fail a scan.
    let unmaintained = audit_fixture(&shared, "unmaintained");
    let o = run(
        &[
            "--data-dir",
            &data,
            "scan",
            "--fail-on",
            "any",
            "--format",
            "json",
            &unmaintained,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["findings"][0]["kind"], "unmaintained");
}

/// Every accepted input format: a truncated or garbage file gives exit 2 and one line
/// naming the file and the reason, and never a panic.
#[test]
fn bad_input_in_every_format_is_one_line_exit_2() {
    let Some((_, _keep, data)) = with_feeds(
        "bad_input_in_every_format_is_one_line_exit_2",
        &["crates.io"],
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &[u8])] = &[
        (
            "dpkg-status",
            "status",
            b"Package: foo\nStatus: install ok installed\nVersion",
        ),
        ("apk-installed", "installed", b"\x00\x01\x02garbage\xff"),
        ("rpm-qa", "rpm-qa.txt", b"\x00\xff\xfe not an rpm listing"),
        (
            "rpmdb-sqlite",
            "rpmdb.sqlite",
            b"SQLite format 3\0truncated",
        ),
        (
            "cyclonedx-json",
            "bom.cdx.json",
            b"{\"bomFormat\": \"CycloneDX\", \"components\": [{\"name\": ",
        ),
        (
            "cyclonedx-xml",
            "bom.cdx.xml",
            b"<bom xmlns=\"http://cyclonedx.org/schema/bom/1.4\"><components><component",
        ),
        (
            "spdx-json",
            "sbom.spdx.json",
            b"{\"spdxVersion\": \"SPDX-2.3\", \"packages\": [tru",
        ),
        (
            "Cargo.lock",
            "Cargo.lock",
            b"[[package]]\nname = \"x\nversion",
        ),
        (
            "package-lock.json",
            "package-lock.json",
            b"{\"lockfileVersion\": 3, \"packages\": {",
        ),
        ("yarn.lock", "yarn.lock", b"\x00\xff\xfe\x00"),
        (
            "pnpm-lock.yaml",
            "pnpm-lock.yaml",
            b"lockfileVersion: '9.0'\npackages:\n  - [unclosed",
        ),
        ("requirements.txt", "requirements.txt", b"\xff\xfe\x00\x00"),
        ("poetry.lock", "poetry.lock", b"[[package]]\nname = "),
        ("Pipfile.lock", "Pipfile.lock", b"{\"_meta\": {"),
        ("uv.lock", "uv.lock", b"version = 1\n[[package]\n"),
        ("go.mod", "go.mod", b"\xff\xfe\x00 module"),
    ];
    for (format, file, bytes) in cases {
        let path = dir.path().join(file);
        std::fs::write(&path, bytes).unwrap();
        let p = path.display().to_string();
        let o = run(
            &["--data-dir", &data, "scan", "--input-format", format, &p],
            None,
        );
        let e = stderr(&o);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{format}: exit {:?}, stderr {e}",
            o.status
        );
        assert_eq!(e.lines().count(), 1, "{format}: one line expected: {e}");
        assert!(e.contains(&p), "{format}: error must name the file: {e}");
        assert!(!e.contains("panicked"), "{format}: {e}");
        assert!(stdout(&o).is_empty(), "{format}: nothing on stdout");
    }
}

/// `scan --prioritize` on real feeds: KEV-listed CVEs (salt, CVE-2020-11651 and friends)
/// rank first with SSVC Immediate and CISA's due date; every finding carries its factors.
#[test]
fn prioritize_ranks_kev_findings_first_with_explanations() {
    let Some((shared, _keep, data)) = with_feeds(
        "prioritize_ranks_kev_findings_first_with_explanations",
        &["PyPI"],
    ) else {
        return;
    };
    let kev = shared.join("feeds/kev/known_exploited_vulnerabilities.json");
    let epss = shared.join("feeds/epss/epss_scores-sample.csv.gz");
    let o = run(
        &[
            "--data-dir",
            &data,
            "feeds",
            "import",
            &kev.display().to_string(),
            &epss.display().to_string(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("CISA KEV catalog 2026.08.07 (1662 entries)"),
        "{}",
        stdout(&o)
    );

    let dir = tempfile::tempdir().unwrap();
    let req = dir.path().join("requirements.txt");
    std::fs::write(&req, "celery==4.4.7\nsalt==3000.1\n").unwrap();
    let req = req.display().to_string();
    let args = [
        "--data-dir",
        &data,
        "scan",
        "--prioritize",
        "--tier",
        "1",
        "--exposure",
        "internet-facing",
    ];
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json", &req]);
    let o = run(&json_args, None);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert!(findings.len() > 4);
    let kev_ids = ["PYSEC-2020-102", "PYSEC-2020-103", "PYSEC-2020-104"];
    for f in &findings[..3] {
        assert!(
            kev_ids.contains(&f["advisory"]["id"].as_str().unwrap()),
            "{f}"
        );
        assert_eq!(f["risk"]["ssvc"], "immediate");
        assert_eq!(
            f["risk"]["due"]["date"], "2022-05-03",
            "CISA's due date for the 2021-11-03 listing"
        );
        assert!(f["risk"]["explanation"]
            .as_str()
            .unwrap()
            .contains("in CISA KEV since 2021-11-03"));
    }
    let scores: Vec<f64> = findings
        .iter()
        .map(|f| f["risk"]["score"].as_f64().unwrap())
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "ranked by score: {scores:?}"
    );
    let celery = findings
        .iter()
        .find(|f| f["package"]["name"] == "celery")
        .unwrap();
    assert_ne!(celery["risk"]["ssvc"], "immediate");
    let names: Vec<&str> = celery["risk"]["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    for want in [
        "exploitation",
        "cvss",
        "exposure",
        "criticality",
        "fix",
        "sla",
    ] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }

    let mut table_args = args.to_vec();
    table_args.push(&req);
    let o = run(&table_args, None);
    let table = stdout(&o);
    assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");
    assert!(table.starts_with("SSVC"), "{table}");
    assert!(
        table.contains("  why: in CISA KEV since 2021-11-03"),
        "{table}"
    );
}

/// KEV history end to end, on real CVEs: with the 2024-01 catalog, Go findings for
/// wazuh (CVE-2025-24016), gogs (CVE-2025-8110) and trivy (CVE-2026-33634) are not
/// KEV-listed; after importing the 2026-08 catalog they move to Immediate with CISA's due
/// dates, while a finding listed in both (pyspark, CVE-2022-33891) keeps its date.
#[test]
fn kev_history_moves_newly_listed_findings_to_immediate() {
    let Some((shared, _keep, data)) = with_feeds(
        "kev_history_moves_newly_listed_findings_to_immediate",
        &["Go", "PyPI"],
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let gomod = dir.path().join("go.mod");
    std::fs::write(
        &gomod,
        "module example.com/app\n\ngo 1.22\n\nrequire (\n\tgithub.com/wazuh/wazuh v4.5.0+incompatible\n\tgogs.io/gogs v0.13.0\n\tgithub.com/aquasecurity/trivy v0.69.4\n)\n",
    )
    .unwrap();
    let req = dir.path().join("requirements.txt");
    std::fs::write(&req, "pyspark==3.2.1\n").unwrap();
    let (gomod, req) = (gomod.display().to_string(), req.display().to_string());

    let scan = || -> std::collections::BTreeMap<String, (String, String)> {
        let o = run(
            &[
                "--data-dir",
                &data,
                "scan",
                "--prioritize",
                "--tier",
                "1",
                "--exposure",
                "internet-facing",
                "--format",
                "json",
                &gomod,
                &req,
            ],
            None,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| {
                let mut ids: Vec<String> = f["advisory"]["aliases"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|a| a.as_str().map(String::from))
                    .collect();
                ids.push(f["advisory"]["id"].as_str().unwrap().to_string());
                let risk = (
                    f["risk"]["ssvc"].as_str().unwrap().to_string(),
                    f["risk"]["due"]["date"].as_str().unwrap().to_string(),
                );
                ids.into_iter()
                    .filter(|i| i.starts_with("CVE-"))
                    .map(move |i| (i, risk.clone()))
            })
            .collect()
    };
    let import = |catalog: &str| {
        let p = shared
            .join("feeds/kev/history")
            .join(catalog)
            .display()
            .to_string();
        let o = run(&["--data-dir", &data, "feeds", "import", &p], None);
        assert!(o.status.success(), "{}", stderr(&o));
    };

    import("2024-01-19.json");
    let before = scan();
    import("2026-08-08.json");
    let after = scan();
    for (cve, due) in [
        ("CVE-2025-24016", "2025-07-01"),
        ("CVE-2025-8110", "2026-02-02"),
        ("CVE-2026-33634", "2026-04-09"),
    ] {
        let b = before
            .get(cve)
            .unwrap_or_else(|| panic!("{cve} not found: {before:?}"));
        assert_ne!(b.0, "immediate", "{cve} before: {b:?}");
        assert_eq!(
            after[cve],
            ("immediate".to_string(), due.to_string()),
            "{cve} after"
        );
    }
    let pyspark = ("immediate".to_string(), "2023-03-28".to_string());
    assert_eq!(before["CVE-2022-33891"], pyspark);
    assert_eq!(after["CVE-2022-33891"], pyspark);
}

/// `eval prioritize` runs on the shared data and prints coverage and efficiency at each
/// effort level for the three rankings; the time split leaves out CVEs already in the
/// earlier catalog and counts the later additions as positives.
#[test]
fn eval_prioritize_prints_the_time_split_table() {
    let Some((shared, _keep, data)) = with_feeds(
        "eval_prioritize_prints_the_time_split_table",
        &["crates.io", "Go", "PyPI"],
    ) else {
        return;
    };
    let kev = |f: &str| {
        shared
            .join("feeds/kev/history")
            .join(f)
            .display()
            .to_string()
    };
    let epss = shared
        .join("feeds/epss/epss_scores-sample.csv.gz")
        .display()
        .to_string();
    let o = run(
        &[
            "--data-dir",
            &data,
            "eval",
            "prioritize",
            "--kev-before",
            &kev("2024-01-19.json"),
            "--kev-after",
            &kev("2026-08-08.json"),
            "--epss",
            &epss,
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    eprintln!("{text}");
    assert!(
        text.contains("positives: 3 added to KEV between 2024.01.18 and 2026.08.07"),
        "{text}"
    );
    assert!(
        text.contains("9 already in KEV 2024.01.18 left out"),
        "{text}"
    );
    for effort in ["5%", "10%", "20%", "50%"] {
        assert!(
            text.lines().any(|l| l.starts_with(effort)),
            "{effort}: {text}"
        );
    }
    // With 3 positives every coverage has a wide interval, and the tool says so.
    assert!(
        text.contains("Wilson interval of the coverage over 3 positives"),
        "{text}"
    );
    let row = text.lines().find(|l| l.starts_with("5%")).unwrap();
    assert!(row.contains("[ 0.0- 56.1]"), "{row}");
}

/// VEX in a scan: `not_affected` suppresses the finding (kept, with its justification, not
/// counted, not failing `--fail-on`); `under_investigation` suppresses nothing.
#[test]
fn vex_not_affected_suppresses_and_under_investigation_does_not() {
    let Some(shared) = patchpilot_testdata::shared_data(
        "vex_not_affected_suppresses_and_under_investigation_does_not",
    ) else {
        return;
    };
    let (_keep, data) = imported(&["crates.io"], &shared);
    let data = data.display().to_string();
    let lock = audit_fixture(&shared, "base64_vuln");
    let dir = tempfile::tempdir().unwrap();
    let vex = |status: &str| {
        let path = dir.path().join(format!("{status}.openvex.json"));
        let doc = serde_json::json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": format!("https://example.invalid/vex/{status}"),
            "author": "test",
            "timestamp": "2024-01-01T00:00:00Z",
            "version": 1,
            "statements": [{
                // The advisory is RUSTSEC-2017-0004; the statement names its CVE alias.
                "vulnerability": {"name": "CVE-2017-1000430"},
                "products": [{"@id": "pkg:cargo/base64@0.5.1"}],
                "status": status,
                "justification": "vulnerable_code_not_in_execute_path",
            }]
        });
        let doc = if status == "not_affected" {
            doc
        } else {
            let mut d = doc;
            d["statements"][0]
                .as_object_mut()
                .unwrap()
                .remove("justification");
            d
        };
        std::fs::write(&path, doc.to_string()).unwrap();
        path.display().to_string()
    };
    let not_affected = vex("not_affected");
    let o = run(
        &[
            "--data-dir",
            &data,
            "scan",
            "--vex",
            &not_affected,
            "--fail-on",
            "low",
            "--format",
            "json",
            &lock,
        ],
        None,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "suppressed findings do not fail: {}",
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["advisory"]["id"], "RUSTSEC-2017-0004");
    assert_eq!(f["suppressed"]["status"], "not_affected");
    assert_eq!(
        f["suppressed"]["justification"],
        "vulnerable_code_not_in_execute_path"
    );
    assert_eq!(v["summary"]["findings"], 0);
    assert_eq!(v["summary"]["suppressed"], 1);
    let o = run(
        &["--data-dir", &data, "scan", "--vex", &not_affected, &lock],
        None,
    );
    assert!(stdout(&o).contains("Suppressed by VEX:"), "{}", stdout(&o));

    let investigating = vex("under_investigation");
    let o = run(
        &[
            "--data-dir",
            &data,
            "scan",
            "--vex",
            &investigating,
            "--fail-on",
            "low",
            "--format",
            "json",
            &lock,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["findings"][0].get("suppressed").is_none());

    // A broken VEX document is an input error naming the file.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"statements\": [").unwrap();
    let o = run(
        &[
            "--data-dir",
            &data,
            "scan",
            "--vex",
            &bad.display().to_string(),
            &lock,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.json"), "{}", stderr(&o));
}

/// Risk acceptances from the policy file: a live exception accepts the finding (kept, not
/// counted, not failing); an expired one brings it back with a warning.
#[test]
fn policy_exceptions_accept_until_they_expire() {
    let Some((shared, _keep, data)) =
        with_feeds("policy_exceptions_accept_until_they_expire", &["crates.io"])
    else {
        return;
    };
    let lock = audit_fixture(&shared, "base64_vuln");
    let dir = tempfile::tempdir().unwrap();
    let policy = |expires: &str| {
        let p = dir.path().join(format!("policy-{expires}.toml"));
        std::fs::write(
            &p,
            format!(
                "epss-threshold = 0.2\n\n[asset]\ntier = 1\nexposure = \"internet-facing\"\n\n[[exceptions]]\nid = \"CVE-2017-1000430\"\npackage = \"base64\"\nowner = \"platform-team\"\nreason = \"only decodes trusted config\"\nexpires = \"{expires}\"\n"
            ),
        )
        .unwrap();
        p.display().to_string()
    };
    let live = policy("2999-12-31");
    let o = run(
        &[
            "--data-dir",
            &data,
            "scan",
            "--policy",
            &live,
            "--fail-on",
            "low",
            "--format",
            "json",
            &lock,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["findings"][0]["accepted"]["owner"], "platform-team");
    assert_eq!(v["findings"][0]["accepted"]["expires"], "2999-12-31");
    assert_eq!(v["summary"]["findings"], 0);
    assert_eq!(v["summary"]["accepted"], 1);

    let expired = policy("2020-01-01");
    let o = run(
        &[
            "--data-dir",
            &data,
            "scan",
            "--policy",
            &expired,
            "--fail-on",
            "low",
            &lock,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("expired on 2020-01-01"),
        "{}",
        stderr(&o)
    );

    // The policy's [asset] feeds --prioritize: tier 1, internet-facing.
    let o = run(
        &[
            "--data-dir",
            &data,
            "scan",
            "--policy",
            &expired,
            "--prioritize",
            "--format",
            "json",
            &lock,
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v["findings"][0]["risk"]["ssvc_inputs"]["exposure"], "open",
        "{v}"
    );

    // A policy with an unknown key is an input error naming the file.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "no-such-setting = 1\n").unwrap();
    let o = run(
        &[
            "--data-dir",
            &data,
            "scan",
            "--policy",
            &bad.display().to_string(),
            &lock,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.toml"), "{}", stderr(&o));
}

/// A feed older than `--max-feed-age` makes the scan warn (on stderr and in the JSON);
/// a fresh one does not; 0 turns the check off.
#[test]
fn stale_feeds_make_scans_warn() {
    let Some((shared, _keep, data)) = with_feeds("stale_feeds_make_scans_warn", &["crates.io"])
    else {
        return;
    };
    let lock = audit_fixture(&shared, "no_vulns");
    let o = run(&["--data-dir", &data, "scan", &lock], None);
    assert!(
        !stderr(&o).contains("last updated"),
        "fresh import: {}",
        stderr(&o)
    );
    // 0.00001 days is 0.86 s: after the sleep, the import is older than that.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let o = run(
        &[
            "--data-dir",
            &data,
            "scan",
            "--max-feed-age",
            "0.00001",
            "--format",
            "json",
            &lock,
        ],
        None,
    );
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("crates.io/all.zip was last updated"),
        "{}",
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["message"]
            .as_str()
            .unwrap()
            .contains("newer advisories are missing")));
    let o = run(
        &["--data-dir", &data, "scan", "--max-feed-age", "0", &lock],
        None,
    );
    assert!(!stderr(&o).contains("last updated"));
}

/// Distro trackers through `feeds import` and a dpkg scan: the Debian tracker's fix for
/// bookworm applies to Debian 12 only, by source package (backports honoured).
#[test]
fn debian_tracker_import_matches_by_source_package_and_release() {
    let Some(shared) = patchpilot_testdata::shared_data(
        "debian_tracker_import_matches_by_source_package_and_release",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let tracker = shared
        .join("feeds/distro-samples/debian/input/debian.json")
        .display()
        .to_string();
    let o = run(&["--data-dir", &data, "feeds", "import", &tracker], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("imported 5 advisories converted"),
        "{}",
        stdout(&o)
    );
    let status = dir.path().join("status");
    std::fs::write(
        &status,
        "Package: libsope1\nStatus: install ok installed\nVersion: 5.8.0-1\nSource: sope\nArchitecture: amd64\n",
    )
    .unwrap();
    let status = status.display().to_string();
    let scan = |distro: &str| -> serde_json::Value {
        let o = run(
            &[
                "--data-dir",
                &data,
                "scan",
                "--distro",
                distro,
                "--format",
                "json",
                &status,
            ],
            None,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_str(&stdout(&o)).unwrap()
    };
    let v = scan("debian:12");
    let f = &v["findings"][0];
    assert_eq!(f["advisory"]["id"], "DEBIAN-CVE-2025-53603");
    assert_eq!(f["package"]["name"], "libsope1");
    assert_eq!(f["fixed_versions"][0], "5.8.0-1+deb12u1");
    // Debian 13 has its own fixed version (5.12.1-2), which 5.8.0-1 is below: still
    // affected there, with that fix; on an unknown release nothing applies.
    let v = scan("debian:13");
    assert_eq!(v["findings"][0]["fixed_versions"][0], "5.12.1-2");
    let v = scan("debian:8");
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
}

/// The `cvss` factor of the only finding of a prioritized JSON scan.
fn only_cvss_factor(v: &serde_json::Value) -> (serde_json::Value, String) {
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{v}");
    let risk = &findings[0]["risk"];
    let f = risk["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "cvss")
        .unwrap()
        .clone();
    (f, risk["explanation"].as_str().unwrap().to_string())
}

/// NVD fills in CVSS: a finding whose advisory has no CVSS gets NVD's vector for its CVE
/// alias once the NVD sample pages are imported, and the factor and the sentence name NVD
/// and the record's date. The samples' CVEs are in none of the shared OSV feeds, so the
/// advisory is a fixture (`tests/fixtures/nvd-cvss`: RUSTSEC-2099-0001, alias
/// CVE-2022-1576, no severity).
#[test]
fn nvd_cvss_fills_in_where_the_advisory_has_none() {
    let Some(shared) =
        patchpilot_testdata::shared_data("nvd_cvss_fills_in_where_the_advisory_has_none")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let advisory = crate::support::fixture("nvd-cvss", "advisory.json");
    let lock = crate::support::fixture("nvd-cvss", "Cargo.lock");
    let o = run(&["--data-dir", &data, "feeds", "import", &advisory], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let scan = || -> serde_json::Value {
        let o = run(
            &[
                "--data-dir",
                &data,
                "scan",
                "--prioritize",
                "--max-feed-age",
                "0",
                "--format",
                "json",
                &lock,
            ],
            None,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_str(&stdout(&o)).unwrap()
    };
    let before = scan();
    let (f, why) = only_cvss_factor(&before);
    assert_eq!(f["source"], "policy", "{f}");
    assert!(why.contains("no CVSS score"), "{why}");

    // A page that is not one is refused, naming the file; nothing is stored.
    let bad = dir.path().join("nvd-page.json");
    std::fs::write(
        &bad,
        r#"{"format": "NVD_CVE", "version": "2.0", "vulnerabilities": []}"#,
    )
    .unwrap();
    let o = run(
        &[
            "--data-dir",
            &data,
            "feeds",
            "import",
            &bad.display().to_string(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("nvd-page.json: not an NVD CVE API 2.0 page"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let store = dir.path().join("data/feeds/nvd.json");
    assert!(!store.exists());

    let nvd = shared.join("feeds/distro-samples/nvd");
    let pages = [
        nvd.join("full-page.json").display().to_string(),
        nvd.join("single-entry.json").display().to_string(),
    ];
    let import = |pages: &[String]| {
        let mut args = vec!["--data-dir", &data, "feeds", "import"];
        args.extend(pages.iter().map(String::as_str));
        let o = run(&args, None);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    let out = import(&pages);
    assert!(
        out.contains("imported 39 NVD CVE records from 2 page(s): 36 added")
            && out.contains("holds 36 CVEs"),
        "{out}"
    );

    let after = scan();
    let (f, why) = only_cvss_factor(&after);
    assert_eq!(f["source"], "NVD CVSS v3.1 (nvd@nist.gov, Primary)", "{f}");
    assert_eq!(f["date"], "2024-11-21", "the NVD record's lastModified");
    assert_eq!(
        f["value"],
        "6.5 medium (CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:H/A:N)"
    );
    assert!(
        why.starts_with("CVSS 6.5 medium from NVD, 2024-11-21;"),
        "{why}"
    );
    let risk = &after["findings"][0]["risk"];
    assert_eq!(risk["due"]["severity"], "medium");
    assert!(
        risk["score"].as_f64().unwrap() > before["findings"][0]["risk"]["score"].as_f64().unwrap()
    );
    // The advisory itself is unchanged: the report shows its own (missing) severity.
    assert!(after["findings"][0]["advisory"]["severity"].is_null());

    let o = run(
        &[
            "--data-dir",
            &data,
            "scan",
            "--prioritize",
            "--max-feed-age",
            "0",
            &lock,
        ],
        None,
    );
    assert!(
        stdout(&o).contains("why: CVSS 6.5 medium from NVD, 2024-11-21"),
        "{}",
        stdout(&o)
    );

    // Importing the same pages again changes nothing.
    let bytes = std::fs::read(&store).unwrap();
    let out = import(&pages[1..]);
    assert!(out.contains("0 added, 0 updated, 0 removed"), "{out}");
    assert_eq!(std::fs::read(&store).unwrap(), bytes);
}

/// `explain --format json`: a versioned document whose risk factors each carry a source
/// (and a date where there is one), with the KEV facts behind them, agreeing with the text.
#[test]
fn explain_json_has_every_factor_with_source_and_date() {
    let Some((shared, _keep, data)) = with_feeds(
        "explain_json_has_every_factor_with_source_and_date",
        &["PyPI"],
    ) else {
        return;
    };
    let kev = shared.join("feeds/kev/known_exploited_vulnerabilities.json");
    let epss = shared.join("feeds/epss/epss_scores-sample.csv.gz");
    let o = run(
        &[
            "--data-dir",
            &data,
            "feeds",
            "import",
            &kev.display().to_string(),
            &epss.display().to_string(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let args = [
        "--data-dir",
        &data,
        "explain",
        "CVE-2020-11651",
        "--tier",
        "1",
        "--exposure",
        "internet-facing",
    ];
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let o = run(&json_args, None);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["schema_version"], "1");
    assert_eq!(v["tool"]["name"], "patchpilot");
    assert_eq!(v["query"], "CVE-2020-11651");
    assert_eq!(v["asset"]["tier"], 1);
    assert_eq!(v["asset"]["exposure"], "internet-facing");
    assert!(v["as_of"].as_str().unwrap().len() == 10);
    let advisories = v["advisories"].as_array().unwrap();
    assert!(!advisories.is_empty());
    for a in advisories {
        let id = a["id"].as_str().unwrap();
        assert!(a["aliases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == "CVE-2020-11651"));
        let k = &a["kev"][0];
        assert_eq!(k["cve"], "CVE-2020-11651", "{id}");
        assert_eq!(k["date_added"], "2021-11-03");
        assert_eq!(k["source"], "CISA KEV catalog 2026.08.07");
        assert!(k["date"].is_string());
        let risk = &a["risk"];
        assert_eq!(risk["ssvc"], "immediate", "{id}");
        let factors = risk["factors"].as_array().unwrap();
        let names: Vec<&str> = factors
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        for want in [
            "exploitation",
            "epss",
            "cvss",
            "exposure",
            "criticality",
            "fix",
            "sla",
        ] {
            assert!(names.contains(&want), "{id}: {want} in {names:?}");
        }
        for f in factors {
            assert!(!f["source"].as_str().unwrap().is_empty(), "{f}");
            assert!(f["contribution"].is_number(), "{f}");
        }
        let by = |n: &str| factors.iter().find(|f| f["name"] == n).unwrap();
        assert_eq!(by("exploitation")["source"], "CISA KEV");
        assert_eq!(by("exploitation")["date"], "2021-11-03");
        assert_eq!(by("sla")["date"], risk["due"]["date"]);
        assert!(a["severity"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["source"] == id));
    }

    // The text form is rendered from the same document.
    let o = run(&args, None);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    for a in advisories {
        let why = format!("  why: {}", a["risk"]["explanation"].as_str().unwrap());
        assert!(text.contains(&why), "{why} in {text}");
    }
    assert!(
        text.contains("[source: CISA KEV catalog 2026.08.07]"),
        "{text}"
    );

    let mut bad = args.to_vec();
    bad.extend(["--format", "sarif"]);
    assert_eq!(run(&bad, None).status.code(), Some(2));

    // Not in KEV, no EPSS in the sample: the real PYSEC record's EVIDENCE reference makes
    // it a public PoC, and the factor names the reference.
    let o = run(
        &[
            "--data-dir",
            &data,
            "explain",
            "CVE-2018-20096",
            "--format",
            "json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let risk = &v["advisories"][0]["risk"];
    assert_eq!(v["advisories"][0]["id"], "PYSEC-2018-117");
    assert_eq!(risk["ssvc_inputs"]["exploitation"], "public-poc", "{risk}");
    let exploitation = risk["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "exploitation")
        .unwrap();
    assert_eq!(
        exploitation["source"],
        "advisory reference (OSV EVIDENCE): https://github.com/TeamSeri0us/pocs/tree/master/exiv2/20181206"
    );
}

/// A static HTTP/1.1 file server on 127.0.0.1:0 for `feeds sync` through the binary:
/// paths (query ignored) map to bytes; 404 otherwise. Stops when dropped.
pub(crate) struct StaticServer {
    addr: std::net::SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl StaticServer {
    pub(crate) fn start(files: std::collections::HashMap<String, Vec<u8>>) -> StaticServer {
        use std::io::{BufRead, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = stop.clone();
        let handle = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = conn else { continue };
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/");
                let path = path.split('?').next().unwrap_or(path);
                let (status, body) = match files.get(path) {
                    Some(b) => ("200 OK", b.as_slice()),
                    None => ("404 Not Found", &b""[..]),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(body);
            }
        });
        StaticServer {
            addr,
            stop,
            handle: Some(handle),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(self.addr);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// `feeds sync` with the optional sources switched on by flags: the Debian tracker and
/// Alpine secdb samples become advisories (the dpkg scan then matches the Debian one), and
/// NVD is synced with an API key, which `--help` never shows.
#[test]
fn feeds_sync_flags_enable_distro_trackers_and_nvd() {
    let Some(shared) =
        patchpilot_testdata::shared_data("feeds_sync_flags_enable_distro_trackers_and_nvd")
    else {
        return;
    };
    let read = |rel: &str| std::fs::read(shared.join(rel)).unwrap();
    let files = std::collections::HashMap::from([
        (
            "/osv/crates.io/all.zip".to_string(),
            read("feeds/osv/crates.io/all.zip"),
        ),
        (
            "/osv/crates.io/modified_id.csv".to_string(),
            read("feeds/osv/crates.io/modified_id.csv"),
        ),
        (
            "/debian/json".to_string(),
            read("feeds/distro-samples/debian/input/debian.json"),
        ),
        (
            "/alpine/v3.15/main.yaml".to_string(),
            read("feeds/distro-samples/alpine/input/secdb/v3.15/main.yaml"),
        ),
        (
            "/nvd/cves/2.0".to_string(),
            read("feeds/distro-samples/nvd/single-entry.json"),
        ),
    ]);
    let srv = StaticServer::start(files);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let (osv, debian, alpine, nvd) = (
        srv.url("/osv"),
        srv.url("/debian/json"),
        srv.url("/alpine"),
        srv.url("/nvd/cves/2.0"),
    );
    let o = run(
        &[
            "--data-dir",
            &data,
            "feeds",
            "sync",
            "--osv-base",
            &osv,
            "--ecosystem",
            "crates.io",
            "--kev-url",
            "none",
            "--epss-url",
            "none",
            "--distro",
            "debian",
            "--debian-url",
            &debian,
            "--alpine-url",
            &alpine,
            "--alpine-branch",
            "v3.15/main.yaml",
            "--nvd-api-key",
            "k-123",
            "--nvd-url",
            &nvd,
            "--nvd-rate",
            "100/1",
        ],
        None,
    );
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    for want in [
        "debian: updated, 5 records",
        "alpine: updated, 13 records",
        "nvd: updated, 1 CVEs with CVSS",
    ] {
        assert!(out.contains(want), "{want} in {out}");
    }
    assert!(std::path::Path::new(&data).join("feeds/nvd.json").is_file());

    let status = dir.path().join("status");
    std::fs::write(
        &status,
        "Package: libsope1\nStatus: install ok installed\nVersion: 5.8.0-1\nSource: sope\nArchitecture: amd64\n",
    )
    .unwrap();
    let o = run(
        &[
            "--data-dir",
            &data,
            "scan",
            "--distro",
            "debian:12",
            "--format",
            "json",
            &status.display().to_string(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["findings"][0]["advisory"]["id"], "DEBIAN-CVE-2025-53603");
    assert!(
        !stderr(&o).contains("last updated"),
        "synced trackers are fresh: {}",
        stderr(&o)
    );

    let o = run(
        &["--data-dir", &data, "feeds", "sync", "--distro", "gentoo"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--distro \"gentoo\": expected debian, alpine or redhat"));

    let help = crate::support::bin()
        .args(["feeds", "sync", "--help"])
        .env("PATCHPILOT_NVD_API_KEY", "s3cret-key")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("PATCHPILOT_NVD_API_KEY") && !help.contains("s3cret-key"),
        "{help}"
    );
}
