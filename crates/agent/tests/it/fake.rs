//! A minimal in-process control plane for the agent's tests: a real axum server on
//! 127.0.0.1:0 implementing the agent-facing routes of `patchpilot-api` (plus tokens,
//! assets and snapshots for the load generator) with the contract's semantics: bearer
//! tokens, one-time enrolment tokens, idempotent inventory. It exists because the real
//! server is written concurrently; end-to-end tests against it live with the server.
//!
//! Failure injection (503s, lost acknowledgements, rejected keys, 401s) is set through
//! [`Fake`]'s fields. Tests wait for state with [`Server::wait_for`], which wakes on every
//! change: no sleeps.

// Handlers return ready-made error responses; their size does not matter in a test.
#![allow(clippy::result_large_err)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use patchpilot_api::{
    paths, Asset, CreateToken, CreatedToken, EnrollRequest, EnrollResponse, ErrorBody, ErrorDetail,
    Exposure, InventoryAck, InventoryReport, Job, JobResult, JobState, Role, Sensitivity,
    SnapshotInfo, Token, Ts,
};
use tokio::sync::{watch, Notify};

pub const ADMIN: &str = "admin-secret";

#[derive(Default)]
pub struct State_ {
    pub enroll_tokens: HashSet<String>,
    pub enrollments: u32,
    /// agent token -> asset id
    pub agent_tokens: HashMap<String, i64>,
    pub assets: Vec<Asset>,
    /// (asset, key) -> snapshot
    pub applied: HashMap<(i64, String), i64>,
    /// Every applied report in order: (asset, key, package count).
    pub reports: Vec<(i64, String, usize)>,
    /// asset -> snapshots
    pub snapshots: HashMap<i64, Vec<SnapshotInfo>>,
    /// Inventory requests that were answered with an error.
    pub inventory_failures: u32,
    pub heartbeats: u64,
    pub jobs: VecDeque<Job>,
    pub results: Vec<(i64, JobResult)>,
    /// Keys answered with 400.
    pub reject_keys: HashSet<String>,
    next_snapshot: i64,
}

/// Shared state plus failure switches.
pub struct Fake {
    pub state: Mutex<State_>,
    /// Answer this many inventory requests with 503 before accepting again.
    pub fail_inventory: AtomicU32,
    /// Answer every inventory request with 503 while non-zero.
    pub inventory_down: AtomicU32,
    /// When non-negative: accept this many more inventory requests, then answer 503.
    pub inventory_budget: AtomicI64,
    /// Apply this many reports but answer 500 (the acknowledgement is lost).
    pub lose_acks: AtomicU32,
    /// Answer heartbeats with this status while non-zero.
    pub heartbeat_status: AtomicU32,
    changed: watch::Sender<u64>,
    jobs_ready: Notify,
}

impl Fake {
    fn bump(&self) {
        self.changed.send_modify(|v| *v += 1);
    }
}

pub struct Server {
    pub url: String,
    pub fake: Arc<Fake>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    pub async fn start() -> Server {
        let (changed, _) = watch::channel(0);
        let fake = Arc::new(Fake {
            state: Mutex::new(State_ {
                next_snapshot: 1,
                ..Default::default()
            }),
            fail_inventory: AtomicU32::new(0),
            inventory_down: AtomicU32::new(0),
            inventory_budget: AtomicI64::new(-1),
            lose_acks: AtomicU32::new(0),
            heartbeat_status: AtomicU32::new(0),
            changed,
            jobs_ready: Notify::new(),
        });
        let app = router(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Server { url, fake, task }
    }

    /// Make a one-time enrolment token.
    pub fn enroll_token(&self) -> String {
        let t = format!("enroll-{:016x}", rand::random::<u64>());
        self.fake
            .state
            .lock()
            .unwrap()
            .enroll_tokens
            .insert(t.clone());
        t
    }

    /// Make an enrolled agent directly: (asset id, agent token).
    pub fn agent(&self, name: &str) -> (i64, String) {
        let mut st = self.fake.state.lock().unwrap();
        let id = asset_for(&mut st, name);
        let token = format!("agent-{:016x}", rand::random::<u64>());
        st.agent_tokens.insert(token.clone(), id);
        (id, token)
    }

    pub fn add_job(&self, asset_id: i64, kind: &str) -> i64 {
        let mut st = self.fake.state.lock().unwrap();
        let id = st.jobs.len() as i64 + st.results.len() as i64 + 1;
        st.jobs.push_back(Job {
            id,
            asset_id,
            kind: kind.to_string(),
            payload: serde_json::json!({}),
            state: JobState::Queued,
            created_at: Ts::now(),
            attempts: 0,
            lease_until: None,
            finished_at: None,
            result: None,
        });
        drop(st);
        self.fake.jobs_ready.notify_waiters();
        id
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut State_) -> R) -> R {
        f(&mut self.fake.state.lock().unwrap())
    }

    /// Wait (at most 30 s, then panic) until `cond` holds on the state.
    pub async fn wait_for(&self, what: &str, cond: impl Fn(&State_) -> bool) {
        let mut rx = self.fake.changed.subscribe();
        let wait = async {
            loop {
                if cond(&self.fake.state.lock().unwrap()) {
                    return;
                }
                rx.changed().await.unwrap();
            }
        };
        tokio::time::timeout(Duration::from_secs(30), wait)
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for: {what}"));
    }
}

fn asset_for(st: &mut State_, name: &str) -> i64 {
    if let Some(a) = st.assets.iter().find(|a| a.name == name) {
        return a.id;
    }
    let id = st.assets.len() as i64 + 1;
    st.assets.push(Asset {
        id,
        name: name.to_string(),
        environment: Default::default(),
        site: None,
        tier: 3,
        exposure: Exposure::Internal,
        sensitivity: Sensitivity::Medium,
        owner: None,
        tags: vec![],
        created_at: Ts::now(),
        updated_at: Ts::now(),
        last_seen: None,
        current_snapshot: None,
    });
    id
}

fn err(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
            },
        }),
    )
        .into_response()
}

fn bearer(h: &HeaderMap) -> Option<String> {
    h.get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_string)
}

fn agent_of(fake: &Fake, h: &HeaderMap) -> Result<i64, Response> {
    let t =
        bearer(h).ok_or_else(|| err(StatusCode::UNAUTHORIZED, "unauthorized", "missing token"))?;
    fake.state
        .lock()
        .unwrap()
        .agent_tokens
        .get(&t)
        .copied()
        .ok_or_else(|| err(StatusCode::UNAUTHORIZED, "unauthorized", "unknown token"))
}

fn is_admin(h: &HeaderMap) -> Result<(), Response> {
    match bearer(h) {
        Some(t) if t == ADMIN => Ok(()),
        Some(_) => Err(err(StatusCode::FORBIDDEN, "forbidden", "admin only")),
        None => Err(err(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing token",
        )),
    }
}

type S = State<Arc<Fake>>;

fn router(fake: Arc<Fake>) -> Router {
    Router::new()
        .route(paths::TOKENS, post(create_token))
        .route(paths::ENROLL, post(enroll))
        .route(paths::AGENT_HEARTBEAT, post(heartbeat))
        .route(paths::AGENT_INVENTORY, post(inventory))
        .route(paths::AGENT_JOBS, get(jobs))
        .route(paths::AGENT_JOB_RESULT, post(job_result))
        .route(paths::ASSET, get(asset))
        .route(paths::ASSET_SNAPSHOTS, get(snapshots))
        .with_state(fake)
}

async fn create_token(State(f): S, h: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = is_admin(&h) {
        return r;
    }
    let req: CreateToken = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return err(StatusCode::BAD_REQUEST, "bad_request", &e.to_string()),
    };
    if req.role != Role::Enroll {
        return err(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "fake makes only enroll tokens",
        );
    }
    let secret = format!("enroll-{:016x}", rand::random::<u64>());
    let mut st = f.state.lock().unwrap();
    st.enroll_tokens.insert(secret.clone());
    let id = st.enroll_tokens.len() as i64;
    Json(CreatedToken {
        info: Token {
            id,
            name: req.name,
            role: Role::Enroll,
            created_at: Ts::now(),
            expires_at: None,
            revoked_at: None,
            used_at: None,
            asset_id: None,
        },
        token: secret,
    })
    .into_response()
}

async fn enroll(State(f): S, h: HeaderMap, body: Bytes) -> Response {
    let Some(t) = bearer(&h) else {
        return err(StatusCode::UNAUTHORIZED, "unauthorized", "missing token");
    };
    let req: EnrollRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return err(StatusCode::BAD_REQUEST, "bad_request", &e.to_string()),
    };
    let mut st = f.state.lock().unwrap();
    if !st.enroll_tokens.remove(&t) {
        return err(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "enrolment token unknown or used",
        );
    }
    st.enrollments += 1;
    let id = asset_for(&mut st, &req.asset.name);
    let token = format!("agent-{:016x}", rand::random::<u64>());
    st.agent_tokens.insert(token.clone(), id);
    let asset = st.assets[id as usize - 1].clone();
    drop(st);
    f.bump();
    Json(EnrollResponse { asset, token }).into_response()
}

async fn heartbeat(State(f): S, h: HeaderMap) -> Response {
    let status = f.heartbeat_status.load(Ordering::SeqCst);
    if status != 0 {
        f.bump();
        return err(
            StatusCode::from_u16(status as u16).unwrap(),
            "injected",
            "injected failure",
        );
    }
    if let Err(r) = agent_of(&f, &h) {
        return r;
    }
    f.state.lock().unwrap().heartbeats += 1;
    f.bump();
    StatusCode::NO_CONTENT.into_response()
}

async fn inventory(State(f): S, h: HeaderMap, body: Bytes) -> Response {
    let resp = inventory_inner(&f, &h, &body);
    f.bump();
    resp
}

fn inventory_inner(f: &Fake, h: &HeaderMap, body: &[u8]) -> Response {
    let asset_id = match agent_of(f, h) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let fail = |f: &Fake| {
        f.state.lock().unwrap().inventory_failures += 1;
        err(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "injected outage",
        )
    };
    if f.inventory_down.load(Ordering::SeqCst) != 0 {
        return fail(f);
    }
    if f.fail_inventory
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return fail(f);
    }
    if f.inventory_budget
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n > 0).then(|| n - 1)
        })
        .is_err()
        && f.inventory_budget.load(Ordering::SeqCst) == 0
    {
        return fail(f);
    }
    let report: InventoryReport = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return err(StatusCode::BAD_REQUEST, "bad_request", &e.to_string()),
    };
    let header = h.get("idempotency-key").and_then(|v| v.to_str().ok());
    if header != Some(report.idempotency_key.as_str()) {
        return err(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "idempotency-key header must equal the body's key",
        );
    }
    let mut st = f.state.lock().unwrap();
    if st.reject_keys.contains(&report.idempotency_key) {
        return err(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "this report is rejected",
        );
    }
    let k = (asset_id, report.idempotency_key.clone());
    let ack = if let Some(&snap) = st.applied.get(&k) {
        InventoryAck {
            snapshot_id: snap,
            duplicate: true,
            unchanged: false,
            added: 0,
            removed: 0,
            findings_opened: 0,
            findings_fixed: 0,
        }
    } else {
        let snap = st.next_snapshot;
        st.next_snapshot += 1;
        st.applied.insert(k, snap);
        st.reports.push((
            asset_id,
            report.idempotency_key.clone(),
            report.packages.len(),
        ));
        st.snapshots
            .entry(asset_id)
            .or_default()
            .push(SnapshotInfo {
                id: snap,
                asset_id,
                collected_at: report.collected_at,
                received_at: Ts::now(),
                source: report.sources.join(","),
                content_hash: String::new(),
                package_count: report.packages.len() as u64,
            });
        st.assets[asset_id as usize - 1].current_snapshot = Some(snap);
        InventoryAck {
            snapshot_id: snap,
            duplicate: false,
            unchanged: false,
            added: report.packages.len() as u64,
            removed: 0,
            findings_opened: 0,
            findings_fixed: 0,
        }
    };
    drop(st);
    if f.lose_acks
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return err(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "applied, but the ack is lost",
        );
    }
    Json(ack).into_response()
}

#[derive(serde::Deserialize)]
struct Wait {
    wait: Option<u64>,
}

async fn jobs(State(f): S, h: HeaderMap, Query(q): Query<Wait>) -> Response {
    let asset_id = match agent_of(&f, &h) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(q.wait.unwrap_or(0).min(60));
    loop {
        let ready = f.jobs_ready.notified();
        let claimed: Vec<Job> = {
            let mut st = f.state.lock().unwrap();
            let (mine, rest): (Vec<Job>, Vec<Job>) =
                st.jobs.drain(..).partition(|j| j.asset_id == asset_id);
            st.jobs = rest.into();
            mine.into_iter()
                .map(|mut j| {
                    j.state = JobState::Claimed;
                    j.attempts += 1;
                    j
                })
                .collect()
        };
        if !claimed.is_empty() {
            return Json(claimed).into_response();
        }
        if tokio::time::timeout_at(deadline, ready).await.is_err() {
            return Json(Vec::<Job>::new()).into_response();
        }
    }
}

async fn job_result(State(f): S, h: HeaderMap, Path(id): Path<i64>, body: Bytes) -> Response {
    if let Err(r) = agent_of(&f, &h) {
        return r;
    }
    let result: JobResult = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return err(StatusCode::BAD_REQUEST, "bad_request", &e.to_string()),
    };
    f.state.lock().unwrap().results.push((id, result));
    f.bump();
    StatusCode::NO_CONTENT.into_response()
}

async fn asset(State(f): S, h: HeaderMap, Path(id): Path<i64>) -> Response {
    if let Err(r) = is_admin(&h) {
        return r;
    }
    let st = f.state.lock().unwrap();
    match st.assets.get((id - 1).max(0) as usize) {
        Some(a) if a.id == id => Json(a.clone()).into_response(),
        _ => err(StatusCode::NOT_FOUND, "not_found", "no such asset"),
    }
}

async fn snapshots(State(f): S, h: HeaderMap, Path(id): Path<i64>) -> Response {
    if let Err(r) = is_admin(&h) {
        return r;
    }
    let st = f.state.lock().unwrap();
    Json(st.snapshots.get(&id).cloned().unwrap_or_default()).into_response()
}
