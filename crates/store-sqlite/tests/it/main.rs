//! The SQLite backend against the conformance suite (a fresh database file per case),
//! plus what only this backend can test: tampering with the audit log behind the store,
//! reopening a database, and the single-writer setup under concurrent load.

use patchpilot_store::conformance::{self, T0};
use patchpilot_store::{audit, Store};
use patchpilot_store_sqlite::SqliteStore;
use std::sync::Arc;

/// A store on a new database file in a temporary directory (deleted with the guard).
async fn fixture(_case: &str) -> Option<(Arc<dyn Store>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("patchpilot.db"))
        .await
        .expect("open");
    Some((Arc::new(store), dir))
}

patchpilot_store::conformance_suite!(fixture);

mod backend;
