use std::path::Path;

use patchpilot_agent::{collect, CollectConfig, CollectError};

pub const OS_RELEASE: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n";

pub const DPKG_STATUS: &str = "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u4\nSource: glibc\nArchitecture: amd64\n\nPackage: openssl\nStatus: install ok installed\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\n\n";

pub fn cargo_lock(serde_version: &str) -> String {
    format!(
        "version = 3\n\n[[package]]\nname = \"serde\"\nversion = \"{serde_version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n"
    )
}

/// A fake host root with Debian 12 and two dpkg packages, and a Cargo.lock beside it.
pub fn host(dir: &Path) -> CollectConfig {
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::write(root.join("etc/os-release"), OS_RELEASE).unwrap();
    std::fs::write(root.join("var/lib/dpkg/status"), DPKG_STATUS).unwrap();
    let lock = dir.join("Cargo.lock");
    std::fs::write(&lock, cargo_lock("1.0.100")).unwrap();
    CollectConfig {
        host_root: Some(root),
        paths: vec![lock],
    }
}

#[test]
fn collects_os_packages_and_lockfiles_sorted_and_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = host(dir.path());
    let c = collect(&cfg).unwrap();
    assert_eq!(c.sources[0], "host");
    assert!(c.sources[1].ends_with("Cargo.lock"));
    let deb: Vec<_> = c
        .packages
        .iter()
        .filter(|p| p.ecosystem == "Debian")
        .collect();
    assert_eq!(deb.len(), 2, "{:?}", c.packages);
    let libc = deb.iter().find(|p| p.name == "libc6").unwrap();
    assert_eq!(libc.release.as_deref(), Some("12"));
    assert_eq!(libc.source_name.as_deref(), Some("glibc"));
    assert!(c
        .packages
        .iter()
        .any(|p| p.ecosystem == "crates.io" && p.name == "serde"));
    let mut sorted = c.packages.clone();
    sorted.sort();
    assert_eq!(sorted, c.packages);

    // Same content, same hash; a changed version, a new hash.
    assert_eq!(collect(&cfg).unwrap().content_hash, c.content_hash);
    std::fs::write(&cfg.paths[0], cargo_lock("1.0.101")).unwrap();
    assert_ne!(collect(&cfg).unwrap().content_hash, c.content_hash);
}

#[test]
fn an_unreadable_source_fails_the_collection_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = host(dir.path());
    cfg.paths.push(dir.path().join("missing/package-lock.json"));
    let e = collect(&cfg).unwrap_err();
    assert!(matches!(e, CollectError::Inventory(_)));
    assert!(e.to_string().contains("missing/package-lock.json"), "{e}");
}
