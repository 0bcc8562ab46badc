//! The database's health: checked in full before the server starts (it refuses a damaged
//! database rather than answer from it), and again every
//! [`crate::Config::integrity_check_every`] while it runs, and at once when
//! `GET /api/v1/audit/verify` cannot read the chain, so that damage that appears later
//! turns `/readyz` to 503 ([`patchpilot_store::Store::ping`] reports the last check's
//! finding) instead of only the requests that happen to read a bad page.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use patchpilot_store::Store;

/// Run [`Store::check_integrity`]; `Err` is the reason, one line.
pub async fn check_at_start(store: &dyn Store) -> Result<(), String> {
    let t = Instant::now();
    let r = store.check_integrity().await;
    tracing::info!(
        secs = t.elapsed().as_secs_f64(),
        ok = r.is_ok(),
        "database integrity checked"
    );
    r.map_err(|e| match e {
        patchpilot_store::Error::Backend(m) => m,
        other => other.to_string(),
    })
}

/// Say when the SQLite file of the server is readable by others (a file created before
/// this version, or with another tool): it holds the fleet's inventories.
pub fn warn_if_readable_by_others(file: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(file) {
            let mode = m.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    file = %file.display(),
                    mode = format!("{mode:o}"),
                    "the database is readable by other users; `chmod 600` it (and its -wal and -shm files)"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = file;
}

/// Check the database again every `every` while the server runs; log what is found.
pub fn watch(store: Arc<dyn Store>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is now: the start already checked.
        tick.tick().await;
        let mut failing = false;
        loop {
            tick.tick().await;
            match store.check_integrity().await {
                Ok(()) if failing => {
                    tracing::info!("database integrity check passes again");
                    failing = false;
                }
                Ok(()) => {}
                Err(e) => {
                    tracing::error!(error = %e, "database integrity check failed; /readyz answers 503");
                    failing = true;
                }
            }
        }
    })
}
