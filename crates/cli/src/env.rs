//! Every environment variable the binary reads, declared once, with its default.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// Where the advisory database lives; overridden by `--data-dir`.
pub const DATA_DIR: &str = "PATCHPILOT_DATA_DIR";
/// Default for `scan --max-feed-age` (days).
#[allow(dead_code)] // read through clap's `env` attribute
pub const MAX_FEED_AGE_DAYS: &str = "PATCHPILOT_MAX_FEED_AGE_DAYS";
/// The shared public data set, for `patchpilot bench` and the tests.
#[allow(dead_code)] // read through clap's `env` attribute
pub const SHARED_DATA: &str = "PATCHPILOT_SHARED_DATA";

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
