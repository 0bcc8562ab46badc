use std::path::Path;

use patchpilot_intel::nvd::{CvssVersion, MetricType};
use patchpilot_risk::{AssetContext, Exposure, Tier};

use super::*;

fn advisory(json: &str) -> Advisory {
    patchpilot_osv::parse_json(json.as_bytes()).expect("test advisory parses")
}

/// `id` with `aliases`, and a `severity[]` entry when `vector` is given.
fn advisory_with(aliases: &[&str], vector: Option<(&str, &str)>) -> Advisory {
    let severity = vector
        .map(|(ty, v)| format!(r#","severity": [{{"type": "{ty}", "score": "{v}"}}]"#))
        .unwrap_or_default();
    advisory(&format!(
        r#"{{"id": "PP-UNIT-1", "modified": "2026-01-01T00:00:00Z", "aliases": {},
            "affected": [{{"package": {{"ecosystem": "crates.io", "name": "demo"}},
              "ranges": [{{"type": "SEMVER", "events": [{{"introduced": "0"}}, {{"fixed": "1.0.0"}}]}}]}}]
            {severity}}}"#,
        serde_aliases(aliases)
    ))
}

fn serde_aliases(a: &[&str]) -> String {
    let quoted: Vec<String> = a.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(","))
}

/// A KEV catalog of `(cve, date added, due date)`.
fn kev_json(entries: &[(&str, &str, &str)]) -> String {
    let vulns: Vec<String> = entries
        .iter()
        .map(|(cve, added, due)| {
            format!(
                r#"{{"cveID": "{cve}", "vendorProject": "v", "product": "p",
                    "vulnerabilityName": "n", "dateAdded": "{added}",
                    "shortDescription": "d", "requiredAction": "patch",
                    "dueDate": "{due}", "knownRansomwareCampaignUse": "Unknown"}}"#
            )
        })
        .collect();
    format!(
        r#"{{"title": "t", "catalogVersion": "2026.01.01", "dateReleased": "2026-01-01T00:00:00.000Z",
            "count": {}, "vulnerabilities": [{}]}}"#,
        entries.len(),
        vulns.join(",")
    )
}

fn epss_csv(rows: &[(&str, f32, f32)]) -> String {
    let mut s =
        "#model_version:v2026.06.15,score_date:2026-09-29T00:00:00+0000\ncve,epss,percentile\n"
            .to_string();
    for (cve, e, p) in rows {
        s.push_str(&format!("{cve},{e},{p}\n"));
    }
    s
}

fn write_feed(data_dir: &Path, name: &str, bytes: &[u8]) {
    let dir = data_dir.join(patchpilot_feeds::FEEDS_DIR);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

fn nvd_store(records: Vec<NvdRecord>) -> NvdStore {
    let mut s = NvdStore::default();
    s.merge(records);
    s
}

fn nvd_record(cve: &str, metrics: Vec<(CvssVersion, &str, f32)>) -> NvdRecord {
    NvdRecord {
        id: cve.to_string(),
        published: "2024-11-01T00:00:00.000".parse().unwrap(),
        last_modified: "2024-11-21T10:00:00.000".parse().unwrap(),
        status: Some("Analyzed".into()),
        metrics: metrics
            .into_iter()
            .map(|(version, vector, base_score)| CvssMetric {
                version,
                vector: vector.to_string(),
                base_score,
                source: patchpilot_intel::nvd::NVD_SOURCE.to_string(),
                ty: MetricType::Primary,
            })
            .collect(),
        exploits: Vec::new(),
    }
}

const V31_CRITICAL: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
const V31_MEDIUM: &str = "CVSS:3.1/AV:N/AC:H/PR:L/UI:R/S:U/C:L/I:L/A:N";
const V2_HIGH: &str = "AV:N/AC:L/Au:N/C:P/I:P/A:P";

fn cvss_factor(r: &Risk) -> &patchpilot_risk::Factor {
    r.factors
        .iter()
        .find(|f| f.name == "cvss")
        .expect("a cvss factor")
}

#[test]
fn load_reads_the_feeds_there_and_names_the_missing_ones() {
    let dir = tempfile::tempdir().unwrap();
    let intel = Intel::load(dir.path()).unwrap();
    assert!(intel.kev.is_none() && intel.epss.is_none());
    assert_eq!(intel.missing(), ["CISA KEV", "FIRST EPSS"]);

    write_feed(
        dir.path(),
        "kev.json",
        kev_json(&[("CVE-2099-0001", "2026-01-02", "2026-01-23")]).as_bytes(),
    );
    let intel = Intel::load(dir.path()).unwrap();
    assert_eq!(intel.kev.as_ref().map(KevCatalog::len), Some(1));
    assert_eq!(intel.missing(), ["FIRST EPSS"]);

    // Plain CSV under the gzip name: the parser sniffs the content.
    write_feed(
        dir.path(),
        "epss.csv.gz",
        epss_csv(&[("CVE-2099-0001", 0.5, 0.9)]).as_bytes(),
    );
    let intel = Intel::load(dir.path()).unwrap();
    assert_eq!(intel.epss.as_ref().map(EpssScores::len), Some(1));
    assert!(intel.missing().is_empty());
}

#[test]
fn corrupt_feed_files_are_errors_that_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write_feed(dir.path(), "kev.json", b"{\"not\": \"a catalog\"}");
    let e = Intel::load(dir.path()).unwrap_err().to_string();
    let kev = patchpilot_feeds::kev_file(dir.path());
    assert!(
        e.starts_with(&format!("{}: KEV catalog", kev.display())),
        "{e}"
    );

    std::fs::remove_file(&kev).unwrap();
    write_feed(dir.path(), "epss.csv.gz", b"cve,score\n");
    let e = Intel::load(dir.path()).unwrap_err().to_string();
    let epss = patchpilot_feeds::epss_file(dir.path());
    assert!(
        e.starts_with(&format!("{}: EPSS file line 1", epss.display())),
        "{e}"
    );

    assert!(load_nvd(dir.path()).unwrap().is_none());
    write_feed(dir.path(), "nvd.json", b"[]");
    let e = load_nvd(dir.path()).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("reading NVD data in {}: ", dir.path().display())),
        "{e}"
    );
    assert!(!e.contains('\n'), "one line: {e}");
}

#[test]
fn kev_and_epss_signals_are_the_earliest_listing_and_the_highest_score() {
    let adv = advisory_with(
        &["CVE-2099-0002", "CVE-2099-0001", "GHSA-xxxx-xxxx-xxxx"],
        Some(("CVSS_V3", V31_MEDIUM)),
    );
    let kev = patchpilot_intel::parse_kev(
        kev_json(&[
            ("CVE-2099-0001", "2025-06-01", "2025-06-22"),
            ("CVE-2099-0002", "2025-01-01", "2025-01-22"),
            ("CVE-2099-0003", "2024-01-01", "2024-01-22"),
        ])
        .as_bytes(),
    )
    .unwrap();
    let epss = patchpilot_intel::parse_epss(
        epss_csv(&[
            ("CVE-2099-0001", 0.02, 0.5),
            ("CVE-2099-0002", 0.7, 0.99),
            ("CVE-2099-0003", 0.9, 0.999),
        ])
        .as_bytes(),
    )
    .unwrap();
    let intel = Intel {
        kev: Some(kev.clone()),
        epss: Some(epss.clone()),
    };
    let asset = ResolvedAsset::default();
    let policy = Policy::default();
    let first_seen = date("2026-02-01");
    let got = assess(&adv, true, first_seen, &intel, None, &asset, &policy);

    // The same as the engine given those signals by hand: CVE-2099-0002 was listed first
    // and has the higher EPSS; CVE-2099-0003 is not the advisory's.
    let own = adv.cvss_vector().unwrap();
    let want = patchpilot_risk::assess_on(
        &patchpilot_risk::Finding {
            cvss: Some(
                CvssInput::new(own.base_score.unwrap() as f32, Some(own.score.as_str())).unwrap(),
            ),
            epss: Some(EpssSignal::from_score(
                epss.get("CVE-2099-0002").unwrap(),
                epss.score_date,
            )),
            kev: Some(KevSignal::from(kev.get("CVE-2099-0002").unwrap())),
            exploit_reference: None,
            fix_available: true,
            first_seen,
        },
        &asset,
        &policy,
    );
    assert_eq!(got, want);
    // KEV's own due date of that listing is the earliest deadline.
    assert_eq!(got.due.date, date("2025-01-22"));
}

#[test]
fn the_advisorys_readable_vector_beats_nvd() {
    let adv = advisory_with(&["CVE-2099-0001"], Some(("CVSS_V3", V31_MEDIUM)));
    let nvd = nvd_store(vec![nvd_record(
        "CVE-2099-0001",
        vec![(CvssVersion::V3_1, V31_CRITICAL, 9.8)],
    )]);
    let intel = Intel::default();
    let (asset, policy) = (ResolvedAsset::default(), Policy::default());
    let day = date("2026-02-01");
    let with = assess(&adv, true, day, &intel, Some(&nvd), &asset, &policy);
    let without = assess(&adv, true, day, &intel, None, &asset, &policy);
    assert_eq!(with, without);
    assert!(!cvss_factor(&with).source.starts_with("NVD"), "{with:?}");
}

#[test]
fn nvd_fills_in_cvss_where_the_advisory_has_none_and_is_credited() {
    let adv = advisory_with(&["CVE-2099-0001"], None);
    let nvd = nvd_store(vec![nvd_record(
        "CVE-2099-0001",
        vec![(CvssVersion::V3_1, V31_CRITICAL, 9.8)],
    )]);
    let intel = Intel::default();
    let (asset, policy) = (ResolvedAsset::default(), Policy::default());
    let day = date("2026-02-01");
    let without = assess(&adv, true, day, &intel, None, &asset, &policy);
    let with = assess(&adv, true, day, &intel, Some(&nvd), &asset, &policy);
    assert!(with.score > without.score, "{with:?}\n{without:?}");
    let (record, metric) = nvd_for(Some(&nvd), ["CVE-2099-0001"]).unwrap();
    let f = cvss_factor(&with);
    assert_eq!(f.source, nvd_source(metric));
    assert_eq!(f.source, "NVD CVSS v3.1 (nvd@nist.gov, Primary)");
    assert_eq!(f.date, Some(record.last_modified.date()));
    assert!(
        with.explanation
            .contains("CVSS 9.8 critical from NVD, 2024-11-21"),
        "{}",
        with.explanation
    );
}

#[test]
fn a_v2_only_advisory_takes_nvds_v3_but_not_nvds_v2() {
    let adv = advisory_with(&["CVE-2099-0001"], Some(("CVSS_V2", V2_HIGH)));
    let intel = Intel::default();
    let (asset, policy) = (ResolvedAsset::default(), Policy::default());
    let day = date("2026-02-01");
    let own_only = assess(&adv, true, day, &intel, None, &asset, &policy);

    let v3 = nvd_store(vec![nvd_record(
        "CVE-2099-0001",
        vec![(CvssVersion::V3_1, V31_CRITICAL, 9.8)],
    )]);
    let r = assess(&adv, true, day, &intel, Some(&v3), &asset, &policy);
    assert!(cvss_factor(&r).source.starts_with("NVD CVSS v3.1"), "{r:?}");

    // NVD's v2 score is no better than the advisory's own v2 score.
    let v2 = nvd_store(vec![nvd_record(
        "CVE-2099-0001",
        vec![(CvssVersion::V2, "AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0)],
    )]);
    let r = assess(&adv, true, day, &intel, Some(&v2), &asset, &policy);
    assert_eq!(r, own_only);
}

#[test]
fn nvd_for_takes_the_cve_with_the_highest_score() {
    let nvd = nvd_store(vec![
        nvd_record("CVE-2099-0001", vec![(CvssVersion::V3_1, V31_MEDIUM, 4.2)]),
        nvd_record(
            "CVE-2099-0002",
            vec![(CvssVersion::V3_1, V31_CRITICAL, 9.8)],
        ),
    ]);
    let (r, m) = nvd_for(
        Some(&nvd),
        ["CVE-2099-0001", "CVE-2099-0002", "CVE-2099-0009"],
    )
    .unwrap();
    assert_eq!((r.id.as_str(), m.base_score), ("CVE-2099-0002", 9.8));
    assert!(nvd_for(Some(&nvd), ["CVE-2099-0009"]).is_none());
    assert!(nvd_for(None, ["CVE-2099-0002"]).is_none());
}

#[test]
fn the_fix_and_the_first_seen_day_reach_the_risk() {
    let adv = advisory_with(&["CVE-2099-0001"], Some(("CVSS_V3", V31_CRITICAL)));
    let intel = Intel::default();
    let policy = Policy::default();
    let asset = ResolvedAsset::from(AssetContext {
        tier: Tier::new(1).unwrap(),
        exposure: Exposure::InternetFacing,
        ..AssetContext::default()
    });
    let first_seen = date("2026-03-10");
    let fixed = assess(&adv, true, first_seen, &intel, None, &asset, &policy);
    let unfixed = assess(&adv, false, first_seen, &intel, None, &asset, &policy);
    assert_ne!(fixed.score, unfixed.score);
    let days = policy.sla.days(Severity::Critical, Tier::new(1).unwrap());
    assert_eq!(fixed.due.date, first_seen.add_days(i64::from(days)));
    assert_eq!(
        fixed.due.rule,
        patchpilot_risk::DueRule::Severity {
            severity: Severity::Critical,
            days
        }
    );
    assert_eq!(fixed.asset, asset);
}

#[test]
fn policy_errors_name_the_file_the_line_and_the_vex_statement() {
    let p = Path::new("dir/policy.toml");
    let e = parse_policy(p, "epss-threshold = 0.2\n[weights]\nnope = 1\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("dir/policy.toml:3: invalid policy: "), "{e}");

    let two_vex = "[[vex]]\nvulnerability = \"CVE-2099-0001\"\nproducts = [\"pkg:cargo/a\"]\nstatus = \"not_affected\"\njustification = \"component_not_present\"\n\
                   [[vex]]\nvulnerability = \"CVE-2099-0002\"\nbogus = 1\n";
    let e = parse_policy(p, two_vex).unwrap_err().to_string();
    assert!(
        e.starts_with("dir/policy.toml:8: invalid policy in vex[1]: "),
        "{e}"
    );

    let e = parse_policy(p, "epss-threshold = 0.0\n")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "dir/policy.toml: invalid policy setting epss-threshold: must be in (0, 1]"
    );

    let ok = parse_policy(p, "epss-threshold = 0.2\n[sla]\ncritical = 7\n").unwrap();
    assert_eq!((ok.epss_threshold, ok.sla.critical), (0.2, 7));

    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.toml");
    let e = load_policy(&missing).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}: cannot read: ", missing.display())),
        "{e}"
    );
    std::fs::write(&missing, "[sla]\nhigh = 10\n").unwrap();
    assert_eq!(load_policy(&missing).unwrap().sla.high, 10);
}

#[test]
fn an_exploit_reference_from_the_advisory_or_nvd_means_a_public_poc() {
    use patchpilot_risk::Exploitation;
    let (asset, policy) = (ResolvedAsset::default(), Policy::default());
    let intel = Intel::default();
    let day = date("2026-02-01");
    let exploitation = |r: &Risk| {
        r.factors
            .iter()
            .find(|f| f.name == "exploitation")
            .map(|f| f.source.clone())
            .unwrap()
    };

    let plain = advisory_with(&["CVE-2099-0001"], None);
    let none = assess(&plain, true, day, &intel, None, &asset, &policy);
    assert_eq!(none.ssvc_inputs.exploitation, Exploitation::None);
    assert_eq!(exploit_reference(&plain, None), None);

    // NVD tags a reference of the CVE `Exploit`.
    let mut rec = nvd_record(
        "CVE-2099-0001",
        vec![(CvssVersion::V3_1, V31_CRITICAL, 9.8)],
    );
    rec.exploits = vec!["https://example.org/poc".into()];
    let nvd = nvd_store(vec![rec]);
    let with_nvd = assess(&plain, true, day, &intel, Some(&nvd), &asset, &policy);
    assert_eq!(with_nvd.ssvc_inputs.exploitation, Exploitation::PublicPoc);
    assert_eq!(
        exploitation(&with_nvd),
        "NVD reference tagged Exploit (CVE-2099-0001): https://example.org/poc"
    );
    assert!(
        with_nvd
            .explanation
            .contains("public exploit (exploit reference)"),
        "{}",
        with_nvd.explanation
    );

    // The advisory's own EVIDENCE reference, without NVD.
    let evidence = advisory(
        r#"{"id": "PYSEC-2099-1", "modified": "2026-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "demo"},
              "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}]}]}],
            "references": [{"type": "WEB", "url": "https://example.org/blog"},
                           {"type": "EVIDENCE", "url": "https://example.org/replay"}]}"#,
    );
    let r = assess(&evidence, true, day, &intel, None, &asset, &policy);
    assert_eq!(r.ssvc_inputs.exploitation, Exploitation::PublicPoc);
    assert_eq!(
        exploitation(&r),
        "advisory reference (OSV EVIDENCE): https://example.org/replay"
    );
    assert!(r.score > assess(&plain, true, day, &intel, None, &asset, &policy).score);
}

/// "no CVSS score" says why: the advisory has none, and what NVD could (not) say.
#[test]
fn a_finding_without_cvss_says_why_in_its_factor_and_sentence() {
    let intel = Intel::default();
    let (asset, policy) = (ResolvedAsset::default(), Policy::default());
    let day = date("2026-02-01");
    let other = nvd_store(vec![nvd_record(
        "CVE-2099-0002",
        vec![(CvssVersion::V3_1, V31_CRITICAL, 9.8)],
    )]);
    let cases = [
        (
            advisory_with(&["CVE-2099-0001"], None),
            None,
            "advisory has no CVSS; NVD not synced",
        ),
        (
            advisory_with(&["CVE-2099-0001"], None),
            Some(&other),
            "advisory has no CVSS; NVD has none for its CVEs",
        ),
        (
            advisory_with(&["GHSA-aaaa-bbbb-cccc"], None),
            Some(&other),
            "advisory has no CVSS and no CVE to look up in NVD",
        ),
    ];
    for (adv, nvd, why) in cases {
        let r = assess(&adv, true, day, &intel, nvd, &asset, &policy);
        assert_eq!(
            cvss_factor(&r).value,
            format!("unknown ({why}), assumed 5.0")
        );
        assert!(
            r.explanation.contains(&format!("no CVSS score ({why})")),
            "{}",
            r.explanation
        );
    }
}

/// Informational advisories are not assessed as vulnerabilities: no risk, a due date only
/// when the policy sets `[sla] informational`, and a place after every vulnerability.
#[test]
fn informational_advisories_are_not_ranked_and_due_only_when_the_policy_says() {
    let intel = Intel::default();
    let asset = ResolvedAsset::default();
    let day = date("2026-02-01");
    let vuln = advisory_with(&["CVE-2099-0001"], None);
    for (word, kind) in [
        ("unmaintained", AdvisoryKind::Unmaintained),
        ("unsound", AdvisoryKind::Unsound),
        ("notice", AdvisoryKind::Notice),
    ] {
        let notice = advisory(&format!(
            r#"{{"id": "RUSTSEC-2099-0001", "modified": "2026-01-01T00:00:00Z",
                "affected": [{{"package": {{"ecosystem": "crates.io", "name": "old"}},
                  "database_specific": {{"informational": "{word}"}}}}]}}"#
        ));
        let mut policy = Policy::default();
        let a = assess_finding(&notice, false, day, &intel, None, &asset, &policy);
        assert_eq!(a, Assessment::Informational { kind, due: None });
        assert_eq!(a.kind(), kind);
        policy.sla.informational = Some(30);
        let a = assess_finding(&notice, false, day, &intel, None, &asset, &policy);
        let due = policy.sla.informational_due(day);
        assert_eq!(a, Assessment::Informational { kind, due });
        assert_eq!(due.unwrap().date, date("2026-03-03"));
        // After a vulnerability, even the least urgent one.
        let v = assess_finding(&vuln, true, day, &intel, None, &asset, &policy);
        let Assessment::Vulnerability(r) = &v else {
            panic!("{v:?}")
        };
        assert_eq!(**r, assess(&vuln, true, day, &intel, None, &asset, &policy));
        assert_eq!(
            v.queue_key().queue_cmp(&a.queue_key()),
            std::cmp::Ordering::Less
        );
    }
}
