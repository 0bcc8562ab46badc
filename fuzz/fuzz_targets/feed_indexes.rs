#![no_main]
use libfuzzer_sys::fuzz_target;

// The indexes `feeds sync` reads before it downloads anything: OSV `modified_id.csv`, Red
// Hat's `changes.csv` / `deletions.csv` and `archive_latest.txt`; and the names taken
// from them (document paths, advisory ids). Paths that pass must stay relative and safe.
fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = patchpilot_feeds::parse_modified_ids(text);
    if let Ok(rows) = patchpilot_feeds::parse_vex_index(text) {
        for r in rows {
            assert!(!r.path.starts_with('/') && !r.path.split('/').any(|s| s == ".."));
        }
    }
    for line in text.lines() {
        if let Some(key) = patchpilot_feeds::doc_key(line) {
            assert!(!key.starts_with('/') && !key.split('/').any(|s| s == ".." || s.is_empty()));
            let _ = patchpilot_feeds::advisory_id_of(&key);
        }
        let _ = patchpilot_feeds::advisory_id_of(line);
        let _ = patchpilot_feeds::archive_date(line.trim());
    }
});
