//! Red Hat CSAF VEX: one document per CVE under `<base>` (Red Hat's
//! `https://security.access.redhat.com/data/csaf/v2/vex`), published as
//!
//! - `archive_latest.txt`: the name of the newest full archive, `csaf_vex_YYYY-MM-DD.tar.zst`
//!   (every document as of that date, as `<year>/cve-….json`);
//! - `changes.csv`: `"<year>/cve-….json","<RFC 3339 instant>"` per document change, newest
//!   first;
//! - `deletions.csv`: the same for documents removed;
//! - the documents themselves, `<base>/<year>/cve-….json`.
//!
//! How a sync uses them:
//! - **Full import** the first time (or when more documents changed than
//!   [`RedHatConfig::max_incremental`]): fetch the archive (resumable; a completely
//!   downloaded archive is kept until its import succeeded, so a failure later in the sync
//!   does not cost the download again), stream it through zstd and tar converting each
//!   document ([`patchpilot_distro::Format::RedHatCsafVex`]), then apply every change and
//!   deletion dated at or after the archive's date, fetching the changed documents.
//! - **Increment** on every later sync: `changes.csv` is requested conditionally (a 304 ends
//!   the sync of this source); the documents changed at or after the watermark (the newest
//!   instant already applied) are fetched, `parallel` at a time, and deletions since the
//!   watermark applied. Per document the latest event wins.
//! - A deleted document, or one that now converts to no advisory (no RPM of a supported
//!   stream left), withdraws the advisory it used to give (`RHEL-CVE-…`, derived from the file
//!   name), so a finding from it closes instead of lingering.
//! - Everything converted in one sync is imported in one transaction with the sync time as
//!   `modified` (the newest sync wins), through the same database import as the other
//!   trackers. A corrupt or truncated archive, a bad index or a failed download leaves the
//!   database, the state and the watermark as they were. A single document that does not
//!   convert is reported by name in [`crate::Outcome::rejected`] and skipped (its next change
//!   is fetched again); an archive where more than a tenth of the documents fail is refused
//!   as a whole, since that is a format change, not a bad document.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use patchpilot_distro::Format;
use patchpilot_osv::{Advisory, Timestamp};

use crate::distro::rfc3339;
use crate::http::{discard_part, part_path, Fetch, Validators};
use crate::state::SourceState;
use crate::{FeedError, Outcome, Progress, RedHatConfig, Syncer};

/// The state entry and the name in reports.
const NAME: &str = "redhat";
/// The largest single document read (Red Hat's biggest, kernel CVEs, are a few MB).
const DOC_LIMIT: u64 = 256 << 20;

/// One row of `changes.csv` or `deletions.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexRow<'a> {
    /// `2024/cve-2024-1234.json`.
    pub path: &'a str,
    pub at: Timestamp,
    pub at_text: &'a str,
}

/// Parse `changes.csv` / `deletions.csv`: `path,instant` per line, each field optionally in
/// double quotes. Every row is checked; the first bad one is an error naming its line.
pub fn parse_vex_index(text: &str) -> Result<Vec<VexRow<'_>>, String> {
    fn unquote(f: &str) -> Option<&str> {
        let f = f.trim();
        match f.strip_prefix('"') {
            Some(rest) => rest.strip_suffix('"'),
            None => (!f.contains('"')).then_some(f),
        }
    }
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let bad = |why: String| format!("line {}: {why}", i + 1);
        let (path, at) = line
            .split_once(',')
            .ok_or_else(|| bad("expected `\"path\",\"date-time\"`".into()))?;
        let (Some(path), Some(at_text)) = (unquote(path), unquote(at)) else {
            return Err(bad("unbalanced quotes".into()));
        };
        let at = Timestamp::parse(at_text).map_err(|e| bad(format!("bad date-time: {e}")))?;
        if doc_key(path).as_deref() != Some(path) {
            return Err(bad(format!("bad document path {path:?}")));
        }
        rows.push(VexRow { path, at, at_text });
    }
    Ok(rows)
}

/// The key a document is filed under: `<year>/<file>.json`, the last two segments of its
/// path (an archive may hold `./2024/…`). `None` for anything that is not a safe relative
/// path to a `.json` file.
pub fn doc_key(path: &str) -> Option<String> {
    let path = path.strip_prefix("./").unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let safe = |s: &str| {
        !s.is_empty()
            && !s.starts_with('.')
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    };
    if segments.len() > 8 || !segments.iter().all(|s| safe(s)) {
        return None;
    }
    let file = *segments.last()?;
    if !file.to_ascii_lowercase().ends_with(".json") {
        return None;
    }
    Some(match segments.len() {
        1 => file.to_string(),
        n => format!("{}/{file}", segments[n - 2]),
    })
}

/// The advisory id a document about a CVE gives: `2024/cve-2024-1234.json` →
/// `RHEL-CVE-2024-1234`. `None` when the file is not named after a CVE.
pub fn advisory_id_of(key: &str) -> Option<String> {
    let file = key.rsplit('/').next()?;
    let stem = file.get(..file.len().checked_sub(5)?)?;
    let id = stem.to_ascii_uppercase();
    let rest = id.strip_prefix("CVE-")?;
    let (year, num) = rest.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (year.len() == 4 && digits(year) && num.len() >= 4 && digits(num)).then(|| format!("RHEL-{id}"))
}

/// `csaf_vex_2024-07-07.tar.zst` → that date at midnight UTC.
pub fn archive_date(name: &str) -> Option<Timestamp> {
    let date = name.strip_prefix("csaf_vex_")?.strip_suffix(".tar.zst")?;
    if date.len() != 10 {
        return None;
    }
    Timestamp::parse(&format!("{date}T00:00:00Z")).ok()
}

/// What happened to a document last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Changed,
    Deleted,
}

/// The latest event per document among the rows at or after `since`; a change beats a
/// deletion at the same instant. Also the newest instant among them.
fn latest_events(
    changes: &[VexRow<'_>],
    deletions: &[VexRow<'_>],
    since: Option<Timestamp>,
) -> (BTreeMap<String, Event>, Option<(Timestamp, String)>) {
    let mut latest: HashMap<&str, (Timestamp, Event)> = HashMap::new();
    let mut newest: Option<(Timestamp, String)> = None;
    let rows = deletions
        .iter()
        .map(|r| (r, Event::Deleted))
        .chain(changes.iter().map(|r| (r, Event::Changed)));
    for (r, ev) in rows {
        if since.is_some_and(|s| r.at < s) {
            continue;
        }
        if newest.as_ref().is_none_or(|(n, _)| r.at > *n) {
            newest = Some((r.at, r.at_text.to_string()));
        }
        match latest.get(r.path) {
            Some((at, _)) if *at > r.at => {}
            Some((at, Event::Changed)) if *at == r.at => {}
            _ => {
                latest.insert(r.path, (r.at, ev));
            }
        }
    }
    let events = latest
        .into_iter()
        .map(|(p, (_, ev))| (p.to_string(), ev))
        .collect();
    (events, newest)
}

fn invalid(url: &str, reason: impl Into<String>) -> FeedError {
    FeedError::Invalid {
        url: url.to_string(),
        reason: reason.into(),
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FeedError + '_ {
    move |error| FeedError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// Documents converted so far, by key.
type Docs = BTreeMap<String, Vec<Advisory>>;

/// Convert one document; a failure is a line for [`Outcome::rejected`].
fn convert(key: &str, bytes: &[u8]) -> Result<Vec<Advisory>, String> {
    patchpilot_distro::convert(Format::RedHatCsafVex, bytes, key).map_err(|e| format!("{key}: {e}"))
}

/// Read every document of an archive. An unreadable archive is an error; documents that do
/// not convert are listed in `rejected`.
fn read_archive(path: &Path, url: &str, rejected: &mut Vec<String>) -> Result<Docs, FeedError> {
    let file = fs::File::open(path).map_err(io(path))?;
    let decoder = zstd::stream::read::Decoder::new(file)
        .map_err(|e| invalid(url, format!("not a zstd archive: {e}")))?;
    let mut archive = tar::Archive::new(decoder);
    let corrupt = |e: std::io::Error| {
        invalid(
            url,
            format!("corrupt, truncated or not a .tar.zst archive: {e}"),
        )
    };
    let mut docs = Docs::new();
    let mut read = 0usize;
    let mut failed = 0usize;
    let mut buf = Vec::new();
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry
            .path()
            .map_err(corrupt)?
            .to_string_lossy()
            .into_owned();
        if !name.to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        buf.clear();
        (&mut entry)
            .take(DOC_LIMIT + 1)
            .read_to_end(&mut buf)
            .map_err(corrupt)?;
        read += 1;
        let Some(key) = doc_key(&name) else {
            failed += 1;
            rejected.push(format!("{name}: not a <year>/<file>.json path"));
            continue;
        };
        if buf.len() as u64 > DOC_LIMIT {
            failed += 1;
            rejected.push(format!("{key}: larger than {DOC_LIMIT} bytes"));
            continue;
        }
        match convert(&key, &buf) {
            Ok(a) => {
                docs.insert(key, a);
            }
            Err(why) => {
                failed += 1;
                rejected.push(why);
            }
        }
    }
    // A zstd frame cut short can still end at a tar entry boundary: make the decoder
    // read to the end of its input, where a truncated frame is an error.
    let mut rest = archive.into_inner();
    std::io::copy(&mut rest, &mut std::io::sink()).map_err(corrupt)?;
    if read == 0 {
        return Err(invalid(url, "the archive holds no VEX documents"));
    }
    if failed * 10 > read {
        return Err(invalid(
            url,
            format!(
                "{failed} of {read} documents could not be read (first: {})",
                rejected.first().map_or("", String::as_str)
            ),
        ));
    }
    Ok(docs)
}

/// A small text file, unconditionally or against `known`; `None` on a 304.
fn fetch_text(
    s: &Syncer<'_>,
    url: &str,
    local: &Path,
    known: Option<&Validators>,
    out: &mut Outcome,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Option<(String, Validators)>, FeedError> {
    match s
        .client
        .download(NAME, url, &part_path(local), known, progress)?
    {
        Fetch::NotModified => Ok(None),
        Fetch::Complete {
            part,
            validators,
            transferred,
            ..
        } => {
            out.transferred += transferred;
            let bytes = fs::read(&part).map_err(io(&part));
            discard_part(&part);
            let text = String::from_utf8(bytes?).map_err(|_| invalid(url, "not UTF-8 text"))?;
            Ok(Some((text, validators)))
        }
    }
}

/// `<base>/<file>` fetched unconditionally: its text and validators.
fn fetch_file(
    s: &Syncer<'_>,
    base: &str,
    dir: &Path,
    file: &str,
    out: &mut Outcome,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(String, Validators), FeedError> {
    let url = format!("{base}/{file}");
    fetch_text(s, &url, &dir.join(file), None, out, progress)?
        .ok_or_else(|| invalid(&url, "304 without a conditional request"))
}

/// The latest event per document at or after `since`, from `changes` (`changes.csv`,
/// fetched by the caller) and `deletions.csv` (fetched here), with the newest instant.
#[allow(clippy::type_complexity)]
fn events_since(
    s: &Syncer<'_>,
    base: &str,
    dir: &Path,
    changes: &str,
    since: Option<Timestamp>,
    out: &mut Outcome,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(BTreeMap<String, Event>, Option<(Timestamp, String)>), FeedError> {
    let (deletions, _) = fetch_file(s, base, dir, "deletions.csv", out, progress)?;
    let changes =
        parse_vex_index(changes).map_err(|e| invalid(&format!("{base}/changes.csv"), e))?;
    let deletions =
        parse_vex_index(&deletions).map_err(|e| invalid(&format!("{base}/deletions.csv"), e))?;
    Ok(latest_events(&changes, &deletions, since))
}

/// Fetch the changed documents, `parallel` at a time; the first failed download stops the
/// rest and is the error. Returns `(key, body)` in key order.
fn fetch_docs(
    s: &Syncer<'_>,
    cfg: &RedHatConfig,
    staging: &Path,
    keys: &[&str],
    out: &mut Outcome,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Vec<(String, Vec<u8>)>, FeedError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    fs::create_dir_all(staging).map_err(io(staging))?;
    let base = cfg.base.trim_end_matches('/');
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let bodies: Mutex<Vec<Option<Vec<u8>>>> = Mutex::new(vec![None; keys.len()]);
    let failure: Mutex<Option<FeedError>> = Mutex::new(None);
    let transferred = AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|scope| {
        for _ in 0..cfg.parallel.clamp(1, 64).min(keys.len()) {
            let tx = tx.clone();
            let (next, stop, bodies, failure, transferred) =
                (&next, &stop, &bodies, &failure, &transferred);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= keys.len() || stop.load(Ordering::Relaxed) {
                    return;
                }
                let url = format!("{base}/{}", keys[i]);
                let part = part_path(&staging.join(keys[i].replace('/', "_")));
                let got = s
                    .client
                    .download(NAME, &url, &part, None, &mut |_| {})
                    .and_then(|f| match f {
                        Fetch::Complete {
                            part,
                            transferred: n,
                            ..
                        } => {
                            transferred.fetch_add(n as usize, Ordering::Relaxed);
                            let bytes = fs::read(&part).map_err(io(&part));
                            discard_part(&part);
                            bytes
                        }
                        Fetch::NotModified => Err(FeedError::Http {
                            url: url.clone(),
                            reason: "304 without a conditional request".into(),
                        }),
                    });
                match got {
                    Ok(b) => {
                        if let Ok(mut v) = bodies.lock() {
                            v[i] = Some(b);
                        }
                        let _ = tx.send(());
                    }
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        if let Ok(mut f) = failure.lock() {
                            f.get_or_insert(e);
                        }
                        return;
                    }
                }
            });
        }
        drop(tx);
        for (done, ()) in rx.into_iter().enumerate() {
            progress(Progress::Documents {
                source: NAME,
                done: done as u64 + 1,
                total: keys.len() as u64,
            });
        }
    });
    let _ = fs::remove_dir_all(staging);
    out.transferred += transferred.into_inner() as u64;
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    let bodies = bodies.into_inner().unwrap_or_default();
    Ok(keys
        .iter()
        .zip(bodies)
        .filter_map(|(k, b)| Some((k.to_string(), b?)))
        .collect())
}

/// Apply the events to `docs`: fetch and convert changed documents, drop deleted ones.
/// Returns the keys whose advisory may have to be withdrawn (deleted, or converted to
/// nothing).
fn apply(
    s: &Syncer<'_>,
    cfg: &RedHatConfig,
    dir: &Path,
    docs: &mut Docs,
    events: &BTreeMap<String, Event>,
    out: &mut Outcome,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<BTreeSet<String>, FeedError> {
    let changed: Vec<&str> = events
        .iter()
        .filter(|(_, e)| **e == Event::Changed)
        .map(|(k, _)| k.as_str())
        .collect();
    let mut gone = BTreeSet::new();
    for (key, e) in events {
        if *e == Event::Deleted {
            docs.remove(key);
            gone.insert(key.clone());
        }
    }
    for (key, body) in fetch_docs(s, cfg, &dir.join("updates"), &changed, out, progress)? {
        match convert(&key, &body) {
            Ok(a) => {
                docs.insert(key.clone(), a);
            }
            Err(why) => {
                // Keep what we had for it; its next change is fetched again.
                out.rejected.push(why);
            }
        }
        out.fetched.push(key);
    }
    Ok(gone)
}

/// The advisories to import: every converted one, plus a withdrawn copy of each advisory
/// the database holds for a key that no longer gives it.
fn records(
    data_dir: &Path,
    docs: Docs,
    mut candidates: BTreeSet<String>,
    now: &str,
) -> Result<(Vec<Advisory>, usize), FeedError> {
    for (key, advs) in &docs {
        if let Some(id) = advisory_id_of(key) {
            if !advs.iter().any(|a| a.id == id) {
                candidates.insert(key.clone());
            }
        }
    }
    let mut out: Vec<Advisory> = docs.into_values().flatten().collect();
    for a in &mut out {
        a.modified = now.to_string();
    }
    let live = out.len();
    let have: BTreeSet<&str> = out.iter().map(|a| a.id.as_str()).collect();
    let ids: BTreeSet<String> = candidates
        .iter()
        .filter_map(|k| advisory_id_of(k))
        .filter(|id| !have.contains(id.as_str()))
        .collect();
    if !ids.is_empty() && data_dir.join(patchpilot_advisory_db::FILE_NAME).is_file() {
        let db = patchpilot_advisory_db::Database::open(data_dir).map_err(FeedError::Import)?;
        for id in ids {
            if let Some(old) = db.get(&id).filter(|a| a.withdrawn.is_none()) {
                let mut a = old.clone();
                a.withdrawn = Some(now.to_string());
                a.modified = now.to_string();
                out.push(a);
            }
        }
    }
    Ok((out, live))
}

/// Sync Red Hat's VEX documents. The state entry is saved only when the database has
/// the new data.
pub(crate) fn sync_redhat(
    s: &mut Syncer<'_>,
    cfg: &RedHatConfig,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Outcome, FeedError> {
    let dir = s.feeds_dir.join("redhat");
    fs::create_dir_all(&dir).map_err(io(&dir))?;
    let db_exists = s.data_dir.join(patchpilot_advisory_db::FILE_NAME).is_file();
    let base = cfg.base.trim_end_matches('/').to_string();
    let prev = s
        .state
        .sources
        .get(NAME)
        .filter(|e| db_exists && e.url.starts_with(&format!("{base}/")))
        .cloned();
    let mut out = Outcome::default();
    match prev {
        Some(entry) if entry.newest_modified.is_some() && !s.cfg.osv_full_refresh => {
            increment(s, cfg, &base, &dir, entry, &mut out, progress)?;
        }
        _ => full(s, cfg, &base, &dir, &mut out, progress)?,
    }
    Ok(out)
}

fn full(
    s: &mut Syncer<'_>,
    cfg: &RedHatConfig,
    base: &str,
    dir: &Path,
    out: &mut Outcome,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(), FeedError> {
    let latest_url = format!("{base}/archive_latest.txt");
    let (text, _) = fetch_file(s, base, dir, "archive_latest.txt", out, progress)?;
    let name = text.trim();
    let Some(date) = archive_date(name) else {
        return Err(invalid(
            &latest_url,
            format!(
                "expected an archive name like csaf_vex_2024-07-07.tar.zst, got {:?}",
                name.chars().take(80).collect::<String>()
            ),
        ));
    };
    let archive_url = format!("{base}/{name}");
    let local = dir.join(name);
    // Older archives (a newer one is out) are not needed any more.
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with("csaf_vex_") && n != name && !n.starts_with(&format!("{name}.")) {
                let _ = fs::remove_file(e.path());
            }
        }
    }
    if !local.is_file() {
        match s
            .client
            .download(NAME, &archive_url, &part_path(&local), None, progress)?
        {
            Fetch::Complete {
                part,
                transferred,
                resumed_from,
                ..
            } => {
                out.transferred += transferred;
                out.resumed_from = resumed_from;
                fs::rename(&part, &local).map_err(io(&local))?;
            }
            Fetch::NotModified => {
                return Err(invalid(&archive_url, "304 without a conditional request"));
            }
        }
    }
    let mut docs = match read_archive(&local, &archive_url, &mut out.rejected) {
        Ok(d) => d,
        Err(e) => {
            // A bad archive is not kept for the next try.
            let _ = fs::remove_file(&local);
            return Err(e);
        }
    };

    let (changes, validators) = fetch_file(s, base, dir, "changes.csv", out, progress)?;
    let (events, newest) = events_since(s, base, dir, &changes, Some(date), out, progress)?;
    let gone = apply(s, cfg, dir, &mut docs, &events, out, progress)?;

    let now = rfc3339(s.now);
    let (records, live) = records(s.data_dir, docs, gone, &now)?;
    // The archive is Red Hat's whole feed, for every release it names.
    let coverage = patchpilot_advisory_db::SourceCoverage::feed_of(&records);
    patchpilot_advisory_db::import_converted(s.data_dir, dir, NAME, records, coverage)
        .map_err(FeedError::Import)?;
    let _ = fs::remove_file(&local);

    let watermark = match newest {
        Some((at, text)) if at > date => text,
        _ => format!("{}T00:00:00Z", &name[9..19]),
    };
    let entry = SourceState {
        url: archive_url,
        validators: Validators::default(),
        synced_at: s.now,
        updated_at: s.now,
        records: live,
        newest_modified: Some(watermark),
        index: Some(validators),
    };
    out.changed = true;
    out.full_import = true;
    out.records = live;
    s.save_source(NAME, entry)
}

fn increment(
    s: &mut Syncer<'_>,
    cfg: &RedHatConfig,
    base: &str,
    dir: &Path,
    mut entry: SourceState,
    out: &mut Outcome,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(), FeedError> {
    let changes_url = format!("{base}/changes.csv");
    let known = entry.index.clone().filter(|v| !v.is_empty());
    let Some((changes_text, validators)) = fetch_text(
        s,
        &changes_url,
        &dir.join("changes.csv"),
        known.as_ref(),
        out,
        progress,
    )?
    else {
        entry.synced_at = s.now;
        out.records = entry.records;
        return s.save_source(NAME, entry);
    };
    let watermark = entry
        .newest_modified
        .as_deref()
        .and_then(|t| Timestamp::parse(t).ok());
    let (events, newest) = events_since(s, base, dir, &changes_text, watermark, out, progress)?;
    if events.len() > cfg.max_incremental {
        // Cheaper as the archive.
        return full(s, cfg, base, dir, out, progress);
    }
    if !events.is_empty() {
        let mut docs = Docs::new();
        let gone = apply(s, cfg, dir, &mut docs, &events, out, progress)?;
        let now = rfc3339(s.now);
        let (records, _) = records(s.data_dir, docs, gone, &now)?;
        if !records.is_empty() {
            // The source entry is replaced: it keeps covering what the archive covered.
            let mut coverage = patchpilot_advisory_db::Database::open_for(s.data_dir, &[])
                .ok()
                .and_then(|db| {
                    db.sources()
                        .iter()
                        .find(|x| x.name == NAME)
                        .and_then(|x| x.coverage.clone())
                })
                .unwrap_or_default();
            coverage.add(patchpilot_advisory_db::SourceCoverage::feed_of(&records));
            let summary =
                patchpilot_advisory_db::import_converted(s.data_dir, dir, NAME, records, coverage)
                    .map_err(FeedError::Import)?;
            entry.records += summary.added;
            entry.updated_at = s.now;
            out.changed = true;
        }
        if let Some((_, text)) = newest {
            entry.newest_modified = Some(text);
        }
    }
    entry.index = Some(validators);
    entry.synced_at = s.now;
    out.records = entry.records;
    s.save_source(NAME, entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_rows_parse_quoted_or_not_and_bad_rows_name_their_line() {
        let text = "\"2024/cve-2024-1234.json\",\"2024-11-08T18:28:22+00:00\"\r\n2023/cve-2023-1.json,2023-01-01T00:00:00Z\n\n";
        let rows = parse_vex_index(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].path, "2024/cve-2024-1234.json");
        assert_eq!(rows[0].at_text, "2024-11-08T18:28:22+00:00");
        assert!(rows[0].at > rows[1].at);
        for (bad, want) in [
            ("2024/cve-2024-1.json", "line 1: expected"),
            ("\"2024/cve-2024-1.json,\"2024-01-01T00:00:00Z\"", "line 1"),
            (
                "\"../etc/passwd.json\",\"2024-01-01T00:00:00Z\"",
                "bad document path",
            ),
            (
                "\"2024/cve-1.txt\",\"2024-01-01T00:00:00Z\"",
                "bad document path",
            ),
            (
                "a.json,2024-01-01T00:00:00Z\nb.json,yesterday",
                "line 2: bad date-time",
            ),
            ("<html>", "line 1"),
        ] {
            let err = parse_vex_index(bad).unwrap_err();
            assert!(err.contains(want), "{bad:?}: {err}");
        }
    }

    #[test]
    fn keys_ids_and_archive_names() {
        assert_eq!(
            doc_key("./2024/cve-2024-1.json").unwrap(),
            "2024/cve-2024-1.json"
        );
        assert_eq!(
            doc_key("vex/2024/cve-2024-1.json").unwrap(),
            "2024/cve-2024-1.json"
        );
        assert_eq!(doc_key("cve-2024-1.json").unwrap(), "cve-2024-1.json");
        for bad in [
            "2024/../x.json",
            "2024/x.txt",
            "/2024/x.json",
            "2024/.x.json",
            "",
        ] {
            assert!(doc_key(bad).is_none(), "{bad}");
        }
        assert_eq!(
            advisory_id_of("2024/cve-2024-12345.json").as_deref(),
            Some("RHEL-CVE-2024-12345")
        );
        assert_eq!(advisory_id_of("2024/ghsa-x.json"), None);
        assert_eq!(advisory_id_of("2024/cve-24-1.json"), None);
        assert_eq!(advisory_id_of("é.json"), None);
        assert_eq!(advisory_id_of("aé"), None);
        let d = archive_date("csaf_vex_2024-07-07.tar.zst").unwrap();
        assert_eq!(d, Timestamp::parse("2024-07-07T00:00:00Z").unwrap());
        for bad in [
            "csaf_vex_2024-7-7.tar.zst",
            "csaf_vex_2024-07-07.tar",
            "x.tar.zst",
            "csaf_vex_../../x.tar.zst",
        ] {
            assert!(archive_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_latest_event_per_document_wins() {
        let c = parse_vex_index(
            "a/cve-2024-1.json,2024-03-01T00:00:00Z\na/cve-2024-2.json,2024-02-01T00:00:00Z\na/cve-2024-3.json,2024-01-01T00:00:00Z\na/cve-2024-1.json,2024-01-15T00:00:00Z",
        )
        .unwrap();
        let d = parse_vex_index(
            "a/cve-2024-1.json,2024-02-01T00:00:00Z\na/cve-2024-2.json,2024-02-01T00:00:00Z\na/cve-2024-4.json,2024-02-10T00:00:00Z",
        )
        .unwrap();
        let since = Timestamp::parse("2024-01-10T00:00:00Z").ok();
        let (ev, newest) = latest_events(&c, &d, since);
        let got: Vec<(&str, Event)> = ev.iter().map(|(k, e)| (k.as_str(), *e)).collect();
        assert_eq!(
            got,
            [
                ("a/cve-2024-1.json", Event::Changed),
                ("a/cve-2024-2.json", Event::Changed),
                ("a/cve-2024-4.json", Event::Deleted),
            ]
        );
        assert_eq!(newest.unwrap().1, "2024-03-01T00:00:00Z");
    }
}
