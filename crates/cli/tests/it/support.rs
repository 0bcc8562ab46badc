//! Shared helpers: run the binary, import feeds once per test into a temp data dir.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_patchpilot"))
}

/// Run the binary with `args` (and optional stdin), returning its output.
pub fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = bin();
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn patchpilot");
    if let Some(input) = stdin {
        use std::io::Write;
        let mut s = child.stdin.take().expect("stdin");
        let input = input.to_string();
        // Write on another thread so a large input cannot deadlock against stdout.
        std::thread::spawn(move || s.write_all(input.as_bytes()).expect("write stdin"));
    }
    child.wait_with_output().expect("wait patchpilot")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh data dir with the given shared OSV feeds imported (`crates.io`, `Go`, `PyPI`).
pub fn imported(feeds: &[&str], shared: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut args: Vec<String> = vec![
        "--data-dir".into(),
        data.display().to_string(),
        "feeds".into(),
        "import".into(),
    ];
    for f in feeds {
        args.push(
            shared
                .join("feeds/osv")
                .join(f)
                .join("all.zip")
                .display()
                .to_string(),
        );
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&argv, None);
    assert!(out.status.success(), "import failed: {}", stderr(&out));
    (dir, data)
}

/// The shared data and a data dir with `feeds` imported, or `None` (skipped) without the
/// shared data. Keep the `TempDir` alive for the test's duration.
pub fn with_feeds(test: &str, feeds: &[&str]) -> Option<(PathBuf, tempfile::TempDir, String)> {
    let shared = patchpilot_testdata::shared_data(test)?;
    let (keep, data) = imported(feeds, &shared);
    Some((shared, keep, data.display().to_string()))
}

/// A cargo-audit scenario's Cargo.lock from the shared data, as a path string.
pub fn audit_fixture(shared: &Path, scenario: &str) -> String {
    shared
        .join("lockfiles/cargo-audit-fixtures")
        .join(scenario)
        .join("Cargo.lock")
        .display()
        .to_string()
}

/// A file of this crate's `tests/fixtures/<scenario>/`, as a path string.
pub fn fixture(scenario: &str, file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(scenario)
        .join(file)
        .display()
        .to_string()
}

/// Run the binary with `args` (and optional stdin) whose stdout is a pipe that nobody
/// reads any more: the write end of a pipe whose reader (`true`) has exited, so the
/// first write fails with a broken pipe, whatever the timing (`patchpilot … | head` once
/// `head` is done). Stderr is captured.
pub fn run_with_closed_stdout(args: &[&str], stdin: Option<&str>) -> Output {
    let mut reader = Command::new("true")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn true");
    let write_end = reader.stdin.take().expect("pipe to true");
    reader.wait().expect("wait true");
    let mut cmd = bin();
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::from(write_end))
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn patchpilot");
    if let Some(input) = stdin {
        use std::io::Write;
        let mut s = child.stdin.take().expect("stdin");
        let input = input.to_string();
        // The child may stop reading once stdout is gone: a failed write is fine here.
        std::thread::spawn(move || {
            let _ = s.write_all(input.as_bytes());
        });
    }
    child.wait_with_output().expect("wait patchpilot")
}
