//! Differential test of the matcher against an independent reference: a small Python OSV
//! evaluator (`pypi_reference.py`, using `packaging`) over thousands of real PyPI
//! (package, version) pins taken from the feed itself (every event version and a sample of
//! listed versions of every advisory), so boundaries are exercised on purpose.

use std::collections::BTreeSet;
use std::io::Read;
use std::process::Command;

use crate::support::{imported, run, stderr, stdout};

#[test]
fn pypi_findings_equal_an_independent_osv_evaluator() {
    let test = "pypi_findings_equal_an_independent_osv_evaluator";
    let Some(shared) = patchpilot_testdata::shared_data(test) else {
        return;
    };
    let have_python = Command::new("python3")
        .args(["-c", "import pip._vendor.packaging.version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !patchpilot_testdata::require(test, have_python, "python3 with pip's packaging not found") {
        return;
    }
    let zip_path = shared.join("feeds/osv/PyPI/all.zip");
    let tmp = tempfile::tempdir().unwrap();

    // Pins: for every other advisory, each affected package with its event versions and up
    // to 3 listed versions, keeping versions Python accepts (checked by the reference).
    let mut pins = BTreeSet::new();
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    for i in (0..zip.len()).step_by(2) {
        let mut text = String::new();
        zip.by_index(i).unwrap().read_to_string(&mut text).unwrap();
        let rec: serde_json::Value = serde_json::from_str(&text).unwrap();
        for aff in rec["affected"].as_array().into_iter().flatten() {
            let name = aff["package"]["name"].as_str().unwrap_or_default();
            let mut versions: Vec<&str> = Vec::new();
            for r in aff["ranges"].as_array().into_iter().flatten() {
                for e in r["events"].as_array().into_iter().flatten() {
                    if let Some(v) = e
                        .as_object()
                        .and_then(|o| o.values().next())
                        .and_then(|v| v.as_str())
                    {
                        versions.push(v);
                    }
                }
            }
            versions.extend(
                aff["versions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str())
                    .take(3),
            );
            for v in versions {
                if v != "0"
                    && !name.is_empty()
                    && v.chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".!+-_".contains(c))
                {
                    pins.insert(format!("{name}=={v}"));
                }
            }
        }
    }
    // Keep only pins Python's packaging accepts (the reference decides what a version is).
    let all = tmp.path().join("all-pins.txt");
    std::fs::write(
        &all,
        pins.iter().cloned().collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    let valid = Command::new("python3")
        .args([
            "-c",
            "import sys\nfrom pip._vendor.packaging.version import Version, InvalidVersion\nfor l in open(sys.argv[1]):\n    n, v = l.strip().split('==')\n    try: Version(v); print(l.strip())\n    except InvalidVersion: pass",
        ])
        .arg(&all)
        .output()
        .unwrap();
    let pins_text = String::from_utf8(valid.stdout).unwrap();
    let n = pins_text.lines().count();
    assert!(n > 2_000, "only {n} pins");
    let req = tmp.path().join("requirements.txt");
    std::fs::write(&req, &pins_text).unwrap();

    let reference = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/it/pypi_reference.py"
        ))
        .arg(&zip_path)
        .arg(&req)
        .output()
        .unwrap();
    assert!(
        reference.status.success(),
        "{}",
        String::from_utf8_lossy(&reference.stderr)
    );
    let theirs: BTreeSet<(String, String, String)> = String::from_utf8(reference.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();

    let (_keep, data) = imported(&["PyPI"], &shared);
    let out = run(
        &[
            "--data-dir",
            &data.display().to_string(),
            "scan",
            "--format",
            "json",
            &req.display().to_string(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let norm = |s: &str| {
        let mut o = String::new();
        let mut sep = false;
        for c in s.chars() {
            if "-_.".contains(c) {
                sep = true;
            } else {
                if sep && !o.is_empty() {
                    o.push('-');
                }
                sep = false;
                o.push(c.to_ascii_lowercase());
            }
        }
        o
    };
    let ours: BTreeSet<(String, String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                norm(f["package"]["name"].as_str().unwrap()),
                f["package"]["version"].as_str().unwrap().to_string(),
                f["advisory"]["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let only_ref: Vec<_> = theirs.difference(&ours).take(10).collect();
    let only_ours: Vec<_> = ours.difference(&theirs).take(10).collect();
    eprintln!(
        "{n} PyPI pins: {} findings (reference {})",
        ours.len(),
        theirs.len()
    );
    assert!(
        only_ref.is_empty() && only_ours.is_empty(),
        "only reference: {only_ref:?}\nonly patchpilot: {only_ours:?}"
    );
    assert!(
        theirs.len() > 1_000,
        "too few findings to mean anything: {}",
        theirs.len()
    );
}
