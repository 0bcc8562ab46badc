//! Coalesced heartbeats.
//!
//! A heartbeat only moves an asset's `last_seen` forward, and at fleet scale they arrive by
//! the thousand per second. One `UPDATE` each cost PostgreSQL ~140 µs of CPU, mostly the
//! per-statement round trip rather than the update itself, which is more than the server
//! spent on the HTTP request. One task per store instead writes every heartbeat waiting
//! at that moment in one statement over `UNNEST`ed arrays, and answers each caller once
//! it has run. Under light load a batch is one heartbeat; under heavy load batches grow
//! by themselves (more arrive while one runs), which is what keeps the database's share
//! small. One task rather than several: several meant smaller batches and more
//! statements for the same heartbeats.
//!
//! The batch never waits for a row lock: rows locked by a running inventory transaction
//! are skipped (`SKIP LOCKED`) and those heartbeats, like ones for assets that do not
//! exist, are written one by one off the task, so one busy asset does not hold up the
//! others' answers.

use super::*;
use std::collections::BTreeMap;
use tokio::sync::{mpsc, oneshot};

/// Most heartbeats per statement.
const MAX_BATCH: usize = 2_048;

type Item = (i64, Ts, oneshot::Sender<Result<bool>>);

#[derive(Debug, Clone)]
pub(crate) struct Beats {
    queue: mpsc::Sender<Item>,
}

impl Beats {
    /// Start the task on `pool`; it ends when the last store clone is dropped.
    pub(crate) fn start(pool: PgPool) -> Beats {
        let (queue, rx) = mpsc::channel(MAX_BATCH);
        tokio::spawn(run(pool, rx));
        Beats { queue }
    }

    /// Record a heartbeat; `false` when the asset does not exist.
    pub(crate) async fn beat(&self, asset_id: i64, at: Ts) -> Result<bool> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .send((asset_id, at, tx))
            .await
            .map_err(|_| Error::Backend("the store is closed".into()))?;
        rx.await
            .map_err(|_| Error::Backend("the heartbeat task stopped".into()))?
    }
}

async fn run(pool: PgPool, mut rx: mpsc::Receiver<Item>) {
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // One row per asset, at its latest time: UPDATE … FROM updates a row once.
        let mut latest: BTreeMap<i64, i64> = BTreeMap::new();
        for (id, at, _) in &batch {
            let t = latest.entry(*id).or_insert(at.0);
            *t = (*t).max(at.0);
        }
        let (ids, ats): (Vec<i64>, Vec<i64>) = latest.into_iter().unzip();
        match write(&pool, &ids, &ats).await {
            Ok(done) => {
                for (id, at, answer) in batch.drain(..) {
                    if done.binary_search(&id).is_ok() {
                        let _ = answer.send(Ok(true));
                    } else {
                        // Locked by an inventory transaction, or not an asset.
                        let pool = pool.clone();
                        tokio::spawn(async move {
                            let _ = answer.send(one(&pool, id, at).await);
                        });
                    }
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for (_, _, answer) in batch.drain(..) {
                    let _ = answer.send(Err(Error::Backend(msg.clone())));
                }
            }
        }
    }
}

/// Update the rows of `ids` (ascending, distinct) that are not locked; returns the ids
/// written, ascending.
async fn write(pool: &PgPool, ids: &[i64], ats: &[i64]) -> Result<Vec<i64>> {
    let mut done: Vec<i64> = sqlx::query_scalar(HEARTBEATS)
        .bind(ids)
        .bind(ats)
        .fetch_all(pool)
        .await
        .map_err(db)?;
    done.sort_unstable();
    Ok(done)
}

/// One heartbeat, waiting for its row if need be.
async fn one(pool: &PgPool, id: i64, at: Ts) -> Result<bool> {
    let r = sqlx::query(HEARTBEAT)
        .bind(at.0)
        .bind(id)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(r.rows_affected() == 1)
}
