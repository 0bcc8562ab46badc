//! Start servers on each backend and talk to them.

use std::path::Path;

use patchpilot_server::{Config, Running};
use reqwest::Method;
use serde_json::Value;

/// A database for one test: SQLite in the temp dir, or a fresh PostgreSQL schema.
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// SQLite always; PostgreSQL when PATCHPILOT_TEST_DATABASE_URL is set (required in CI).
pub fn backends(test: &str) -> Vec<Backend> {
    let mut v = vec![Backend::Sqlite];
    match std::env::var("PATCHPILOT_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => v.push(Backend::Postgres(url)),
        _ => {
            if patchpilot_testdata::in_ci() {
                panic!("{test}: PATCHPILOT_TEST_DATABASE_URL must be set in CI");
            }
            eprintln!("SKIP {test} on PostgreSQL: PATCHPILOT_TEST_DATABASE_URL is not set");
        }
    }
    v
}

/// A fresh schema on the PostgreSQL server, and a URL whose connections use it.
pub async fn fresh_schema(base: &str) -> (String, String) {
    use sqlx::Connection;
    let schema = format!("pp_srv_{}", hex::encode(rand_bytes()));
    let mut c = sqlx::PgConnection::connect(base)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut c)
        .await
        .expect("create schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    (
        format!("{base}{sep}options=-c%20search_path%3D{schema}"),
        schema,
    )
}

fn rand_bytes() -> [u8; 8] {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let c = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    ((n as u64) ^ (u64::from(std::process::id()) << 32) ^ c.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .to_le_bytes()
}
static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

pub struct TestServer {
    pub running: Option<Running>,
    pub base: String,
    pub admin: String,
    pub http: reqwest::Client,
    pub _tmp: tempfile::TempDir,
    /// (base URL, schema) of a PostgreSQL test schema, dropped on `stop`.
    pub pg_schema: Option<(String, String)>,
}

pub const ADMIN_SECRET: &str = "test-admin-secret-0123456789abcdef";

impl TestServer {
    /// Start a server on `backend` with the advisory database in `data_dir` (or an
    /// empty one).
    pub async fn start(backend: &Backend, data_dir: Option<&Path>) -> TestServer {
        TestServer::start_with(backend, data_dir, |_| {}).await
    }

    /// [`TestServer::start`] with the test's changes to the configuration.
    pub async fn start_with(
        backend: &Backend,
        data_dir: Option<&Path>,
        configure: impl FnOnce(&mut Config),
    ) -> TestServer {
        let srv = TestServer::start_unready(backend, data_dir, configure).await;
        // A start with a changed advisory database re-matches the fleet while it already
        // answers; tests look at findings, so they begin once it is done.
        srv.state().until_ready().await;
        srv
    }

    /// The running server's state.
    pub fn state(&self) -> &std::sync::Arc<patchpilot_server::AppState> {
        &self.running.as_ref().expect("running").state
    }

    /// [`TestServer::start_with`] without waiting for a start-up re-match to finish.
    pub async fn start_unready(
        backend: &Backend,
        data_dir: Option<&Path>,
        configure: impl FnOnce(&mut Config),
    ) -> TestServer {
        let tmp = tempfile::tempdir().unwrap();
        let data_dir = data_dir
            .map(Path::to_path_buf)
            .unwrap_or_else(|| tmp.path().join("data"));
        std::fs::create_dir_all(&data_dir).unwrap();
        let mut config = Config::new(data_dir.clone());
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.bootstrap_token = Some(ADMIN_SECRET.into());
        config.body_limit = 4 << 20;
        config.job_poll_ms = 200;
        let mut pg_schema = None;
        config.database_url = match backend {
            Backend::Sqlite => Some(format!(
                "sqlite://{}",
                tmp.path().join("server.db").display()
            )),
            Backend::Postgres(base) => {
                let (url, schema) = fresh_schema(base).await;
                pg_schema = Some((base.clone(), schema));
                Some(url)
            }
        };
        configure(&mut config);
        let running = patchpilot_server::start(config)
            .await
            .expect("server starts");
        TestServer {
            base: format!("http://{}", running.addr),
            running: Some(running),
            admin: ADMIN_SECRET.into(),
            http: reqwest::Client::new(),
            _tmp: tmp,
            pg_schema,
        }
    }

    /// Send a request; returns the status and the JSON body (Null when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut rb = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, json)
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// A token of `role` (not agent: those come from enrolment).
    pub async fn token(&self, role: &str) -> String {
        let (s, v) = self
            .post(
                "/api/v1/tokens",
                &self.admin.clone(),
                serde_json::json!({"name": format!("t-{role}"), "role": role}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        v["token"].as_str().unwrap().to_string()
    }

    /// Enrol an agent for asset `name`; returns (asset id, agent secret).
    pub async fn enroll(&self, name: &str) -> (i64, String) {
        let e = self.token("enroll").await;
        let (s, v) = self
            .post(
                "/api/v1/enroll",
                &e,
                serde_json::json!({"asset": {"name": name}}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        (
            v["asset"]["id"].as_i64().unwrap(),
            v["token"].as_str().unwrap().to_string(),
        )
    }

    pub async fn audit_len(&self) -> usize {
        let (s, v) = self
            .get("/api/v1/audit?limit=10000", &self.admin.clone())
            .await;
        assert_eq!(s, 200, "{v}");
        v.as_array().unwrap().len()
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await.expect("clean shutdown");
        }
        if let Some((base, schema)) = self.pg_schema.take() {
            use sqlx::Connection;
            if let Ok(mut c) = sqlx::PgConnection::connect(&base).await {
                let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                    .execute(&mut c)
                    .await;
            }
        }
    }
}

/// An inventory report body.
pub fn report(key: &str, packages: &[(&str, &str, &str)]) -> Value {
    serde_json::json!({
        "idempotency_key": key,
        "collected_at": "2026-11-27T10:00:00Z",
        "sources": ["test"],
        "packages": packages.iter().map(|(e, n, v)| serde_json::json!({"ecosystem": e, "name": n, "version": v})).collect::<Vec<_>>(),
    })
}

/// Import the OSV fixtures of tests/fixtures/advisories into `dir`.
pub fn import_fixtures(dir: &Path) {
    let src =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/advisories");
    patchpilot_advisory_db::import(dir, &[src], &mut |_| {}).expect("import fixtures");
}

/// A data dir holding the fixture advisory database.
pub fn fixture_db() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    import_fixtures(dir.path());
    dir
}

/// (advisory, package, version) of the open findings in a findings list, sorted.
pub fn open_findings(v: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["state"] == "open")
        .map(|f| {
            (
                f["advisory_id"].as_str().unwrap().to_string(),
                f["package"]["name"].as_str().unwrap().to_string(),
                f["package"]["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}
