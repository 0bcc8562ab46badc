//! Differential tests against the real reference tools, on thousands of real version strings:
//! * deb: `dpkg --compare-versions` (one process per pair, run on a few threads);
//! * rpm: `rpm.vercmp` in rpm's embedded Lua, all pairs in one `rpm --eval` process;
//! * pep440: Python `packaging.version.Version` (pip's vendored copy), one process for
//!   validity, normalized form and ordering.
//!
//! Pairs are deterministic: pseudo-random pairs from a fixed seed, plus neighbours in our own
//! sorted order (so near-equal versions and equal spellings are covered). Each test prints
//! how many pairs it checked and fails on any disagreement, listing the first ones.
//!
//! apk, alpm and gentoo have no reference tool on the machine (no apk-tools, pacman or
//! portage): they are covered by the vectors only (`vectors_a`).

use patchpilot_version::{DebVersion, Pep440Version, RpmVersion};
use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

/// splitmix64: a tiny deterministic generator, so the pairs are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `random` pseudo-random pairs of indexes, plus up to `neighbours` adjacent pairs of
/// `sorted` (indexes already in our order), spread evenly over the list.
fn make_pairs(
    sorted: &[usize],
    random: usize,
    neighbours: usize,
    seed: u64,
) -> Vec<(usize, usize)> {
    let n = sorted.len();
    assert!(n >= 2, "need at least two versions");
    let mut rng = Rng(seed);
    let mut pairs = Vec::with_capacity(random + neighbours);
    for _ in 0..random {
        pairs.push((sorted[rng.below(n)], sorted[rng.below(n)]));
    }
    let adjacent = n - 1;
    let take = neighbours.min(adjacent);
    for k in 0..take {
        let i = k * adjacent / take;
        // Both orders, alternating, so each direction is exercised.
        if k % 2 == 0 {
            pairs.push((sorted[i], sorted[i + 1]));
        } else {
            pairs.push((sorted[i + 1], sorted[i]));
        }
    }
    pairs
}

fn ord_num(o: std::cmp::Ordering) -> i32 {
    o as i32
}

/// Run `cmd` with `input` on stdin; return stdout, failing the test on a non-zero exit.
fn run_with_stdin(mut cmd: Command, input: Vec<u8>, what: &str) -> String {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    writer
        .join()
        .expect("stdin writer thread")
        .unwrap_or_else(|e| panic!("{what}: writing stdin: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap_or_else(|e| panic!("{what}: output not UTF-8: {e}"))
}

/// Both sides of every `a op b` line of an osv-scalibr vector file.
fn op_file_versions(test: &str, rel: &str, out: &mut BTreeSet<String>) {
    let Some(path) = patchpilot_testdata::shared_file(test, rel) else {
        return;
    };
    let text = std::fs::read_to_string(&path).expect("read vector file");
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with("//") {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        if let [a, _, b] = parts[..] {
            out.insert(a.to_string());
            out.insert(b.to_string());
        }
    }
}

/// The first two columns of every `a b expected` line.
fn pair_file_versions(test: &str, rel: &str, out: &mut BTreeSet<String>) {
    let Some(path) = patchpilot_testdata::shared_file(test, rel) else {
        return;
    };
    let text = std::fs::read_to_string(&path).expect("read pair file");
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        if let [a, b, _] = parts[..] {
            out.insert(a.to_string());
            out.insert(b.to_string());
        }
    }
}

/// Debian versions: the `Version:` and `Source: name (version)` fields of a real Debian 12
/// status file, plus the Debian vector files.
fn debian_versions(test: &str) -> Option<BTreeSet<String>> {
    let status = patchpilot_testdata::shared_file(test, "inventories/dpkg/debian12-host.status")?;
    let text = std::fs::read_to_string(status).expect("read status file");
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("Version:") {
            out.insert(v.trim().to_string());
        } else if let Some(src) = line.strip_prefix("Source:") {
            if let (Some(open), Some(close)) = (src.find('('), src.rfind(')')) {
                out.insert(src[open + 1..close].trim().to_string());
            }
        }
    }
    let from_status = out.len();
    assert!(
        from_status > 300,
        "too few versions in the status file: {from_status}"
    );
    op_file_versions(test, "vectors/osv-scalibr/debian-versions.txt", &mut out);
    op_file_versions(
        test,
        "vectors/osv-scalibr/debian-versions-generated.txt",
        &mut out,
    );
    pair_file_versions(test, "vectors/dpkg-version-pairs.txt", &mut out);
    println!(
        "{test}: {} distinct Debian versions ({from_status} from the status file)",
        out.len()
    );
    Some(out)
}

fn report(test: &str, tool: &str, checked: usize, failures: &[String]) {
    println!(
        "{test}: {checked} pairs compared with {tool}, {} disagreements",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{test}: {} of {checked} comparisons disagree with {tool}; first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}

// ---------------------------------------------------------------- dpkg

/// `dpkg --compare-versions a op b`: Some(true/false), None when dpkg errors out.
fn dpkg_relation(a: &str, op: &str, b: &str) -> Option<bool> {
    let status = Command::new("dpkg")
        .args(["--compare-versions", a, op, b])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    match status.code() {
        Some(0) => Some(true),
        Some(1) => Some(false),
        _ => None,
    }
}

fn dpkg_cmp(a: &str, b: &str) -> Result<i32, String> {
    match dpkg_relation(a, "lt", b) {
        Some(true) => return Ok(-1),
        Some(false) => {}
        None => return Err("dpkg rejected the pair".into()),
    }
    match dpkg_relation(a, "eq", b) {
        Some(true) => Ok(0),
        Some(false) => Ok(1),
        None => Err("dpkg rejected the pair".into()),
    }
}

#[test]
fn deb_matches_dpkg() {
    let t = "deb_matches_dpkg";
    if !patchpilot_testdata::require(
        t,
        patchpilot_testdata::have_program("dpkg"),
        "dpkg not installed",
    ) {
        return;
    }
    let Some(versions) = debian_versions(t) else {
        return;
    };
    let parsed: Vec<DebVersion> = versions
        .iter()
        .map(|s| DebVersion::parse(s).unwrap_or_else(|e| panic!("{t}: {e}")))
        .collect();
    let mut sorted: Vec<usize> = (0..parsed.len()).collect();
    sorted.sort_by(|&i, &j| parsed[i].cmp(&parsed[j]));
    let pairs = make_pairs(&sorted, 1800, 1400, 0xDEB1A4);
    let threads = 4;
    let chunk = pairs.len().div_ceil(threads);
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = pairs
            .chunks(chunk)
            .map(|part| {
                let parsed = &parsed;
                s.spawn(move || {
                    let mut bad = Vec::new();
                    for &(i, j) in part {
                        let (a, b) = (&parsed[i], &parsed[j]);
                        let ours = ord_num(a.cmp(b));
                        match dpkg_cmp(a.as_str(), b.as_str()) {
                            Ok(theirs) if theirs == ours => {}
                            Ok(theirs) => bad.push(format!(
                                "{:?} vs {:?}: dpkg {theirs}, ours {ours}",
                                a.as_str(),
                                b.as_str()
                            )),
                            Err(e) => {
                                bad.push(format!("{:?} vs {:?}: {e}", a.as_str(), b.as_str()))
                            }
                        }
                    }
                    bad
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("dpkg worker"))
            .collect()
    });
    report(t, "dpkg --compare-versions", pairs.len(), &failures);
}

/// The bad-syntax tables of `vectors_a` against dpkg itself: every error there makes
/// `dpkg --compare-versions` fail (exit 2), and every warning there still compares, as
/// the table says when we accept it.
#[test]
fn deb_bad_syntax_matches_dpkg() {
    let t = "deb_bad_syntax_matches_dpkg";
    if !patchpilot_testdata::require(
        t,
        patchpilot_testdata::have_program("dpkg"),
        "dpkg not installed",
    ) {
        return;
    }
    let mut failures = Vec::new();
    for &(bad, reason) in crate::vectors_a::DPKG_BAD_SYNTAX {
        for op in ["lt", "eq", "gt"] {
            if let Some(r) = dpkg_relation(bad, op, "2") {
                failures.push(format!("{bad:?} {op} 2: dpkg says {r}, not {reason:?}"));
            }
        }
    }
    for &(odd, ours) in crate::vectors_a::DPKG_WARNINGS {
        match dpkg_cmp(odd, "2") {
            Ok(theirs) => {
                if let Some(o) = ours.filter(|o| ord_num(*o) != theirs) {
                    failures.push(format!("{odd:?} vs 2: dpkg {theirs}, ours {o:?}"));
                }
            }
            Err(e) => failures.push(format!("{odd:?} vs 2: {e} (the table says it warns)")),
        }
    }
    let n = crate::vectors_a::DPKG_BAD_SYNTAX.len() + crate::vectors_a::DPKG_WARNINGS.len();
    report(t, "dpkg --compare-versions", n, &failures);
}

// ---------------------------------------------------------------- rpm

/// EVRs in Red Hat and AlmaLinux feed samples: `name-E:V-R` strings (OVAL/CSAF) and OSV
/// range events (AlmaLinux).
fn rpm_feed_versions(test: &str, out: &mut BTreeSet<String>) {
    fn walk(v: &serde_json::Value, f: &mut dyn FnMut(&str, &str)) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    if let serde_json::Value::String(s) = x {
                        f(k, s);
                    } else {
                        walk(x, f);
                    }
                }
            }
            serde_json::Value::Array(a) => {
                for x in a {
                    if let serde_json::Value::String(s) = x {
                        f("", s);
                    } else {
                        walk(x, f);
                    }
                }
            }
            _ => {}
        }
    }
    /// `name-E:V-R` -> `E:V-R`.
    fn evr_of_nevr(s: &str) -> Option<&str> {
        if s.contains(char::is_whitespace) {
            return None;
        }
        let colon = s.find(':')?;
        let dash = s[..colon].rfind('-')?;
        let epoch = &s[dash + 1..colon];
        let rest = &s[colon + 1..];
        let ok = !epoch.is_empty()
            && epoch.bytes().all(|c| c.is_ascii_digit())
            && rest.starts_with(|c: char| c.is_ascii_digit())
            && rest.contains('-');
        ok.then_some(&s[dash + 1..])
    }
    let Some(root) = patchpilot_testdata::shared_file(test, "feeds/distro-samples") else {
        return;
    };
    let mut stack = vec![root.join("rhel"), root.join("alma")];
    let mut found = 0;
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            walk(&json, &mut |key, s| {
                if matches!(key, "introduced" | "fixed" | "last_affected") && !s.is_empty() {
                    out.insert(s.to_string());
                    found += 1;
                } else if let Some(evr) = evr_of_nevr(s) {
                    out.insert(evr.to_string());
                    found += 1;
                }
            });
        }
    }
    assert!(
        found > 50,
        "{test}: too few EVRs in the RHEL/Alma samples: {found}"
    );
}

#[test]
fn rpm_matches_rpm_vercmp() {
    let t = "rpm_matches_rpm_vercmp";
    if !patchpilot_testdata::require(
        t,
        patchpilot_testdata::have_program("rpm"),
        "rpm not installed",
    ) {
        return;
    }
    let mut native = BTreeSet::new();
    op_file_versions(t, "vectors/osv-scalibr/redhat-versions.txt", &mut native);
    pair_file_versions(t, "vectors/rpm-version-pairs.txt", &mut native);
    rpm_feed_versions(t, &mut native);
    let Some(debian) = debian_versions(t) else {
        return;
    };
    let n_native = native.len();
    let all: Vec<String> = native
        .iter()
        .chain(debian.iter())
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let parsed: Vec<RpmVersion> = all
        .iter()
        .map(|s| RpmVersion::parse(s).unwrap_or_else(|e| panic!("{t}: {e}")))
        .collect();
    let mut sorted: Vec<usize> = (0..parsed.len()).collect();
    sorted.sort_by(|&i, &j| parsed[i].cmp(&parsed[j]));
    let mut pairs = make_pairs(&sorted, 6000, 4000, 0x52504D);
    // Every pair among the RPM-native strings (vectors and feed EVRs).
    let native_idx: Vec<usize> = (0..all.len())
        .filter(|&i| native.contains(&all[i]))
        .collect();
    for (k, &i) in native_idx.iter().enumerate() {
        for &j in &native_idx[k..] {
            pairs.push((i, j));
        }
    }
    let mut input = Vec::new();
    for &(i, j) in &pairs {
        writeln!(input, "{}\t{}", all[i], all[j]).expect("write to Vec");
    }
    let lua = r#"%{lua: for line in io.lines() do local a, b = line:match("^([^\t]*)\t(.*)$"); io.write(tostring(rpm.vercmp(a, b)), "\n") end}"#;
    let mut cmd = Command::new("rpm");
    cmd.args(["--eval", lua]);
    let out = run_with_stdin(cmd, input, "rpm --eval (rpm.vercmp)");
    let results: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(
        results.len(),
        pairs.len(),
        "{t}: rpm printed {} results for {} pairs",
        results.len(),
        pairs.len()
    );
    let mut failures = Vec::new();
    for (&(i, j), r) in pairs.iter().zip(&results) {
        let ours = ord_num(parsed[i].cmp(&parsed[j]));
        let theirs: i32 = r
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{t}: rpm printed {r:?}"));
        if theirs.signum() != ours {
            failures.push(format!(
                "{:?} vs {:?}: rpm {theirs}, ours {ours}",
                all[i], all[j]
            ));
        }
    }
    println!(
        "{t}: {} distinct versions ({n_native} RPM-native: vectors and RHEL/Alma EVRs)",
        all.len()
    );
    report(t, "rpm.vercmp", pairs.len(), &failures);
}

// ---------------------------------------------------------------- Python packaging

const PY_EXTRACT: &str = r#"
import json, sys, zipfile
versions = set()
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in z.namelist():
        if not name.endswith(".json"):
            continue
        record = json.loads(z.read(name))
        for affected in record.get("affected", []) or []:
            for v in affected.get("versions", []) or []:
                versions.add(v)
            for r in affected.get("ranges", []) or []:
                for event in r.get("events", []) or []:
                    for key in ("introduced", "fixed", "last_affected", "limit"):
                        if key in event:
                            versions.add(event[key])
json.dump(sorted(versions), sys.stdout)
"#;

const PY_COMPARE: &str = r#"
import json, sys
from pip._vendor.packaging.version import Version, InvalidVersion
data = json.load(sys.stdin)
objs, norm = [], []
for s in data["versions"]:
    try:
        v = Version(s)
        objs.append(v)
        norm.append(str(v))
    except InvalidVersion:
        objs.append(None)
        norm.append(None)
cmp = []
for i, j in data["pairs"]:
    a, b = objs[i], objs[j]
    cmp.append(None if a is None or b is None else (a > b) - (a < b))
json.dump({"norm": norm, "cmp": cmp}, sys.stdout)
"#;

fn have_python_packaging() -> bool {
    Command::new("python3")
        .args(["-c", "import pip._vendor.packaging.version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[test]
fn pep440_matches_python_packaging() {
    let t = "pep440_matches_python_packaging";
    if !patchpilot_testdata::require(
        t,
        have_python_packaging(),
        "python3 with pip's vendored packaging not available",
    ) {
        return;
    }
    let Some(zip) = patchpilot_testdata::shared_file(t, "feeds/osv/PyPI/all.zip") else {
        return;
    };
    let mut cmd = Command::new("python3");
    cmd.args(["-c", PY_EXTRACT]).arg(&zip);
    let feed: Vec<String> = serde_json::from_str(&run_with_stdin(
        cmd,
        Vec::new(),
        "python3 (extract PyPI versions)",
    ))
    .expect("extractor prints a JSON list");
    let n_feed = feed.len();
    assert!(
        n_feed > 5000,
        "{t}: too few versions in the PyPI feed: {n_feed}"
    );
    let mut set: BTreeSet<String> = feed.into_iter().collect();
    op_file_versions(t, "vectors/osv-scalibr/pypi-versions.txt", &mut set);
    op_file_versions(
        t,
        "vectors/osv-scalibr/pypi-versions-generated.txt",
        &mut set,
    );
    if let Some(p) = patchpilot_testdata::shared_file(t, "vectors/pep440-strictly-increasing.txt") {
        let text = std::fs::read_to_string(p).expect("read list");
        set.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(String::from),
        );
    }
    let all: Vec<String> = set.into_iter().collect();
    let parsed: Vec<Option<Pep440Version>> =
        all.iter().map(|s| Pep440Version::parse(s).ok()).collect();
    let valid: Vec<usize> = (0..all.len()).filter(|&i| parsed[i].is_some()).collect();
    let key = |i: usize| parsed[i].as_ref().expect("valid index");
    let mut sorted = valid.clone();
    sorted.sort_by(|&i, &j| key(i).cmp(key(j)));
    let pairs = make_pairs(&sorted, 5000, 3000, 0x9E9440);

    let request = serde_json::json!({ "versions": all, "pairs": pairs });
    let mut cmd = Command::new("python3");
    cmd.args(["-c", PY_COMPARE]);
    let out = run_with_stdin(
        cmd,
        serde_json::to_vec(&request).expect("serialize request"),
        "python3 (packaging.version)",
    );
    #[derive(serde::Deserialize)]
    struct Reply {
        norm: Vec<Option<String>>,
        cmp: Vec<Option<i32>>,
    }
    let reply: Reply = serde_json::from_str(&out).expect("python replies with JSON");
    assert_eq!(reply.norm.len(), all.len());
    assert_eq!(reply.cmp.len(), pairs.len());

    // Validity and normalized form, for every version.
    let mut failures = Vec::new();
    let mut python_invalid = 0;
    for (i, theirs) in reply.norm.iter().enumerate() {
        let ours = parsed[i].as_ref().map(Pep440Version::normalized);
        if theirs.is_none() {
            python_invalid += 1;
        }
        if &ours != theirs {
            failures.push(format!("{:?}: python {theirs:?}, ours {ours:?}", all[i]));
        }
    }
    println!(
        "{t}: {} distinct versions ({n_feed} from the PyPI OSV feed); python rejects {python_invalid}, \
         validity and normalized form checked for all, {} disagreements",
        all.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{t}: {} versions where validity or normal form differs from packaging; first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );

    // Ordering.
    let mut failures = Vec::new();
    for (&(i, j), theirs) in pairs.iter().zip(&reply.cmp) {
        let ours = ord_num(key(i).cmp(key(j)));
        if *theirs != Some(ours) {
            failures.push(format!(
                "{:?} vs {:?}: python {theirs:?}, ours {ours}",
                all[i], all[j]
            ));
        }
    }
    report(t, "packaging.version.Version", pairs.len(), &failures);
}
