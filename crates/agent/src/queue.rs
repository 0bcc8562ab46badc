//! The on-disk offline queue of inventory reports.
//!
//! Every report goes through the queue, online or not: it is written to
//! `<dir>/<seq>-<idempotency key>.json` (atomically: temp file, fsync, rename, fsync of
//! the directory) *before* it counts as queued, and deleted only after the server
//! acknowledged it. So a report survives an agent restart, a crash and a lost network,
//! and is sent at least once. At least once is enough because the idempotency key, a
//! random 128-bit value chosen when the report is queued, is stored with it: a resend
//! after a lost acknowledgement is applied once by the server and acknowledged as a
//! duplicate, which counts as acknowledged here.
//!
//! Order: `seq` grows monotonically (the next one is one past the largest on disk when
//! the queue opens), and [`Queue::drain_once`] sends oldest first, stopping at the first
//! failure that may be temporary, so the server sees reports in the order they were
//! collected.
//!
//! Bound: the queue keeps at most `max_entries` reports and drops the *oldest* when a new
//! one would exceed it. Each report is a complete inventory, not a delta, so the newest
//! one alone brings the server fully up to date; older ones only add history snapshots.
//! Dropping them bounds the disk an agent offline for weeks can use, at the cost of
//! intermediate history the server never saw.
//!
//! A report the server rejects for good (a 4xx other than 401/403: malformed, too large)
//! is moved to `<dir>/rejected/` (bounded the same way) and logged, so one bad report does
//! not block the queue forever, and is still there to look at. 401/403 stop the drain and
//! keep everything: the credential is the problem, not the report.
//!
//! One process owns a queue directory at a time. The file IO is synchronous and short
//! (one small file per call); callers on an async runtime accept that.

use std::path::{Path, PathBuf};

use patchpilot_api::{InventoryAck, InventoryReport};
use tokio_util::sync::CancellationToken;

use crate::backoff::{Backoff, Retry};
use crate::client::{Client, ClientError};
use crate::fsutil::{self, TMP_PREFIX};

/// The default bound on queued reports.
pub const DEFAULT_MAX_ENTRIES: usize = 16;

const REJECTED: &str = "rejected";

/// A new random idempotency key: 128 bits, lower-case hex.
pub fn new_idempotency_key() -> String {
    format!("{:032x}", rand::random::<u128>())
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("offline queue {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("offline queue: idempotency key {0:?} must be 1 to 64 characters of [0-9A-Za-z_-]")]
    BadKey(String),
    #[error("offline queue: cannot serialize the report: {0}")]
    Serialize(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> QueueError + '_ {
    move |source| QueueError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One queued report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub key: String,
    pub path: PathBuf,
}

/// What [`Queue::push`] did.
#[derive(Debug, Clone)]
pub struct Pushed {
    pub entry: Entry,
    /// Older entries dropped to keep the bound.
    pub dropped: Vec<Entry>,
}

/// A report the server acknowledged (and that was then deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub seq: u64,
    pub key: String,
    /// Packages in the report.
    pub packages: usize,
    pub ack: InventoryAck,
}

/// What one pass over the queue did.
#[derive(Debug, Clone, Default)]
pub struct DrainReport {
    pub delivered: Vec<Delivered>,
    /// Entries moved to `rejected/`, with why.
    pub rejected: Vec<(Entry, String)>,
    /// Entries still queued after the pass.
    pub remaining: usize,
    /// Why the pass stopped early (retryable, or 401/403); `None` when the queue emptied.
    pub error: Option<ClientError>,
}

impl DrainReport {
    fn absorb(&mut self, other: DrainReport) {
        self.delivered.extend(other.delivered);
        self.rejected.extend(other.rejected);
        self.remaining = other.remaining;
        self.error = other.error;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DrainError {
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// 401/403: the agent's credential was refused. The queue is kept.
    #[error("the server refused the agent's credential: {0}")]
    Auth(#[source] ClientError),
    /// Stopped by the cancellation token; what was delivered so far stays delivered.
    #[error("cancelled with {remaining} report(s) still queued")]
    Cancelled { remaining: usize },
}

/// The queue directory and its bound.
#[derive(Debug)]
pub struct Queue {
    dir: PathBuf,
    max_entries: usize,
    next_seq: u64,
}

impl Queue {
    /// Open (creating) the queue at `dir`. Leftover temporary files from a crash are
    /// deleted: they were never queued.
    pub fn open(dir: &Path, max_entries: usize) -> Result<Queue, QueueError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let mut q = Queue {
            dir: dir.to_path_buf(),
            max_entries: max_entries.max(1),
            next_seq: 1,
        };
        for name in list_names(dir)? {
            if name.starts_with(TMP_PREFIX) {
                let p = dir.join(&name);
                std::fs::remove_file(&p).map_err(io_err(&p))?;
            }
        }
        if let Some(last) = q.entries()?.last() {
            q.next_seq = last.seq + 1;
        }
        Ok(q)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// Queued entries, oldest first.
    pub fn entries(&self) -> Result<Vec<Entry>, QueueError> {
        let mut out: Vec<Entry> = list_names(&self.dir)?
            .into_iter()
            .filter_map(|name| {
                let (seq, key) = parse_name(&name)?;
                Some(Entry {
                    seq,
                    key,
                    path: self.dir.join(&name),
                })
            })
            .collect();
        out.sort_by_key(|e| e.seq);
        Ok(out)
    }

    pub fn len(&self) -> Result<usize, QueueError> {
        Ok(self.entries()?.len())
    }

    pub fn is_empty(&self) -> Result<bool, QueueError> {
        Ok(self.len()? == 0)
    }

    /// Queue `report` durably under its idempotency key, then drop the oldest entries
    /// beyond the bound. When this returns, the report survives a crash.
    pub fn push(&mut self, report: &InventoryReport) -> Result<Pushed, QueueError> {
        let key = &report.idempotency_key;
        if !valid_key(key) {
            return Err(QueueError::BadKey(key.clone()));
        }
        let body = serde_json::to_vec(report).map_err(|e| QueueError::Serialize(e.to_string()))?;
        let seq = self.next_seq;
        let path = self.dir.join(entry_name(seq, key));
        fsutil::write_atomic(&path, &body, 0o600).map_err(io_err(&path))?;
        self.next_seq += 1;
        let entry = Entry {
            seq,
            key: key.clone(),
            path,
        };
        let mut dropped = Vec::new();
        let entries = self.entries()?;
        if entries.len() > self.max_entries {
            for old in &entries[..entries.len() - self.max_entries] {
                remove(&old.path)?;
                tracing::info!(
                    seq = old.seq,
                    key = %old.key,
                    "offline queue full: dropped an older report (a newer complete one is queued)"
                );
                dropped.push(old.clone());
            }
        }
        Ok(Pushed { entry, dropped })
    }

    /// Read a queued report.
    pub fn read(&self, entry: &Entry) -> Result<InventoryReport, ReadError> {
        let data = std::fs::read(&entry.path).map_err(|e| ReadError::Io(io_err(&entry.path)(e)))?;
        serde_json::from_slice(&data).map_err(|e| ReadError::Corrupt(e.to_string()))
    }

    /// Delete an entry (after its acknowledgement).
    pub fn remove(&self, entry: &Entry) -> Result<(), QueueError> {
        remove(&entry.path)
    }

    /// Entries moved aside because the server rejected them, oldest first.
    pub fn rejected(&self) -> Result<Vec<Entry>, QueueError> {
        let dir = self.dir.join(REJECTED);
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        let mut out: Vec<Entry> = list_names(&dir)?
            .into_iter()
            .filter_map(|name| {
                let (seq, key) = parse_name(&name)?;
                Some(Entry {
                    seq,
                    key,
                    path: dir.join(&name),
                })
            })
            .collect();
        out.sort_by_key(|e| e.seq);
        Ok(out)
    }

    fn reject(&self, entry: &Entry, why: &str) -> Result<Entry, QueueError> {
        let dir = self.dir.join(REJECTED);
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let to = dir.join(entry.path.file_name().unwrap_or_default());
        std::fs::rename(&entry.path, &to).map_err(io_err(&entry.path))?;
        tracing::error!(seq = entry.seq, key = %entry.key, moved_to = %to.display(), "inventory report rejected: {why}");
        let rejected = self.rejected()?;
        if rejected.len() > self.max_entries {
            for old in &rejected[..rejected.len() - self.max_entries] {
                remove(&old.path)?;
            }
        }
        Ok(Entry {
            path: to,
            ..entry.clone()
        })
    }

    /// One pass: send every queued report oldest first, deleting each once acknowledged
    /// (a duplicate acknowledgement included). Stops at the first retryable or 401/403
    /// error (in [`DrainReport::error`]); moves reports rejected for good aside.
    pub async fn drain_once(&mut self, client: &Client) -> Result<DrainReport, QueueError> {
        let mut report = DrainReport::default();
        let entries = self.entries()?;
        let total = entries.len();
        for (i, entry) in entries.into_iter().enumerate() {
            let body = match self.read(&entry) {
                Ok(b) => b,
                Err(ReadError::Io(e)) => return Err(e),
                Err(ReadError::Corrupt(why)) => {
                    let why = format!("corrupt queue file: {why}");
                    let moved = self.reject(&entry, &why)?;
                    report.rejected.push((moved, why));
                    continue;
                }
            };
            match client.report_inventory(&body).await {
                Ok(ack) => {
                    self.remove(&entry)?;
                    report.delivered.push(Delivered {
                        seq: entry.seq,
                        key: entry.key,
                        packages: body.packages.len(),
                        ack,
                    });
                }
                Err(e) if e.is_retryable() || e.is_auth() => {
                    report.remaining = total - i;
                    report.error = Some(e);
                    return Ok(report);
                }
                Err(e) => {
                    let why = e.to_string();
                    let moved = self.reject(&entry, &why)?;
                    report.rejected.push((moved, why));
                }
            }
        }
        report.remaining = self.len()?;
        Ok(report)
    }

    /// Drain until the queue is empty, retrying with `backoff` after each retryable
    /// failure. Returns early on 401/403 ([`DrainError::Auth`]) or when `cancel` fires.
    pub async fn drain(
        &mut self,
        client: &Client,
        backoff: Backoff,
        cancel: &CancellationToken,
    ) -> Result<DrainReport, DrainError> {
        let mut total = DrainReport::default();
        let mut retry = Retry::new(backoff);
        loop {
            let pass = tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err(DrainError::Cancelled { remaining: self.len()? }),
                pass = self.drain_once(client) => pass?,
            };
            total.absorb(pass);
            match total.error.take() {
                None => return Ok(total),
                Some(e) if e.is_auth() => return Err(DrainError::Auth(e)),
                Some(e) => {
                    let wait = retry.failed();
                    tracing::warn!(
                        "cannot deliver queued inventory ({} queued): {e}; retrying in {}",
                        total.remaining,
                        crate::backoff::human(wait)
                    );
                    tokio::select! {
                        _ = cancel.cancelled() => return Err(DrainError::Cancelled { remaining: self.len()? }),
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }
}

/// Why a queued report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Io(QueueError),
    #[error("corrupt queue file: {0}")]
    Corrupt(String),
}

fn remove(path: &Path) -> Result<(), QueueError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(path)(e)),
    }
}

fn list_names(dir: &Path) -> Result<Vec<String>, QueueError> {
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let e = e.map_err(io_err(dir))?;
        if e.file_type().map_err(io_err(dir))?.is_file() {
            if let Some(n) = e.file_name().to_str() {
                names.push(n.to_string());
            }
        }
    }
    Ok(names)
}

fn valid_key(key: &str) -> bool {
    (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn entry_name(seq: u64, key: &str) -> String {
    format!("{seq:020}-{key}.json")
}

fn parse_name(name: &str) -> Option<(u64, String)> {
    let stem = name.strip_suffix(".json")?;
    let (seq, key) = stem.split_once('-')?;
    if seq.len() != 20 || !seq.bytes().all(|b| b.is_ascii_digit()) || !valid_key(key) {
        return None;
    }
    Some((seq.parse().ok()?, key.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sort() {
        let k = new_idempotency_key();
        assert_eq!(k.len(), 32);
        assert!(k.bytes().all(|b| b.is_ascii_hexdigit()));
        let n = entry_name(42, &k);
        assert_eq!(parse_name(&n), Some((42, k.clone())));
        assert!(entry_name(9, &k) < entry_name(10, &k));
        for bad in [
            "42-abc.json",
            "0000000000000000004x-abc.json",
            "00000000000000000042-.json",
            "00000000000000000042-a/b.json",
            ".tmp-00000000000000000042-abc.json",
            "00000000000000000042-abc.json.tmp",
        ] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn keys_are_random() {
        assert_ne!(new_idempotency_key(), new_idempotency_key());
    }
}
