//! The API end to end: enrolment, inventories, findings, jobs, audit, bad requests.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

#[tokio::test]
async fn agent_lifecycle_on_every_backend() {
    for backend in backends("agent_lifecycle_on_every_backend") {
        let db = fixture_db();
        let srv = TestServer::start(&backend, Some(db.path())).await;
        let admin = srv.admin.clone();
        let (asset, agent) = srv.enroll("web-1").await;

        // The enrolment token works once.
        let e = srv.token("enroll").await;
        let (s, _) = srv
            .post("/api/v1/enroll", &e, json!({"asset": {"name": "a"}}))
            .await;
        assert_eq!(s, 201);
        let (s, v) = srv
            .post("/api/v1/enroll", &e, json!({"asset": {"name": "b"}}))
            .await;
        assert_eq!(
            s,
            401,
            "{}: second enrolment with one token: {v}",
            backend.name()
        );

        // First report: two vulnerable packages (PyPI name normalized), one safe.
        let r1 = report(
            "k1",
            &[
                ("crates.io", "demo-crate", "1.0.0"),
                ("PyPI", "Django", "4.1"),
                ("npm", "left-pad", "1.0.0"),
            ],
        );
        let (s, ack) = srv
            .post("/api/v1/agent/inventory", &agent, r1.clone())
            .await;
        assert_eq!(s, 200, "{ack}");
        assert_eq!(ack["findings_opened"], 2, "{ack}");
        assert_eq!(ack["duplicate"], false);
        // The same key again: applied once.
        let (s, dup) = srv.post("/api/v1/agent/inventory", &agent, r1).await;
        assert_eq!((s, &dup["duplicate"]), (200, &json!(true)), "{dup}");
        assert_eq!(dup["snapshot_id"], ack["snapshot_id"]);

        let (_, f) = srv
            .get(&format!("/api/v1/findings?asset_id={asset}"), &admin)
            .await;
        assert_eq!(
            open_findings(&f),
            vec![
                ("PP-TEST-0001".into(), "demo-crate".into(), "1.0.0".into()),
                ("PP-TEST-0002".into(), "Django".into(), "4.1".into())
            ]
        );
        let first_seen = f
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["advisory_id"] == "PP-TEST-0001")
            .unwrap()["first_seen"]
            .clone();

        // Second report: demo-crate still vulnerable at 1.1.0 (exposure window kept),
        // Django fixed.
        let r2 = report(
            "k2",
            &[
                ("crates.io", "demo-crate", "1.1.0"),
                ("PyPI", "Django", "4.2.1"),
                ("npm", "left-pad", "1.0.0"),
            ],
        );
        let (s, ack2) = srv.post("/api/v1/agent/inventory", &agent, r2).await;
        assert_eq!(s, 200, "{ack2}");
        assert_eq!(ack2["unchanged"], false);
        assert_eq!(
            (ack2["added"].as_u64(), ack2["removed"].as_u64()),
            (Some(2), Some(2)),
            "{ack2}"
        );
        let (_, f) = srv
            .get(&format!("/api/v1/findings?asset_id={asset}"), &admin)
            .await;
        assert_eq!(
            open_findings(&f),
            vec![("PP-TEST-0001".into(), "demo-crate".into(), "1.1.0".into())]
        );
        let all = f.as_array().unwrap();
        let open = all.iter().find(|x| x["state"] == "open").unwrap();
        assert_eq!(
            open["first_seen"], first_seen,
            "the exposure window survives a version change"
        );
        let fixed: Vec<_> = all.iter().filter(|x| x["state"] == "fixed").collect();
        assert_eq!(fixed.len(), 2, "{f}");
        assert!(fixed.iter().all(|x| x["fixed_at"].is_string()));

        // The same inventory again under a new key (the agent's periodic report of a host
        // that did not change): acknowledged with the current snapshot, nothing stored,
        // no audit record, the asset seen.
        let (_, before) = srv.get(&format!("/api/v1/assets/{asset}"), &admin).await;
        let (_, audit_before) = srv.get("/api/v1/audit/verify", &admin).await;
        // Times are in milliseconds: make "later" visible.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let r3 = report(
            "k3",
            &[
                ("npm", "left-pad", "1.0.0"),
                ("PyPI", "Django", "4.2.1"),
                ("crates.io", "demo-crate", "1.1.0"),
            ],
        );
        let (s, ack3) = srv.post("/api/v1/agent/inventory", &agent, r3).await;
        assert_eq!(s, 200, "{ack3}");
        assert_eq!(ack3["unchanged"], true, "{ack3}");
        assert_eq!(ack3["snapshot_id"], ack2["snapshot_id"]);
        assert_eq!(
            (ack3["added"].as_u64(), ack3["removed"].as_u64()),
            (Some(0), Some(0))
        );
        let (_, after) = srv.get(&format!("/api/v1/assets/{asset}"), &admin).await;
        assert_eq!(after["current_snapshot"], ack2["snapshot_id"]);
        assert!(
            after["last_seen"].is_string() && after["last_seen"] != before["last_seen"],
            "{before} -> {after}"
        );
        let (_, audit_after) = srv.get("/api/v1/audit/verify", &admin).await;
        assert_eq!(
            audit_after["records"], audit_before["records"],
            "{audit_after}"
        );

        // History and diff.
        let (_, snaps) = srv
            .get(&format!("/api/v1/assets/{asset}/snapshots"), &admin)
            .await;
        let ids: Vec<i64> = snaps
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids.len(), 2, "{snaps}");
        let (s, d) = srv
            .get(
                &format!(
                    "/api/v1/snapshots/diff?from={}&to={}",
                    ids.iter().min().unwrap(),
                    ids.iter().max().unwrap()
                ),
                &admin,
            )
            .await;
        assert_eq!(s, 200, "{d}");
        assert_eq!(d["changed"].as_array().unwrap().len(), 2, "{d}");
        assert!(
            d["added"].as_array().unwrap().is_empty()
                && d["removed"].as_array().unwrap().is_empty()
        );

        // Heartbeat.
        let (s, _) = srv.post("/api/v1/agent/heartbeat", &agent, json!({})).await;
        assert_eq!(s, 204);
        let (_, a) = srv.get(&format!("/api/v1/assets/{asset}"), &admin).await;
        assert!(a["last_seen"].is_string(), "{a}");

        // Accepting a finding needs a reason and an approver.
        let fid = open["id"].as_i64().unwrap();
        let (s, _) = srv
            .call(
                Method::PATCH,
                &format!("/api/v1/findings/{fid}"),
                Some(&admin),
                Some(json!({"state": "accepted"})),
            )
            .await;
        assert_eq!(s, 422);
        let (s, v) = srv
            .call(
                Method::PATCH,
                &format!("/api/v1/findings/{fid}"),
                Some(&admin),
                Some(json!({"state": "accepted", "reason": "compensating control"})),
            )
            .await;
        assert_eq!((s, &v["state"]), (200, &json!("accepted")), "{v}");

        // The audit chain verifies.
        let (_, ver) = srv.get("/api/v1/audit/verify", &admin).await;
        assert_eq!(ver["ok"], true, "{ver}");
        srv.stop().await;
    }
}

#[tokio::test]
async fn long_poll_wakes_when_a_job_is_queued() {
    for backend in backends("long_poll_wakes_when_a_job_is_queued") {
        let srv = TestServer::start(&backend, None).await;
        let (asset, agent) = srv.enroll("poller").await;
        let op = srv.token("operator").await;
        let started = std::time::Instant::now();
        let poll = {
            let http = srv.http.clone();
            let url = format!("{}/api/v1/agent/jobs?wait=30", srv.base);
            let agent = agent.clone();
            tokio::spawn(async move {
                http.get(url)
                    .bearer_auth(agent)
                    .send()
                    .await
                    .unwrap()
                    .json::<Value>()
                    .await
                    .unwrap()
            })
        };
        // Queue only once the poll is waiting: wait until it has claimed nothing once.
        tokio::task::yield_now().await;
        let (s, job) = srv
            .post(
                "/api/v1/jobs",
                &op,
                json!({"asset_id": asset, "kind": "rescan", "payload": {}}),
            )
            .await;
        assert_eq!(s, 201, "{job}");
        let got = poll.await.unwrap();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{}: long poll did not wake",
            backend.name()
        );
        let got = got.as_array().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0]["id"], job["id"]);
        // Finish it; twice with the same result is fine.
        let res = json!({"success": true, "output": {"packages": 3}});
        let path = format!("/api/v1/agent/jobs/{}/result", job["id"]);
        let (s, v) = srv.post(&path, &agent, res.clone()).await;
        assert_eq!((s, &v["state"]), (200, &json!("succeeded")), "{v}");
        let (s, _) = srv.post(&path, &agent, res).await;
        assert_eq!(s, 200);
        // Nothing left to claim.
        let (_, none) = srv.get("/api/v1/agent/jobs?wait=0", &agent).await;
        assert_eq!(none, json!([]));
        srv.stop().await;
    }
}

#[tokio::test]
async fn bad_requests_get_json_errors_and_write_nothing() {
    for backend in backends("bad_requests_get_json_errors_and_write_nothing") {
        let srv = TestServer::start(&backend, None).await;
        let admin = srv.admin.clone();
        let (_asset, agent) = srv.enroll("bad-1").await;
        let before = srv.audit_len().await;
        let raw = |path: &str, token: &str, body: Vec<u8>, ctype: Option<&str>| {
            let mut rb = srv
                .http
                .post(format!("{}{}", srv.base, path))
                .bearer_auth(token)
                .body(body);
            if let Some(c) = ctype {
                rb = rb.header("content-type", c);
            }
            async move {
                let r = rb.send().await.unwrap();
                let s = r.status().as_u16();
                let v: Value = r.json().await.expect("a JSON error body");
                (s, v)
            }
        };
        let check = |what: &str, (s, v): (u16, Value), want: u16| {
            assert_eq!(s, want, "{}: {what}: {v}", backend.name());
            assert!(
                v["error"]["code"].is_string() && v["error"]["message"].is_string(),
                "{what}: {v}"
            );
        };
        check(
            "malformed JSON",
            raw(
                "/api/v1/assets",
                &admin,
                b"{\"name\": ".to_vec(),
                Some("application/json"),
            )
            .await,
            400,
        );
        check(
            "wrong type",
            raw(
                "/api/v1/assets",
                &admin,
                br#"{"name": "x", "tier": "high"}"#.to_vec(),
                Some("application/json"),
            )
            .await,
            422,
        );
        check(
            "unknown field",
            raw(
                "/api/v1/assets",
                &admin,
                br#"{"name": "x", "tierr": 1}"#.to_vec(),
                Some("application/json"),
            )
            .await,
            422,
        );
        check(
            "no content type",
            raw("/api/v1/assets", &admin, br#"{"name": "x"}"#.to_vec(), None).await,
            415,
        );
        let big =
            serde_json::to_vec(&report("big", &vec![("npm", "p", "1.0.0"); 120_000])).unwrap();
        assert!(big.len() > 4 << 20);
        check(
            "over the body limit",
            raw(
                "/api/v1/agent/inventory",
                &agent,
                big,
                Some("application/json"),
            )
            .await,
            413,
        );
        check(
            "tier out of range",
            srv.post("/api/v1/assets", &admin, json!({"name": "x", "tier": 9}))
                .await,
            422,
        );
        check(
            "unknown asset",
            srv.get("/api/v1/assets/999999", &admin).await,
            404,
        );
        check(
            "unknown asset for a job",
            srv.post(
                "/api/v1/jobs",
                &admin,
                json!({"asset_id": 999999, "kind": "rescan", "payload": {}}),
            )
            .await,
            404,
        );
        check(
            "missing token",
            srv.call(Method::GET, "/api/v1/assets", None, None).await,
            401,
        );
        check(
            "unknown token",
            srv.get("/api/v1/assets", "nope").await,
            401,
        );
        check("wrong role", srv.get("/api/v1/assets", &agent).await, 403);
        check(
            "empty idempotency key",
            srv.post("/api/v1/agent/inventory", &agent, report("", &[]))
                .await,
            400,
        );
        check(
            "no such route",
            srv.get("/api/v1/nothing", &admin).await,
            404,
        );
        // An expired token.
        let (s, v) = srv
            .post(
                "/api/v1/tokens",
                &admin,
                json!({"name": "short", "role": "auditor", "expires_in_secs": 0}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let expired = v["token"].as_str().unwrap().to_string();
        let after_token = srv.audit_len().await;
        assert_eq!(
            after_token,
            before + 1,
            "creating a token is one audit record"
        );
        check(
            "expired token",
            srv.get("/api/v1/assets", &expired).await,
            401,
        );
        // A revoked token.
        let aud = srv.token("auditor").await;
        let (_, list) = srv.get("/api/v1/tokens", &admin).await;
        let id = list
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|t| t["role"] == "auditor")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let (s, _) = srv
            .call(
                Method::DELETE,
                &format!("/api/v1/tokens/{id}"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(s, 204);
        check("revoked token", srv.get("/api/v1/assets", &aud).await, 401);
        // Nothing but the three token changes reached the database.
        assert_eq!(srv.audit_len().await, before + 3);
        let (_, assets) = srv.get("/api/v1/assets", &admin).await;
        assert_eq!(assets.as_array().unwrap().len(), 1, "{assets}");
        srv.stop().await;
    }
}

#[tokio::test]
async fn every_state_change_writes_one_audit_record() {
    for backend in backends("every_state_change_writes_one_audit_record") {
        let srv = TestServer::start(&backend, None).await;
        let admin = srv.admin.clone();
        let mut n = srv.audit_len().await;
        let mut step = |what: &str, now: usize| {
            assert_eq!(
                now,
                n + 1,
                "{}: {what} should write exactly one audit record",
                backend.name()
            );
            n = now;
        };
        let (s, a) = srv
            .post(
                "/api/v1/assets",
                &admin,
                json!({"name": "db-1", "tier": 1, "exposure": "internet-facing"}),
            )
            .await;
        assert_eq!(s, 201, "{a}");
        step("asset create", srv.audit_len().await);
        let id = a["id"].as_i64().unwrap();
        srv.call(
            Method::PATCH,
            &format!("/api/v1/assets/{id}"),
            Some(&admin),
            Some(json!({"owner": "dba"})),
        )
        .await;
        step("asset patch", srv.audit_len().await);
        srv.post(
            "/api/v1/jobs",
            &admin,
            json!({"asset_id": id, "kind": "rescan", "payload": {}}),
        )
        .await;
        step("job create", srv.audit_len().await);
        // An asset created by an operator is enrolled into with a token bound to it.
        let (s, e) = srv
            .post(
                "/api/v1/tokens",
                &admin,
                json!({"name": "db-1 enrolment", "role": "enroll", "asset_id": id}),
            )
            .await;
        assert_eq!(s, 201, "{e}");
        step("token create", srv.audit_len().await);
        let e = e["token"].as_str().unwrap().to_string();
        let (s, en) = srv
            .post("/api/v1/enroll", &e, json!({"asset": {"name": "db-1"}}))
            .await;
        assert_eq!(s, 201, "{en}");
        step("enrol", srv.audit_len().await);
        assert_eq!(
            en["asset"]["id"].as_i64(),
            Some(id),
            "a bound enrolment token enrols into its asset"
        );
        let agent = en["token"].as_str().unwrap().to_string();
        srv.post(
            "/api/v1/agent/inventory",
            &agent,
            report("a", &[("npm", "x", "1.0.0")]),
        )
        .await;
        step("inventory", srv.audit_len().await);
        srv.post("/api/v1/agent/heartbeat", &agent, json!({})).await;
        assert_eq!(
            srv.audit_len().await,
            n,
            "a heartbeat is telemetry, not a state change"
        );
        let (_, recs) = srv.get("/api/v1/audit", &admin).await;
        let last = recs.as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["action"], "inventory.apply", "{last}");
        let patch = recs
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["action"].as_str().unwrap().starts_with("asset.update"))
            .unwrap();
        // Before: the asset without an owner; after: owned by `dba`.
        assert!(
            !patch["before"].as_str().unwrap().contains("dba"),
            "{patch}"
        );
        assert!(
            patch["before"]
                .as_str()
                .unwrap()
                .contains("\"name\":\"db-1\""),
            "{patch}"
        );
        assert!(patch["after"].as_str().unwrap().contains("dba"), "{patch}");
        let (_, ver) = srv.get("/api/v1/audit/verify", &admin).await;
        assert_eq!(ver["ok"], true, "{ver}");
        srv.stop().await;
    }
}

#[tokio::test]
async fn openapi_document_lists_every_route() {
    let srv = TestServer::start(&Backend::Sqlite, None).await;
    let (s, doc) = srv
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    use patchpilot_api::paths::*;
    for p in [
        HEALTHZ,
        READYZ,
        METRICS,
        ENROLL,
        AGENT_HEARTBEAT,
        AGENT_INVENTORY,
        AGENT_JOBS,
        AGENT_JOB_RESULT,
        ASSETS,
        ASSET,
        ASSET_SNAPSHOTS,
        SNAPSHOT_DIFF,
        FINDINGS,
        FINDING,
        TOKENS,
        TOKEN,
        JOBS,
        JOB,
        AUDIT,
        AUDIT_VERIFY,
        FEEDS,
        FEEDS_RELOAD,
    ] {
        assert!(paths.contains_key(p), "{p} is not in the OpenAPI document");
    }
    // And every documented path is served (not the 404 fallback).
    for p in paths.keys() {
        let concrete = p.replace("{id}", "1");
        let (s, v) = srv.call(Method::GET, &concrete, None, None).await;
        assert!(
            !(s == 404 && v["error"]["message"] == "no such route"),
            "{p} is documented but not routed"
        );
    }
    let (s, _) = srv.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(s, 200);
    let (s, _) = srv.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(s, 200);
    let (s, m) = srv.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(s, 200);
    assert!(
        m.as_str()
            .unwrap()
            .contains("patchpilot_http_requests_total"),
        "{m}"
    );
    srv.stop().await;
}

/// HTTPS with rustls from PEM files; a client that pins the server's CA connects, one
/// that trusts another CA does not.
#[tokio::test]
async fn tls_with_a_pinned_ca() {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
    let dir = tempfile::tempdir().unwrap();
    let make_ca = || {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let k = KeyPair::generate().unwrap();
        let c = p.self_signed(&k).unwrap();
        (c, k)
    };
    let (ca, ca_key) = make_ca();
    let (other_ca, _) = make_ca();
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    leaf.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf.signed_by(&leaf_key, &ca, &ca_key).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, leaf.pem() + &ca.pem()).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();

    let mut config = patchpilot_server::Config::new(dir.path().join("data"));
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.database_url = Some(format!("sqlite://{}", dir.path().join("s.db").display()));
    config.tls = Some((cert, key));
    let running = patchpilot_server::start(config)
        .await
        .expect("TLS server starts");
    let url = format!("https://127.0.0.1:{}/healthz", running.addr.port());
    let client = |pem: String| {
        reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
            .build()
            .unwrap()
    };
    let ok = client(ca.pem())
        .get(&url)
        .send()
        .await
        .expect("pinned CA connects");
    assert_eq!(ok.status(), 200);
    assert!(
        client(other_ca.pem()).get(&url).send().await.is_err(),
        "another CA must be refused"
    );
    assert!(
        reqwest::get(url.replace("https", "http"))
            .await
            .map(|r| r.status() != 200)
            .unwrap_or(true),
        "plain HTTP is not served on the TLS port"
    );
    running.shutdown().await.unwrap();
}

/// A start with a changed advisory database answers at once and re-matches the fleet in
/// the background: `/healthz` is 200 and `/readyz` 503 until the re-match is done, then
/// 200 with the findings of the new database. The re-match is held up by locking the
/// asset row it must write (PostgreSQL only: SQLite's one writer cannot be held from
/// outside without also holding up the start).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_after_a_database_change_answers_while_it_rematches() {
    let Some(base) = backends("start_rematch_readiness")
        .into_iter()
        .find_map(|b| match b {
            Backend::Postgres(url) => Some(url),
            Backend::Sqlite => None,
        })
    else {
        return;
    };
    let (url, schema) = fresh_schema(&base).await;
    let pg = Backend::Postgres(base.clone());
    // First life: no advisories; one asset reports two packages the fixtures name.
    let empty = tempfile::tempdir().unwrap();
    patchpilot_advisory_db::import_advisories(
        empty.path(),
        std::path::Path::new("none"),
        "test",
        vec![],
    )
    .unwrap();
    let u = url.clone();
    let srv =
        TestServer::start_with(&pg, Some(empty.path()), move |c| c.database_url = Some(u)).await;
    let (asset, agent) = srv.enroll("web-1").await;
    let r = report(
        "k1",
        &[
            ("crates.io", "demo-crate", "1.0.0"),
            ("PyPI", "Django", "4.1"),
        ],
    );
    let (s, ack) = srv.post("/api/v1/agent/inventory", &agent, r).await;
    assert_eq!((s, &ack["findings_opened"]), (200, &json!(0)), "{ack}");
    srv.stop().await;

    // Second life, with the fixture advisories: hold the asset's row so the re-match
    // cannot write.
    use sqlx::Connection;
    let mut holder = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::query("SELECT 1 FROM assets WHERE id = $1 FOR UPDATE")
        .bind(asset)
        .execute(&mut holder)
        .await
        .unwrap();
    let db = fixture_db();
    let u = url.clone();
    let srv =
        TestServer::start_unready(&pg, Some(db.path()), move |c| c.database_url = Some(u)).await;
    let (s, _) = srv.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(s, 200);
    let (s, v) = srv.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(s, 503, "{v}");
    assert!(v.to_string().contains("re-matching"), "{v}");
    assert!(!srv.state().is_ready());

    sqlx::query("COMMIT").execute(&mut holder).await.unwrap();
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        srv.state().until_ready(),
    )
    .await
    .expect("the start-up re-match finishes once the row is free");
    let (s, _) = srv.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(s, 200);
    let (_, f) = srv
        .get(
            &format!("/api/v1/findings?asset_id={asset}"),
            &srv.admin.clone(),
        )
        .await;
    assert_eq!(
        open_findings(&f),
        vec![
            ("PP-TEST-0001".into(), "demo-crate".into(), "1.0.0".into()),
            ("PP-TEST-0002".into(), "Django".into(), "4.1".into())
        ]
    );
    srv.stop().await;
    let mut c = sqlx::PgConnection::connect(&base).await.unwrap();
    let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut c)
        .await;
}
