//! Differential test of the SemVer scheme against the real npm `semver` package
//! (`semver.compare`, strict parsing), over every version string found in the crates.io
//! and Go OSV feeds (`affected[].ranges[].events[]` values and `affected[].versions[]`,
//! Go versions without `v`, as OSV stores them).
//!
//! Pairs: every neighbour pair after sorting the versions with our order (catches any
//! local disagreement), plus deterministic pseudo-random pairs. All pairs go through ONE
//! `node` process. Versions npm rejects (such as `0` for "introduced: 0") are accepted by
//! our lenient parser and skipped; a version npm accepts but we reject is a failure.
//!
//! Requires `node` and the `semver` package in `$PATCHPILOT_NODE_MODULES` (default
//! `<workspace>/target/difftools/node_modules`; CI runs
//! `npm install --prefix target/difftools semver@7`). Skipped (loudly) when missing.

use patchpilot_version::SemVersion;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

const NODE_SCRIPT: &str = r#"
const semver = require('semver');
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', d => { input += d; });
process.stdin.on('end', () => {
  const out = [];
  for (const line of input.split('\n')) {
    if (line === '') continue;
    const [a, b] = line.split('\t');
    if (semver.valid(a) === null || semver.valid(b) === null) { out.push('x'); continue; }
    out.push(String(semver.compare(a, b)));
  }
  process.stdout.write(out.join('\n') + '\n');
});
"#;

fn node_modules() -> PathBuf {
    std::env::var_os("PATCHPILOT_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            patchpilot_testdata::workspace_root().join("target/difftools/node_modules")
        })
}

/// Every version string in an OSV `all.zip`.
fn feed_versions(test: &str, rel: &str, out: &mut BTreeSet<String>) -> Option<()> {
    let path = patchpilot_testdata::shared_file(test, rel)?;
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{test}: {rel}: {e}"));
    let mut zip = zip::ZipArchive::new(file).unwrap_or_else(|e| panic!("{test}: {rel}: {e}"));
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .unwrap_or_else(|e| panic!("{test}: {rel}: {e}"));
        if !entry.name().ends_with(".json") {
            continue;
        }
        let mut text = String::new();
        entry
            .read_to_string(&mut text)
            .unwrap_or_else(|e| panic!("{test}: {rel}: {}: {e}", entry.name()));
        let doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{test}: {rel}: {}: {e}", entry.name()));
        for affected in doc["affected"].as_array().into_iter().flatten() {
            for range in affected["ranges"].as_array().into_iter().flatten() {
                for event in range["events"].as_array().into_iter().flatten() {
                    for v in event.as_object().into_iter().flat_map(|o| o.values()) {
                        if let Some(s) = v.as_str() {
                            out.insert(s.to_string());
                        }
                    }
                }
            }
            for v in affected["versions"].as_array().into_iter().flatten() {
                if let Some(s) = v.as_str() {
                    out.insert(s.to_string());
                }
            }
        }
    }
    Some(())
}

/// Run all pairs through one node process; one answer per pair: Some(-1|0|1) or None
/// when npm semver rejects one of the two.
fn npm_compare(dir: &PathBuf, pairs: &[(String, String)]) -> Vec<Option<i8>> {
    let mut child = Command::new("node")
        .arg("-e")
        .arg(NODE_SCRIPT)
        .env("NODE_PATH", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn node");
    let mut stdin = child.stdin.take().expect("stdin");
    let input: String = pairs.iter().map(|(a, b)| format!("{a}\t{b}\n")).collect();
    let writer = std::thread::spawn(move || {
        stdin.write_all(input.as_bytes()).expect("write to node");
    });
    let output = child.wait_with_output().expect("node output");
    writer.join().expect("writer thread");
    assert!(output.status.success(), "node failed: {:?}", output.status);
    let text = String::from_utf8(output.stdout).expect("utf-8 from node");
    let answers: Vec<Option<i8>> = text
        .lines()
        .map(|l| match l {
            "x" => None,
            n => Some(n.parse().unwrap_or_else(|_| panic!("node said {n:?}"))),
        })
        .collect();
    assert_eq!(answers.len(), pairs.len(), "one answer per pair from node");
    answers
}

#[test]
fn semver_matches_npm_semver_on_osv_versions() {
    let test = "semver_matches_npm_semver_on_osv_versions";
    let dir = node_modules();
    let have = patchpilot_testdata::have_program("node") && dir.join("semver").is_dir();
    if !patchpilot_testdata::require(
        test,
        have,
        &format!(
            "node and npm semver in {} (npm install --prefix target/difftools semver@7)",
            dir.display()
        ),
    ) {
        return;
    }
    let mut raw = BTreeSet::new();
    let Some(()) = feed_versions(test, "feeds/osv/crates.io/all.zip", &mut raw) else {
        return;
    };
    feed_versions(test, "feeds/osv/Go/all.zip", &mut raw);

    let mut parsed: Vec<SemVersion> = Vec::new();
    let mut rejected: Vec<String> = Vec::new();
    for v in &raw {
        match SemVersion::parse(v) {
            Ok(p) => parsed.push(p),
            Err(_) => rejected.push(v.clone()),
        }
    }
    assert!(
        parsed.len() > 1000,
        "{test}: only {} versions parsed",
        parsed.len()
    );

    // Sorted neighbours, then deterministic pseudo-random pairs (xorshift64).
    parsed.sort();
    let mut pairs: Vec<(String, String)> = parsed
        .windows(2)
        .map(|w| (w[0].as_str().to_string(), w[1].as_str().to_string()))
        .collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let n = parsed.len() as u64;
    for _ in 0..20_000 {
        let (i, j) = ((next() % n) as usize, (next() % n) as usize);
        pairs.push((
            parsed[i].as_str().to_string(),
            parsed[j].as_str().to_string(),
        ));
    }
    // Versions we reject: npm must reject them too.
    let first_rejection_pair = pairs.len();
    pairs.extend(rejected.iter().map(|v| (v.clone(), v.clone())));

    let answers = npm_compare(&dir, &pairs);
    let (mut checked, mut skipped, mut failures) = (0usize, 0usize, Vec::new());
    for (k, ((a, b), answer)) in pairs.iter().zip(&answers).enumerate() {
        if k >= first_rejection_pair {
            if answer.is_some() {
                failures.push(format!("npm accepts {a:?}, we reject it"));
            }
            continue;
        }
        let Some(want) = answer else {
            skipped += 1;
            continue;
        };
        checked += 1;
        let ours = SemVersion::parse(a)
            .expect("parsed before")
            .cmp(&SemVersion::parse(b).expect("parsed before")) as i8;
        if ours != *want {
            failures.push(format!("{a} vs {b}: npm {want}, ours {ours}"));
        }
    }
    println!(
        "{test}: {} distinct versions ({} rejected by both), {checked} pairs compared with npm semver, \
         {skipped} skipped (npm rejects one side, e.g. `0`), {} disagreements",
        raw.len(),
        rejected.len(),
        failures.len()
    );
    assert!(checked > 5_000, "{test}: only {checked} pairs compared");
    assert!(
        failures.is_empty(),
        "{test}: {} disagreements with npm semver, first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
