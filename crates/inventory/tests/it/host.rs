//! Host discovery: a temporary directory stands for a machine's root, with an os-release we
//! write and package databases copied in from the shared data and our fixtures.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use patchpilot_inventory::host::read_host;
use patchpilot_inventory::{Distro, Ecosystem, Inventory};
use patchpilot_purl::Purl;
use patchpilot_testdata::{have_program, require, shared_file};

fn put(root: &Path, rel: &str, from: &Path) {
    let to = root.join(rel);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(from, to).unwrap();
}

fn write(root: &Path, rel: &str, text: &str) {
    let to = root.join(rel);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::write(to, text).unwrap();
}

fn rpm_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rpmdb/rpmdb.sqlite")
}

fn purl_of(inv: &Inventory, i: usize) -> Purl {
    Purl::parse(inv.packages[i].purl.as_deref().unwrap()).unwrap()
}

#[test]
fn debian_root() {
    let Some(status) = shared_file("debian_root", "inventories/dpkg/debian12-host.status") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    put(root.path(), "var/lib/dpkg/status", &status);
    write(
        root.path(),
        "etc/os-release",
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n\
VERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n",
    );
    let invs = read_host(root.path()).unwrap();
    assert_eq!(invs.len(), 1);
    let inv = &invs[0];
    assert_eq!(inv.source, format!("host:{}", root.path().display()));
    assert_eq!(inv.format, "dpkg-status");
    assert_eq!(
        inv.distro,
        Some(Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            codename: Some("bookworm".into()),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
        })
    );
    assert_eq!(inv.packages.len(), 707);
    assert!(inv
        .packages
        .iter()
        .all(|p| p.ecosystem == Ecosystem::Debian && p.release.as_deref() == Some("12")));
    let purl = purl_of(inv, 0);
    assert_eq!(purl.namespace.as_deref(), Some("debian"));
    assert_eq!(purl.qualifier("distro"), Some("debian-12"));
}

#[test]
fn ubuntu_distroless_root_merges_status_and_status_d() {
    let Some(dir) = shared_file(
        "ubuntu_distroless_root_merges_status_and_status_d",
        "inventories/osv-scalibr/dpkg/testdata/dpkg",
    ) else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    put(root.path(), "var/lib/dpkg/status", &dir.join("single"));
    put(
        root.path(),
        "var/lib/dpkg/status.d/foo",
        &dir.join("status.d/foo"),
    );
    put(
        root.path(),
        "var/lib/dpkg/status.d/foo.md5sums",
        &dir.join("status.d/foo.md5sums"),
    );
    // os-release only in /usr/lib, single-quoted.
    write(
        root.path(),
        "usr/lib/os-release",
        "ID='ubuntu'\nVERSION_ID='22.04'\n",
    );
    let invs = read_host(root.path()).unwrap();
    assert_eq!(invs.len(), 1);
    let inv = &invs[0];
    let got: Vec<_> = inv
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(got, [("acl", "2.3.1-3"), ("foo", "1.2.3")]);
    assert!(inv
        .packages
        .iter()
        .all(|p| p.ecosystem == Ecosystem::Ubuntu && p.release.as_deref() == Some("22.04")));
    let purl = purl_of(inv, 1);
    assert_eq!(purl.namespace.as_deref(), Some("ubuntu"));
    assert_eq!(purl.qualifier("distro"), Some("ubuntu-22.04"));
}

#[test]
fn alpine_and_rocky_roots() {
    let Some(installed) = shared_file(
        "alpine_and_rocky_roots",
        "inventories/osv-scalibr/apk/testdata/installed",
    ) else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    put(root.path(), "lib/apk/db/installed", &installed);
    write(
        root.path(),
        "etc/os-release",
        "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.18.4\n",
    );
    let invs = read_host(root.path()).unwrap();
    assert_eq!(invs.len(), 1);
    assert_eq!(invs[0].format, "apk-installed");
    assert_eq!(invs[0].packages.len(), 15);
    assert!(invs[0]
        .packages
        .iter()
        .all(|p| p.ecosystem == Ecosystem::Alpine && p.release.as_deref() == Some("v3.18")));
    assert_eq!(
        purl_of(&invs[0], 0).qualifier("distro"),
        Some("alpine-3.18.4")
    );

    // Fedora ≥ 36 / RHEL 10 keep the rpmdb in /usr/lib/sysimage/rpm.
    let root = tempfile::tempdir().unwrap();
    put(
        root.path(),
        "usr/lib/sysimage/rpm/rpmdb.sqlite",
        &rpm_fixture(),
    );
    write(
        root.path(),
        "etc/os-release",
        "ID=\"rocky\"\nVERSION_ID=\"9.3\"\n",
    );
    let invs = read_host(root.path()).unwrap();
    assert_eq!(invs.len(), 1);
    assert_eq!(invs[0].format, "rpmdb-sqlite");
    assert_eq!(invs[0].packages.len(), 3);
    assert!(invs[0]
        .packages
        .iter()
        .all(|p| p.ecosystem == Ecosystem::RockyLinux && p.release.as_deref() == Some("9")));
    let purl = purl_of(&invs[0], 0);
    assert_eq!(purl.namespace.as_deref(), Some("rocky"));
    assert_eq!(purl.qualifier("distro"), Some("rocky-9.3"));
}

#[test]
fn several_databases_without_os_release() {
    let Some(dir) = shared_file(
        "several_databases_without_os_release",
        "inventories/osv-scalibr",
    ) else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    put(
        root.path(),
        "var/lib/dpkg/status",
        &dir.join("dpkg/testdata/dpkg/single"),
    );
    put(
        root.path(),
        "lib/apk/db/installed",
        &dir.join("apk/testdata/single"),
    );
    put(root.path(), "var/lib/rpm/rpmdb.sqlite", &rpm_fixture());
    let invs = read_host(root.path()).unwrap();
    let got: Vec<_> = invs
        .iter()
        .map(|i| {
            (
                i.format.as_str(),
                i.packages.len(),
                i.packages[0].ecosystem.clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("dpkg-status", 1, Ecosystem::Debian),
            ("apk-installed", 1, Ecosystem::Alpine),
            ("rpmdb-sqlite", 3, Ecosystem::RedHat)
        ]
    );
    for inv in &invs {
        assert_eq!(inv.distro, None);
        assert!(inv.packages.iter().all(|p| p.release.is_none()));
    }
}

#[test]
fn empty_and_broken_roots() {
    let root = tempfile::tempdir().unwrap();
    assert!(read_host(root.path()).unwrap().is_empty());
    assert!(read_host(&root.path().join("does-not-exist"))
        .unwrap()
        .is_empty());

    // A corrupt status file: the error names the file, the format and the line.
    write(
        root.path(),
        "var/lib/dpkg/status",
        "Package: a\nStatus: install ok installed\nVersion: 1\n\nasdf\n",
    );
    let err = read_host(root.path()).unwrap_err().to_string();
    assert!(
        err.contains("var/lib/dpkg/status")
            && err.contains("dpkg-status")
            && err.contains("line 5"),
        "{err}"
    );

    // Only a BerkeleyDB rpmdb: refused, not reported as "no packages".
    let Some(bdb) = shared_file(
        "empty_and_broken_roots",
        "inventories/osv-scalibr/rpm/testdata/Packages_epoch",
    ) else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    put(root.path(), "var/lib/rpm/Packages", &bdb);
    let err = read_host(root.path()).unwrap_err().to_string();
    assert!(
        err.contains("var/lib/rpm/Packages") && err.contains("BerkeleyDB"),
        "{err}"
    );
}

/// This machine, read through `/`, against `dpkg-query` on the same machine.
#[test]
fn this_host_matches_dpkg_query() {
    if !Path::new("/var/lib/dpkg/status").is_file() {
        eprintln!("SKIPPED this_host_matches_dpkg_query: this machine has no dpkg database");
        return;
    }
    if !require(
        "this_host_matches_dpkg_query",
        have_program("dpkg-query"),
        "dpkg-query not installed",
    ) {
        return;
    }
    let out = Command::new("dpkg-query")
        .args(["-W", "-f", "${Package}\t${Version}\t${db:Status-Status}\n"])
        .output()
        .unwrap();
    let want: BTreeSet<(String, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            matches!(
                c.get(2),
                Some(&("installed" | "triggers-awaited" | "triggers-pending"))
            )
            .then(|| (c[0].to_string(), c[1].to_string()))
        })
        .collect();
    let invs = read_host(Path::new("/")).unwrap();
    let dpkg = invs.iter().find(|i| i.format == "dpkg-status").unwrap();
    let got: BTreeSet<(String, String)> = dpkg
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(dpkg.source, "host:/");
}
