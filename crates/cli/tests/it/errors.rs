//! Errors name their cause once: one line, `patchpilot: <file>: <reason>`, without the
//! data directory or the file said twice (`opening the advisory database in D:
//! D/advisories.db: …`, `importing into D: x.zip: …`).

use crate::support::{run, stderr};

/// Exactly `want` on one line, and `once` in it once.
fn assert_one_line(args: &[&str], want: &str, once: &str) {
    let o = run(args, None);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err, format!("{want}\n"), "{args:?}");
    assert_eq!(err.matches(once).count(), 1, "{once:?} once in {err}");
}

#[test]
fn errors_name_their_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = d.join("data");
    let data_s = data.display().to_string();
    std::fs::create_dir_all(data.join("feeds")).unwrap();

    // A missing input of `feeds import`.
    let zip = d.join("nope").join("all.zip").display().to_string();
    assert_one_line(
        &["--data-dir", &data_s, "feeds", "import", &zip],
        &format!("patchpilot: {zip}: No such file or directory (os error 2)"),
        &zip,
    );

    // A KEV catalog that is not one.
    let kev = d.join("kev.json");
    std::fs::write(&kev, r#"{"catalogVersion": 1}"#).unwrap();
    let kev = kev.display().to_string();
    assert_one_line(
        &["--data-dir", &data_s, "feeds", "import", &kev],
        &format!(
            "patchpilot: {kev}: KEV catalog is not valid JSON of the expected schema: invalid type: integer `1`, expected a string at line 1 column 20"
        ),
        "KEV catalog",
    );

    // A corrupt advisory database, for scan, explain and feeds status alike.
    let db = data.join("advisories.db");
    std::fs::write(&db, b"garbage").unwrap();
    let lock = d.join("Cargo.lock");
    std::fs::write(&lock, "version = 3\n").unwrap();
    let want = format!(
        "patchpilot: {}: corrupt advisory database (file too short); run `patchpilot feeds import` again",
        db.display()
    );
    for cmd in [
        vec!["scan", lock.to_str().unwrap()],
        vec!["explain", "CVE-2021-1"],
        vec!["feeds", "status"],
    ] {
        let mut args = vec!["--data-dir", &data_s];
        args.extend(cmd);
        assert_one_line(&args, &want, &data_s);
    }
    std::fs::remove_file(&db).unwrap();

    // A broken feed state file.
    let state = data.join("feeds/state.json");
    std::fs::write(&state, "{").unwrap();
    assert_one_line(
        &["--data-dir", &data_s, "feeds", "status"],
        &format!(
            "patchpilot: {}: bad feed state (EOF while parsing an object at line 1 column 1); delete it to sync from scratch",
            state.display()
        ),
        &data_s,
    );
    std::fs::remove_file(&state).unwrap();

    // A host whose dpkg database does not parse.
    let root = d.join("root");
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::write(root.join("var/lib/dpkg/status"), "Package: x\nVersion\n").unwrap();
    let root_s = root.display().to_string();
    assert_one_line(
        &["--data-dir", &data_s, "scan", "--root", &root_s],
        &format!(
            "patchpilot: {root_s}/var/lib/dpkg/status: dpkg-status: line 2: expected `Field: value`, got \"Version\""
        ),
        &root_s,
    );
}

/// An NVD API key that cannot go into an HTTP header (the README once wrote
/// `PATCHPILOT_NVD_API_KEY=…`) was sent five times and failed each as "Bad Header:
/// invalid header 'apiKey: …'", quoting the secret. Now it is refused once, unquoted,
/// before anything is fetched.
#[test]
fn an_nvd_key_that_is_not_a_header_value_is_refused_once_without_quoting_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let o = crate::support::bin()
        .args(["--data-dir", &data, "feeds", "sync", "--ecosystem", "none"])
        .args(["--kev-url", "none", "--epss-url", "none"])
        .args(["--nvd-url", "http://127.0.0.1:9/nvd"])
        .env("PATCHPILOT_NVD_API_KEY", "sécret key…")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "patchpilot: --nvd-api-key / PATCHPILOT_NVD_API_KEY: the NVD API key must be printable ASCII without spaces (NVD keys are UUIDs)\n"
    );
}
