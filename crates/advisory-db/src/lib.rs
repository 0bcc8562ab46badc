//! The local advisory database: OSV records imported from `all.zip` archives, record
//! directories or single files, stored in one file, `<data_dir>/advisories.db`.
//!
//! Design:
//! - **One file, sections per ecosystem.** [`Database::open`] reads the file and decodes
//!   it with bincode (see `format.rs` for the layout: magic, format version, CRC-32, a
//!   table, then one section per ecosystem). [`Database::open_for`] decodes only the
//!   sections a scan needs, so scanning a `Cargo.lock` does not pay for the Go and PyPI
//!   records. No JSON is parsed at open time; OSV records were validated once, at import.
//!   Free-form JSON blobs (`database_specific`) are stored as text because bincode is not
//!   self-describing.
//! - **Imports are transactions.** [`import`] takes an exclusive lock on
//!   `advisories.db.lock` (so two imports serialize instead of losing each other's
//!   records), reads and parses *every* input first, merges by id (an equal or newer
//!   `modified` replaces), writes a temp file in the same directory, fsyncs it and renames
//!   it over the old file. An unreadable input is an error before anything is written, so
//!   the previous file stays byte-for-byte identical. Readers never need the lock: the
//!   rename is atomic, they see the old or the new file.
//! - **Every source says what it covers** ([`SourceInfo::coverage`], see `coverage.rs`): a
//!   whole feed of some ecosystems or releases, or individual records. A scan asks
//!   [`Database::coverage`] for each ecosystem and release it met, so "no findings" on a
//!   Debian host with only language feeds imported reads "not checked", not "clean".
//! - **Malformed records are not fatal.** They are returned in
//!   [`ImportSummary::rejected`] by name (`PyPI/all.zip:PYSEC-2021-1.json`) and the rest
//!   imports.
//! - An incompatible or corrupt database makes [`Database::open`] fail with "run
//!   `patchpilot feeds import` again"; [`import`] then starts from an empty database and
//!   says so in [`ImportSummary::discarded`].
//! - **A whole file can travel.** Server replicas share the database through their store:
//!   [`Database::open_with_file`] returns the bytes a database was decoded from (so the
//!   copy shared is exactly the one loaded), [`Database::from_file_bytes`] decodes a
//!   received copy with the same checks as a file, and [`install`] writes it with the
//!   import's lock, temp file and rename.
//!
//! Not here: matching (the matcher crate) and downloading feeds (the CLI).

mod coverage;
mod format;
mod source;

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

pub use coverage::{key as coverage_key, keys as coverage_keys, Coverage, SourceCoverage};
pub use format::FORMAT_VERSION;
pub use patchpilot_osv::Advisory;
pub use patchpilot_types::CoverageState;
use serde::{Deserialize, Serialize};

/// The database file name inside the data directory.
pub const FILE_NAME: &str = "advisories.db";
/// The lock file held during an import.
pub const LOCK_FILE_NAME: &str = "advisories.db.lock";

const IMPORT_AGAIN: &str = "run `patchpilot feeds import` again";

/// What went wrong, with the path it concerns. One line.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: {reason}", path.display())]
    Archive { path: PathBuf, reason: String },
    #[error("{}: unsupported input (expected an OSV all.zip, a directory of records, or a .json/.yaml/.yml record)", path.display())]
    Unsupported { path: PathBuf },
    #[error("{}: database format version {found}, this build reads version {expected}; {IMPORT_AGAIN}", path.display())]
    Incompatible {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("{}: corrupt advisory database ({reason}); {IMPORT_AGAIN}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("{}: cannot write the database: {reason}", path.display())]
    Write { path: PathBuf, reason: String },
}

/// How a source was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceKind {
    /// An OSV `all.zip`.
    Zip,
    /// A directory tree of `.json` / `.yaml` / `.yml` records.
    Directory,
    /// One record file.
    File,
    /// A distro tracker file (Debian security tracker JSON, Alpine secdb) converted to
    /// OSV records by `patchpilot-distro`.
    Converted,
}

/// One imported source, as last imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Short label: `PyPI/all.zip`, a directory or file name.
    pub name: String,
    /// Absolute path at import time; a re-import of the same path replaces this entry.
    pub path: String,
    pub kind: SourceKind,
    /// Unix seconds.
    pub imported_at: u64,
    /// Valid records read from it.
    pub records: usize,
    /// Records rejected as malformed.
    pub rejected: usize,
    /// What it covers (a whole feed, or individual records: see `coverage.rs`); `None` for
    /// a source imported by a build before format 4, which did not record it.
    pub coverage: Option<SourceCoverage>,
}

/// A record that was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// `PyPI/all.zip:PYSEC-2021-1.json`, or the file's path.
    pub name: String,
    /// One line, from the OSV validator.
    pub reason: String,
}

/// What an [`import`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// Valid records read from the inputs.
    pub imported: usize,
    /// Of those, ids new to the database.
    pub added: usize,
    /// Of those, replacing a record with an equal or older `modified`.
    pub updated: usize,
    /// Of those, ignored because the database holds a newer version.
    pub kept_newer: usize,
    pub rejected: Vec<Rejected>,
    /// The inputs of this import.
    pub sources: Vec<SourceInfo>,
    pub total_in_db: usize,
    /// Set when the previous database could not be read (other format version, corrupt)
    /// and was replaced rather than merged into: the reason.
    pub discarded: Option<String>,
}

/// Import progress, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// A source begins; `records` is the number of entries to look at.
    Start {
        source: String,
        records: u64,
    },
    /// One entry done.
    Record,
    Done {
        source: String,
    },
}

/// The advisory database, loaded in memory. Advisories are sorted by id.
#[derive(Debug)]
pub struct Database {
    path: PathBuf,
    written_at: Option<u64>,
    advisories: Vec<Advisory>,
    sources: Vec<SourceInfo>,
    /// alias → advisory indexes, built on first use.
    aliases: OnceLock<HashMap<String, Vec<usize>>>,
}

fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// Read the database file; `Ok(None)` when it does not exist.
fn load(path: &Path) -> Result<Option<format::Payload>, DbError> {
    load_only(path, None)
}

/// Read the database file, decoding only the sections of `only` (all when `None`).
fn load_only(path: &Path, only: Option<&[&str]>) -> Result<Option<format::Payload>, DbError> {
    let opened = fs::File::open(path).and_then(|f| {
        let len = f.metadata()?.len();
        Ok((std::io::BufReader::with_capacity(1 << 16, f), len))
    });
    let (mut file, len) = match opened {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(DbError::Io {
                path: path.to_path_buf(),
                error,
            })
        }
    };
    format::decode_only(&mut file, len, only)
        .map(Some)
        .map_err(|e| decode_error(path, e))
}

/// Decode a database file held in memory (`path` names it in errors).
fn decode_bytes(
    path: &Path,
    bytes: &[u8],
    only: Option<&[&str]>,
) -> Result<format::Payload, DbError> {
    format::decode_only(&mut std::io::Cursor::new(bytes), bytes.len() as u64, only)
        .map_err(|e| decode_error(path, e))
}

fn decode_error(path: &Path, e: format::DecodeError) -> DbError {
    match e {
        format::DecodeError::Version(found) => DbError::Incompatible {
            path: path.to_path_buf(),
            found,
            expected: FORMAT_VERSION,
        },
        format::DecodeError::Corrupt(reason) => DbError::Corrupt {
            path: path.to_path_buf(),
            reason,
        },
    }
}

impl Database {
    /// Open `<data_dir>/advisories.db`; an empty database if the file does not exist.
    pub fn open(data_dir: &Path) -> Result<Database, DbError> {
        Self::open_sections(data_dir, None)
    }

    /// Open the database for matching: only the advisories that affect these ecosystems
    /// (OSV names without release, e.g. `crates.io`, `Debian`), and without their
    /// `details` text, which matching and reports never need. Sources and metadata are
    /// complete; `len()` counts only what was loaded.
    pub fn open_for(data_dir: &Path, ecosystems: &[&str]) -> Result<Database, DbError> {
        Self::open_sections(data_dir, Some(ecosystems))
    }

    fn open_sections(data_dir: &Path, only: Option<&[&str]>) -> Result<Database, DbError> {
        let path = db_path(data_dir);
        let payload = load_only(&path, only)?;
        Ok(Database::from_payload(path, payload))
    }

    fn from_payload(path: PathBuf, payload: Option<format::Payload>) -> Database {
        let written_at = payload.as_ref().map(|p| p.written_at);
        let p = payload.unwrap_or_default();
        Database {
            path,
            written_at,
            advisories: p.advisories,
            sources: p.sources,
            aliases: OnceLock::new(),
        }
    }

    /// [`Database::open`], also returning the file's bytes (`None` when there is no file):
    /// the file is read once, so the bytes are exactly what was decoded even if an import
    /// replaces the file meanwhile.
    pub fn open_with_file(data_dir: &Path) -> Result<(Database, Option<Vec<u8>>), DbError> {
        let path = db_path(data_dir);
        match fs::read(&path) {
            Ok(bytes) => Ok((Database::from_file_bytes(data_dir, &bytes)?, Some(bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok((Database::from_payload(path, None), None))
            }
            Err(error) => Err(DbError::Io { path, error }),
        }
    }

    /// Decode a whole database file held in memory (a copy received from elsewhere) with
    /// the checks [`Database::open`] applies to the file; `data_dir` is where it belongs
    /// ([`Database::path`]).
    pub fn from_file_bytes(data_dir: &Path, bytes: &[u8]) -> Result<Database, DbError> {
        let path = db_path(data_dir);
        let payload = decode_bytes(&path, bytes, None)?;
        Ok(Database::from_payload(path, Some(payload)))
    }

    /// The database file (which may not exist yet).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// When the file was written (unix seconds); `None` for a database never imported.
    pub fn written_at(&self) -> Option<u64> {
        self.written_at
    }

    /// All advisories, sorted by id.
    pub fn advisories(&self) -> &[Advisory] {
        &self.advisories
    }

    /// The advisory with this id.
    pub fn get(&self, id: &str) -> Option<&Advisory> {
        self.advisories
            .binary_search_by(|a| a.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.advisories[i])
    }

    fn alias_index(&self) -> &HashMap<String, Vec<usize>> {
        self.aliases.get_or_init(|| {
            let mut m: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, a) in self.advisories.iter().enumerate() {
                for alias in &a.aliases {
                    m.entry(alias.clone()).or_default().push(i);
                }
            }
            m
        })
    }

    /// The advisory with this id, else the first (by id) that has it as an alias.
    pub fn find(&self, id_or_alias: &str) -> Option<&Advisory> {
        self.get(id_or_alias).or_else(|| {
            let i = *self.alias_index().get(id_or_alias)?.first()?;
            Some(&self.advisories[i])
        })
    }

    /// Every advisory with this id or alias (`CVE-2021-1` may be in several databases).
    pub fn find_all(&self, id_or_alias: &str) -> Vec<&Advisory> {
        let mut out: Vec<&Advisory> = self.get(id_or_alias).into_iter().collect();
        if let Some(ix) = self.alias_index().get(id_or_alias) {
            out.extend(ix.iter().map(|&i| &self.advisories[i]));
        }
        out
    }

    pub fn len(&self) -> usize {
        self.advisories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.advisories.is_empty()
    }

    /// What was imported from where and when, with record counts.
    pub fn sources(&self) -> &[SourceInfo] {
        &self.sources
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Holds the import lock until dropped (closing the file releases it).
struct ImportLock {
    _file: fs::File,
}

fn lock(data_dir: &Path) -> Result<ImportLock, DbError> {
    let path = data_dir.join(LOCK_FILE_NAME);
    let io = |error| DbError::Io {
        path: path.clone(),
        error,
    };
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    // Fully qualified: std's inherent `File::lock` is newer than our MSRV.
    fs4::FileExt::lock(&file).map_err(io)?;
    Ok(ImportLock { _file: file })
}

/// True when `new` should replace `old`: an equal or newer `modified`. Compared as
/// instants, since text order is wrong across precisions.
fn supersedes(new: &Advisory, old: &Advisory) -> bool {
    match (new.modified_time(), old.modified_time()) {
        (Some(n), Some(o)) => n >= o,
        _ => new.modified >= old.modified,
    }
}

/// Import OSV records from each path: an OSV `all.zip`, a directory of
/// `.json`/`.yaml`/`.yml` records (recursive), or a single record file. Records merge into
/// the existing database by id (a newer or equal `modified` replaces). Malformed records
/// are reported in `rejected` and the good ones still import. A missing path, an
/// unreadable or corrupt archive is an `Err` and changes nothing.
pub fn import(
    data_dir: &Path,
    paths: &[PathBuf],
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportSummary, DbError> {
    // Read and parse every input before touching anything (and without the lock: a
    // concurrent import only waits for the merge and write).
    let mut batches = Vec::with_capacity(paths.len());
    for p in paths {
        batches.push(source::read(p, progress)?);
    }
    merge_and_write(data_dir, batches)
}

/// Import advisories already converted from another format (distro tracker files at
/// `path`), with the same transaction and merge rules as [`import`], as individual
/// records ([`SourceCoverage::records_of`]); [`import_converted`] says what they cover.
pub fn import_advisories(
    data_dir: &Path,
    path: &Path,
    name: &str,
    records: Vec<Advisory>,
) -> Result<ImportSummary, DbError> {
    let coverage = SourceCoverage::records_of(&records);
    import_converted(data_dir, path, name, records, coverage)
}

/// [`import_advisories`], recording what the source covers: a whole tracker
/// ([`SourceCoverage::feed_of`]) or individual per-CVE documents.
pub fn import_converted(
    data_dir: &Path,
    path: &Path,
    name: &str,
    records: Vec<Advisory>,
    coverage: SourceCoverage,
) -> Result<ImportSummary, DbError> {
    let mut batch = source::Batch::new(path, name.to_string(), SourceKind::Converted);
    batch.info.records = records.len();
    batch.info.coverage = Some(coverage);
    batch.records = records;
    merge_and_write(data_dir, vec![batch])
}

fn merge_and_write(data_dir: &Path, batches: Vec<source::Batch>) -> Result<ImportSummary, DbError> {
    fs::create_dir_all(data_dir).map_err(|error| DbError::Io {
        path: data_dir.to_path_buf(),
        error,
    })?;
    let _lock = lock(data_dir)?;
    let path = db_path(data_dir);

    let (mut payload, discarded) = match load(&path) {
        Ok(p) => (p.unwrap_or_default(), None),
        Err(e @ (DbError::Incompatible { .. } | DbError::Corrupt { .. })) => {
            (format::Payload::default(), Some(e.to_string()))
        }
        Err(e) => return Err(e),
    };

    let mut index: HashMap<String, usize> = payload
        .advisories
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.clone(), i))
        .collect();
    let imported_at = now();
    let mut summary = ImportSummary {
        imported: 0,
        added: 0,
        updated: 0,
        kept_newer: 0,
        rejected: Vec::new(),
        sources: Vec::new(),
        total_in_db: 0,
        discarded,
    };
    for batch in batches {
        let mut info = batch.info;
        info.imported_at = imported_at;
        summary.imported += batch.records.len();
        summary.rejected.extend(batch.rejected);
        for a in batch.records {
            match index.get(&a.id) {
                Some(&i) if supersedes(&a, &payload.advisories[i]) => {
                    payload.advisories[i] = a;
                    summary.updated += 1;
                }
                Some(_) => summary.kept_newer += 1,
                None => {
                    index.insert(a.id.clone(), payload.advisories.len());
                    payload.advisories.push(a);
                    summary.added += 1;
                }
            }
        }
        payload.sources.retain(|s| s.path != info.path);
        payload.sources.push(info.clone());
        summary.sources.push(info);
    }
    payload.advisories.sort_by(|a, b| a.id.cmp(&b.id));
    payload.written_at = imported_at;
    summary.total_in_db = payload.advisories.len();

    write_atomically(data_dir, &path, &payload)?;
    Ok(summary)
}

/// Make `bytes`, a whole database file received from elsewhere (another server replica's,
/// through the server's store), this data dir's database, the way an import writes one:
/// under the import lock, a temp file in the same directory, fsync, rename. Readers see
/// the old or the new file. The header and table are checked first (bad bytes are an
/// error and change nothing); callers that use the records decode them with
/// [`Database::from_file_bytes`] first.
///
/// `Ok(false)`, and nothing changes, when the file there was written later than `bytes`
/// (by an import here): a local import is never overwritten with an older copy. Written
/// in the same second, the copy wins (it is the one the caller was told to use). An
/// unreadable file there is replaced.
pub fn install(data_dir: &Path, bytes: &[u8]) -> Result<bool, DbError> {
    let path = db_path(data_dir);
    let incoming = decode_bytes(&path, bytes, Some(&[]))?.written_at;
    fs::create_dir_all(data_dir).map_err(|error| DbError::Io {
        path: data_dir.to_path_buf(),
        error,
    })?;
    let _lock = lock(data_dir)?;
    // Only the table: written_at.
    match load_only(&path, Some(&[])) {
        Ok(Some(here)) if here.written_at > incoming => return Ok(false),
        Ok(_) | Err(DbError::Incompatible { .. } | DbError::Corrupt { .. }) => {}
        Err(e) => return Err(e),
    }
    write_bytes_atomically(data_dir, &path, bytes)?;
    Ok(true)
}

fn write_atomically(
    data_dir: &Path,
    path: &Path,
    payload: &format::Payload,
) -> Result<(), DbError> {
    let bytes = format::encode(payload).map_err(|reason| DbError::Write {
        path: path.to_path_buf(),
        reason,
    })?;
    write_bytes_atomically(data_dir, path, &bytes)
}

/// Write `bytes` to `path` through a temp file in `data_dir` and a rename. The caller
/// holds the import lock.
fn write_bytes_atomically(data_dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), DbError> {
    let write_err = |reason: String| DbError::Write {
        path: path.to_path_buf(),
        reason,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".advisories.db.")
        .suffix(".tmp")
        .tempfile_in(data_dir)
        .map_err(|e| write_err(format!("cannot create a temp file: {e}")))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| write_err(e.to_string()))?;
    tmp.persist(path)
        .map_err(|e| write_err(format!("cannot rename the temp file: {}", e.error)))?;
    // Make the rename durable. Directories cannot be opened for syncing everywhere
    // (Windows), and the data is already safe in either name, so this is best effort.
    if let Ok(dir) = fs::File::open(data_dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adv(id: &str, modified: &str, aliases: &[&str]) -> Advisory {
        let json = serde_json::json!({"id": id, "modified": modified, "aliases": aliases});
        patchpilot_osv::parse_json(json.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn supersedes_compares_instants() {
        let cases = [
            ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", true),
            ("2024-01-01T00:00:01Z", "2024-01-01T00:00:00Z", true),
            ("2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z", false),
            // Text order would say the opposite for these two.
            ("2024-01-01T00:00:00.5Z", "2024-01-01T00:00:00Z", true),
            ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00.5Z", false),
            ("2024-01-01T02:00:00+02:00", "2024-01-01T00:00:00Z", true),
        ];
        for (new, old, want) in cases {
            assert_eq!(
                supersedes(&adv("A", new, &[]), &adv("A", old, &[])),
                want,
                "{new} vs {old}"
            );
        }
    }

    fn file(written_at: u64, ids: &[&str]) -> Vec<u8> {
        format::encode(&format::Payload {
            written_at,
            sources: vec![],
            advisories: ids
                .iter()
                .map(|id| adv(id, "2024-01-01T00:00:00Z", &[]))
                .collect(),
        })
        .unwrap()
    }

    #[test]
    fn install_writes_a_received_copy_but_never_over_a_newer_file() {
        let dir = tempfile::tempdir().unwrap();
        let (newer, older) = (file(20, &["A-1", "A-2"]), file(10, &["B-1"]));
        // Nothing there yet: no bytes, an empty database.
        let (db, bytes) = Database::open_with_file(dir.path()).unwrap();
        assert!(bytes.is_none() && db.is_empty() && db.written_at().is_none());

        assert!(install(dir.path(), &newer).unwrap());
        let (db, bytes) = Database::open_with_file(dir.path()).unwrap();
        assert_eq!(bytes.as_deref(), Some(&newer[..]), "the file is the copy");
        assert_eq!((db.len(), db.written_at()), (2, Some(20)));
        let decoded = Database::from_file_bytes(dir.path(), &newer).unwrap();
        assert_eq!(decoded.advisories(), db.advisories());
        assert_eq!(decoded.path(), db.path());

        // An older copy leaves the file alone; one of the same second replaces it.
        assert!(!install(dir.path(), &older).unwrap());
        assert_eq!(fs::read(db.path()).unwrap(), newer);
        let same_second = file(20, &["C-1"]);
        assert!(install(dir.path(), &same_second).unwrap());
        assert_eq!(fs::read(db.path()).unwrap(), same_second);

        // Bad bytes are an error before anything is written.
        let mut bad = older.clone();
        bad.truncate(bad.len() - 1);
        assert!(matches!(
            install(dir.path(), &bad),
            Err(DbError::Corrupt { .. })
        ));
        assert!(Database::from_file_bytes(dir.path(), &bad).is_err());
        assert_eq!(fs::read(db.path()).unwrap(), same_second);

        // An unreadable file there is replaced, even by an older copy; no temp files stay.
        fs::write(db.path(), b"garbage").unwrap();
        assert!(install(dir.path(), &older).unwrap());
        assert_eq!(Database::open(dir.path()).unwrap().written_at(), Some(10));
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, [FILE_NAME, LOCK_FILE_NAME]);
    }

    #[test]
    fn lookups_by_id_and_alias() {
        let db = Database {
            path: PathBuf::new(),
            written_at: None,
            advisories: vec![
                adv("GHSA-1", "2024-01-01T00:00:00Z", &["CVE-1"]),
                adv("PYSEC-1", "2024-01-01T00:00:00Z", &["CVE-1", "GHSA-1"]),
                adv("RUSTSEC-1", "2024-01-01T00:00:00Z", &[]),
            ],
            sources: vec![],
            aliases: OnceLock::new(),
        };
        assert_eq!(db.get("PYSEC-1").map(|a| a.id.as_str()), Some("PYSEC-1"));
        assert!(db.get("CVE-1").is_none());
        assert!(db.get("ZZZ").is_none() && db.get("").is_none());
        assert_eq!(db.find("CVE-1").map(|a| a.id.as_str()), Some("GHSA-1"));
        // An id wins over an alias.
        assert_eq!(db.find("GHSA-1").map(|a| a.id.as_str()), Some("GHSA-1"));
        let all: Vec<&str> = db.find_all("CVE-1").iter().map(|a| a.id.as_str()).collect();
        assert_eq!(all, ["GHSA-1", "PYSEC-1"]);
        let all: Vec<&str> = db
            .find_all("GHSA-1")
            .iter()
            .map(|a| a.id.as_str())
            .collect();
        assert_eq!(all, ["GHSA-1", "PYSEC-1"]);
        assert!(db.find("CVE-404").is_none());
        assert_eq!(db.len(), 3);
        assert!(!db.is_empty());
    }
}
