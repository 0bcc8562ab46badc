//! OSV: `<base>/<ECOSYSTEM>/all.zip` once, then increments through `modified_id.csv`.
//!
//! - **Full import** when an ecosystem has never been synced (or a full refresh is asked
//!   for): download `all.zip` (conditional, resumable), check that it is a zip of OSV JSON
//!   records and find the newest `modified` in it (the *watermark*), then hand it to
//!   [`patchpilot_advisory_db::import`], which swaps the database atomically. The archive
//!   is deleted afterwards: the database holds the records, and the state holds the ETag.
//! - **Increment** on every sync: download `modified_id.csv` (conditional: a 304 means
//!   nothing changed), take the rows whose `modified` is after the watermark, fetch
//!   `<id>.json` for each into a staging folder, validate every one, and import the folder
//!   in one transaction. Any failure leaves the database and the watermark as they were,
//!   so the next sync retries the same rows. Rows are compared as instants
//!   ([`Timestamp`]), not text, and the whole file is scanned rather than stopping at the
//!   first old row, so a mirror that does not sort newest-first still works.
//! - A change larger than [`crate::Config::osv_max_incremental`] records is cheaper as one
//!   `all.zip`, so it falls back to a full import.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use patchpilot_osv::Timestamp;
use serde::Deserialize;

use crate::http::{discard_part, part_path, Fetch};
use crate::state::SourceState;
use crate::{FeedError, Outcome, Progress, Syncer};

/// One row of `modified_id.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModifiedRow<'a> {
    pub modified: Timestamp,
    pub modified_text: &'a str,
    pub id: &'a str,
}

/// Parse `modified_id.csv`: one `modified,id` per line, no header (a literal
/// `modified,id` header is tolerated). Every row is checked; the first bad one is an error
/// naming its line.
pub fn parse_modified_ids(text: &str) -> Result<Vec<ModifiedRow<'_>>, String> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || (i == 0 && line == "modified,id") {
            continue;
        }
        let bad = |why: String| format!("modified_id.csv line {}: {why}", i + 1);
        let (modified, id) = line
            .split_once(',')
            .ok_or_else(|| bad("expected `modified,id`".into()))?;
        let ts =
            Timestamp::parse(modified.trim()).map_err(|e| bad(format!("bad timestamp: {e}")))?;
        let id = id.trim();
        if !is_safe_id(id) {
            return Err(bad(format!("bad record id {id:?}")));
        }
        rows.push(ModifiedRow {
            modified: ts,
            modified_text: modified.trim(),
            id,
        });
    }
    Ok(rows)
}

/// Record ids become file names and URL path segments: letters, digits, `-`, `_`, `.`,
/// not starting with a dot, at most 200 characters.
pub fn is_safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 200
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// An ecosystem name as a URL path segment (`GitHub Actions` → `GitHub%20Actions`; `:` is
/// legal in a path segment and kept, as in `Debian:12`).
pub fn url_segment(eco: &str) -> String {
    let mut out = String::with_capacity(eco.len());
    for b in eco.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'@' | b'+')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An ecosystem name as a folder name, portable to every file system.
pub fn dir_name(eco: &str) -> String {
    eco.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Check that `path` is a zip holding OSV JSON records; return the newest `modified`.
fn scan_zip(path: &Path, url: &str) -> Result<Option<(Timestamp, String)>, FeedError> {
    #[derive(Deserialize)]
    struct Modified {
        modified: Option<String>,
    }
    let invalid = |reason: String| FeedError::Invalid {
        url: url.to_string(),
        reason,
    };
    let file = fs::File::open(path).map_err(|error| FeedError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| invalid(format!("not a zip archive: {e}")))?;
    let mut newest: Option<(Timestamp, String)> = None;
    let mut records = 0usize;
    let mut buf = Vec::new();
    for i in 0..zip.len() {
        let entry = zip
            .by_index(i)
            .map_err(|e| invalid(format!("corrupt zip entry #{i}: {e}")))?;
        if entry.is_dir() || !entry.name().to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        let name = entry.name().to_string();
        buf.clear();
        entry
            .take(64 << 20)
            .read_to_end(&mut buf)
            .map_err(|e| invalid(format!("corrupt zip entry {name}: {e}")))?;
        records += 1;
        // A record that does not parse is the importer's to reject, by name.
        let Some(text) = serde_json::from_slice::<Modified>(&buf)
            .ok()
            .and_then(|m| m.modified)
        else {
            continue;
        };
        if let Ok(ts) = Timestamp::parse(&text) {
            if newest.as_ref().is_none_or(|(n, _)| ts > *n) {
                newest = Some((ts, text));
            }
        }
    }
    if records == 0 {
        return Err(invalid("the archive holds no OSV JSON records".into()));
    }
    Ok(newest)
}

fn import(
    s: &Syncer<'_>,
    path: PathBuf,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<patchpilot_advisory_db::ImportSummary, FeedError> {
    patchpilot_advisory_db::import(s.data_dir, &[path], &mut |p| progress(Progress::Import(&p)))
        .map_err(FeedError::Import)
}

/// Sync one ecosystem. The state entry is saved after each step that succeeds.
pub(crate) fn sync_ecosystem(
    s: &mut Syncer<'_>,
    eco: &str,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Outcome, FeedError> {
    let name = format!("osv/{eco}");
    let dir = s.feeds_dir.join("osv").join(dir_name(eco));
    fs::create_dir_all(&dir).map_err(|error| FeedError::Io {
        path: dir.clone(),
        error,
    })?;
    let base = format!(
        "{}/{}",
        s.cfg.osv_base.trim_end_matches('/'),
        url_segment(eco)
    );
    let db_exists = s.data_dir.join(patchpilot_advisory_db::FILE_NAME).is_file();
    // Without the database, what the state remembers is not there any more.
    let prev = s.state.sources.get(&name).filter(|_| db_exists).cloned();
    let mut entry = prev.clone().unwrap_or_default();
    let mut out = Outcome::default();

    let synced = entry.newest_modified.is_some();
    let mut did_full = false;
    if !synced || s.cfg.osv_full_refresh {
        full(
            s,
            &name,
            &base,
            &dir,
            prev.as_ref(),
            &mut entry,
            &mut out,
            progress,
        )?;
        did_full = true;
    }
    increment(
        s, &name, &base, &dir, &mut entry, &mut out, did_full, progress,
    )?;
    out.records = entry.records;
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn full(
    s: &mut Syncer<'_>,
    name: &str,
    base: &str,
    dir: &Path,
    known: Option<&SourceState>,
    entry: &mut SourceState,
    out: &mut Outcome,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(), FeedError> {
    let url = format!("{base}/all.zip");
    let zip = dir.join("all.zip");
    let known = known.map(|k| &k.validators).filter(|v| !v.is_empty());
    match s
        .client
        .download(name, &url, &part_path(&zip), known, progress)?
    {
        Fetch::NotModified => {}
        Fetch::Complete {
            part,
            validators,
            transferred,
            resumed_from,
        } => {
            out.transferred += transferred;
            out.resumed_from = out.resumed_from.or(resumed_from);
            fs::rename(&part, &zip).map_err(|error| FeedError::Io {
                path: zip.clone(),
                error,
            })?;
            let result = scan_zip(&zip, &url)
                .and_then(|newest| Ok((newest, import(s, zip.clone(), progress)?)));
            let _ = fs::remove_file(&zip);
            let (newest, summary) = result?;
            entry.url = url;
            entry.validators = validators;
            entry.records = summary.imported;
            entry.newest_modified = newest.map(|(_, text)| text);
            // The increment is measured from the new watermark: read the index again.
            entry.index = None;
            entry.updated_at = s.now;
            out.changed = true;
            out.full_import = true;
        }
    }
    entry.url = format!("{base}/all.zip");
    entry.synced_at = s.now;
    s.save_source(name, entry.clone())
}

#[allow(clippy::too_many_arguments)]
fn increment(
    s: &mut Syncer<'_>,
    name: &str,
    base: &str,
    dir: &Path,
    entry: &mut SourceState,
    out: &mut Outcome,
    did_full: bool,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(), FeedError> {
    let url = format!("{base}/modified_id.csv");
    let part = part_path(&dir.join("modified_id.csv"));
    let known = entry.index.clone().filter(|v| !v.is_empty());
    let (validators, text) = match s
        .client
        .download(name, &url, &part, known.as_ref(), progress)?
    {
        Fetch::NotModified => {
            entry.synced_at = s.now;
            return s.save_source(name, entry.clone());
        }
        Fetch::Complete {
            part,
            validators,
            transferred,
            ..
        } => {
            out.transferred += transferred;
            let bytes = fs::read(&part).map_err(|error| FeedError::Io {
                path: part.clone(),
                error,
            });
            discard_part(&part);
            let text = String::from_utf8(bytes?).map_err(|_| FeedError::Invalid {
                url: url.clone(),
                reason: "modified_id.csv is not UTF-8 text".into(),
            })?;
            (validators, text)
        }
    };
    let rows = parse_modified_ids(&text).map_err(|reason| FeedError::Invalid {
        url: url.clone(),
        reason,
    })?;
    let watermark = entry
        .newest_modified
        .as_deref()
        .and_then(|t| Timestamp::parse(t).ok());
    let mut newer: Vec<&ModifiedRow<'_>> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in &rows {
        if watermark.is_none_or(|w| r.modified > w) && seen.insert(r.id) {
            newer.push(r);
        }
    }
    if newer.len() > s.cfg.osv_max_incremental && !did_full {
        // Cheaper as one archive.
        full(s, name, base, dir, None, entry, out, progress)?;
        return increment(s, name, base, dir, entry, out, true, progress);
    }

    if !newer.is_empty() {
        let staging = dir.join("updates");
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir_all(&staging).map_err(|error| FeedError::Io {
            path: staging.clone(),
            error,
        })?;
        let result = fetch_records(s, name, base, &staging, &newer, progress)
            .and_then(|()| import(s, staging.clone(), progress));
        let _ = fs::remove_dir_all(&staging);
        let summary = result?;
        entry.records += summary.added;
        entry.updated_at = s.now;
        if let Some(max) = newer.iter().max_by_key(|r| r.modified) {
            entry.newest_modified = Some(max.modified_text.to_string());
        }
        out.changed = true;
        out.fetched = newer.iter().map(|r| r.id.to_string()).collect();
    }
    entry.index = Some(validators);
    entry.synced_at = s.now;
    s.save_source(name, entry.clone())
}

/// Download and validate every record into `staging`; the first failure stops.
fn fetch_records(
    s: &Syncer<'_>,
    name: &str,
    base: &str,
    staging: &Path,
    rows: &[&ModifiedRow<'_>],
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(), FeedError> {
    for r in rows {
        let url = format!("{base}/{}.json", r.id);
        let target = staging.join(format!("{}.json", r.id));
        let Fetch::Complete { part, .. } =
            s.client
                .download(name, &url, &part_path(&target), None, progress)?
        else {
            // Unconditional requests are never answered with 304 by a sane server.
            return Err(FeedError::Http {
                url,
                reason: "304 without a conditional request".into(),
            });
        };
        let bytes = fs::read(&part).map_err(|error| FeedError::Io {
            path: part.clone(),
            error,
        })?;
        let invalid = |reason: String| FeedError::Invalid {
            url: url.clone(),
            reason,
        };
        let adv = patchpilot_osv::parse_json(&bytes).map_err(|e| invalid(e.to_string()))?;
        if adv.id != r.id {
            return Err(invalid(format!(
                "record id {:?}, expected {:?}",
                adv.id, r.id
            )));
        }
        fs::rename(&part, &target).map_err(|error| FeedError::Io {
            path: target.clone(),
            error,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modified_id_rows_parse_and_bad_rows_name_their_line() {
        let ok = "2026-08-21T06:28:40Z,RUSTSEC-2026-0266\r\n2024-01-01T00:00:00.5Z,GHSA-abcd-efgh-ijkl\n\n";
        let rows = parse_modified_ids(ok).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].id, "RUSTSEC-2026-0266");
        assert_eq!(rows[1].modified_text, "2024-01-01T00:00:00.5Z");
        assert!(rows[0].modified > rows[1].modified);
        assert_eq!(parse_modified_ids("modified,id\n").unwrap(), vec![]);

        let bad = [
            ("2024-01-01T00:00:00Z RUSTSEC-1", "line 1: expected"),
            ("x\n2024-01-01T00:00:00Z,A", "line 1: expected"),
            (
                "2024-01-01T00:00:00Z,A\nyesterday,B",
                "line 2: bad timestamp",
            ),
            ("2024-01-01T00:00:00Z,../etc/passwd", "bad record id"),
            ("2024-01-01T00:00:00Z,", "bad record id"),
            ("2024-01-01T00:00:00Z,a/b", "bad record id"),
            ("<html>", "line 1"),
        ];
        for (text, want) in bad {
            let err = parse_modified_ids(text).unwrap_err();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn names_become_safe_segments_and_folders() {
        let cases = [
            ("crates.io", "crates.io", "crates.io"),
            ("PyPI", "PyPI", "PyPI"),
            ("Debian:12", "Debian:12", "Debian_12"),
            ("GitHub Actions", "GitHub%20Actions", "GitHub_Actions"),
            ("a/b", "a%2Fb", "a_b"),
        ];
        for (eco, seg, dir) in cases {
            assert_eq!(url_segment(eco), seg, "{eco}");
            assert_eq!(dir_name(eco), dir, "{eco}");
        }
    }
}
