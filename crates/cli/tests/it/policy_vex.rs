//! VEX in the policy file: `vex-files` (relative to the policy) and inline `[[vex]]`
//! statements; `not_affected` and `fixed` suppress with their reason visible,
//! `under_investigation` suppresses nothing; policy and `--vex` statements combine, the
//! latest timestamp winning; a bad statement exits 2 naming the file and its index.
//!
//! Advisories, lockfile, policy and VEX document are this crate's fixtures
//! (`tests/fixtures/policy-vex`).

use serde_json::Value;

use crate::support::{fixture, run, stderr, stdout};

fn data_dir() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let o = run(
        &[
            "--data-dir",
            &data,
            "feeds",
            "import",
            &fixture("policy-vex", "osv"),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    (dir, data)
}

fn by_package<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["package"]["name"] == name)
        .unwrap_or_else(|| panic!("no finding for {name}: {v}"))
}

#[test]
fn policy_vex_files_and_inline_statements_suppress_with_their_reason() {
    let (_keep, data) = data_dir();
    let policy = fixture("policy-vex", "policy.toml");
    let lock = fixture("policy-vex", "Cargo.lock");
    let o = run(
        &[
            "--data-dir",
            &data,
            "scan",
            "--max-feed-age",
            "0",
            "--policy",
            &policy,
            "--format",
            "json",
            "--fail-on",
            "low",
            &lock,
        ],
        None,
    );
    // vex-c is only under investigation: still open, still fails the scan.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 4, "{v}");

    // Inline not_affected, matched through the advisory's CVE alias.
    let a = &by_package(&v, "vex-a")["suppressed"];
    assert_eq!(a["status"], "not_affected", "{a}");
    assert_eq!(a["justification"], "vulnerable_code_not_in_execute_path");
    assert_eq!(
        a["detail"],
        "vex-a's parser is only fed our own config files."
    );
    assert_eq!(
        a["source"],
        format!("{policy} vex[0] (author: security@example.invalid)").as_str()
    );
    // Inline fixed, for every version (a purl without one).
    let b = &by_package(&v, "vex-b")["suppressed"];
    assert_eq!(b["status"], "fixed", "{b}");
    assert_eq!(b["detail"], "Patched in our fork.");
    assert_eq!(b["source"], format!("{policy} vex[1]").as_str());
    // under_investigation suppresses nothing.
    assert!(by_package(&v, "vex-c").get("suppressed").is_none());
    // A document named in the policy, found relative to the policy file.
    let d = &by_package(&v, "vex-d")["suppressed"];
    assert_eq!(d["status"], "not_affected", "{d}");
    assert_eq!(d["justification"], "vulnerable_code_not_present");
    let src = d["source"].as_str().unwrap();
    assert!(src.contains("vex/supplier.openvex.json"), "{src}");
    assert!(src.ends_with("(author: vex-d maintainers)"), "{src}");
    assert_eq!(v["summary"]["findings"], 1);
    assert_eq!(v["summary"]["suppressed"], 3);

    // The table keeps suppressed findings visible, with the justification.
    let o = run(
        &[
            "--data-dir",
            &data,
            "scan",
            "--max-feed-age",
            "0",
            "--policy",
            &policy,
            &lock,
        ],
        None,
    );
    let table = stdout(&o);
    assert!(table.contains("Suppressed by VEX:"), "{table}");
    assert!(
        // (The line is cut to 80 columns.)
        table.contains("vex-a 1.0.0: not_affected (vulnerable_code_not_in_execute"),
        "{table}"
    );
}

#[test]
fn policy_and_vex_flag_statements_combine_and_the_latest_wins() {
    let (_keep, data) = data_dir();
    let policy = fixture("policy-vex", "policy.toml");
    let lock = fixture("policy-vex", "Cargo.lock");
    let dir = tempfile::tempdir().unwrap();
    let doc = |name: &str, timestamp: &str| {
        let p = dir.path().join(name);
        let v = serde_json::json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": format!("https://example.invalid/vex/{name}"),
            "author": "triage",
            "timestamp": timestamp,
            "version": 1,
            "statements": [{
                "vulnerability": {"name": "CVE-2099-0011"},
                "products": [{"@id": "pkg:cargo/vex-a@1.0.0"}],
                "status": "affected",
                "action_statement": "Upgrade to 1.2.0."
            }]
        });
        std::fs::write(&p, v.to_string()).unwrap();
        p.display().to_string()
    };
    let scan = |vex: &str| -> Value {
        let o = run(
            &[
                "--data-dir",
                &data,
                "scan",
                "--max-feed-age",
                "0",
                "--policy",
                &policy,
                "--vex",
                vex,
                "--format",
                "json",
                &lock,
            ],
            None,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_str(&stdout(&o)).unwrap()
    };
    // A later `affected` statement from --vex reopens vex-a; the rest of the policy stays.
    let v = scan(&doc("newer.json", "2026-02-01T00:00:00Z"));
    assert!(by_package(&v, "vex-a").get("suppressed").is_none(), "{v}");
    assert_eq!(by_package(&v, "vex-b")["suppressed"]["status"], "fixed");
    // An older one loses to the policy's dated not_affected.
    let v = scan(&doc("older.json", "2025-12-01T00:00:00Z"));
    assert_eq!(
        by_package(&v, "vex-a")["suppressed"]["status"],
        "not_affected",
        "{v}"
    );
}

#[test]
fn a_bad_policy_vex_statement_exits_2_naming_the_file_and_statement() {
    let (_keep, data) = data_dir();
    let lock = fixture("policy-vex", "Cargo.lock");
    let dir = tempfile::tempdir().unwrap();
    let good = "[[vex]]\nvulnerability = \"CVE-2099-0012\"\nproducts = [\"pkg:cargo/vex-b\"]\nstatus = \"fixed\"\n\n";
    let cases = [
        (
            "status.toml",
            format!("{good}[[vex]]\nvulnerability = \"CVE-2099-0011\"\nproducts = [\"pkg:cargo/vex-a\"]\nstatus = \"not-affected\"\n"),
            "invalid policy setting vex[1]: CVE-2099-0011: unknown status \"not-affected\"",
        ),
        (
            "reason.toml",
            format!("{good}[[vex]]\nvulnerability = \"CVE-2099-0011\"\nproducts = [\"pkg:cargo/vex-a\"]\nstatus = \"not_affected\"\n"),
            "invalid policy setting vex[1]: CVE-2099-0011: not_affected needs a justification or an impact statement",
        ),
        (
            "justification.toml",
            format!("{good}[[vex]]\nvulnerability = \"CVE-2099-0011\"\nproducts = [\"pkg:cargo/vex-a\"]\nstatus = \"not_affected\"\njustification = \"trust_me\"\n"),
            "vex[1]: CVE-2099-0011: unknown justification \"trust_me\"",
        ),
        (
            "purl.toml",
            "[[vex]]\nvulnerability = \"CVE-2099-0011\"\nproducts = [\"vex-a@1.0.0\"]\nstatus = \"fixed\"\n".to_string(),
            "invalid policy setting vex[0]: CVE-2099-0011: products[0]",
        ),
        (
            "key.toml",
            format!("{good}[[vex]]\nvulnerability = \"CVE-2099-0011\"\nproducts = [\"pkg:cargo/vex-a\"]\nstatus = \"fixed\"\njustifcation = \"x\"\n"),
            ":10: invalid policy in vex[1]: unknown field `justifcation`",
        ),
        (
            "files.toml",
            "vex-files = [\"missing.openvex.json\"]\n".to_string(),
            "files.toml: vex-files[0]: ",
        ),
    ];
    for (name, text, want) in &cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let path = path.display().to_string();
        let o = run(
            &["--data-dir", &data, "scan", "--policy", &path, &lock],
            None,
        );
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.starts_with(&format!("patchpilot: {path}")), "{err}");
        assert!(err.contains(want), "{err:?} should contain {want:?}");
    }
}
