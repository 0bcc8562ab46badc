//! Test helper: where the shared public data set (`../shared/data`) lives.
//!
//! Every test that reads real public data goes through [`shared_data`] so that the
//! policy is in one place: env `PATCHPILOT_SHARED_DATA` wins, else `../shared/data`
//! beside the workspace root. When the data is missing a test is skipped with a message
//! on stderr, except under `CI=true`, where a missing data set is a failure (a green CI
//! that silently skipped the vectors would prove nothing).
//!
//! The same policy covers other requirements a test may have (a reference tool such as
//! `dpkg` or `rpm`, root, a database): [`require`].

use std::path::{Path, PathBuf};

/// The workspace root (this crate lives in `<root>/crates/testdata`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/testdata has two ancestors")
        .to_path_buf()
}

/// True when running under CI (`CI=true` or `CI=1`).
pub fn in_ci() -> bool {
    matches!(
        std::env::var("CI").as_deref(),
        Ok("true") | Ok("1") | Ok("TRUE")
    )
}

/// The shared data directory, or `None` (after printing a skip message) when it is absent
/// outside CI. Panics under CI when it is absent: CI must never skip these tests.
pub fn shared_data(test: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("PATCHPILOT_SHARED_DATA") {
        Some(d) => PathBuf::from(d),
        None => workspace_root().join("../shared/data"),
    };
    if dir.is_dir() {
        return Some(dir);
    }
    require(
        test,
        false,
        &format!("shared data not found at {}", dir.display()),
    );
    None
}

/// A file or folder under the shared data directory; `None` (skip) like [`shared_data`].
/// Panics when the data directory exists but the file does not: that is a broken data set.
pub fn shared_file(test: &str, rel: &str) -> Option<PathBuf> {
    let p = shared_data(test)?.join(rel);
    assert!(
        p.exists(),
        "{test}: shared data file missing: {}",
        p.display()
    );
    Some(p)
}

/// Declare a requirement. When `ok` is false: outside CI print `SKIPPED <test>: <why>` and
/// return false (the caller returns early); under CI panic, because CI must run everything.
pub fn require(test: &str, ok: bool, why: &str) -> bool {
    if ok {
        return true;
    }
    if in_ci() {
        panic!("{test}: required under CI=true but missing: {why}");
    }
    eprintln!("SKIPPED {test}: {why}");
    false
}

/// True when `program` is on PATH (for differential tests against reference tools).
pub fn have_program(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
}
