//! Parse the three real OSV feeds (osv.dev bucket layout `ECOSYSTEM/all.zip`) and
//! cross-check each record against the raw JSON and the feed's `modified_id.csv`.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use patchpilot_osv::{parse_json, AdvisoryKind, Ecosystem, SeverityType};
use serde_json::Value;

struct FeedStats {
    records: usize,
    withdrawn: usize,
    kinds: BTreeMap<AdvisoryKind, usize>,
    scored: usize,
}

fn check_feed(
    test: &str,
    eco: &str,
    want_records: usize,
    want_ecosystem: Ecosystem,
) -> Option<FeedStats> {
    let zip_path = patchpilot_testdata::shared_file(test, &format!("feeds/osv/{eco}/all.zip"))?;
    let csv_path =
        patchpilot_testdata::shared_file(test, &format!("feeds/osv/{eco}/modified_id.csv"))?;
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let modified_by_id: HashMap<&str, &str> = csv
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (m, id) = l.split_once(',').expect("modified,id");
            (id, m)
        })
        .collect();

    let file = std::fs::File::open(&zip_path).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut errors = Vec::new();
    let mut stats = FeedStats {
        records: 0,
        withdrawn: 0,
        kinds: BTreeMap::new(),
        scored: 0,
    };
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let name = entry.name().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        let a = match parse_json(&bytes) {
            Ok(a) => a,
            Err(e) => {
                errors.push(format!("{eco}/{name}: {e}"));
                continue;
            }
        };
        stats.records += 1;
        let raw: Value = serde_json::from_slice(&bytes).unwrap();

        assert_eq!(format!("{}.json", a.id), name);
        assert_eq!(
            modified_by_id.get(a.id.as_str()),
            Some(&a.modified.as_str()),
            "{name}"
        );
        assert!(a.modified_time().is_some());
        assert_eq!(
            a.withdrawn.is_some(),
            raw.get("withdrawn").is_some(),
            "{name}"
        );
        stats.withdrawn += usize::from(a.is_withdrawn());
        *stats.kinds.entry(a.kind).or_default() += 1;

        // Structure is carried over one-to-one.
        let raw_aff = raw["affected"].as_array().map_or(&[][..], |v| v);
        assert_eq!(a.affected.len(), raw_aff.len(), "{name}");
        for (af, raw_af) in a.affected.iter().zip(raw_aff) {
            assert_eq!(af.ecosystem, want_ecosystem, "{name}");
            assert_eq!(Some(af.name.as_str()), raw_af["package"]["name"].as_str());
            let raw_ranges = raw_af["ranges"].as_array().map_or(&[][..], |v| v);
            assert_eq!(af.ranges.len(), raw_ranges.len(), "{name}");
            for (r, raw_r) in af.ranges.iter().zip(raw_ranges) {
                assert_eq!(r.events.len(), raw_r["events"].as_array().unwrap().len());
                assert_eq!(r.repo.as_deref(), raw_r["repo"].as_str());
            }
            let raw_versions = raw_af["versions"].as_array().map_or(0, Vec::len);
            assert_eq!(af.versions.len(), raw_versions, "{name}");
            // RustSec's informational flag decides the kind.
            if let Some(info) = raw_af["database_specific"]["informational"].as_str() {
                assert_ne!(a.kind, AdvisoryKind::Vulnerability, "{name}: {info}");
            }
        }
        // Every CVSS v3/v4 vector in these feeds is well-formed and must score.
        for s in &a.severity {
            if matches!(s.ty, SeverityType::CvssV3 | SeverityType::CvssV4) {
                let score = s
                    .base_score
                    .unwrap_or_else(|| panic!("{name}: unscored {}", s.score));
                assert!((0.0..=10.0).contains(&score));
                assert!(s.level.is_some());
                stats.scored += 1;
            }
        }
        if let Some(best) = a.cvss_vector() {
            assert!(a.severity_level().is_some(), "{name}");
            assert!(best.base_score.is_some());
        }
        // JSON blobs are kept as text that round-trips to the same value.
        if let Some(ds) = &a.database_specific {
            let back: Value = serde_json::from_str(ds).unwrap();
            assert_eq!(back, raw["database_specific"], "{name}");
        }
    }
    assert!(
        errors.is_empty(),
        "{} errors in {eco}:\n{}",
        errors.len(),
        errors.join("\n")
    );
    assert_eq!(stats.records, want_records, "{eco}");
    assert_eq!(modified_by_id.len(), want_records, "{eco} csv");
    eprintln!(
        "{eco}: {} records parsed, 0 errors, {} withdrawn, {} CVSS vectors scored, kinds {:?}",
        stats.records, stats.withdrawn, stats.scored, stats.kinds
    );
    Some(stats)
}

#[test]
fn crates_io_feed_parses() {
    let Some(s) = check_feed(
        "crates_io_feed_parses",
        "crates.io",
        1206,
        Ecosystem::CratesIo,
    ) else {
        return;
    };
    // RustSec has all four kinds.
    for k in [
        AdvisoryKind::Vulnerability,
        AdvisoryKind::Unmaintained,
        AdvisoryKind::Unsound,
        AdvisoryKind::Notice,
    ] {
        assert!(s.kinds.get(&k).copied().unwrap_or(0) > 0, "{k:?}");
    }
    assert!(s.scored > 0);
}

#[test]
fn go_feed_parses() {
    let Some(s) = check_feed("go_feed_parses", "Go", 4291, Ecosystem::Go) else {
        return;
    };
    assert_eq!(s.kinds.len(), 1, "Go vulndb has only vulnerabilities");
}

#[test]
fn pypi_feed_parses() {
    let Some(s) = check_feed("pypi_feed_parses", "PyPI", 2661, Ecosystem::PyPI) else {
        return;
    };
    assert_eq!(s.kinds.len(), 1);
    assert!(s.scored > 0);
}
