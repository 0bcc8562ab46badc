//! `patchpilot server` as a process: SIGKILL during ingestion, two replicas on one
//! PostgreSQL, and `patchpilot audit verify` on a tampered log.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::support::bin;

const ADMIN: &str = "it-admin-0123456789abcdef0123456789abcdef";

/// A running `patchpilot server` process.
struct Proc {
    child: Child,
    base: String,
}

impl Proc {
    fn start(data_dir: &Path, db_url: &str) -> Proc {
        Proc::start_on(data_dir, db_url, "127.0.0.1:0")
    }

    fn start_on(data_dir: &Path, db_url: &str, listen: &str) -> Proc {
        let mut child = bin()
            .args([
                "--data-dir",
                &data_dir.display().to_string(),
                "server",
                "--listen",
                listen,
            ])
            .env("PATCHPILOT_DATABASE_URL", db_url)
            .env("PATCHPILOT_BOOTSTRAP_TOKEN", ADMIN)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn patchpilot server");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(i) = line.find("listening on http://") {
                    if let Some(tx) = tx.take() {
                        let rest = &line[i + "listening on ".len()..];
                        let _ = tx.send(
                            rest.split_whitespace()
                                .next()
                                .unwrap_or_default()
                                .to_string(),
                        );
                    }
                }
                if tx.is_some() && line.contains("patchpilot:") {
                    eprintln!("server: {line}");
                }
            }
        });
        let base = rx
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("server did not start listening");
        Proc { child, base }
    }

    fn kill(mut self) {
        // SIGKILL: no graceful anything.
        self.child.kill().expect("kill");
        let _ = self.child.wait();
    }

    fn stop(mut self) {
        #[cfg(unix)]
        {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
        }
        let status = self.child.wait().expect("wait for the server");
        assert!(
            status.success(),
            "the server did not shut down cleanly on SIGTERM: {status}"
        );
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // A failed test must not leave servers behind.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn call(
    http: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut rb = http
        .request(method, format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    match rb.send().await {
        Ok(r) => {
            let s = r.status().as_u16();
            let t = r.text().await.unwrap_or_default();
            (s, serde_json::from_str(&t).unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

async fn enroll(http: &reqwest::Client, base: &str, name: &str) -> (i64, String) {
    let (s, t) = call(
        http,
        base,
        reqwest::Method::POST,
        "/api/v1/tokens",
        ADMIN,
        Some(json!({"name": "e", "role": "enroll"})),
    )
    .await;
    assert_eq!(s, 201, "{t}");
    let (s, v) = call(
        http,
        base,
        reqwest::Method::POST,
        "/api/v1/enroll",
        t["token"].as_str().unwrap(),
        Some(json!({"asset": {"name": name}})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    (
        v["asset"]["id"].as_i64().unwrap(),
        v["token"].as_str().unwrap().to_string(),
    )
}

/// Every package of every shared Cargo.lock (about 1,400 distinct), as wire rows.
fn shared_packages(shared: &Path) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut stack = vec![shared.join("lockfiles")];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "Cargo.lock") {
                files.push(p);
            }
        }
    }
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut name = None;
        for line in text.lines() {
            if let Some(n) = line.strip_prefix("name = ") {
                name = Some(n.trim_matches('"').to_string());
            } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take()) {
                let v = v.trim_matches('"').to_string();
                if seen.insert((n.clone(), v.clone())) {
                    out.push(json!({"ecosystem": "crates.io", "name": n, "version": v}));
                }
            }
        }
    }
    out
}

fn import_crates_feed(shared: &Path, data: &Path) {
    let o = bin()
        .args(["--data-dir", &data.display().to_string(), "feeds", "import"])
        .arg(shared.join("feeds/osv/crates.io/all.zip"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

struct Db {
    url: String,
    cleanup: Option<(String, String)>,
    sqlite_file: Option<PathBuf>,
}

async fn databases(test: &str, dir: &Path) -> Vec<Db> {
    let mut v = vec![Db {
        url: format!("sqlite://{}", dir.join("server.db").display()),
        cleanup: None,
        sqlite_file: Some(dir.join("server.db")),
    }];
    match std::env::var("PATCHPILOT_TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => v.push(pg_schema(&base).await),
        _ => {
            assert!(
                !patchpilot_testdata::in_ci(),
                "{test}: PATCHPILOT_TEST_DATABASE_URL must be set in CI"
            );
            eprintln!("SKIP {test} on PostgreSQL: PATCHPILOT_TEST_DATABASE_URL is not set");
        }
    }
    v
}

async fn pg_schema(base: &str) -> Db {
    use sqlx::Connection;
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let schema = format!("pp_cli_{:x}_{}", n, std::process::id());
    let mut c = sqlx::PgConnection::connect(base)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut c)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    Db {
        url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
        cleanup: Some((base.to_string(), schema)),
        sqlite_file: None,
    }
}

impl Db {
    async fn drop(self) {
        if let Some((base, schema)) = self.cleanup {
            use sqlx::Connection;
            if let Ok(mut c) = sqlx::PgConnection::connect(&base).await {
                let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                    .execute(&mut c)
                    .await;
            }
        }
    }
}

fn audit_verify(data: &Path, url: &str) -> (bool, String) {
    let o = bin()
        .args([
            "--data-dir",
            &data.display().to_string(),
            "audit",
            "verify",
            "--database-url",
            url,
        ])
        .output()
        .unwrap();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        matches!(o.status.code(), Some(0) | Some(1)),
        "audit verify failed to run: {out}"
    );
    (o.status.success(), out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_ingestion_leaves_a_consistent_database() {
    let Some(shared) =
        patchpilot_testdata::shared_data("sigkill_during_ingestion_leaves_a_consistent_database")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    import_crates_feed(&shared, &data);
    let template = shared_packages(&shared);
    assert!(template.len() > 1000);
    for db in databases(
        "sigkill_during_ingestion_leaves_a_consistent_database",
        tmp.path(),
    )
    .await
    {
        let http = reqwest::Client::new();
        let server = Proc::start(&data, &db.url);
        let base = server.base.clone();
        let mut agents = Vec::new();
        for i in 0..6 {
            agents.push(enroll(&http, &base, &format!("host-{i}")).await);
        }
        // Each agent reports in a loop, every report a different slice of the template
        // (packages come and go, findings open and close). Acks are recorded.
        let acked: Arc<Mutex<Vec<(i64, i64, usize)>>> = Arc::default();
        let mut tasks = Vec::new();
        for (ai, (asset, token)) in agents.iter().cloned().enumerate() {
            let (http, base, template, acked) =
                (http.clone(), base.clone(), template.clone(), acked.clone());
            tasks.push(tokio::spawn(async move {
                for round in 0..10_000usize {
                    let start = (ai * 97 + round * 131) % 400;
                    let pkgs: Vec<Value> = template[start..start + 900].to_vec();
                    let key = format!("{asset}-{round}");
                    let body = json!({"idempotency_key": key, "collected_at": "2026-11-27T00:00:00Z", "sources": ["host"], "packages": pkgs});
                    let (s, v) = call(&http, &base, reqwest::Method::POST, "/api/v1/agent/inventory", &token, Some(body)).await;
                    if s != 200 {
                        return; // the server died
                    }
                    acked.lock().unwrap().push((asset, v["snapshot_id"].as_i64().unwrap(), start));
                }
            }));
        }
        // Kill once plenty of reports are in flight and acknowledged.
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            if acked.lock().unwrap().len() >= 60 {
                break;
            }
        }
        server.kill();
        for t in tasks {
            let _ = t.await;
        }
        let acked = acked.lock().unwrap().clone();

        if let Some(file) = &db.sqlite_file {
            let c = rusqlite::Connection::open(file).unwrap();
            let r: String = c
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            assert_eq!(r, "ok", "SQLite integrity after SIGKILL");
        }
        let server = Proc::start(&data, &db.url);
        let base = server.base.clone();
        let (s, _) = call(&http, &base, reqwest::Method::GET, "/readyz", ADMIN, None).await;
        assert_eq!(s, 200);
        // Every acknowledged report is there.
        let mut snaps: HashMap<i64, BTreeSet<i64>> = HashMap::new();
        for (asset, _) in &agents {
            let (_, v) = call(
                &http,
                &base,
                reqwest::Method::GET,
                &format!("/api/v1/assets/{asset}/snapshots"),
                ADMIN,
                None,
            )
            .await;
            snaps.insert(
                *asset,
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["id"].as_i64().unwrap())
                    .collect(),
            );
        }
        for (asset, snap, _) in &acked {
            assert!(
                snaps[asset].contains(snap),
                "acknowledged snapshot {snap} of asset {asset} lost after SIGKILL"
            );
        }
        // The audit chain is intact.
        let (ok, out) = audit_verify(&data, &db.url);
        assert!(ok, "{out}");
        // Findings are consistent: one more report per asset gives exactly the findings a
        // fresh server computes from that inventory alone.
        let fresh_dir = tempfile::tempdir().unwrap();
        let fresh = Proc::start(
            &data,
            &format!("sqlite://{}", fresh_dir.path().join("f.db").display()),
        );
        for (i, (asset, token)) in agents.iter().enumerate() {
            let start = (i * 53) % 400;
            let body = json!({"idempotency_key": format!("final-{asset}"), "collected_at": "2026-11-27T00:00:00Z", "sources": ["host"], "packages": template[start..start + 900]});
            let (s, v) = call(
                &http,
                &base,
                reqwest::Method::POST,
                "/api/v1/agent/inventory",
                token,
                Some(body.clone()),
            )
            .await;
            assert_eq!(s, 200, "{v}");
            let (fid, ftoken) = enroll(&http, &fresh.base, &format!("host-{i}")).await;
            let (s, _) = call(
                &http,
                &fresh.base,
                reqwest::Method::POST,
                "/api/v1/agent/inventory",
                &ftoken,
                Some(body),
            )
            .await;
            assert_eq!(s, 200);
            let open = |base: String, id: i64| {
                let http = http.clone();
                async move {
                    let (_, v) = call(
                        &http,
                        &base,
                        reqwest::Method::GET,
                        &format!("/api/v1/findings?asset_id={id}&limit=10000"),
                        ADMIN,
                        None,
                    )
                    .await;
                    v.as_array()
                        .unwrap()
                        .iter()
                        .filter(|f| f["state"] != "fixed")
                        .map(|f| {
                            (
                                f["package"]["name"].to_string(),
                                f["package"]["version"].to_string(),
                                f["advisory_id"].to_string(),
                            )
                        })
                        .collect::<BTreeSet<_>>()
                }
            };
            let got = open(base.clone(), *asset).await;
            let want = open(fresh.base.clone(), fid).await;
            assert!(!want.is_empty(), "the template should have findings");
            assert_eq!(
                got, want,
                "asset {asset}: findings after a crash differ from a fresh match"
            );
        }
        eprintln!(
            "{}: {} acknowledged reports survived SIGKILL",
            if db.sqlite_file.is_some() {
                "sqlite"
            } else {
                "postgres"
            },
            acked.len()
        );
        fresh.stop();
        server.stop();
        db.drop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_lose_no_job_and_run_none_twice() {
    let Ok(base_url) = std::env::var("PATCHPILOT_TEST_DATABASE_URL") else {
        assert!(
            !patchpilot_testdata::in_ci(),
            "PATCHPILOT_TEST_DATABASE_URL must be set in CI"
        );
        eprintln!("SKIP two_servers_on_one_postgres_lose_no_job_and_run_none_twice: PATCHPILOT_TEST_DATABASE_URL is not set");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let db = pg_schema(&base_url).await;
    let a = Proc::start(&data, &db.url);
    let b = Proc::start(&data, &db.url);
    let bases = [a.base.clone(), b.base.clone()];
    let http = reqwest::Client::new();
    let mut agents = Vec::new();
    for i in 0..6 {
        // Enrol agents on alternating replicas.
        agents.push(enroll(&http, &bases[i % 2], &format!("replica-host-{i}")).await);
    }
    const JOBS: usize = 240;
    let claims: Arc<Mutex<Vec<(i64, usize)>>> = Arc::default();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut pollers = Vec::new();
    // Every agent long-polls BOTH replicas at once: the harshest case for double claims.
    for (asset, token) in &agents {
        for (pi, base) in bases.iter().enumerate() {
            let (http, base, token, claims, done) = (
                http.clone(),
                base.clone(),
                token.clone(),
                claims.clone(),
                done.clone(),
            );
            let asset = *asset;
            pollers.push(tokio::spawn(async move {
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let (s, v) = call(
                        &http,
                        &base,
                        reqwest::Method::GET,
                        "/api/v1/agent/jobs?wait=2",
                        &token,
                        None,
                    )
                    .await;
                    assert_eq!(s, 200, "{v}");
                    for j in v.as_array().unwrap() {
                        let id = j["id"].as_i64().unwrap();
                        assert_eq!(j["asset_id"].as_i64(), Some(asset));
                        claims.lock().unwrap().push((id, pi));
                        let (s, r) = call(
                            &http,
                            &base,
                            reqwest::Method::POST,
                            &format!("/api/v1/agent/jobs/{id}/result"),
                            &token,
                            Some(json!({"success": true, "output": {"poller": pi}})),
                        )
                        .await;
                        assert_eq!(s, 200, "{r}");
                    }
                }
            }));
        }
    }
    // Queue the jobs through both replicas concurrently.
    let mut queued = Vec::new();
    let mut enq = Vec::new();
    for half in 0..2 {
        let (http, base, agents) = (http.clone(), bases[half].clone(), agents.clone());
        enq.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..JOBS / 2 {
                let asset = agents[(i + half) % agents.len()].0;
                let (s, v) = call(
                    &http,
                    &base,
                    reqwest::Method::POST,
                    "/api/v1/jobs",
                    ADMIN,
                    Some(json!({"asset_id": asset, "kind": "rescan", "payload": {"n": i}})),
                )
                .await;
                assert_eq!(s, 201, "{v}");
                ids.push(v["id"].as_i64().unwrap());
            }
            ids
        }));
    }
    for e in enq {
        queued.extend(e.await.unwrap());
    }
    // Wait until every job is finished (bounded).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let (_, v) = call(
            &http,
            &bases[0],
            reqwest::Method::GET,
            "/api/v1/jobs?limit=1000",
            ADMIN,
            None,
        )
        .await;
        let finished = v
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| j["state"] == "succeeded")
            .count();
        if finished == JOBS {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {finished} of {JOBS} jobs finished"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    for p in pollers {
        p.await.unwrap();
    }
    let claims = claims.lock().unwrap().clone();
    let mut count: BTreeMap<i64, usize> = BTreeMap::new();
    for (id, _) in &claims {
        *count.entry(*id).or_default() += 1;
    }
    let twice: Vec<_> = count.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "jobs run more than once: {twice:?}");
    let queued: BTreeSet<i64> = queued.into_iter().collect();
    let ran: BTreeSet<i64> = count.keys().copied().collect();
    assert_eq!(queued, ran, "every queued job ran exactly once");
    let per_replica = [0, 1].map(|r| claims.iter().filter(|c| c.1 == r).count());
    assert!(
        per_replica.iter().all(|n| *n > 0),
        "both replicas served jobs: {per_replica:?}"
    );
    eprintln!("{JOBS} jobs, each run once; claimed via replica A/B: {per_replica:?}");
    a.stop();
    b.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_finds_edited_deleted_and_reordered_records() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let file = tmp.path().join("server.db");
    let url = format!("sqlite://{}", file.display());
    let server = Proc::start(&data, &url);
    let http = reqwest::Client::new();
    for i in 0..5 {
        let (s, v) = call(
            &http,
            &server.base,
            reqwest::Method::POST,
            "/api/v1/assets",
            ADMIN,
            Some(json!({"name": format!("a{i}")})),
        )
        .await;
        assert_eq!(s, 201, "{v}");
    }
    server.stop();
    let (ok, out) = audit_verify(&data, &url);
    assert!(ok, "{out}");
    // Fold the WAL into the main file so a file copy holds everything.
    rusqlite::Connection::open(&file)
        .unwrap()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    let pristine = tmp.path().join("pristine.db");
    std::fs::copy(&file, &pristine).unwrap();
    let tamper = |sql: &str| {
        std::fs::copy(&pristine, &file).unwrap();
        let c = rusqlite::Connection::open(&file).unwrap();
        // An attacker with database access can drop the append-only triggers first.
        c.execute_batch("DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;").unwrap();
        c.execute_batch(sql).unwrap();
        drop(c);
        audit_verify(&data, &url)
    };
    let (ok, out) = tamper(
        r#"UPDATE audit_log SET after = replace(after, '"a2"', '"zz"') WHERE after LIKE '%"a2"%';"#,
    );
    assert!(!ok && out.contains("edited"), "edit: {out}");
    let (ok, out) = tamper("DELETE FROM audit_log WHERE seq = 3;");
    assert!(!ok && out.contains("missing"), "delete: {out}");
    let (ok, out) = tamper("UPDATE audit_log SET seq = -1 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = -1;");
    assert!(!ok && out.contains("link"), "reorder: {out}");
    // A tail cut off is found against an anchored head.
    let (_, out) = tamper("SELECT 1;");
    let head = out
        .split("head ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    std::fs::copy(&pristine, &file).unwrap();
    {
        let c = rusqlite::Connection::open(&file).unwrap();
        c.execute_batch("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log);").unwrap();
    }
    let o = bin()
        .args([
            "--data-dir",
            &data.display().to_string(),
            "audit",
            "verify",
            "--database-url",
            &url,
            "--expect-head",
            &head,
        ])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "truncation: {}",
        String::from_utf8_lossy(&o.stdout)
    );
}

/// Poll `check` until it returns Some, or fail after `secs` (waiting on another process).
async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The real agent against the real server: enrolment (0600 credential), a lockfile
/// reported and matched, a rescan job, and a report made while the server was down
/// delivered after it came back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_enrols_reports_runs_jobs_and_survives_an_outage() {
    let Some(shared) =
        patchpilot_testdata::shared_data("agent_enrols_reports_runs_jobs_and_survives_an_outage")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    import_crates_feed(&shared, &data);
    let db_url = format!("sqlite://{}", tmp.path().join("server.db").display());
    // A port of our own, so the restarted server is at the same URL.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let server = Proc::start_on(&data, &db_url, &listen);
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let (s, t) = call(
        &http,
        &base,
        reqwest::Method::POST,
        "/api/v1/tokens",
        ADMIN,
        Some(json!({"name": "e2e", "role": "enroll"})),
    )
    .await;
    assert_eq!(s, 201, "{t}");
    let lock = tmp.path().join("Cargo.lock");
    let fixtures = shared.join("lockfiles/cargo-audit-fixtures");
    std::fs::copy(fixtures.join("base64_vuln/Cargo.lock"), &lock).unwrap();
    let state = tmp.path().join("agent");
    let mut agent = bin()
        .args([
            "--data-dir",
            &data.display().to_string(),
            "agent",
            "--server",
            &base,
            "--state-dir",
            &state.display().to_string(),
        ])
        .args([
            "--enroll-token",
            t["token"].as_str().unwrap(),
            "--name",
            "e2e-host",
            "--tier",
            "1",
            "--no-os",
            "--path",
            &lock.display().to_string(),
        ])
        .args(["--heartbeat-secs", "1", "--collect-secs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let get = |path: String| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            call(&http, &base, reqwest::Method::GET, &path, ADMIN, None)
                .await
                .1
        }
    };
    let asset = eventually(60, "the agent enrols and reports", || async move {
        let v = get("/api/v1/assets".into()).await;
        v.as_array()?
            .iter()
            .find(|a| a["name"] == "e2e-host" && a["current_snapshot"].is_i64())
            .cloned()
    })
    .await;
    assert_eq!(asset["tier"], 1);
    let id = asset["id"].as_i64().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(state.join("credential.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let f = get(format!("/api/v1/findings?asset_id={id}&state=open")).await;
    let advisories: BTreeSet<String> = f
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["advisory_id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !advisories.is_empty(),
        "base64_vuln's lockfile has a known advisory"
    );

    // A rescan job runs.
    let (s, job) = call(
        &http,
        &base,
        reqwest::Method::POST,
        "/api/v1/jobs",
        ADMIN,
        Some(json!({"asset_id": id, "kind": "rescan", "payload": {}})),
    )
    .await;
    assert_eq!(s, 201, "{job}");
    let jid = job["id"].as_i64().unwrap();
    eventually(60, "the rescan job succeeds", || async move {
        (get(format!("/api/v1/jobs/{jid}")).await["state"] == "succeeded").then_some(())
    })
    .await;

    // Outage: the server goes away, the lockfile changes, the agent queues the report.
    // The rescan reported again (a new snapshot of the same content): take the current one.
    let before = get(format!("/api/v1/assets/{id}")).await["current_snapshot"]
        .as_i64()
        .unwrap();
    server.kill();
    std::fs::copy(fixtures.join("no_vulns/Cargo.lock"), &lock).unwrap();
    eventually(60, "the agent queues the report while offline", || {
        let q = state.join("queue");
        async move {
            std::fs::read_dir(&q)
                .ok()?
                .flatten()
                .any(|e| e.path().is_file() && !e.file_name().to_string_lossy().starts_with('.'))
                .then_some(())
        }
    })
    .await;
    let server = Proc::start_on(&data, &db_url, &listen);
    let now = eventually(
        90,
        "the queued report is delivered after the outage",
        || async move {
            let a = get(format!("/api/v1/assets/{id}")).await;
            let cur = a["current_snapshot"].as_i64()?;
            (cur != before).then_some(cur)
        },
    )
    .await;
    assert!(now > before);
    let f = get(format!("/api/v1/findings?asset_id={id}")).await;
    let still_open: Vec<_> = f
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["state"] == "open" && advisories.contains(x["advisory_id"].as_str().unwrap()))
        .collect();
    assert!(
        still_open.is_empty(),
        "the new lockfile fixed them: {still_open:?}"
    );
    let _ = agent.kill();
    let _ = agent.wait();
    server.stop();
}

/// Run statements on a database directly, behind the server (after it stopped).
async fn tamper_db(db: &Db, sql: &[&str]) {
    match &db.sqlite_file {
        Some(file) => {
            let c = rusqlite::Connection::open(file).unwrap();
            for s in sql {
                c.execute_batch(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            }
        }
        None => {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            for s in sql {
                sqlx::query(s)
                    .execute(&mut c)
                    .await
                    .unwrap_or_else(|e| panic!("{s}: {e}"));
            }
            c.close().await.ok();
        }
    }
}

fn audit_verify_with(data: &Path, url: &str, extra: &[&str]) -> (Option<i32>, String) {
    let o = bin()
        .args([
            "--data-dir",
            &data.display().to_string(),
            "audit",
            "verify",
            "--database-url",
            url,
        ])
        .args(extra)
        .output()
        .unwrap();
    (
        o.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// Deleting the newest audit records used to pass `audit verify` (only `--expect-head`
/// caught it), although the database's own head row records the real head; deleting
/// them and rewinding that row is caught by the head the server recorded in its data dir.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_finds_the_tail_cut_off_even_with_the_head_row_rewound() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, db) in databases(
        "audit_verify_finds_the_tail_cut_off_even_with_the_head_row_rewound",
        tmp.path(),
    )
    .await
    .into_iter()
    .enumerate()
    {
        let data = tmp.path().join(format!("data-{i}"));
        std::fs::create_dir_all(&data).unwrap();
        let server = Proc::start(&data, &db.url);
        let http = reqwest::Client::new();
        for a in 0..5 {
            let (s, v) = call(
                &http,
                &server.base,
                reqwest::Method::POST,
                "/api/v1/assets",
                ADMIN,
                Some(json!({"name": format!("cut-{a}")})),
            )
            .await;
            assert_eq!(s, 201, "{v}");
        }
        // A clean stop records the last head in DATA_DIR/audit-head.log.
        server.stop();
        let (code, out) = audit_verify_with(&data, &db.url, &[]);
        assert_eq!(code, Some(0), "clean: {out}");
        assert!(
            out.contains("checked against the database's audit_head row")
                && out.contains("audit-head.log"),
            "{out}"
        );
        let head: i64 = out
            .split("head ")
            .nth(1)
            .and_then(|h| h.split(':').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no head in {out}"));
        let unguard = if db.sqlite_file.is_some() {
            "DROP TRIGGER audit_log_no_delete"
        } else {
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"
        };
        let keep = head - 2;
        tamper_db(
            &db,
            &[
                unguard,
                &format!("DELETE FROM audit_log WHERE seq > {keep}"),
            ],
        )
        .await;
        let (code, out) = audit_verify_with(&data, &db.url, &[]);
        assert_eq!(code, Some(1), "cut: {out}");
        assert!(
            out.contains(&format!(
                "records {}..{head} were cut off the end",
                keep + 1
            )),
            "cut: {out}"
        );
        tamper_db(
            &db,
            &[&format!(
                "UPDATE audit_head SET seq = {keep}, hash = (SELECT hash FROM audit_log WHERE seq = {keep})"
            )],
        )
        .await;
        let (code, out) = audit_verify_with(&data, &db.url, &[]);
        assert_eq!(code, Some(1), "cut and head row rewound: {out}");
        assert!(
            out.contains("cut off the end") && out.contains("audit-head.log line"),
            "cut and head row rewound: {out}"
        );
        // The same log shipped elsewhere checks the same; without any, the database alone
        // cannot tell, and says what it did not check.
        let shipped = tmp.path().join(format!("shipped-{i}.log"));
        std::fs::rename(data.join("audit-head.log"), &shipped).unwrap();
        let (code, out) = audit_verify_with(
            &data,
            &db.url,
            &["--anchor-log", &shipped.display().to_string()],
        );
        assert_eq!(code, Some(1), "shipped log: {out}");
        let (code, out) = audit_verify_with(&data, &db.url, &[]);
        assert_eq!(code, Some(0), "no log: {out}");
        assert!(
            out.contains("note: not checked against heads recorded outside"),
            "{out}"
        );
        db.drop().await;
    }
}

/// Run `patchpilot server` on a database it must refuse: its exit code and stderr. Fails
/// if it is still running after 120 s (it started on it).
fn start_refused(data: &Path, url: &str) -> (Option<i32>, String) {
    let mut child = bin()
        .args([
            "--data-dir",
            &data.display().to_string(),
            "server",
            "--listen",
            "127.0.0.1:0",
        ])
        .env("PATCHPILOT_DATABASE_URL", url)
        .env("PATCHPILOT_BOOTSTRAP_TOKEN", ADMIN)
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn patchpilot server");
    let mut stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        let _ = tx.send(s);
    });
    // stderr closes when the process ends.
    match rx.recv_timeout(std::time::Duration::from_secs(120)) {
        Ok(err) => (child.wait().unwrap().code(), err),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server started on a damaged database")
        }
    }
}

/// A `server.db` with 64 KB of random bytes in its middle used to start, and `/readyz`
/// said 200 while the audit routes answered 503. PostgreSQL: a table gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_refuses_to_start_on_a_damaged_database() {
    let Some(shared) =
        patchpilot_testdata::shared_data("server_refuses_to_start_on_a_damaged_database")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    import_crates_feed(&shared, &data);
    let template = shared_packages(&shared);
    for db in databases("server_refuses_to_start_on_a_damaged_database", tmp.path()).await {
        // A real database: agents enrolled, their reports matched.
        let server = Proc::start(&data, &db.url);
        let http = reqwest::Client::new();
        for a in 0..12usize {
            let (_, token) = enroll(&http, &server.base, &format!("host-{a}")).await;
            let start = (a * 37) % 400;
            let body = json!({"idempotency_key": format!("r{a}"), "collected_at": "2026-11-27T00:00:00Z",
                "sources": ["host"], "packages": template[start..start + 900].to_vec()});
            let (s, v) = call(
                &http,
                &server.base,
                reqwest::Method::POST,
                "/api/v1/agent/inventory",
                &token,
                Some(body),
            )
            .await;
            assert_eq!(s, 200, "{v}");
        }
        server.stop();
        let (url, what) = match &db.sqlite_file {
            Some(file) => {
                rusqlite::Connection::open(file)
                    .unwrap()
                    .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                    .unwrap();
                let copy = tmp.path().join("damaged.db");
                let mut bytes = std::fs::read(file).unwrap();
                let size = bytes.len();
                assert!(size > 4 * 65536, "server.db is {size} bytes");
                let mut x: u64 = 0x853c_49e6_748f_ea9b;
                for b in &mut bytes[size / 2..size / 2 + 65536] {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    *b = x as u8;
                }
                std::fs::write(&copy, bytes).unwrap();
                (format!("sqlite://{}", copy.display()), "quick_check")
            }
            None => {
                tamper_db(&db, &["DROP TABLE advisory_files"]).await;
                (db.url.clone(), "tables missing: advisory_files")
            }
        };
        let (code, err) = start_refused(&data, &url);
        assert_eq!(code, Some(2), "{err}");
        let said: Vec<&str> = err
            .lines()
            .filter(|l| l.starts_with("patchpilot:"))
            .collect();
        assert_eq!(said.len(), 1, "one line: {err}");
        let line = said[0];
        let named = match &db.sqlite_file {
            Some(_) => tmp.path().join("damaged.db").display().to_string(),
            None => "postgres://".to_string(),
        };
        // Refused by the check, or (when the noise hits a page that opening reads) by
        // SQLite already: either way one line naming the file and the reason.
        assert!(
            line.contains(&named)
                && ((line.contains("is damaged") && line.contains(what))
                    || line.contains("malformed")),
            "{line}"
        );
        db.drop().await;
    }
}
