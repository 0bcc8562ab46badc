//! The agent loop: enrol once, then three concurrent duties until shutdown.
//!
//! - **Heartbeat** every `heartbeat_every`. After a failure it retries on the backoff
//!   (capped at the interval), and the first success after a failure announces a
//!   *reconnect*, which makes the inventory duty drain the offline queue at once.
//! - **Inventory**: collect at start and every `collect_every`; queue a report when the
//!   content hash changed, or when `report_every` passed since the last one, and always at
//!   start. Every report goes through the on-disk [`Queue`] and is drained from it, one
//!   pass at a time, with backoff between failed passes. A drain pass never blocks the
//!   other branches for long: collection, rescans and shutdown are served between passes.
//! - **Jobs**: long-poll `GET /api/v1/agent/jobs?wait=…`. Only `rescan` runs for now (the
//!   inventory duty collects and reports at once, changed or not, and the job's output is
//!   the server's acknowledgement); any other kind is finished as failed with a message
//!   saying so, so an operator's job never hangs in `claimed`.
//!
//! The three run as one future (`try_join!`), so a fatal error in one (the server refused
//! the credential: 401/403) drops the others and [`Agent::run`] returns it. Shutdown is a
//! [`CancellationToken`]: every wait selects on it, and in-flight requests are dropped. A
//! report is either queued (durably) or not, so nothing is lost by stopping anywhere.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use patchpilot_api::{Heartbeat, Job, JobResult, NewAsset};
use serde_json::json;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::backoff::{human, Backoff, Retry};
use crate::client::{Client, ClientConfig, ClientError};
use crate::collect::{collect, CollectConfig, CollectError, Collected};
use crate::credential::{ensure_enrolled, Credential, CredentialError};
use crate::queue::{new_idempotency_key, Queue, QueueError, DEFAULT_MAX_ENTRIES};
use crate::secret::Secret;

/// Everything the agent loop needs. [`AgentConfig::new`] fills in the defaults.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Server URL, CA to pin, timeouts.
    pub client: ClientConfig,
    /// Holds `credential.json` and the `queue/` directory.
    pub state_dir: PathBuf,
    /// The one-time enrolment token; needed only when no credential exists yet.
    pub enroll_token: Option<Secret>,
    /// How the asset is described at enrolment.
    pub asset: NewAsset,
    pub collect: CollectConfig,
    /// Default 30 s.
    pub heartbeat_every: Duration,
    /// How often to re-collect and compare (default 5 min).
    pub collect_every: Duration,
    /// Report at least this often even when nothing changed (default 1 h).
    pub report_every: Duration,
    /// Long-poll wait (default 30 s; the server caps it at 60 s).
    pub job_wait: Duration,
    /// Bound of the offline queue (default [`DEFAULT_MAX_ENTRIES`]).
    pub queue_max_entries: usize,
    /// Retry timing for enrolment, queue drains, heartbeats and job polls.
    pub backoff: Backoff,
}

impl AgentConfig {
    /// Defaults for everything but where to connect, where to keep state and what to
    /// call the asset. OS packages are read from `/`.
    pub fn new(server: impl Into<String>, state_dir: impl Into<PathBuf>, asset: NewAsset) -> Self {
        AgentConfig {
            client: ClientConfig::new(server),
            state_dir: state_dir.into(),
            enroll_token: None,
            asset,
            collect: CollectConfig {
                host_root: Some(PathBuf::from("/")),
                paths: Vec::new(),
            },
            heartbeat_every: Duration::from_secs(30),
            collect_every: Duration::from_secs(300),
            report_every: Duration::from_secs(3600),
            job_wait: Duration::from_secs(30),
            queue_max_entries: DEFAULT_MAX_ENTRIES,
            backoff: Backoff::default(),
        }
    }

    /// `<state_dir>/credential.json`.
    pub fn credential_path(&self) -> PathBuf {
        self.state_dir.join("credential.json")
    }

    /// `<state_dir>/queue`.
    pub fn queue_dir(&self) -> PathBuf {
        self.state_dir.join("queue")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(transparent)]
    Client(ClientError),
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The first collection failed: a configuration problem to fix before running.
    #[error(transparent)]
    Collect(#[from] CollectError),
    /// 401/403 from the server: the credential is revoked or unknown. Re-enrol (delete
    /// the credential file and run with a new enrolment token).
    #[error(
        "the server refused this agent's credential ({0}); re-enrol with a new enrolment token"
    )]
    Unauthorized(#[source] ClientError),
}

/// The agent.
pub struct Agent;

type RescanReply = oneshot::Sender<Result<serde_json::Value, String>>;

impl Agent {
    /// Enrol if needed, then heartbeat, report inventory and run jobs until `shutdown` is
    /// cancelled (then `Ok`) or the server refuses the credential.
    pub async fn run(config: AgentConfig, shutdown: CancellationToken) -> Result<(), AgentError> {
        let base = Client::new(&config.client).map_err(AgentError::Client)?;
        let Some(cred) = enroll_with_retry(&base, &config, &shutdown).await? else {
            return Ok(());
        };
        let client = base.with_token(&cred.token);
        let queue = Queue::open(&config.queue_dir(), config.queue_max_entries)?;

        // The first collection runs before anything else, so a bad path fails fast.
        let first = collect_blocking(config.collect.clone()).await?;
        tracing::info!(
            "agent started for asset {} ({}): {} packages collected",
            cred.asset_id,
            cred.asset_name,
            first.packages.len()
        );

        let reconnect = Arc::new(Notify::new());
        let (rescan_tx, rescan_rx) = mpsc::channel::<RescanReply>(8);
        let inventory = InventoryDuty {
            client: client.clone(),
            queue,
            config: &config,
            reconnect: reconnect.clone(),
            rescans: rescan_rx,
            waiting: Vec::new(),
            cancel: &shutdown,
        };
        tokio::try_join!(
            heartbeat_duty(&client, &config, &reconnect, &shutdown),
            inventory.run(first),
            jobs_duty(&client, &config, rescan_tx, &shutdown),
        )?;
        Ok(())
    }
}

/// Load the credential or enrol, retrying while the server is unreachable. `None` when
/// cancelled first.
async fn enroll_with_retry(
    client: &Client,
    config: &AgentConfig,
    cancel: &CancellationToken,
) -> Result<Option<Credential>, AgentError> {
    let path = config.credential_path();
    let mut retry = Retry::new(config.backoff);
    loop {
        let attempt = ensure_enrolled(
            client,
            &path,
            config.enroll_token.as_ref().map(Secret::expose),
            &config.asset,
        );
        let res = tokio::select! {
            _ = cancel.cancelled() => return Ok(None),
            r = attempt => r,
        };
        match res {
            Ok(c) => return Ok(Some(c)),
            Err(CredentialError::Enroll(e)) if e.is_retryable() => {
                let wait = retry.failed();
                tracing::warn!("cannot enrol yet: {e}; retrying in {}", human(wait));
                if !sleep_or_cancel(wait, cancel).await {
                    return Ok(None);
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Sleep; false when cancelled first.
async fn sleep_or_cancel(d: Duration, cancel: &CancellationToken) -> bool {
    tokio::select! {
        _ = cancel.cancelled() => false,
        _ = tokio::time::sleep(d) => true,
    }
}

async fn collect_blocking(config: CollectConfig) -> Result<Collected, CollectError> {
    match tokio::task::spawn_blocking(move || collect(&config)).await {
        Ok(r) => r,
        // The collector panicked: a bug, but the agent should live on and say so.
        Err(e) => Err(CollectError::Panicked(e.to_string())),
    }
}

async fn heartbeat_duty(
    client: &Client,
    config: &AgentConfig,
    reconnect: &Notify,
    cancel: &CancellationToken,
) -> Result<(), AgentError> {
    let hb = Heartbeat {
        agent_version: Some(env!("CARGO_PKG_VERSION").to_string()),
    };
    let mut retry = Retry::new(config.backoff);
    loop {
        let res = tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            r = client.heartbeat(&hb) => r,
        };
        let wait = match res {
            Ok(()) => {
                if retry.failures() > 0 {
                    tracing::info!("server reachable again");
                    reconnect.notify_one();
                }
                retry.succeeded();
                config.heartbeat_every
            }
            Err(e) if e.is_auth() => return Err(AgentError::Unauthorized(e)),
            Err(e) => {
                let wait = retry.failed().min(config.heartbeat_every);
                tracing::warn!("heartbeat failed: {e}; retrying in {}", human(wait));
                wait
            }
        };
        if !sleep_or_cancel(wait, cancel).await {
            return Ok(());
        }
    }
}

struct InventoryDuty<'a> {
    client: Client,
    queue: Queue,
    config: &'a AgentConfig,
    reconnect: Arc<Notify>,
    rescans: mpsc::Receiver<RescanReply>,
    /// Rescan jobs waiting for their report's acknowledgement, by idempotency key.
    waiting: Vec<(String, RescanReply)>,
    cancel: &'a CancellationToken,
}

impl InventoryDuty<'_> {
    async fn run(mut self, first: Collected) -> Result<(), AgentError> {
        let cfg = self.config;
        let mut last_hash = first.content_hash.clone();
        // Drain whatever an earlier run left queued, then this start's report.
        self.enqueue(&first)?;
        let mut last_report = Instant::now();
        let mut next_collect = Instant::now() + cfg.collect_every;
        let mut next_drain: Option<Instant> = Some(Instant::now());
        let mut retry = Retry::new(cfg.backoff);
        let far = Duration::from_secs(86400 * 365);

        loop {
            let drain_at = next_drain.unwrap_or_else(|| Instant::now() + far);
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => return Ok(()),
                Some(reply) = self.rescans.recv() => {
                    match collect_blocking(cfg.collect.clone()).await {
                        Ok(c) => {
                            let key = self.enqueue(&c)?;
                            last_hash = c.content_hash;
                            last_report = Instant::now();
                            self.waiting.push((key, reply));
                            next_drain = Some(Instant::now());
                        }
                        Err(e) => {
                            let _ = reply.send(Err(e.to_string()));
                        }
                    }
                }
                _ = self.reconnect.notified() => {
                    retry.succeeded();
                    if !self.queue.is_empty()? {
                        next_drain = Some(Instant::now());
                    }
                }
                _ = tokio::time::sleep_until(next_collect) => {
                    next_collect = Instant::now() + cfg.collect_every;
                    match collect_blocking(cfg.collect.clone()).await {
                        Ok(c) => {
                            let changed = c.content_hash != last_hash;
                            if changed || last_report.elapsed() >= cfg.report_every {
                                tracing::info!(changed, packages = c.packages.len(), "reporting inventory");
                                self.enqueue(&c)?;
                                last_hash = c.content_hash;
                                last_report = Instant::now();
                                next_drain = Some(Instant::now());
                            }
                        }
                        Err(e) => tracing::error!("inventory collection failed; the last report stands: {e}"),
                    }
                }
                _ = tokio::time::sleep_until(drain_at), if next_drain.is_some() => {
                    let pass = tokio::select! {
                        _ = self.cancel.cancelled() => return Ok(()),
                        p = self.queue.drain_once(&self.client) => p?,
                    };
                    for d in &pass.delivered {
                        log_delivered(d);
                        self.answer(&d.key, Ok(json!({
                            "snapshot_id": d.ack.snapshot_id,
                            "duplicate": d.ack.duplicate,
                            "added": d.ack.added,
                            "removed": d.ack.removed,
                            "findings_opened": d.ack.findings_opened,
                            "findings_fixed": d.ack.findings_fixed,
                        })));
                    }
                    for (e, why) in &pass.rejected {
                        self.answer(&e.key, Err(format!("the server rejected the report: {why}")));
                    }
                    match pass.error {
                        None => {
                            retry.succeeded();
                            next_drain = None;
                        }
                        Some(e) if e.is_auth() => return Err(AgentError::Unauthorized(e)),
                        Some(e) => {
                            let wait = retry.failed();
                            tracing::warn!("cannot deliver inventory ({} queued): {e}; retrying in {}", pass.remaining, human(wait));
                            next_drain = Some(Instant::now() + wait);
                            // A rescan job is answered now rather than held for an outage;
                            // its report stays queued and is delivered later.
                            for (_, reply) in self.waiting.drain(..) {
                                let _ = reply.send(Err(format!("report queued but not delivered yet: {e}")));
                            }
                        }
                    }
                }
            }
        }
    }

    /// Queue a report for `c`; answer rescans whose reports were coalesced away.
    fn enqueue(&mut self, c: &Collected) -> Result<String, QueueError> {
        let key = new_idempotency_key();
        let pushed = self.queue.push(&c.to_report(key.clone()))?;
        for d in pushed.dropped {
            self.answer(
                &d.key,
                Err("the report was replaced by a newer one before it was delivered".into()),
            );
        }
        Ok(key)
    }

    /// Answer the rescan job waiting for `key`, if any.
    fn answer(&mut self, key: &str, result: Result<serde_json::Value, String>) {
        if let Some(i) = self.waiting.iter().position(|(k, _)| k == key) {
            let (_, reply) = self.waiting.swap_remove(i);
            let _ = reply.send(result);
        }
    }
}

async fn jobs_duty(
    client: &Client,
    config: &AgentConfig,
    rescans: mpsc::Sender<RescanReply>,
    cancel: &CancellationToken,
) -> Result<(), AgentError> {
    // An empty answer faster than this (a server that ignores `wait`, or a zero wait)
    // is followed by a pause, so the loop never spins.
    const MIN_POLL: Duration = Duration::from_secs(1);
    let mut retry = Retry::new(config.backoff);
    loop {
        let started = Instant::now();
        let res = tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            r = client.poll_jobs(config.job_wait) => r,
        };
        match res {
            Ok(jobs) if jobs.is_empty() => {
                retry.succeeded();
                let elapsed = started.elapsed();
                if elapsed < MIN_POLL && !sleep_or_cancel(MIN_POLL - elapsed, cancel).await {
                    return Ok(());
                }
            }
            Ok(jobs) => {
                retry.succeeded();
                for job in jobs {
                    let Some(result) = run_job(&job, &rescans, cancel).await else {
                        return Ok(());
                    };
                    finish(client, config, &job, &result, cancel).await?;
                }
            }
            Err(e) if e.is_auth() => return Err(AgentError::Unauthorized(e)),
            Err(e) => {
                // Any other error, 4xx included (an older server without the route),
                // backs off: a poll loop must never spin.
                let wait = retry.failed();
                tracing::warn!("job poll failed: {e}; retrying in {}", human(wait));
                if !sleep_or_cancel(wait, cancel).await {
                    return Ok(());
                }
            }
        }
    }
}

/// One line per report the server acknowledged: what it now holds for the asset.
fn log_delivered(d: &crate::queue::Delivered) {
    let a = &d.ack;
    let note = if a.duplicate {
        " (already applied)"
    } else if a.unchanged {
        " (unchanged)"
    } else {
        ""
    };
    tracing::info!(
        "reported {} packages: snapshot {}, +{} -{}, findings opened {}, fixed {}{note}",
        d.packages,
        a.snapshot_id,
        a.added,
        a.removed,
        a.findings_opened,
        a.findings_fixed
    );
}

/// The job kinds this agent runs.
pub const SUPPORTED_JOB_KINDS: &[&str] = &["rescan"];

/// Run one job; `None` when cancelled first.
async fn run_job(
    job: &Job,
    rescans: &mpsc::Sender<RescanReply>,
    cancel: &CancellationToken,
) -> Option<JobResult> {
    tracing::info!("job {} ({}) claimed", job.id, job.kind);
    let outcome = match job.kind.as_str() {
        "rescan" => {
            let (tx, rx) = oneshot::channel();
            if rescans.send(tx).await.is_err() {
                Err("the inventory duty has stopped".to_string())
            } else {
                tokio::select! {
                    _ = cancel.cancelled() => return None,
                    r = rx => r.unwrap_or_else(|_| Err("the inventory duty has stopped".to_string())),
                }
            }
        }
        other => Err(format!(
            "unsupported job kind {other:?}: this agent runs only {SUPPORTED_JOB_KINDS:?} jobs"
        )),
    };
    Some(match outcome {
        Ok(output) => JobResult {
            success: true,
            output,
        },
        Err(error) => JobResult {
            success: false,
            output: json!({ "error": error }),
        },
    })
}

/// Report a job's result, retrying transient failures a few times. A job whose result
/// cannot be delivered is left to the server's lease expiry.
async fn finish(
    client: &Client,
    config: &AgentConfig,
    job: &Job,
    result: &JobResult,
    cancel: &CancellationToken,
) -> Result<(), AgentError> {
    const ATTEMPTS: u32 = 5;
    let mut retry = Retry::new(config.backoff);
    for attempt in 1..=ATTEMPTS {
        let res = tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            r = client.finish_job(job.id, result) => r,
        };
        match res {
            Ok(()) => {
                let outcome = if result.success {
                    "succeeded"
                } else {
                    "failed"
                };
                tracing::info!("job {} ({}) finished: {outcome}", job.id, job.kind);
                return Ok(());
            }
            Err(e) if e.is_auth() => return Err(AgentError::Unauthorized(e)),
            Err(e) if e.is_retryable() && attempt < ATTEMPTS => {
                if !sleep_or_cancel(retry.failed(), cancel).await {
                    return Ok(());
                }
            }
            Err(e) => {
                tracing::error!(job_id = job.id, "cannot report the job's result: {e}");
                return Ok(());
            }
        }
    }
    Ok(())
}
