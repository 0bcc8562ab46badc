//! Build an inventory report from the host: OS packages (`patchpilot-inventory`'s
//! `read_host`) plus the configured lockfiles and SBOMs, as wire [`PackageRow`]s.
//!
//! The package list is sorted and de-duplicated (a package found by two sources is one
//! package on the host) by [`patchpilot_api::canonicalize`], whose hash is the *content
//! hash* the server also stores with the snapshot: the agent compares it with the last
//! report's to report only on change (and at the interval).
//!
//! A source that cannot be read fails the whole collection rather than being skipped: a
//! report without, say, a lockfile that is briefly missing during a deploy would tell the
//! server its packages were removed, closing their findings as fixed, only to reopen them
//! on the next report. Better to keep the last good report and say why.

use std::path::PathBuf;

use patchpilot_api::{package_row, InventoryReport, PackageRow, Ts};
use patchpilot_inventory::InventoryError;

/// What to collect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectConfig {
    /// The root of the host's file system for OS packages (`/` for this host); `None`
    /// skips OS packages (a container agent that reports only lockfiles).
    pub host_root: Option<PathBuf>,
    /// Lockfiles and SBOMs, each read with its format detected from name and content.
    pub paths: Vec<PathBuf>,
}

/// A collected inventory, canonical (sorted, de-duplicated) and hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collected {
    /// `host`, then each lockfile/SBOM path, as configured.
    pub sources: Vec<String>,
    pub packages: Vec<PackageRow>,
    /// SHA-256 (hex) of the canonical package list.
    pub content_hash: String,
    pub collected_at: Ts,
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("inventory: {0}")]
    Inventory(#[from] InventoryError),
    #[error("inventory: nothing to collect: neither the host nor any path is configured")]
    NothingConfigured,
    #[error("inventory: the collector panicked: {0}")]
    Panicked(String),
}

/// Read every configured source (blocking file IO: call it off the async runtime).
pub fn collect(config: &CollectConfig) -> Result<Collected, CollectError> {
    if config.host_root.is_none() && config.paths.is_empty() {
        return Err(CollectError::NothingConfigured);
    }
    let mut sources = Vec::new();
    let mut packages = Vec::new();
    if let Some(root) = &config.host_root {
        sources.push("host".to_string());
        for inv in patchpilot_inventory::host::read_host(root)? {
            packages.extend(inv.packages.iter().map(package_row));
        }
    }
    for path in &config.paths {
        let inv = patchpilot_inventory::read_path(path, None)?;
        sources.push(path.display().to_string());
        packages.extend(inv.packages.iter().map(package_row));
    }
    Ok(Collected::new(sources, packages, Ts::now()))
}

impl Collected {
    /// Canonicalize `packages` (sort, de-duplicate) and hash them.
    pub fn new(sources: Vec<String>, mut packages: Vec<PackageRow>, collected_at: Ts) -> Collected {
        let content_hash = patchpilot_api::canonicalize(&mut packages);
        Collected {
            sources,
            packages,
            content_hash,
            collected_at,
        }
    }

    /// The wire report, under a fresh idempotency key.
    pub fn to_report(&self, idempotency_key: String) -> InventoryReport {
        InventoryReport {
            idempotency_key,
            collected_at: self.collected_at,
            sources: self.sources.clone(),
            packages: self.packages.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, version: &str) -> PackageRow {
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

    #[test]
    fn order_and_duplicates_do_not_change_the_hash() {
        let a = Collected::new(
            vec!["x".into()],
            vec![row("b", "1"), row("a", "2"), row("b", "1")],
            Ts(1),
        );
        let b = Collected::new(vec!["y".into()], vec![row("a", "2"), row("b", "1")], Ts(2));
        assert_eq!(a.packages, b.packages);
        assert_eq!(a.content_hash, b.content_hash);
        assert_eq!(a.content_hash.len(), 64);
        let c = Collected::new(vec![], vec![row("a", "2"), row("b", "1.0.1")], Ts(2));
        assert_ne!(a.content_hash, c.content_hash);
    }

    #[test]
    fn nothing_configured_is_an_error() {
        assert!(matches!(
            collect(&CollectConfig::default()),
            Err(CollectError::NothingConfigured)
        ));
    }
}
