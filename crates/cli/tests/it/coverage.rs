//! No silent false "clean": a scan says what the advisory database covered of what it
//! scanned, per ecosystem and distro release, in the table, the JSON, SARIF and on stderr,
//! and `--fail-on-uncovered` turns "not checked" into exit 1.

use crate::support::{run, stderr, stdout, with_feeds};

/// The README's main job, on the shared Debian 12 host inventory: the crates.io, Go and
/// PyPI feeds hold nothing for Debian, and the scan says so instead of a bare "No
/// findings"; importing the Debian tracker covers Debian 12; a few Ubuntu OSV records
/// make Ubuntu 20.04 only partly checked.
#[test]
fn a_debian_host_scanned_without_debian_advisories_is_not_checked_not_clean() {
    let Some((shared, _keep, data)) = with_feeds(
        "a_debian_host_scanned_without_debian_advisories_is_not_checked_not_clean",
        &["crates.io", "Go", "PyPI"],
    ) else {
        return;
    };
    let host = shared
        .join("inventories/dpkg/debian12-host.status")
        .display()
        .to_string();
    let scan = |extra: &[&str]| {
        let mut args = vec!["--data-dir", &data, "scan", "--distro", "debian:12"];
        args.extend(extra);
        args.push(&host);
        run(&args, None)
    };
    let hint = "run `patchpilot feeds sync --distro debian`";

    let o = scan(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let table = stdout(&o).replace('\n', " ");
    assert!(
        table.contains(&format!(
            "No findings in 707 packages from 1 input(s). Not checked: Debian 12 (no advisories imported; {hint})."
        )),
        "{table}"
    );
    assert!(
        stdout(&o).lines().all(|l| l.chars().count() <= 80),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        stderr(&o).trim(),
        format!(
            "patchpilot: warning: {host}: not checked: Debian 12 (707 packages): no advisories imported; {hint}"
        )
    );

    let o = scan(&["--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["coverage"],
        serde_json::json!([{
            "ecosystem": "Debian", "release": "12", "packages": 707, "state": "not_checked",
            "advisories": 0, "sources": [], "hint": hint,
        }])
    );
    let warnings = v["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("not checked: Debian 12"));

    let o = scan(&["--format", "sarif"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let run0 = &v["runs"][0];
    assert_eq!(run0["properties"]["coverage"][0]["state"], "not_checked");
    let notes = run0["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["level"], "warning");
    assert!(notes[0]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("not checked: Debian 12"));

    // --fail-on-uncovered: "not checked" fails the scan, like a finding over --fail-on.
    assert_eq!(scan(&["--fail-on-uncovered"]).status.code(), Some(1));

    // The Debian tracker is Debian's whole feed for the releases it names.
    let tracker = shared
        .join("feeds/distro-samples/debian/input/debian.json")
        .display()
        .to_string();
    let o = run(&["--data-dir", &data, "feeds", "import", &tracker], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = scan(&["--fail-on-uncovered", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["coverage"][0]["state"], "covered");
    assert_eq!(
        v["coverage"][0]["sources"],
        serde_json::json!(["input/debian.json"])
    );
    assert!(v["warnings"].as_array().unwrap().is_empty(), "{v}");
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    let o = scan(&[]);
    assert!(
        stdout(&o).contains("Checked: Debian 12 ("),
        "{}",
        stdout(&o)
    );

    // Two Ubuntu OSV records are not Ubuntu's feed: partial, with their count.
    let ubuntu = shared.join("feeds/distro-samples/ubuntu-osv/CVE-2023-0286.json");
    let o = run(
        &[
            "--data-dir",
            &data,
            "feeds",
            "import",
            &ubuntu.display().to_string(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let focal = shared
        .join("inventories/dpkg/ubuntu2004-armhf-rootfs.status")
        .display()
        .to_string();
    let o = run(
        &[
            "--data-dir",
            &data,
            "scan",
            "--distro",
            "ubuntu:20.04",
            "--fail-on-uncovered",
            "--format",
            "json",
            &focal,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "partial is not 'not checked'");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let c = &v["coverage"][0];
    assert_eq!(
        (
            &c["ecosystem"],
            &c["release"],
            &c["state"],
            &c["advisories"]
        ),
        (
            &serde_json::json!("Ubuntu"),
            &serde_json::json!("20.04"),
            &serde_json::json!("partial"),
            &serde_json::json!(1)
        ),
        "{c}"
    );
    assert!(
        stderr(&o).contains(
            "partly checked: Ubuntu 20.04 (326 packages): only 1 individual advisory imported, not a whole feed; run `patchpilot feeds sync --ecosystem Ubuntu`"
        ),
        "{}",
        stderr(&o)
    );
}

/// Lockfiles of an ecosystem the database covers say so, and one it lacks is named with
/// the command that covers it.
#[test]
fn each_ecosystem_of_a_scan_says_whether_it_was_checked() {
    let Some((_shared, _keep, data)) = with_feeds(
        "each_ecosystem_of_a_scan_says_whether_it_was_checked",
        &["PyPI"],
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let req = dir.path().join("requirements.txt");
    std::fs::write(&req, "celery==4.4.7\n").unwrap();
    let lock = dir.path().join("Cargo.lock");
    std::fs::write(
        &lock,
        "version = 3\n[[package]]\nname = \"base64\"\nversion = \"0.5.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    let o = run(
        &[
            "--data-dir",
            &data,
            "scan",
            "--format",
            "json",
            &dir.path().display().to_string(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let states: Vec<(&str, &str, &str)> = v["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["ecosystem"].as_str().unwrap(),
                c["state"].as_str().unwrap(),
                c["hint"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("PyPI", "covered", ""),
            (
                "crates.io",
                "not_checked",
                "run `patchpilot feeds sync --ecosystem crates.io`"
            ),
        ]
    );
    assert_eq!(
        v["coverage"][0]["sources"],
        serde_json::json!(["PyPI/all.zip"])
    );
    assert_eq!(v["coverage"][0]["advisories"], 2661);
}
