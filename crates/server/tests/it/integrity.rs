//! The database's integrity as the server sees it: the audit chain against the heads
//! recorded in and outside the database (`GET /api/v1/audit/verify`), `/readyz` on a
//! damaged database, and the mode of the files the server writes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use patchpilot_server::{Config, Running};
use serde_json::{json, Value};

use crate::support::{backends, fresh_schema, Backend, ADMIN_SECRET};

/// A database and a data dir that outlive one server, so a test can stop it, tamper
/// with the database as someone with access to it would, and start it again.
struct Site {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    sqlite: Option<PathBuf>,
    url: String,
    pg: Option<(String, String)>,
}

impl Site {
    async fn new(backend: &Backend) -> Site {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        match backend {
            Backend::Sqlite => {
                let file = tmp.path().join("server.db");
                Site {
                    url: format!("sqlite://{}", file.display()),
                    sqlite: Some(file),
                    _tmp: tmp,
                    data,
                    pg: None,
                }
            }
            Backend::Postgres(base) => {
                let (url, schema) = fresh_schema(base).await;
                Site {
                    _tmp: tmp,
                    data,
                    sqlite: None,
                    url,
                    pg: Some((base.clone(), schema)),
                }
            }
        }
    }

    fn config(&self) -> Config {
        let mut c = Config::new(self.data.clone());
        c.listen = "127.0.0.1:0".parse().unwrap();
        c.bootstrap_token = Some(ADMIN_SECRET.into());
        c.database_url = Some(self.url.clone());
        c
    }

    async fn start(&self, configure: impl FnOnce(&mut Config)) -> Server {
        let mut config = self.config();
        configure(&mut config);
        let running = patchpilot_server::start(config)
            .await
            .expect("server starts");
        running.state.until_ready().await;
        Server {
            base: format!("http://{}", running.addr),
            running,
            http: reqwest::Client::new(),
        }
    }

    /// Run statements on the database directly, behind the server.
    async fn tamper(&self, sql: &[&str]) {
        use sqlx::Connection;
        match &self.sqlite {
            Some(_) => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                for s in sql {
                    sqlx::query(s)
                        .execute(&mut c)
                        .await
                        .unwrap_or_else(|e| panic!("{s}: {e}"));
                }
                c.close().await.unwrap();
            }
            None => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                for s in sql {
                    sqlx::query(s)
                        .execute(&mut c)
                        .await
                        .unwrap_or_else(|e| panic!("{s}: {e}"));
                }
                c.close().await.unwrap();
            }
        }
    }

    /// Delete the audit records after `keep` (the append-only guards dropped first);
    /// with `rewind`, set the head row back to record `keep` too.
    async fn cut_audit_tail(&self, keep: i64, rewind: bool) {
        let unguard = if self.sqlite.is_some() {
            "DROP TRIGGER audit_log_no_delete"
        } else {
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"
        };
        let delete = format!("DELETE FROM audit_log WHERE seq > {keep}");
        let rewind_sql = format!(
            "UPDATE audit_head SET seq = {keep}, hash = (SELECT hash FROM audit_log WHERE seq = {keep})"
        );
        let mut sql = vec![unguard, delete.as_str()];
        if rewind {
            sql.push(&rewind_sql);
        }
        self.tamper(&sql).await;
    }

    async fn drop(self) {
        if let Some((base, schema)) = &self.pg {
            use sqlx::Connection;
            if let Ok(mut c) = sqlx::PgConnection::connect(base).await {
                let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                    .execute(&mut c)
                    .await;
            }
        }
    }
}

struct Server {
    running: Running,
    base: String,
    http: reqwest::Client,
}

impl Server {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(ADMIN_SECRET);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("request");
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn verify(&self) -> Value {
        let (s, v) = self
            .call(reqwest::Method::GET, "/api/v1/audit/verify", None)
            .await;
        assert_eq!(s, 200, "{v}");
        v
    }

    async fn readyz(&self) -> u16 {
        self.http
            .get(format!("{}/readyz", self.base))
            .send()
            .await
            .expect("readyz")
            .status()
            .as_u16()
    }

    async fn stop(self) {
        self.running.shutdown().await.expect("clean shutdown");
    }
}

/// Start a server on a fresh site, write a few audit records, stop it (which records the
/// head outside the database); returns the site and the number of records.
async fn site_with_records(backend: &Backend) -> (Site, i64) {
    let site = Site::new(backend).await;
    let srv = site.start(|_| {}).await;
    for i in 0..5 {
        let (s, v) = srv
            .call(
                reqwest::Method::POST,
                "/api/v1/assets",
                Some(json!({ "name": format!("db-{i}") })),
            )
            .await;
        assert_eq!(s, 201, "{v}");
    }
    let v = srv.verify().await;
    assert_eq!(v["ok"], true, "{v}");
    let n = v["head_seq"].as_i64().unwrap();
    srv.stop().await;
    (site, n)
}

fn problems(v: &Value) -> String {
    v["problems"]
        .as_array()
        .map(|p| {
            p.iter()
                .map(|x| x.as_str().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .unwrap_or_default()
}

/// The newest records deleted: the database's own head row shows the cut (the API used
/// to say ok, as it compared with nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_finds_records_cut_off_the_end() {
    for backend in backends("audit_verify_finds_records_cut_off_the_end") {
        let (site, n) = site_with_records(&backend).await;
        site.cut_audit_tail(n - 2, false).await;
        let srv = site.start(|_| {}).await;
        let v = srv.verify().await;
        assert_eq!(v["ok"], false, "{}: {v}", backend.name());
        let p = problems(&v);
        assert!(
            p.contains(&format!("records {}..{n} were cut off the end", n - 1)),
            "{}: {p}",
            backend.name()
        );
        srv.stop().await;
        site.drop().await;
    }
}

/// Deleted and the head row rewound to match: only the head the server recorded in its
/// data dir shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_finds_a_cut_with_the_head_row_rewound() {
    for backend in backends("audit_verify_finds_a_cut_with_the_head_row_rewound") {
        let (site, n) = site_with_records(&backend).await;
        site.cut_audit_tail(n - 2, true).await;
        let srv = site.start(|_| {}).await;
        let v = srv.verify().await;
        assert_eq!(v["ok"], false, "{}: {v}", backend.name());
        let p = problems(&v);
        assert!(
            p.contains("cut off the end") && p.contains("audit-head.log line"),
            "{}: {p}",
            backend.name()
        );
        // Records appended after the cut reach past it again; the recorded head then
        // differs from the record now at its place.
        for i in 0..3 {
            let (s, _) = srv
                .call(
                    reqwest::Method::POST,
                    "/api/v1/assets",
                    Some(json!({ "name": format!("after-{i}") })),
                )
                .await;
            assert_eq!(s, 201);
        }
        let v = srv.verify().await;
        assert_eq!(v["ok"], false, "{}: {v}", backend.name());
        assert!(problems(&v).contains("rewritten"), "{v}");
        srv.stop().await;
        site.drop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_passes_a_clean_log_across_restarts() {
    for backend in backends("audit_verify_passes_a_clean_log_across_restarts") {
        let (site, n) = site_with_records(&backend).await;
        let srv = site.start(|_| {}).await;
        let v = srv.verify().await;
        assert_eq!(v["ok"], true, "{}: {v}", backend.name());
        assert_eq!(v["head_seq"], n);
        srv.stop().await;
        // Each start and stop recorded the head it found, once per change.
        let log = std::fs::read_to_string(site.data.join("audit-head.log")).unwrap();
        let seqs: Vec<i64> = log
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["seq"]
                    .as_i64()
                    .unwrap()
            })
            .collect();
        assert_eq!(seqs.last(), Some(&n), "{log}");
        assert!(seqs.windows(2).all(|w| w[0] <= w[1]), "{log}");
        site.drop().await;
    }
}

/// Poll `/readyz` until it answers `want`, for at most 30 s (the check runs in the
/// background every 100 ms here).
async fn readyz_becomes(srv: &Server, want: u16) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let got = srv.readyz().await;
        if got == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "/readyz still answers {got}, not {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Write `len` bytes of noise at the middle of a SQLite file, its WAL folded in first.
async fn damage_sqlite(url: &str, file: &Path, len: usize) {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    let mut bytes = std::fs::read(file).unwrap();
    let size = bytes.len();
    assert!(
        size > 4 * len,
        "{size} bytes is too small to damage its middle"
    );
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for b in &mut bytes[size / 2..size / 2 + len] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    std::fs::write(file, bytes).unwrap();
}

/// `/readyz` used to say 200 whatever the database held, as long as `SELECT 1` answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_says_503_once_the_database_is_damaged() {
    for backend in backends("readyz_says_503_once_the_database_is_damaged") {
        let site = Site::new(&backend).await;
        let srv = site
            .start(|c| c.integrity_check_every = Some(Duration::from_millis(100)))
            .await;
        // Enough pages that the middle of the file is table data.
        let store = srv.running.state.store.clone();
        for i in 0..40 {
            let a = store
                .create_asset(
                    patchpilot_store::NewAsset::named(format!("host-{i}")),
                    patchpilot_store::conformance::T0,
                    &patchpilot_store::conformance::admin(),
                )
                .await
                .unwrap();
            let v = patchpilot_store::conformance::packages(500, &format!("{i}.0"));
            let c = patchpilot_store::conformance::change(
                a.id,
                &format!("k{i}"),
                None,
                &[],
                &v,
                patchpilot_store::conformance::T0,
            );
            store
                .apply_inventory(c, &patchpilot_store::conformance::admin())
                .await
                .unwrap();
        }
        assert_eq!(srv.readyz().await, 200, "{}", backend.name());
        match &site.sqlite {
            Some(file) => damage_sqlite(&site.url, file, 64 << 10).await,
            None => site.tamper(&["DROP TABLE advisory_files"]).await,
        }
        readyz_becomes(&srv, 503).await;
        srv.stop().await;
        site.drop().await;
    }
}

/// The audit log's pages damaged while the server runs: `/readyz` used to say 200 while
/// the audit routes answered 503. The first audit route that meets the damage has the
/// database checked, and `/readyz` says 503 from then on (no periodic check here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_says_503_once_an_audit_route_met_damage() {
    let site = Site::new(&Backend::Sqlite).await;
    let srv = site.start(|c| c.integrity_check_every = None).await;
    for i in 0..300 {
        let (s, _) = srv
            .call(
                reqwest::Method::POST,
                "/api/v1/assets",
                Some(json!({ "name": format!("host-{i}"), "owner": "x".repeat(200) })),
            )
            .await;
        assert_eq!(s, 201);
    }
    assert_eq!(srv.readyz().await, 200);
    // Noise over the leaf pages of audit_log (located with SQLite's dbstat table) but the
    // last, which holds the head record `/readyz` reads itself.
    let file = site.sqlite.clone().unwrap();
    let pages: Vec<(i64, i64)> = {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&site.url).await.unwrap();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut c)
            .await
            .unwrap();
        let pages = sqlx::query_as(
            "SELECT pageno, (SELECT page_size FROM pragma_page_size()) FROM dbstat \
             WHERE name = 'audit_log' AND pagetype = 'leaf' AND path < \
             (SELECT max(path) FROM dbstat WHERE name = 'audit_log' AND pagetype = 'leaf')",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();
        pages
    };
    assert!(pages.len() > 5, "{pages:?}");
    let mut bytes = std::fs::read(&file).unwrap();
    let mut x: u64 = 0x5851_f42d_4c95_7f2d;
    for (page, size) in &pages {
        let at = ((page - 1) * size) as usize;
        for b in &mut bytes[at..at + *size as usize] {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
    }
    std::fs::write(&file, bytes).unwrap();
    let (s, v) = srv
        .call(reqwest::Method::GET, "/api/v1/audit/verify", None)
        .await;
    assert_eq!(s, 503, "{v}");
    assert_eq!(srv.readyz().await, 503);
    srv.stop().await;
    site.drop().await;
}

/// The audit head row gone: `/readyz` says so at once, without waiting for a check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_says_503_without_the_audit_head_row() {
    for backend in backends("readyz_says_503_without_the_audit_head_row") {
        let site = Site::new(&backend).await;
        let srv = site.start(|c| c.integrity_check_every = None).await;
        assert_eq!(srv.readyz().await, 200);
        site.tamper(&["DELETE FROM audit_head"]).await;
        assert_eq!(srv.readyz().await, 503, "{}", backend.name());
        srv.stop().await;
        site.drop().await;
    }
}

/// `server.db` used to be created 0644 although it holds the fleet's inventories.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_and_audit_head_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut config = Config::new(data.clone());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.bootstrap_token = Some(ADMIN_SECRET.into());
    // The default: SQLite at DATA_DIR/server.db.
    config.database_url = None;
    let running = patchpilot_server::start(config).await.expect("starts");
    for f in ["server.db", "server.db-wal", "server.db-shm"] {
        assert_eq!(
            mode(&data.join(f)),
            0o600,
            "{f} is {:o}",
            mode(&data.join(f))
        );
    }
    running.shutdown().await.unwrap();
    assert_eq!(mode(&data.join("audit-head.log")), 0o600);
    assert_eq!(mode(&data.join("server.db")), 0o600);
}
