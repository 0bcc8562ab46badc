//! NVD CVE API 2.0: CVSS for CVEs whose advisories carry none, kept in `feeds/nvd.json`.
//!
//! - **Incremental by `lastModified`.** The state's `newest_modified` is the instant the
//!   local copy is complete up to. A sync asks for `lastModStartDate` = that instant,
//!   `lastModEndDate` = now, cut into windows of at most 120 days (NVD refuses longer
//!   ranges). The first sync (no watermark) asks for everything, without dates. The new
//!   watermark is the earlier of the window's end and NVD's own `timestamp` on the
//!   window's first page, so a clock ahead of NVD's never skips records; an overlap
//!   only re-reads records, which the merge ignores.
//! - **Paging**: `resultsPerPage` (2000 upstream) and `startIndex`, advanced by the number
//!   of records each page actually holds, until `totalResults`. A page that starts
//!   elsewhere than asked, or is empty before the end, is an error (no endless loops).
//! - **Rate limit**: at most N requests in any rolling window ([`crate::RateLimit`], NVD's
//!   50 per 30 s with a key), enforced before each page request. NVD answers 403 (or 429,
//!   503) when a client goes over; those are retried with the client's backoff. Retries
//!   are not counted against the window: the backoff already slows them down.
//! - **All or nothing**: pages are validated as they arrive ([`parse_nvd`]) and kept in
//!   memory; only after the last page are they merged into the store (newer
//!   `lastModified` wins) and the file swapped atomically. Any failure leaves `nvd.json`
//!   and the watermark as they were, and the next sync repeats the same windows.
//! - **Format upgrades**: a store written by an older build (version 1 kept no exploit
//!   references) still serves scans, but the next sync pulls everything again, without
//!   dates, into a new store that replaces it only when complete.
//! - The API key goes in the `apiKey` header, never in the URL, so no error message or
//!   state file contains it.
//!
//! [`import_nvd`] is the offline path (`patchpilot feeds import` of saved pages), with the
//! same merge and atomic write.

use std::collections::VecDeque;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use patchpilot_intel::nvd::MergeSummary;
use patchpilot_intel::{parse_nvd, NvdPage, NvdRecord, NvdStore, NvdTime};

use crate::http::{discard_part, part_path, Extra, Fetch};
use crate::state::write_file_atomically;
use crate::{nvd_file, FeedError, NvdConfig, Outcome, Progress, RateLimit, Syncer, FEEDS_DIR};

/// At most `limit.requests` in any `limit.per`: a sliding window over send times.
pub(crate) struct Limiter {
    limit: RateLimit,
    sent: VecDeque<Instant>,
}

impl Limiter {
    pub(crate) fn new(limit: RateLimit) -> Limiter {
        Limiter {
            limit,
            sent: VecDeque::new(),
        }
    }

    /// How long to wait at `now` before the next request may go.
    pub(crate) fn delay(&self, now: Instant) -> Duration {
        let n = self.limit.requests.max(1) as usize;
        if self.sent.len() < n {
            return Duration::ZERO;
        }
        let oldest = self.sent[self.sent.len() - n];
        (oldest + self.limit.per).saturating_duration_since(now)
    }

    pub(crate) fn record(&mut self, at: Instant) {
        self.sent.push_back(at);
        let n = self.limit.requests.max(1) as usize;
        while self.sent.len() > n {
            self.sent.pop_front();
        }
    }

    /// Sleep until a request may go, and count it.
    fn acquire(&mut self) {
        let wait = self.delay(Instant::now());
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
        self.record(Instant::now());
    }
}

/// `[start, end]` cut into consecutive windows of at most `days` days; none when
/// `start >= end`.
pub fn nvd_windows(start: NvdTime, end: NvdTime, days: u32) -> Vec<(NvdTime, NvdTime)> {
    let mut out = Vec::new();
    let mut from = start;
    while from < end {
        let to = from.add_days(i64::from(days.max(1))).min(end);
        out.push((from, to));
        from = to;
    }
    out
}

fn page_url(base: &str, window: Option<(NvdTime, NvdTime)>, size: u32, start: u64) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    match window {
        Some((from, to)) => format!(
            "{base}{sep}lastModStartDate={from}&lastModEndDate={to}&resultsPerPage={size}&startIndex={start}"
        ),
        None => format!("{base}{sep}resultsPerPage={size}&startIndex={start}"),
    }
}

/// The store in `feeds/nvd.json`; `None` when there is none yet.
pub fn load_nvd(data_dir: &Path) -> Result<Option<NvdStore>, FeedError> {
    let path = nvd_file(data_dir);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(FeedError::Io { path, error }),
    };
    NvdStore::from_json(&bytes)
        .map(Some)
        .map_err(|e| FeedError::Corrupt {
            path,
            reason: e.to_string(),
        })
}

/// Whether `feeds/nvd.json` is missing or in the current format (reads only the version).
fn store_is_current(data_dir: &Path) -> Result<bool, FeedError> {
    #[derive(serde::Deserialize)]
    struct Version {
        version: u32,
    }
    let path = nvd_file(data_dir);
    match fs::read(&path) {
        Ok(b) => serde_json::from_slice::<Version>(&b)
            .map(|v| v.version == patchpilot_intel::nvd::NVD_STORE_VERSION)
            .map_err(|e| FeedError::Corrupt {
                path,
                reason: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(error) => Err(FeedError::Io { path, error }),
    }
}

/// Merge `records` into the store (into a new one when `fresh`: a full pull replaces what
/// was there) and write it atomically (only when something changed or there is no file
/// yet, or when `fresh`). The store's size afterwards.
fn merge_into_store(
    data_dir: &Path,
    records: Vec<NvdRecord>,
    fresh: bool,
) -> Result<(MergeSummary, usize), FeedError> {
    let mut store = if fresh { None } else { load_nvd(data_dir)? };
    let exists = store.is_some();
    let store = store.get_or_insert_with(NvdStore::default);
    let summary = store.merge(records);
    if summary.changed() || !exists {
        let dir = data_dir.join(FEEDS_DIR);
        fs::create_dir_all(&dir).map_err(|error| FeedError::Io {
            path: dir.clone(),
            error,
        })?;
        write_file_atomically(&dir, &nvd_file(data_dir), &store.to_json())?;
    }
    Ok((summary, store.len()))
}

/// What [`import_nvd`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NvdImport {
    /// Records read from the pages.
    pub read: usize,
    pub merge: MergeSummary,
    /// CVEs in the store afterwards.
    pub total: usize,
}

/// Merge already-parsed pages into `feeds/nvd.json` (newer `lastModified` wins), under
/// the sync lock, atomically. Leaves the sync watermark alone: saved pages say nothing
/// about what the next incremental sync may skip.
pub fn import_nvd(data_dir: &Path, pages: Vec<NvdPage>) -> Result<NvdImport, FeedError> {
    let _lock = crate::lock(&data_dir.join(FEEDS_DIR))?;
    let records: Vec<NvdRecord> = pages.into_iter().flat_map(|p| p.records).collect();
    let read = records.len();
    let (merge, total) = merge_into_store(data_dir, records, false)?;
    Ok(NvdImport { read, merge, total })
}

pub(crate) fn sync_nvd(
    s: &mut Syncer<'_>,
    cfg: &NvdConfig,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Outcome, FeedError> {
    let name = "nvd";
    let target = nvd_file(s.data_dir);
    let prev = s
        .state
        .sources
        .get(name)
        .filter(|e| e.url == cfg.url && target.is_file())
        .cloned();
    // A store in an older format is rebuilt by a full pull.
    let current = store_is_current(s.data_dir)?;
    let prev = prev.filter(|_| current);
    let since: Option<NvdTime> = prev
        .as_ref()
        .and_then(|e| e.newest_modified.as_deref())
        .and_then(|t| t.parse().ok());
    let now = NvdTime::from_unix(s.now);
    let windows: Vec<Option<(NvdTime, NvdTime)>> = match since {
        None => vec![None],
        Some(from) => nvd_windows(from, now, cfg.window_days)
            .into_iter()
            .map(Some)
            .collect(),
    };

    let dir = s.feeds_dir.join("nvd");
    fs::create_dir_all(&dir).map_err(|error| FeedError::Io {
        path: dir.clone(),
        error,
    })?;
    let part = part_path(&dir.join("page.json"));
    let headers = [("apiKey", cfg.api_key.expose())];
    let extra = Extra {
        headers: &headers,
        retry_on: &[403],
    };
    let mut limiter = Limiter::new(cfg.rate);
    let mut out = Outcome::default();
    let mut records: Vec<NvdRecord> = Vec::new();
    let mut watermark = since;
    for window in windows {
        let mut start = 0u64;
        let mut answered_at: Option<NvdTime> = None;
        loop {
            let url = page_url(&cfg.url, window, cfg.page_size, start);
            limiter.acquire();
            let Fetch::Complete {
                part, transferred, ..
            } = s
                .client
                .download_with(name, &url, &part, None, extra, progress)?
            else {
                return Err(FeedError::Http {
                    url,
                    reason: "304 without a conditional request".into(),
                });
            };
            out.transferred += transferred;
            let bytes = fs::read(&part).map_err(|error| FeedError::Io {
                path: part.clone(),
                error,
            });
            discard_part(&part);
            let invalid = |reason: String| FeedError::Invalid {
                url: url.clone(),
                reason,
            };
            let page = parse_nvd(&bytes?).map_err(|e| invalid(e.to_string()))?;
            if page.start_index != start {
                return Err(invalid(format!(
                    "startIndex {} but {start} was asked for",
                    page.start_index
                )));
            }
            answered_at.get_or_insert(page.timestamp);
            let got = page.records.len() as u64;
            records.extend(page.records);
            start += got;
            if start >= page.total_results {
                break;
            }
            if got == 0 {
                return Err(invalid(format!(
                    "an empty page at startIndex {start} of totalResults {}",
                    page.total_results
                )));
            }
        }
        let end = window.map_or(now, |(_, to)| to);
        watermark = Some(answered_at.map_or(end, |t| t.min(end)));
    }

    let (summary, total) = merge_into_store(s.data_dir, records, since.is_none())?;
    let mut e = prev.unwrap_or_default();
    e.url.clone_from(&cfg.url);
    e.newest_modified = watermark.map(|t| t.to_string());
    e.records = total;
    e.synced_at = s.now;
    if summary.changed() {
        e.updated_at = s.now;
        out.changed = true;
    }
    out.records = total;
    s.save_source(name, e)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_allows_a_burst_then_waits_for_the_oldest_to_expire() {
        let mut l = Limiter::new(RateLimit {
            requests: 3,
            per: Duration::from_secs(10),
        });
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        for s in [0, 1, 2] {
            assert_eq!(l.delay(at(s)), Duration::ZERO);
            l.record(at(s));
        }
        assert_eq!(l.delay(at(3)), Duration::from_secs(7));
        assert_eq!(l.delay(at(10)), Duration::ZERO);
        l.record(at(10));
        // The window now holds 1, 2, 10: the next may go when 1 expires, at 11.
        assert_eq!(l.delay(at(10)), Duration::from_secs(1));
        assert_eq!(l.delay(at(30)), Duration::ZERO);
    }

    #[test]
    fn windows_are_at_most_the_limit_and_cover_the_range() {
        let t = |s: &str| s.parse::<NvdTime>().unwrap();
        let start = t("2024-01-01T00:00:00");
        let end = t("2024-10-01T12:00:00");
        let w = nvd_windows(start, end, 120);
        assert_eq!(w.len(), 3);
        assert_eq!(w[0].0, start);
        assert_eq!(w[2].1, end);
        for pair in w.windows(2) {
            assert_eq!(pair[0].1, pair[1].0, "contiguous");
        }
        for (a, b) in &w {
            assert!(a < b && a.add_days(120) >= *b);
        }
        assert_eq!(w[0].1.to_string(), "2024-04-30T00:00:00.000");
        assert!(nvd_windows(end, start, 120).is_empty());
        assert!(nvd_windows(end, end, 120).is_empty());
        assert_eq!(nvd_windows(start, start.add_days(120), 120).len(), 1);
    }

    #[test]
    fn page_urls() {
        let t = |s: &str| s.parse::<NvdTime>().unwrap();
        assert_eq!(
            page_url("http://h/cves/2.0", None, 2000, 0),
            "http://h/cves/2.0?resultsPerPage=2000&startIndex=0"
        );
        assert_eq!(
            page_url(
                "http://h/cves/2.0?noRejected",
                Some((t("2024-01-01T00:00:00"), t("2024-02-01T00:00:00.5"))),
                10,
                20
            ),
            "http://h/cves/2.0?noRejected&lastModStartDate=2024-01-01T00:00:00.000&lastModEndDate=2024-02-01T00:00:00.500&resultsPerPage=10&startIndex=20"
        );
    }
}
