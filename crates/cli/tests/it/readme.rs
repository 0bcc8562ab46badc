//! The README's commands run as written: the main job of "Set up and run", then every line
//! of the "try" blocks, in order, through `bash` with this build's `patchpilot` first on
//! PATH, from a folder laid out like a checkout (`docs/` beside `../shared/data`).
//! The blocks are the fenced `sh` blocks after `<!-- readme-test: NAME -->` markers, so an
//! edited line is tested as it now reads. Lines that need the network (`feeds sync`) run
//! against a local server on 127.0.0.1 serving the shared feeds: the test points their
//! upstream URLs there (a URL the line names, `http://mirror.internal`, is replaced), and
//! changes nothing else. A line fails the test when it exits other than 0 (a `--fail-on`
//! line: other than 1), panics, or ends a scan in a silent "No findings".

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::cli::StaticServer;
use crate::support::{stderr, stdout};

/// The lines of the fenced block after `<!-- readme-test: name -->`: comment-only and empty
/// lines dropped, `\`-continued lines joined.
fn block(readme: &str, name: &str) -> Vec<String> {
    let marker = format!("<!-- readme-test: {name} -->");
    let at = readme
        .find(&marker)
        .unwrap_or_else(|| panic!("README.md has no {marker}"));
    let rest = &readme[at + marker.len()..];
    let open = rest
        .find("```sh\n")
        .expect("a ```sh block after the marker")
        + 6;
    let body = &rest[open..];
    let body = &body[..body.find("\n```").expect("the block is closed")];
    let mut lines = Vec::new();
    let mut cur = String::new();
    for l in body.lines() {
        let t = l.trim();
        if cur.is_empty() && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        match t.strip_suffix('\\') {
            Some(head) => {
                cur.push_str(head);
                cur.push(' ');
            }
            None => {
                cur.push_str(t);
                lines.push(std::mem::take(&mut cur));
            }
        }
    }
    lines
}

/// A line without its trailing `# comment` (two or more spaces, then `#`).
fn without_comment(line: &str) -> &str {
    match line.find("  #") {
        Some(i) => line[..i].trim_end(),
        None => line,
    }
}

struct Checkout {
    _dir: tempfile::TempDir,
    /// The folder the lines run in: `docs/` of this repository, `../shared/data` beside it.
    work: PathBuf,
    data: PathBuf,
    bin_dir: PathBuf,
}

impl Checkout {
    fn new(shared: &Path) -> Checkout {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("patchpilot");
        std::fs::create_dir_all(&work).unwrap();
        std::fs::create_dir_all(dir.path().join("shared")).unwrap();
        let root = patchpilot_testdata::workspace_root();
        std::os::unix::fs::symlink(root.join("docs"), work.join("docs")).unwrap();
        std::os::unix::fs::symlink(
            shared.canonicalize().unwrap(),
            dir.path().join("shared/data"),
        )
        .unwrap();
        let bin = PathBuf::from(env!("CARGO_BIN_EXE_patchpilot"));
        Checkout {
            data: dir.path().join("data"),
            work,
            bin_dir: bin.parent().unwrap().to_path_buf(),
            _dir: dir,
        }
    }

    fn run(&self, line: &str) -> Output {
        let path = format!(
            "{}:{}",
            self.bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new("bash")
            .args(["-c", &format!("set -o pipefail; {line}")])
            .current_dir(&self.work)
            .env("PATH", path)
            .env("PATCHPILOT_DATA_DIR", &self.data)
            .env_remove("PATCHPILOT_NVD_API_KEY")
            .output()
            .expect("bash")
    }

    /// Run `line`; it must exit `want` (or 0 or 1 with a `--fail-on` flag, which says 1),
    /// not panic, and not end a scan in a silent clean.
    fn check(&self, line: &str, ran: &str) {
        let o = self.run(line);
        let (out, err) = (stdout(&o), stderr(&o));
        let want = if line.contains("--fail-on ") { 1 } else { 0 };
        assert_eq!(
            o.status.code(),
            Some(want),
            "README line exited {:?}, not {want}:\n  {ran}\nstdout:\n{out}\nstderr:\n{err}",
            o.status.code()
        );
        assert!(!err.contains("panicked"), "{ran}: {err}");
        if out.contains("No findings") {
            assert!(
                out.contains("Checked:") || out.contains("checked:"),
                "a clean scan must say what it checked:\n  {ran}\n{out}"
            );
        }
    }
}

#[test]
fn readme_commands_run_as_written() {
    let Some(shared) = patchpilot_testdata::shared_data("readme_commands_run_as_written") else {
        return;
    };
    let readme =
        std::fs::read_to_string(patchpilot_testdata::workspace_root().join("README.md")).unwrap();
    let co = Checkout::new(&shared);

    // The main job, with the binary in place of `cargo run --release --`. It scans this
    // host: whatever the host is, the scan must say what it checked.
    let setup = block(&readme, "setup");
    let main_job = setup
        .iter()
        .find(|l| l.starts_with("cargo run --release -- feeds import"))
        .expect("the main job");
    let job = main_job.replace("cargo run --release --", "patchpilot");
    let o = co.run(&job);
    let (out, err) = (stdout(&o), stderr(&o));
    assert!(o.status.success(), "{job}\n{out}\n{err}");
    assert!(
        out.contains("Checked:") || out.contains("checked:") || out.contains("finding(s)"),
        "the main job must not end in a silent clean:\n{out}\n{err}"
    );

    let offline = block(&readme, "offline");
    assert!(offline.len() >= 15, "{offline:?}");
    for line in &offline {
        co.check(line, line);
    }
    assert!(co.work.join("report.json").is_file());
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(co.work.join("results.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");

    let srv = upstream(&shared);
    let network = block(&readme, "network");
    assert!(network.iter().all(|l| l.contains("feeds sync")));
    for line in &network {
        co.check(&local(line, &srv), line);
    }
    let o = co.run("patchpilot feeds status");
    let status = stdout(&o);
    for want in ["npm", "Debian", "Alpine", "Red Hat", "NVD"] {
        assert!(status.contains(want), "{want} after the syncs:\n{status}");
    }
}

/// `line` with its upstream URLs on the local server.
fn local(line: &str, srv: &StaticServer) -> String {
    let mut l = without_comment(line).replace("http://mirror.internal", &srv.url(""));
    let mut add = |flag: &str, path: &str| {
        if !l.contains(flag) {
            l.push_str(&format!(" {flag} {}", srv.url(path)));
        }
    };
    add("--osv-base", "/osv");
    add("--kev-url", "/kev.json");
    add("--epss-url", "/epss.csv.gz");
    let distros = line.contains("--distro ");
    if distros && line.contains("debian") {
        add("--debian-url", "/debian/json");
    }
    if distros && line.contains("alpine") {
        add("--alpine-url", "/alpine");
    }
    if distros && line.contains("redhat") {
        add("--redhat-url", "/rh");
    }
    if line.contains("PATCHPILOT_NVD_API_KEY") {
        add("--nvd-url", "/nvd/cves/2.0");
    }
    l
}

/// The feeds upstream, from the shared data: OSV crates.io, Go and PyPI (npm: one record
/// written here, there is no npm feed in the shared data), KEV, EPSS, the Debian tracker
/// and Alpine secdb samples (served for every branch), Red Hat's CSAF VEX documents as an
/// archive, and an NVD page.
fn upstream(shared: &Path) -> StaticServer {
    let read = |rel: &str| std::fs::read(shared.join(rel)).unwrap();
    let mut files = HashMap::new();
    for eco in ["crates.io", "Go", "PyPI"] {
        for f in ["all.zip", "modified_id.csv"] {
            files.insert(
                format!("/osv/{eco}/{f}"),
                read(&format!("feeds/osv/{eco}/{f}")),
            );
        }
    }
    let npm = serde_json::json!({
        "schema_version": "1.6.0",
        "id": "GHSA-0000-readme-test",
        "modified": "2026-01-01T00:00:00Z",
        "published": "2026-01-01T00:00:00Z",
        "summary": "a record written by the README test",
        "affected": [{
            "package": {"ecosystem": "npm", "name": "left-pad"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.0"}]}]
        }]
    });
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file::<_, ()>("GHSA-0000-readme-test.json", Default::default())
        .unwrap();
    std::io::Write::write_all(&mut zip, npm.to_string().as_bytes()).unwrap();
    files.insert(
        "/osv/npm/all.zip".into(),
        zip.finish().unwrap().into_inner(),
    );
    files.insert(
        "/osv/npm/modified_id.csv".into(),
        b"2026-01-01T00:00:00Z,GHSA-0000-readme-test\n".to_vec(),
    );
    files.insert(
        "/kev.json".into(),
        read("feeds/kev/known_exploited_vulnerabilities.json"),
    );
    files.insert(
        "/epss.csv.gz".into(),
        read("feeds/epss/epss_scores-sample.csv.gz"),
    );
    files.insert(
        "/debian/json".into(),
        read("feeds/distro-samples/debian/input/debian.json"),
    );
    // The secdb sample is YAML of v3.15; sync asks for BRANCH/REPO.json.
    for repo in ["main", "community"] {
        let yaml: serde_json::Value = serde_yaml::from_slice(&read(&format!(
            "feeds/distro-samples/alpine/input/secdb/v3.15/{repo}.yaml"
        )))
        .unwrap();
        for branch in ["v3.20", "v3.21"] {
            files.insert(
                format!("/alpine/{branch}/{repo}.json"),
                serde_json::to_vec(&yaml).unwrap(),
            );
        }
    }
    let mut tar = tar::Builder::new(Vec::new());
    for doc in [
        "cve-2022-38752.json",
        "cve-2023-20593.json",
        "cve-2023-38545.json",
        "cve-2023-4154.json",
        "cve-2023-42670.json",
    ] {
        let body = read(&format!("feeds/distro-samples/redhat-csaf-vex/{doc}"));
        let year = &doc[4..8];
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, format!("{year}/{doc}"), &body[..])
            .unwrap();
    }
    let archive = zstd::encode_all(&tar.into_inner().unwrap()[..], 3).unwrap();
    files.insert(
        "/rh/archive_latest.txt".into(),
        b"csaf_vex_2026-12-01.tar.zst\n".to_vec(),
    );
    files.insert("/rh/csaf_vex_2026-12-01.tar.zst".into(), archive);
    files.insert("/rh/changes.csv".into(), Vec::new());
    files.insert("/rh/deletions.csv".into(), Vec::new());
    files.insert(
        "/nvd/cves/2.0".into(),
        read("feeds/distro-samples/nvd/single-entry.json"),
    );
    StaticServer::start(files)
}
