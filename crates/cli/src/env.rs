//! Every environment variable the binary reads, declared once, with its default.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// Where the advisory database lives; overridden by `--data-dir`.
pub const DATA_DIR: &str = "PATCHPILOT_DATA_DIR";
/// Default for `scan --max-feed-age` (days).
#[allow(dead_code)] // read through clap's `env` attribute
pub const MAX_FEED_AGE_DAYS: &str = "PATCHPILOT_MAX_FEED_AGE_DAYS";
/// The NVD CVE API key for `feeds sync` (NVD is synced only with one). Read through clap's
/// `env` with `hide_env_values`, so `--help` never prints it.
#[allow(dead_code)] // read through clap's `env` attribute
pub const NVD_API_KEY: &str = "PATCHPILOT_NVD_API_KEY";
/// Default for `feeds sync --distro`: distro trackers to sync (`debian,alpine`).
#[allow(dead_code)] // read through clap's `env` attribute
pub const SYNC_DISTROS: &str = "PATCHPILOT_SYNC_DISTROS";
/// The shared public data set, for `patchpilot bench` and the tests.
#[allow(dead_code)] // read through clap's `env` attribute
pub const SHARED_DATA: &str = "PATCHPILOT_SHARED_DATA";

/// The control plane's database for `server` and `audit verify` (`postgres://…`,
/// `sqlite://PATH`); default SQLite at `DATA_DIR/server.db`.
#[allow(dead_code)] // read through clap's `env` attribute
pub const DATABASE_URL: &str = "PATCHPILOT_DATABASE_URL";
/// `server --listen` (default 127.0.0.1:8470).
#[allow(dead_code)] // read through clap's `env` attribute
pub const LISTEN: &str = "PATCHPILOT_LISTEN";
/// `agent --server` / `bench agents --server`.
#[allow(dead_code)] // read through clap's `env` attribute
pub const SERVER_URL: &str = "PATCHPILOT_SERVER_URL";
/// `agent --enroll-token`.
#[allow(dead_code)] // read through clap's `env` attribute
pub const ENROLL_TOKEN: &str = "PATCHPILOT_ENROLL_TOKEN";
/// `server --policy`: the risk policy the server ranks findings with.
#[allow(dead_code)] // read through clap's `env` attribute
pub const SERVER_POLICY: &str = "PATCHPILOT_SERVER_POLICY";
/// The first admin token, instead of a random one printed once at first start.
pub const BOOTSTRAP_TOKEN: &str = "PATCHPILOT_BOOTSTRAP_TOKEN";

/// `--data-dir`, else `$PATCHPILOT_DATA_DIR`, else `$XDG_DATA_HOME/patchpilot`
/// (`~/.local/share/patchpilot`).
pub fn data_dir(flag: Option<&Path>) -> crate::Result<PathBuf> {
    if let Some(d) = flag {
        return Ok(d.to_path_buf());
    }
    if let Some(d) = std::env::var_os(DATA_DIR).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    dirs::data_dir()
        .map(|d| d.join("patchpilot"))
        .context("no data directory: pass --data-dir or set PATCHPILOT_DATA_DIR")
}
