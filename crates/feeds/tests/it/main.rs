//! Feed sync against a local HTTP server on 127.0.0.1 that serves the real files of
//! `../shared/data/feeds` in the upstream layout, with injected faults.

mod nvd;
mod redhat;
mod server;
mod trackers;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use patchpilot_advisory_db::Database;
use patchpilot_feeds::{epss_file, kev_file, status, sync, Config, FeedError, Outcome, SyncReport};
use server::{Fault, Server};

const KEV: &str = "/kev/known_exploited_vulnerabilities.json";
const EPSS: &str = "/epss/epss_scores-current.csv.gz";
const ZIP: &str = "/osv/crates.io/all.zip";
const INDEX: &str = "/osv/crates.io/modified_id.csv";
const ECO: &str = "crates.io";

/// The real files, as served.
struct Feeds {
    kev: Vec<u8>,
    epss: Vec<u8>,
    zip: Vec<u8>,
    index: Vec<u8>,
    /// Another real KEV catalog (an older one), for "the file changed upstream".
    kev_old: Vec<u8>,
}

fn feeds(test: &str) -> Option<Feeds> {
    let dir = patchpilot_testdata::shared_data(test)?.join("feeds");
    let read = |rel: &str| fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let mut history: Vec<PathBuf> = fs::read_dir(dir.join("kev/history"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    history.sort();
    Some(Feeds {
        kev: read("kev/known_exploited_vulnerabilities.json"),
        epss: read("epss/epss_scores-sample.csv.gz"),
        zip: read("osv/crates.io/all.zip"),
        index: read("osv/crates.io/modified_id.csv"),
        kev_old: fs::read(&history[0]).unwrap(),
    })
}

fn serve(f: &Feeds) -> Server {
    let s = Server::start();
    s.put(KEV, f.kev.clone());
    s.put(EPSS, f.epss.clone());
    s.put(ZIP, f.zip.clone());
    s.put(INDEX, f.index.clone());
    s.records_from("/osv/crates.io/", f.zip.clone());
    s
}

fn config(s: &Server) -> Config {
    Config {
        osv_base: s.url("/osv"),
        ecosystems: vec![ECO.into()],
        kev_url: Some(s.url(KEV)),
        epss_url: Some(s.url(EPSS)),
        timeout: Duration::from_secs(20),
        retries: 2,
        backoff: Duration::from_millis(5),
        backoff_max: Duration::from_millis(50),
        ..Config::default()
    }
}

/// Only one source.
fn only(s: &Server, source: &str) -> Config {
    let mut c = config(s);
    if source != "osv" {
        c.ecosystems.clear();
    }
    if source != "kev" {
        c.kev_url = None;
    }
    if source != "epss" {
        c.epss_url = None;
    }
    c
}

fn run(data: &Path, cfg: &Config) -> SyncReport {
    sync(data, cfg, &mut |_| {}).expect("sync starts")
}

fn ok<'a>(r: &'a SyncReport, name: &str) -> &'a Outcome {
    match r.get(name) {
        Some(Ok(o)) => o,
        other => panic!("{name}: {other:?}"),
    }
}

fn err<'a>(r: &'a SyncReport, name: &str) -> &'a FeedError {
    match r.get(name) {
        Some(Err(e)) => e,
        other => panic!("{name}: expected an error, got {other:?}"),
    }
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn zip_ids(zip: &[u8]) -> Vec<String> {
    let a = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    a.file_names()
        .filter_map(|n| n.strip_suffix(".json"))
        .map(str::to_string)
        .collect()
}

fn part_files(dir: &Path) -> Vec<PathBuf> {
    snapshot(dir)
        .into_keys()
        .filter(|p| p.to_string_lossy().contains(".part"))
        .collect()
}

#[test]
fn second_sync_is_conditional_and_transfers_nothing() {
    let Some(f) = feeds("second_sync_is_conditional_and_transfers_nothing") else {
        return;
    };
    let srv = serve(&f);
    let data = tempfile::tempdir().unwrap();
    let cfg = config(&srv);

    let mut download_events = 0;
    let r1 = sync(data.path(), &cfg, &mut |p| {
        if let patchpilot_feeds::Progress::Download { done, total, .. } = p {
            assert!(total.is_none_or(|t| done <= t));
            download_events += 1;
        }
    })
    .unwrap();
    assert!(r1.is_ok(), "{r1:?}");
    assert!(download_events > 3);
    let ids = zip_ids(&f.zip);
    let osv = ok(&r1, "osv/crates.io");
    assert!(osv.full_import && osv.changed && osv.fetched.is_empty());
    assert_eq!(osv.records, ids.len());
    let db = Database::open(data.path()).unwrap();
    assert_eq!(db.len(), ids.len());
    assert!(ids.iter().all(|id| db.get(id).is_some()));
    let kev_n = patchpilot_intel::parse_kev(&f.kev).unwrap().len();
    let epss_n = patchpilot_intel::parse_epss(&f.epss).unwrap().len();
    assert_eq!(ok(&r1, "kev").records, kev_n);
    assert_eq!(ok(&r1, "epss").records, epss_n);
    assert_eq!(fs::read(kev_file(data.path())).unwrap(), f.kev);
    assert_eq!(fs::read(epss_file(data.path())).unwrap(), f.epss);
    let first = srv.take_log();
    assert!(first.iter().all(|h| h.status == 200), "{first:?}");
    assert_eq!(
        first.iter().map(|h| h.bytes).sum::<usize>(),
        f.zip.len() + f.index.len() + f.kev.len() + f.epss.len()
    );

    let before = snapshot(data.path());
    let r2 = run(data.path(), &cfg);
    assert!(r2.is_ok(), "{r2:?}");
    for s in &r2.sources {
        let o = s.result.as_ref().unwrap();
        assert!(!o.changed && o.transferred == 0, "{}: {o:?}", s.name);
    }
    let second = srv.take_log();
    let paths: BTreeSet<&str> = second.iter().map(|h| h.path.as_str()).collect();
    // all.zip is not asked for again: increments go through modified_id.csv.
    assert_eq!(paths, BTreeSet::from([INDEX, KEV, EPSS]));
    assert!(
        second.iter().all(|h| h.status == 304 && h.bytes == 0),
        "{second:?}"
    );
    assert!(second.iter().all(|h| h.if_none_match.is_some()));
    let after = snapshot(data.path());
    for (p, bytes) in &before {
        if !p.ends_with("state.json") {
            assert_eq!(after.get(p), Some(bytes), "{} changed", p.display());
        }
    }

    let st = status(data.path()).unwrap();
    let got: Vec<(&str, usize)> = st.iter().map(|s| (s.name.as_str(), s.records)).collect();
    assert_eq!(
        got,
        [
            ("epss", epss_n),
            ("kev", kev_n),
            ("osv/crates.io", ids.len())
        ]
    );
    assert!(st.iter().all(|s| s.age_secs < 600 && s.synced_at > 0));
    // A forced full refresh still asks conditionally: the archive has not changed.
    let mut full = cfg.clone();
    full.osv_full_refresh = true;
    let r3 = run(data.path(), &full);
    assert!(!ok(&r3, "osv/crates.io").full_import);
    let third = srv.take_log();
    let zip_hit = third.iter().find(|h| h.path == ZIP).unwrap();
    assert_eq!((zip_hit.status, zip_hit.bytes), (304, 0));

    let osv_st = &st[2];
    let newest = osv_st.newest_modified.as_deref().unwrap();
    let first_row = String::from_utf8_lossy(&f.index)
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(first_row.split(',').next(), Some(newest));
}

#[test]
fn interrupted_download_is_resumed_by_the_next_sync() {
    let Some(f) = feeds("interrupted_download_is_resumed_by_the_next_sync") else {
        return;
    };
    let cases: [(&str, &str, &[u8], &str); 3] = [
        ("kev", KEV, &f.kev, "feeds/kev.json.part"),
        ("epss", EPSS, &f.epss, "feeds/epss.csv.gz.part"),
        ("osv", ZIP, &f.zip, "feeds/osv/crates.io/all.zip.part"),
    ];
    for (source, path, original, part) in cases {
        let srv = serve(&f);
        let data = tempfile::tempdir().unwrap();
        let mut cfg = only(&srv, source);
        cfg.retries = 0;
        let cut = original.len() / 3;
        srv.fault(path, Fault::DropAfter(cut));
        let name = if source == "osv" {
            "osv/crates.io"
        } else {
            source
        };

        let r1 = run(data.path(), &cfg);
        let e = err(&r1, name).to_string();
        assert!(
            e.contains(&srv.url(path)) && e.contains("after 1 attempts"),
            "{e}"
        );
        assert_eq!(
            fs::read(data.path().join(part)).unwrap(),
            original[..cut],
            "{source}"
        );
        srv.take_log();

        let r2 = run(data.path(), &cfg);
        let o = ok(&r2, name);
        assert_eq!(o.resumed_from, Some(cut as u64), "{source}");
        let log = srv.take_log();
        let hit = log.iter().find(|h| h.path == path).unwrap();
        assert_eq!(hit.status, 206, "{source}");
        assert_eq!(hit.range.as_deref(), Some(format!("bytes={cut}-").as_str()));
        assert_eq!(
            hit.if_range,
            srv.etag(path),
            "{source}: If-Range carries the ETag"
        );
        assert_eq!(
            hit.bytes,
            original.len() - cut,
            "{source}: only the rest moved"
        );
        assert!(part_files(data.path()).is_empty(), "{source}");
        match source {
            "kev" => assert_eq!(fs::read(kev_file(data.path())).unwrap(), original),
            "epss" => assert_eq!(fs::read(epss_file(data.path())).unwrap(), original),
            _ => {
                let db = Database::open(data.path()).unwrap();
                assert_eq!(db.len(), zip_ids(original).len());
            }
        }
    }
}

#[test]
fn dropped_connections_are_resumed_within_one_sync() {
    let Some(f) = feeds("dropped_connections_are_resumed_within_one_sync") else {
        return;
    };
    let srv = serve(&f);
    let data = tempfile::tempdir().unwrap();
    let cfg = only(&srv, "epss");
    srv.fault(EPSS, Fault::DropAfter(10_000));
    srv.fault(EPSS, Fault::DropAfter(20_000));
    let r = run(data.path(), &cfg);
    assert_eq!(ok(&r, "epss").resumed_from, Some(30_000));
    let log = srv.take_log();
    let got: Vec<(u16, Option<&str>, usize)> = log
        .iter()
        .map(|h| (h.status, h.range.as_deref(), h.bytes))
        .collect();
    assert_eq!(
        got,
        [
            (200, None, 10_000),
            (206, Some("bytes=10000-"), 20_000),
            (206, Some("bytes=30000-"), f.epss.len() - 30_000),
        ]
    );
    assert_eq!(fs::read(epss_file(data.path())).unwrap(), f.epss);
}

#[test]
fn resume_starts_over_when_the_file_changed_upstream() {
    let Some(f) = feeds("resume_starts_over_when_the_file_changed_upstream") else {
        return;
    };
    let srv = serve(&f);
    let data = tempfile::tempdir().unwrap();
    let mut cfg = only(&srv, "kev");
    cfg.retries = 0;
    srv.fault(KEV, Fault::DropAfter(100_000));
    assert!(!run(data.path(), &cfg).is_ok());
    let old_etag = srv.etag(KEV);
    srv.put(KEV, f.kev_old.clone());
    srv.take_log();

    let r = run(data.path(), &cfg);
    let o = ok(&r, "kev");
    assert_eq!(o.resumed_from, None);
    let log = srv.take_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].range.as_deref(), Some("bytes=100000-"));
    assert_eq!(log[0].if_range, old_etag);
    assert_eq!((log[0].status, log[0].bytes), (200, f.kev_old.len()));
    assert_eq!(fs::read(kev_file(data.path())).unwrap(), f.kev_old);
    assert_eq!(
        o.records,
        patchpilot_intel::parse_kev(&f.kev_old).unwrap().len()
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn corrupt_or_truncated_downloads_are_rejected_and_old_data_kept() {
    let Some(f) = feeds("corrupt_or_truncated_downloads_are_rejected_and_old_data_kept") else {
        return;
    };
    let srv = serve(&f);
    let data = tempfile::tempdir().unwrap();
    let r = run(data.path(), &config(&srv));
    assert!(r.is_ok(), "{r:?}");
    let good = snapshot(data.path());
    assert!(good.contains_key(Path::new("advisories.db")));

    // A record listed as newer whose JSON is garbage.
    let bad_id = "RUSTSEC-2099-0001";
    let mut newer_index = format!("2099-01-01T00:00:00Z,{bad_id}\n").into_bytes();
    newer_index.extend_from_slice(&f.index);

    // (source, path, fault, words the error must contain)
    let cases: Vec<(&str, &str, Fault, &str)> = vec![
        (
            "kev",
            KEV,
            Fault::Body(b"<html>Service moved</html>".to_vec()),
            "KEV",
        ),
        (
            "kev",
            KEV,
            Fault::Body(br#"{"title":"x","count":1}"#.to_vec()),
            "KEV",
        ),
        ("kev", KEV, Fault::Truncate(f.kev.len() / 2), "KEV"),
        ("epss", EPSS, Fault::Truncate(f.epss.len() - 1000), "gzip"),
        ("epss", EPSS, Fault::Truncate(5), "EPSS"),
        (
            "epss",
            EPSS,
            Fault::Body(gzip(b"cve,epss,percentile\nnot-a-cve,2,3\n")),
            "EPSS",
        ),
        ("epss", EPSS, Fault::Body(b"garbage".to_vec()), "EPSS"),
        (
            "osv-full",
            ZIP,
            Fault::Body(b"PK\x03\x04 not really a zip".to_vec()),
            "zip",
        ),
        ("osv-full", ZIP, Fault::Truncate(f.zip.len() / 2), "zip"),
        (
            "osv",
            INDEX,
            Fault::Body(b"<html>oops</html>\n".to_vec()),
            "modified_id.csv line 1",
        ),
        (
            "osv",
            INDEX,
            Fault::Body(newer_index),
            "RUSTSEC-2099-0001.json",
        ),
        ("kev", KEV, Fault::Status(404), "404"),
    ];
    let n = cases.len();
    for (source, path, fault, want) in cases {
        let mut cfg = only(&srv, source.trim_end_matches("-full"));
        cfg.osv_full_refresh = source == "osv-full";
        let label = format!("{source} {fault:?}");
        let label = &label[..label.len().min(80)];
        if path == INDEX && want.contains(bad_id) {
            srv.put(
                &format!("/osv/crates.io/{bad_id}.json"),
                b"{\"id\": 5".to_vec(),
            );
        }
        srv.fault(path, fault);
        srv.take_log();
        let r = run(data.path(), &cfg);
        let (_, e) = r
            .errors()
            .next()
            .unwrap_or_else(|| panic!("{label}: no error"));
        let msg = e.to_string();
        assert!(msg.contains("http://127.0.0.1:"), "{label}: {msg}");
        assert!(msg.contains(want), "{label}: {msg}");
        assert!(!msg.contains('\n'), "{label}: one line: {msg}");
        assert_eq!(snapshot(data.path()), good, "{label}: data changed");
        if path == KEV && want == "404" {
            assert_eq!(srv.take_log().len(), 1, "a 404 is not retried");
        }
    }
    // The good data still syncs conditionally afterwards.
    let r = run(data.path(), &config(&srv));
    assert!(r.is_ok(), "{r:?}");
    eprintln!("checked {n} corrupt-download cases");
}

#[test]
fn incremental_osv_update_fetches_only_newer_records() {
    let Some(f) = feeds("incremental_osv_update_fetches_only_newer_records") else {
        return;
    };
    let index = String::from_utf8(f.index.clone()).unwrap();
    let rows: Vec<(patchpilot_osv::Timestamp, &str)> = index
        .lines()
        .map(|l| {
            let (t, id) = l.split_once(',').unwrap();
            (patchpilot_osv::Timestamp::parse(t).unwrap(), id)
        })
        .collect();
    // The newest few records, cut at a timestamp boundary so the rest are all older.
    let mut times: Vec<_> = rows.iter().map(|r| r.0).collect();
    times.sort_unstable_by(|a, b| b.cmp(a));
    times.dedup();
    let cut = times
        .iter()
        .find(|&&t| rows.iter().filter(|r| r.0 >= t).count() >= 3)
        .copied()
        .unwrap();
    let newer: BTreeSet<&str> = rows.iter().filter(|r| r.0 >= cut).map(|r| r.1).collect();
    assert!((3..100).contains(&newer.len()), "{}", newer.len());

    // An older snapshot: all.zip and modified_id.csv without those records.
    let mut src = zip::ZipArchive::new(std::io::Cursor::new(&f.zip)).unwrap();
    let mut small = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..src.len() {
        let mut e = src.by_index(i).unwrap();
        let id = e.name().trim_end_matches(".json").to_string();
        if newer.contains(id.as_str()) {
            continue;
        }
        let mut buf = Vec::new();
        e.read_to_end(&mut buf).unwrap();
        small
            .start_file(e.name(), zip::write::SimpleFileOptions::default())
            .unwrap();
        small.write_all(&buf).unwrap();
    }
    let small = small.finish().unwrap().into_inner();
    let old_index: String = index
        .lines()
        .filter(|l| !newer.contains(l.split_once(',').unwrap().1))
        .map(|l| format!("{l}\n"))
        .collect();

    let srv = serve(&f);
    srv.put(ZIP, small);
    srv.put(INDEX, old_index.into_bytes());
    let data = tempfile::tempdir().unwrap();
    let cfg = only(&srv, "osv");
    let total = zip_ids(&f.zip).len();

    let r1 = run(data.path(), &cfg);
    let o1 = ok(&r1, "osv/crates.io");
    assert!(o1.full_import && o1.fetched.is_empty(), "{o1:?}");
    assert_eq!(o1.records, total - newer.len());
    let db = Database::open(data.path()).unwrap();
    assert_eq!(db.len(), total - newer.len());
    assert!(newer.iter().all(|id| db.get(id).is_none()));
    srv.take_log();

    // Upstream moves on: the full index lists the newer records first.
    srv.put(INDEX, f.index.clone());
    let r2 = run(data.path(), &cfg);
    let o2 = ok(&r2, "osv/crates.io");
    assert!(!o2.full_import && o2.changed);
    let fetched: BTreeSet<&str> = o2.fetched.iter().map(String::as_str).collect();
    assert_eq!(fetched, newer);
    assert_eq!(o2.records, total);
    let log = srv.take_log();
    let requested: BTreeSet<&str> = log
        .iter()
        .filter_map(|h| {
            h.path
                .strip_prefix("/osv/crates.io/")?
                .strip_suffix(".json")
        })
        .collect();
    assert_eq!(requested, newer, "exactly the newer records were fetched");
    assert_eq!(
        log.len(),
        newer.len() + 1,
        "plus modified_id.csv, and no all.zip"
    );
    let db = Database::open(data.path()).unwrap();
    assert_eq!(db.len(), total);
    // The synced all.zip covers crates.io; the increment's records do not take that away.
    let c = db.coverage(&patchpilot_osv::Ecosystem::CratesIo, None);
    assert_eq!(
        (c.state, c.sources.as_slice()),
        (
            patchpilot_advisory_db::CoverageState::Covered,
            &["crates.io/all.zip".to_string()][..]
        )
    );
    for (t, id) in rows.iter().filter(|r| newer.contains(r.1)) {
        let a = db.get(id).unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(a.modified_time(), Some(*t), "{id}");
    }
    assert_eq!(
        status(data.path()).unwrap()[0].newest_modified.as_deref(),
        index.lines().next().unwrap().split(',').next()
    );

    // Nothing new: one 304 and no record requests.
    let r3 = run(data.path(), &cfg);
    assert!(ok(&r3, "osv/crates.io").fetched.is_empty());
    let log = srv.take_log();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].path.as_str(), log[0].status), (INDEX, 304));
}

#[test]
fn too_many_changes_fall_back_to_all_zip() {
    let Some(f) = feeds("too_many_changes_fall_back_to_all_zip") else {
        return;
    };
    let srv = serve(&f);
    let data = tempfile::tempdir().unwrap();
    let mut cfg = only(&srv, "osv");
    assert!(run(data.path(), &cfg).is_ok());

    // Upstream re-modified every record: a new all.zip and an index listing them all.
    let bumped_at = "2099-01-01T00:00:00Z";
    let mut src = zip::ZipArchive::new(std::io::Cursor::new(&f.zip)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut index = String::new();
    for i in 0..src.len() {
        let mut e = src.by_index(i).unwrap();
        let mut v: serde_json::Value = serde_json::from_reader(&mut e).unwrap();
        v["modified"] = bumped_at.into();
        index.push_str(&format!("{bumped_at},{}\n", v["id"].as_str().unwrap()));
        out.start_file(e.name(), zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(v.to_string().as_bytes()).unwrap();
    }
    srv.put(ZIP, out.finish().unwrap().into_inner());
    srv.put(INDEX, index.into_bytes());
    cfg.osv_max_incremental = 10;
    srv.take_log();

    let r = run(data.path(), &cfg);
    let o = ok(&r, "osv/crates.io");
    assert!(o.full_import && o.fetched.is_empty(), "{o:?}");
    let log = srv.take_log();
    let paths: Vec<(&str, u16)> = log
        .iter()
        .map(|h| (&h.path[h.path.rfind('/').unwrap() + 1..], h.status))
        .collect();
    // The index, then the archive instead of 1,206 single records, then the index again
    // against the new watermark (not conditional: the watermark moved).
    assert_eq!(
        paths,
        [
            ("modified_id.csv", 200),
            ("all.zip", 200),
            ("modified_id.csv", 200)
        ]
    );
    let db = Database::open(data.path()).unwrap();
    assert!(db.advisories().iter().all(|a| a.modified == bumped_at));
    assert_eq!(db.len(), zip_ids(&f.zip).len());
}

#[test]
fn retries_with_backoff_on_503() {
    let Some(f) = feeds("retries_with_backoff_on_503") else {
        return;
    };
    let srv = serve(&f);
    let data = tempfile::tempdir().unwrap();
    let mut cfg = only(&srv, "kev");
    cfg.retries = 3;
    cfg.backoff = Duration::from_millis(40);
    cfg.backoff_max = Duration::from_secs(1);
    srv.fault(KEV, Fault::Status(503));
    srv.fault(KEV, Fault::Status(503));
    let t = Instant::now();
    let r = run(data.path(), &cfg);
    assert!(
        t.elapsed() >= Duration::from_millis(40 + 80),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(
        ok(&r, "kev").records,
        patchpilot_intel::parse_kev(&f.kev).unwrap().len()
    );
    let statuses: Vec<u16> = srv.take_log().iter().map(|h| h.status).collect();
    assert_eq!(statuses, [503, 503, 200]);

    // Bounded: it gives up after `retries`, and the file from before stays.
    cfg.retries = 2;
    cfg.backoff = Duration::from_millis(1);
    for _ in 0..5 {
        srv.fault(KEV, Fault::Status(503));
    }
    srv.put(KEV, f.kev_old.clone());
    let r = run(data.path(), &cfg);
    let e = err(&r, "kev").to_string();
    assert!(e.contains("503") && e.contains("after 3 attempts"), "{e}");
    assert_eq!(srv.take_log().len(), 3);
    assert_eq!(fs::read(kev_file(data.path())).unwrap(), f.kev);
}

#[test]
fn size_limit_is_enforced_without_retrying() {
    let Some(f) = feeds("size_limit_is_enforced_without_retrying") else {
        return;
    };
    let srv = serve(&f);
    let data = tempfile::tempdir().unwrap();
    let mut cfg = only(&srv, "kev");
    cfg.max_bytes = 1000;
    let r = run(data.path(), &cfg);
    let e = err(&r, "kev");
    assert!(matches!(e, FeedError::TooLarge { limit: 1000, .. }), "{e}");
    assert_eq!(srv.take_log().len(), 1);
    assert!(!kev_file(data.path()).exists());
    assert!(part_files(data.path()).is_empty());
    assert!(f.kev.len() > 1000);
}

#[test]
fn unreachable_server_is_a_clear_error() {
    // Bind and drop to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = tempfile::tempdir().unwrap();
    let cfg = Config {
        ecosystems: vec![],
        kev_url: Some(format!("http://127.0.0.1:{port}/kev.json")),
        epss_url: None,
        retries: 1,
        backoff: Duration::from_millis(1),
        ..Config::default()
    };
    let r = run(data.path(), &cfg);
    let e = err(&r, "kev").to_string();
    assert!(
        e.starts_with(&format!("http://127.0.0.1:{port}/kev.json: ")),
        "{e}"
    );
    assert!(e.contains("after 2 attempts"), "{e}");
}
