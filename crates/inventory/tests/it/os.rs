//! OS package databases: dpkg/opkg `status`, apk `installed`, rpm (`-qa` output and the
//! sqlite rpmdb), against real data, osv-scalibr's edge-case fixtures, our own rpmdb
//! fixture, and the real tools (`dpkg-query`, `rpm`) where installed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use patchpilot_inventory::os::{apk, dpkg, rpm};
use patchpilot_inventory::{host::OsTarget, read_path, Ecosystem, Format, Package};
use patchpilot_purl::Purl;
use patchpilot_testdata::{have_program, require, shared_file};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn names(p: &[Package]) -> Vec<&str> {
    p.iter().map(|p| p.name.as_str()).collect()
}

// ---------------------------------------------------------------- dpkg

#[test]
fn dpkg_debian12_host_status() {
    let Some(path) = shared_file(
        "dpkg_debian12_host_status",
        "inventories/dpkg/debian12-host.status",
    ) else {
        return;
    };
    let inv = read_path(&path, None).unwrap();
    assert_eq!(inv.format, "dpkg-status");
    let p = &inv.packages;
    // Every one of the 707 stanzas is `install ok installed` (checked with grep).
    assert_eq!(p.len(), 707);
    assert_eq!(p.iter().filter(|p| p.version.contains(':')).count(), 102);
    assert_eq!(p.iter().filter(|p| p.version.contains('~')).count(), 43);
    assert_eq!(p.iter().filter(|p| p.source_name.is_some()).count(), 578);
    // 64 stanzas say `Source: name (version)`, all with a version unlike the binary's.
    assert_eq!(p.iter().filter(|p| p.source_version.is_some()).count(), 64);
    assert!(p
        .iter()
        .all(|p| p.ecosystem == Ecosystem::Debian && p.release.is_none()));

    let bash = p.iter().find(|p| p.name == "bash").unwrap();
    assert_eq!(bash.source_name.as_deref(), Some("bash"));
    assert_eq!(bash.source_version.as_deref(), Some("5.2.15-2"));
    // Epochs are kept as written, and the purl carries name, version and arch.
    for pkg in p {
        let purl = Purl::parse(pkg.purl.as_deref().unwrap()).unwrap();
        assert_eq!(purl.ty, "deb");
        assert_eq!(purl.namespace.as_deref(), Some("debian"));
        assert_eq!(purl.name, pkg.name);
        assert_eq!(purl.version.as_deref(), Some(pkg.version.as_str()));
        assert!(purl.qualifiers.contains_key("arch"), "{}", pkg.name);
    }
    let bsdutils = p.iter().find(|p| p.name == "bsdutils").unwrap();
    assert_eq!(bsdutils.version, "1:2.38.1-5+deb12u3");
    assert_eq!(bsdutils.source_version.as_deref(), Some("2.38.1-5+deb12u3"));
    assert_eq!(
        Purl::parse(bsdutils.purl.as_deref().unwrap())
            .unwrap()
            .version
            .as_deref(),
        Some("1:2.38.1-5+deb12u3")
    );
}

/// One line per package as `dpkg-query` sees an admin dir whose `status` is `data`:
/// name, version, source name, source version, state. Err(stderr) when dpkg refuses it.
fn dpkg_query(data: &[u8]) -> Result<Vec<[String; 5]>, String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("updates")).unwrap();
    std::fs::create_dir_all(dir.path().join("info")).unwrap();
    std::fs::write(dir.path().join("status"), data).unwrap();
    let out = Command::new("dpkg-query")
        .arg(format!("--admindir={}", dir.path().display()))
        .args([
            "-W",
            "-f",
            "${Package}\t${Version}\t${source:Package}\t${source:Version}\t${db:Status-Status}\n",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() || stderr.contains("error") {
        return Err(stderr.into_owned());
    }
    Ok(String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            [0, 1, 2, 3, 4].map(|i| c.get(i).unwrap_or(&"").to_string())
        })
        .collect())
}

/// Our reader against `dpkg-query` on the real status file and every scalibr fixture: the
/// same installed packages with the same versions and source packages, and an error
/// exactly where dpkg reports one.
#[test]
fn dpkg_matches_dpkg_query() {
    if !require(
        "dpkg_matches_dpkg_query",
        have_program("dpkg-query"),
        "dpkg-query not installed",
    ) {
        return;
    }
    let Some(host) = shared_file(
        "dpkg_matches_dpkg_query",
        "inventories/dpkg/debian12-host.status",
    ) else {
        return;
    };
    let scalibr = shared_file(
        "dpkg_matches_dpkg_query",
        "inventories/osv-scalibr/dpkg/testdata",
    )
    .unwrap();
    let mut files = vec![host];
    for sub in ["dpkg", "opkg"] {
        for e in std::fs::read_dir(scalibr.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut compared = 0;
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let ours = dpkg::parse(&data);
        match dpkg_query(&data) {
            Err(why) => assert!(
                ours.is_err(),
                "{}: dpkg-query fails ({why}), we do not",
                f.display()
            ),
            Ok(rows) => {
                let ours = ours.unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                let want: BTreeSet<(String, String, String, String)> = rows
                    .into_iter()
                    .filter(|r| {
                        matches!(
                            r[4].as_str(),
                            "installed" | "triggers-awaited" | "triggers-pending"
                        )
                    })
                    .map(|[n, v, sn, sv, _]| (n, v, sn, sv))
                    .collect();
                let got: BTreeSet<(String, String, String, String)> = ours
                    .packages
                    .iter()
                    .map(|p| {
                        (
                            p.name.clone(),
                            p.version.clone(),
                            p.source_name.clone().unwrap_or_else(|| p.name.clone()),
                            p.source_version
                                .clone()
                                .unwrap_or_else(|| p.version.clone()),
                        )
                    })
                    .collect();
                assert_eq!(got, want, "{}", f.display());
                assert_eq!(
                    got.len(),
                    ours.packages.len(),
                    "{}: duplicates",
                    f.display()
                );
                compared += want.len();
            }
        }
    }
    eprintln!(
        "dpkg-query: {} files, {compared} packages compared",
        files.len()
    );
    assert!(compared > 707);
}

#[test]
fn dpkg_and_opkg_scalibr_fixtures() {
    let Some(dir) = shared_file(
        "dpkg_and_opkg_scalibr_fixtures",
        "inventories/osv-scalibr/dpkg/testdata",
    ) else {
        return;
    };
    // (file, Ok(installed names in order) or Err(part of the reason))
    let cases: &[(&str, Result<&[&str], &str>)] = &[
        ("dpkg/empty", Ok(&[])),
        ("dpkg/invalid", Err("line 1: expected `Field: value`")),
        ("dpkg/single", Ok(&["acl"])),
        ("dpkg/trailingnewlines", Ok(&["acl"])),
        (
            "dpkg/nopackage",
            Err("line 5: stanza without a Package field"),
        ),
        (
            "dpkg/noversion",
            Err("installed package acl has no Version"),
        ),
        (
            "dpkg/statusfield",
            Ok(&[
                "wantinstall_installed",
                "wantdeinstall_installed",
                "wantpurge_installed",
            ]),
        ),
        ("dpkg/transitional", Ok(&["iceweasel"])),
        ("dpkg/transitional_dummy", Ok(&["git-core"])),
        ("dpkg/transitional_empty", Ok(&["runit-systemd"])),
        ("opkg/empty", Ok(&[])),
        ("opkg/invalid", Err("line 1: expected `Field: value`")),
        ("opkg/single", Ok(&["ubus"])),
        ("opkg/trailingnewlines", Ok(&["ubus"])),
        ("opkg/transitional", Ok(&["ubus"])),
        ("opkg/valid", Ok(&["ubus", "libuci20130104", "busybox"])),
        (
            "opkg/nopackage",
            Err("line 9: stanza without a Package field"),
        ),
        (
            "opkg/noversion",
            Err("installed package libuci20130104 has no Version"),
        ),
        (
            "opkg/statusfield",
            Ok(&["wantinstall_installed", "wantpurge_installed"]),
        ),
    ];
    for (file, want) in cases {
        let data = std::fs::read(dir.join(file)).unwrap();
        match (dpkg::parse(&data), want) {
            (Ok(got), Ok(want)) => assert_eq!(names(&got.packages), *want, "{file}"),
            (Err(e), Err(want)) => assert!(e.0.contains(want), "{file}: {e} lacks {want:?}"),
            (got, want) => panic!("{file}: got {got:?}, want {want:?}"),
        }
    }

    let valid = dpkg::parse(&std::fs::read(dir.join("dpkg/valid")).unwrap()).unwrap();
    let stanzas = std::fs::read_to_string(dir.join("dpkg/valid"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("Package: "))
        .count();
    assert_eq!(valid.packages.len(), stanzas);
    assert!(valid.packages.len() >= 5);

    let git = &dpkg::parse(&std::fs::read(dir.join("dpkg/transitional_dummy")).unwrap())
        .unwrap()
        .packages[0];
    assert_eq!(
        (git.version.as_str(), git.source_name.as_deref()),
        ("1:2.14.2-1", Some("git"))
    );
    let ubus = &dpkg::parse(&std::fs::read(dir.join("opkg/single")).unwrap())
        .unwrap()
        .packages[0];
    assert_eq!(ubus.version, "2024.10.20~252a9b0c-r1");
    let purl = Purl::parse(ubus.purl.as_deref().unwrap()).unwrap();
    assert_eq!(purl.qualifier("arch"), Some("x86_64"));

    // status.d (distroless): no Status field means installed; config-files still is not.
    let data = std::fs::read(dir.join("dpkg/status.d/foo")).unwrap();
    let p = dpkg::parse_status_d(&data, &OsTarget::debian())
        .unwrap()
        .packages;
    assert_eq!(names(&p), ["foo"]);
    assert_eq!(p[0].version, "1.2.3");
    assert!(dpkg::parse(&data).unwrap().packages.is_empty());
}

// ---------------------------------------------------------------- apk

#[test]
fn apk_scalibr_fixtures() {
    let Some(dir) = shared_file(
        "apk_scalibr_fixtures",
        "inventories/osv-scalibr/apk/testdata",
    ) else {
        return;
    };
    let read = |f: &str| apk::parse(&std::fs::read(dir.join(f)).unwrap());

    let text = std::fs::read_to_string(dir.join("installed")).unwrap();
    let want: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("P:")).collect();
    let installed = read("installed").unwrap().packages;
    assert_eq!(installed.len(), 15);
    assert_eq!(names(&installed), want);
    assert!(installed.iter().all(|p| p.ecosystem == Ecosystem::Alpine));
    let ssl = installed.iter().find(|p| p.name == "libssl3").unwrap();
    assert_eq!(ssl.source_name.as_deref(), Some("openssl"));
    let musl_utils = installed.iter().find(|p| p.name == "musl-utils").unwrap();
    assert_eq!(musl_utils.source_name.as_deref(), Some("musl"));
    assert_eq!(
        installed.iter().filter(|p| p.source_name.is_some()).count(),
        text.lines().filter(|l| l.starts_with("o:")).count()
    );

    let single = read("single").unwrap().packages;
    assert_eq!(names(&single), ["alpine-baselayout-data"]);
    assert_eq!(single[0].version, "3.4.3-r1");
    assert_eq!(single[0].source_name.as_deref(), Some("alpine-baselayout"));
    let purl = Purl::parse(single[0].purl.as_deref().unwrap()).unwrap();
    assert_eq!(
        (purl.ty.as_str(), purl.namespace.as_deref()),
        ("apk", Some("alpine"))
    );
    assert_eq!(purl.qualifier("arch"), Some("x86_64"));

    let noarch = read("different-arch").unwrap().packages;
    let purl = Purl::parse(noarch[0].purl.as_deref().unwrap()).unwrap();
    assert_eq!(purl.qualifier("arch"), Some("noarch"));

    let no_origin = read("no-origin").unwrap().packages;
    assert_eq!(
        (
            no_origin[0].name.as_str(),
            no_origin[0].version.as_str(),
            no_origin[0].source_name.as_deref()
        ),
        ("pkgname", "1.2.3", None)
    );
    assert!(read("empty").unwrap().packages.is_empty());
    assert!(read("invalid")
        .unwrap_err()
        .0
        .contains("line 1: expected `K:value`"));
}

// ---------------------------------------------------------------- rpm

const QF: &str = "%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\n";

#[test]
fn rpm_sqlite_fixture() {
    let path = fixture("rpmdb/rpmdb.sqlite");
    let inv = read_path(&path, None).unwrap();
    assert_eq!(inv.format, "rpmdb-sqlite");
    let got: Vec<_> = inv
        .packages
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.version.as_str(),
                p.source_name.as_deref(),
            )
        })
        .collect();
    // gpg-pubkey (an imported signing key) is in the database but is not software.
    assert_eq!(
        got,
        [
            ("pp-hello-libs", "2:1.2.3-4.el9", Some("pp-hello")),
            ("pp-hello", "2:1.2.3-4.el9", Some("pp-hello")),
            ("pp-noarch", "0.9~rc1-1", Some("pp-noarch")),
        ]
    );
    assert!(inv
        .packages
        .iter()
        .all(|p| p.ecosystem == Ecosystem::RedHat));
    let purl = Purl::parse(inv.packages[0].purl.as_deref().unwrap()).unwrap();
    assert_eq!(purl.ty, "rpm");
    assert_eq!(purl.namespace.as_deref(), Some("redhat"));
    assert_eq!(purl.version.as_deref(), Some("1.2.3-4.el9"));
    assert_eq!(purl.qualifier("epoch"), Some("2"));
    assert_eq!(purl.qualifier("arch"), Some("x86_64"));
    let purl = Purl::parse(inv.packages[2].purl.as_deref().unwrap()).unwrap();
    assert_eq!(purl.qualifier("epoch"), None);
    assert_eq!(purl.qualifier("arch"), Some("noarch"));
    // Reading must not leave journal or WAL files next to the fixture.
    let dir = path.parent().unwrap();
    for side in [
        "rpmdb.sqlite-wal",
        "rpmdb.sqlite-shm",
        "rpmdb.sqlite-journal",
    ] {
        assert!(!dir.join(side).exists(), "{side} created");
    }
}

/// Our sqlite reader, and our `-qa` reader fed by the real rpm, agree on the same database.
#[test]
fn rpm_sqlite_matches_rpm_qa() {
    if !require(
        "rpm_sqlite_matches_rpm_qa",
        have_program("rpm"),
        "rpm not installed",
    ) {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let dbdir = root.path().join("var/lib/rpm");
    std::fs::create_dir_all(&dbdir).unwrap();
    std::fs::copy(fixture("rpmdb/rpmdb.sqlite"), dbdir.join("rpmdb.sqlite")).unwrap();
    let out = Command::new("rpm")
        .arg("--root")
        .arg(root.path())
        .args(["--dbpath", "/var/lib/rpm", "-qa", "--qf", QF])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut from_rpm = rpm::parse_qa(&out.stdout).unwrap().packages;
    let mut ours = rpm::read_sqlite(&dbdir.join("rpmdb.sqlite"))
        .unwrap()
        .packages;
    from_rpm.sort_by(|a, b| a.name.cmp(&b.name));
    ours.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(ours.len(), 3);
    assert_eq!(ours, from_rpm);
    // rpm itself lists the gpg-pubkey we skip.
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("gpg-pubkey\t0:82a6afd1-6b098ab5\t(none)\t(none)"));
}

#[test]
fn rpm_scalibr_fixtures_and_broken_databases() {
    let Some(dir) = shared_file(
        "rpm_scalibr_fixtures_and_broken_databases",
        "inventories/osv-scalibr/rpm/testdata",
    ) else {
        return;
    };
    let cases = [
        ("empty.sqlite", "empty file, not an rpmdb.sqlite"),
        ("invalid", "not a SQLite database"),
        // Packages_epoch is a BerkeleyDB hash file (`file` says so), not sqlite.
        ("Packages_epoch", "BerkeleyDB rpm database"),
    ];
    for (file, want) in cases {
        let err = rpm::read_sqlite(&dir.join(file)).unwrap_err();
        assert!(err.0.contains(want), "{file}: {err} lacks {want:?}");
        let err = read_path(&dir.join(file), Some(Format::RpmSqlite)).unwrap_err();
        let line = err.to_string();
        assert!(
            line.contains(file) && line.contains("rpmdb-sqlite") && !line.contains('\n'),
            "{line}"
        );
    }

    let tmp = tempfile::tempdir().unwrap();
    // A sqlite database that is not an rpmdb.
    let other = tmp.path().join("other.sqlite");
    let c = rusqlite::Connection::open(&other).unwrap();
    c.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(c);
    let err = rpm::read_sqlite(&other).unwrap_err().0;
    assert!(err.contains("without a Packages table"), "{err}");
    // An rpmdb with one corrupt header: the error names the row.
    let bad = tmp.path().join("rpmdb.sqlite");
    std::fs::copy(fixture("rpmdb/rpmdb.sqlite"), &bad).unwrap();
    let c = rusqlite::Connection::open(&bad).unwrap();
    c.execute(
        "UPDATE Packages SET blob = substr(blob, 1, 100) WHERE hnum = 2",
        [],
    )
    .unwrap();
    drop(c);
    let err = rpm::read_sqlite(&bad).unwrap_err().0;
    assert!(
        err.contains("hnum=2") && err.contains("corrupt rpm header"),
        "{err}"
    );
    // A WAL-mode copy reads the same as the original.
    let wal = tmp.path().join("wal").join("rpmdb.sqlite");
    std::fs::create_dir_all(wal.parent().unwrap()).unwrap();
    std::fs::copy(fixture("rpmdb/rpmdb.sqlite"), &wal).unwrap();
    let c = rusqlite::Connection::open(&wal).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(c);
    assert_eq!(
        rpm::read_sqlite(&wal).unwrap(),
        rpm::read_sqlite(&fixture("rpmdb/rpmdb.sqlite")).unwrap()
    );
}
