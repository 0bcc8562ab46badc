//! Distro trackers in `sync`: the Debian tracker JSON and Alpine secdb samples of
//! `../shared/data/feeds/distro-samples`, served in the upstream layout (Alpine as
//! `<branch>/<repo>.json`, converted from the sample YAML: upstream serves both, same shape).

use std::fs;
use std::path::Path;

use patchpilot_advisory_db::Database;
use patchpilot_feeds::{sync, AlpineConfig, Config};

use super::server::{Fault, Server};
use super::{err, ok, run, snapshot};

const DEBIAN: &str = "/debian/tracker/data/json";
const ALPINE_MAIN: &str = "/alpine/v3.15/main.json";
const ALPINE_COMMUNITY: &str = "/alpine/v3.15/community.json";

struct Samples {
    debian: Vec<u8>,
    main: Vec<u8>,
    community: Vec<u8>,
}

fn yaml_to_json(bytes: &[u8]) -> Vec<u8> {
    let v: serde_json::Value = serde_yaml::from_slice(bytes).unwrap();
    serde_json::to_vec_pretty(&v).unwrap()
}

fn samples(test: &str) -> Option<Samples> {
    let dir = patchpilot_testdata::shared_data(test)?.join("feeds/distro-samples");
    let read = |rel: &str| fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    Some(Samples {
        debian: read("debian/input/debian.json"),
        main: yaml_to_json(&read("alpine/input/secdb/v3.15/main.yaml")),
        community: yaml_to_json(&read("alpine/input/secdb/v3.15/community.yaml")),
    })
}

fn serve(s: &Samples) -> Server {
    let srv = Server::start();
    srv.put(DEBIAN, s.debian.clone());
    srv.put(ALPINE_MAIN, s.main.clone());
    srv.put(ALPINE_COMMUNITY, s.community.clone());
    srv
}

/// Only the trackers: no OSV, KEV or EPSS.
fn config(srv: &Server) -> Config {
    Config {
        ecosystems: vec![],
        kev_url: None,
        epss_url: None,
        debian_url: Some(srv.url(DEBIAN)),
        alpine: Some(AlpineConfig {
            base: srv.url("/alpine"),
            branches: vec!["v3.15".into()],
        }),
        retries: 1,
        backoff: std::time::Duration::from_millis(1),
        ..Config::default()
    }
}

fn ids(data: &Path, prefix: &str) -> Vec<String> {
    Database::open(data)
        .unwrap()
        .advisories()
        .iter()
        .filter(|a| a.id.starts_with(prefix))
        .map(|a| a.id.clone())
        .collect()
}

#[test]
fn tracker_sync_imports_then_second_sync_transfers_nothing() {
    let Some(s) = samples("tracker_sync_imports_then_second_sync_transfers_nothing") else {
        return;
    };
    let srv = serve(&s);
    let data = tempfile::tempdir().unwrap();
    let cfg = config(&srv);

    let r1 = run(data.path(), &cfg);
    assert!(r1.is_ok(), "{r1:?}");
    let debian = ok(&r1, "debian");
    assert!(debian.changed);
    assert_eq!(
        debian.records, 5,
        "the 5 advisories `feeds import` makes of it"
    );
    assert_eq!(ok(&r1, "alpine").records, 13 + 3);
    assert_eq!(ids(data.path(), "DEBIAN-").len(), 5);
    assert_eq!(ids(data.path(), "ALPINE-").len(), 16);
    let db = Database::open(data.path()).unwrap();
    let zlib = db.get("ALPINE-CVE-2022-37434").unwrap();
    assert_eq!(zlib.aliases, ["CVE-2022-37434"]);
    assert_ne!(
        zlib.modified,
        patchpilot_distro::UNKNOWN_MODIFIED,
        "sync time"
    );
    let names: Vec<&str> = db.sources().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["debian", "alpine"]);
    // A synced tracker is its distro's whole feed for the releases it names.
    let state =
        |eco: patchpilot_osv::Ecosystem, release: &str| db.coverage(&eco, Some(release)).state;
    use patchpilot_advisory_db::CoverageState::{Covered, NotChecked};
    assert_eq!(state(patchpilot_osv::Ecosystem::Alpine, "v3.15"), Covered);
    assert_eq!(
        state(patchpilot_osv::Ecosystem::Alpine, "v3.18"),
        NotChecked
    );
    assert_eq!(state(patchpilot_osv::Ecosystem::Debian, "10"), Covered);
    // The downloads are kept for the next partial change.
    assert_eq!(
        fs::read(data.path().join("feeds/debian.json")).unwrap(),
        s.debian
    );
    assert!(data.path().join("feeds/alpine/v3.15/main.json").is_file());
    let first = srv.take_log();
    assert_eq!(first.len(), 3);
    assert!(first
        .iter()
        .all(|h| h.status == 200 && h.if_none_match.is_none()));

    let before = snapshot(data.path());
    let r2 = run(data.path(), &cfg);
    assert!(r2.is_ok(), "{r2:?}");
    for name in ["debian", "alpine"] {
        let o = ok(&r2, name);
        assert!(!o.changed && o.transferred == 0, "{name}: {o:?}");
    }
    assert_eq!(ok(&r2, "alpine").records, 16);
    let second = srv.take_log();
    assert_eq!(second.len(), 3);
    assert!(
        second
            .iter()
            .all(|h| h.status == 304 && h.bytes == 0 && h.if_none_match.is_some()),
        "{second:?}"
    );
    let after = snapshot(data.path());
    for (p, bytes) in &before {
        if !p.ends_with("state.json") {
            assert_eq!(after.get(p), Some(bytes), "{} changed", p.display());
        }
    }
    let st = patchpilot_feeds::status(data.path()).unwrap();
    let got: Vec<(&str, usize)> = st.iter().map(|s| (s.name.as_str(), s.records)).collect();
    assert_eq!(
        got,
        [
            ("alpine/v3.15/community", 3),
            ("alpine/v3.15/main", 13),
            ("debian", 5)
        ]
    );
}

#[test]
fn one_changed_alpine_repo_is_merged_with_the_kept_ones() {
    let Some(s) = samples("one_changed_alpine_repo_is_merged_with_the_kept_ones") else {
        return;
    };
    let srv = serve(&s);
    let data = tempfile::tempdir().unwrap();
    let mut cfg = config(&srv);
    cfg.debian_url = None;
    assert!(run(data.path(), &cfg).is_ok());
    srv.take_log();

    // Community now also lists a CVE that main lists (for another package).
    let mut community: serde_json::Value = serde_json::from_slice(&s.community).unwrap();
    community["packages"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"pkg": {"name": "xz-utils-extra",
            "secfixes": {"5.2.5-r9": ["CVE-2022-1271"]}}}));
    srv.put(ALPINE_COMMUNITY, serde_json::to_vec(&community).unwrap());
    let r = run(data.path(), &cfg);
    let o = ok(&r, "alpine");
    assert!(o.changed, "{o:?}");
    let log = srv.take_log();
    let got: Vec<(&str, u16)> = log.iter().map(|h| (h.path.as_str(), h.status)).collect();
    assert_eq!(got, [(ALPINE_MAIN, 304), (ALPINE_COMMUNITY, 200)]);
    let db = Database::open(data.path()).unwrap();
    assert_eq!(
        ids(data.path(), "ALPINE-").len(),
        16,
        "main's kept copy too"
    );
    let xz = db.get("ALPINE-CVE-2022-1271").unwrap();
    let names: Vec<&str> = xz.affected.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["xz", "xz-utils-extra"], "one advisory, both repos");
}

#[test]
fn corrupt_tracker_downloads_keep_the_old_database() {
    let Some(s) = samples("corrupt_tracker_downloads_keep_the_old_database") else {
        return;
    };
    let srv = serve(&s);
    let data = tempfile::tempdir().unwrap();
    let cfg = config(&srv);
    assert!(run(data.path(), &cfg).is_ok());
    let good = snapshot(data.path());
    assert!(good.contains_key(Path::new("advisories.db")));

    let cases: Vec<(&str, &str, Fault, &str)> = vec![
        (
            "debian",
            DEBIAN,
            Fault::Body(b"<html>maintenance</html>".to_vec()),
            "invalid Debian security tracker JSON",
        ),
        (
            "debian",
            DEBIAN,
            Fault::Truncate(s.debian.len() / 2),
            "invalid Debian",
        ),
        (
            "debian",
            DEBIAN,
            Fault::Body(b"{}".to_vec()),
            "no vulnerabilities",
        ),
        (
            "alpine",
            ALPINE_COMMUNITY,
            Fault::Truncate(s.community.len() - 10),
            "invalid Alpine secdb",
        ),
        (
            "alpine",
            ALPINE_MAIN,
            Fault::Body(br#"{"distroversion": 3, "packages": 7}"#.to_vec()),
            "alpine/v3.15/main",
        ),
        ("alpine", ALPINE_COMMUNITY, Fault::Status(404), "404"),
    ];
    for (name, path, fault, want) in cases {
        let label = format!("{name} {fault:?}");
        let label = &label[..label.len().min(80)];
        // Only the source under test, so nothing else touches the state.
        let mut only = cfg.clone();
        if name == "debian" {
            only.alpine = None;
        } else {
            only.debian_url = None;
        }
        srv.fault(path, fault);
        let r = run(data.path(), &only);
        let e = err(&r, name).to_string();
        assert!(e.contains(&srv.url(path)), "{label}: {e}");
        assert!(e.contains(want), "{label}: {e}");
        assert!(!e.contains('\n'), "{label}: one line: {e}");
        assert_eq!(snapshot(data.path()), good, "{label}: data changed");
        srv.take_log();
    }
    // And the good data still syncs conditionally afterwards.
    let r = run(data.path(), &cfg);
    assert!(r.is_ok(), "{r:?}");
    assert!(srv.take_log().iter().all(|h| h.status == 304));
}

#[test]
fn trackers_are_off_unless_configured() {
    let data = tempfile::tempdir().unwrap();
    let cfg = Config {
        ecosystems: vec![],
        kev_url: None,
        epss_url: None,
        ..Config::default()
    };
    let r = sync(data.path(), &cfg, &mut |_| {}).unwrap();
    assert!(r.sources.is_empty(), "{r:?}");
}
