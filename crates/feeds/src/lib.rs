//! Feed sync: download vulnerability and threat-intel feeds over HTTP(S) into the data
//! directory, safely.
//!
//! Sources, each with a configurable URL so an air-gapped site can point at a mirror:
//! - **OSV** `<osv_base>/<ECOSYSTEM>/all.zip` for each configured ecosystem, then
//!   increments through `<ECOSYSTEM>/modified_id.csv` (see `osv.rs`). Records go into the
//!   advisory database through [`patchpilot_advisory_db::import`], which swaps
//!   `advisories.db` atomically.
//! - **CISA KEV** JSON, kept as `<data_dir>/feeds/kev.json` ([`kev_file`]).
//! - **FIRST EPSS** CSV (gzip or plain), kept as `<data_dir>/feeds/epss.csv.gz`
//!   ([`epss_file`]; read it with [`patchpilot_intel::parse_epss`], which sniffs gzip).
//!
//! Every download follows the same rules (`http.rs`): conditional requests from the
//! stored ETag / Last-Modified (a 304 transfers nothing), bounded retries with exponential
//! backoff on 5xx, 429 and connection errors, a size cap, resume of an interrupted body
//! with `Range` + `If-Range` into a `.part` file, and the swap into place only after the
//! complete file passed its parser ([`patchpilot_intel::parse_kev`], `parse_epss`, the OSV
//! parser). A bad download therefore changes nothing: the previous file and database stay
//! byte-for-byte as they were, and the error names the URL and the reason.
//!
//! What each source last served is in `<data_dir>/feeds/state.json` ([`State`]), saved
//! after each source that succeeds; [`status`] reads it for `patchpilot feeds status`.
//! One sync runs at a time per data directory (a lock file).
//!
//! Not here: distro trackers and NVD (each would be one more source function beside
//! `sync_file` / `osv::sync_ecosystem` with its own validator), offline import (that is
//! `patchpilot_advisory_db::import`), and drawing progress bars (the CLI, from
//! [`Progress`]).

mod http;
mod osv;
mod state;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use http::Validators;
pub use osv::{dir_name, is_safe_id, parse_modified_ids, url_segment, ModifiedRow};
pub use state::{load as load_state, SourceState, State, STATE_VERSION};

/// The folder under the data directory that holds feed files and the state.
pub const FEEDS_DIR: &str = "feeds";
/// The public osv.dev bucket.
pub const DEFAULT_OSV_BASE: &str = "https://osv-vulnerabilities.storage.googleapis.com";
/// CISA's KEV catalog.
pub const DEFAULT_KEV_URL: &str =
    "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";
/// FIRST's current EPSS scores.
pub const DEFAULT_EPSS_URL: &str = "https://epss.cyentia.com/epss_scores-current.csv.gz";

/// What went wrong, naming the URL or path. One line.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{url}: {reason}")]
    Http { url: String, reason: String },
    #[error("{url}: HTTP status {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: larger than the limit of {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: rejected, previous data kept: {reason}")]
    Invalid { url: String, reason: String },
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: bad feed state ({reason}); delete it to sync from scratch", path.display())]
    State { path: PathBuf, reason: String },
    #[error("import: {0}")]
    Import(patchpilot_advisory_db::DbError),
    #[error("feed config: {0}")]
    Config(String),
}

/// Where to download from and how hard to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// OSV bucket or mirror; files are `<osv_base>/<ECOSYSTEM>/all.zip` etc.
    pub osv_base: String,
    /// OSV ecosystem names as the bucket spells them (`crates.io`, `PyPI`, `Go`).
    pub ecosystems: Vec<String>,
    /// `None` skips the source.
    pub kev_url: Option<String>,
    pub epss_url: Option<String>,
    /// Connect and per-read timeout.
    pub timeout: Duration,
    /// Retries after the first attempt, for 5xx, 429 and connection errors.
    pub retries: u32,
    /// First retry delay; doubles each retry up to `backoff_max`.
    pub backoff: Duration,
    pub backoff_max: Duration,
    /// Largest file accepted.
    pub max_bytes: u64,
    /// Download `all.zip` again even when increments would do.
    pub osv_full_refresh: bool,
    /// More changed records than this are fetched as one `all.zip` instead.
    pub osv_max_incremental: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            osv_base: DEFAULT_OSV_BASE.into(),
            ecosystems: ["crates.io", "Go", "npm", "PyPI"].map(String::from).into(),
            kev_url: Some(DEFAULT_KEV_URL.into()),
            epss_url: Some(DEFAULT_EPSS_URL.into()),
            timeout: Duration::from_secs(30),
            retries: 4,
            backoff: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            max_bytes: 2 << 30,
            osv_full_refresh: false,
            osv_max_incremental: 2000,
        }
    }
}

impl Config {
    /// Refuse URLs that are not http(s) and ecosystem names that are not one path segment.
    pub fn validate(&self) -> Result<(), FeedError> {
        let urls = [
            Some(&self.osv_base),
            self.kev_url.as_ref(),
            self.epss_url.as_ref(),
        ];
        for url in urls.into_iter().flatten() {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(FeedError::Config(format!("{url}: not an http(s) URL")));
            }
        }
        for eco in &self.ecosystems {
            if eco.is_empty() || eco == "." || eco == ".." || eco.contains(['/', '\\']) {
                return Err(FeedError::Config(format!("bad OSV ecosystem name {eco:?}")));
            }
        }
        Ok(())
    }
}

/// Progress, for a progress bar.
#[derive(Debug)]
pub enum Progress<'a> {
    /// Body bytes of the current download of `source`; `total` when the server said.
    Download {
        source: &'a str,
        done: u64,
        total: Option<u64>,
    },
    /// The advisory database import of an OSV source.
    Import(&'a patchpilot_advisory_db::Progress),
}

/// What a sync did to one source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The stored data changed (false: everything answered 304 or nothing was newer).
    pub changed: bool,
    /// Body bytes received, all attempts.
    pub transferred: u64,
    /// Set when the completing request continued an interrupted download from this byte
    /// (with several interruptions, the last one).
    pub resumed_from: Option<u64>,
    /// Records in the source after the sync.
    pub records: usize,
    /// OSV: `all.zip` was downloaded and imported.
    pub full_import: bool,
    /// OSV: record ids fetched through `modified_id.csv`.
    pub fetched: Vec<String>,
}

/// One source's result.
#[derive(Debug)]
pub struct SourceReport {
    /// `kev`, `epss`, `osv/<ECOSYSTEM>`.
    pub name: String,
    pub result: Result<Outcome, FeedError>,
}

/// What [`sync`] did, source by source. One failing source does not stop the others.
#[derive(Debug, Default)]
pub struct SyncReport {
    pub sources: Vec<SourceReport>,
}

impl SyncReport {
    pub fn errors(&self) -> impl Iterator<Item = (&str, &FeedError)> {
        self.sources
            .iter()
            .filter_map(|s| s.result.as_ref().err().map(|e| (s.name.as_str(), e)))
    }

    pub fn is_ok(&self) -> bool {
        self.errors().next().is_none()
    }

    pub fn get(&self, name: &str) -> Option<&Result<Outcome, FeedError>> {
        self.sources
            .iter()
            .find(|s| s.name == name)
            .map(|s| &s.result)
    }
}

/// A source as `patchpilot feeds status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceStatus {
    pub name: String,
    pub url: String,
    /// Unix seconds of the last successful sync.
    pub synced_at: u64,
    /// Unix seconds of the last change.
    pub updated_at: u64,
    /// Seconds since the last successful sync.
    pub age_secs: u64,
    pub records: usize,
    /// OSV: the newest `modified` imported.
    pub newest_modified: Option<String>,
}

impl SourceStatus {
    /// Older than `limit`: scans should warn.
    pub fn is_stale(&self, limit: Duration) -> bool {
        self.age_secs > limit.as_secs()
    }
}

/// `<data_dir>/feeds/kev.json`.
pub fn kev_file(data_dir: &Path) -> PathBuf {
    data_dir.join(FEEDS_DIR).join("kev.json")
}

/// `<data_dir>/feeds/epss.csv.gz` (plain CSV if the mirror served that).
pub fn epss_file(data_dir: &Path) -> PathBuf {
    data_dir.join(FEEDS_DIR).join("epss.csv.gz")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Every synced source with its age, sorted by name.
pub fn status(data_dir: &Path) -> Result<Vec<SourceStatus>, FeedError> {
    status_at(data_dir, now())
}

/// [`status`] as of `now` (unix seconds).
pub fn status_at(data_dir: &Path, now: u64) -> Result<Vec<SourceStatus>, FeedError> {
    Ok(state::load(data_dir)?
        .sources
        .into_iter()
        .map(|(name, s)| SourceStatus {
            name,
            url: s.url,
            synced_at: s.synced_at,
            updated_at: s.updated_at,
            age_secs: now.saturating_sub(s.synced_at),
            records: s.records,
            newest_modified: s.newest_modified,
        })
        .collect())
}

/// The shared context of one sync.
pub(crate) struct Syncer<'a> {
    data_dir: &'a Path,
    feeds_dir: PathBuf,
    cfg: &'a Config,
    client: http::Client,
    state: State,
    now: u64,
}

impl Syncer<'_> {
    fn save_source(&mut self, name: &str, entry: SourceState) -> Result<(), FeedError> {
        self.state.sources.insert(name.to_string(), entry);
        state::save(self.data_dir, &self.state)
    }
}

/// Sync every configured source. `Err` only when nothing could start (bad config, state
/// or data directory); per-source failures are in the report.
pub fn sync(
    data_dir: &Path,
    cfg: &Config,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<SyncReport, FeedError> {
    cfg.validate()?;
    let feeds_dir = data_dir.join(FEEDS_DIR);
    fs::create_dir_all(&feeds_dir).map_err(|error| FeedError::Io {
        path: feeds_dir.clone(),
        error,
    })?;
    let lock_path = feeds_dir.join("sync.lock");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .and_then(|f| fs4::FileExt::lock(&f).map(|()| f))
        .map_err(|error| FeedError::Io {
            path: lock_path,
            error,
        })?;
    let mut s = Syncer {
        data_dir,
        feeds_dir,
        cfg,
        client: http::Client::new(cfg),
        state: state::load(data_dir)?,
        now: now(),
    };
    let mut report = SyncReport::default();
    for eco in &cfg.ecosystems {
        let result = osv::sync_ecosystem(&mut s, eco, progress);
        report.sources.push(SourceReport {
            name: format!("osv/{eco}"),
            result,
        });
    }
    let files: [(&str, &Option<String>, PathBuf, Validate); 2] = [
        ("kev", &cfg.kev_url, kev_file(data_dir), validate_kev),
        ("epss", &cfg.epss_url, epss_file(data_dir), validate_epss),
    ];
    for (name, url, target, validate) in files {
        if let Some(url) = url {
            let result = sync_file(&mut s, name, url, &target, validate, progress);
            report.sources.push(SourceReport {
                name: name.to_string(),
                result,
            });
        }
    }
    drop(lock);
    Ok(report)
}

/// Parse a complete download; the number of records, or why it is refused.
type Validate = fn(&[u8]) -> Result<usize, String>;

fn validate_kev(bytes: &[u8]) -> Result<usize, String> {
    let catalog = patchpilot_intel::parse_kev(bytes).map_err(|e| e.to_string())?;
    if catalog.is_empty() {
        return Err("the KEV catalog has no entries".into());
    }
    Ok(catalog.len())
}

fn validate_epss(bytes: &[u8]) -> Result<usize, String> {
    let scores = patchpilot_intel::parse_epss(bytes).map_err(|e| e.to_string())?;
    if scores.is_empty() {
        return Err("the EPSS file has no scores".into());
    }
    Ok(scores.len())
}

/// A source that is one file: download, validate, rename into place.
fn sync_file(
    s: &mut Syncer<'_>,
    name: &str,
    url: &str,
    target: &Path,
    validate: Validate,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Outcome, FeedError> {
    let mut entry = s
        .state
        .sources
        .get(name)
        .filter(|e| target.is_file() && e.url == url)
        .cloned();
    let known = entry.as_ref().map(|e| e.validators.clone());
    let mut out = Outcome::default();
    match s.client.download(
        name,
        url,
        &http::part_path(target),
        known.as_ref(),
        progress,
    )? {
        http::Fetch::NotModified => {}
        http::Fetch::Complete {
            part,
            validators,
            transferred,
            resumed_from,
        } => {
            out.transferred = transferred;
            out.resumed_from = resumed_from;
            let checked = fs::read(&part)
                .map_err(|error| FeedError::Io {
                    path: part.clone(),
                    error,
                })
                .and_then(|bytes| {
                    validate(&bytes).map_err(|reason| FeedError::Invalid {
                        url: url.to_string(),
                        reason,
                    })
                });
            let records = match checked {
                Ok(n) => n,
                Err(e) => {
                    http::discard_part(&part);
                    return Err(e);
                }
            };
            fs::rename(&part, target).map_err(|error| FeedError::Io {
                path: target.to_path_buf(),
                error,
            })?;
            if let Ok(dir) = fs::File::open(&s.feeds_dir) {
                let _ = dir.sync_all();
            }
            let e = entry.get_or_insert_with(SourceState::default);
            e.validators = validators;
            e.records = records;
            e.updated_at = s.now;
            out.changed = true;
        }
    }
    let mut e = entry.unwrap_or_default();
    e.url = url.to_string();
    e.synced_at = s.now;
    out.records = e.records;
    s.save_source(name, e)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_validation() {
        assert!(Config::default().validate().is_ok());
        let bad = [
            Config {
                kev_url: Some("ftp://x".into()),
                ..Config::default()
            },
            Config {
                osv_base: "/srv/osv".into(),
                ..Config::default()
            },
            Config {
                ecosystems: vec!["../etc".into()],
                ..Config::default()
            },
            Config {
                ecosystems: vec![String::new()],
                ..Config::default()
            },
        ];
        for cfg in bad {
            assert!(
                matches!(cfg.validate(), Err(FeedError::Config(_))),
                "{cfg:?}"
            );
        }
    }

    #[test]
    fn status_ages_and_staleness() {
        let dir = tempfile::tempdir().unwrap();
        assert!(status(dir.path()).unwrap().is_empty());
        fs::create_dir_all(dir.path().join(FEEDS_DIR)).unwrap();
        let mut st = State::default();
        st.sources.insert(
            "kev".into(),
            SourceState {
                url: "http://k".into(),
                synced_at: 1_000,
                updated_at: 900,
                records: 7,
                ..SourceState::default()
            },
        );
        state::save(dir.path(), &st).unwrap();
        let s = status_at(dir.path(), 1_000 + 3 * 86_400).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].name.as_str(), s[0].records), ("kev", 7));
        assert_eq!(s[0].age_secs, 3 * 86_400);
        assert!(s[0].is_stale(Duration::from_secs(2 * 86_400)));
        assert!(!s[0].is_stale(Duration::from_secs(4 * 86_400)));
    }
}
