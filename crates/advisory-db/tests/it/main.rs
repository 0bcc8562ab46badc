//! The advisory database through its public API: real feeds, failed imports that must
//! change nothing, malformed records, YAML, merging, corruption, concurrent imports.

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

use patchpilot_advisory_db::{import, Database, DbError, ImportSummary, Progress, SourceKind};
use patchpilot_osv::{Advisory, AdvisoryKind, SeverityLevel};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn run(data_dir: &Path, paths: &[PathBuf]) -> Result<ImportSummary, DbError> {
    import(data_dir, paths, &mut |_| {})
}

/// A small zip of `(name, bytes)` entries, stored (uncompressed) so tests can corrupt it.
fn make_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn record(id: &str, modified: &str) -> Vec<u8> {
    serde_json::json!({
        "id": id, "modified": modified,
        "affected": [{"package": {"ecosystem": "PyPI", "name": "zipped"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1"}]}]}]
    })
    .to_string()
    .into_bytes()
}

fn parse_zip(path: &Path) -> Vec<Advisory> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut bytes = Vec::new();
        zip.by_index(i).unwrap().read_to_end(&mut bytes).unwrap();
        out.push(patchpilot_osv::parse_json(&bytes).unwrap());
    }
    out
}

#[test]
fn real_feeds_import_reopen_and_reimport() {
    let test = "real_feeds_import_reopen_and_reimport";
    let feeds = [("crates.io", 1206), ("Go", 4291), ("PyPI", 2661)];
    let mut paths = Vec::new();
    for (eco, _) in feeds {
        let Some(p) = patchpilot_testdata::shared_file(test, &format!("feeds/osv/{eco}/all.zip"))
        else {
            return;
        };
        paths.push(p);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut events = Vec::new();
    let s = import(dir.path(), &paths, &mut |p| {
        if !matches!(p, Progress::Record) {
            events.push(p)
        }
    })
    .unwrap();
    assert!(
        s.rejected.is_empty(),
        "{:?}",
        &s.rejected[..s.rejected.len().min(5)]
    );
    assert_eq!(s.imported, 8158);
    assert_eq!((s.added, s.updated, s.kept_newer), (8158, 0, 0));
    assert_eq!(s.total_in_db, 8158);
    assert_eq!(s.discarded, None);
    for ((eco, count), src) in feeds.iter().zip(&s.sources) {
        assert_eq!(src.name, format!("{eco}/all.zip"));
        assert_eq!(src.kind, SourceKind::Zip);
        assert_eq!((src.records, src.rejected), (*count, 0), "{eco}");
    }
    assert_eq!(
        events[0],
        Progress::Start {
            source: "crates.io/all.zip".into(),
            records: 1206
        }
    );
    assert_eq!(events.len(), 6);

    // Reopen: exactly the records of the feeds, sorted by id, with the sources.
    let db = Database::open(dir.path()).unwrap();
    assert_eq!(db.len(), 8158);
    let mut direct: Vec<Advisory> = paths.iter().flat_map(|p| parse_zip(p)).collect();
    direct.sort_by(|a, b| a.id.cmp(&b.id));
    assert!(
        db.advisories() == direct.as_slice(),
        "stored records differ from parsed ones"
    );
    assert_eq!(db.sources(), s.sources.as_slice());
    let a = db.get("RUSTSEC-2016-0001").unwrap();
    assert_eq!(a.affected[0].name, "openssl");
    assert_eq!(
        db.find("CVE-2016-10931").map(|a| a.id.as_str()),
        Some("RUSTSEC-2016-0001")
    );
    let kinds = db
        .advisories()
        .iter()
        .filter(|a| a.kind == AdvisoryKind::Unmaintained)
        .count();
    assert!(kinds > 0);
    let size = std::fs::metadata(db.path()).unwrap().len();
    eprintln!("8158 records, advisories.db = {size} bytes");

    // Re-import is idempotent.
    let s2 = run(dir.path(), &paths).unwrap();
    assert_eq!(
        (s2.imported, s2.added, s2.updated, s2.kept_newer),
        (8158, 0, 8158, 0)
    );
    assert_eq!(s2.total_in_db, 8158);
    let db2 = Database::open(dir.path()).unwrap();
    assert!(db2.advisories() == db.advisories());
    assert_eq!(
        db2.sources().len(),
        3,
        "a re-imported source replaces its entry"
    );
}

#[test]
fn malformed_record_is_reported_and_the_rest_imports() {
    let dir = tempfile::tempdir().unwrap();
    let s = run(dir.path(), &[fixture("mixed-dir")]).unwrap();
    assert_eq!(
        s.imported, 2,
        "RUSTSEC-2099-0001.json and sub/PYSEC-2099-1.yaml"
    );
    assert_eq!(s.rejected.len(), 1);
    let r = &s.rejected[0];
    assert!(
        r.name.ends_with("mixed-dir/bad-no-introduced.json"),
        "{}",
        r.name
    );
    assert_eq!(r.reason, "affected[0].ranges[0]: has no `introduced` event");
    assert_eq!(s.sources[0].kind, SourceKind::Directory);
    assert_eq!((s.sources[0].records, s.sources[0].rejected), (2, 1));

    let db = Database::open(dir.path()).unwrap();
    let ids: Vec<&str> = db.advisories().iter().map(|a| a.id.as_str()).collect();
    // Hidden directories and non-record files are skipped.
    assert_eq!(ids, ["PYSEC-2099-1", "RUSTSEC-2099-0001"]);
    let py = db.get("PYSEC-2099-1").unwrap();
    assert_eq!(py.affected[0].versions, ["1.0", "2.0.0"]);
    assert_eq!(
        db.get("RUSTSEC-2099-0001").unwrap().severity[0].base_score,
        Some(9.8)
    );
}

#[test]
fn malformed_record_in_zip_is_named_by_archive_and_entry() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("PyPI");
    std::fs::create_dir(&feed).unwrap();
    let zip = make_zip(&[
        ("Z-1.json", &record("Z-1", "2024-01-01T00:00:00Z")),
        ("Z-2.json", br#"{"id": "Z-2"}"#),
        ("README.txt", b"not a record"),
    ]);
    std::fs::write(feed.join("all.zip"), zip).unwrap();
    let s = run(&dir.path().join("data"), &[feed.join("all.zip")]).unwrap();
    assert_eq!(s.imported, 1);
    assert_eq!(s.rejected.len(), 1);
    assert_eq!(s.rejected[0].name, "PyPI/all.zip:Z-2.json");
    assert_eq!(s.rejected[0].reason, "missing required field `modified`");
}

#[test]
fn yaml_record_import() {
    let dir = tempfile::tempdir().unwrap();
    let s = run(
        dir.path(),
        &[fixture("yaml-record/GHSA-fixt-ure0-yaml.yml")],
    )
    .unwrap();
    assert_eq!((s.imported, s.rejected.len()), (1, 0));
    assert_eq!(s.sources[0].kind, SourceKind::File);
    let db = Database::open(dir.path()).unwrap();
    let a = db.find("CVE-2099-2000").unwrap();
    assert_eq!(a.id, "GHSA-fixt-ure0-yaml");
    assert_eq!(a.severity[0].base_score, Some(9.3));
    assert_eq!(a.severity_level(), Some(SeverityLevel::Critical));
    assert_eq!(
        a.database_specific.as_deref(),
        Some(r#"{"severity":"CRITICAL"}"#)
    );
}

#[test]
fn failed_imports_leave_the_database_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    run(&data, &[fixture("mixed-dir")]).unwrap();
    let db_file = data.join(patchpilot_advisory_db::FILE_NAME);
    let before = std::fs::read(&db_file).unwrap();

    let good_zip = make_zip(&[
        ("A-1.json", &record("A-1", "2024-01-01T00:00:00Z")),
        ("A-2.json", &record("A-2", "2024-01-01T00:00:00Z")),
    ]);
    // Flip a byte inside the second entry's stored data: its CRC no longer matches.
    let mut bad_crc = good_zip.clone();
    let at = bad_crc
        .windows(4)
        .rposition(|w| w == b"A-2\"")
        .expect("second record's id in the stored data");
    bad_crc[at] = b'B';
    let inputs: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "garbage.zip",
            b"this is not a zip archive at all".to_vec(),
            "not a zip archive",
        ),
        (
            "truncated.zip",
            good_zip[..good_zip.len() / 2].to_vec(),
            "not a zip archive",
        ),
        ("empty.zip", Vec::new(), "not a zip archive"),
        ("bad-crc.zip", bad_crc, "corrupt entry A-2.json"),
        ("feed.txt", b"id,modified".to_vec(), "unsupported input"),
    ];
    for (name, bytes, want) in &inputs {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        // The good source comes first: it must not be half-imported.
        let err = run(&data, &[fixture("yaml-record"), p.clone()]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with(&p.display().to_string()), "{name}: {msg}");
        assert!(msg.contains(want), "{name}: {msg}");
        assert!(!msg.contains('\n'), "{name}: {msg}");
        assert_eq!(
            std::fs::read(&db_file).unwrap(),
            before,
            "{name} changed the database"
        );
    }
    let missing = dir.path().join("no-such/all.zip");
    let err = run(&data, &[fixture("yaml-record"), missing.clone()]).unwrap_err();
    assert!(
        matches!(&err, DbError::Io { path, .. } if path == &missing),
        "{err}"
    );
    assert!(err.to_string().starts_with(&missing.display().to_string()));
    assert_eq!(std::fs::read(&db_file).unwrap(), before);
    // No temp files left behind.
    let names: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");

    // The zip itself, uncorrupted, imports fine.
    std::fs::write(dir.path().join("good.zip"), &good_zip).unwrap();
    let s = run(&data, &[dir.path().join("good.zip")]).unwrap();
    assert_eq!((s.imported, s.total_in_db), (2, 4));
}

#[test]
fn newer_or_equal_modified_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let summary = |s: &ImportSummary| (s.added, s.updated, s.kept_newer);
    let s = run(dir.path(), &[fixture("merge/new.json")]).unwrap();
    assert_eq!(summary(&s), (1, 0, 0));
    // Older: kept out.
    let s = run(dir.path(), &[fixture("merge/old.json")]).unwrap();
    assert_eq!(summary(&s), (0, 0, 1));
    let db = Database::open(dir.path()).unwrap();
    assert_eq!(db.get("MERGE-1").unwrap().summary.as_deref(), Some("new"));
    // Equal: replaces. Within one import, the later input wins on ties too.
    let s = run(
        dir.path(),
        &[fixture("merge/old.json"), fixture("merge/new.json")],
    )
    .unwrap();
    assert_eq!(summary(&s), (0, 1, 1));
    let db = Database::open(dir.path()).unwrap();
    assert_eq!(db.get("MERGE-1").unwrap().summary.as_deref(), Some("new"));
    assert_eq!(db.len(), 1);
    assert_eq!(db.sources().len(), 2, "one entry per source path");
}

#[test]
fn open_missing_database_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&dir.path().join("never-created")).unwrap();
    assert!(db.is_empty());
    assert_eq!(db.len(), 0);
    assert!(db.sources().is_empty());
    assert!(db.written_at().is_none());
    assert!(db.get("X").is_none() && db.find("X").is_none());
}

#[test]
fn corrupt_or_foreign_database_gives_a_clear_error_and_import_recovers() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &[fixture("mixed-dir")]).unwrap();
    let db_file = dir.path().join(patchpilot_advisory_db::FILE_NAME);
    let good = std::fs::read(&db_file).unwrap();

    let version_msg = format!(
        "database format version {}, this build reads version {}",
        patchpilot_advisory_db::FORMAT_VERSION + 1,
        patchpilot_advisory_db::FORMAT_VERSION
    );
    let mut other_version = good.clone();
    other_version[8..12]
        .copy_from_slice(&(patchpilot_advisory_db::FORMAT_VERSION + 1).to_le_bytes());
    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("other version", other_version, version_msg.as_str()),
        ("bit flip", flipped, "checksum mismatch"),
        ("truncated", good[..good.len() - 10].to_vec(), "truncated"),
        (
            "foreign file",
            b"SQLite format 3\0 and more bytes here".to_vec(),
            "bad magic",
        ),
        ("empty", Vec::new(), "too short"),
    ];
    for (what, bytes, want) in cases {
        let want = want.to_string();
        std::fs::write(&db_file, &bytes).unwrap();
        let msg = Database::open(dir.path()).unwrap_err().to_string();
        assert!(msg.contains(&want), "{what}: {msg}");
        assert!(
            msg.ends_with("run `patchpilot feeds import` again"),
            "{what}: {msg}"
        );
        assert!(
            msg.starts_with(&db_file.display().to_string()),
            "{what}: {msg}"
        );
        // Import replaces the unreadable database and says so.
        let s = run(dir.path(), &[fixture("yaml-record")]).unwrap();
        assert!(
            s.discarded.as_deref().is_some_and(|d| d.contains(&want)),
            "{what}: {:?}",
            s.discarded
        );
        assert_eq!(s.total_in_db, 1);
        assert_eq!(Database::open(dir.path()).unwrap().len(), 1);
    }
}

#[test]
fn concurrent_imports_do_not_lose_records() {
    for round in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let zips: Vec<PathBuf> = (0..4)
            .map(|t| {
                let entries: Vec<(String, Vec<u8>)> = (0..50)
                    .map(|i| {
                        let id = format!("T{t}-{i}");
                        (format!("{id}.json"), record(&id, "2024-01-01T00:00:00Z"))
                    })
                    .collect();
                let refs: Vec<(&str, &[u8])> = entries
                    .iter()
                    .map(|(n, b)| (n.as_str(), b.as_slice()))
                    .collect();
                let p = dir.path().join(format!("t{t}.zip"));
                std::fs::write(&p, make_zip(&refs)).unwrap();
                p
            })
            .collect();
        std::thread::scope(|s| {
            for z in &zips {
                let data = &data;
                s.spawn(move || run(data, std::slice::from_ref(z)).unwrap());
            }
        });
        let db = Database::open(&data).unwrap();
        assert_eq!(db.len(), 200, "round {round}");
        assert_eq!(db.sources().len(), 4, "round {round}");
    }
}

/// A scan must know what the database covers: a real all.zip covers its ecosystem, a
/// folder of records is partial (with its count), a distro release nobody imported is not
/// checked, and a re-import under the same path replaces what the source covered.
#[test]
fn every_source_records_what_it_covers() {
    use patchpilot_advisory_db::{import_converted, CoverageState, SourceCoverage};
    use patchpilot_types::Ecosystem;
    let test = "every_source_records_what_it_covers";
    let Some(zip) = patchpilot_testdata::shared_file(test, "feeds/osv/crates.io/all.zip") else {
        return;
    };
    let Some(ubuntu) = patchpilot_testdata::shared_file(test, "feeds/distro-samples/ubuntu-osv")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &[zip, ubuntu.clone()]).unwrap();
    let db = Database::open(dir.path()).unwrap();

    let c = db.coverage(&Ecosystem::CratesIo, None);
    assert_eq!(c.state, CoverageState::Covered);
    assert_eq!(
        (c.advisories, c.sources.as_slice()),
        (1206, &["crates.io/all.zip".to_string()][..])
    );

    // Two Ubuntu OSV records, one of them for 20.04: partial, counted per release.
    let c = db.coverage(&Ecosystem::Ubuntu, Some("20.04"));
    assert_eq!(c.state, CoverageState::Partial, "{c:?}");
    assert!(c.advisories >= 1, "{c:?}");
    assert_eq!(c.sources, ["ubuntu-osv"]);

    for (eco, release) in [(Ecosystem::Debian, Some("12")), (Ecosystem::PyPI, None)] {
        let c = db.coverage(&eco, release);
        assert_eq!(
            (c.state, c.advisories),
            (CoverageState::NotChecked, 0),
            "{eco}"
        );
        assert!(c.sources.is_empty());
    }

    // A tracker covers the releases it names, and only those.
    let tracker = serde_json::json!({"id": "DEBIAN-CVE-1", "modified": "2024-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"}, "versions": ["1"]}]});
    let tracker = patchpilot_osv::parse_json(tracker.to_string().as_bytes()).unwrap();
    let cover = SourceCoverage::feed_of(std::slice::from_ref(&tracker));
    import_converted(
        dir.path(),
        Path::new("debian.json"),
        "debian",
        vec![tracker],
        cover,
    )
    .unwrap();
    let db = Database::open(dir.path()).unwrap();
    let c = db.coverage(&Ecosystem::Debian, Some("12"));
    assert_eq!((c.state, c.advisories), (CoverageState::Covered, 1));
    assert_eq!(c.sources, ["debian"]);
    assert_eq!(
        db.coverage(&Ecosystem::Debian, Some("11")).state,
        CoverageState::NotChecked
    );
    // The sources say it, for `feeds status`.
    let covered: Vec<(&str, Vec<String>)> = db
        .sources()
        .iter()
        .map(|s| (s.name.as_str(), s.coverage.clone().unwrap().feed))
        .collect();
    assert_eq!(
        covered,
        [
            ("crates.io/all.zip", vec!["crates.io".to_string()]),
            ("ubuntu-osv", vec![]),
            ("debian", vec!["Debian:12".to_string()]),
        ]
    );
}
