//! Red Hat security data and Ubuntu OSV through `feeds import` / `feeds sync`, then
//! `scan` of a RHEL rpm inventory or SBOM and of an Ubuntu host root.

use std::path::{Path, PathBuf};

use crate::cli::StaticServer;
use crate::support::{run, stderr, stdout};

/// The hand-written Ubuntu OSV record kept with the distro crate's tests.
fn ubuntu_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../distro/tests/fixtures/ubuntu-osv/UBUNTU-CVE-2023-38546.json")
}

/// `scan --format json` with `args`, returning the report.
fn scan_json(data: &str, args: &[&str]) -> serde_json::Value {
    let mut argv = vec!["--data-dir", data, "scan", "--format", "json"];
    argv.extend_from_slice(args);
    let o = run(&argv, None);
    assert!(o.status.success(), "{argv:?}: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

/// (advisory id, package, first fixed version) of every finding.
fn findings(v: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
            (
                s(&f["advisory"]["id"]),
                s(&f["package"]["name"]),
                s(&f["fixed_versions"][0]),
            )
        })
        .collect();
    out.sort();
    out
}

fn finding(id: &str, pkg: &str, fix: &str) -> (String, String, String) {
    (id.into(), pkg.into(), fix.into())
}

/// The per-CVE Security Data API files (a folder of extension-less JSON files) imported
/// through `feeds import`, then a RHEL 8 `rpm -qa` inventory and a CycloneDX SBOM with
/// `distro=rhel-8.8` purls: firefox 102.15.0-1.el8_8 is affected by CVE-2023-4863 (fixed
/// in 102.15.1-1.el8_8), the fixed build is not, and the RHEL 9 stream does not apply.
#[test]
fn redhat_security_data_import_then_rpm_and_sbom_scans() {
    let Some(shared) =
        patchpilot_testdata::shared_data("redhat_security_data_import_then_rpm_and_sbom_scans")
    else {
        return;
    };
    let rhel = shared.join("feeds/distro-samples/rhel");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let full = rhel.join("oval/input/cve/full").display().to_string();
    let o = run(&["--data-dir", &data, "feeds", "import", &full], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("imported 20 advisories converted from 20 files"),
        "{}",
        stdout(&o)
    );

    // `rpm -qa --qf '%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\n'`
    let qa = dir.path().join("rpm-qa.txt");
    std::fs::write(
        &qa,
        "firefox\t0:102.15.0-1.el8_8\tx86_64\tfirefox-102.15.0-1.el8_8.src.rpm\n\
         thunderbird\t0:115.3.1-1.el8_8\tx86_64\tthunderbird-115.3.1-1.el8_8.src.rpm\n\
         python3-lxml\t0:4.2.3-4.el8\tx86_64\tpython-lxml-4.2.3-4.el8.src.rpm\n",
    )
    .unwrap();
    let qa = qa.display().to_string();
    let scan = |distro: &str| {
        findings(&scan_json(
            &data,
            &["--input-format", "rpm-qa", "--distro", distro, &qa],
        ))
    };
    assert_eq!(
        scan("rhel:8.8"),
        [
            finding("RHEL-CVE-2023-4863", "firefox", "102.15.1-1.el8_8"),
            finding("RHEL-CVE-2023-5217", "firefox", "115.3.1-1.el8_8"),
        ],
        "thunderbird has both fixes; python-lxml is not affected on RHEL 8"
    );
    // The same versions against RHEL 9's data: the el8 builds sort below el9_2's fixes
    // (thunderbird 115.3.1-1.el8_8 < 115.3.1-1.el9_2), and python3-lxml (source RPM
    // python-lxml) is below 4.6.5-3.el9.
    assert_eq!(
        scan("rhel:9.2"),
        [
            finding("RHEL-CVE-2022-2309", "python3-lxml", "4.6.5-3.el9"),
            finding("RHEL-CVE-2023-4863", "firefox", "102.15.1-1.el9_2"),
            finding("RHEL-CVE-2023-5217", "firefox", "115.3.1-1.el9_2"),
            finding("RHEL-CVE-2023-5217", "thunderbird", "115.3.1-1.el9_2"),
        ]
    );

    // An SBOM naming the distro in its purls: the vulnerable build is reported, the fixed
    // one only for the later CVE.
    let sbom = dir.path().join("bom.cdx.json");
    let component = |name: &str, version: &str| {
        serde_json::json!({
            "type": "library",
            "name": name,
            "version": version,
            "purl": format!("pkg:rpm/redhat/{name}@{version}?arch=x86_64&distro=rhel-8.8"),
        })
    };
    let bom = serde_json::json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "components": [
            component("firefox", "102.15.0-1.el8_8"),
            component("libwebp", "1.0.0-8.el8_8.1"),
        ],
    });
    std::fs::write(&sbom, bom.to_string()).unwrap();
    assert_eq!(
        findings(&scan_json(&data, &[&sbom.display().to_string()])),
        [
            finding("RHEL-CVE-2023-4863", "firefox", "102.15.1-1.el8_8"),
            finding("RHEL-CVE-2023-5217", "firefox", "115.3.1-1.el8_8"),
        ]
    );
    let bom = serde_json::json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "components": [component("firefox", "102.15.1-1.el8_8")],
    });
    std::fs::write(&sbom, bom.to_string()).unwrap();
    assert_eq!(
        findings(&scan_json(&data, &[&sbom.display().to_string()])),
        [finding("RHEL-CVE-2023-5217", "firefox", "115.3.1-1.el8_8")]
    );

    // The CVE *list* forms name no products: refused, one line, exit 2, nothing imported.
    for list in [
        rhel.join("oval/input/cve/min"),
        rhel.join("csaf/input/cve/min_pages/1.json"),
    ] {
        let o = run(
            &[
                "--data-dir",
                &data,
                "feeds",
                "import",
                &list.display().to_string(),
            ],
            None,
        );
        assert_eq!(o.status.code(), Some(2), "{}", list.display());
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(e.contains("resource_url"), "{e}");
    }
}

/// The Ubuntu OSV fixture through `feeds import`, then host roots with an os-release and a
/// dpkg status: Ubuntu 22.04 matches the `Ubuntu:22.04:LTS` entry by source package, 20.04
/// does not (its own fix is older than the installed version), and 18.04, in ESM, gets
/// the Ubuntu Pro fix.
#[test]
fn ubuntu_osv_import_then_host_scans_by_release() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let fixture = ubuntu_fixture().display().to_string();
    let o = run(&["--data-dir", &data, "feeds", "import", &fixture], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("imported 1 record(s)"),
        "{}",
        stdout(&o)
    );

    let host = |version_id: &str, codename: &str, curl: &str| {
        let root = dir.path().join(format!("root-{version_id}"));
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
        std::fs::write(
            root.join("etc/os-release"),
            format!(
                "NAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"{version_id}\"\nVERSION_CODENAME={codename}\n"
            ),
        )
        .unwrap();
        std::fs::write(
            root.join("var/lib/dpkg/status"),
            format!(
                "Package: libcurl4\nStatus: install ok installed\nArchitecture: amd64\nSource: curl\nVersion: {curl}\n"
            ),
        )
        .unwrap();
        findings(&scan_json(&data, &["--root", &root.display().to_string()]))
    };
    let id = "UBUNTU-CVE-2023-38546";
    assert_eq!(
        host("22.04", "jammy", "7.81.0-1ubuntu1.13"),
        [finding(id, "libcurl4", "7.81.0-1ubuntu1.14")]
    );
    assert!(host("22.04", "jammy", "7.81.0-1ubuntu1.14").is_empty());
    assert!(host("20.04", "focal", "7.81.0-1ubuntu1.13").is_empty());
    assert_eq!(
        host("18.04", "bionic", "7.58.0-2ubuntu3.24"),
        [finding(id, "libcurl4", "7.58.0-2ubuntu3.24+esm1")]
    );
}

/// `feeds sync --ecosystem Ubuntu` fetches `Ubuntu/all.zip` (and `modified_id.csv`) from
/// an OSV mirror laid out like the osv.dev bucket.
#[test]
fn feeds_sync_takes_the_ubuntu_osv_ecosystem() {
    let record = std::fs::read(ubuntu_fixture()).unwrap();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(
        "UBUNTU-CVE-2023-38546.json",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    std::io::Write::write_all(&mut zip, &record).unwrap();
    let all = zip.finish().unwrap().into_inner();
    let srv = StaticServer::start(std::collections::HashMap::from([
        ("/osv/Ubuntu/all.zip".to_string(), all),
        (
            "/osv/Ubuntu/modified_id.csv".to_string(),
            b"2024-01-15T10:00:00Z,UBUNTU-CVE-2023-38546\n".to_vec(),
        ),
    ]));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let o = run(
        &[
            "--data-dir",
            &data,
            "feeds",
            "sync",
            "--osv-base",
            &srv.url("/osv"),
            "--ecosystem",
            "Ubuntu",
            "--kev-url",
            "none",
            "--epss-url",
            "none",
        ],
        None,
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("osv/Ubuntu: updated, 1 records"),
        "{}",
        stdout(&o)
    );
    let status = dir.path().join("status");
    std::fs::write(
        &status,
        "Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.81.0-1ubuntu1.13\n",
    )
    .unwrap();
    let v = scan_json(
        &data,
        &["--distro", "ubuntu:22.04", &status.display().to_string()],
    );
    assert_eq!(
        findings(&v),
        [finding(
            "UBUNTU-CVE-2023-38546",
            "curl",
            "7.81.0-1ubuntu1.14"
        )]
    );
}

/// The hand-written Red Hat CSAF VEX documents kept with the distro crate's tests.
fn csaf_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../distro/tests/fixtures/csaf")
}

/// Red Hat CSAF VEX documents (a folder of per-CVE files) through `feeds import`, then
/// `rpm -qa` inventories of a RHEL 8.8 host: openssh-clients below the RHEL 8 fix is
/// reported under its source RPM's advisory and the fixed build is not; libtiff ("will
/// not fix") is reported without a fixed version; a nodejs module build is not matched.
/// A CSAF document that is not VEX is refused: one line, exit 2.
#[test]
fn redhat_csaf_vex_import_then_rpm_scans() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let fixtures = csaf_fixtures().display().to_string();
    let o = run(&["--data-dir", &data, "feeds", "import", &fixtures], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("imported 3 advisories converted from 3 files"),
        "{}",
        stdout(&o)
    );

    // `rpm -qa --qf '%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\n'`
    let scan = |openssh: &str| {
        let qa = dir.path().join(format!("rpm-qa-{openssh}.txt"));
        std::fs::write(
            &qa,
            format!(
                "openssh-clients\t0:{openssh}\tx86_64\topenssh-{openssh}.src.rpm\n\
                 libtiff\t0:4.0.9-29.el8_8\tx86_64\tlibtiff-4.0.9-29.el8_8.src.rpm\n\
                 nodejs\t1:18.16.0-1.module+el8.8.0+18000+aaaaaaaa\tx86_64\tnodejs-18.16.0-1.module+el8.8.0+18000+aaaaaaaa.src.rpm\n"
            ),
        )
        .unwrap();
        findings(&scan_json(
            &data,
            &[
                "--input-format",
                "rpm-qa",
                "--distro",
                "rhel:8.8",
                &qa.display().to_string(),
            ],
        ))
    };
    assert_eq!(
        scan("8.0p1-17.el8_7"),
        [
            finding("RHEL-CVE-2023-38408", "openssh-clients", "8.0p1-19.el8_8"),
            finding("RHEL-CVE-2023-6228", "libtiff", ""),
        ]
    );
    assert_eq!(
        scan("8.0p1-19.el8_8"),
        [finding("RHEL-CVE-2023-6228", "libtiff", "")]
    );

    // One RHSA's CSAF advisory is not a VEX document.
    let vex = std::fs::read_to_string(csaf_fixtures().join("cve-2023-38408.json")).unwrap();
    let advisory = dir.path().join("rhsa-2023_4419.json");
    std::fs::write(
        &advisory,
        vex.replace("\"csaf_vex\"", "\"csaf_security_advisory\""),
    )
    .unwrap();
    let o = run(
        &[
            "--data-dir",
            &data,
            "feeds",
            "import",
            &advisory.display().to_string(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.contains("rhsa-2023_4419.json") && e.contains("document.category"),
        "{e}"
    );
}
