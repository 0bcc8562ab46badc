//! `feeds status` shows every source with its age and what it covers, the threat
//! intelligence (CISA KEV, FIRST EPSS, NVD) whether synced or imported, and what is
//! missing.

use crate::support::{run, stderr, stdout, with_feeds};

#[test]
fn feeds_status_shows_every_source_its_age_and_what_is_missing() {
    let Some((shared, _keep, data)) = with_feeds(
        "feeds_status_shows_every_source_its_age_and_what_is_missing",
        &["crates.io"],
    ) else {
        return;
    };
    let status = || {
        let o = run(&["--data-dir", &data, "feeds", "status"], None);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    let text = status();
    assert!(text.contains("covers: whole feed: crates.io"), "{text}");
    let missing = text
        .split("\nmissing:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    for want in [
        "npm         no advisories: run `patchpilot feeds sync --ecosystem npm`",
        "Debian      no advisories: run `patchpilot feeds sync --distro debian`",
        "CISA KEV    known exploitation",
        "FIRST EPSS  exploitation probability",
        "NVD         CVSS where advisories have none",
    ] {
        assert!(missing.contains(want), "{want:?} in {text}");
    }
    assert!(!missing.contains("crates.io"), "{text}");

    // Imported (not synced) KEV and EPSS files are shown with what they hold and their
    // age; NVD stays missing.
    let kev = shared.join("feeds/kev/known_exploited_vulnerabilities.json");
    let epss = shared.join("feeds/epss/epss_scores-sample.csv.gz");
    let tracker = shared.join("feeds/distro-samples/debian/input/debian.json");
    let o = run(
        &[
            "--data-dir",
            &data,
            "feeds",
            "import",
            &kev.display().to_string(),
            &epss.display().to_string(),
            &tracker.display().to_string(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = status();
    let intel = text
        .split("threat intelligence:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    let line = |name: &str| {
        intel
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {text}"))
            .to_string()
    };
    assert!(
        line("CISA KEV").contains("catalog 2026.08.07, 1662 entries, updated")
            && line("CISA KEV").ends_with(" ago"),
        "{text}"
    );
    assert!(
        line("FIRST EPSS").contains("13132 CVEs, model v2026.06.15, scores of 2026-09-29"),
        "{text}"
    );
    assert_eq!(line("NVD").trim(), "NVD         missing");
    assert!(
        text.contains("covers: whole feed: Debian 8, 9, 10, 11, 12, 13"),
        "{text}"
    );
    let missing = text.split("\nmissing:\n").nth(1).unwrap();
    assert!(
        !missing.contains("Debian") && !missing.contains("KEV") && missing.contains("NVD"),
        "{text}"
    );
}
