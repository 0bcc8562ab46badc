//! Group commit for inventory reports.
//!
//! Every report appends to the audit chain, whose head row is locked until commit, so
//! reports committed one per transaction take turns on that lock *and* on one WAL flush
//! each. A few tasks per store (lanes, by asset) instead each apply every report waiting
//! at that moment in a single transaction (each with its own outcome), appends their
//! audit records in order at the end in one statement, and commits once: the head row
//! is held briefly and the flush is shared. Under light load a batch is one report.
//! Callers are answered only after the commit; a caller that goes away does not cancel
//! the batch.
//!
//! Reports are applied in ascending asset order, so batches of different replicas take
//! asset locks in one order; the audit head is still locked last. If the batch
//! transaction fails as a whole (say PostgreSQL breaks a deadlock with a concurrent feed
//! re-match, which locks findings across assets, by aborting the batch), each of its
//! reports is applied again alone, so one bad batch never fails its neighbours.

use super::*;
use tokio::sync::{mpsc, oneshot};

/// Most reports per transaction.
const MAX_BATCH: usize = 64;

/// An inventory change with everything computed that needs no database.
pub(crate) struct Prepared {
    pub(crate) change: InventoryChange,
    pub(crate) actor: Actor,
    pub(crate) body: String,
    pub(crate) body_hash: String,
}

impl Prepared {
    pub(crate) fn new(change: InventoryChange, actor: Actor) -> Prepared {
        let body = codec::encode_packages(&change.packages);
        let body_hash = codec::blob_hash(&body);
        Prepared {
            change,
            actor,
            body,
            body_hash,
        }
    }
}

type Item = (Prepared, oneshot::Sender<Result<ApplyOutcome>>);

/// Batch tasks per store: each owns the assets `id % LANES`, so one asset's reports stay
/// in order, while the lanes' statements run in parallel (a batch is a sequence of
/// round trips; one lane alone left PostgreSQL idle between them). They meet only at
/// the audit head, taken last and briefly.
const LANES: usize = 4;

#[derive(Debug, Clone)]
pub(crate) struct Batcher {
    lanes: Vec<mpsc::Sender<Item>>,
}

impl Batcher {
    /// Start the batch tasks; they end when the last store clone is dropped.
    pub(crate) fn start(pool: PgPool) -> Batcher {
        let lanes = (0..LANES)
            .map(|_| {
                let (queue, rx) = mpsc::channel(256);
                tokio::spawn(run(pool.clone(), rx));
                queue
            })
            .collect();
        Batcher { lanes }
    }

    pub(crate) async fn apply(&self, p: Prepared) -> Result<ApplyOutcome> {
        let (tx, rx) = oneshot::channel();
        let lane = p.change.asset_id.rem_euclid(LANES as i64) as usize;
        self.lanes[lane]
            .send((p, tx))
            .await
            .map_err(|_| Error::Backend("the store is closed".into()))?;
        rx.await
            .map_err(|_| Error::Backend("the inventory batch task stopped".into()))?
    }
}

async fn run(pool: PgPool, mut rx: mpsc::Receiver<Item>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        // Assets in ascending order (a stable sort keeps one asset's reports in arrival
        // order), so two replicas' batches lock asset rows in the same order.
        batch.sort_by_key(|(p, _)| p.change.asset_id);
        let (items, answers): (Vec<Prepared>, Vec<_>) = batch.into_iter().unzip();
        let results = match run_batch(&pool, &items).await {
            Ok(results) => results,
            Err(e) => {
                tracing::warn!(error = %e, reports = items.len(), "inventory batch rolled back; applying its reports one by one");
                let mut results = Vec::with_capacity(items.len());
                for p in &items {
                    results.push(apply_alone(&pool, p).await);
                }
                results
            }
        };
        for (answer, result) in answers.into_iter().zip(results) {
            let _ = answer.send(result);
        }
    }
}

/// All of `items` in one transaction; `Err` means nothing was written.
///
/// Reports are not wrapped in savepoints (two more round trips each): a report that
/// answers on its own (unknown asset, stale base, duplicate) has written nothing when it
/// returns, and any database error aborts the whole transaction (`Err` here), after which
/// the caller applies the reports one by one, so the failing report still fails alone.
async fn run_batch(pool: &PgPool, items: &[Prepared]) -> Result<Vec<Result<ApplyOutcome>>> {
    let mut tx = pool.begin().await.map_err(db)?;
    let mut results = Vec::with_capacity(items.len());
    let mut entries = Vec::new();
    for p in items {
        match apply_one(&mut tx, p).await? {
            Applied::Done(outcome, entry) => {
                entries.extend(entry);
                results.push(Ok(outcome));
            }
            Applied::UnknownAsset => results.push(Err(unknown_asset(p))),
        }
    }
    append_audits(&mut tx, entries).await?;
    tx.commit().await.map_err(db)?;
    Ok(results)
}

/// One report in its own transaction.
async fn apply_alone(pool: &PgPool, p: &Prepared) -> Result<ApplyOutcome> {
    let mut tx = pool.begin().await.map_err(db)?;
    let Applied::Done(outcome, entry) = apply_one(&mut tx, p).await? else {
        return Err(unknown_asset(p));
    };
    append_audits(&mut tx, entry.into_iter().collect()).await?;
    tx.commit().await.map_err(db)?;
    Ok(outcome)
}

fn unknown_asset(p: &Prepared) -> Error {
    Error::NotFound(format!("asset {}", p.change.asset_id))
}
