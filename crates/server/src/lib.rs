//! `patchpilot server`: the control plane.
//!
//! An axum application over one [`patchpilot_store::Store`] (SQLite embedded by default,
//! PostgreSQL by URL). It holds no state a replica would need to share: tokens are
//! looked up in the database (cached for seconds), inventories are applied with an
//! optimistic check, jobs are claimed with row locks, and the in-memory structures of
//! weight are rebuilt on each replica: the advisory index from the advisory database
//! file, which the replica that re-matched the fleet against it stores in the database
//! for the others ([`Config::share_advisory_file`]), and the threat intelligence that
//! ranks findings from the data dir's feeds ([`ranking`]).
//!
//! Findings stay current incrementally (see [`matching`]): a report re-matches only the
//! packages that changed, a feed reload only the packages whose advisories changed.
//! `GET /api/v1/findings?prioritize=true` ranks them by risk ([`ranking`]).
//!
//! It refuses to start on a damaged database and re-checks it while it runs
//! ([`integrity`]), and records the audit chain's head outside the database
//! ([`audit_anchor`]) so that `audit verify` finds records cut off the end even when the
//! database's own head row was rewound with them.

pub mod audit_anchor;
pub mod auth;
pub mod error;
pub mod integrity;
pub mod matching;
pub mod metrics;
pub mod ranking;
pub mod routes;
pub mod serve;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use axum::extract::DefaultBodyLimit;
use patchpilot_api::{AuditVerifyResponse, ReloadResponse};
use patchpilot_store::audit::Anchor;
use patchpilot_store::{
    Actor, ChangeCounts, FeedState, FindingChanges, NewToken, PackageName, Role, Store, TokenHash,
    Ts,
};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::ApiError;
use crate::matching::{reconcile, Matcher};
use crate::ranking::RiskContext;

/// Server settings (CLI flags and `PATCHPILOT_*` variables fill them).
#[derive(Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// `postgres://…` or `sqlite://PATH`; `None` = SQLite at `<data_dir>/server.db`.
    pub database_url: Option<String>,
    /// Where the advisory database lives (and the SQLite file by default).
    pub data_dir: PathBuf,
    /// Largest request body, bytes.
    pub body_limit: usize,
    /// PEM certificate chain and key: serve HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Use this as the bootstrap admin token instead of a random one.
    pub bootstrap_token: Option<String>,
    pub job_lease_secs: i64,
    /// How often a long poll re-checks the database when no notice arrives.
    pub job_poll_ms: u64,
    /// Assets re-matched at a time after an advisory database change: what a re-match
    /// holds at once (packages, findings, changes) is bounded by a page, not by the fleet.
    pub rematch_page_assets: u32,
    /// Store a copy of the advisory database file in the database whenever the fleet is
    /// re-matched against it, so that other replicas (and a replica with an empty data
    /// dir) load it from there. `None`: yes on PostgreSQL (replicas), no on SQLite (one
    /// server; a copy of a file of several MB to hundreds would only cost space).
    /// Replicas load a stored copy whenever there is one, whatever this says.
    pub share_advisory_file: Option<bool>,
    /// A risk policy file (the TOML of `scan --policy`) for ranked findings: its
    /// `epss-threshold`, `[weights]` and `[sla]` apply (see [`ranking::load_policy`]).
    /// `None`: the defaults. Read at start.
    pub policy: Option<PathBuf>,
    /// How often the audit chain's head is appended to `DATA_DIR/audit-head.log` when it
    /// changed (see [`audit_anchor`]); also at start and at shutdown.
    pub audit_anchor_every: std::time::Duration,
    /// How often the database's integrity is checked again while the server runs (it is
    /// checked in full at start); a failure turns `/readyz` to 503. `None`: only at start.
    pub integrity_check_every: Option<std::time::Duration>,
    /// Connection limits and timeouts (see [`serve`]).
    pub limits: serve::Limits,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("data_dir", &self.data_dir)
            .field("body_limit", &self.body_limit)
            .field("tls", &self.tls)
            .field(
                "bootstrap_token",
                &self.bootstrap_token.as_ref().map(|_| "<redacted>"),
            )
            .field("rematch_page_assets", &self.rematch_page_assets)
            .field("share_advisory_file", &self.share_advisory_file)
            .field("policy", &self.policy)
            .field("limits", &self.limits)
            .finish()
    }
}

/// A database URL with any password blanked, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl Config {
    pub fn new(data_dir: PathBuf) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8470)),
            database_url: None,
            data_dir,
            body_limit: 32 << 20,
            tls: None,
            bootstrap_token: None,
            job_lease_secs: 300,
            job_poll_ms: 2_000,
            rematch_page_assets: 500,
            share_advisory_file: None,
            policy: None,
            audit_anchor_every: std::time::Duration::from_secs(10),
            integrity_check_every: Some(std::time::Duration::from_secs(6 * 3600)),
            limits: serve::Limits::default(),
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database {url}: {source}")]
    Database {
        url: String,
        source: patchpilot_store::Error,
    },
    #[error("advisory database: {0}")]
    Advisories(#[from] patchpilot_advisory_db::DbError),
    #[error("listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(String),
    #[error(
        "no advisory database in {}, and the store holds no usable copy of the one the fleet \
         was matched against ({digest}); run `patchpilot feeds import` or `feeds sync` here, \
         or reload feeds on a replica that has it",
        dir.display()
    )]
    NoAdvisories { dir: PathBuf, digest: String },
    #[error("database {url} is damaged: {reason}; refusing to start (restore it from a backup)")]
    Damaged { url: String, reason: String },
    #[error("{0}")]
    Store(#[from] patchpilot_store::Error),
    #[error("risk policy: {0}")]
    Policy(patchpilot_prioritize::Error),
    #[error("threat intelligence: {0}")]
    Intel(patchpilot_prioritize::Error),
}

/// Everything a request handler can reach.
pub struct AppState {
    pub store: Arc<dyn Store>,
    matcher: RwLock<Arc<Matcher>>,
    /// Threat intelligence and policy for ranked findings, swapped whole like the matcher,
    /// with the digest of the intel files it was read from ([`intel_digest`]).
    risk: RwLock<(Arc<RiskContext>, String)>,
    pub config: Config,
    pub metrics: metrics::Metrics,
    pub tokens: auth::TokenCache,
    reload: tokio::sync::Mutex<()>,
    /// False while a start re-matches the fleet against a changed advisory database:
    /// the server answers meanwhile, but `/readyz` says 503.
    ready: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, matcher: Arc<Matcher>, config: Config) -> Arc<AppState> {
        Arc::new(AppState {
            store,
            matcher: RwLock::new(matcher),
            risk: RwLock::new((Arc::new(RiskContext::default()), String::new())),
            config,
            metrics: metrics::Metrics::default(),
            tokens: auth::TokenCache::default(),
            reload: tokio::sync::Mutex::new(()),
            ready: tokio::sync::watch::Sender::new(true),
        })
    }

    /// Whether the start-up re-match (if any) is done.
    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    /// Wait until [`AppState::is_ready`].
    pub async fn until_ready(&self) {
        let mut rx = self.ready.subscribe();
        let _ = rx.wait_for(|r| *r).await;
    }

    /// The advisory index in use now.
    pub fn matcher(&self) -> Arc<Matcher> {
        match self.matcher.read() {
            Ok(m) => m.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Whether re-matches store the advisory database file ([`Config::share_advisory_file`]).
    pub fn shares_advisory_file(&self) -> bool {
        shares_advisory_file(&self.config, self.store.as_ref())
    }

    pub fn set_matcher(&self, m: Arc<Matcher>) {
        match self.matcher.write() {
            Ok(mut g) => *g = m,
            Err(p) => *p.into_inner() = m,
        }
    }

    /// The threat intelligence and policy findings are ranked with now.
    pub fn risk_context(&self) -> Arc<RiskContext> {
        match self.risk.read() {
            Ok(r) => r.0.clone(),
            Err(p) => p.into_inner().0.clone(),
        }
    }

    /// The digest of the intel files the current [`AppState::risk_context`] was read from.
    pub fn intel_digest(&self) -> String {
        match self.risk.read() {
            Ok(r) => r.1.clone(),
            Err(p) => p.into_inner().1.clone(),
        }
    }

    /// Rank with `r` from now on; `digest` says which intel files it was read from.
    pub fn set_risk_context(&self, r: Arc<RiskContext>, digest: String) {
        match self.risk.write() {
            Ok(mut g) => *g = (r, digest),
            Err(p) => *p.into_inner() = (r, digest),
        }
    }
}

fn shares_advisory_file(config: &Config, store: &dyn Store) -> bool {
    config
        .share_advisory_file
        .unwrap_or(store.backend() == patchpilot_store::Backend::Postgres)
}

/// Open the store a URL names (see [`Config::database_url`]).
pub async fn open_store(url: Option<&str>, data_dir: &Path) -> Result<Arc<dyn Store>, StartError> {
    let db_err = |url: &str, source| StartError::Database {
        url: redact_url(url),
        source,
    };
    match url {
        Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
            let s = patchpilot_store_postgres::PgStore::connect(u)
                .await
                .map_err(|e| db_err(u, e))?;
            Ok(Arc::new(s))
        }
        Some(u) => {
            let s = patchpilot_store_sqlite::SqliteStore::open_url(u)
                .await
                .map_err(|e| db_err(u, e))?;
            Ok(Arc::new(s))
        }
        None => {
            let path = data_dir.join("server.db");
            let s = patchpilot_store_sqlite::SqliteStore::open(&path)
                .await
                .map_err(|e| db_err(&path.display().to_string(), e))?;
            Ok(Arc::new(s))
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Patchpilot control plane", version = "1", description = "Assets, inventories, findings, jobs and the audit log of a Patchpilot fleet."),
    modifiers(&BearerAuth),
    tags((name = "agent"), (name = "assets"), (name = "findings"), (name = "tokens"), (name = "jobs"), (name = "audit"), (name = "feeds"), (name = "health"))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every `/api/v1` route with its OpenAPI annotation: the one list both the router and
/// the document come from.
fn api_router() -> OpenApiRouter<Arc<AppState>> {
    use routes::*;
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(enroll))
        .routes(routes!(heartbeat))
        .routes(routes!(inventory))
        .routes(routes!(agent_jobs))
        .routes(routes!(job_result))
        .routes(routes!(list_assets, create_asset))
        .routes(routes!(get_asset, patch_asset))
        .routes(routes!(list_snapshots))
        .routes(routes!(snapshot_diff))
        .routes(routes!(list_findings))
        .routes(routes!(patch_finding))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(list_jobs, create_job))
        .routes(routes!(get_job))
        .routes(routes!(audit))
        .routes(routes!(audit_verify))
        .routes(routes!(feeds))
        .routes(routes!(feeds_reload))
}

/// The application: every route, its OpenAPI document, the body limit and metrics.
pub fn app(state: Arc<AppState>) -> axum::Router {
    let (router, mut api) = api_router().split_for_parts();
    api.openapi = utoipa::openapi::OpenApiVersion::Version31;
    let doc = Arc::new(api.to_json().unwrap_or_else(|_| "{}".into()));
    router
        .route(
            patchpilot_api::paths::OPENAPI,
            axum::routing::get(move || {
                let doc = doc.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        (*doc).clone(),
                    )
                }
            }),
        )
        .fallback(|| async { ApiError::not_found("no such route") })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(state.config.body_limit))
        .with_state(state)
}

/// Create the first admin token if the store has no token at all. Returns the secret
/// when one was generated (to print once), `None` when tokens exist or the secret came
/// from the configuration.
pub async fn bootstrap(
    store: &dyn Store,
    configured: Option<&str>,
) -> Result<Option<String>, StartError> {
    if store.count_tokens().await? > 0 {
        return Ok(None);
    }
    let (secret, generated) = match configured {
        Some(s) => (s.to_string(), false),
        None => (auth::new_secret(), true),
    };
    store
        .create_token(
            NewToken {
                name: "bootstrap-admin".into(),
                role: Role::Admin,
                hash: TokenHash::of_secret(&secret),
                created_at: Ts::now(),
                expires_at: None,
                asset_id: None,
            },
            &Actor::system(),
        )
        .await?;
    Ok(generated.then_some(secret))
}

const FEED_STATE: &str = "advisories";
/// The feed state naming the threat intelligence the last reload ranked with.
const INTEL_STATE: &str = "intel";

/// A digest of the threat-intelligence files a ranking reads (`feeds/kev.json`,
/// `feeds/epss.csv.gz`, `feeds/nvd.json`, an absent file counted as absent): what a
/// replica compares with the one another replica announced after its reload.
pub fn intel_digest(data_dir: &Path) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let files = [
        ("kev", patchpilot_prioritize::kev_file(data_dir)),
        ("epss", patchpilot_prioritize::epss_file(data_dir)),
        ("nvd", patchpilot_prioritize::nvd_file(data_dir)),
    ];
    for (name, path) in files {
        h.update(name.as_bytes());
        match std::fs::read(&path) {
            Ok(b) => {
                h.update((b.len() as u64).to_le_bytes());
                h.update(&b);
            }
            Err(_) => h.update(b"absent"),
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The intel and its digest, read together (off the async workers).
async fn load_intel(
    data_dir: &Path,
    policy: patchpilot_risk::Policy,
) -> Result<(RiskContext, String), String> {
    let dir = data_dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let ctx = RiskContext::load(&dir, policy).map_err(|e| e.to_string())?;
        Ok((ctx, intel_digest(&dir)))
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Reload the threat intelligence that ranks findings, and re-match what changed between
/// the loaded advisory index and the database on disk. Either failing to load changes
/// nothing.
pub async fn reload_feeds(st: &AppState, actor: &Actor) -> Result<ReloadResponse, ApiError> {
    let _guard = st.reload.lock().await;
    let policy = st.risk_context().policy.clone();
    let (risk, intel) = load_intel(&st.config.data_dir, policy)
        .await
        .map_err(|e| ApiError::unavailable(format!("threat intelligence: {e}")))?;
    let dir = st.config.data_dir.clone();
    let share = st.shares_advisory_file();
    let (new, file) = tokio::task::spawn_blocking(move || Matcher::load_with_file(&dir, share))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(|e| ApiError::unavailable(format!("advisory database: {e}")))?;
    // Announce intel this reload changed to the other replicas: each reloads its own
    // files (`follow_feed_updates`). An unchanged reload writes nothing.
    let changed = st.intel_digest() != intel;
    st.set_risk_context(Arc::new(risk), intel.clone());
    if changed {
        st.store
            .set_feed_state(
                FeedState {
                    name: INTEL_STATE.into(),
                    state: serde_json::json!({ "digest": intel }),
                    updated_at: Ts::now(),
                },
                actor,
            )
            .await?;
    }
    let old = st.matcher();
    rematch(st, Some(&old), Arc::new(new), file, actor).await
}

/// Apply the difference between `old` and `new` to the fleet's findings and make `new`
/// current. `old = None` re-matches every package the new index knows. `file`, the bytes
/// `new` was decoded from, is stored for the other replicas before the new digest is
/// recorded (and announced), so a replica told of a digest can always fetch its file.
///
/// The fleet is re-matched a page of assets at a time ([`Config::rematch_page_assets`]):
/// read that page's packages and live findings on the changed names, match, reconcile,
/// write, drop. Findings belong to one asset, so a page's changes depend on that page
/// alone, and memory is bounded by a page whatever the size of the fleet. Each page that
/// changes something is one transaction with its own audit record (`findings.apply`,
/// naming the database and the page's assets), as every store write is.
pub async fn rematch(
    st: &AppState,
    old: Option<&Matcher>,
    new: Arc<Matcher>,
    file: Option<Vec<u8>>,
    actor: &Actor,
) -> Result<ReloadResponse, ApiError> {
    let mut out = ReloadResponse {
        changed: old.is_none_or(|o| o.digest() != new.digest()),
        packages_rematched: 0,
        findings_opened: 0,
        findings_fixed: 0,
        findings_updated: 0,
    };
    if out.changed {
        let keys: Vec<_> = new.changed_keys(old).into_iter().collect();
        out.packages_rematched = keys.len() as u64;
        let now = Ts::now();
        // Reports from now on are matched against the new database: one that arrives
        // during the pass, for an asset the pass has already done, must not bring the old
        // database's answers back. (An asset that reports between the pass reading and
        // writing its page is re-matched again: `FindingChanges::basis`.)
        let previous = st.matcher();
        st.set_matcher(new.clone());
        let counts = match rematch_fleet(st, &new, &keys, now, actor).await {
            Ok(c) => c,
            Err(e) => {
                // The feed state still names the previous database, so a later reload
                // (or start) re-matches against the new one again.
                st.set_matcher(previous);
                return Err(e);
            }
        };
        out.findings_opened = counts.opened;
        out.findings_fixed = counts.fixed;
        out.findings_updated = counts.updated;
        if let Some(bytes) = file {
            // Stored only now that the pass succeeded, so the files kept (the last two)
            // are the digest about to be recorded and the one recorded before it, which a
            // replica starting meanwhile reads. A failure is handled as a failed pass:
            // nothing recorded, and the next reload or start does it again.
            if let Err(e) = st.store.put_advisory_file(new.digest(), bytes, now).await {
                st.set_matcher(previous);
                return Err(e.into());
            }
        }
        st.store
            .set_feed_state(
                FeedState {
                    name: FEED_STATE.into(),
                    state: serde_json::json!({
                        "digest": new.digest(),
                        "written_at": new.written_at(),
                        "advisories": new.len(),
                    }),
                    updated_at: now,
                },
                actor,
            )
            .await?;
    }
    st.set_matcher(new);
    Ok(out)
}

/// Re-match `keys` on every asset, a page of assets at a time; the summed counts.
async fn rematch_fleet(
    st: &AppState,
    new: &Matcher,
    keys: &[PackageName],
    now: Ts,
    actor: &Actor,
) -> Result<ChangeCounts, ApiError> {
    let mut total = ChangeCounts::default();
    if keys.is_empty() {
        return Ok(total);
    }
    let page_size = st.config.rematch_page_assets.max(1);
    let mut after = 0i64;
    // Until a page comes back empty, so assets created meanwhile are included.
    loop {
        let page = st.store.list_assets(after, page_size).await?;
        let Some(last) = page.last().map(|a| a.id) else {
            return Ok(total);
        };
        drop(page);
        // Chunks of keys bound the name sets and the SQL lists: a feed update names a few
        // hundred keys (one chunk), a first start with a new database every name the
        // index knows (a chunk or a few).
        for chunk in keys.chunks(5_000) {
            let c = rematch_page(st, new, chunk, after + 1..last + 1, now, actor).await?;
            total.opened += c.opened;
            total.fixed += c.fixed;
            total.updated += c.updated;
        }
        after = last;
    }
}

/// Re-match `keys` on the assets whose id is in `assets` against `new` and write the
/// difference (one transaction and one audit record, or nothing when nothing changed).
/// An asset that reported between the read and the write gets none of the changes
/// computed from what it had: it is re-matched again on its own, from what it has now.
async fn rematch_page(
    st: &AppState,
    new: &Matcher,
    keys: &[PackageName],
    assets: std::ops::Range<i64>,
    now: Ts,
    actor: &Actor,
) -> Result<ChangeCounts, ApiError> {
    let mut total = ChangeCounts::default();
    let mut todo = vec![assets];
    // Each retry is one asset that reported meanwhile. An asset that keeps reporting
    // within the moment between a read and a write is left after a few tries, with a
    // warning: its packages unchanged since the last pass keep their earlier findings.
    let mut retries = 0;
    while let Some(range) = todo.pop() {
        let read = st.store.packages_named(keys, range.clone()).await?;
        let have = st.store.findings_on(keys, range.clone()).await?;
        let want: Vec<_> = read
            .packages
            .iter()
            .flat_map(|ap| new.findings_for(ap.asset_id, &ap.package, now))
            .collect();
        let rec = reconcile(want, &have);
        if rec.open.is_empty() && rec.fix.is_empty() && rec.update.is_empty() {
            continue;
        }
        // The state each touched asset's changes come from.
        let mut touched: HashSet<i64> = rec.open.iter().map(|f| f.asset_id).collect();
        let changed: HashSet<i64> = rec
            .fix
            .iter()
            .copied()
            .chain(rec.update.iter().map(|u| u.0))
            .collect();
        touched.extend(
            have.iter()
                .filter(|f| changed.contains(&f.id))
                .map(|f| f.asset_id),
        );
        let basis: Vec<(i64, i64)> = read
            .snapshots
            .iter()
            .copied()
            .filter(|(asset, _)| touched.contains(asset))
            .collect();
        drop((read, have));
        let changes = FindingChanges {
            open: rec.open,
            fix: rec.fix,
            update: rec.update,
            now,
            cause: format!(
                "advisory database {}, assets {} to {}",
                new.digest(),
                range.start,
                range.end - 1
            ),
            basis,
        };
        let applied = st.store.apply_finding_changes(changes, actor).await?;
        total.opened += applied.counts.opened;
        total.fixed += applied.counts.fixed;
        total.updated += applied.counts.updated;
        for asset in applied.stale_assets {
            if retries < 8 {
                retries += 1;
                todo.push(asset..asset + 1);
            } else {
                tracing::warn!(
                    asset,
                    "asset kept reporting during the re-match; its unchanged packages were not re-matched"
                );
            }
        }
    }
    Ok(total)
}

/// Keep this replica's advisory index in step with the others: when any process announces
/// that it re-matched the fleet against a new advisory database, load that database
/// (without re-matching: the announcer did) from the copy the announcer stored, writing it
/// into this replica's data dir; without a stored copy, from the data dir if its digest is
/// the one recorded, else warn. Likewise for the threat intelligence that ranks findings
/// ([`follow_intel`]).
async fn follow_feed_updates(state: Arc<AppState>) {
    let mut notices = state.store.subscribe();
    loop {
        match notices.recv().await {
            Ok(patchpilot_store::Notice::FeedsUpdated) => {}
            Ok(_) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
        follow_advisories(&state).await;
        follow_intel(&state).await;
    }
}

/// Forget revoked tokens at once, on every replica: a token revoked (or an agent token
/// replaced by a re-enrolment) through another process would otherwise keep working here
/// until its cache entry expires ([`auth::CACHE_TTL`]). A notice lost in a lagging
/// channel empties the cache; one lost across a dropped database connection still
/// expires within the TTL.
async fn follow_revocations(state: Arc<AppState>) {
    let mut notices = state.store.subscribe();
    loop {
        match notices.recv().await {
            Ok(patchpilot_store::Notice::TokensRevoked { ids }) => state.tokens.forget_ids(&ids),
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => state.tokens.clear(),
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Load the advisory database another replica recorded, if it is not the one in use.
async fn follow_advisories(state: &AppState) {
    let Ok(Some(fs)) = state.store.get_feed_state(FEED_STATE).await else {
        return;
    };
    let Some(digest) = fs
        .state
        .get("digest")
        .and_then(|d| d.as_str())
        .map(str::to_string)
    else {
        return;
    };
    if state.matcher().digest() == digest {
        return;
    }
    let _guard = state.reload.lock().await;
    if state.matcher().digest() == digest {
        return;
    }
    match fetch_shared(state.store.as_ref(), &state.config.data_dir, &digest).await {
        Ok(Some(m)) => {
            tracing::info!(%digest, "advisory database loaded from the store after another replica's feed update");
            state.set_matcher(Arc::new(m));
            return;
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "reading the advisory database from the store"),
    }
    let dir = state.config.data_dir.clone();
    match tokio::task::spawn_blocking(move || Matcher::load(&dir)).await {
        Ok(Ok(m)) if m.digest() == digest => {
            tracing::info!(%digest, "advisory index reloaded after another replica's feed update");
            state.set_matcher(Arc::new(m));
        }
        Ok(Ok(m)) => tracing::warn!(
            local = m.digest(),
            announced = %digest,
            "another replica matched an advisory database that the store holds no copy of \
             and this data dir does not hold either; sync feeds here and reload"
        ),
        Ok(Err(e)) => tracing::warn!(error = %e, "advisory database"),
        Err(e) => tracing::warn!(error = %e, "reload task"),
    }
}

/// Reload this replica's threat intelligence when another replica announced intel other
/// than what this one ranks with. Each replica reads its own data dir (feeds are synced
/// per replica, or on a shared volume): one that does not hold the announced files says so.
async fn follow_intel(state: &AppState) {
    let Ok(Some(fs)) = state.store.get_feed_state(INTEL_STATE).await else {
        return;
    };
    let Some(announced) = fs.state.get("digest").and_then(|d| d.as_str()) else {
        return;
    };
    if state.intel_digest() == announced {
        return;
    }
    let _guard = state.reload.lock().await;
    if state.intel_digest() == announced {
        return;
    }
    let policy = state.risk_context().policy.clone();
    match load_intel(&state.config.data_dir, policy).await {
        Ok((ctx, digest)) => {
            if digest != announced {
                tracing::warn!(
                    announced,
                    local = %digest,
                    "another replica ranks with threat intelligence (feeds/kev.json, \
                     epss.csv.gz, nvd.json) that this data dir does not hold; sync feeds here"
                );
            }
            if digest != state.intel_digest() {
                tracing::info!(%digest, "threat intelligence reloaded after another replica's feed update");
                state.set_risk_context(Arc::new(ctx), digest);
            }
        }
        Err(e) => tracing::warn!(error = %e, "threat intelligence"),
    }
}

/// The advisory database the store holds under `digest`, as a matcher, once checked to be
/// that database, and written into the data dir for the next start (unless the file there
/// was written later: an import here is never overwritten; a failed write is a warning,
/// the copy in memory is still used). `Ok(None)` when the store does not hold
/// it, or holds a copy this build cannot use (another format version, say so in a warning).
async fn fetch_shared(
    store: &dyn Store,
    data_dir: &Path,
    digest: &str,
) -> Result<Option<Matcher>, patchpilot_store::Error> {
    let Some(bytes) = store.get_advisory_file(digest).await? else {
        return Ok(None);
    };
    let (dir, want) = (data_dir.to_path_buf(), digest.to_string());
    let loaded = tokio::task::spawn_blocking(move || {
        let m = Matcher::from_file_bytes(&dir, &bytes).map_err(|e| e.to_string())?;
        if m.digest() != want {
            return Err(format!("its advisories have the digest {}", m.digest()));
        }
        match patchpilot_advisory_db::install(&dir, &bytes) {
            Ok(true) => {
                tracing::info!(digest = %want, dir = %dir.display(), "advisory database from the store written into the data dir");
            }
            Ok(false) => tracing::info!(
                digest = %want,
                "the data dir's advisory database was written later than the store's; kept it (reload feeds to match against it)"
            ),
            Err(e) => tracing::warn!(error = %e, "writing the advisory database from the store into the data dir"),
        }
        Ok(m)
    })
    .await
    .map_err(|e| patchpilot_store::Error::Backend(format!("loading the stored advisory database: {e}")))?;
    match loaded {
        Ok(m) => Ok(Some(m)),
        Err(why) => {
            tracing::warn!(%digest, %why, "the advisory database stored under this digest is not usable here");
            Ok(None)
        }
    }
}

/// Walk the audit chain from the store and check it against the head the database
/// records (`audit_head`) and against `expected_head`, a head recorded elsewhere.
pub async fn verify_audit(
    store: &dyn Store,
    expected_head: Option<(i64, &str)>,
) -> Result<AuditVerifyResponse, patchpilot_store::Error> {
    let anchors = expected_head
        .map(|(seq, hash)| Anchor {
            seq,
            hash: hash.to_string(),
            source: "the expected head".into(),
        })
        .into_iter()
        .collect();
    Ok(check_audit(store, anchors, Vec::new()).await?.result)
}

/// What [`check_audit`] found, and which heads it compared the chain with.
#[derive(Debug, Clone)]
pub struct AuditCheck {
    pub result: AuditVerifyResponse,
    /// The heads the chain was checked against: `(where recorded, seq)`.
    pub against: Vec<(String, i64)>,
}

/// Walk the audit chain from the store and check it against the database's own head row
/// and every head in `anchors` (recorded outside the database). `problems` found before
/// (unreadable anchor lines) are reported with the chain's. The head row is read before
/// the chain, so records appended meanwhile are no problem.
pub async fn check_audit(
    store: &dyn Store,
    anchors: Vec<Anchor>,
    problems: Vec<String>,
) -> Result<AuditCheck, patchpilot_store::Error> {
    let head = store.audit_head().await?;
    let mut against = vec![(head.source.clone(), head.seq)];
    let mut v = patchpilot_store::audit::Verifier::new();
    v.anchor(head);
    if let Some(newest) = anchors.iter().max_by_key(|a| a.seq) {
        let n = anchors.len();
        let heads = if n == 1 { "head" } else { "heads" };
        against.push((
            format!(
                "{n} {heads} recorded outside the database, the newest in {}",
                newest.source
            ),
            newest.seq,
        ));
    }
    for a in anchors {
        v.anchor(a);
    }
    let mut after = 0;
    loop {
        let page = store.audit_records(after, 5_000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for r in &page {
            v.push(r);
        }
        if page.len() < 5_000 {
            break;
        }
    }
    let v = v.finish(None);
    let mut all = problems;
    all.extend(
        v.problems
            .iter()
            .map(|p| format!("record {}: {}", p.seq, p.reason)),
    );
    Ok(AuditCheck {
        result: AuditVerifyResponse {
            ok: all.is_empty(),
            records: v.records,
            head_seq: v.head.as_ref().map(|h| h.0),
            head_hash: v.head.map(|h| h.1),
            problems: all,
        },
        against,
    })
}

/// `GET /api/v1/audit/verify`: the chain against the database's head row and the heads
/// this server's data dir recorded ([`audit_anchor`]).
pub async fn verify_audit_here(st: &AppState) -> Result<AuditVerifyResponse, ApiError> {
    let (anchors, problems) = match st.store.database_id() {
        None => (Vec::new(), Vec::new()),
        Some(db) => {
            let file = audit_anchor::path(&st.config.data_dir);
            let f = file.clone();
            let r = tokio::task::spawn_blocking(move || audit_anchor::read(&f, &db))
                .await
                .map_err(|e| ApiError::internal(e.to_string()))?
                .map_err(|e| {
                    tracing::error!(error = %e, file = %file.display(), "reading the audit head log");
                    ApiError::unavailable("the audit head log cannot be read; see the server log")
                })?;
            (r.anchors, r.bad_lines)
        }
    };
    match check_audit(st.store.as_ref(), anchors, problems).await {
        Ok(c) => Ok(c.result),
        Err(e @ patchpilot_store::Error::Backend(_)) => {
            // The chain could not be read: find out now whether the database is damaged,
            // so that `/readyz` says so at once rather than at the next periodic check.
            if let Err(found) = st.store.check_integrity().await {
                tracing::error!(error = %found, "database integrity check failed; /readyz answers 503");
            }
            Err(e.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// A started server.
pub struct Running {
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    /// The bootstrap admin secret, if this start generated one.
    pub bootstrap_secret: Option<String>,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Why the server stopped by itself (the start-up re-match failed).
    failure: Arc<std::sync::Mutex<Option<String>>>,
    /// Records the audit head outside the database; records it once more at the end.
    anchor: Option<audit_anchor::Writer>,
    integrity_watch: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stop accepting, finish in-flight requests, and return.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        self.wait().await
    }

    /// Wait until the server stops (by itself only if it fails).
    pub async fn wait(self) -> std::io::Result<()> {
        let served = self
            .task
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        if let Some(w) = self.integrity_watch {
            w.abort();
        }
        // After the last request: the head it leaves is the one recorded.
        if let Some(a) = self.anchor {
            a.stop().await;
        }
        match self.failure.lock().ok().and_then(|mut f| f.take()) {
            Some(why) => Err(std::io::Error::other(why)),
            None => served,
        }
    }

    /// A handle that triggers graceful shutdown.
    pub fn shutdown_handle(&self) -> tokio::sync::watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Read the risk policy and the threat intelligence, open the store, run migrations,
/// bootstrap the admin token, load the advisory index, re-match if the advisory database
/// changed while the server was down, bind and serve.
pub async fn start(config: Config) -> Result<Running, StartError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| StartError::Database {
        url: config.data_dir.display().to_string(),
        source: patchpilot_store::Error::Backend(format!("creating the data directory: {e}")),
    })?;
    let policy = match &config.policy {
        Some(p) => ranking::load_policy(p).map_err(StartError::Policy)?,
        None => patchpilot_risk::Policy::default(),
    };
    let dir = config.data_dir.clone();
    let risk = tokio::task::spawn_blocking(move || {
        RiskContext::load(&dir, policy).map(|r| {
            let d = intel_digest(&dir);
            (r, d)
        })
    })
    .await
    .map_err(|e| {
        StartError::Store(patchpilot_store::Error::Backend(format!(
            "loading threat intelligence: {e}"
        )))
    })?
    .map_err(StartError::Intel)?;
    let store = open_store(config.database_url.as_deref(), &config.data_dir).await?;
    // Refuse a damaged database before anything reads or writes it.
    integrity::check_at_start(store.as_ref())
        .await
        .map_err(|reason| StartError::Damaged {
            url: match &config.database_url {
                Some(u) => redact_url(u),
                None => config.data_dir.join("server.db").display().to_string(),
            },
            reason,
        })?;
    if config.database_url.is_none() {
        integrity::warn_if_readable_by_others(&config.data_dir.join("server.db"));
    }
    let bootstrap_secret = bootstrap(store.as_ref(), config.bootstrap_token.as_deref()).await?;
    let share = shares_advisory_file(&config, store.as_ref());
    let dir = config.data_dir.clone();
    let local = tokio::task::spawn_blocking(move || Matcher::load_with_file(&dir, share))
        .await
        .map_err(|e| {
            StartError::Store(patchpilot_store::Error::Backend(format!(
                "loading advisories: {e}"
            )))
        })?;
    let known = store.get_feed_state(FEED_STATE).await?;
    let known_digest = known.as_ref().and_then(|s| {
        s.state
            .get("digest")
            .and_then(|d| d.as_str())
            .map(str::to_string)
    });
    let known_written_at = known
        .as_ref()
        .and_then(|s| s.state.get("written_at").and_then(|w| w.as_u64()));
    // The fleet was matched against another database than the data dir's: load that one
    // from the store when the data dir has none (a new replica), an unusable one, or an
    // older one (written before it; another replica synced feeds since). A data dir
    // whose file is as new or newer (an import here while the server was down) is
    // re-matched against instead, as is any database the store holds no copy of.
    let mut shared = None;
    if let Some(d) = &known_digest {
        let fetch = match &local {
            Ok((m, _)) => {
                m.digest() != d && (m.written_at().is_none() || m.written_at() < known_written_at)
            }
            Err(_) => true,
        };
        if fetch {
            shared = fetch_shared(store.as_ref(), &config.data_dir, d).await?;
        }
    }
    let (matcher, file, startup_rematch) = match shared {
        Some(m) => {
            tracing::info!(digest = %m.digest(), "advisory database loaded from the store");
            (m, None, false)
        }
        None => {
            let (m, file) = local?;
            match &known_digest {
                // No file here: re-matching the fleet against an empty database would
                // close every finding.
                Some(d) if d != m.digest() && m.written_at().is_none() => {
                    return Err(StartError::NoAdvisories {
                        dir: config.data_dir.clone(),
                        digest: d.clone(),
                    });
                }
                _ => {}
            }
            let rematch = known_digest.as_deref() != Some(m.digest());
            (m, file, rematch)
        }
    };
    let file = match (startup_rematch, file) {
        (false, Some(bytes)) => {
            // The data dir holds the database recorded: make sure the store has its copy
            // too (a store from before copies were kept, or sharing just turned on).
            // Already stored, it is not sent again.
            if let Err(e) = store
                .put_advisory_file(matcher.digest(), bytes, Ts::now())
                .await
            {
                tracing::warn!(error = %e, "storing the advisory database for other replicas");
            }
            None
        }
        (_, file) => file,
    };
    let matcher = Arc::new(matcher);
    let state = AppState::new(store, matcher.clone(), config.clone());
    state.set_risk_context(Arc::new(risk.0), risk.1);
    // The advisory database changed while no server ran (or this is the first start): the
    // fingerprints of the old one are not known, so every package the new index names is
    // re-matched once. That takes a while on a large fleet (~12-18 s at 10,000 assets),
    // so it runs while the server already answers: reports are matched against the new
    // database meanwhile (and an asset that reports during the pass is re-matched again),
    // and `/readyz` says 503 until it is done. If it fails, the server stops.
    if startup_rematch {
        state.ready.send_replace(false);
    }
    let listener = serve::bind(config.listen).map_err(|source| StartError::Listen {
        addr: config.listen,
        source,
    })?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen {
        addr: config.listen,
        source,
    })?;
    // Before anything is spawned: a bad certificate stops the start with nothing running.
    let tls = match &config.tls {
        None => None,
        Some((cert, key)) => Some(serve::tls_acceptor(cert, key).map_err(StartError::Tls)?),
    };
    let (tx, rx) = tokio::sync::watch::channel(false);
    let router = app(state.clone());
    tokio::spawn(follow_feed_updates(state.clone()));
    tokio::spawn(follow_revocations(state.clone()));
    let anchor = audit_anchor::Writer::start(
        state.store.clone(),
        &config.data_dir,
        config.audit_anchor_every,
    )
    .await;
    let integrity_watch = config
        .integrity_check_every
        .map(|every| integrity::watch(state.store.clone(), every));
    let failure: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    if startup_rematch {
        let (st, stop, failed) = (state.clone(), tx.clone(), failure.clone());
        tokio::spawn(async move {
            match rematch(&st, None, matcher, file, &Actor::system()).await {
                Ok(r) => {
                    tracing::info!(
                        keys = r.packages_rematched,
                        opened = r.findings_opened,
                        fixed = r.findings_fixed,
                        "fleet re-matched against the advisory database; ready"
                    );
                    st.ready.send_replace(true);
                }
                Err(e) => {
                    tracing::error!(error = %e.message, "re-matching the fleet at start failed; stopping");
                    if let Ok(mut f) = failed.lock() {
                        *f = Some(format!("re-matching the fleet at start: {}", e.message));
                    }
                    let _ = stop.send(true);
                }
            }
        });
    }
    let cap = serve::connection_cap(config.limits.max_connections);
    tracing::info!(
        "serving at most {} connections at once (open-file limit {}, {} kept for the database and files)",
        cap.max,
        cap.file_limit.map_or_else(|| "none".to_string(), |l| l.to_string()),
        cap.reserve,
    );
    state
        .metrics
        .connection_limit
        .set(i64::try_from(cap.max).unwrap_or(i64::MAX));
    let metrics = serve::ConnMetrics {
        open: state.metrics.connections.clone(),
        requests: state.metrics.requests_in_flight.clone(),
        closed: state.metrics.connections_closed.clone(),
    };
    let task = tokio::spawn(serve::serve(
        listener,
        tls,
        router,
        config.limits.clone(),
        cap.max,
        metrics,
        rx,
    ));
    Ok(Running {
        addr,
        state,
        bootstrap_secret,
        shutdown: tx,
        task,
        failure,
        anchor,
        integrity_watch,
    })
}
