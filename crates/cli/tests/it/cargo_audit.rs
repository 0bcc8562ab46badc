//! Differential test against `cargo audit`: on every Cargo.lock under
//! ../shared/data/lockfiles that cargo-audit can read, with the same RustSec database
//! (native format for cargo-audit, the OSV export for us), the vulnerability and
//! informational findings must be exactly the same set of (advisory, crate, version, kind).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{imported, run, stderr, stdout};

type Key = (String, String, String, String); // (kind, advisory id, crate, version)

fn lockfiles(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            lockfiles(&p, out);
        } else if p.file_name().is_some_and(|n| n == "Cargo.lock")
            || (p.extension().is_some_and(|e| e == "lock")
                && p.to_string_lossy().contains("/rust/cargolock/"))
        {
            out.push(p);
        }
    }
}

fn cargo_audit(db: &Path, lock: &Path) -> Option<BTreeSet<Key>> {
    let out = Command::new("cargo")
        .args(["audit", "--db"])
        .arg(db)
        .args(["--no-fetch", "--stale", "--no-yanked", "--json", "-f"])
        .arg(lock)
        .output()
        .expect("run cargo audit");
    // cargo audit exits 1 when it finds vulnerabilities; unreadable lockfiles print no JSON.
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let mut set = BTreeSet::new();
    for f in v["vulnerabilities"]["list"].as_array()? {
        set.insert((
            "vulnerability".to_string(),
            f["advisory"]["id"].as_str()?.to_string(),
            f["package"]["name"].as_str()?.to_string(),
            f["package"]["version"].as_str()?.to_string(),
        ));
    }
    if let Some(w) = v["warnings"].as_object() {
        for (kind, list) in w {
            for f in list.as_array()? {
                let Some(id) = f["advisory"]["id"].as_str() else {
                    continue; // yanked warnings carry no advisory (and --no-yanked is set)
                };
                set.insert((
                    kind.clone(),
                    id.to_string(),
                    f["package"]["name"].as_str()?.to_string(),
                    f["package"]["version"].as_str()?.to_string(),
                ));
            }
        }
    }
    Some(set)
}

fn ours(data: &Path, lock: &Path) -> BTreeSet<Key> {
    let out = run(
        &[
            "--data-dir",
            &data.display().to_string(),
            "scan",
            "--format",
            "json",
            "--input-format",
            "Cargo.lock",
            &lock.display().to_string(),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "scan {} failed: {}",
        lock.display(),
        stderr(&out)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json report");
    v["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["advisory"]["id"].as_str().unwrap().to_string(),
                f["package"]["name"].as_str().unwrap().to_string(),
                f["package"]["version"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn findings_equal_cargo_audit_on_every_shared_cargo_lock() {
    let test = "findings_equal_cargo_audit_on_every_shared_cargo_lock";
    let Some(shared) = patchpilot_testdata::shared_data(test) else {
        return;
    };
    let have_audit = Command::new("cargo")
        .args(["audit", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !patchpilot_testdata::require(
        test,
        have_audit,
        "cargo-audit not installed (cargo install cargo-audit --locked)",
    ) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("advisory-db");
    let made = Command::new("bash")
        .arg(shared.join("../tools/rustsec-git-db.sh"))
        .arg(&db)
        .output()
        .expect("run rustsec-git-db.sh");
    assert!(
        made.status.success(),
        "rustsec-git-db.sh: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let (_keep, data) = imported(&["crates.io"], &shared);

    let mut locks = Vec::new();
    lockfiles(&shared.join("lockfiles"), &mut locks);
    assert!(!locks.is_empty(), "no Cargo.lock under shared lockfiles");
    let (mut compared, mut findings, mut unreadable) = (0, 0, Vec::new());
    let mut mismatches = Vec::new();
    for lock in &locks {
        let Some(theirs) = cargo_audit(&db, lock) else {
            unreadable.push(lock.display().to_string());
            continue;
        };
        let mine = ours(&data, lock);
        compared += 1;
        findings += theirs.len();
        if mine != theirs {
            mismatches.push(format!(
                "{}:\n  only cargo audit: {:?}\n  only patchpilot: {:?}",
                lock.display(),
                theirs.difference(&mine).collect::<Vec<_>>(),
                mine.difference(&theirs).collect::<Vec<_>>()
            ));
        }
    }
    eprintln!(
        "cargo audit comparison: {compared} lockfiles, {findings} findings compared; {} unreadable by cargo-audit: {unreadable:?}",
        unreadable.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(compared >= 8, "only {compared} lockfiles compared");
    assert!(findings >= 50, "only {findings} findings compared");
}
