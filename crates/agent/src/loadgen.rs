//! The load generator behind `patchpilot bench agents --count N`: simulated agents that
//! drive a real server over HTTP with the agent's own [`Client`].
//!
//! Phases, each measured on its own (operations/s over the phase's wall time, and
//! nearest-rank p50/p99/max latency over every operation's duration, kept in a `Vec` and
//! sorted: exact, and 10,000s of samples are nothing to sort):
//!
//! 1. **enroll**: per agent, the admin token mints a one-time enrolment token
//!    (`POST /api/v1/tokens`, role `enroll`) and the agent enrols with it. One operation
//!    is both requests.
//! 2. **inventory**: every agent sends one full report of `packages_per_report` packages,
//!    built from a real package list (the template) with a few versions bumped per agent,
//!    so agents differ like real hosts do and their findings differ.
//! 3. **heartbeat**: heartbeats round-robin over the agents, as fast as `concurrency`
//!    requests in flight allow, for `heartbeat_duration` (or until `heartbeat_limit`).
//! 4. **changed_inventory**: every agent reports again with `changes_per_report` more
//!    packages bumped: the incremental path (diff, re-match of changed packages only).
//!
//! Bodies are built and serialized *before* an operation's clock starts, so latency is the
//! server's plus the loopback's, not the generator's JSON encoding. Operations are not
//! retried: an error is counted (with a few examples kept) and the report is not
//! acknowledged.
//!
//! "Nothing lost": every acknowledgement is kept in [`LoadReport::acks`], and [`verify`]
//! checks through the API (as admin) that each acknowledged snapshot exists and that each
//! asset's current snapshot is its last acknowledged one.
//!
//! Workers are `concurrency` tokio tasks pulling operation numbers from one counter, so the
//! generator uses every core, and they share one connection pool.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use patchpilot_api::{
    CreateToken, EnrollRequest, Heartbeat, InventoryReport, NewAsset, PackageRow, Role, Ts,
};
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::client::{Client, ClientConfig, ClientError};
use crate::queue::new_idempotency_key;
use crate::secret::Secret;

/// How to load the server.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Server URL, CA, timeouts. `pool_max_idle_per_host` is raised to `concurrency`.
    pub client: ClientConfig,
    /// An admin token, to mint enrolment tokens and to verify.
    pub admin_token: Secret,
    /// Simulated agents.
    pub agents: usize,
    /// Requests in flight at once (default 64).
    pub concurrency: usize,
    /// The real package list reports are built from (see [`expand_template`]).
    pub template: Vec<PackageRow>,
    /// Packages per report (default 1,500).
    pub packages_per_report: usize,
    /// Versions bumped per agent in phase 2, so agents differ (default 3).
    pub variation: usize,
    /// More versions bumped per agent in phase 4 (default 5).
    pub changes_per_report: usize,
    /// How long the heartbeat phase runs (default 10 s).
    pub heartbeat_duration: Duration,
    /// Stop the heartbeat phase after this many heartbeats (default none).
    pub heartbeat_limit: Option<u64>,
    /// Asset names are `<prefix>-<n>`; default `bench-<random>` so runs never collide.
    pub name_prefix: String,
}

impl LoadConfig {
    pub fn new(
        client: ClientConfig,
        admin_token: impl Into<Secret>,
        agents: usize,
        template: Vec<PackageRow>,
    ) -> Self {
        LoadConfig {
            client,
            admin_token: admin_token.into(),
            agents,
            concurrency: 64,
            template,
            packages_per_report: 1500,
            variation: 3,
            changes_per_report: 5,
            heartbeat_duration: Duration::from_secs(10),
            heartbeat_limit: None,
            name_prefix: format!("bench-{:08x}", rand::random::<u32>()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("load generator: {0}")]
    Config(String),
    #[error("load generator: no agent could enrol; first error: {0}")]
    NoAgents(String),
    #[error("load generator: cancelled")]
    Cancelled,
}

/// One phase's numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PhaseStats {
    pub name: String,
    /// Operations attempted.
    pub operations: u64,
    pub ok: u64,
    pub errors: u64,
    /// Wall time of the phase.
    pub seconds: f64,
    /// Successful operations per second of wall time.
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Up to five distinct error messages.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub error_examples: Vec<String>,
}

/// An acknowledged report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AckRecord {
    pub asset_id: i64,
    pub snapshot_id: i64,
    pub idempotency_key: String,
    /// `inventory` or `changed_inventory`.
    pub phase: &'static str,
}

/// The result of [`run`]; serializes as the JSON output of `bench agents` (schema 1).
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub schema: u32,
    pub agents: usize,
    /// Agents that enrolled (the later phases use only these).
    pub enrolled: usize,
    pub concurrency: usize,
    pub packages_per_report: usize,
    pub enroll: PhaseStats,
    pub inventory: PhaseStats,
    pub heartbeat: PhaseStats,
    pub changed_inventory: PhaseStats,
    /// Every acknowledged report, for [`verify`] (not serialized: it is per report).
    #[serde(skip)]
    pub acks: Vec<AckRecord>,
    /// Filled in by the caller from [`verify`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
}

/// What [`verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub assets_checked: u64,
    pub acks_checked: u64,
    /// Acknowledged snapshots not in the asset's snapshot list.
    pub missing: u64,
    /// Assets whose current snapshot is not their last acknowledged one.
    pub current_mismatch: u64,
    /// Assets that could not be checked (request failed).
    pub errors: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
}

impl Verification {
    /// Every acknowledged report was found and nothing failed.
    pub fn ok(&self) -> bool {
        self.missing == 0 && self.current_mismatch == 0 && self.errors == 0
    }
}

/// A simulated agent.
#[derive(Clone)]
struct SimAgent {
    index: usize,
    asset_id: i64,
    client: Client,
}

/// Run all phases. `cancel` stops the current phase early and returns
/// [`LoadError::Cancelled`].
pub async fn run(config: &LoadConfig, cancel: &CancellationToken) -> Result<LoadReport, LoadError> {
    if config.agents == 0 {
        return Err(LoadError::Config(
            "the agent count must be at least 1".into(),
        ));
    }
    let concurrency = config.concurrency.max(1);
    let template = Arc::new(Template::new(expand_template(
        &config.template,
        config.packages_per_report,
    )?));
    let mut client_cfg = config.client.clone();
    client_cfg.pool_max_idle_per_host = client_cfg.pool_max_idle_per_host.max(concurrency);
    let base = Client::new(&client_cfg)?;
    let admin = base.with_token(config.admin_token.expose());

    // Phase 1: enrolment.
    let prefix: Arc<str> = config.name_prefix.clone().into();
    let (enroll, enrolled) = {
        let (base, admin, prefix) = (base.clone(), admin.clone(), prefix.clone());
        run_phase(
            "enroll",
            config.agents as u64,
            concurrency,
            None,
            cancel,
            move |i| {
                let (base, admin, prefix) = (base.clone(), admin.clone(), prefix.clone());
                async move {
                    let i = i as usize;
                    let name = format!("{prefix}-{i}");
                    let start = Instant::now();
                    let res = enroll_one(&base, &admin, &name).await;
                    (
                        start.elapsed(),
                        res.map(|(asset_id, client)| SimAgent {
                            index: i,
                            asset_id,
                            client,
                        }),
                    )
                }
            },
        )
        .await
    };
    check_cancel(cancel)?;
    let mut agents = enrolled;
    agents.sort_by_key(|a| a.index);
    if agents.is_empty() {
        return Err(LoadError::NoAgents(
            enroll.error_examples.first().cloned().unwrap_or_default(),
        ));
    }
    let agents = Arc::new(agents);

    // Phase 2: one full report per agent.
    let variation = config.variation;
    let (inventory, mut acks) = report_phase(
        "inventory",
        &agents,
        &template,
        concurrency,
        cancel,
        move |seed| vary(seed, 0, variation),
    )
    .await;
    check_cancel(cancel)?;

    // Phase 3: heartbeats, as fast as the concurrency allows.
    let limit = config.heartbeat_limit.unwrap_or(u64::MAX);
    let deadline = Instant::now() + config.heartbeat_duration;
    let (heartbeat, _) = {
        let agents = agents.clone();
        let hb = Heartbeat {
            agent_version: Some(format!("loadgen/{}", env!("CARGO_PKG_VERSION"))),
        };
        run_phase(
            "heartbeat",
            limit,
            concurrency,
            Some(deadline),
            cancel,
            move |i| {
                let agent = agents[(i % agents.len() as u64) as usize].clone();
                let hb = hb.clone();
                async move {
                    let start = Instant::now();
                    let res = agent.client.heartbeat(&hb).await;
                    (start.elapsed(), res)
                }
            },
        )
        .await
    };
    check_cancel(cancel)?;

    // Phase 4: changed reports (the phase-2 changes plus new ones).
    let changes = config.changes_per_report;
    let (changed_inventory, acks2) = report_phase(
        "changed_inventory",
        &agents,
        &template,
        concurrency,
        cancel,
        move |seed| {
            let mut v = vary(seed, 0, variation);
            v.extend(vary(seed, 1, changes));
            v
        },
    )
    .await;
    check_cancel(cancel)?;
    acks.extend(acks2);

    Ok(LoadReport {
        schema: 1,
        agents: config.agents,
        enrolled: agents.len(),
        concurrency,
        packages_per_report: template.len(),
        enroll,
        inventory,
        heartbeat,
        changed_inventory,
        acks,
        verification: None,
    })
}

fn check_cancel(cancel: &CancellationToken) -> Result<(), LoadError> {
    if cancel.is_cancelled() {
        Err(LoadError::Cancelled)
    } else {
        Ok(())
    }
}

async fn enroll_one(
    base: &Client,
    admin: &Client,
    name: &str,
) -> Result<(i64, Client), ClientError> {
    let created = admin
        .create_token(&CreateToken {
            name: format!("{name} enrolment"),
            role: Role::Enroll,
            expires_in_secs: Some(3600),
            asset_id: None,
        })
        .await?;
    let mut asset = NewAsset::named(name);
    asset.tags = vec!["bench".to_string()];
    let resp = base
        .enroll(&created.token, &EnrollRequest { asset })
        .await?;
    Ok((resp.asset.id, base.with_token(&resp.token)))
}

/// Indices into the template to bump, and how: `(seed, stream)` picks `count` positions.
type Variation = Vec<(u64, u64, usize)>;

fn vary(seed: u64, stream: u64, count: usize) -> Variation {
    vec![(seed, stream, count)]
}

/// Which template rows a variation bumps, and how many times each.
fn bumps(len: usize, variation: &Variation) -> BTreeMap<usize, u32> {
    let mut out = BTreeMap::new();
    if len == 0 {
        return out;
    }
    for &(seed, stream, count) in variation {
        let mut rng =
            rand::rngs::StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ stream);
        for _ in 0..count {
            *out.entry(rng.gen_range(0..len)).or_insert(0) += 1;
        }
    }
    out
}

fn bumped(row: &PackageRow, times: u32) -> PackageRow {
    let mut r = row.clone();
    for _ in 0..times {
        r.version = bump_version(&r.version);
    }
    r.source_version = None;
    r.purl = None;
    r
}

#[cfg(test)]
fn apply_variation(template: &[PackageRow], variation: &Variation) -> Vec<PackageRow> {
    let mut rows = template.to_vec();
    for (i, n) in bumps(rows.len(), variation) {
        rows[i] = bumped(&rows[i], n);
    }
    rows
}

/// The template with each row's JSON made once: a report body is then a concatenation
/// (a memcpy of ~200 KB) instead of a serialization of 1,500 rows, which keeps the
/// generator's share of the machine small.
struct Template {
    rows: Vec<PackageRow>,
    json: Vec<Vec<u8>>,
}

impl Template {
    fn new(rows: Vec<PackageRow>) -> Template {
        let json = rows
            .iter()
            .map(|r| serde_json::to_vec(r).expect("a package row serializes"))
            .collect();
        Template { rows, json }
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    /// The JSON of an `InventoryReport` with the varied rows; the same bytes serde
    /// would write for it.
    fn body(&self, key: &str, variation: &Variation) -> Vec<u8> {
        let head = InventoryReport {
            idempotency_key: key.to_string(),
            collected_at: Ts::now(),
            sources: vec!["loadgen".to_string()],
            packages: Vec::new(),
        };
        let mut out = serde_json::to_vec(&head).expect("a report serializes");
        let bumps = bumps(self.len(), variation);
        if !out.ends_with(b"[]}") {
            // The field order changed (packages not last): serialize the slow way.
            let mut report = head;
            report.packages = self.rows.clone();
            for (i, n) in bumps {
                report.packages[i] = bumped(&report.packages[i], n);
            }
            return serde_json::to_vec(&report).expect("a report serializes");
        }
        out.truncate(out.len() - 2);
        out.reserve(self.json.iter().map(|j| j.len() + 1).sum::<usize>() + 2);
        for (i, row) in self.json.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match bumps.get(&i) {
                Some(&n) => out.extend(
                    serde_json::to_vec(&bumped(&self.rows[i], n)).expect("a row serializes"),
                ),
                None => out.extend_from_slice(row),
            }
        }
        out.extend_from_slice(b"]}");
        out
    }
}

async fn report_phase(
    name: &'static str,
    agents: &Arc<Vec<SimAgent>>,
    template: &Arc<Template>,
    concurrency: usize,
    cancel: &CancellationToken,
    variation: impl Fn(u64) -> Variation + Send + Sync + 'static,
) -> (PhaseStats, Vec<AckRecord>) {
    let (agents, template) = (agents.clone(), template.clone());
    let variation = Arc::new(variation);
    let n = agents.len() as u64;
    run_phase(name, n, concurrency, None, cancel, move |i| {
        let agent = agents[i as usize].clone();
        let template = template.clone();
        let variation = variation.clone();
        async move {
            let key = new_idempotency_key();
            let body = template.body(&key, &variation(agent.index as u64));
            let start = Instant::now();
            let res = agent.client.report_inventory_raw(&key, body).await;
            (
                start.elapsed(),
                res.map(|ack| AckRecord {
                    asset_id: agent.asset_id,
                    snapshot_id: ack.snapshot_id,
                    idempotency_key: key,
                    phase: name,
                }),
            )
        }
    })
    .await
}

/// Run `count` operations (`op(0..count)`) on `concurrency` tasks, until done, the
/// deadline or cancellation; gather timings and successful outputs.
async fn run_phase<T, F, Fut>(
    name: &str,
    count: u64,
    concurrency: usize,
    deadline: Option<Instant>,
    cancel: &CancellationToken,
    op: F,
) -> (PhaseStats, Vec<T>)
where
    T: Send + 'static,
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = (Duration, Result<T, ClientError>)> + Send + 'static,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency
        .min(count.try_into().unwrap_or(usize::MAX))
        .max(1)
    {
        let (op, next, cancel) = (op.clone(), next.clone(), cancel.clone());
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut outs = Vec::new();
            let mut errs: Vec<String> = Vec::new();
            loop {
                if cancel.is_cancelled() || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let (took, res) = op(i).await;
                times.push(took.as_micros().min(u64::MAX as u128) as u64);
                match res {
                    Ok(t) => outs.push(t),
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        if errs.len() < 5 {
                            errs.push(e.to_string());
                        }
                    }
                }
            }
            (times, outs, errs)
        }));
    }
    let mut times = Vec::new();
    let mut outs = Vec::new();
    let mut examples: Vec<String> = Vec::new();
    for t in tasks {
        if let Ok((tm, o, e)) = t.await {
            times.extend(tm);
            outs.extend(o);
            for msg in e {
                if examples.len() < 5 && !examples.contains(&msg) {
                    examples.push(msg);
                }
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let errors = errors.load(Ordering::Relaxed) as u64;
    (
        summarize(name, times, outs.len() as u64, errors, seconds, examples),
        outs,
    )
}

fn summarize(
    name: &str,
    mut micros: Vec<u64>,
    ok: u64,
    errors: u64,
    seconds: f64,
    examples: Vec<String>,
) -> PhaseStats {
    micros.sort_unstable();
    let ms = |q: f64| percentile(&micros, q) as f64 / 1000.0;
    PhaseStats {
        name: name.to_string(),
        operations: micros.len() as u64,
        ok,
        errors,
        seconds,
        per_second: if seconds > 0.0 {
            ok as f64 / seconds
        } else {
            0.0
        },
        p50_ms: ms(0.50),
        p99_ms: ms(0.99),
        max_ms: micros.last().copied().unwrap_or(0) as f64 / 1000.0,
        error_examples: examples,
    }
}

/// Nearest-rank percentile of sorted values (0 for none).
pub fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A later version of the same shape: the last run of digits incremented
/// (`2.36-9+deb12u4` → `2.36-9+deb12u5`, `1.2.9` → `1.2.10`); `.1` appended when there is
/// no digit. Valid in every version scheme the server matches, and ordered after `v`.
pub fn bump_version(v: &str) -> String {
    let bytes = v.as_bytes();
    let Some(end) = bytes.iter().rposition(u8::is_ascii_digit) else {
        return format!("{v}.1");
    };
    let start = bytes[..end]
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |p| p + 1);
    let digits = &v[start..=end];
    let bumped = match digits.parse::<u64>() {
        Ok(n) if n < u64::MAX => (n + 1).to_string(),
        _ => format!("{digits}1"),
    };
    format!("{}{}{}", &v[..start], bumped, &v[end + 1..])
}

/// Make a template exactly `n` packages long: the real list first (sorted), then, when it
/// is shorter, copies with `-lg<k>` appended to the name (they look like more packages of
/// the same ecosystems and versions, and match nothing). An empty list is an error.
pub fn expand_template(real: &[PackageRow], n: usize) -> Result<Vec<PackageRow>, LoadError> {
    if real.is_empty() {
        return Err(LoadError::Config(
            "the package template is empty: give a real package list (dpkg status, SBOM, lockfile)"
                .into(),
        ));
    }
    let mut base = real.to_vec();
    base.sort();
    base.dedup();
    let mut out: Vec<PackageRow> = base.iter().take(n).cloned().collect();
    let mut k = 1;
    while out.len() < n {
        for row in &base {
            if out.len() == n {
                break;
            }
            let mut r = row.clone();
            r.name = format!("{}-lg{k}", r.name);
            r.source_name = r.source_name.map(|s| format!("{s}-lg{k}"));
            r.purl = None;
            out.push(r);
        }
        k += 1;
    }
    Ok(out)
}

/// Check "nothing lost" through the API as admin: every acknowledged snapshot is in its
/// asset's snapshot list, and each asset's current snapshot is its last acknowledged one.
pub async fn verify(admin: &Client, acks: &[AckRecord], concurrency: usize) -> Verification {
    use std::collections::BTreeMap;
    let mut by_asset: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for a in acks {
        by_asset.entry(a.asset_id).or_default().push(a.snapshot_id);
    }
    let assets: Arc<Vec<(i64, Vec<i64>)>> = Arc::new(by_asset.into_iter().collect());
    let n = assets.len() as u64;
    let admin = admin.clone();
    let never = CancellationToken::new();
    let (_, results) = run_phase("verify", n, concurrency.max(1), None, &never, move |i| {
        let (admin, assets) = (admin.clone(), assets.clone());
        async move {
            let (asset_id, snaps) = &assets[i as usize];
            let res = check_asset(&admin, *asset_id, snaps).await;
            (
                Duration::ZERO,
                Ok::<_, ClientError>((*asset_id, snaps.len() as u64, res)),
            )
        }
    })
    .await;
    let mut v = Verification::default();
    for (asset_id, count, res) in results {
        v.assets_checked += 1;
        v.acks_checked += count;
        match res {
            Ok((missing, current_ok, example)) => {
                v.missing += missing;
                if !current_ok {
                    v.current_mismatch += 1;
                }
                if let Some(ex) = example {
                    if v.examples.len() < 10 {
                        v.examples.push(ex);
                    }
                }
            }
            Err(e) => {
                v.errors += 1;
                if v.examples.len() < 10 {
                    v.examples.push(format!("asset {asset_id}: {e}"));
                }
            }
        }
    }
    v
}

/// (missing acknowledged snapshots, current snapshot is the last acked, an example).
async fn check_asset(
    admin: &Client,
    asset_id: i64,
    acked: &[i64],
) -> Result<(u64, bool, Option<String>), ClientError> {
    let listed = admin.list_snapshots(asset_id).await?;
    let asset = admin.get_asset(asset_id).await?;
    let missing: Vec<i64> = acked
        .iter()
        .copied()
        .filter(|s| !listed.iter().any(|l| l.id == *s))
        .collect();
    let last = acked.iter().copied().max();
    let current_ok = asset.current_snapshot == last;
    let example = if !missing.is_empty() {
        Some(format!(
            "asset {asset_id}: acknowledged snapshot(s) {missing:?} not stored"
        ))
    } else if !current_ok {
        Some(format!(
            "asset {asset_id}: current snapshot {:?}, last acknowledged {last:?}",
            asset.current_snapshot
        ))
    } else {
        None
    };
    Ok((missing.len() as u64, current_ok, example))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, version: &str) -> PackageRow {
        PackageRow {
            ecosystem: "Debian".into(),
            name: name.into(),
            version: version.into(),
            release: Some("12".into()),
            source_name: None,
            source_version: None,
            purl: None,
        }
    }

    #[test]
    fn bump_version_increments_the_last_number() {
        for (v, want) in [
            ("1.2.9", "1.2.10"),
            ("2.36-9+deb12u4", "2.36-9+deb12u5"),
            ("1:2.3-1", "1:2.3-2"),
            ("1.0.0-rc", "1.0.1-rc"),
            ("abc", "abc.1"),
            ("", ".1"),
            ("99999999999999999999", "999999999999999999991"),
        ] {
            assert_eq!(bump_version(v), want, "{v}");
        }
    }

    #[test]
    fn percentile_is_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), 50);
        assert_eq!(percentile(&v, 0.99), 99);
        assert_eq!(percentile(&v, 1.0), 100);
        assert_eq!(percentile(&v, 0.0), 1);
        assert_eq!(percentile(&[], 0.5), 0);
        assert_eq!(percentile(&[7], 0.99), 7);
    }

    #[test]
    fn template_is_padded_to_size_with_distinct_rows() {
        let t = expand_template(&[row("a", "1"), row("b", "2")], 5).unwrap();
        assert_eq!(t.len(), 5);
        let mut names: Vec<_> = t.iter().map(|r| r.name.clone()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 5);
        assert_eq!(
            expand_template(&[row("a", "1"), row("b", "2")], 1)
                .unwrap()
                .len(),
            1
        );
        assert!(expand_template(&[], 10).is_err());
    }

    #[test]
    fn variation_is_deterministic_per_agent_and_differs_between_agents() {
        let t: Vec<PackageRow> = (0..100).map(|i| row(&format!("p{i}"), "1.0")).collect();
        let a1 = apply_variation(&t, &vary(1, 0, 3));
        assert_eq!(a1, apply_variation(&t, &vary(1, 0, 3)));
        assert_ne!(a1, apply_variation(&t, &vary(2, 0, 3)));
        assert_ne!(a1, t);
        let mut changed = vary(1, 0, 3);
        changed.extend(vary(1, 1, 5));
        assert_ne!(apply_variation(&t, &changed), a1);
    }

    #[test]
    fn fast_bodies_are_the_reports_serde_would_write() {
        let mut t: Vec<PackageRow> = (0..50).map(|i| row(&format!("p{i}"), "1.0-1")).collect();
        t[3].purl = Some("pkg:deb/debian/p3@1.0-1".into());
        t[4].source_name = Some("src \"quoted\"".into());
        let tpl = Template::new(t.clone());
        for v in [vary(1, 0, 0), vary(7, 0, 3), {
            let mut v = vary(7, 0, 3);
            v.extend(vary(7, 1, 40));
            v
        }] {
            let body = tpl.body("k1", &v);
            let parsed: InventoryReport = serde_json::from_slice(&body).unwrap();
            assert_eq!(parsed.idempotency_key, "k1");
            assert_eq!(parsed.sources, ["loadgen"]);
            assert_eq!(parsed.packages, apply_variation(&t, &v));
        }
    }
}
