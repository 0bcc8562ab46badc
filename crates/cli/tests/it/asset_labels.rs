//! Asset context from inventory labels (`scan --prioritize`): CycloneDX properties, SPDX
//! annotations and a host's `etc/patchpilot/asset.toml`; per-input context in one run; the
//! precedence flags > labels > policy `[asset]` > defaults; bad labels exit 2 on one line.
//!
//! The advisories are this crate's fixtures (`tests/fixtures/asset-labels`), so the tests
//! need no shared data.

use serde_json::Value;

use crate::support::{fixture, run, stderr, stdout};

/// A data dir with the fixture advisories imported.
fn data_dir() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let o = run(
        &[
            "--data-dir",
            &data,
            "feeds",
            "import",
            &fixture("asset-labels", "advisory.json"),
            &fixture("asset-labels", "debian-advisory.json"),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    (dir, data)
}

/// `scan --prioritize --format json` with `extra` arguments; must exit 0.
fn scan(data: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "--data-dir",
        data,
        "scan",
        "--prioritize",
        "--max-feed-age",
        "0",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let o = run(&args, None);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

/// The finding whose inventory path ends with `file`.
fn finding<'a>(v: &'a Value, file: &str) -> &'a Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["source"].as_str().unwrap().ends_with(file))
        .unwrap_or_else(|| panic!("no finding from {file}: {v}"))
}

fn factor<'a>(f: &'a Value, name: &str) -> &'a Value {
    f["risk"]["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name)
        .unwrap_or_else(|| panic!("no {name} factor: {f}"))
}

#[test]
fn cyclonedx_and_spdx_labels_give_each_inventory_its_own_context() {
    let (_keep, data) = data_dir();
    let shop = fixture("asset-labels", "shop.cdx.json");
    let plain = fixture("asset-labels", "plain.cdx.json");
    let kiosk = fixture("asset-labels", "kiosk.spdx.json");
    let v = scan(&data, &[&plain, &shop, &kiosk]);
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3, "one finding per inventory: {v}");

    // The labelled shop: tier 1, internet-facing, and it says where that came from.
    let f = finding(&v, "shop.cdx.json");
    let asset = &f["risk"]["asset"];
    assert_eq!(asset["context"]["tier"], 1, "{asset}");
    assert_eq!(asset["context"]["exposure"], "internet-facing");
    assert_eq!(asset["context"]["environment"], "cloud");
    assert_eq!(asset["context"]["site"], "eu-west-1");
    assert_eq!(asset["context"]["data-sensitivity"], "restricted");
    assert_eq!(asset["context"]["owner"], "payments-team");
    assert_eq!(
        asset["context"]["tags"],
        serde_json::json!(["pci", "checkout"])
    );
    assert_eq!(asset["origins"]["tier"]["from"], "label");
    assert_eq!(asset["origins"]["tier"]["name"], "patchpilot:asset:tier");
    assert_eq!(asset["origins"]["tier"]["file"], shop.as_str());
    assert_eq!(asset["origins"]["tags"]["name"], "patchpilot:asset:tag");
    assert_eq!(f["risk"]["ssvc_inputs"]["exposure"], "open");
    // No known exploitation: CERT/CC's deployer tree says out-of-cycle on an open, very
    // high impact system, and scheduled on the same finding inside a default asset.
    assert_eq!(f["risk"]["ssvc"], "out-of-cycle", "{f}");
    let why = f["risk"]["explanation"].as_str().unwrap();
    assert!(why.contains("internet-facing tier-1 asset"), "{why}");
    assert_eq!(
        factor(f, "criticality")["source"],
        format!("asset context: label patchpilot:asset:tier in {shop}").as_str()
    );
    assert_eq!(
        factor(f, "exposure")["source"],
        format!("asset context: label patchpilot:asset:exposure in {shop}").as_str()
    );

    // The same package in an unlabelled SBOM: the documented defaults, said so.
    let p = finding(&v, "plain.cdx.json");
    assert_eq!(p["risk"]["asset"]["context"]["tier"], 3);
    assert_eq!(p["risk"]["asset"]["context"]["exposure"], "internal");
    assert_eq!(p["risk"]["asset"]["origins"], serde_json::json!({}));
    assert_eq!(factor(p, "criticality")["source"], "asset context: default");
    assert_eq!(p["risk"]["ssvc"], "scheduled", "{p}");
    assert!(p["risk"]["explanation"]
        .as_str()
        .unwrap()
        .contains("internal tier-3 asset"));

    // SPDX annotations: the document's and the described package's.
    let k = finding(&v, "kiosk.spdx.json");
    let ctx = &k["risk"]["asset"]["context"];
    assert_eq!(ctx["tier"], 2);
    assert_eq!(ctx["exposure"], "isolated");
    assert_eq!(ctx["environment"], "edge");
    assert_eq!(ctx["site"], "store-42");
    assert_eq!(
        k["risk"]["asset"]["origins"]["exposure"]["file"],
        kiosk.as_str()
    );

    // Ranked by each asset's own risk: the internet-facing tier-1 shop first.
    let score = |f: &Value| f["risk"]["score"].as_f64().unwrap();
    assert!(findings[0]["source"]
        .as_str()
        .unwrap()
        .ends_with("shop.cdx.json"));
    assert!(score(f) > score(p), "{} vs {}", score(f), score(p));

    // The table says the same.
    let o = run(
        &[
            "--data-dir",
            &data,
            "scan",
            "--prioritize",
            "--max-feed-age",
            "0",
            &plain,
            &shop,
        ],
        None,
    );
    assert!(
        stdout(&o).contains("internet-facing tier-1 asset"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn flags_beat_labels_and_labels_beat_the_policy() {
    let (_keep, data) = data_dir();
    let shop = fixture("asset-labels", "shop.cdx.json");
    let plain = fixture("asset-labels", "plain.cdx.json");
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[asset]\ntier = 2\nexposure = \"isolated\"\nowner = \"platform\"\n",
    )
    .unwrap();
    let policy = policy.display().to_string();

    let v = scan(&data, &["--policy", &policy, &plain, &shop]);
    // The unlabelled SBOM takes the policy's [asset]...
    let p = &finding(&v, "plain.cdx.json")["risk"]["asset"];
    assert_eq!(p["context"]["tier"], 2);
    assert_eq!(p["context"]["owner"], "platform");
    assert_eq!(p["origins"]["tier"]["from"], "policy");
    assert_eq!(p["origins"]["tier"]["file"], policy.as_str());
    // ...the labelled one keeps its labels, and the policy only where labels are silent.
    let s = &finding(&v, "shop.cdx.json")["risk"]["asset"];
    assert_eq!(s["context"]["tier"], 1);
    assert_eq!(s["context"]["exposure"], "internet-facing");
    assert_eq!(s["context"]["owner"], "payments-team", "a label, too");
    assert_eq!(s["origins"]["tier"]["from"], "label");

    // A flag holds for every input and beats both; what it does not set stays.
    let v = scan(&data, &["--policy", &policy, "--tier", "4", &plain, &shop]);
    let f = finding(&v, "shop.cdx.json");
    let s = &f["risk"]["asset"];
    assert_eq!(s["context"]["tier"], 4);
    assert_eq!(
        s["origins"]["tier"],
        serde_json::json!({"from": "flag", "flag": "--tier"})
    );
    assert_eq!(s["context"]["exposure"], "internet-facing");
    assert_eq!(s["origins"]["exposure"]["from"], "label");
    assert_eq!(
        factor(f, "criticality")["source"],
        "asset context: flag --tier"
    );
    assert!(f["risk"]["explanation"]
        .as_str()
        .unwrap()
        .contains("internet-facing tier-4 asset"));
    assert_eq!(
        finding(&v, "plain.cdx.json")["risk"]["asset"]["context"]["tier"],
        4
    );
}

#[test]
fn a_host_root_reads_etc_patchpilot_asset_toml() {
    let (_keep, data) = data_dir();
    let root = fixture("asset-labels", "host");
    let v = scan(&data, &["--root", &root]);
    let f = &v["findings"][0];
    assert_eq!(f["advisory"]["id"], "DEBIAN-CVE-2099-0003", "{v}");
    let asset = &f["risk"]["asset"];
    assert_eq!(asset["context"]["tier"], 1);
    assert_eq!(asset["context"]["exposure"], "internet-facing");
    assert_eq!(asset["context"]["owner"], "web-team");
    let file = asset["origins"]["tier"]["file"].as_str().unwrap();
    assert!(file.ends_with("etc/patchpilot/asset.toml"), "{file}");
    assert_eq!(asset["origins"]["tier"]["name"], "tier");

    // A bad value in the host's file is an input error naming it and the line.
    let tmp = tempfile::tempdir().unwrap();
    for rel in ["etc/os-release", "var/lib/dpkg/status"] {
        let to = tmp.path().join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(std::path::Path::new(&root).join(rel), to).unwrap();
    }
    let labels = tmp.path().join("etc/patchpilot/asset.toml");
    std::fs::create_dir_all(labels.parent().unwrap()).unwrap();
    std::fs::write(&labels, "owner = \"web\"\ntier = 7\n").unwrap();
    let o = run(
        &[
            "--data-dir",
            &data,
            "scan",
            "--prioritize",
            "--root",
            &tmp.path().display().to_string(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("{}:2: invalid asset labels", labels.display())),
        "{err}"
    );
    assert!(err.contains("1, 2, 3 or 4"), "{err}");
}

#[test]
fn bad_labels_exit_2_with_one_line_naming_the_file_and_label() {
    let (_keep, data) = data_dir();
    let dir = tempfile::tempdir().unwrap();
    let shop: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("asset-labels", "shop.cdx.json")).unwrap(),
    )
    .unwrap();
    let with_label = |file: &str, name: &str, value: &str| {
        let mut doc = shop.clone();
        doc["metadata"]["component"]["properties"] =
            serde_json::json!([{ "name": name, "value": value }]);
        let p = dir.path().join(file);
        std::fs::write(&p, doc.to_string()).unwrap();
        p.display().to_string()
    };
    let spdx_bad = {
        let text = std::fs::read_to_string(fixture("asset-labels", "kiosk.spdx.json")).unwrap();
        let p = dir.path().join("kiosk-bad.spdx.json");
        std::fs::write(
            &p,
            text.replace(
                "patchpilot:asset:site=store-42",
                "patchpilot:asset:site store-42",
            ),
        )
        .unwrap();
        p.display().to_string()
    };
    let cases = [
        (
            with_label("tier0.cdx.json", "patchpilot:asset:tier", "0"),
            "asset label patchpilot:asset:tier = \"0\": criticality tier must be 1, 2, 3 or 4",
        ),
        (
            with_label("dmz.cdx.json", "patchpilot:asset:exposure", "dmz"),
            "asset label patchpilot:asset:exposure = \"dmz\": invalid exposure",
        ),
        (
            with_label("typo.cdx.json", "patchpilot:asset:teir", "1"),
            "unknown key \"teir\"",
        ),
        (spdx_bad.clone(), "is not NAME=VALUE"),
    ];
    for (file, want) in &cases {
        let o = run(
            &["--data-dir", &data, "scan", "--prioritize", file.as_str()],
            None,
        );
        assert_eq!(o.status.code(), Some(2), "{file}: {}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.starts_with(&format!("patchpilot: {file}: ")), "{err}");
        assert!(err.contains(want), "{err:?} should contain {want:?}");
    }
    // Labels are asset context: a scan that does not rank does not read them.
    let o = run(&["--data-dir", &data, "scan", &spdx_bad], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
