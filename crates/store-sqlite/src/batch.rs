//! Group commit for inventories and heartbeats.
//!
//! SQLite has one writer, and each commit writes every dirty page whole to the WAL (and
//! later once more at the checkpoint). One writer task applies every report waiting at
//! that moment in a single transaction (each inside its own `SAVEPOINT`, with its own
//! audit record and outcome), so reports in one batch share the pages of the findings
//! indexes and one commit. Under light load a batch is one report and nothing waits
//! longer than before. Callers are answered only after the commit; a caller that goes
//! away does not cancel the batch (the task owns it). Heartbeats ride in the same queue:
//! thousands a second become a few transactions instead of thousands of commits
//! competing for the one writer.
//!
//! A report writes its snapshot (the package list deflated, once per distinct content),
//! its finding changes and its audit record; the current package set *is* the current
//! snapshot's list, so there are no per-package rows to maintain.

use super::*;
use tokio::sync::{mpsc, oneshot};

/// Most requests per transaction.
const MAX_BATCH: usize = 512;
/// Stop adding reports once this many rows (finding changes, plus a fixed cost per
/// report) are to be written, to bound how long the one writer is held (everything else
/// waits behind it).
const MAX_BATCH_ROWS: usize = 4_000;

/// An inventory change with everything computed that needs no database.
pub(crate) struct Prepared {
    change: InventoryChange,
    actor: Actor,
    /// The package list, deflated (see `blob`).
    body: Vec<u8>,
    body_hash: String,
}

impl Prepared {
    pub(crate) fn new(change: InventoryChange, actor: Actor) -> Prepared {
        let json = codec::encode_packages(&change.packages);
        let body_hash = codec::blob_hash(&json);
        let body = blob::deflate(&json);
        Prepared {
            change,
            actor,
            body,
            body_hash,
        }
    }
}

enum Request {
    Inventory(Box<Prepared>, oneshot::Sender<Result<ApplyOutcome>>),
    Heartbeat(i64, Ts, oneshot::Sender<Result<bool>>),
}

impl Request {
    fn rows(&self) -> usize {
        match self {
            Request::Inventory(p, _) => p.change.open.len() + p.change.fix.len() + 20,
            Request::Heartbeat(..) => 0,
        }
    }
}

/// Two queues into one writer task: heartbeats go first, in their own short
/// transaction, so one never waits behind more than one batch of inventories.
#[derive(Debug, Clone)]
pub(crate) struct Batcher {
    beats: mpsc::Sender<Request>,
    inventories: mpsc::Sender<Request>,
}

impl Batcher {
    /// Start the writer task; it ends when the last store clone is dropped.
    pub(crate) fn start(pool: SqlitePool) -> Batcher {
        let (beats, beats_rx) = mpsc::channel(8192);
        let (inventories, inventories_rx) = mpsc::channel(1024);
        tokio::spawn(run(pool, beats_rx, inventories_rx));
        Batcher { beats, inventories }
    }

    pub(crate) async fn apply(&self, p: Prepared) -> Result<ApplyOutcome> {
        let (tx, rx) = oneshot::channel();
        self.send(Request::Inventory(Box::new(p), tx)).await?;
        rx.await.map_err(|_| stopped())?
    }

    pub(crate) async fn heartbeat(&self, asset_id: i64, now: Ts) -> Result<bool> {
        let (tx, rx) = oneshot::channel();
        self.send(Request::Heartbeat(asset_id, now, tx)).await?;
        rx.await.map_err(|_| stopped())?
    }

    async fn send(&self, r: Request) -> Result<()> {
        let q = match r {
            Request::Heartbeat(..) => &self.beats,
            Request::Inventory(..) => &self.inventories,
        };
        q.send(r)
            .await
            .map_err(|_| Error::Backend("the store is closed".into()))
    }
}

fn stopped() -> Error {
    Error::Backend("the SQLite writer stopped".into())
}

async fn run(
    pool: SqlitePool,
    mut beats: mpsc::Receiver<Request>,
    mut inventories: mpsc::Receiver<Request>,
) {
    let mut pending: Option<Request> = None;
    loop {
        if pending.is_none() {
            // Idle: wait for anything.
            pending = tokio::select! {
                biased;
                Some(r) = beats.recv() => Some(r),
                Some(r) = inventories.recv() => Some(r),
                else => return,
            };
        }
        // Every heartbeat waiting now, in one transaction.
        let mut batch: Vec<Request> = Vec::new();
        if let Some(r @ Request::Heartbeat(..)) =
            pending.take_if(|r| matches!(r, Request::Heartbeat(..)))
        {
            batch.push(r);
        }
        while batch.len() < MAX_BATCH {
            match beats.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            apply_batch(&pool, std::mem::take(&mut batch)).await;
        }
        // Then the inventories waiting now, up to the row budget.
        let mut rows = 0;
        if let Some(r) = pending.take() {
            rows += r.rows();
            batch.push(r);
        }
        while batch.len() < MAX_BATCH && rows < MAX_BATCH_ROWS {
            match inventories.try_recv() {
                Ok(r) => {
                    rows += r.rows();
                    batch.push(r);
                }
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            apply_batch(&pool, batch).await;
        }
    }
}

/// Run a batch in one transaction and answer every request (after the commit).
async fn apply_batch(pool: &SqlitePool, batch: Vec<Request>) {
    let mut results: Vec<Result<Answer>> = Vec::with_capacity(batch.len());
    match run_batch(pool, &batch, &mut results).await {
        Ok(()) => {}
        Err(e) => {
            // Nothing in the batch was written: every request that would have written
            // fails; outcomes that wrote nothing anyway (duplicate, stale, errors) stand.
            for r in results.iter_mut() {
                if matches!(
                    r,
                    Ok(Answer::Applied(ApplyOutcome::Applied { .. })) | Ok(Answer::Beat(true))
                ) {
                    *r = Err(Error::Backend(e.to_string()));
                }
            }
            results.resize_with(batch.len(), || Err(Error::Backend(e.to_string())));
        }
    }
    for (req, result) in batch.into_iter().zip(results) {
        // A caller that went away no longer needs its answer.
        match (req, result) {
            (Request::Inventory(_, tx), Ok(Answer::Applied(o))) => {
                let _ = tx.send(Ok(o));
            }
            (Request::Heartbeat(_, _, tx), Ok(Answer::Beat(b))) => {
                let _ = tx.send(Ok(b));
            }
            (Request::Inventory(_, tx), Err(e)) => {
                let _ = tx.send(Err(e));
            }
            (Request::Heartbeat(_, _, tx), Err(e)) => {
                let _ = tx.send(Err(e));
            }
            // run_batch answers each request with its own kind.
            (Request::Inventory(..), Ok(Answer::Beat(_)))
            | (Request::Heartbeat(..), Ok(Answer::Applied(_))) => {}
        }
    }
}

enum Answer {
    Applied(ApplyOutcome),
    Beat(bool),
}

async fn run_batch(
    pool: &SqlitePool,
    batch: &[Request],
    results: &mut Vec<Result<Answer>>,
) -> Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db)?;
    for req in batch {
        match req {
            Request::Heartbeat(asset_id, now, _) => {
                let r = sqlx::query(
                    "UPDATE assets SET last_seen = max(coalesce(last_seen, $1), $1) WHERE id = $2",
                )
                .bind(now.0)
                .bind(*asset_id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                results.push(Ok(Answer::Beat(r.rows_affected() == 1)));
            }
            Request::Inventory(p, _) => {
                sqlx::query("SAVEPOINT inventory")
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                let r = apply_one(&mut tx, p).await;
                let end = if r.is_ok() {
                    "RELEASE inventory"
                } else {
                    "ROLLBACK TO inventory; RELEASE inventory"
                };
                sqlx::query(end).execute(&mut *tx).await.map_err(db)?;
                results.push(r.map(Answer::Applied));
            }
        }
    }
    tx.commit().await.map_err(db)
}

/// Apply one change inside the batch's transaction (under its savepoint).
async fn apply_one(c: &mut SqliteConnection, p: &Prepared) -> Result<ApplyOutcome> {
    let change = &p.change;
    let dup: Option<i64> =
        sqlx::query_scalar("SELECT id FROM snapshots WHERE asset_id = $1 AND idempotency_key = $2")
            .bind(change.asset_id)
            .bind(change.idempotency_key.as_str())
            .fetch_optional(&mut *c)
            .await
            .map_err(db)?;
    if let Some(snapshot_id) = dup {
        return Ok(ApplyOutcome::Duplicate { snapshot_id });
    }
    let current: Option<Option<i64>> =
        sqlx::query_scalar("SELECT current_snapshot FROM assets WHERE id = $1")
            .bind(change.asset_id)
            .fetch_optional(&mut *c)
            .await
            .map_err(db)?;
    let Some(current) = current else {
        return Err(Error::NotFound(format!("asset {}", change.asset_id)));
    };
    if current != change.expected_previous {
        return Ok(ApplyOutcome::Stale { current });
    }

    let blob_id: Option<i64> = sqlx::query_scalar("SELECT id FROM blobs WHERE hash = $1")
        .bind(p.body_hash.as_str())
        .fetch_optional(&mut *c)
        .await
        .map_err(db)?;
    let blob_id = match blob_id {
        Some(id) => id,
        None => sqlx::query_scalar("INSERT INTO blobs (hash, body) VALUES ($1, $2) RETURNING id")
            .bind(p.body_hash.as_str())
            .bind(p.body.as_slice())
            .fetch_one(&mut *c)
            .await
            .map_err(db)?,
    };
    let snapshot_id: i64 = sqlx::query_scalar(
        "INSERT INTO snapshots (asset_id, idempotency_key, collected_at, received_at, source, \
         content_hash, package_count, blob_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         RETURNING id",
    )
    .bind(change.asset_id)
    .bind(change.idempotency_key.as_str())
    .bind(change.collected_at.0)
    .bind(change.received_at.0)
    .bind(change.source.as_str())
    .bind(change.content_hash.as_str())
    .bind(change.packages.len() as i64)
    .bind(blob_id)
    .fetch_one(&mut *c)
    .await
    .map_err(db)?;

    let fixed = fix_findings(c, &change.fix, Some(change.asset_id), change.received_at).await?;
    let opened = open_findings(c, &change.open, change.received_at).await?;
    sqlx::query(
        "UPDATE assets SET current_snapshot = $1, \
         last_seen = max(coalesce(last_seen, $2), $2) WHERE id = $3",
    )
    .bind(snapshot_id)
    .bind(change.received_at.0)
    .bind(change.asset_id)
    .execute(&mut *c)
    .await
    .map_err(db)?;
    let before = serde_json::json!({ "snapshot_id": current });
    let after = codec::inventory_summary(change, snapshot_id, opened, fixed);
    let e = Entry::new(
        change.received_at,
        &p.actor,
        "inventory.apply",
        format!("asset:{}", change.asset_id),
        Some(&before),
        Some(&after),
    );
    append_audit(c, e).await?;
    Ok(ApplyOutcome::Applied {
        snapshot_id,
        opened,
        fixed,
    })
}
