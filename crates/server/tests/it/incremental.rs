//! Incremental matching agrees with a full re-match: after inventory changes and after an
//! advisory database update, the findings equal those of a fresh server that saw only the
//! final inventories and the final database. Real data: the shared crates.io OSV feed and
//! the shared Cargo.lock files.

use std::collections::BTreeSet;
use std::path::Path;

use patchpilot_osv::{Advisory, Event};
use serde_json::{json, Value};

use crate::support::*;

/// (asset name, package, version, advisory, fixed versions) of every unfixed finding.
async fn findings(srv: &TestServer) -> BTreeSet<(String, String, String, String, String)> {
    let admin = srv.admin.clone();
    let (_, assets) = srv.get("/api/v1/assets?limit=1000", &admin).await;
    let mut out = BTreeSet::new();
    for a in assets.as_array().unwrap() {
        let (_, f) = srv
            .get(
                &format!("/api/v1/findings?asset_id={}&limit=10000", a["id"]),
                &admin,
            )
            .await;
        for f in f.as_array().unwrap() {
            if f["state"] == "fixed" {
                continue;
            }
            out.insert((
                a["name"].as_str().unwrap().to_string(),
                f["package"]["name"].as_str().unwrap().to_string(),
                f["package"]["version"].as_str().unwrap().to_string(),
                f["advisory_id"].as_str().unwrap().to_string(),
                f["fixed_versions"].to_string(),
            ));
        }
    }
    out
}

fn write_db(dir: &Path, advisories: Vec<Advisory>) {
    let _ = std::fs::remove_file(dir.join("advisories.db"));
    patchpilot_advisory_db::import_advisories(dir, Path::new("test-feed"), "test", advisories)
        .unwrap();
}

/// Swap the server's advisory database atomically, as `feeds sync` does.
fn install_db(from: &Path, to: &Path) {
    let tmp = to.join("advisories.db.tmp");
    std::fs::copy(from.join("advisories.db"), &tmp).unwrap();
    std::fs::rename(tmp, to.join("advisories.db")).unwrap();
}

fn lockfile_packages(path: &Path) -> Vec<Value> {
    let inv = patchpilot_inventory::read_path(path, None).unwrap();
    inv.packages
        .iter()
        .map(|p| serde_json::to_value(patchpilot_api::package_row(p)).unwrap())
        .collect()
}

/// Assets a page in the incremental server's re-match (the shared Cargo.locks are a few
/// dozen assets).
const PAGE: u32 = 3;

#[tokio::test]
async fn incremental_equals_full_rematch() {
    let Some(data) = patchpilot_testdata::shared_data("incremental_equals_full_rematch") else {
        return;
    };
    // The final database B: the real crates.io feed.
    let b_dir = tempfile::tempdir().unwrap();
    patchpilot_advisory_db::import(
        b_dir.path(),
        &[data.join("feeds/osv/crates.io/all.zip")],
        &mut |_| {},
    )
    .unwrap();
    let b = patchpilot_advisory_db::Database::open(b_dir.path())
        .unwrap()
        .advisories()
        .to_vec();
    // An older database A: every 7th advisory missing (added later), every 5th with its
    // first fix moved up by replacing `fixed` with the next event (a changed range), and
    // one advisory that B withdrew.
    let mut a: Vec<Advisory> = Vec::new();
    for (i, adv) in b.iter().enumerate() {
        if i % 7 == 3 {
            continue;
        }
        let mut adv = adv.clone();
        if i % 5 == 1 {
            for aff in &mut adv.affected {
                for r in &mut aff.ranges {
                    r.events.retain(|e| !matches!(e, Event::Fixed(_)));
                }
            }
        }
        a.push(adv);
    }

    // Inventories: the shared Cargo.locks, each an asset; the second round changes some.
    let mut locks: Vec<_> = walk(&data.join("lockfiles"))
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "Cargo.lock"))
        .collect();
    locks.sort();
    assert!(locks.len() >= 10, "expected the shared Cargo.lock files");
    let round1: Vec<(String, Vec<Value>)> = locks
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("asset-{i}"), lockfile_packages(p)))
        .collect();
    // Round 2: each asset takes the next asset's lockfile (versions change, packages come
    // and go); the last keeps its own.
    let round2: Vec<(String, Vec<Value>)> = (0..round1.len())
        .map(|i| {
            (
                round1[i].0.clone(),
                round1[(i + 1).min(round1.len() - 1)].1.clone(),
            )
        })
        .collect();
    // An advisory A has and B dropped, on a package installed in round 2 that no other
    // advisory names: only the old database's side of the comparison can find it.
    let named: BTreeSet<&str> = b
        .iter()
        .flat_map(|x| x.affected.iter().map(|af| af.name.as_str()))
        .collect();
    let victim = round2
        .iter()
        .flat_map(|(_, pkgs)| pkgs.iter())
        .find(|p| p["ecosystem"] == "crates.io" && !named.contains(p["name"].as_str().unwrap()))
        .expect("a package without advisories")["name"]
        .as_str()
        .unwrap()
        .to_string();
    let mut gone = b
        .iter()
        .find(|x| x.affected.len() == 1 && x.withdrawn.is_none())
        .unwrap()
        .clone();
    gone.id = "PP-GONE-1".into();
    gone.affected[0].name = victim.clone();
    gone.affected[0].versions.clear();
    gone.affected[0].ranges = vec![patchpilot_osv::Range {
        ty: patchpilot_osv::RangeType::Semver,
        repo: None,
        events: vec![Event::Introduced("0".into())],
    }];
    a.push(gone);
    let a_dir = tempfile::tempdir().unwrap();
    write_db(a_dir.path(), a);

    for backend in backends("incremental_equals_full_rematch") {
        // Incremental: database A, round 1, round 2, then database B and a reload.
        let data_dir = tempfile::tempdir().unwrap();
        install_db(a_dir.path(), data_dir.path());
        // A few assets a page, so the reload's re-match runs over several pages.
        let inc = TestServer::start_with(&backend, Some(data_dir.path()), |c| {
            c.rematch_page_assets = PAGE
        })
        .await;
        let mut agents = Vec::new();
        for (name, pkgs) in &round1 {
            let (_, agent) = inc.enroll(name).await;
            let (s, v) = inc.post("/api/v1/agent/inventory", &agent, json!({"idempotency_key": format!("{name}-1"), "collected_at": "2026-11-27T00:00:00Z", "sources": [], "packages": pkgs})).await;
            assert_eq!(s, 200, "{v}");
            agents.push(agent);
        }
        for ((name, pkgs), agent) in round2.iter().zip(&agents) {
            let (s, v) = inc.post("/api/v1/agent/inventory", agent, json!({"idempotency_key": format!("{name}-2"), "collected_at": "2026-11-27T01:00:00Z", "sources": [], "packages": pkgs})).await;
            assert_eq!(s, 200, "{v}");
        }
        let before = findings(&inc).await;
        assert!(
            before.iter().any(|f| f.3 == "PP-GONE-1" && f.1 == victim),
            "database A should flag {victim}"
        );
        install_db(b_dir.path(), data_dir.path());
        let audit_before = inc.audit_len().await;
        let (s, reload) = inc
            .post("/api/v1/feeds/reload", &inc.admin.clone(), json!(null))
            .await;
        assert_eq!(s, 200, "{reload}");
        assert_eq!(reload["changed"], true);
        let all_keys: u64 = b
            .iter()
            .flat_map(|x| x.affected.iter().map(|af| af.name.clone()))
            .collect::<BTreeSet<_>>()
            .len() as u64;
        let rematched = reload["packages_rematched"].as_u64().unwrap();
        assert!(
            rematched > 0 && rematched < all_keys,
            "re-matched {rematched} of {all_keys} package names: not incremental"
        );
        // The reload's audit records: one `findings.apply` per page that changed (each in
        // the transaction of its change, naming its assets), then the feed state.
        let (_, recs) = inc
            .get("/api/v1/audit?limit=10000", &inc.admin.clone())
            .await;
        let recs = &recs.as_array().unwrap()[audit_before..];
        let (last, applied) = recs.split_last().unwrap();
        assert_eq!(last["action"], "feed.state", "{last}");
        assert!(
            applied.iter().all(|r| r["action"] == "findings.apply"),
            "{applied:?}"
        );
        let pages = round1.len().div_ceil(PAGE as usize);
        assert!(
            applied.len() > 1 && applied.len() <= pages,
            "{}: {} findings.apply records for {pages} pages",
            backend.name(),
            applied.len()
        );
        let mut causes = BTreeSet::new();
        let mut sums = [0u64; 3];
        for r in applied {
            let after: Value = serde_json::from_str(r["after"].as_str().unwrap()).unwrap();
            let cause = after["cause"].as_str().unwrap().to_string();
            assert!(cause.contains(", assets "), "{cause}");
            causes.insert(cause);
            for (sum, k) in sums.iter_mut().zip(["opened", "fixed", "updated"]) {
                *sum += after[k].as_u64().unwrap();
            }
        }
        assert_eq!(causes.len(), applied.len(), "one record per page");
        assert_eq!(
            sums.to_vec(),
            ["findings_opened", "findings_fixed", "findings_updated"]
                .map(|k| reload[k].as_u64().unwrap())
                .to_vec(),
            "the pages' records add up to the reload's counts"
        );
        let got = findings(&inc).await;
        assert!(
            !got.iter().any(|f| f.3 == "PP-GONE-1"),
            "{}: the dropped advisory's findings stay open",
            backend.name()
        );

        // Full: a fresh server on database B that sees only round 2.
        let full_dir = tempfile::tempdir().unwrap();
        install_db(b_dir.path(), full_dir.path());
        let full = TestServer::start(&backend, Some(full_dir.path())).await;
        for (name, pkgs) in &round2 {
            let (_, agent) = full.enroll(name).await;
            let (s, v) = full.post("/api/v1/agent/inventory", &agent, json!({"idempotency_key": "x", "collected_at": "2026-11-27T01:00:00Z", "sources": [], "packages": pkgs})).await;
            assert_eq!(s, 200, "{v}");
        }
        let want = findings(&full).await;
        assert!(
            want.len() > 20,
            "{}: the fixture should produce findings, got {}",
            backend.name(),
            want.len()
        );
        let missing: Vec<_> = want.difference(&got).take(5).collect();
        let extra: Vec<_> = got.difference(&want).take(5).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{}: incremental differs from full: missing {missing:?}, extra {extra:?}",
            backend.name()
        );
        eprintln!("{}: {} findings agree; {rematched} of {all_keys} package names re-matched after the feed update, {} of {pages} pages changed", backend.name(), got.len(), applied.len());
        inc.stop().await;
        full.stop().await;
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Two replicas on one PostgreSQL: a feed reload through one makes the other load the
/// same advisory database (announced over LISTEN/NOTIFY), so both match alike.
#[tokio::test]
async fn a_feed_reload_reaches_the_other_replica() {
    let Ok(base) = std::env::var("PATCHPILOT_TEST_DATABASE_URL") else {
        assert!(
            !patchpilot_testdata::in_ci(),
            "PATCHPILOT_TEST_DATABASE_URL must be set in CI"
        );
        eprintln!(
            "SKIP a_feed_reload_reaches_the_other_replica: PATCHPILOT_TEST_DATABASE_URL is not set"
        );
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let (url, schema) = fresh_schema(&base).await;
    let start = || {
        let mut c = patchpilot_server::Config::new(data.path().to_path_buf());
        c.listen = "127.0.0.1:0".parse().unwrap();
        c.database_url = Some(url.clone());
        c.bootstrap_token = Some(ADMIN_SECRET.into());
        c
    };
    let a = patchpilot_server::start(start()).await.unwrap();
    let b = patchpilot_server::start(start()).await.unwrap();
    let fixtures =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/advisories");
    patchpilot_advisory_db::import(data.path(), &[fixtures], &mut |_| {}).unwrap();
    let http = reqwest::Client::new();
    let digest = |addr: std::net::SocketAddr| {
        let http = http.clone();
        async move {
            let v: Value = http
                .get(format!("http://{addr}/api/v1/feeds"))
                .bearer_auth(ADMIN_SECRET)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["digest"].as_str().unwrap().to_string()
        }
    };
    let before = digest(b.addr).await;
    let r: Value = http
        .post(format!("http://{}/api/v1/feeds/reload", a.addr))
        .bearer_auth(ADMIN_SECRET)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["changed"], true, "{r}");
    let want = digest(a.addr).await;
    assert_ne!(want, before);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while digest(b.addr).await != want {
        assert!(
            std::time::Instant::now() < deadline,
            "replica B never loaded the new advisory database"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(&base).await.unwrap();
    let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut c)
        .await;
}
