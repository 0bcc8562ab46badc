//! Converters on the real distro samples (../shared/data/feeds/distro-samples), then the
//! converted advisories driven through the real matcher.
//!
//! Expected counts were computed independently with Python from the sample files, applying
//! the documented rules (numbered Debian releases only; `resolved`+`0` and `undetermined`
//! skipped; Alpine version `0` skipped; Red Hat: one entry per source RPM and release key,
//! `Not affected` and module/Flatpak entries skipped).

use std::path::{Path, PathBuf};

use patchpilot_distro::{convert, detect, merge, Format};
use patchpilot_matcher::Index;
use patchpilot_osv::{Advisory, Affected, Event};
use patchpilot_types::{Ecosystem, Package};

const SAMPLES: &str = "feeds/distro-samples";

fn samples(test: &str) -> Option<PathBuf> {
    patchpilot_testdata::shared_data(test).map(|d| d.join(SAMPLES))
}

fn load(path: &Path) -> (Vec<u8>, String) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (bytes, name)
}

/// Detect, then convert, asserting the detected format.
fn detect_convert(path: &Path, want: Format) -> Vec<Advisory> {
    let (bytes, name) = load(path);
    assert_eq!(detect(&bytes, &name), Some(want), "{}", path.display());
    convert(want, &bytes, &name).unwrap_or_else(|e| panic!("{e}"))
}

fn find<'a>(advs: &'a [Advisory], id: &str) -> &'a Advisory {
    advs.iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("{id} missing"))
}

fn entry<'a>(adv: &'a Advisory, name: &str, release: &str) -> Option<&'a Affected> {
    adv.affected
        .iter()
        .find(|a| a.name == name && a.release.as_deref() == Some(release))
}

fn fixed(a: &Affected) -> Vec<&str> {
    a.ranges
        .iter()
        .flat_map(|r| &r.events)
        .filter_map(|e| match e {
            Event::Fixed(v) => Some(v.as_str()),
            _ => None,
        })
        .collect()
}

fn debian() -> Option<Vec<Advisory>> {
    let dir = samples("debian_tracker")?;
    Some(detect_convert(
        &dir.join("debian/input/debian.json"),
        Format::DebianTracker,
    ))
}

fn alpine() -> Option<(Vec<Advisory>, Vec<Advisory>)> {
    let dir = samples("alpine_secdb")?.join("alpine/input/secdb/v3.15");
    Some((
        detect_convert(&dir.join("main.yaml"), Format::AlpineSecDb),
        detect_convert(&dir.join("community.yaml"), Format::AlpineSecDb),
    ))
}

#[test]
fn debian_tracker_counts_and_spot_checks() {
    let Some(advs) = debian() else { return };
    let ids: Vec<&str> = advs.iter().map(|a| a.id.as_str()).collect();
    // CVE-2007-2383 is "resolved 0" everywhere and CVE-2022-0358 has `releases: []`.
    assert_eq!(
        ids,
        [
            "DEBIAN-CVE-2005-3111",
            "DEBIAN-CVE-2008-7220",
            "DEBIAN-CVE-2013-1444",
            "DEBIAN-CVE-2022-0456",
            "DEBIAN-CVE-2025-53603",
        ]
    );
    let entries: usize = advs.iter().map(|a| a.affected.len()).sum();
    assert_eq!(entries, 16);
    for a in &advs {
        assert_eq!(a.aliases, [a.id.trim_start_matches("DEBIAN-")]);
        for e in &a.affected {
            assert_eq!(e.ecosystem, Ecosystem::Debian);
            // sid is never emitted, only numbered releases.
            let r = e.release.as_deref().unwrap_or("");
            assert!(r.parse::<u32>().is_ok(), "{}: release {r:?}", a.id);
        }
    }

    let sope = find(&advs, "DEBIAN-CVE-2025-53603");
    for (release, want) in [
        ("11", "5.0.1-2+deb11u1"),
        ("12", "5.8.0-1+deb12u1"),
        ("13", "5.12.1-2"),
    ] {
        let e = entry(sope, "sope", release).unwrap_or_else(|| panic!("sope {release}"));
        assert_eq!(fixed(e), [want], "sope {release}");
    }
    assert!(sope.details.as_deref().is_some_and(|d| !d.is_empty()));

    let chromium = find(&advs, "DEBIAN-CVE-2022-0456");
    for (release, want) in [
        ("9", None),
        ("10", None),
        ("11", Some("98.0.4758.80-1~deb11u1")),
        ("12", Some("98.0.4758.80-1")),
    ] {
        let e = entry(chromium, "chromium", release).unwrap_or_else(|| panic!("{release}"));
        assert_eq!(fixed(e), want.into_iter().collect::<Vec<_>>(), "{release}");
        assert_eq!(e.ranges[0].events[0], Event::Introduced("0".into()));
    }

    // "high**" → HIGH; "not yet assigned" gives no level.
    let proto = find(&advs, "DEBIAN-CVE-2008-7220");
    assert_eq!(
        proto.severity_level(),
        Some(patchpilot_osv::SeverityLevel::High)
    );
    assert_eq!(sope.severity_level(), None);
    assert_eq!(
        find(&advs, "DEBIAN-CVE-2013-1444").severity_level(),
        Some(patchpilot_osv::SeverityLevel::Low)
    );
}

#[test]
fn alpine_secdb_counts_and_spot_checks() {
    let Some((main, community)) = alpine() else {
        return;
    };
    assert_eq!(main.len(), 13);
    assert_eq!(community.len(), 3);
    for a in main.iter().chain(&community) {
        assert!(a.id.starts_with("ALPINE-CVE-"), "{}", a.id);
        assert_eq!(a.aliases, [a.id.trim_start_matches("ALPINE-")]);
        assert_eq!(a.affected.len(), 1, "{}", a.id);
        assert_eq!(a.affected[0].ecosystem, Ecosystem::Alpine);
        assert_eq!(a.affected[0].release.as_deref(), Some("v3.15"));
    }
    let zsh = find(&main, "ALPINE-CVE-2018-1071");
    assert_eq!(
        fixed(entry(zsh, "zsh", "v3.15").expect("zsh")),
        ["5.4.2-r1"]
    );
    let zlib = find(&main, "ALPINE-CVE-2022-37434");
    assert_eq!(
        fixed(entry(zlib, "zlib", "v3.15").expect("zlib")),
        ["1.2.12-r2"]
    );
    let alpine = find(&community, "ALPINE-CVE-2021-38370");
    assert_eq!(
        fixed(entry(alpine, "alpine", "v3.15").expect("alpine")),
        ["2.25-r0"]
    );

    // The two repositories share no id, so merging keeps all 16.
    let merged = merge(main.into_iter().chain(community));
    assert_eq!(merged.len(), 16);
    assert!(merged.windows(2).all(|w| w[0].id < w[1].id));
}

#[test]
fn almalinux_osv_samples_parse_as_almalinux() {
    let Some(dir) = samples("almalinux_osv") else {
        return;
    };
    let mut checked = 0;
    for release in ["8", "9"] {
        let sub = dir.join(format!("alma/osv-database/advisories/almalinux{release}"));
        let mut files: Vec<PathBuf> = std::fs::read_dir(&sub)
            .unwrap_or_else(|e| panic!("{}: {e}", sub.display()))
            .map(|e| e.expect("dir entry").path())
            .collect();
        files.sort();
        for path in files {
            let advs = detect_convert(&path, Format::Osv);
            assert_eq!(advs.len(), 1);
            let adv = &advs[0];
            assert!(!adv.affected.is_empty(), "{}", adv.id);
            for a in &adv.affected {
                assert_eq!(a.ecosystem, Ecosystem::AlmaLinux, "{}", adv.id);
                assert_eq!(a.release.as_deref(), Some(release), "{}", adv.id);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 5);
}

fn pkg(eco: Ecosystem, release: &str, name: &str, source: &str, version: &str) -> Package {
    let mut p = Package::new(eco, name, version);
    p.release = Some(release.into());
    p.source_name = Some(source.into());
    p
}

/// (release, installed version) → the matched advisory ids with their fixed versions.
fn matched(index: &Index, p: &Package) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = index
        .matches(p)
        .unwrap_or_else(|e| panic!("{p:?}: {e}"))
        .into_iter()
        .map(|m| {
            (
                m.advisory.id.clone(),
                m.fixed_versions.iter().map(|v| v.to_string()).collect(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn debian_end_to_end_with_matcher() {
    let Some(advs) = debian() else { return };
    let index = Index::build(&advs);
    assert!(index.warnings().is_empty(), "{:?}", index.warnings());
    let sope = |release: &str, version: &str| {
        matched(
            &index,
            &pkg(Ecosystem::Debian, release, "libsope1", "sope", version),
        )
    };
    let hit = |fix: &str| vec![("DEBIAN-CVE-2025-53603".to_string(), vec![fix.to_string()])];
    // Older than the bookworm backport: affected, fixed by the backport.
    assert_eq!(sope("12", "5.8.0-1"), hit("5.8.0-1+deb12u1"));
    // The backported fix itself: not affected (upstream fixed in 5.12.1).
    assert!(sope("12", "5.8.0-1+deb12u1").is_empty());
    // The bullseye fix on bullseye: fine; the same version on bookworm is still affected.
    assert!(sope("11", "5.0.1-2+deb11u1").is_empty());
    assert_eq!(sope("12", "5.0.1-2+deb11u1"), hit("5.8.0-1+deb12u1"));
    // Another release with no data for this package (sid, a future release): no match.
    assert!(sope("14", "5.0.1-1").is_empty());

    // Open in buster: affected with no fix; fixed in bookworm.
    let chromium = |release: &str, version: &str| {
        matched(
            &index,
            &pkg(Ecosystem::Debian, release, "chromium", "chromium", version),
        )
    };
    assert_eq!(
        chromium("10", "90.0.4430.212-1~deb10u1"),
        vec![("DEBIAN-CVE-2022-0456".to_string(), vec![])]
    );
    assert!(chromium("12", "98.0.4758.80-1").is_empty());
    // Binary name alone does not match: Debian advisories name source packages.
    let mut no_source = pkg(Ecosystem::Debian, "12", "libsope1", "sope", "5.8.0-1");
    no_source.source_name = None;
    assert!(matched(&index, &no_source).is_empty());
}

#[test]
fn alpine_end_to_end_with_matcher() {
    let Some((main, community)) = alpine() else {
        return;
    };
    let advs = merge(main.into_iter().chain(community));
    let index = Index::build(&advs);
    assert!(index.warnings().is_empty(), "{:?}", index.warnings());
    let zlib = |release: &str, version: &str| {
        matched(
            &index,
            &pkg(Ecosystem::Alpine, release, "zlib-dev", "zlib", version),
        )
    };
    assert_eq!(
        zlib("v3.15", "1.2.11-r3"),
        vec![
            (
                "ALPINE-CVE-2018-25032".to_string(),
                vec!["1.2.12-r0".to_string()]
            ),
            (
                "ALPINE-CVE-2022-37434".to_string(),
                vec!["1.2.12-r2".to_string()]
            ),
        ]
    );
    assert_eq!(
        zlib("v3.15", "1.2.12-r1"),
        vec![(
            "ALPINE-CVE-2022-37434".to_string(),
            vec!["1.2.12-r2".to_string()]
        )]
    );
    assert!(zlib("v3.15", "1.2.12-r2").is_empty());
    assert!(zlib("v3.16", "1.2.11-r3").is_empty());
}

/// The Red Hat Security Data API per-CVE samples (`rhel/oval/input/cve/full/CVE-*`, no
/// file extension).
fn redhat() -> Option<Vec<Advisory>> {
    let dir = samples("redhat_security_data")?.join("rhel/oval/input/cve/full");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    files.sort();
    Some(merge(files.iter().flat_map(|p| {
        let advs = detect_convert(p, Format::RedHatSecurityData);
        assert_eq!(advs.len(), 1, "{}", p.display());
        advs
    })))
}

#[test]
fn redhat_security_data_counts_and_spot_checks() {
    let Some(advs) = redhat() else { return };
    // Counts computed independently (Python) from the samples with the documented rules:
    // one entry per (source RPM, release key); module streams and Flatpaks skipped.
    assert_eq!(advs.len(), 20);
    let entries: usize = advs.iter().map(|a| a.affected.len()).sum();
    assert_eq!(entries, 256);
    for a in &advs {
        assert!(a.id.starts_with("RHEL-CVE-"), "{}", a.id);
        assert_eq!(a.aliases, [a.id.trim_start_matches("RHEL-")]);
        assert!(a.affected.iter().all(|e| e.ecosystem == Ecosystem::RedHat));
        assert!(a.references[0].url.ends_with(&a.aliases[0]));
    }

    // (CVE, package, release as the CPE spells it, fixed version; None = open-ended).
    type Case<'a> = (&'a str, &'a str, &'a str, Option<&'a str>);
    let cases: &[Case] = &[
        (
            "CVE-2023-4863",
            "firefox",
            "enterprise_linux:8",
            Some("102.15.1-1.el8_8"),
        ),
        (
            "CVE-2023-4863",
            "libwebp",
            "enterprise_linux:8",
            Some("1.0.0-8.el8_8.1"),
        ),
        (
            "CVE-2023-4863",
            "firefox",
            "enterprise_linux:7",
            Some("102.15.1-1.el7_9"),
        ),
        // EUS, AUS and E4S streams keep their own releases and fixes.
        (
            "CVE-2023-5217",
            "libvpx",
            "enterprise_linux:8",
            Some("1.7.0-10.el8_8"),
        ),
        (
            "CVE-2023-5217",
            "libvpx",
            "rhel_eus:8.6",
            Some("1.7.0-10.el8_6"),
        ),
        (
            "CVE-2023-5217",
            "libvpx",
            "rhel_e4s:8.1",
            Some("1.7.0-8.el8_1"),
        ),
        (
            "CVE-2023-5217",
            "libvpx",
            "rhel_aus:8.2",
            Some("1.7.0-8.el8_2"),
        ),
        // A non-zero epoch stays.
        (
            "CVE-2017-3509",
            "java-1.8.0-openjdk",
            "enterprise_linux:7",
            Some("1:1.8.0.131-2.b11.el7_3"),
        ),
        // "Will not fix" and "Out of support scope": affected, no fix.
        ("CVE-2019-25059", "ghostscript", "enterprise_linux:8", None),
        ("CVE-2019-25059", "ghostscript", "enterprise_linux:9", None),
        ("CVE-2020-16588", "OpenEXR", "enterprise_linux:7", None),
        (
            "CVE-2022-2309",
            "python-lxml",
            "enterprise_linux:9",
            Some("4.6.5-3.el9"),
        ),
    ];
    for (cve, name, release, want) in cases {
        let a = find(&advs, &format!("RHEL-{cve}"));
        let e = entry(a, name, release).unwrap_or_else(|| panic!("{cve} {name} {release}"));
        assert_eq!(
            fixed(e),
            want.iter().copied().collect::<Vec<&str>>(),
            "{cve} {name}"
        );
    }
    // "Not affected" makes no entry; nor do module streams and Flatpaks.
    let none: &[(&str, &str, &str)] = &[
        ("CVE-2023-5217", "libvpx", "enterprise_linux:7"),
        ("CVE-2019-25059", "ghostscript", "enterprise_linux:7"),
        ("CVE-2020-16588", "OpenEXR", "enterprise_linux:8"),
    ];
    for (cve, name, release) in none {
        assert!(entry(find(&advs, &format!("RHEL-{cve}")), name, release).is_none());
    }
    let lxml = find(&advs, "RHEL-CVE-2022-2309");
    assert_eq!(lxml.affected.len(), 1, "{:?}", lxml.affected);

    let webp = find(&advs, "RHEL-CVE-2023-4863");
    assert_eq!(
        webp.severity_level(),
        Some(patchpilot_osv::SeverityLevel::High)
    );
    // Scored from the vector: the file's own `cvss3_base_score` says 9.6 too.
    assert_eq!(webp.cvss_vector().and_then(|s| s.base_score), Some(9.6));
    assert_eq!(webp.published.as_deref(), Some("2023-09-11T00:00:00Z"));
    assert!(webp
        .summary
        .as_deref()
        .is_some_and(|s| s.contains("libwebp")));
    assert!(webp
        .references
        .iter()
        .any(|r| r.url == "https://access.redhat.com/errata/RHSA-2023:5184"));
    assert_eq!(
        find(&advs, "RHEL-CVE-2017-3533").severity_level(),
        Some(patchpilot_osv::SeverityLevel::Low)
    );
    // Rejected as a duplicate of CVE-2023-4863: kept, but withdrawn.
    assert!(find(&advs, "RHEL-CVE-2023-5129").is_withdrawn());
    assert!(!webp.is_withdrawn());
}

#[test]
fn redhat_end_to_end_with_matcher() {
    let Some(advs) = redhat() else { return };
    let index = Index::build(&advs);
    assert!(index.warnings().is_empty(), "{:?}", index.warnings());
    // What an rpm inventory of a RHEL 8.8 host carries: ecosystem Red Hat, release "8".
    let host = patchpilot_types::Distro {
        id: "rhel".into(),
        version_id: Some("8.8".into()),
        codename: None,
        pretty_name: None,
    };
    let (eco, rhel8) = host.ecosystem();
    assert_eq!((eco, rhel8.as_deref()), (Ecosystem::RedHat, Some("8")));
    let rpm = |release: &str, name: &str, source: &str, version: &str| {
        matched(
            &index,
            &pkg(Ecosystem::RedHat, release, name, source, version),
        )
    };
    let hit = |id: &str, fix: &str| (id.to_string(), vec![fix.to_string()]);

    assert_eq!(
        rpm("8", "firefox", "firefox", "102.15.0-1.el8_8"),
        [
            hit("RHEL-CVE-2023-4863", "102.15.1-1.el8_8"),
            hit("RHEL-CVE-2023-5217", "115.3.1-1.el8_8"),
        ]
    );
    // The fix for CVE-2023-4863 itself; the epoch 0 spelling is the same version.
    assert_eq!(
        rpm("8", "firefox", "firefox", "102.15.1-1.el8_8"),
        [hit("RHEL-CVE-2023-5217", "115.3.1-1.el8_8")]
    );
    assert_eq!(
        rpm("8", "firefox", "firefox", "0:102.15.1-1.el8_8"),
        [hit("RHEL-CVE-2023-5217", "115.3.1-1.el8_8")]
    );
    assert!(rpm("8", "firefox", "firefox", "115.3.1-1.el8_8").is_empty());
    // The 8.6 EUS build is not a fix on mainline RHEL 8, and mainline does not judge
    // an EUS host.
    assert_eq!(
        rpm("8", "libvpx", "libvpx", "1.7.0-10.el8_6"),
        [hit("RHEL-CVE-2023-5217", "1.7.0-10.el8_8")]
    );
    assert!(rpm("rhel_eus:8.6", "libvpx", "libvpx", "1.7.0-10.el8_6").is_empty());
    assert_eq!(
        rpm("rhel_eus:8.6", "libvpx", "libvpx", "1.7.0-9.el8_6"),
        [hit("RHEL-CVE-2023-5217", "1.7.0-10.el8_6")]
    );
    // A binary RPM matches under its source RPM (python3-lxml from python-lxml).
    assert_eq!(
        rpm("9", "python3-lxml", "python-lxml", "4.6.5-2.el9"),
        [hit("RHEL-CVE-2022-2309", "4.6.5-3.el9")]
    );
    // Will not fix: affected with no fixed version.
    assert_eq!(
        rpm("8", "libgs", "ghostscript", "9.27-6.el8"),
        [("RHEL-CVE-2019-25059".to_string(), vec![])]
    );
    // Epochs: 1:1.8.0.131 is the fix; a higher version without the epoch is below it.
    let java = |v: &str| rpm("7", "java-1.8.0-openjdk-headless", "java-1.8.0-openjdk", v);
    assert_eq!(java("1:1.8.0.121-0.b13.el7_3").len(), 6);
    assert_eq!(java("1.8.0.999-1.el7").len(), 6);
    assert!(java("1:1.8.0.131-2.b11.el7_3").is_empty());
    // The withdrawn duplicate never matches: libwebp is reported once.
    assert_eq!(
        rpm("9", "libwebp", "libwebp", "1.2.0-6.el9"),
        [hit("RHEL-CVE-2023-4863", "1.2.0-7.el9_2")]
    );
}

#[test]
fn redhat_cve_lists_are_refused_with_the_reason() {
    let Some(dir) = samples("redhat_cve_lists") else {
        return;
    };
    for rel in [
        "rhel/csaf/input/cve/min_pages/1.json",
        "rhel/oval/input/cve/min/CVE-2023-4863",
    ] {
        let (bytes, name) = load(&dir.join(rel));
        assert_eq!(
            detect(&bytes, &name),
            Some(Format::RedHatSecurityData),
            "{rel}"
        );
        let e = convert(Format::RedHatSecurityData, &bytes, &name)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(&format!("{name}: ")), "{e}");
        assert!(e.contains("resource_url") && !e.contains('\n'), "{e}");
    }
}

/// A hand-written Ubuntu OSV record (`tests/fixtures/ubuntu-osv`) through `Format::Osv`
/// and the matcher: `Ubuntu:22.04:LTS` applies to an Ubuntu 22.04 host (os-release
/// `22.04`), not to 20.04; Pro (ESM) applies to its release, Pro FIPS to no plain host.
#[test]
fn ubuntu_osv_matches_by_release_key() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ubuntu-osv/UBUNTU-CVE-2023-38546.json");
    let advs = detect_convert(&path, Format::Osv);
    let a = &advs[0];
    // Suffixes are kept as published.
    let releases: Vec<&str> = a
        .affected
        .iter()
        .map(|e| e.release.as_deref().unwrap())
        .collect();
    assert_eq!(
        releases,
        [
            "Pro:18.04:LTS",
            "20.04:LTS",
            "22.04:LTS",
            "Pro:FIPS-updates:22.04:LTS",
            "23.10"
        ]
    );
    let index = Index::build(&advs);
    let host = |version_id: &str| {
        patchpilot_types::Distro {
            id: "ubuntu".into(),
            version_id: Some(version_id.into()),
            codename: None,
            pretty_name: None,
        }
        .ecosystem()
        .1
        .unwrap()
    };
    let curl = |release: &str, version: &str| {
        matched(
            &index,
            &pkg(Ecosystem::Ubuntu, release, "libcurl4", "curl", version),
        )
    };
    let hit = |fix: &str| vec![("UBUNTU-CVE-2023-38546".to_string(), vec![fix.to_string()])];
    assert_eq!(
        curl(&host("22.04"), "7.81.0-1ubuntu1.13"),
        hit("7.81.0-1ubuntu1.14")
    );
    assert!(curl(&host("22.04"), "7.81.0-1ubuntu1.14").is_empty());
    // The 22.04 record does not apply to 20.04 (7.81.0 is above focal's fix).
    assert!(curl(&host("20.04"), "7.81.0-1ubuntu1.13").is_empty());
    assert_eq!(
        curl(&host("20.04"), "7.68.0-1ubuntu2.19"),
        hit("7.68.0-1ubuntu2.20")
    );
    // 18.04 is in ESM: the Pro record is its only fix.
    assert_eq!(
        curl(&host("18.04"), "7.58.0-2ubuntu3.24"),
        hit("7.58.0-2ubuntu3.24+esm1")
    );
    assert!(curl(&host("18.04"), "7.58.0-2ubuntu3.24+esm1").is_empty());
    assert_eq!(
        curl(&host("23.10"), "8.2.1-1ubuntu3"),
        hit("8.2.1-1ubuntu3.1")
    );
    assert!(curl(&host("24.04"), "8.2.1-1ubuntu3").is_empty());
}

#[test]
fn truncated_samples_never_panic() {
    let Some(dir) = samples("truncated_samples") else {
        return;
    };
    let files = [
        ("debian/input/debian.json", Format::DebianTracker),
        ("alpine/input/secdb/v3.15/main.yaml", Format::AlpineSecDb),
        (
            "alma/osv-database/advisories/almalinux9/ALSA-2024:2433.json",
            Format::Osv,
        ),
        (
            "rhel/oval/input/cve/full/CVE-2023-5217",
            Format::RedHatSecurityData,
        ),
    ];
    let mut tried = 0;
    for (rel, format) in files {
        let (bytes, name) = load(&dir.join(rel));
        for cut in (0..bytes.len()).step_by(37) {
            // Any outcome but a panic is fine; errors stay one line.
            if let Err(e) = convert(format, &bytes[..cut], &name) {
                assert!(!e.to_string().contains('\n'), "{e}");
            }
            tried += 1;
        }
    }
    assert!(tried > 100, "{tried}");
}

/// The hand-written CSAF VEX fixtures (`tests/fixtures/csaf`), detected then converted.
fn csaf_fixture(name: &str) -> Vec<Advisory> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/csaf")
        .join(name);
    detect_convert(&path, Format::RedHatCsafVex)
}

const CSAF_FIXTURES: [&str; 3] = [
    "cve-2023-38408.json",
    "cve-2023-6228.json",
    "cve-2023-32002.json",
];

/// What differs between Red Hat's two feeds for the same facts, blanked: the file name in
/// `database_specific.source`, the product stream's display name in `ecosystem_specific`
/// (`Red Hat Enterprise Linux 8` in the Security Data API, `Red Hat Enterprise Linux
/// BaseOS (v. 8)` in VEX) and the CPE's repository variant in the release
/// (`enterprise_linux:8` versus `enterprise_linux:8::baseos`), which the matcher ignores
/// (it compares `Ecosystem::release_key`).
fn without_feed_spelling(mut a: Advisory) -> Advisory {
    let strip = |json: &Option<String>, key: &str| {
        json.as_deref().map(|j| {
            let mut v: serde_json::Value = serde_json::from_str(j).unwrap();
            v.as_object_mut().unwrap().remove(key);
            v.to_string()
        })
    };
    a.database_specific = strip(&a.database_specific, "source");
    for e in &mut a.affected {
        e.release = e
            .release
            .as_deref()
            .map(|r| e.ecosystem.release_key(r).into_owned());
        e.ecosystem_specific = strip(&e.ecosystem_specific, "product");
    }
    a
}

/// The same CVE written in both Red Hat formats (`fixtures/security-data` and
/// `fixtures/csaf`) converts to the same advisory, and matches the same packages.
#[test]
fn csaf_vex_and_security_data_give_the_same_advisory() {
    let sd_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/security-data/CVE-2023-38408.json");
    let sd = detect_convert(&sd_path, Format::RedHatSecurityData);
    let vex = csaf_fixture("cve-2023-38408.json");
    assert_eq!((sd.len(), vex.len()), (1, 1));
    // Before blanking, only the spellings named above differ.
    let releases = |a: &Advisory| -> Vec<String> {
        a.affected
            .iter()
            .map(|e| e.release.clone().unwrap())
            .collect()
    };
    assert_eq!(
        releases(&sd[0]),
        ["enterprise_linux:8", "enterprise_linux:9", "rhel_eus:8.6"]
    );
    assert_eq!(
        releases(&vex[0]),
        [
            "enterprise_linux:8::baseos",
            "enterprise_linux:9::baseos",
            "rhel_eus:8.6::baseos"
        ]
    );
    assert_eq!(
        without_feed_spelling(sd[0].clone()),
        without_feed_spelling(vex[0].clone())
    );

    let (sd_index, vex_index) = (Index::build(&sd), Index::build(&vex));
    for (release, name, version) in [
        ("8", "openssh-clients", "8.0p1-17.el8_7"),
        ("8", "openssh-clients", "8.0p1-19.el8_8"),
        ("8", "openssh", "8.0p1-13.el8_6.2"),
        ("rhel_eus:8.6", "openssh-server", "8.0p1-13.el8_6"),
        ("rhel_eus:8.6", "openssh-server", "8.0p1-13.el8_6.2"),
        ("9", "openssh", "8.7p1-29.el9_2"),
        ("7", "openssh", "7.4p1-22.el7_9"),
    ] {
        let p = pkg(Ecosystem::RedHat, release, name, "openssh", version);
        assert_eq!(
            matched(&sd_index, &p),
            matched(&vex_index, &p),
            "{release} {name} {version}"
        );
    }
}

/// The CSAF VEX fixtures through the matcher, as an `rpm -qa` inventory of a RHEL host
/// would be matched.
#[test]
fn csaf_vex_end_to_end_with_matcher() {
    let advs = merge(CSAF_FIXTURES.iter().flat_map(|f| csaf_fixture(f)));
    assert_eq!(advs.len(), 3);
    let index = Index::build(&advs);
    assert!(index.warnings().is_empty(), "{:?}", index.warnings());
    let rpm = |release: &str, name: &str, source: &str, version: &str| {
        matched(
            &index,
            &pkg(Ecosystem::RedHat, release, name, source, version),
        )
    };
    let hit = |id: &str, fix: Option<&str>| {
        vec![(
            id.to_string(),
            fix.into_iter().map(String::from).collect::<Vec<_>>(),
        )]
    };
    let ssh = "RHEL-CVE-2023-38408";
    // A binary matches under its source RPM; the fix is the mainline build.
    assert_eq!(
        rpm("8", "openssh-clients", "openssh", "8.0p1-17.el8_7"),
        hit(ssh, Some("8.0p1-19.el8_8"))
    );
    assert!(rpm("8", "openssh-clients", "openssh", "8.0p1-19.el8_8").is_empty());
    // The 8.6 EUS build fixes an EUS host, not a mainline one.
    assert_eq!(
        rpm("8", "openssh", "openssh", "8.0p1-13.el8_6.2"),
        hit(ssh, Some("8.0p1-19.el8_8"))
    );
    assert!(rpm("rhel_eus:8.6", "openssh", "openssh", "8.0p1-13.el8_6.2").is_empty());
    // Not affected on RHEL 7: no entry at all.
    assert!(rpm("7", "openssh", "openssh", "7.4p1-22.el7_9").is_empty());
    // Will not fix (8) and deferred (9): affected, no fixed version; RHEL 7 not affected.
    let tiff = "RHEL-CVE-2023-6228";
    assert_eq!(
        rpm("8", "libtiff", "libtiff", "4.0.9-29.el8_8"),
        hit(tiff, None)
    );
    assert_eq!(
        rpm("9", "libtiff-devel", "libtiff", "4.4.0-10.el9"),
        hit(tiff, None)
    );
    assert!(rpm("7", "libtiff", "libtiff", "4.0.3-35.el7").is_empty());
    assert!(rpm("8", "compat-libtiff3", "compat-libtiff3", "3.9.4-13.el8").is_empty());
    // Module builds are not converted; the non-modular RHEL 9 nodejs has epoch 1, so a
    // higher version without the epoch is still below the fix.
    let node = "RHEL-CVE-2023-32002";
    assert!(rpm(
        "8",
        "nodejs",
        "nodejs",
        "1:18.16.0-1.module+el8.8.0+19000+aaaaaaaa"
    )
    .is_empty());
    assert_eq!(
        rpm("9", "nodejs", "nodejs", "1:16.19.1-1.el9"),
        hit(node, Some("1:16.20.2-1.el9_2"))
    );
    assert_eq!(
        rpm("9", "npm", "nodejs", "16.20.2-1.el9_2"),
        hit(node, Some("1:16.20.2-1.el9_2"))
    );
    assert!(rpm("9", "nodejs", "nodejs", "1:16.20.2-1.el9_2").is_empty());
}

#[test]
fn truncated_csaf_fixtures_never_panic() {
    let mut tried = 0;
    for name in CSAF_FIXTURES {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/csaf")
            .join(name);
        let (bytes, name) = load(&path);
        for cut in (0..bytes.len()).step_by(97) {
            if let Err(e) = convert(Format::RedHatCsafVex, &bytes[..cut], &name) {
                let e = e.to_string();
                assert!(
                    e.starts_with(&format!("{name}: ")) && !e.contains('\n'),
                    "{e}"
                );
            }
            tried += 1;
        }
    }
    assert!(tried > 300, "{tried}");
}
