//! The scan table a sysadmin reads: rows grouped by input when there are several, FIXED
//! IN kept with `--prioritize`, informational advisories apart from the vulnerability
//! queue, and unrated findings saying why.

use crate::support::{audit_fixture, run, stderr, stdout, with_feeds};

/// Two copies of one vulnerable Cargo.lock gave two identical rows with nothing to tell
/// them apart; now each file's rows come under its path.
#[test]
fn rows_of_several_inputs_are_grouped_under_their_file() {
    let Some((shared, _keep, data)) = with_feeds(
        "rows_of_several_inputs_are_grouped_under_their_file",
        &["crates.io"],
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for sub in ["app", "tool"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        std::fs::copy(
            audit_fixture(&shared, "base64_vuln"),
            dir.path().join(sub).join("Cargo.lock"),
        )
        .unwrap();
    }
    let root = dir.path().display().to_string();
    let o = run(&["--data-dir", &data, "scan", &root], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");
    let lines: Vec<&str> = table.lines().collect();
    for sub in ["app", "tool"] {
        let heading = lines
            .iter()
            .position(|l| l.ends_with(&format!("{sub}/Cargo.lock (1 finding)")))
            .unwrap_or_else(|| panic!("no heading for {sub}: {table}"));
        assert!(lines[heading + 1].starts_with("SEVERITY"), "{table}");
        assert!(
            lines[heading + 2].starts_with("critical  base64")
                && lines[heading + 2].contains("RUSTSEC-2017-0004"),
            "{table}"
        );
    }

    // One input: no heading, as before.
    let one = format!("{root}/app/Cargo.lock");
    let o = run(&["--data-dir", &data, "scan", &one], None);
    assert!(stdout(&o).starts_with("SEVERITY"), "{}", stdout(&o));
}

/// `--prioritize` replaced FIXED IN with its ranking columns; the version to upgrade to
/// is what a sysadmin acts on.
#[test]
fn prioritize_keeps_the_fixed_in_column() {
    let Some((shared, _keep, data)) =
        with_feeds("prioritize_keeps_the_fixed_in_column", &["crates.io"])
    else {
        return;
    };
    let lock = audit_fixture(&shared, "base64_vuln");
    let o = run(&["--data-dir", &data, "scan", "--prioritize", &lock], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    let mut lines = table.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("SSVC") && header.ends_with("ADVISORY           FIXED IN"),
        "{table}"
    );
    let row = lines.next().unwrap();
    assert!(
        row.contains("base64") && row.contains("RUSTSEC-2017-0004  0.5.2"),
        "{table}"
    );
    assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");
}

/// An "unmaintained" notice got a score, an SSVC decision and a due date in the
/// vulnerability queue. Now it sits apart, unranked and without a due date, unless the
/// policy asks for one (`[sla] informational`).
#[test]
fn informational_advisories_sit_apart_without_a_due_date() {
    let Some((shared, _keep, data)) = with_feeds(
        "informational_advisories_sit_apart_without_a_due_date",
        &["crates.io"],
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    for scenario in ["base64_vuln", "unmaintained"] {
        std::fs::create_dir_all(dir.path().join(scenario)).unwrap();
        std::fs::copy(
            audit_fixture(&shared, scenario),
            dir.path().join(scenario).join("Cargo.lock"),
        )
        .unwrap();
    }
    let scan = |extra: &[&str]| {
        let mut args = vec!["--data-dir", &data, "scan", "--prioritize"];
        args.extend(extra);
        args.push(&root);
        run(&args, None)
    };

    let o = scan(&["--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let notice = findings
        .iter()
        .find(|f| f["kind"] == "unmaintained")
        .expect("the unmaintained fixture has a notice");
    assert!(notice.get("risk").is_none(), "not ranked: {notice}");
    assert!(notice.get("due").is_none(), "no due date: {notice}");
    let vuln = findings
        .iter()
        .find(|f| f["kind"] == "vulnerability")
        .unwrap();
    assert!(vuln["risk"]["due"]["date"].is_string(), "{vuln}");

    let o = scan(&[]);
    let table = stdout(&o);
    let apart = table
        .find("Informational (unmaintained, unsound, notices): not ranked, no due date:")
        .unwrap_or_else(|| panic!("{table}"));
    let (queue, notices) = table.split_at(apart);
    assert!(!queue.contains("unmaintained"), "{table}");
    assert!(
        queue.contains("RUSTSEC-2017-0004") && notices.contains("parity-wasm"),
        "{table}"
    );

    // The policy asks for a due date: 30 days after first seen (today).
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[sla]\ninformational = 30\n").unwrap();
    let policy = policy.display().to_string();
    let o = scan(&["--policy", &policy, "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let notice = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "unmaintained")
        .unwrap();
    assert!(notice.get("risk").is_none(), "{notice}");
    assert_eq!(notice["due"]["rule"], "informational", "{notice}");
    assert_eq!(notice["due"]["days"], 30, "{notice}");
    let o = scan(&["--policy", &policy]);
    assert!(
        stdout(&o).contains("not ranked; due dates from the policy:"),
        "{}",
        stdout(&o)
    );
}

/// PyPI findings said "unrated" with no hint why: the advisory has no CVSS, and NVD,
/// which could fill one in for ranking, is not synced.
#[test]
fn unrated_findings_say_why() {
    let Some((_shared, _keep, data)) = with_feeds("unrated_findings_say_why", &["PyPI"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let req = dir.path().join("requirements.txt");
    std::fs::write(&req, "celery==4.4.7\n").unwrap();
    let req = req.display().to_string();

    let o = run(&["--data-dir", &data, "scan", &req], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o).replace('\n', " ");
    assert!(
        table.contains("unrated   celery") || table.contains("unrated  celery"),
        "{table}"
    );
    assert!(
        table.contains("Unrated (1): advisory has no CVSS; NVD not synced."),
        "{table}"
    );

    let o = run(
        &["--data-dir", &data, "scan", "--format", "json", &req],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["findings"][0]["advisory"]["id"], "PYSEC-2021-858");
    assert_eq!(v["findings"][0]["unrated"], "nvd_not_synced");

    // The ranking's sentence says it too, and so does `explain`.
    let o = run(
        &[
            "--data-dir",
            &data,
            "scan",
            "--prioritize",
            "--format",
            "json",
            &req,
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let why = v["findings"][0]["risk"]["explanation"].as_str().unwrap();
    assert!(
        why.contains("no CVSS score (advisory has no CVSS; NVD not synced)"),
        "{why}"
    );
    let o = run(&["--data-dir", &data, "explain", "PYSEC-2021-858"], None);
    assert!(
        stdout(&o).contains("  severity: unrated (advisory has no CVSS; NVD not synced)"),
        "{}",
        stdout(&o)
    );
}
