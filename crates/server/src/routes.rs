//! The `/api/v1` handlers. Each is annotated for the OpenAPI document, which is built
//! from the same `routes!` calls that mount them, so the two cannot drift.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use patchpilot_api::*;
use patchpilot_store::{
    limits, Enrollment, FindingFilter, InventoryChange, NewToken, Notice, TokenHash,
};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::{
    new_secret, Admins, Agents, Approvers, Auditors, Authorized, Enrollers, Operators, Readers,
};
use crate::error::{ApiError, Json, Path, Query};
use crate::matching::{diff, reconcile};
use crate::ranking::RankedFinding;
use crate::AppState;
use patchpilot_store::codec::canonicalize;

type S = State<Arc<AppState>>;
type R<T> = Result<T, ApiError>;

// ------------------------------------------------------------------ health

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Readiness: the start-up re-match (after an advisory database change) is done, and the
/// database is healthy: it answers, the pages the audit routes start from can be read,
/// and the last integrity check found no damage (at start, every few hours, and whenever
/// `audit/verify` could not read the chain).
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn readyz(State(st): S) -> R<Json<Health>> {
    if !st.is_ready() {
        return Err(ApiError::unavailable(
            "re-matching the fleet against a new advisory database",
        ));
    }
    st.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "not ready: the database is not healthy");
        ApiError::unavailable("the database is not healthy; see the server log")
    })?;
    Ok(Json(Health { status: "ready" }))
}

/// Prometheus metrics, text format.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
pub async fn metrics(State(st): S) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        st.metrics.encode(),
    )
}

// ------------------------------------------------------------------ agents

/// Trade a one-time enrolment token (as the bearer) for an agent credential. An unbound
/// token enrols a new asset (409 if the name is taken); a token bound to an asset
/// (`asset_id`) re-enrols that asset, whose name the request must give, and revokes its
/// previous agent tokens.
#[utoipa::path(post, path = "/api/v1/enroll", tag = "agent", request_body = EnrollRequest,
    responses((status = 201, body = EnrollResponse), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn enroll(
    State(st): S,
    caller: Authorized<Enrollers>,
    Json(req): Json<EnrollRequest>,
) -> R<impl IntoResponse> {
    req.asset.validate()?;
    let secret = new_secret();
    let enrolled = st
        .store
        .enroll(
            Enrollment {
                enroll_hash: caller.hash.clone(),
                agent_hash: TokenHash::of_secret(&secret),
                asset: req.asset,
            },
            Ts::now(),
        )
        .await?;
    st.tokens.forget_id(caller.token.id);
    // The revoked agent tokens stop working here at once (other replicas: CACHE_TTL).
    st.tokens.forget_ids(&enrolled.revoked_tokens);
    Ok((
        StatusCode::CREATED,
        Json(EnrollResponse {
            asset: enrolled.asset,
            token: secret,
        }),
    ))
}

/// An agent is alive.
#[utoipa::path(post, path = "/api/v1/agent/heartbeat", tag = "agent", request_body = Heartbeat,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn heartbeat(
    State(st): S,
    caller: Authorized<Agents>,
    Json(_hb): Json<Heartbeat>,
) -> R<StatusCode> {
    let asset = caller.agent_asset()?;
    if !st.store.heartbeat(asset, Ts::now()).await? {
        return Err(ApiError::not_found(format!("asset {asset} does not exist")));
    }
    st.metrics.heartbeats.inc();
    Ok(StatusCode::NO_CONTENT)
}

const MAX_PACKAGES: usize = 200_000;

/// A store rule's refusal (422) of an element of a list, saying which.
fn at(path: &str, e: patchpilot_store::Error) -> ApiError {
    match e {
        patchpilot_store::Error::Invalid(m) => invalid(format!("{path}: {m}")),
        other => other.into(),
    }
}

/// 422 `invalid`.
fn invalid(m: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m)
}

fn validate_report(headers: &HeaderMap, r: &InventoryReport) -> R<()> {
    let key = &r.idempotency_key;
    if key.is_empty() || key.len() > 128 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "idempotency_key must be 1 to 128 printable ASCII characters",
        ));
    }
    if let Some(h) = headers.get(IDEMPOTENCY_HEADER) {
        if h.as_bytes() != key.as_bytes() {
            return Err(ApiError::bad_request(
                "the idempotency-key header differs from the body's key",
            ));
        }
    }
    if r.packages.len() > MAX_PACKAGES {
        return Err(ApiError::bad_request(format!(
            "more than {MAX_PACKAGES} packages"
        )));
    }
    for (i, p) in r.packages.iter().enumerate() {
        if p.ecosystem.is_empty() || p.name.is_empty() || p.version.is_empty() {
            return Err(ApiError::bad_request(format!(
                "packages[{i}]: ecosystem, name and version must not be empty"
            )));
        }
        p.validate().map_err(|e| at(&format!("packages[{i}]"), e))?;
    }
    for (i, src) in r.sources.iter().enumerate() {
        patchpilot_store::check_text("source", src, limits::PACKAGE_FIELD)
            .map_err(|e| at(&format!("sources[{i}]"), e))?;
    }
    Ok(())
}

/// Report the asset's complete current inventory. Applied once per idempotency key; only
/// the packages that changed since the last report are matched again.
#[utoipa::path(post, path = "/api/v1/agent/inventory", tag = "agent", request_body = InventoryReport,
    params(("idempotency-key" = Option<String>, Header, description = "Equal to the body's idempotency_key")),
    responses((status = 200, body = InventoryAck), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn inventory(
    State(st): S,
    caller: Authorized<Agents>,
    headers: HeaderMap,
    Json(report): Json<InventoryReport>,
) -> R<Json<InventoryAck>> {
    let asset = caller.agent_asset()?;
    validate_report(&headers, &report)?;
    let ack = ingest(&st, asset, report, &caller.actor).await?;
    Ok(Json(ack))
}

/// Apply one inventory report for `asset` (also used by tests and the full re-match check).
pub async fn ingest(
    st: &AppState,
    asset: i64,
    report: InventoryReport,
    actor: &Actor,
) -> R<InventoryAck> {
    let m = &st.metrics;
    let mut clock = std::time::Instant::now();
    let mut packages = report.packages;
    let content_hash = canonicalize(&mut packages);
    m.phase("canonicalize", &mut clock);
    let source = if report.sources.is_empty() {
        "agent".to_string()
    } else {
        report.sources.join(",")
    };
    for _attempt in 0..8 {
        let mut cur = st.store.current_packages(asset).await?;
        m.phase("read_current", &mut clock);
        let (added, removed) = diff(&mut cur.packages, &mut packages);
        m.phase("diff", &mut clock);
        let now = Ts::now();
        if let (true, true, Some(snapshot_id)) =
            (added.is_empty(), removed.is_empty(), cur.snapshot_id)
        {
            // The same report again (a re-delivery), or the periodic report of a host
            // that did not change: storing the latter would add a snapshot row and an
            // audit record per agent per interval and tell nothing new (findings are kept
            // current by feed re-matches). The asset was seen.
            let duplicate = cur.idempotency_key.as_deref() == Some(&report.idempotency_key);
            if !duplicate {
                st.store.heartbeat(asset, now).await?;
                m.inventory_unchanged.inc();
            }
            return Ok(InventoryAck {
                snapshot_id,
                duplicate,
                unchanged: !duplicate,
                added: 0,
                removed: 0,
                findings_opened: 0,
                findings_fixed: 0,
            });
        }
        let matcher = st.matcher();
        let want: Vec<_> = added
            .iter()
            .flat_map(|p| matcher.findings_for(asset, p, now))
            .collect();
        m.phase("match", &mut clock);
        let have = if removed.is_empty() {
            Vec::new()
        } else {
            let gone: HashSet<&PackageRow> = removed.iter().collect();
            unfixed_findings(st, asset)
                .await?
                .into_iter()
                .filter(|f| gone.contains(&f.package))
                .collect()
        };
        m.phase("read_findings", &mut clock);
        let rec = reconcile(want, &have);
        let (n_added, n_removed) = (added.len() as u64, removed.len() as u64);
        let change = InventoryChange {
            asset_id: asset,
            idempotency_key: report.idempotency_key.clone(),
            expected_previous: cur.snapshot_id,
            collected_at: report.collected_at,
            received_at: now,
            source: source.clone(),
            content_hash: content_hash.clone(),
            // Kept for a retry after `Stale`; the diff is recomputed then anyway.
            packages: packages.clone(),
            added,
            removed,
            open: rec.open,
            fix: rec.fix,
        };
        m.phase("reconcile", &mut clock);
        let outcome = st.store.apply_inventory(change, actor).await?;
        m.phase("store", &mut clock);
        match outcome {
            ApplyOutcome::Applied {
                snapshot_id,
                opened,
                fixed,
            } => {
                st.metrics.inventory_reports.inc();
                st.metrics.findings_opened.inc_by(opened);
                st.metrics.findings_fixed.inc_by(fixed);
                return Ok(InventoryAck {
                    snapshot_id,
                    duplicate: false,
                    unchanged: false,
                    added: n_added,
                    removed: n_removed,
                    findings_opened: opened,
                    findings_fixed: fixed,
                });
            }
            ApplyOutcome::Duplicate { snapshot_id } => {
                return Ok(InventoryAck {
                    snapshot_id,
                    duplicate: true,
                    unchanged: false,
                    added: 0,
                    removed: 0,
                    findings_opened: 0,
                    findings_fixed: 0,
                })
            }
            ApplyOutcome::Stale { .. } => {
                st.metrics.stale_retries.inc();
                continue;
            }
        }
    }
    Err(ApiError::conflict(
        "the asset's inventory kept changing concurrently; retry",
    ))
}

/// Every unfixed finding of an asset (paged through the store's cap).
async fn unfixed_findings(st: &AppState, asset: i64) -> R<Vec<Finding>> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = st
            .store
            .list_findings(FindingFilter {
                asset_id: Some(asset),
                unfixed: true,
                after_id: after,
                limit: Some(10_000),
                ..Default::default()
            })
            .await?;
        let n = page.len();
        if let Some(last) = page.last() {
            after = last.id;
        }
        out.extend(page);
        if n < 10_000 {
            return Ok(out);
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct WaitQuery {
    /// Seconds to wait for a job when none is queued (0 to 60).
    #[serde(default)]
    wait: u64,
}

/// Claim this agent's queued jobs, waiting up to `wait` seconds for one.
#[utoipa::path(get, path = "/api/v1/agent/jobs", tag = "agent", params(WaitQuery),
    responses((status = 200, body = Vec<Job>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn agent_jobs(
    State(st): S,
    caller: Authorized<Agents>,
    Query(q): Query<WaitQuery>,
) -> R<Json<Vec<Job>>> {
    let asset = caller.agent_asset()?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(q.wait.min(60));
    let mut notices = st.store.subscribe();
    loop {
        let now = Ts::now();
        let jobs = st
            .store
            .claim_jobs(asset, 16, now, now.plus_secs(st.config.job_lease_secs))
            .await?;
        if !jobs.is_empty() || tokio::time::Instant::now() >= deadline {
            return Ok(Json(jobs));
        }
        // Wake on a notice for this asset, on a lagged channel (re-check), at the
        // deadline, or at the poll interval (a notice can be lost across replicas).
        let wake = tokio::time::Instant::now() + Duration::from_millis(st.config.job_poll_ms);
        let until = wake.min(deadline);
        loop {
            match tokio::time::timeout_at(until, notices.recv()).await {
                Ok(Ok(Notice::JobQueued { asset_id })) if asset_id == asset => break,
                Ok(Ok(_)) => continue,
                Ok(Err(_)) | Err(_) => break,
            }
        }
    }
}

/// Report a job's result. Another asset's job is 404, as if it did not exist.
#[utoipa::path(post, path = "/api/v1/agent/jobs/{id}/result", tag = "agent", request_body = JobResult,
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, body = Job), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn job_result(
    State(st): S,
    caller: Authorized<Agents>,
    Path(id): Path<i64>,
    Json(res): Json<JobResult>,
) -> R<Json<Job>> {
    let asset = caller.agent_asset()?;
    Ok(Json(
        st.store
            .finish_job(id, asset, res, Ts::now(), &caller.actor)
            .await?,
    ))
}

// ------------------------------------------------------------------ assets

#[derive(Deserialize, IntoParams)]
pub struct PageQuery {
    /// Return rows with id greater than this.
    #[serde(default)]
    after: i64,
    /// At most this many (default 100, max 1000).
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/assets", tag = "assets", params(PageQuery),
    responses((status = 200, body = Vec<Asset>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_assets(
    State(st): S,
    _caller: Authorized<Readers>,
    Query(q): Query<PageQuery>,
) -> R<Json<Vec<Asset>>> {
    Ok(Json(
        st.store
            .list_assets(q.after, q.limit.unwrap_or(100).min(1000))
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/assets", tag = "assets", request_body = NewAsset,
    responses((status = 201, body = Asset), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_asset(
    State(st): S,
    caller: Authorized<Operators>,
    Json(new): Json<NewAsset>,
) -> R<impl IntoResponse> {
    new.validate()?;
    let a = st.store.create_asset(new, Ts::now(), &caller.actor).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

#[utoipa::path(get, path = "/api/v1/assets/{id}", tag = "assets", params(("id" = i64, Path)),
    responses((status = 200, body = Asset), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_asset(
    State(st): S,
    _caller: Authorized<Readers>,
    Path(id): Path<i64>,
) -> R<Json<Asset>> {
    st.store
        .get_asset(id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("asset {id} does not exist")))
}

#[utoipa::path(patch, path = "/api/v1/assets/{id}", tag = "assets", params(("id" = i64, Path)),
    request_body = AssetPatch,
    responses((status = 200, body = Asset), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn patch_asset(
    State(st): S,
    caller: Authorized<Operators>,
    Path(id): Path<i64>,
    Json(p): Json<AssetPatch>,
) -> R<Json<Asset>> {
    p.validate()?;
    Ok(Json(
        st.store
            .update_asset(id, p, Ts::now(), &caller.actor)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/assets/{id}/snapshots", tag = "assets", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<SnapshotInfo>), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_snapshots(
    State(st): S,
    _caller: Authorized<Readers>,
    Path(id): Path<i64>,
) -> R<Json<Vec<SnapshotInfo>>> {
    if st.store.get_asset(id).await?.is_none() {
        return Err(ApiError::not_found(format!("asset {id} does not exist")));
    }
    Ok(Json(st.store.list_snapshots(id).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct DiffQuery {
    from: i64,
    to: i64,
}

/// What changed between two inventory snapshots (of any assets).
#[utoipa::path(get, path = "/api/v1/snapshots/diff", tag = "assets", params(DiffQuery),
    responses((status = 200, body = SnapshotDiff), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn snapshot_diff(
    State(st): S,
    _caller: Authorized<Readers>,
    Query(q): Query<DiffQuery>,
) -> R<Json<SnapshotDiff>> {
    let get = |id: i64| {
        let st = st.clone();
        async move {
            st.store
                .snapshot_packages(id)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("snapshot {id} does not exist")))
        }
    };
    let (mut a, mut b) = (get(q.from).await?, get(q.to).await?);
    let (mut added, mut removed) = diff(&mut a, &mut b);
    // Pair up version changes of the same (ecosystem, name, release).
    let mut changed = Vec::new();
    let k = |p: &PackageRow| (p.ecosystem.clone(), p.name.clone(), p.release.clone());
    let mut rest_removed = Vec::new();
    for r in removed.drain(..) {
        if let Some(i) = added.iter().position(|a| k(a) == k(&r)) {
            let a = added.remove(i);
            changed.push([r, a]);
        } else {
            rest_removed.push(r);
        }
    }
    Ok(Json(SnapshotDiff {
        from: q.from,
        to: q.to,
        added,
        removed: rest_removed,
        changed,
    }))
}

// ------------------------------------------------------------------ findings

#[derive(Deserialize, IntoParams)]
pub struct FindingQuery {
    asset_id: Option<i64>,
    /// open, fixed, accepted or suppressed. With `prioritize`, default: open (accepted and
    /// suppressed findings are decisions already taken; ask for them by state).
    state: Option<FindingState>,
    advisory: Option<String>,
    /// Findings with a larger id (paging by id). Not with `prioritize`.
    #[serde(default)]
    after: i64,
    /// Default 1000, max 10000. With `prioritize`: the top this many of all the findings
    /// the other parameters select.
    limit: Option<u32>,
    /// Rank by risk, as `patchpilot scan --prioritize` does, in each asset's stored
    /// context, SLA clocks started at `first_seen`: each finding carries its advisory's
    /// `kind`, and a vulnerability its `risk`; highest score first, then the more urgent
    /// SSVC decision, the earlier due date, the lower id. Informational advisories
    /// (`kind` `unmaintained`, `unsound` or `notice`) are not vulnerabilities: they carry
    /// no `risk`, rank after every vulnerability (the earlier `due` first, then those
    /// without one, then by id), and carry a `due` date only when the server's policy sets
    /// `[sla] informational`. So the top of the queue is vulnerabilities; with a `limit`
    /// below their number no notice is returned (filter by `asset_id` or `advisory` to see
    /// them). Findings whose advisory is no longer in the advisory database come last,
    /// without `kind` or `risk`.
    #[serde(default)]
    prioritize: bool,
}

/// Findings by id; with `prioritize=true`, ranked by risk, each with its `risk`.
#[utoipa::path(get, path = "/api/v1/findings", tag = "findings", params(FindingQuery),
    responses((status = 200, body = Vec<RankedFinding>,
               description = "Findings (`risk` only with `prioritize=true`)"),
              (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_findings(
    State(st): S,
    _caller: Authorized<Readers>,
    Query(q): Query<FindingQuery>,
) -> R<axum::response::Response> {
    if let Some(a) = &q.advisory {
        patchpilot_store::check_text("advisory", a, limits::NAME)?;
    }
    let limit = q.limit.unwrap_or(1000).min(10_000);
    let filter = FindingFilter {
        asset_id: q.asset_id,
        unfixed: false,
        state: q.state.or(q.prioritize.then_some(FindingState::Open)),
        advisory_id: q.advisory,
        after_id: q.after,
        limit: Some(limit),
    };
    if !q.prioritize {
        return Ok(Json(st.store.list_findings(filter).await?).into_response());
    }
    if q.after != 0 {
        return Err(ApiError::bad_request(
            "after pages by id; a ranking (prioritize=true) is not paged: raise limit instead",
        ));
    }
    let ranked = crate::ranking::rank(
        st.store.as_ref(),
        st.matcher(),
        st.risk_context(),
        filter,
        limit,
    )
    .await?;
    Ok(Json(ranked).into_response())
}

/// Accept (risk acceptance), suppress (e.g. VEX not_affected) or reopen a finding.
#[utoipa::path(patch, path = "/api/v1/findings/{id}", tag = "findings", params(("id" = i64, Path)),
    request_body = FindingUpdate,
    responses((status = 200, body = Finding), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn patch_finding(
    State(st): S,
    caller: Authorized<Approvers>,
    Path(id): Path<i64>,
    Json(u): Json<FindingUpdate>,
) -> R<Json<Finding>> {
    patchpilot_store::codec::check_finding_transition(u.state, u.reason.clone())?;
    Ok(Json(
        st.store
            .set_finding_state(id, u.state, u.reason, Ts::now(), &caller.actor)
            .await?,
    ))
}

// ------------------------------------------------------------------ tokens

/// Every token with its state: used, revoked, expired or active, and its asset.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, body = Vec<ListedToken>), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_tokens(State(st): S, _caller: Authorized<Admins>) -> R<Json<Vec<ListedToken>>> {
    let now = Ts::now();
    Ok(Json(
        st.store
            .list_tokens()
            .await?
            .into_iter()
            .map(|token| ListedToken {
                state: token.state_at(now),
                token,
            })
            .collect(),
    ))
}

/// Mint a token. `{"role": "enroll", "asset_id": N}` mints a re-enrolment token for
/// asset N (404 if there is none).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_token(
    State(st): S,
    caller: Authorized<Admins>,
    Json(req): Json<CreateToken>,
) -> R<impl IntoResponse> {
    if req.role == Role::Agent {
        return Err(invalid(
            "agent tokens come from enrolment; create an `enroll` token",
        ));
    }
    if req.asset_id.is_some() && req.role != Role::Enroll {
        return Err(invalid(
            "asset_id binds an enrolment token (role enroll) to the asset it re-enrols",
        ));
    }
    let expires_in = match req.expires_in_secs {
        Some(s) if s > limits::EXPIRES_IN_SECS => {
            return Err(invalid(format!(
                "expires_in_secs must be at most {} (10 years)",
                limits::EXPIRES_IN_SECS
            )))
        }
        // At most 10 years: fits i64.
        s => s.map(|s| s as i64),
    };
    let now = Ts::now();
    let secret = new_secret();
    let new = NewToken {
        name: req.name,
        role: req.role,
        hash: TokenHash::of_secret(&secret),
        created_at: now,
        expires_at: expires_in.map(|s| now.plus_secs(s)),
        asset_id: req.asset_id,
    };
    new.validate()?;
    if let Some(id) = req.asset_id {
        if st.store.get_asset(id).await?.is_none() {
            return Err(ApiError::not_found(format!("asset {id} does not exist")));
        }
    }
    let info = st.store.create_token(new, &caller.actor).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            info,
            token: secret,
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke_token(
    State(st): S,
    caller: Authorized<Admins>,
    Path(id): Path<i64>,
) -> R<StatusCode> {
    st.store.revoke_token(id, Ts::now(), &caller.actor).await?;
    st.tokens.forget_id(id);
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ jobs

#[derive(Deserialize, IntoParams)]
pub struct JobQuery {
    asset_id: Option<i64>,
    /// Default 100, max 1000.
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(JobQuery),
    responses((status = 200, body = Vec<Job>)), security(("bearer" = [])))]
pub async fn list_jobs(
    State(st): S,
    _caller: Authorized<Readers>,
    Query(q): Query<JobQuery>,
) -> R<Json<Vec<Job>>> {
    Ok(Json(
        st.store
            .list_jobs(q.asset_id, q.limit.unwrap_or(100).min(1000))
            .await?,
    ))
}

/// Queue a job for an asset's agent (today: `rescan`).
#[utoipa::path(post, path = "/api/v1/jobs", tag = "jobs", request_body = NewJob,
    responses((status = 201, body = Job), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_job(
    State(st): S,
    caller: Authorized<Operators>,
    Json(new): Json<NewJob>,
) -> R<impl IntoResponse> {
    new.validate()?;
    if st.store.get_asset(new.asset_id).await?.is_none() {
        return Err(ApiError::not_found(format!(
            "asset {} does not exist",
            new.asset_id
        )));
    }
    let job = st.store.enqueue_job(new, Ts::now(), &caller.actor).await?;
    Ok((StatusCode::CREATED, Json(job)))
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = i64, Path)),
    responses((status = 200, body = Job), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_job(
    State(st): S,
    _caller: Authorized<Readers>,
    Path(id): Path<i64>,
) -> R<Json<Job>> {
    st.store
        .get_job(id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("job {id} does not exist")))
}

// ------------------------------------------------------------------ audit

#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    #[serde(default)]
    after: i64,
    /// Default 1000, max 10000.
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Vec<AuditRecord>), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn audit(
    State(st): S,
    _caller: Authorized<Auditors>,
    Query(q): Query<AuditQuery>,
) -> R<Json<Vec<AuditRecord>>> {
    Ok(Json(
        st.store
            .audit_records(q.after, q.limit.unwrap_or(1000).min(10_000))
            .await?,
    ))
}

/// Check the whole audit chain.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = AuditVerifyResponse), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn audit_verify(
    State(st): S,
    _caller: Authorized<Auditors>,
) -> R<Json<AuditVerifyResponse>> {
    Ok(Json(crate::verify_audit_here(&st).await?))
}

// ------------------------------------------------------------------ feeds

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct FeedsInfo {
    advisories: u64,
    digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    written_at: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/feeds", tag = "feeds",
    responses((status = 200, body = FeedsInfo)), security(("bearer" = [])))]
pub async fn feeds(State(st): S, _caller: Authorized<Readers>) -> R<Json<FeedsInfo>> {
    let m = st.matcher();
    Ok(Json(FeedsInfo {
        advisories: m.len() as u64,
        digest: m.digest().to_string(),
        written_at: m.written_at(),
    }))
}

/// Load the advisory database again (after `patchpilot feeds sync`/`import`) and re-match
/// only the packages whose advisories changed, across the fleet; also load the threat
/// intelligence that ranks findings (KEV, EPSS, NVD) again. A file that does not load
/// changes nothing (503).
#[utoipa::path(post, path = "/api/v1/feeds/reload", tag = "feeds",
    responses((status = 200, body = ReloadResponse), (status = 403, body = ErrorBody),
              (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn feeds_reload(State(st): S, caller: Authorized<Operators>) -> R<Json<ReloadResponse>> {
    Ok(Json(crate::reload_feeds(&st, &caller.actor).await?))
}
