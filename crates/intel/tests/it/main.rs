//! Integration tests on the real feeds in `../shared/data/feeds`.

use patchpilot_intel::{parse_epss, parse_kev, Date, KevCatalog, RansomwareUse};

fn read(test: &str, rel: &str) -> Option<Vec<u8>> {
    let path = patchpilot_testdata::shared_file(test, rel)?;
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Every catalog in the data set, oldest first, with the entry count CISA declared.
const CATALOGS: [(&str, &str, usize); 9] = [
    ("feeds/kev/history/2023-07-26.json", "2023.07.25", 978),
    ("feeds/kev/history/2024-01-19.json", "2024.01.18", 1069),
    ("feeds/kev/history/2024-08-20.json", "2024.08.19", 1151),
    ("feeds/kev/history/2025-01-17.json", "2025.01.16", 1250),
    ("feeds/kev/history/2025-05-28.json", "2025.05.27", 1352),
    ("feeds/kev/history/2025-11-13.json", "2025.11.12", 1459),
    ("feeds/kev/history/2026-04-03.json", "2026.04.02", 1557),
    ("feeds/kev/history/2026-08-08.json", "2026.08.07", 1662),
    (
        "feeds/kev/known_exploited_vulnerabilities.json",
        "2026.08.07",
        1662,
    ),
];

#[test]
fn all_kev_catalogs_parse_with_declared_counts() {
    let mut previous: Option<KevCatalog> = None;
    let mut checked = 0;
    let mut total_added = 0;
    for (rel, version, count) in CATALOGS {
        let Some(bytes) = read("all_kev_catalogs_parse_with_declared_counts", rel) else {
            return;
        };
        let cat = parse_kev(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(cat.version, version, "{rel}");
        assert_eq!(cat.len(), count, "{rel}");
        for e in cat.entries.values() {
            // (dueDate may precede dateAdded: the 2021-11-03 launch batch carried the
            // deadlines of earlier emergency directives, e.g. CVE-2021-34527.)
            assert!(e.date_added <= cat.released, "{rel} {}", e.cve);
        }
        if let Some(prev) = &previous {
            // CVEs kept across releases keep their listing date; the sizes add up. (CISA does
            // remove entries now and then, e.g. CVE-2022-28958 between 2023-07 and 2024-01.)
            let mut kept = 0;
            for (cve, old) in &prev.entries {
                if let Some(new) = cat.get(cve) {
                    assert_eq!(new.date_added, old.date_added, "{rel} {cve}");
                    kept += 1;
                }
            }
            let added = cat.added_since(prev);
            assert_eq!(kept + added.len(), cat.len(), "{rel}");
            assert!(kept * 100 >= prev.len() * 99, "{rel}: more than 1% removed");
            assert!(added.iter().all(|e| !prev.entries.contains_key(&e.cve)));
            total_added += added.len();
        }
        previous = Some(cat);
        checked += 1;
    }
    assert_eq!(checked, 9);
    assert!(total_added >= 1662 - 978);
    eprintln!("checked {checked} KEV catalogs, {total_added} additions");
}

#[test]
fn kev_known_entries() {
    let Some(bytes) = read(
        "kev_known_entries",
        "feeds/kev/known_exploited_vulnerabilities.json",
    ) else {
        return;
    };
    let cat = parse_kev(&bytes).unwrap();
    assert_eq!(cat.released, "2026-08-07".parse::<Date>().unwrap());
    let first = cat.get("CVE-2026-8037").expect("first entry of the file");
    assert_eq!(first.vendor, "Progress");
    assert_eq!(first.product, "LoadMaster");
    assert_eq!(first.date_added.to_string(), "2026-08-07");
    assert_eq!(first.due_date.to_string(), "2026-08-10");
    assert_eq!(first.known_ransomware_campaign_use, RansomwareUse::Unknown);
    let known = cat
        .entries
        .values()
        .filter(|e| e.ransomware_known())
        .count();
    assert_eq!(known, 338);
    // Log4Shell: listed since 2021-12-10, used by ransomware.
    let log4shell = cat.get("CVE-2021-44228").expect("Log4Shell is in KEV");
    assert_eq!(log4shell.date_added.to_string(), "2021-12-10");
    assert!(log4shell.ransomware_known());
}

#[test]
fn kev_2023_catalog_has_no_ransomware_field() {
    let Some(bytes) = read(
        "kev_2023_catalog_has_no_ransomware_field",
        "feeds/kev/history/2023-07-26.json",
    ) else {
        return;
    };
    let cat = parse_kev(&bytes).unwrap();
    assert!(cat.entries.values().all(|e| !e.ransomware_known()));
}

#[test]
fn kev_truncated_catalog_is_rejected() {
    let Some(bytes) = read(
        "kev_truncated_catalog_is_rejected",
        "feeds/kev/known_exploited_vulnerabilities.json",
    ) else {
        return;
    };
    for cut in [0, 100, bytes.len() / 2, bytes.len() - 3] {
        let err = parse_kev(&bytes[..cut]).unwrap_err().to_string();
        assert!(err.contains("not valid JSON"), "cut at {cut}: {err}");
    }
}

const EPSS_ROWS: usize = 13_132;

#[test]
fn epss_sample_plain_and_gzip() {
    let test = "epss_sample_plain_and_gzip";
    let Some(plain) = read(test, "feeds/epss/epss_scores-sample.csv") else {
        return;
    };
    let Some(gz) = read(test, "feeds/epss/epss_scores-sample.csv.gz") else {
        return;
    };
    let a = parse_epss(&plain).unwrap();
    let b = parse_epss(&gz).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), EPSS_ROWS);
    assert_eq!(a.model_version.as_deref(), Some("v2026.06.15"));
    assert_eq!(a.score_date.unwrap().to_string(), "2026-09-29");
    let s = a.get("CVE-1999-0001").unwrap();
    assert_eq!((s.epss, s.percentile), (0.03351, 0.88255));
    // Cross-check every row against an independent reading of the text.
    let text = std::str::from_utf8(&plain).unwrap();
    let mut checked = 0;
    for line in text.lines().skip(2) {
        let f: Vec<&str> = line.split(',').collect();
        let got = a.get(f[0]).unwrap_or_else(|| panic!("{} missing", f[0]));
        assert_eq!(got.epss, f[1].parse::<f32>().unwrap(), "{line}");
        assert_eq!(got.percentile, f[2].parse::<f32>().unwrap(), "{line}");
        checked += 1;
    }
    assert_eq!(checked, EPSS_ROWS);
}

#[test]
fn epss_truncated_gzip_is_rejected() {
    let Some(gz) = read(
        "epss_truncated_gzip_is_rejected",
        "feeds/epss/epss_scores-sample.csv.gz",
    ) else {
        return;
    };
    for cut in [10, gz.len() / 3, gz.len() / 2, gz.len() - 4] {
        let err = parse_epss(&gz[..cut]).unwrap_err().to_string();
        assert!(err.contains("corrupt or truncated"), "cut at {cut}: {err}");
    }
    // A flipped byte in the compressed stream fails the CRC or the inflate.
    let mut bad = gz.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    assert!(parse_epss(&bad).is_err());
}
