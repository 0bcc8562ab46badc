//! Risk-ranked findings: `GET /api/v1/findings?prioritize=true` assesses each finding as
//! `scan --prioritize` does, in its asset's stored context, with KEV/EPSS/NVD from the
//! data dir's feeds (reloaded with the advisory database).

use std::path::Path;

use patchpilot_intel::Date;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

/// The fixture advisory PP-TEST-0001's CVE alias.
const CVE: &str = "CVE-2099-0001";

/// A one-entry KEV catalog listing `cve`.
fn kev_catalog(cve: &str, added: &str, due: &str) -> String {
    json!({
        "title": "CISA Catalog of Known Exploited Vulnerabilities (test)",
        "catalogVersion": "2026.03.01",
        "dateReleased": "2026-03-01T12:00:00.000Z",
        "count": 1,
        "vulnerabilities": [{
            "cveID": cve, "vendorProject": "demo", "product": "demo-crate",
            "vulnerabilityName": "demo-crate remote code execution",
            "dateAdded": added, "shortDescription": "test entry",
            "requiredAction": "Apply updates per vendor instructions.",
            "dueDate": due, "knownRansomwareCampaignUse": "Unknown", "notes": ""
        }]
    })
    .to_string()
}

fn write_feed(data_dir: &Path, name: &str, text: &str) {
    let dir = data_dir.join("feeds");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
}

async fn patch_asset(srv: &TestServer, id: i64, body: Value) {
    let (s, v) = srv
        .call(
            Method::PATCH,
            &format!("/api/v1/assets/{id}"),
            Some(&srv.admin.clone()),
            Some(body),
        )
        .await;
    assert_eq!(s, 200, "{v}");
}

async fn findings(srv: &TestServer, query: &str) -> Vec<Value> {
    let (s, v) = srv
        .get(&format!("/api/v1/findings?{query}"), &srv.admin.clone())
        .await;
    assert_eq!(s, 200, "{query}: {v}");
    v.as_array().unwrap().clone()
}

fn date(v: &Value) -> Date {
    v.as_str().unwrap().parse().unwrap()
}

/// The UTC day of an RFC 3339 time (the server writes UTC).
fn day(v: &Value) -> Date {
    let s = v.as_str().unwrap();
    assert!(s.ends_with('Z'), "{s}");
    s[..10].parse().unwrap()
}

fn factor<'a>(f: &'a Value, name: &str) -> &'a Value {
    f["risk"]["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name)
        .unwrap_or_else(|| panic!("no {name} factor: {f}"))
}

/// `(score, due, id)` of each ranked finding, in the order given.
fn rank_keys(list: &[Value]) -> Vec<(f64, Date, i64)> {
    list.iter()
        .map(|f| {
            (
                f["risk"]["score"].as_f64().unwrap(),
                date(&f["risk"]["due"]["date"]),
                f["id"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn position(list: &[Value], asset: i64, advisory: &str) -> usize {
    list.iter()
        .position(|f| f["asset_id"] == asset && f["advisory_id"] == advisory)
        .unwrap_or_else(|| panic!("no {advisory} on asset {asset}"))
}

#[tokio::test]
async fn prioritized_findings_carry_risk_in_rank_order_on_every_backend() {
    for backend in backends("prioritized_findings_carry_risk_in_rank_order_on_every_backend") {
        let db = fixture_db();
        let srv = TestServer::start(&backend, Some(db.path())).await;
        let (crown, crown_agent) = srv.enroll("crown-jewel").await;
        let (kiosk, kiosk_agent) = srv.enroll("kiosk").await;
        patch_asset(
            &srv,
            crown,
            json!({"tier": 1, "exposure": "internet-facing", "environment": "cloud", "owner": "payments"}),
        )
        .await;
        patch_asset(&srv, kiosk, json!({"tier": 4, "exposure": "isolated"})).await;
        // The same two vulnerable packages on both.
        let pkgs = [
            ("crates.io", "demo-crate", "1.0.0"),
            ("PyPI", "Django", "4.1"),
        ];
        for (agent, key) in [(&kiosk_agent, "k1"), (&crown_agent, "c1")] {
            let (s, ack) = srv
                .post("/api/v1/agent/inventory", agent, report(key, &pkgs))
                .await;
            assert_eq!((s, &ack["findings_opened"]), (200, &json!(2)), "{ack}");
        }

        // Without the flag: as before, by id, no risk.
        let plain = findings(&srv, "").await;
        assert_eq!(plain.len(), 4);
        assert!(plain.iter().all(|f| f.get("risk").is_none()), "{plain:?}");
        let ids: Vec<i64> = plain.iter().map(|f| f["id"].as_i64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

        // With it: every finding has a risk, in rank order.
        let ranked = findings(&srv, "prioritize=true").await;
        assert_eq!(ranked.len(), 4, "{}", backend.name());
        for f in &ranked {
            let r = &f["risk"];
            for key in ["score", "ssvc", "due", "factors", "explanation"] {
                assert!(r.get(key).is_some(), "no {key}: {f}");
            }
            assert!(!r["factors"].as_array().unwrap().is_empty(), "{f}");
        }
        let keys = rank_keys(&ranked);
        let mut sorted = keys.clone();
        sorted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        assert_eq!(keys, sorted, "{}", backend.name());

        // The same advisory ranks higher on the tier-1 internet-facing asset, whose stored
        // context the risk used.
        let (c, k) = (
            position(&ranked, crown, "PP-TEST-0001"),
            position(&ranked, kiosk, "PP-TEST-0001"),
        );
        assert!(c < k, "{ranked:?}");
        assert!(ranked[c]["risk"]["score"].as_f64() > ranked[k]["risk"]["score"].as_f64());
        let ctx = &ranked[c]["risk"]["asset"]["context"];
        assert_eq!(
            (
                &ctx["tier"],
                &ctx["exposure"],
                &ctx["environment"],
                &ctx["owner"]
            ),
            (
                &json!(1),
                &json!("internet-facing"),
                &json!("cloud"),
                &json!("payments")
            ),
            "{ctx}"
        );
        assert_eq!(ranked[0]["id"], ranked[c]["id"]);

        // Due: first seen + the SLA days of the finding's severity on its asset's tier.
        let policy = patchpilot_risk::Policy::default();
        for f in &ranked {
            let due = &f["risk"]["due"];
            assert_eq!(due["rule"], "severity", "{f}");
            let severity: patchpilot_risk::Severity =
                serde_json::from_value(due["severity"].clone()).unwrap();
            let tier = patchpilot_risk::Tier::new(
                f["risk"]["asset"]["context"]["tier"].as_u64().unwrap() as u8,
            )
            .unwrap();
            let days = policy.sla.days(severity, tier);
            assert_eq!(due["days"], json!(days), "{f}");
            assert_eq!(
                date(&due["date"]),
                day(&f["first_seen"]).add_days(i64::from(days)),
                "{f}"
            );
        }

        // The top `limit` of all, and the other filters still apply.
        let top = findings(&srv, "prioritize=true&limit=1").await;
        assert_eq!(rank_keys(&top), rank_keys(&ranked[..1]));
        let kiosk_only = findings(&srv, &format!("prioritize=true&asset_id={kiosk}")).await;
        assert_eq!(kiosk_only.len(), 2);
        assert!(kiosk_only.iter().all(|f| f["asset_id"] == kiosk));
        let one = findings(&srv, "prioritize=true&advisory=PP-TEST-0002").await;
        assert_eq!(one.len(), 2);
        assert!(one.iter().all(|f| f["advisory_id"] == "PP-TEST-0002"));
        let (s, v) = srv
            .get(
                "/api/v1/findings?prioritize=true&after=1",
                &srv.admin.clone(),
            )
            .await;
        assert_eq!(
            (s, &v["error"]["code"]),
            (400, &json!("bad_request")),
            "{v}"
        );

        // By default a ranking holds open findings only; asked for, fixed ones are ranked too.
        let (s, ack) = srv
            .post(
                "/api/v1/agent/inventory",
                &kiosk_agent,
                report(
                    "k2",
                    &[
                        ("crates.io", "demo-crate", "1.0.0"),
                        ("PyPI", "Django", "4.2.1"),
                    ],
                ),
            )
            .await;
        assert_eq!((s, &ack["findings_fixed"]), (200, &json!(1)), "{ack}");
        let open = findings(&srv, "prioritize=true").await;
        assert_eq!(open.len(), 3);
        assert!(open.iter().all(|f| f["state"] != "fixed"), "{open:?}");
        let fixed = findings(&srv, "prioritize=true&state=fixed").await;
        assert_eq!(fixed.len(), 1);
        assert!(fixed[0]["risk"]["score"].is_number(), "{}", fixed[0]);
        // An accepted risk is a decision taken: out of the default queue, there by state.
        let (s, v) = srv
            .call(
                Method::PATCH,
                &format!("/api/v1/findings/{}", open[0]["id"]),
                Some(&srv.admin),
                Some(json!({"state": "accepted", "reason": "compensating control"})),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let queue = findings(&srv, "prioritize=true").await;
        assert_eq!(queue.len(), 2);
        assert!(queue.iter().all(|f| f["id"] != open[0]["id"]), "{queue:?}");
        let accepted = findings(&srv, "prioritize=true&state=accepted").await;
        assert_eq!(accepted.len(), 1);
        assert_eq!(accepted[0]["id"], open[0]["id"]);
        srv.stop().await;
    }
}

#[tokio::test]
async fn a_kev_listing_reaches_the_factors_after_a_feed_reload_on_every_backend() {
    for backend in
        backends("a_kev_listing_reaches_the_factors_after_a_feed_reload_on_every_backend")
    {
        let db = fixture_db();
        let srv = TestServer::start(&backend, Some(db.path())).await;
        let (asset, agent) = srv.enroll("web-1").await;
        let (s, ack) = srv
            .post(
                "/api/v1/agent/inventory",
                &agent,
                report("k1", &[("crates.io", "demo-crate", "1.0.0")]),
            )
            .await;
        assert_eq!(s, 200, "{ack}");
        let query = format!("prioritize=true&asset_id={asset}");
        let before = findings(&srv, &query).await;
        assert_eq!(before.len(), 1);
        let exploitation = factor(&before[0], "exploitation");
        assert_eq!(exploitation["value"], "none known", "{exploitation}");

        // The catalog lands in the feeds folder (as `feeds sync` or `feeds import` would
        // put it): nothing changes until the feeds are reloaded.
        write_feed(
            db.path(),
            "kev.json",
            &kev_catalog(CVE, "2026-01-05", "2026-01-26"),
        );
        let again = findings(&srv, &query).await;
        assert_eq!(again[0]["risk"], before[0]["risk"]);
        let (s, v) = srv
            .post("/api/v1/feeds/reload", &srv.admin.clone(), json!(null))
            .await;
        assert_eq!(s, 200, "{v}");

        let after = findings(&srv, &query).await;
        let exploitation = factor(&after[0], "exploitation");
        assert_eq!(
            (
                &exploitation["value"],
                &exploitation["source"],
                &exploitation["date"]
            ),
            (
                &json!("active: in CISA KEV since 2026-01-05"),
                &json!("CISA KEV"),
                &json!("2026-01-05")
            ),
            "{exploitation}"
        );
        let r = &after[0]["risk"];
        assert!(
            r["score"].as_f64() > before[0]["risk"]["score"].as_f64(),
            "{r}"
        );
        assert!(
            r["explanation"].as_str().unwrap().contains("CISA KEV"),
            "{r}"
        );
        // KEV's own deadline, long past, is the earliest.
        assert_eq!(
            (&r["due"]["rule"], &r["due"]["date"]),
            (&json!("kev-due-date"), &json!("2026-01-26")),
            "{r}"
        );

        // A catalog that does not parse: the reload fails naming the file, and nothing
        // changes (the advisory database is not re-matched either).
        write_feed(db.path(), "kev.json", "{\"catalogVersion\": 1}");
        let (s, v) = srv
            .post("/api/v1/feeds/reload", &srv.admin.clone(), json!(null))
            .await;
        let message = v["error"]["message"].as_str().unwrap_or_default();
        assert_eq!(s, 503, "{v}");
        assert!(message.contains("kev.json"), "{message}");
        assert_eq!(findings(&srv, &query).await[0]["risk"], after[0]["risk"]);
        srv.stop().await;
    }
}

#[tokio::test]
async fn a_server_policy_sets_the_sla_and_bad_feeds_or_policies_stop_the_start() {
    let db = fixture_db();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[sla]\ncritical = 3\n[sla.tiers.1]\ncritical = 1\n",
    )
    .unwrap();
    let path = policy.clone();
    let srv = TestServer::start_with(&Backend::Sqlite, Some(db.path()), move |c| {
        c.policy = Some(path)
    })
    .await;
    let (asset, agent) = srv.enroll("web-1").await;
    let (s, _) = srv
        .post(
            "/api/v1/agent/inventory",
            &agent,
            report("k1", &[("crates.io", "demo-crate", "1.0.0")]),
        )
        .await;
    assert_eq!(s, 200);
    let f = &findings(&srv, "prioritize=true").await[0];
    assert_eq!(
        (&f["risk"]["due"]["days"], &f["risk"]["due"]["severity"]),
        (&json!(3), &json!("critical")),
        "{f}"
    );
    patch_asset(&srv, asset, json!({"tier": 1})).await;
    let f = &findings(&srv, "prioritize=true").await[0];
    assert_eq!(f["risk"]["due"]["days"], 1, "{f}");
    assert_eq!(
        date(&f["risk"]["due"]["date"]),
        day(&f["first_seen"]).add_days(1)
    );
    srv.stop().await;

    // A policy the risk engine rejects, or a corrupt feed file, stops the start with an
    // error naming the file.
    let start = |data: &Path, policy: Option<std::path::PathBuf>| {
        let mut c = patchpilot_server::Config::new(data.to_path_buf());
        c.listen = "127.0.0.1:0".parse().unwrap();
        c.database_url = Some(format!("sqlite://{}", data.join("server.db").display()));
        c.policy = policy;
        patchpilot_server::start(c)
    };
    std::fs::write(&policy, "epss-threshold = 2.0\n").unwrap();
    let e = start(db.path(), Some(policy.clone()))
        .await
        .err()
        .expect("refused");
    assert_eq!(
        e.to_string(),
        format!(
            "risk policy: {}: invalid policy setting epss-threshold: must be in (0, 1]",
            policy.display()
        )
    );
    write_feed(db.path(), "epss.csv.gz", "not,an,epss,file\n");
    let e = start(db.path(), None).await.err().expect("refused");
    let e = e.to_string();
    assert!(e.starts_with("threat intelligence: "), "{e}");
    assert!(e.contains("epss.csv.gz: EPSS file line 1"), "{e}");
}

/// A RustSec informational advisory (unmaintained) for `old-crate`, as RustSec's OSV export
/// marks it (`affected[].database_specific.informational`).
const NOTICE: &str = r#"{
  "schema_version": "1.6.0",
  "id": "RUSTSEC-2099-0001",
  "modified": "2026-01-01T00:00:00Z",
  "published": "2026-01-01T00:00:00Z",
  "summary": "old-crate is unmaintained",
  "affected": [{
    "package": {"ecosystem": "crates.io", "name": "old-crate"},
    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}],
    "database_specific": {"informational": "unmaintained", "categories": []}
  }]
}"#;

/// Informational advisories (unmaintained, unsound, notices) are not vulnerabilities: as in
/// `scan --prioritize`, they carry no risk and no due date unless the policy sets
/// `[sla] informational`, and they rank after every vulnerability, even one on the least
/// exposed asset while the notice is on the most exposed.
#[tokio::test]
async fn notices_rank_after_every_vulnerability_and_are_due_only_when_the_policy_says_on_every_backend(
) {
    for backend in backends(
        "notices_rank_after_every_vulnerability_and_are_due_only_when_the_policy_says_on_every_backend",
    ) {
        let db = fixture_db();
        let notices = tempfile::tempdir().unwrap();
        std::fs::write(notices.path().join("RUSTSEC-2099-0001.json"), NOTICE).unwrap();
        patchpilot_advisory_db::import(db.path(), &[notices.path().to_path_buf()], &mut |_| {})
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.toml");
        std::fs::write(&policy, "[sla]\ninformational = 30\n").unwrap();

        for with_policy in [false, true] {
            let path = policy.clone();
            let srv = TestServer::start_with(&backend, Some(db.path()), move |c| {
                if with_policy {
                    c.policy = Some(path);
                }
            })
            .await;
            let (crown, crown_agent) = srv.enroll("crown-jewel").await;
            let (kiosk, kiosk_agent) = srv.enroll("kiosk").await;
            patch_asset(&srv, crown, json!({"tier": 1, "exposure": "internet-facing"})).await;
            patch_asset(&srv, kiosk, json!({"tier": 4, "exposure": "isolated"})).await;
            let reports = [
                (&crown_agent, vec![("crates.io", "old-crate", "1.0.0")]),
                // Unrated (no CVSS): the least urgent vulnerability there is.
                (&kiosk_agent, vec![("PyPI", "Django", "4.1")]),
            ];
            for (agent, pkgs) in reports {
                let (s, ack) = srv
                    .post("/api/v1/agent/inventory", agent, report("r1", &pkgs))
                    .await;
                assert_eq!((s, &ack["findings_opened"]), (200, &json!(1)), "{ack}");
            }

            let ranked = findings(&srv, "prioritize=true").await;
            let case = format!("{} policy {with_policy}", backend.name());
            assert_eq!(ranked.len(), 2, "{case}: {ranked:?}");
            let (vuln, notice) = (&ranked[0], &ranked[1]);
            assert_eq!(
                (&vuln["advisory_id"], &vuln["kind"]),
                (&json!("PP-TEST-0002"), &json!("vulnerability")),
                "{case}: {vuln}"
            );
            assert!(vuln["risk"]["score"].is_number(), "{case}: {vuln}");
            assert!(vuln.get("due").is_none(), "{case}: {vuln}");
            assert_eq!(
                (&notice["advisory_id"], &notice["kind"], &notice["asset_id"]),
                (&json!("RUSTSEC-2099-0001"), &json!("unmaintained"), &json!(crown)),
                "{case}: {notice}"
            );
            assert!(notice.get("risk").is_none(), "{case}: {notice}");
            if with_policy {
                let due = &notice["due"];
                assert_eq!(
                    (&due["rule"], &due["days"]),
                    (&json!("informational"), &json!(30)),
                    "{case}: {notice}"
                );
                assert_eq!(
                    date(&due["date"]),
                    day(&notice["first_seen"]).add_days(30),
                    "{case}"
                );
            } else {
                assert!(notice.get("due").is_none(), "{case}: {notice}");
            }
            // The top of the queue is vulnerabilities; the notice is there on its own asset.
            let top = findings(&srv, "prioritize=true&limit=1").await;
            assert_eq!(top[0]["id"], vuln["id"], "{case}");
            let on_crown = findings(&srv, &format!("prioritize=true&asset_id={crown}")).await;
            assert_eq!(on_crown.len(), 1, "{case}");
            assert_eq!(on_crown[0]["id"], notice["id"], "{case}");
            assert!(on_crown[0].get("risk").is_none(), "{case}");
            srv.stop().await;
        }
    }
}
