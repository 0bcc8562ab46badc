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
//! - **Distro trackers** (optional): the Debian security tracker JSON and Alpine secdb files
//!   (one per branch and repository), converted by `patchpilot-distro` and imported into the
//!   advisory database like `feeds import` does (see `distro.rs`).
//! - **NVD CVE API 2.0** (optional, only with an API key): pages of CVE records for the
//!   CVSS vectors OSV lacks, fetched incrementally by `lastModified` in windows of at most
//!   120 days under a request rate limit, merged into `<data_dir>/feeds/nvd.json`
//!   ([`nvd_file`]; see `nvd.rs`).
//! - **Red Hat CSAF VEX** (optional): the full archive once, then the documents
//!   `changes.csv` and `deletions.csv` name, converted by `patchpilot-distro` and imported
//!   into the advisory database (see `redhat.rs`).
//!
//! Every download follows the same rules (`http.rs`): conditional requests from the
//! stored ETag / Last-Modified (a 304 transfers nothing), bounded retries with exponential
//! backoff on 5xx, 429 and connection errors, a size cap, resume of an interrupted body
//! with `Range` + `If-Range` into a `.part` file, and the swap into place only after the
//! complete file passed its parser ([`patchpilot_intel::parse_kev`], `parse_epss`,
//! `parse_nvd`, the OSV parser, the distro converters). A bad download therefore changes
//! nothing: the previous file and database stay byte-for-byte as they were, and the error
//! names the URL and the reason.
//!
//! What each source last served is in `<data_dir>/feeds/state.json` ([`State`]), saved
//! after each source that succeeds; [`status`] reads it for `patchpilot feeds status`.
//! One sync runs at a time per data directory (a lock file, also taken by
//! [`import_nvd`]).
//!
//! Not here: offline import of OSV files (that is `patchpilot_advisory_db::import`), and
//! drawing progress bars (the CLI, from [`Progress`]).

mod distro;
mod http;
mod nvd;
mod osv;
mod redhat;
mod state;
mod status;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use http::Validators;
pub use nvd::{import_nvd, load_nvd, nvd_windows, NvdImport};
pub use osv::{dir_name, is_safe_id, parse_modified_ids, url_segment, ModifiedRow};
pub use redhat::{advisory_id_of, archive_date, doc_key, parse_vex_index, VexRow};
pub use state::{load as load_state, SourceState, State, STATE_VERSION};
pub use status::{intel_status, missing, IntelStatus};

/// The folder under the data directory that holds feed files and the state.
pub const FEEDS_DIR: &str = "feeds";
/// The public osv.dev bucket.
pub const DEFAULT_OSV_BASE: &str = "https://osv-vulnerabilities.storage.googleapis.com";
/// CISA's KEV catalog.
pub const DEFAULT_KEV_URL: &str =
    "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";
/// FIRST's current EPSS scores.
pub const DEFAULT_EPSS_URL: &str = "https://epss.cyentia.com/epss_scores-current.csv.gz";
/// The Debian security tracker's JSON export.
pub const DEFAULT_DEBIAN_URL: &str = "https://security-tracker.debian.org/tracker/data/json";
/// Alpine's secdb; files are `<base>/<branch>/<repo>.json`.
pub const DEFAULT_ALPINE_BASE: &str = "https://secdb.alpinelinux.org";
/// Alpine branches synced when none are configured.
pub const DEFAULT_ALPINE_BRANCHES: [&str; 4] = ["v3.19", "v3.20", "v3.21", "v3.22"];
/// The repositories of a branch given without one.
pub const ALPINE_REPOS: [&str; 2] = ["main", "community"];
/// Red Hat's CSAF VEX folder (`archive_latest.txt`, `changes.csv`, `<year>/cve-….json`).
pub const DEFAULT_REDHAT_BASE: &str = "https://security.access.redhat.com/data/csaf/v2/vex";
/// The NVD CVE API 2.0.
pub const DEFAULT_NVD_URL: &str = "https://services.nvd.nist.gov/rest/json/cves/2.0";
/// NVD's limit for clients with an API key: 50 requests in a rolling 30 seconds.
pub const NVD_RATE_WITH_KEY: RateLimit = RateLimit {
    requests: 50,
    per: Duration::from_secs(30),
};
/// NVD's largest page (`resultsPerPage`) for the CVE API.
pub const NVD_MAX_PAGE: u32 = 2000;
/// NVD's longest `lastModStartDate`..`lastModEndDate` range, in days.
pub const NVD_MAX_WINDOW_DAYS: u32 = 120;

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
    #[error("{}: unreadable ({reason}); delete it to rebuild it from the next sync", path.display())]
    Corrupt { path: PathBuf, reason: String },
}

/// At most `requests` requests in any `per` (a rolling window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub per: Duration,
}

/// An API key: kept out of `Debug` output, logs and error messages.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// `None` for an empty or blank key.
    pub fn new(key: impl Into<String>) -> Option<ApiKey> {
        let key = key.into().trim().to_string();
        (!key.is_empty()).then_some(ApiKey(key))
    }

    /// As [`ApiKey::new`], but a key that cannot be sent in an HTTP header (anything but
    /// printable ASCII without spaces) is an error, said once instead of retried: NVD
    /// keys are UUIDs. The message never quotes the key.
    pub fn parse(key: impl Into<String>) -> Result<Option<ApiKey>, String> {
        match ApiKey::new(key) {
            Some(k) if !k.0.bytes().all(|b| b.is_ascii_graphic()) => Err(
                "the NVD API key must be printable ASCII without spaces (NVD keys are UUIDs)"
                    .into(),
            ),
            k => Ok(k),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// Alpine secdb: which files under which base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlpineConfig {
    /// `https://secdb.alpinelinux.org` or a mirror.
    pub base: String,
    /// `v3.20` (its `main` and `community` repositories), `v3.20/main` (one repository,
    /// `.json`), or `v3.20/main.yaml` (that exact file).
    pub branches: Vec<String>,
}

impl Default for AlpineConfig {
    fn default() -> Self {
        AlpineConfig {
            base: DEFAULT_ALPINE_BASE.into(),
            branches: DEFAULT_ALPINE_BRANCHES.map(String::from).into(),
        }
    }
}

impl AlpineConfig {
    /// The files to fetch, as paths under the base (`v3.20/main.json`), in order, without
    /// duplicates; an error names a branch entry that is not a safe relative path.
    pub fn files(&self) -> Result<Vec<String>, FeedError> {
        let mut out: Vec<String> = Vec::new();
        for b in &self.branches {
            let b = b.trim().trim_matches('/');
            let segments: Vec<&str> = b.split('/').collect();
            let safe = |seg: &str| {
                !seg.is_empty()
                    && !seg.starts_with('.')
                    && seg
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
            };
            if segments.len() > 2 || !segments.iter().all(|s| safe(s)) {
                return Err(FeedError::Config(format!(
                    "bad Alpine branch {b:?} (expected e.g. v3.20, v3.20/main or v3.20/main.json)"
                )));
            }
            let files: Vec<String> = match segments.as_slice() {
                [branch] => ALPINE_REPOS
                    .iter()
                    .map(|r| format!("{branch}/{r}.json"))
                    .collect(),
                [branch, file] if file.ends_with(".json") || file.ends_with(".yaml") => {
                    vec![format!("{branch}/{file}")]
                }
                [branch, repo] => vec![format!("{branch}/{repo}.json")],
                _ => Vec::new(),
            };
            for f in files {
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
        Ok(out)
    }
}

/// Red Hat CSAF VEX: where, and when an increment is not worth it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedHatConfig {
    /// [`DEFAULT_REDHAT_BASE`] or a mirror of that folder.
    pub base: String,
    /// More changed or deleted documents than this since the last sync are taken from the
    /// newest full archive instead. Default 5,000.
    pub max_incremental: usize,
    /// Documents downloaded at a time in an increment. Default 8.
    pub parallel: usize,
}

impl Default for RedHatConfig {
    fn default() -> Self {
        RedHatConfig {
            base: DEFAULT_REDHAT_BASE.into(),
            max_incremental: 5000,
            parallel: 8,
        }
    }
}

/// The NVD source: enabled only with an API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NvdConfig {
    /// The CVE API endpoint (`…/rest/json/cves/2.0`) or a mirror of it.
    pub url: String,
    /// Sent as the `apiKey` header.
    pub api_key: ApiKey,
    /// `resultsPerPage`, 1..=2000.
    pub page_size: u32,
    /// Requests per rolling window ([`NVD_RATE_WITH_KEY`] upstream).
    pub rate: RateLimit,
    /// `lastModStartDate`..`lastModEndDate` range, 1..=120 days.
    pub window_days: u32,
}

impl NvdConfig {
    /// NVD upstream with this key.
    pub fn new(api_key: ApiKey) -> NvdConfig {
        NvdConfig {
            url: DEFAULT_NVD_URL.into(),
            api_key,
            page_size: NVD_MAX_PAGE,
            rate: NVD_RATE_WITH_KEY,
            window_days: NVD_MAX_WINDOW_DAYS,
        }
    }
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
    /// Download `all.zip` (and Red Hat's archive) again even when increments would do.
    pub osv_full_refresh: bool,
    /// More changed records than this are fetched as one `all.zip` instead.
    pub osv_max_incremental: usize,
    /// The Debian security tracker JSON; `None` skips it (the default).
    pub debian_url: Option<String>,
    /// Alpine secdb; `None` skips it (the default).
    pub alpine: Option<AlpineConfig>,
    /// NVD CVE API 2.0; `None` (no API key) skips it (the default).
    pub nvd: Option<NvdConfig>,
    /// Red Hat CSAF VEX; `None` skips it (the default).
    pub redhat: Option<RedHatConfig>,
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
            debian_url: None,
            alpine: None,
            nvd: None,
            redhat: None,
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
            self.debian_url.as_ref(),
            self.alpine.as_ref().map(|a| &a.base),
            self.nvd.as_ref().map(|n| &n.url),
            self.redhat.as_ref().map(|r| &r.base),
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
        if let Some(a) = &self.alpine {
            if a.files()?.is_empty() {
                return Err(FeedError::Config("no Alpine branch to sync".into()));
            }
        }
        if let Some(n) = &self.nvd {
            if !(1..=NVD_MAX_PAGE).contains(&n.page_size) {
                return Err(FeedError::Config(format!(
                    "NVD page size {}: expected 1 to {NVD_MAX_PAGE}",
                    n.page_size
                )));
            }
            if !(1..=NVD_MAX_WINDOW_DAYS).contains(&n.window_days) {
                return Err(FeedError::Config(format!(
                    "NVD window of {} days: expected 1 to {NVD_MAX_WINDOW_DAYS}",
                    n.window_days
                )));
            }
            if n.rate.requests == 0 {
                return Err(FeedError::Config(
                    "NVD rate limit: at least 1 request per window".into(),
                ));
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
    /// Documents fetched one by one (Red Hat's changed VEX documents).
    Documents {
        source: &'a str,
        done: u64,
        total: u64,
    },
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
    /// OSV: record ids fetched through `modified_id.csv`; Red Hat: documents fetched
    /// through `changes.csv` (`2024/cve-2024-1234.json`).
    pub fetched: Vec<String>,
    /// Documents skipped because they did not convert, one line each (`name: reason`).
    pub rejected: Vec<String>,
}

/// One source's result.
#[derive(Debug)]
pub struct SourceReport {
    /// `kev`, `epss`, `osv/<ECOSYSTEM>`, `debian`, `alpine`, `redhat`, `nvd`.
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

/// The command that syncs the whole feed for packages of `ecosystem` (at `release`, e.g.
/// an Alpine branch), as a scan suggests it where the database has no advisories;
/// `None` when no feed for it is known.
pub fn sync_hint(ecosystem: &patchpilot_osv::Ecosystem, release: Option<&str>) -> Option<String> {
    use patchpilot_osv::Ecosystem as E;
    let flags = match ecosystem {
        E::Debian => "--distro debian".to_string(),
        E::Alpine => match release {
            Some(r) => format!("--distro alpine --alpine-branch {r}"),
            None => "--distro alpine".to_string(),
        },
        E::RedHat => "--distro redhat".to_string(),
        E::Other(_) => return None,
        // OSV ecosystems, named as the bucket names them.
        other => {
            let name = other.as_str();
            if name.contains(' ') {
                format!("--ecosystem '{name}'")
            } else {
                format!("--ecosystem {name}")
            }
        }
    };
    Some(format!("run `patchpilot feeds sync {flags}`"))
}

/// `<data_dir>/feeds/kev.json`.
pub fn kev_file(data_dir: &Path) -> PathBuf {
    data_dir.join(FEEDS_DIR).join("kev.json")
}

/// `<data_dir>/feeds/epss.csv.gz` (plain CSV if the mirror served that).
pub fn epss_file(data_dir: &Path) -> PathBuf {
    data_dir.join(FEEDS_DIR).join("epss.csv.gz")
}

/// `<data_dir>/feeds/nvd.json`: the compact NVD store ([`patchpilot_intel::NvdStore`]).
pub fn nvd_file(data_dir: &Path) -> PathBuf {
    data_dir.join(FEEDS_DIR).join("nvd.json")
}

/// Take the per-data-directory sync lock (blocks while another sync holds it).
fn lock(feeds_dir: &Path) -> Result<fs::File, FeedError> {
    fs::create_dir_all(feeds_dir).map_err(|error| FeedError::Io {
        path: feeds_dir.to_path_buf(),
        error,
    })?;
    let lock_path = feeds_dir.join("sync.lock");
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .and_then(|f| fs4::FileExt::lock(&f).map(|()| f))
        .map_err(|error| FeedError::Io {
            path: lock_path,
            error,
        })
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
    let lock = lock(&feeds_dir)?;
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
    if let Some(url) = &cfg.debian_url {
        let result = distro::sync_debian(&mut s, url, progress);
        report.sources.push(SourceReport {
            name: "debian".into(),
            result,
        });
    }
    if let Some(alpine) = &cfg.alpine {
        let result = distro::sync_alpine(&mut s, alpine, progress);
        report.sources.push(SourceReport {
            name: "alpine".into(),
            result,
        });
    }
    if let Some(redhat) = &cfg.redhat {
        let result = redhat::sync_redhat(&mut s, redhat, progress);
        report.sources.push(SourceReport {
            name: "redhat".into(),
            result,
        });
    }
    if let Some(nvd) = &cfg.nvd {
        let result = nvd::sync_nvd(&mut s, nvd, progress);
        report.sources.push(SourceReport {
            name: "nvd".into(),
            result,
        });
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
