//! Red Hat CSAF VEX in `sync`, against the local server laid out as Red Hat's
//! `csaf/v2/vex` folder: `archive_latest.txt`, a `csaf_vex_<date>.tar.zst` built here from
//! the hand-written CSAF fixtures of `crates/distro/tests/fixtures/csaf` (no real Red Hat
//! VEX document is in ../shared), `changes.csv`, `deletions.csv` and `<year>/cve-….json`.

use std::fs;
use std::path::Path;

use patchpilot_advisory_db::Database;
use patchpilot_feeds::{Config, RedHatConfig};
use patchpilot_osv::Event;

use super::server::{Fault, Server};
use super::{err, ok, part_files, run, snapshot};

const ARCHIVE_NAME: &str = "csaf_vex_2024-01-10.tar.zst";
const ARCHIVE: &str = "/rh/csaf_vex_2024-01-10.tar.zst";
const LATEST: &str = "/rh/archive_latest.txt";
const CHANGES: &str = "/rh/changes.csv";
const DELETIONS: &str = "/rh/deletions.csv";
const SSH: &str = "2023/cve-2023-38408.json";
const NODE: &str = "2023/cve-2023-32002.json";
const LATER: &str = "2023/cve-2023-6228.json";

fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../distro/tests/fixtures/csaf")
        .join(name);
    fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A `.tar.zst` of `(path, body)` entries, as Red Hat builds its archive.
fn tar_zst(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, body) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, path, *body).unwrap();
    }
    zstd::encode_all(&tar.into_inner().unwrap()[..], 3).unwrap()
}

struct Upstream {
    srv: Server,
    archive: Vec<u8>,
    ssh: Vec<u8>,
}

/// The archive holds the OpenSSH and Node.js documents; the third was published after it.
fn upstream() -> Upstream {
    let ssh = fixture("cve-2023-38408.json");
    let node = fixture("cve-2023-32002.json");
    let archive = tar_zst(&[(SSH, &ssh), (NODE, &node)]);
    let srv = Server::start();
    srv.put(LATEST, format!("{ARCHIVE_NAME}\n").into_bytes());
    srv.put(ARCHIVE, archive.clone());
    srv.put(
        CHANGES,
        format!(
            "\"{LATER}\",\"2024-02-01T08:00:00+00:00\"\n\"{SSH}\",\"2024-01-05T10:15:00+00:00\"\n\"{NODE}\",\"2023-09-12T12:00:00+00:00\"\n"
        )
        .into_bytes(),
    );
    srv.put(DELETIONS, Vec::new());
    srv.put(&format!("/rh/{LATER}"), fixture("cve-2023-6228.json"));
    srv.put(&format!("/rh/{SSH}"), ssh.clone());
    srv.put(&format!("/rh/{NODE}"), node);
    Upstream { srv, archive, ssh }
}

fn config(srv: &Server) -> Config {
    Config {
        ecosystems: vec![],
        kev_url: None,
        epss_url: None,
        redhat: Some(RedHatConfig {
            base: srv.url("/rh"),
            ..RedHatConfig::default()
        }),
        retries: 0,
        backoff: std::time::Duration::from_millis(1),
        ..Config::default()
    }
}

fn fixed_versions(db: &Database, id: &str) -> Vec<String> {
    let a = db.get(id).unwrap_or_else(|| panic!("{id} missing"));
    a.affected
        .iter()
        .flat_map(|a| a.ranges.iter().flat_map(|r| r.events.iter()))
        .filter_map(|e| match e {
            Event::Fixed(v) => Some(v.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn redhat_full_sync_then_second_sync_transfers_nothing() {
    let up = upstream();
    let data = tempfile::tempdir().unwrap();
    let cfg = config(&up.srv);

    let r1 = run(data.path(), &cfg);
    let o = ok(&r1, "redhat");
    assert!(o.changed && o.full_import, "{o:?}");
    assert!(o.rejected.is_empty(), "{:?}", o.rejected);
    assert_eq!(o.records, 3, "two documents from the archive, one fetched");
    assert_eq!(
        o.fetched,
        [LATER],
        "only the document changed after the archive"
    );
    let db = Database::open(data.path()).unwrap();
    for id in [
        "RHEL-CVE-2023-38408",
        "RHEL-CVE-2023-32002",
        "RHEL-CVE-2023-6228",
    ] {
        let a = db.get(id).unwrap_or_else(|| panic!("{id} missing"));
        assert!(a.withdrawn.is_none(), "{id}");
        assert_ne!(a.modified, patchpilot_distro::UNKNOWN_MODIFIED, "sync time");
    }
    assert!(
        fixed_versions(&db, "RHEL-CVE-2023-38408")
            .iter()
            .any(|v| v.contains("8.7p1-30.el9_2")),
        "the RHEL 9 fix"
    );
    let names: Vec<&str> = db.sources().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["redhat"]);
    // The archive is Red Hat's whole feed: RHEL 9, which its documents name, is covered.
    let covered = &db.sources()[0].coverage.as_ref().unwrap().feed;
    assert!(covered.contains(&"Red Hat:9".to_string()), "{covered:?}");
    assert_eq!(
        db.coverage(&patchpilot_osv::Ecosystem::RedHat, Some("9"))
            .state,
        patchpilot_advisory_db::CoverageState::Covered
    );
    // The archive is not kept once imported; no part files are left.
    assert!(!data.path().join("feeds/redhat").join(ARCHIVE_NAME).exists());
    assert!(part_files(data.path()).is_empty());
    let log = up.srv.take_log();
    let paths: Vec<&str> = log.iter().map(|h| h.path.as_str()).collect();
    assert!(
        paths.contains(&ARCHIVE) && paths.contains(&CHANGES),
        "{paths:?}"
    );
    assert!(!paths.contains(&format!("/rh/{SSH}").as_str()), "{paths:?}");

    let before = snapshot(data.path());
    let r2 = run(data.path(), &cfg);
    let o2 = ok(&r2, "redhat");
    assert!(!o2.changed && o2.transferred == 0, "{o2:?}");
    assert_eq!(o2.records, 3);
    let log = up.srv.take_log();
    assert_eq!(log.len(), 1, "only changes.csv is asked for: {log:?}");
    assert_eq!((log[0].path.as_str(), log[0].status), (CHANGES, 304));
    let after = snapshot(data.path());
    for (p, bytes) in &before {
        if !p.ends_with("state.json") {
            assert_eq!(after.get(p), Some(bytes), "{} changed", p.display());
        }
    }
    let st = patchpilot_feeds::status(data.path()).unwrap();
    let rh = st.iter().find(|s| s.name == "redhat").unwrap();
    assert_eq!(rh.records, 3);
    assert_eq!(rh.url, up.srv.url(ARCHIVE));
}

#[test]
fn redhat_increment_fetches_changed_documents_and_withdraws_deleted_ones() {
    let up = upstream();
    let data = tempfile::tempdir().unwrap();
    let cfg = config(&up.srv);
    assert!(run(data.path(), &cfg).is_ok());
    up.srv.take_log();

    // Upstream: the OpenSSH document gets a newer RHEL 9 build; the Node.js one is deleted.
    let newer = String::from_utf8(up.ssh.clone())
        .unwrap()
        .replace("8.7p1-30.el9_2", "8.7p1-31.el9_2")
        .into_bytes();
    up.srv.put(&format!("/rh/{SSH}"), newer);
    up.srv.put(
        CHANGES,
        format!(
            "\"{SSH}\",\"2024-03-01T09:00:00+00:00\"\n\"{LATER}\",\"2024-02-01T08:00:00+00:00\"\n\"{SSH}\",\"2024-01-05T10:15:00+00:00\"\n"
        )
        .into_bytes(),
    );
    up.srv.put(
        DELETIONS,
        format!("\"{NODE}\",\"2024-03-02T00:00:00+00:00\"\n").into_bytes(),
    );

    let r = run(data.path(), &cfg);
    let o = ok(&r, "redhat");
    assert!(o.changed && !o.full_import, "{o:?}");
    // The watermark's own document comes again (a change in the same second as the last
    // sync's newest row could otherwise be missed); the others do not.
    assert_eq!(o.fetched, [SSH, LATER]);
    let log = up.srv.take_log();
    assert!(
        !log.iter().any(|h| h.path == ARCHIVE || h.path == LATEST),
        "no archive for an increment: {log:?}"
    );
    let db = Database::open(data.path()).unwrap();
    let fixes = fixed_versions(&db, "RHEL-CVE-2023-38408");
    assert!(
        fixes.iter().any(|v| v.contains("8.7p1-31.el9_2")),
        "{fixes:?}"
    );
    assert!(
        !fixes.iter().any(|v| v.contains("8.7p1-30.el9_2")),
        "{fixes:?}"
    );
    let node = db.get("RHEL-CVE-2023-32002").unwrap();
    assert!(
        node.withdrawn.is_some(),
        "a deleted document withdraws its advisory"
    );
    assert!(db.get("RHEL-CVE-2023-6228").unwrap().withdrawn.is_none());
    // The increment replaced the source entry; it still covers what the archive did.
    let c = db.coverage(&patchpilot_osv::Ecosystem::RedHat, Some("9"));
    assert_eq!(
        (c.state, c.sources.as_slice()),
        (
            patchpilot_advisory_db::CoverageState::Covered,
            &["redhat".to_string()][..]
        )
    );
    let state = patchpilot_feeds::load_state(data.path()).unwrap();
    assert_eq!(
        state.sources["redhat"].newest_modified.as_deref(),
        Some("2024-03-02T00:00:00+00:00")
    );
}

#[test]
fn redhat_interrupted_archive_is_resumed_by_the_next_sync() {
    let up = upstream();
    let data = tempfile::tempdir().unwrap();
    let cfg = config(&up.srv);
    let cut = up.archive.len() / 2;
    up.srv.fault(ARCHIVE, Fault::DropAfter(cut));

    let r1 = run(data.path(), &cfg);
    let e = err(&r1, "redhat").to_string();
    assert!(e.contains(&up.srv.url(ARCHIVE)), "{e}");
    assert!(!data.path().join("advisories.db").exists());
    up.srv.take_log();

    let r2 = run(data.path(), &cfg);
    let o = ok(&r2, "redhat");
    assert_eq!(o.resumed_from, Some(cut as u64));
    let log = up.srv.take_log();
    let hit = log.iter().find(|h| h.path == ARCHIVE).unwrap();
    assert_eq!((hit.status, hit.bytes), (206, up.archive.len() - cut));
    assert_eq!(Database::open(data.path()).unwrap().len(), 3);
}

#[test]
fn redhat_bad_archive_or_index_is_rejected_and_the_database_kept() {
    let up = upstream();
    let data = tempfile::tempdir().unwrap();
    let cfg = config(&up.srv);
    // A database from another source, which must stay byte-for-byte.
    let other = tempfile::tempdir().unwrap();
    fs::write(
        other.path().join("RUSTSEC-2024-0001.json"),
        r#"{"id":"RUSTSEC-2024-0001","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"crates.io","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}]}"#,
    )
    .unwrap();
    patchpilot_advisory_db::import(data.path(), &[other.path().to_path_buf()], &mut |_| {})
        .unwrap();
    let before = snapshot(data.path());

    let truncated = up.archive[..up.archive.len() * 2 / 3].to_vec();
    let cases: Vec<(&str, Fault, &str)> = vec![
        (
            ARCHIVE,
            Fault::Body(truncated),
            "corrupt, truncated or not a .tar.zst",
        ),
        (
            ARCHIVE,
            Fault::Body(b"<html>not found</html>".to_vec()),
            "corrupt, truncated or not a .tar.zst",
        ),
        (
            ARCHIVE,
            Fault::Body(tar_zst(&[("2023/cve-2023-1.json", b"{\"document\": 1}")])),
            "1 of 1 documents could not be read",
        ),
        (
            ARCHIVE,
            Fault::Body(tar_zst(&[("README", b"hi")])),
            "no VEX documents",
        ),
        (
            LATEST,
            Fault::Body(b"../../etc/passwd".to_vec()),
            "expected an archive name",
        ),
        (
            CHANGES,
            Fault::Body(b"\"2024/x.json\",\"soon\"".to_vec()),
            "line 1: bad date-time",
        ),
        (CHANGES, Fault::Status(500), "HTTP status 500"),
        (
            "/rh/2023/cve-2023-6228.json",
            Fault::Status(404),
            "HTTP status 404",
        ),
    ];
    for (path, fault, want) in cases {
        up.srv.fault(path, fault);
        let r = run(data.path(), &cfg);
        let e = err(&r, "redhat").to_string();
        assert!(e.contains(want), "{path}: {e}");
        let after = snapshot(data.path());
        let dbs = |s: &std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>| {
            s.iter()
                .filter(|(p, _)| !p.starts_with("feeds"))
                .map(|(p, b)| (p.clone(), b.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(dbs(&after), dbs(&before), "{path}: the database changed");
        assert!(
            !patchpilot_feeds::load_state(data.path())
                .unwrap()
                .sources
                .contains_key("redhat"),
            "{path}: no state for a failed sync"
        );
        up.srv.take_log();
    }
    // A failure after the archive downloaded keeps it: the retry does not fetch it again.
    up.srv
        .fault("/rh/2023/cve-2023-6228.json", Fault::Status(404));
    assert!(!run(data.path(), &cfg).is_ok());
    assert!(data
        .path()
        .join("feeds/redhat")
        .join(ARCHIVE_NAME)
        .is_file());
    up.srv.take_log();
    let r = run(data.path(), &cfg);
    assert_eq!(ok(&r, "redhat").records, 3);
    let log = up.srv.take_log();
    assert!(!log.iter().any(|h| h.path == ARCHIVE), "{log:?}");
    assert!(Database::open(data.path())
        .unwrap()
        .get("RUSTSEC-2024-0001")
        .is_some());
}

#[test]
fn redhat_too_many_changes_take_the_archive_again() {
    let up = upstream();
    let data = tempfile::tempdir().unwrap();
    let mut cfg = config(&up.srv);
    assert!(run(data.path(), &cfg).is_ok());
    up.srv.take_log();
    if let Some(rh) = cfg.redhat.as_mut() {
        rh.max_incremental = 1;
    }
    up.srv.put(
        CHANGES,
        format!(
            "\"{SSH}\",\"2024-03-01T09:00:00+00:00\"\n\"{NODE}\",\"2024-03-01T08:00:00+00:00\"\n\"{LATER}\",\"2024-02-01T08:00:00+00:00\"\n"
        )
        .into_bytes(),
    );
    let r = run(data.path(), &cfg);
    let o = ok(&r, "redhat");
    assert!(o.full_import, "{o:?}");
    let log = up.srv.take_log();
    assert!(log.iter().any(|h| h.path == ARCHIVE), "{log:?}");
    assert_eq!(Database::open(data.path()).unwrap().len(), 3);
}
