//! Integration tests of the agent against an in-process fake control plane ([`fake`]).

mod agent;
mod client;
mod collect;
mod credential;
mod fake;
mod loadgen;
mod queue;
mod tls;

use std::time::Duration;

use patchpilot_agent::Backoff;
use patchpilot_api::{InventoryReport, PackageRow, Ts};

/// Millisecond backoff so retry tests are fast.
pub fn fast_backoff() -> Backoff {
    Backoff {
        initial: Duration::from_millis(1),
        max: Duration::from_millis(20),
        factor: 2.0,
        jitter: 0.5,
    }
}

pub fn row(name: &str, version: &str) -> PackageRow {
    PackageRow {
        ecosystem: "crates.io".into(),
        name: name.into(),
        version: version.into(),
        release: None,
        source_name: None,
        source_version: None,
        purl: None,
    }
}

/// A small report under `key`.
pub fn report(key: &str) -> InventoryReport {
    InventoryReport {
        idempotency_key: key.to_string(),
        collected_at: Ts::now(),
        sources: vec!["test".into()],
        packages: vec![row("serde", "1.0.0"), row("tokio", "1.40.0")],
    }
}

#[cfg(unix)]
pub fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}
