//! Integration tests: the CERT/CC table, monotonicity properties, KEV history end to end,
//! explanations and the TOML/JSON contracts.

use patchpilot_intel::{parse_kev, KevCatalog};
use patchpilot_risk::ssvc::{decide, SsvcInputs};
use patchpilot_risk::{
    assess, AssetContext, Automatable, CvssInput, DataSensitivity, Date, Decision, DueRule,
    EpssSignal, Exploitation, Exposure, Finding, HumanImpact, KevSignal, Policy, SystemExposure,
    Tier, Weights,
};
use proptest::prelude::*;

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

// ---------------------------------------------------------------------------------------
// SSVC: every row of CERT/CC's table.

fn check_ssvc_csv(test: &str, rel: &str) -> Option<usize> {
    let path = patchpilot_testdata::shared_file(test, rel)?;
    let text = std::fs::read_to_string(&path).unwrap();
    let mut checked = 0;
    for (n, line) in text.lines().enumerate().skip(1) {
        // row number, exploitation, exposure, automatable, human impact, decision
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 6, "{rel}:{} {line}", n + 1);
        let inputs = SsvcInputs {
            exploitation: f[1].parse::<Exploitation>().unwrap(),
            exposure: f[2].parse::<SystemExposure>().unwrap(),
            automatable: f[3].parse::<Automatable>().unwrap(),
            human_impact: f[4].parse::<HumanImpact>().unwrap(),
        };
        let want: Decision = f[5].parse().unwrap();
        assert_eq!(decide(&inputs), want, "{rel}:{} {line}", n + 1);
        checked += 1;
    }
    Some(checked)
}

#[test]
fn ssvc_decisions_match_cert_cc_table() {
    let test = "ssvc_decisions_match_cert_cc_table";
    let Some(n) = check_ssvc_csv(test, "ssvc/deployer_patch_application_priority_1_0_0.csv") else {
        return;
    };
    assert_eq!(n, 72);
    // The older labelling ("PoC") of the same table agrees too.
    let Some(n) = check_ssvc_csv(test, "ssvc/deployer-options-legacy.csv") else {
        return;
    };
    assert_eq!(n, 72);
    eprintln!("checked 72 + 72 SSVC rows");
}

// ---------------------------------------------------------------------------------------
// Monotonicity.

const VECTORS: [&str; 6] = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N/E:P",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A",
    "CVSS:4.0/AV:N/AC:H/AT:P/PR:L/UI:A/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N",
    "CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U",
];

fn arb_finding() -> impl Strategy<Value = Finding> {
    (
        proptest::option::of((0.0f32..=10.0, proptest::option::of(0..VECTORS.len()))),
        proptest::option::of((0.0f32..=1.0, 0.0f32..=1.0)),
        proptest::option::of((0i64..4000, -30i64..60, any::<bool>())),
        any::<bool>(),
        any::<bool>(),
        0i64..4000,
    )
        .prop_map(
            |(cvss, epss, kev, exploit_reference, fix_available, seen)| {
                let base = d("2015-01-01");
                Finding {
                    cvss: cvss.map(|(s, v)| CvssInput::new(s, v.map(|i| VECTORS[i])).unwrap()),
                    epss: epss.map(|(p, q)| EpssSignal::new(p, q, None).unwrap()),
                    kev: kev.map(|(added, due, ransomware)| KevSignal {
                        date_added: base.add_days(added),
                        due_date: base.add_days(added + due),
                        ransomware,
                    }),
                    exploit_reference: exploit_reference.then(|| "exploit reference".to_string()),
                    fix_available,
                    first_seen: base.add_days(seen),
                }
            },
        )
}

fn arb_asset() -> impl Strategy<Value = AssetContext> {
    (
        proptest::sample::select(Exposure::ALL.to_vec()),
        proptest::sample::select(Tier::ALL.to_vec()),
        proptest::sample::select(DataSensitivity::ALL.to_vec()),
    )
        .prop_map(|(exposure, tier, data_sensitivity)| AssetContext {
            exposure,
            tier,
            data_sensitivity,
            ..AssetContext::default()
        })
}

/// Default weights half the time, otherwise anything (even invalid): monotonicity must hold
/// by construction, not only for well-chosen weights.
fn arb_policy() -> impl Strategy<Value = Policy> {
    let w = -0.5f64..1.5;
    prop_oneof![
        Just(Policy::default()),
        (
            proptest::array::uniform6(w.clone()),
            proptest::array::uniform8(w),
            0.001f64..=1.0,
            0.0f64..=10.0,
        )
            .prop_map(|(a, f, threshold, missing)| {
                let mut p = Policy {
                    epss_threshold: threshold,
                    ..Policy::default()
                };
                let w = &mut p.weights;
                (w.cvss, w.epss, w.epss_percentile) = (a[0], a[1], a[2]);
                (w.exploit_poc, w.active_exploitation, w.ransomware) = (a[3], a[4], a[5]);
                w.missing_cvss = missing;
                (
                    w.exposure.internet_facing,
                    w.exposure.internal,
                    w.exposure.isolated,
                ) = (f[0], f[1], f[2]);
                (w.tier.tier1, w.tier.tier2, w.tier.tier3, w.tier.tier4) = (f[3], f[4], f[5], f[6]);
                w.no_fix = f[7];
                p
            }),
    ]
}

fn assert_not_lower(
    what: &str,
    p: &Policy,
    (f1, a1): (&Finding, &AssetContext),
    (f2, a2): (&Finding, &AssetContext),
) -> Result<(), TestCaseError> {
    let (r1, r2) = (assess(f1, a1, p), assess(f2, a2, p));
    prop_assert!(
        (0.0..=100.0).contains(&r1.score) && (0.0..=100.0).contains(&r2.score),
        "{what}: score out of range {} {}",
        r1.score,
        r2.score
    );
    prop_assert!(
        r2.score >= r1.score,
        "{what}: score fell {} -> {}",
        r1.score,
        r2.score
    );
    prop_assert!(
        r2.ssvc >= r1.ssvc,
        "{what}: SSVC fell {:?} -> {:?}",
        r1.ssvc,
        r2.ssvc
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn raising_epss_never_lowers_risk(
        f in arb_finding(), a in arb_asset(), p in arb_policy(),
        dp in 0.0f32..=1.0, dq in 0.0f32..=1.0,
    ) {
        let (p0, q0) = f.epss.map_or((0.0, 0.0), |e| (e.epss, e.percentile));
        let raise = |ep: f32, eq: f32| Finding {
            epss: Some(EpssSignal::new(ep.min(1.0), eq.min(1.0), None).unwrap()),
            ..f.clone()
        };
        // probability alone, percentile alone, both; and from "not scored" to scored.
        assert_not_lower("epss", &p, (&f, &a), (&raise(p0 + dp, q0), &a))?;
        assert_not_lower("percentile", &p, (&f, &a), (&raise(p0, q0 + dq), &a))?;
        assert_not_lower("epss+percentile", &p, (&f, &a), (&raise(p0 + dp, q0 + dq), &a))?;
    }

    #[test]
    fn raising_cvss_never_lowers_risk(
        f in arb_finding(), a in arb_asset(), p in arb_policy(), up in 0.0f32..=10.0,
    ) {
        if let Some(c) = &f.cvss {
            let g = Finding {
                cvss: Some(CvssInput { base_score: (c.base_score + up).min(10.0), ..c.clone() }),
                ..f.clone()
            };
            assert_not_lower("cvss", &p, (&f, &a), (&g, &a))?;
        }
    }

    #[test]
    fn raising_exposure_or_criticality_never_lowers_risk(
        f in arb_finding(), a in arb_asset(), p in arb_policy(),
        e in proptest::sample::select(Exposure::ALL.to_vec()),
        t in proptest::sample::select(Tier::ALL.to_vec()),
    ) {
        let more_exposed = AssetContext { exposure: a.exposure.max(e), ..a.clone() };
        assert_not_lower("exposure", &p, (&f, &a), (&f, &more_exposed))?;
        let more_critical = AssetContext { tier: a.tier.min(t), ..a.clone() };
        assert_not_lower("criticality", &p, (&f, &a), (&f, &more_critical))?;
        let both = AssetContext { exposure: a.exposure.max(e), tier: a.tier.min(t), ..a.clone() };
        assert_not_lower("exposure+criticality", &p, (&f, &a), (&f, &both))?;
    }

    #[test]
    fn factors_sum_to_the_score(f in arb_finding(), a in arb_asset()) {
        let r = assess(&f, &a, &Policy::default());
        let sum: f32 = r.factors.iter().map(|x| x.contribution).sum();
        // Each contribution is rounded to 0.1; six of them.
        prop_assert!((sum - r.score).abs() <= 0.35, "{sum} vs {} {:?}", r.score, r.factors);
        prop_assert!(!r.explanation.is_empty());
        prop_assert!(r.due.date >= f.first_seen.min(f.kev.map_or(f.first_seen, |k| k.due_date)));
    }
}

// ---------------------------------------------------------------------------------------
// Explanations and contracts.

fn example_finding() -> Finding {
    Finding {
        cvss: Some(
            CvssInput::new(9.8, Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")).unwrap(),
        ),
        epss: Some(EpssSignal::new(0.94, 0.99, Some(d("2024-05-10"))).unwrap()),
        kev: Some(KevSignal {
            date_added: d("2024-05-02"),
            due_date: d("2024-05-23"),
            ransomware: true,
        }),
        exploit_reference: None,
        fix_available: true,
        first_seen: d("2024-04-20"),
    }
}

fn tier1_internet() -> AssetContext {
    AssetContext {
        exposure: Exposure::InternetFacing,
        tier: Tier::new(1).unwrap(),
        ..AssetContext::default()
    }
}

#[test]
fn explanation_of_a_kev_listed_ransomware_cve() {
    let r = assess(&example_finding(), &tier1_internet(), &Policy::default());
    assert_eq!(r.score, 98.0);
    assert_eq!(r.ssvc, Decision::Immediate);
    assert_eq!(
        r.explanation,
        "in CISA KEV since 2024-05-02 (ransomware use known); CVSS 9.8 critical; \
         EPSS 0.94, 99th percentile; internet-facing tier-1 asset"
    );
    let names: Vec<&str> = r.factors.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "exploitation",
            "cvss",
            "epss",
            "exposure",
            "criticality",
            "fix",
            "sla"
        ]
    );
    let kev = &r.factors[0];
    assert_eq!(
        (kev.source.as_str(), kev.date),
        ("CISA KEV", Some(d("2024-05-02")))
    );
    assert_eq!(kev.contribution, 35.0);
    assert_eq!(r.factors[2].date, Some(d("2024-05-10")));
    // Critical: first seen 2024-04-20 + 15 days = 2024-05-05, earlier than 14 days after
    // the listing (2024-05-16) and CISA's 2024-05-23.
    assert_eq!(r.due.date, d("2024-05-05"));
    assert!(r.factors[6].value.contains("15 days for critical severity"));
}

#[test]
fn explanation_of_a_quiet_cve_without_fix_on_an_isolated_asset() {
    let f = Finding {
        cvss: Some(CvssInput::new(5.3, None).unwrap()),
        epss: Some(EpssSignal::new(0.00043, 0.1, None).unwrap()),
        kev: None,
        exploit_reference: None,
        fix_available: false,
        first_seen: d("2024-01-01"),
    };
    let a = AssetContext {
        exposure: Exposure::Isolated,
        tier: Tier::new(4).unwrap(),
        ..AssetContext::default()
    };
    let r = assess(&f, &a, &Policy::default());
    assert_eq!(r.ssvc, Decision::Defer);
    assert_eq!(
        r.explanation,
        "CVSS 5.3 medium; EPSS 0.0004, 10th percentile; isolated tier-4 asset; no fix available"
    );
    assert_eq!(r.due.date, d("2024-03-31"));
    assert!(r.score < 10.0, "{}", r.score);
    let fix = r.factors.iter().find(|f| f.name == "fix").unwrap();
    assert!(fix.contribution < 0.0);
}

#[test]
fn exploit_evidence_without_kev() {
    let base = Finding {
        cvss: Some(CvssInput::new(7.5, None).unwrap()),
        epss: None,
        kev: None,
        exploit_reference: Some(
            "advisory reference (OSV EVIDENCE): https://example.org/poc".into(),
        ),
        fix_available: true,
        first_seen: d("2024-01-01"),
    };
    let r = assess(&base, &tier1_internet(), &Policy::default());
    assert_eq!(r.ssvc_inputs.exploitation, Exploitation::PublicPoc);
    let e = r.factors.iter().find(|f| f.name == "exploitation").unwrap();
    assert_eq!(
        e.source, "advisory reference (OSV EVIDENCE): https://example.org/poc",
        "the factor names the reference it was given"
    );
    assert!(
        r.explanation
            .starts_with("CVSS 7.5 high; public exploit (exploit reference)"),
        "{}",
        r.explanation
    );
    // A CVSS v4 E:A vector is active exploitation even off KEV.
    let attacked = Finding {
        cvss: Some(
            CvssInput::new(
                9.3,
                Some("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A"),
            )
            .unwrap(),
        ),
        exploit_reference: None,
        ..base
    };
    let r = assess(&attacked, &tier1_internet(), &Policy::default());
    assert_eq!(r.ssvc, Decision::Immediate);
    assert!(
        r.explanation.contains("actively exploited (CVSS E:A)"),
        "{}",
        r.explanation
    );
    let e = r.factors.iter().find(|f| f.name == "exploitation").unwrap();
    assert_eq!(e.source, "CVSS threat metric");
    assert_eq!(e.contribution, 30.0);
}

#[test]
fn epss_threshold_is_configurable() {
    let f = Finding {
        cvss: None,
        epss: Some(EpssSignal::new(0.05, 0.9, None).unwrap()),
        kev: None,
        exploit_reference: None,
        fix_available: true,
        first_seen: d("2024-01-01"),
    };
    let a = AssetContext::default();
    let default = assess(&f, &a, &Policy::default());
    assert_eq!(default.ssvc_inputs.exploitation, Exploitation::None);
    let low = Policy {
        epss_threshold: 0.05,
        ..Policy::default()
    };
    assert_eq!(
        assess(&f, &a, &low).ssvc_inputs.exploitation,
        Exploitation::PublicPoc
    );
    // No CVSS: assumed medium for the SLA and 5.0 for the score.
    assert_eq!(default.due.date, d("2024-03-31"));
    assert!(default
        .factors
        .iter()
        .any(|x| x.name == "cvss" && x.value == "unknown, assumed 5.0"));
}

#[test]
fn risk_json_contract() {
    let r = assess(&example_finding(), &tier1_internet(), &Policy::default());
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["ssvc"], "immediate");
    assert_eq!(v["ssvc_inputs"]["exploitation"], "active");
    assert_eq!(v["ssvc_inputs"]["human_impact"], "very-high");
    assert_eq!(v["due"]["date"], "2024-05-05");
    assert_eq!(v["due"]["rule"], "severity");
    assert_eq!(v["factors"][0]["name"], "exploitation");
    assert_eq!(v["factors"][0]["date"], "2024-05-02");
    assert!(v["factors"][3].get("date").is_none());
    let back: patchpilot_risk::Risk = serde_json::from_value(v).unwrap();
    assert_eq!(back, r);
}

#[test]
fn policy_and_asset_from_toml() {
    let policy: Policy = toml::from_str(
        r#"
        epss-threshold = 0.2
        [weights]
        cvss = 0.4
        [weights.tier]
        4 = 0.5
        [weights.exposure]
        isolated = 0.3
        [sla]
        kev = 7
        [sla.tiers.1]
        critical = 5
        "#,
    )
    .unwrap();
    assert_eq!(policy.validate(), Ok(()));
    assert_eq!(policy.epss_threshold, 0.2);
    assert_eq!(policy.weights.cvss, 0.4);
    assert_eq!(policy.weights.epss, Weights::default().epss);
    assert_eq!(policy.weights.tier.tier4, 0.5);
    assert_eq!(policy.weights.exposure.isolated, 0.3);
    assert_eq!(policy.sla.kev, 7);
    assert_eq!(policy.sla.high, 30);
    assert_eq!(policy.sla.tiers.tier1.critical, Some(5));
    let again: Policy = toml::from_str(&toml::to_string(&policy).unwrap()).unwrap();
    assert_eq!(again, policy);
    // Defaults serialise and read back.
    let d: Policy = toml::from_str(&toml::to_string(&Policy::default()).unwrap()).unwrap();
    assert_eq!(d, Policy::default());

    for bad in [
        "[weights]\ncvs = 1.0",
        "[sla]\ncritical = -1",
        "[sla.tiers.5]\ncritical = 1",
        "epss-threshold = \"high\"",
    ] {
        assert!(toml::from_str::<Policy>(bad).is_err(), "{bad}");
    }
    let inverted: Policy = toml::from_str("[weights.tier]\n1 = 0.1").unwrap();
    let e = inverted.validate().unwrap_err().to_string();
    assert!(e.contains("weights.tier"), "{e}");

    let asset: AssetContext = toml::from_str(
        r#"
        environment = "cloud"
        site = "eu-west-1"
        tier = 1
        exposure = "internet-facing"
        data-sensitivity = "restricted"
        owner = "payments-team"
        tags = ["pci"]
        "#,
    )
    .unwrap();
    assert_eq!(asset.tier.get(), 1);
    assert_eq!(asset.exposure, Exposure::InternetFacing);
    assert_eq!(asset.tags, ["pci"]);
    let again: AssetContext = toml::from_str(&toml::to_string(&asset).unwrap()).unwrap();
    assert_eq!(again, asset);
    assert!(toml::from_str::<AssetContext>("tier = 0").is_err());
}

#[test]
fn policy_vex_and_asset_from_toml() {
    let policy: Policy = toml::from_str(
        r#"
        vex-files = ["vendor.openvex.json", "/abs/other.cdx.json"]

        [asset]
        tier = 2
        owner = "ops"

        [[vex]]
        vulnerability = "CVE-2023-1234"
        aliases = ["GHSA-aaaa-bbbb-cccc"]
        products = ["pkg:cargo/foo@1.2.3"]
        status = "not_affected"
        justification = "vulnerable_code_not_in_execute_path"
        impact = "only reads our own config"
        author = "sec"
        timestamp = "2026-01-01"

        [[vex]]
        vulnerability = "CVE-2023-9999"
        products = ["pkg:npm/bar"]
        status = "under_investigation"
        "#,
    )
    .unwrap();
    assert_eq!(policy.validate(), Ok(()));
    assert_eq!(policy.vex_files.len(), 2);
    assert_eq!(policy.asset.tier.map(|t| t.get()), Some(2));
    assert_eq!(policy.asset.exposure, None, "only what the file sets");
    let st = policy.vex_statements("p.toml").unwrap();
    assert_eq!(st.len(), 2);
    assert_eq!(st[0].source, "p.toml vex[0]");
    assert_eq!(st[0].detail.as_deref(), Some("only reads our own config"));
    assert!(st[0].names("ghsa-aaaa-bbbb-cccc"));
    assert_eq!(st[1].status.as_str(), "under_investigation");
    assert!(!st[1].status.suppresses());
    // Round trip, vex tables and all.
    let again: Policy = toml::from_str(&toml::to_string(&policy).unwrap()).unwrap();
    assert_eq!(again, policy);

    // A bad statement is named by its position.
    let bad: Policy = toml::from_str(
        r#"
        [[vex]]
        vulnerability = "CVE-1"
        products = ["pkg:npm/a"]
        status = "fixed"
        [[vex]]
        vulnerability = "CVE-2"
        products = ["pkg:npm/a"]
        status = "not_affected"
        "#,
    )
    .unwrap();
    let e = bad.validate().unwrap_err();
    assert_eq!(e.field, "vex[1]");
    assert_eq!(
        e.to_string(),
        "invalid policy setting vex[1]: CVE-2: not_affected needs a justification or an impact statement"
    );
    let empty: Policy = toml::from_str("vex-files = [\"\"]").unwrap();
    assert_eq!(empty.validate().unwrap_err().field, "vex-files[0]");
    for bad in [
        "[[vex]]\nstatus = \"fixed\"\nproduct = [\"pkg:npm/a\"]",
        "vex = \"x.json\"",
        "[asset]\ntier = 9",
    ] {
        assert!(toml::from_str::<Policy>(bad).is_err(), "{bad}");
    }
}

// ---------------------------------------------------------------------------------------
// KEV history end to end on real catalogs.

fn catalog(test: &str, rel: &str) -> Option<KevCatalog> {
    let path = patchpilot_testdata::shared_file(test, rel)?;
    Some(parse_kev(&std::fs::read(path).unwrap()).unwrap())
}

#[test]
fn kev_update_moves_newly_listed_cves_to_immediate() {
    let test = "kev_update_moves_newly_listed_cves_to_immediate";
    let Some(old) = catalog(test, "feeds/kev/history/2024-01-19.json") else {
        return;
    };
    let Some(new) = catalog(test, "feeds/kev/history/2026-08-08.json") else {
        return;
    };
    let policy = Policy::default();
    let asset = tier1_internet();
    let added = new.added_since(&old);
    assert!(added.len() >= 500, "{}", added.len());
    let vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
    for entry in &added {
        // A finding seen ten days before CISA listed it, with no CVSS score known.
        let mut f = Finding {
            cvss: None,
            epss: None,
            kev: old.get(&entry.cve).map(KevSignal::from),
            exploit_reference: None,
            fix_available: true,
            first_seen: entry.date_added.add_days(-10),
        };
        let before = assess(&f, &asset, &policy);
        f.kev = Some(KevSignal::from(*entry));
        let after = assess(&f, &asset, &policy);
        // Active, open, very high human impact → Immediate whatever Automatable says.
        assert_eq!(before.ssvc, Decision::Scheduled, "{}", entry.cve);
        assert_eq!(after.ssvc, Decision::Immediate, "{}", entry.cve);
        assert!(after.score > before.score, "{}", entry.cve);
        // Medium (unknown CVSS): 90 days from first seen; KEV: 14 days from listing or
        // CISA's due date, whichever is first.
        assert_eq!(before.due.date, f.first_seen.add_days(90));
        let kev_due = entry.date_added.add_days(14).min(entry.due_date);
        assert_eq!(after.due.date, kev_due, "{}", entry.cve);
        assert!(matches!(
            after.due.rule,
            DueRule::KevDays { .. } | DueRule::KevDueDate
        ));
        assert!(after
            .explanation
            .starts_with(&format!("in CISA KEV since {}", entry.date_added)));
        // With an automatable vector it is Immediate even on a tier-2 asset.
        f.cvss = Some(CvssInput::new(9.8, Some(vector)).unwrap());
        let tier2 = AssetContext {
            tier: Tier::new(2).unwrap(),
            ..asset.clone()
        };
        assert_eq!(
            assess(&f, &tier2, &policy).ssvc,
            Decision::Immediate,
            "{}",
            entry.cve
        );
    }
    // CVEs listed in both catalogs are already Immediate before the update.
    let kept = old
        .entries
        .values()
        .filter(|e| new.get(&e.cve).is_some())
        .take(50);
    for e in kept {
        let f = Finding {
            cvss: None,
            epss: None,
            kev: Some(KevSignal::from(e)),
            exploit_reference: None,
            fix_available: true,
            first_seen: d("2024-01-19"),
        };
        assert_eq!(assess(&f, &asset, &policy).ssvc, Decision::Immediate);
    }
    eprintln!(
        "checked {} CVEs added to KEV between 2024-01 and 2026-08",
        added.len()
    );
}

#[test]
fn rank_order_is_score_then_ssvc_then_due_date() {
    let kev = assess(&example_finding(), &tier1_internet(), &Policy::default());
    let quiet = Finding {
        kev: None,
        epss: None,
        ..example_finding()
    };
    let quiet = assess(&quiet, &tier1_internet(), &Policy::default());
    assert!(kev.score > quiet.score);
    assert_eq!(kev.rank_cmp(&quiet), std::cmp::Ordering::Less);
    assert_eq!(quiet.rank_cmp(&kev), std::cmp::Ordering::Greater);
    // Same score: the more urgent decision first, then the earlier due date.
    let mut tie = quiet.clone();
    tie.score = kev.score;
    assert!(kev.ssvc > tie.ssvc, "{:?} {:?}", kev.ssvc, tie.ssvc);
    assert_eq!(kev.rank_cmp(&tie), std::cmp::Ordering::Less);
    let mut later = kev.clone();
    later.due.date = d("2030-01-01");
    assert_eq!(kev.rank_cmp(&later), std::cmp::Ordering::Less);
    assert_eq!(kev.rank_cmp(&kev.clone()), std::cmp::Ordering::Equal);
}

/// Informational advisories (unmaintained, unsound, notice) come after every
/// vulnerability, however low its risk; among them the earlier due date first, none last;
/// findings that could not be assessed after all of them.
#[test]
fn informational_advisories_queue_after_every_vulnerability() {
    use patchpilot_risk::QueueKey;
    use std::cmp::Ordering;
    let low = assess(
        &Finding {
            kev: None,
            epss: None,
            cvss: None,
            ..example_finding()
        },
        &AssetContext::default(),
        &Policy::default(),
    );
    let high = assess(&example_finding(), &tier1_internet(), &Policy::default());
    let queue = [
        QueueKey::Ranked(high.rank_key()),
        QueueKey::Ranked(low.rank_key()),
        QueueKey::Informational {
            due: Some(d("2020-01-01")),
        },
        QueueKey::Informational {
            due: Some(d("2024-01-01")),
        },
        QueueKey::Informational { due: None },
        QueueKey::Unassessed,
    ];
    for (i, a) in queue.iter().enumerate() {
        for (j, b) in queue.iter().enumerate() {
            assert_eq!(a.queue_cmp(b), i.cmp(&j), "{a:?} vs {b:?}");
        }
    }
    assert_eq!(
        QueueKey::Informational { due: None }.queue_cmp(&QueueKey::Informational { due: None }),
        Ordering::Equal
    );
}
