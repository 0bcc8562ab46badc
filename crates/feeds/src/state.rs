//! `<data_dir>/feeds/state.json`: what each source last served and when we last asked.
//!
//! Written atomically (temp file, fsync, rename) after each source that succeeds, so a
//! failure in one source never loses another's progress, and a failed source keeps its old
//! entry: the next sync repeats exactly what failed.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::http::Validators;
use crate::FeedError;

/// The state file's format version.
pub const STATE_VERSION: u32 = 1;

/// Everything the feed layer remembers between syncs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// By source name: `kev`, `epss`, `osv/<ECOSYSTEM>`, `debian`, `alpine/<branch>/<repo>`,
    /// `nvd`.
    pub sources: BTreeMap<String, SourceState>,
}

impl Default for State {
    fn default() -> Self {
        State {
            version: STATE_VERSION,
            sources: BTreeMap::new(),
        }
    }
}

/// One source as of its last successful sync.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceState {
    /// The URL of the main file (`all.zip`, the KEV JSON, the EPSS file).
    pub url: String,
    /// Validators of the main file we hold.
    #[serde(flatten)]
    pub validators: Validators,
    /// Unix seconds of the last successful sync (a 304 counts: the data was current then).
    pub synced_at: u64,
    /// Unix seconds of the last sync that changed the data.
    pub updated_at: u64,
    /// Records in the source: KEV entries, EPSS rows, OSV records.
    pub records: usize,
    /// OSV: the newest `modified` imported; later rows of `modified_id.csv` are fetched.
    /// NVD: the instant the records are complete up to (the next `lastModStartDate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest_modified: Option<String>,
    /// OSV: validators of the `modified_id.csv` last processed completely.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<Validators>,
}

pub(crate) fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(crate::FEEDS_DIR).join("state.json")
}

/// Read the state; the default when there is none yet.
pub fn load(data_dir: &Path) -> Result<State, FeedError> {
    let path = path(data_dir);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::default()),
        Err(error) => return Err(FeedError::Io { path, error }),
    };
    let state: State = serde_json::from_slice(&bytes).map_err(|e| FeedError::State {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    if state.version != STATE_VERSION {
        return Err(FeedError::State {
            path,
            reason: format!(
                "version {}, this build reads version {STATE_VERSION}",
                state.version
            ),
        });
    }
    Ok(state)
}

pub(crate) fn save(data_dir: &Path, state: &State) -> Result<(), FeedError> {
    let path = path(data_dir);
    let dir = data_dir.join(crate::FEEDS_DIR);
    let json = serde_json::to_vec_pretty(state).map_err(|e| FeedError::State {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    write_file_atomically(&dir, &path, &json)
}

/// Write `bytes` to a temp file in `dir`, fsync, rename over `path`.
pub(crate) fn write_file_atomically(
    dir: &Path,
    path: &Path,
    bytes: &[u8],
) -> Result<(), FeedError> {
    let io = |error| FeedError::Io {
        path: path.to_path_buf(),
        error,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".feeds.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_rejects_other_versions() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap(), State::default());
        fs::create_dir_all(dir.path().join(crate::FEEDS_DIR)).unwrap();
        let mut s = State::default();
        s.sources.insert(
            "osv/PyPI".into(),
            SourceState {
                url: "http://x/PyPI/all.zip".into(),
                validators: Validators {
                    etag: Some("\"e\"".into()),
                    last_modified: None,
                },
                synced_at: 5,
                updated_at: 4,
                records: 3,
                newest_modified: Some("2024-01-01T00:00:00Z".into()),
                index: Some(Validators::default()),
            },
        );
        save(dir.path(), &s).unwrap();
        assert_eq!(load(dir.path()).unwrap(), s);

        s.version = 99;
        save(dir.path(), &s).unwrap();
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("version 99"), "{err}");
        fs::write(path(dir.path()), b"{not json").unwrap();
        assert!(load(dir.path()).is_err());
    }
}
