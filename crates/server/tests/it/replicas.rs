//! The advisory database travels through the store: a replica started with an empty data
//! dir matches with the database another replica re-matched the fleet against, and
//! follows that replica's feed reloads; a server that has no database and cannot get the
//! recorded one refuses to start instead of re-matching the fleet against nothing.

use std::path::Path;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

/// (advisory, package, version) of the asset's open findings, sorted.
async fn open_findings_of(srv: &TestServer, asset: i64) -> Vec<(String, String, String)> {
    let (s, v) = srv
        .get(
            &format!("/api/v1/findings?asset_id={asset}&limit=1000"),
            &srv.admin.clone(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    open_findings(&v)
}

async fn digest(srv: &TestServer) -> String {
    let (s, v) = srv.get("/api/v1/feeds", &srv.admin.clone()).await;
    assert_eq!(s, 200, "{v}");
    v["digest"].as_str().unwrap().to_string()
}

/// Enrol `name` on `srv`, report `packages` there; the asset and the report's
/// `findings_opened`.
async fn report_to(srv: &TestServer, name: &str, packages: &[(&str, &str, &str)]) -> (i64, u64) {
    let (asset, agent) = srv.enroll(name).await;
    let (s, ack) = srv
        .post("/api/v1/agent/inventory", &agent, report(name, packages))
        .await;
    assert_eq!(s, 200, "{ack}");
    (asset, ack["findings_opened"].as_u64().unwrap())
}

fn finding(advisory: &str, name: &str, version: &str) -> (String, String, String) {
    (advisory.into(), name.into(), version.into())
}

const INVENTORY: &[(&str, &str, &str)] = &[
    ("crates.io", "demo-crate", "1.0.0"),
    ("PyPI", "Django", "4.1"),
    ("npm", "left-pad", "1.0.0"),
];

/// Two server replicas on one fresh PostgreSQL schema: A with the fixture advisory
/// database in its data dir, B with an empty data dir. `None` (skipped loudly) without
/// PostgreSQL.
struct Replicas {
    a: TestServer,
    b: TestServer,
    a_dir: tempfile::TempDir,
    b_dir: tempfile::TempDir,
    base: String,
    schema: String,
}

impl Replicas {
    async fn start(test: &str) -> Option<Replicas> {
        let base = backends(test).into_iter().find_map(|b| match b {
            Backend::Postgres(url) => Some(url),
            Backend::Sqlite => None,
        })?;
        let (url, schema) = fresh_schema(&base).await;
        let pg = Backend::Postgres(base.clone());
        let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        import_fixtures(a_dir.path());
        let u = url.clone();
        let a = TestServer::start_with(&pg, Some(a_dir.path()), move |c| c.database_url = Some(u))
            .await;
        let b =
            TestServer::start_with(&pg, Some(b_dir.path()), move |c| c.database_url = Some(url))
                .await;
        Some(Replicas {
            a,
            b,
            a_dir,
            b_dir,
            base,
            schema,
        })
    }

    async fn stop(self) {
        self.a.stop().await;
        self.b.stop().await;
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&self.base).await.unwrap();
        let _ = sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.schema))
            .execute(&mut c)
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_with_an_empty_data_dir_gets_the_advisory_database_from_the_store() {
    let Some(reps) = Replicas::start(
        "a_replica_with_an_empty_data_dir_gets_the_advisory_database_from_the_store",
    )
    .await
    else {
        return;
    };
    let (a, b, a_dir, b_dir) = (&reps.a, &reps.b, &reps.a_dir, &reps.b_dir);
    let (s, _) = b.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(
        s, 200,
        "B loads the stored database without re-matching the fleet"
    );
    assert_eq!(digest(b).await, digest(a).await);
    let written = patchpilot_advisory_db::Database::open(b_dir.path()).unwrap();
    assert_eq!(
        written.len(),
        2,
        "B wrote the stored database into its data dir"
    );

    // The same inventory reported to each replica opens the same findings.
    let (on_a, opened_a) = report_to(a, "via-a", INVENTORY).await;
    let (on_b, opened_b) = report_to(b, "via-b", INVENTORY).await;
    let want = vec![
        finding("PP-TEST-0001", "demo-crate", "1.0.0"),
        finding("PP-TEST-0002", "Django", "4.1"),
    ];
    assert_eq!((opened_a, opened_b), (2, 2));
    assert_eq!(open_findings_of(a, on_a).await, want);
    assert_eq!(open_findings_of(b, on_b).await, want);

    // A gets a changed database: one more advisory, on left-pad.
    let extra = patchpilot_osv::parse_json(
        json!({
            "id": "PP-TEST-0003",
            "modified": "2026-02-01T00:00:00Z",
            "affected": [{
                "package": {"ecosystem": "npm", "name": "left-pad"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.0"}]}]
            }]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    patchpilot_advisory_db::import_advisories(
        a_dir.path(),
        Path::new("extra"),
        "extra",
        vec![extra],
    )
    .unwrap();
    let (s, r) = a
        .call(
            Method::POST,
            "/api/v1/feeds/reload",
            Some(&a.admin.clone()),
            None,
        )
        .await;
    assert_eq!((s, &r["changed"]), (200, &Value::Bool(true)), "{r}");
    let new_digest = digest(a).await;

    // B follows without anyone touching its data dir.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while digest(b).await != new_digest {
        assert!(
            std::time::Instant::now() < deadline,
            "replica B never loaded the new advisory database"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (on_b2, opened) = report_to(b, "via-b-after", INVENTORY).await;
    assert_eq!(
        opened, 3,
        "a report to B is matched against the new database"
    );
    let (on_a2, _) = report_to(a, "via-a-after", INVENTORY).await;
    let want_new = vec![
        finding("PP-TEST-0001", "demo-crate", "1.0.0"),
        finding("PP-TEST-0002", "Django", "4.1"),
        finding("PP-TEST-0003", "left-pad", "1.0.0"),
    ];
    assert_eq!(open_findings_of(b, on_b2).await, want_new);
    assert_eq!(open_findings_of(a, on_a2).await, want_new);
    // A's reload re-matched the asset B had taken the first report of.
    assert_eq!(open_findings_of(b, on_b).await, want_new);
    let written = patchpilot_advisory_db::Database::open(b_dir.path()).unwrap();
    assert_eq!(written.len(), 3, "B's data dir holds the new database");

    reps.stop().await;
}

/// Regression: a server started with no advisory database used to load an empty one and,
/// its digest differing from the one recorded, re-match the fleet against it, closing
/// every finding. SQLite keeps no copy of the file (one server), so there is nothing to
/// load: the start fails and the findings stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_without_an_advisory_database_never_rematches_against_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("shared.db").display());
    let db_dir = tempfile::tempdir().unwrap();
    import_fixtures(db_dir.path());
    let u = url.clone();
    let srv = TestServer::start_with(&Backend::Sqlite, Some(db_dir.path()), move |c| {
        c.database_url = Some(u)
    })
    .await;
    let (asset, opened) = report_to(&srv, "web-1", INVENTORY).await;
    assert_eq!(opened, 2);
    srv.stop().await;

    let empty = tempfile::tempdir().unwrap();
    let mut config = patchpilot_server::Config::new(empty.path().to_path_buf());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.database_url = Some(url.clone());
    match patchpilot_server::start(config).await {
        Err(e @ patchpilot_server::StartError::NoAdvisories { .. }) => {
            assert!(e.to_string().contains("feeds import"), "{e}");
        }
        Err(e) => panic!("expected NoAdvisories, got {e}"),
        Ok(_) => panic!("a server without an advisory database started"),
    }
    assert!(!empty.path().join("advisories.db").exists());

    let u = url.clone();
    let srv = TestServer::start_with(&Backend::Sqlite, Some(db_dir.path()), move |c| {
        c.database_url = Some(u)
    })
    .await;
    assert_eq!(
        open_findings_of(&srv, asset).await,
        vec![
            finding("PP-TEST-0001", "demo-crate", "1.0.0"),
            finding("PP-TEST-0002", "Django", "4.1"),
        ]
    );
    srv.stop().await;
}

/// The ranked findings of PP-TEST-0001 on `asset`.
async fn ranked(srv: &TestServer, asset: i64) -> Value {
    let q = format!("/api/v1/findings?prioritize=true&asset_id={asset}&advisory=PP-TEST-0001");
    let (s, v) = srv.get(&q, &srv.admin.clone()).await;
    assert_eq!(s, 200, "{v}");
    v
}

/// A feed reload on one replica reaches the others' rankings: each reloads the threat
/// intelligence in its own data dir when the reloading replica announces new intel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_reload_on_one_replica_reloads_the_others_threat_intelligence() {
    let Some(reps) =
        Replicas::start("a_feed_reload_on_one_replica_reloads_the_others_threat_intelligence")
            .await
    else {
        return;
    };
    let (a, b, a_dir, b_dir) = (&reps.a, &reps.b, &reps.a_dir, &reps.b_dir);
    let (asset, _) = report_to(a, "web-1", INVENTORY).await;
    let exploitation = |v: &Value| -> Value {
        let f = v.as_array().unwrap()[0]["risk"]["factors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "exploitation")
            .unwrap()
            .clone();
        f["value"].clone()
    };
    assert_eq!(exploitation(&ranked(b, asset).await), "none known");

    // The catalog lands in both replicas' feeds folders (a sync on each, or a shared
    // volume); only A is told to reload.
    let kev = json!({
        "title": "CISA Catalog of Known Exploited Vulnerabilities (test)",
        "catalogVersion": "2026.03.01", "dateReleased": "2026-03-01T12:00:00.000Z",
        "count": 1,
        "vulnerabilities": [{
            "cveID": "CVE-2099-0001", "vendorProject": "demo", "product": "demo-crate",
            "vulnerabilityName": "demo", "dateAdded": "2026-01-05",
            "shortDescription": "test", "requiredAction": "Apply updates.",
            "dueDate": "2026-01-26", "knownRansomwareCampaignUse": "Unknown", "notes": ""
        }]
    })
    .to_string();
    for dir in [a_dir.path(), b_dir.path()] {
        std::fs::create_dir_all(dir.join("feeds")).unwrap();
        std::fs::write(dir.join("feeds/kev.json"), &kev).unwrap();
    }
    let (s, r) = a
        .call(
            Method::POST,
            "/api/v1/feeds/reload",
            Some(&a.admin.clone()),
            None,
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let active = json!("active: in CISA KEV since 2026-01-05");
    assert_eq!(exploitation(&ranked(a, asset).await), active);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while exploitation(&ranked(b, asset).await) != active {
        assert!(
            std::time::Instant::now() < deadline,
            "replica B never reloaded its threat intelligence"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    reps.stop().await;
}

/// Regression: a token revoked through one replica kept working on another for as long as
/// that replica had it cached (up to 5 s), and so did an agent token a re-enrolment had
/// replaced. The store announces revocations; every replica forgets them at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_on_one_replica_stops_at_once_on_the_others() {
    let Some(reps) =
        Replicas::start("a_token_revoked_on_one_replica_stops_at_once_on_the_others").await
    else {
        return;
    };
    let (a, b) = (&reps.a, &reps.b);
    let (s, v) = a
        .post(
            "/api/v1/tokens",
            &a.admin.clone(),
            json!({"name": "read-only", "role": "auditor"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (secret, id) = (
        v["token"].as_str().unwrap().to_string(),
        v["info"]["id"].as_i64().unwrap(),
    );
    // B has looked the token up and caches it.
    let (s, v) = b.get("/api/v1/audit?limit=1", &secret).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = a
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            Some(&a.admin.clone()),
            None,
        )
        .await;
    assert_eq!(s, 204, "{v}");
    // Well inside the cache's 5 s: only the notice can make B refuse it this soon.
    let revoked = std::time::Instant::now();
    loop {
        let (s, _) = b.get("/api/v1/audit?limit=1", &secret).await;
        if s == 401 {
            break;
        }
        assert_eq!(s, 200);
        assert!(
            revoked.elapsed() < std::time::Duration::from_millis(1500),
            "replica B still serves a token revoked on A"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // A re-enrolment on A replaces the agent's token; B stops taking the old one.
    let (asset, old) = a.enroll("web-1").await;
    let (s, _) = b.post("/api/v1/agent/heartbeat", &old, json!({})).await;
    assert_eq!(s, 204);
    let (s, v) = a
        .post(
            "/api/v1/tokens",
            &a.admin.clone(),
            json!({"name": "reinstall", "role": "enroll", "asset_id": asset}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let bound = v["token"].as_str().unwrap().to_string();
    let (s, v) = a
        .post(
            "/api/v1/enroll",
            &bound,
            json!({"asset": {"name": "web-1"}}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let replaced = std::time::Instant::now();
    loop {
        let (s, _) = b.post("/api/v1/agent/heartbeat", &old, json!({})).await;
        if s == 401 {
            break;
        }
        assert_eq!(s, 204);
        assert!(
            replaced.elapsed() < std::time::Duration::from_millis(1500),
            "replica B still serves the agent token a re-enrolment on A replaced"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    reps.stop().await;
}
