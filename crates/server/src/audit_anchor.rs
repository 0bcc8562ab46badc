//! The audit chain's head, recorded outside the database: `DATA_DIR/audit-head.log`.
//!
//! The database keeps its own head (`audit_head`), which stops a naive cut of the log's
//! end, but not someone who can write the database: they delete the newest records and
//! rewind that row to match. So the server also appends the head to a file of its data
//! dir (every [`crate::Config::audit_anchor_every`] when it changed, at start and at
//! shutdown), and logs it (`audit head recorded`), which operators can ship off the host.
//! `audit verify` checks the chain against every head of the file: each recorded record
//! must still be there with the same hash ([`patchpilot_store::audit::Anchor`]).
//!
//! The file: one JSON object per line, `{"at", "database", "seq", "hash"}`, appended
//! with `O_APPEND` and flushed to disk, mode 0600. `database` names the database
//! ([`Store::database_id`]), so one data dir that served several databases checks each
//! against its own heads. Replicas on one PostgreSQL database each keep the file of
//! their own data dir; every head any of them recorded is a point of the same chain. At
//! 16 MiB the file is renamed `audit-head.log.1` (the one before is dropped) and a new
//! one started; both are read. A last line cut short by a crash is ignored; any other line
//! that is not a head is reported (someone edited the file).
//!
//! What it does not stop: someone who controls the host can edit this file too. Shipping
//! it (or the log lines) elsewhere as it grows is what makes it evidence.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use patchpilot_store::audit::Anchor;
use patchpilot_store::{Store, Ts};
use serde::{Deserialize, Serialize};

/// The file's name in the data dir.
pub const FILE: &str = "audit-head.log";
/// Size at which the file is rotated.
const ROTATE_AT: u64 = 16 << 20;

/// Where the server records heads for this data dir.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub at: Ts,
    pub database: String,
    pub seq: i64,
    pub hash: String,
}

/// Append `line` to the file at `file` (created 0600), flushed to disk; rotate first
/// when the file has reached 16 MiB.
pub fn append(file: &Path, line: &Line) -> std::io::Result<()> {
    append_rotating_at(file, line, ROTATE_AT)
}

fn append_rotating_at(file: &Path, line: &Line, rotate_at: u64) -> std::io::Result<()> {
    if std::fs::metadata(file).is_ok_and(|m| m.len() >= rotate_at) {
        std::fs::rename(file, rotated(file))?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(file)?;
    let mut text = serde_json::to_string(line).map_err(std::io::Error::other)?;
    text.push('\n');
    // One write: concurrent appenders (replicas sharing a data dir) never interleave.
    f.write_all(text.as_bytes())?;
    f.sync_data()
}

fn rotated(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".1");
    PathBuf::from(name)
}

/// The heads of one database that a file (and its rotated predecessor) records.
#[derive(Debug, Default)]
pub struct Recorded {
    /// Distinct heads, oldest first, each naming its file, line and time.
    pub anchors: Vec<Anchor>,
    /// Files read (those that exist).
    pub files: Vec<PathBuf>,
    /// Lines that are heads of other databases, and one of those databases.
    pub other_databases: (usize, Option<String>),
    /// Lines that are not heads: where, for the verifier to report. A last line without
    /// its newline (a crash mid-append) is not among them.
    pub bad_lines: Vec<String>,
}

/// Read the heads of `database` from `file` and `file.1`. A missing file holds none.
pub fn read(file: &Path, database: &str) -> std::io::Result<Recorded> {
    let mut out = Recorded::default();
    let mut seen = std::collections::HashSet::new();
    for f in [rotated(file), file.to_path_buf()] {
        let reader = match std::fs::File::open(&f) {
            Ok(r) => std::io::BufReader::new(r),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        out.files.push(f.clone());
        let mut lines = reader.split(b'\n').enumerate().peekable();
        while let Some((i, bytes)) = lines.next() {
            let bytes = bytes?;
            let last = lines.peek().is_none();
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Line>(&bytes) {
                Ok(l) if l.database == database => {
                    if seen.insert((l.seq, l.hash.clone())) {
                        out.anchors.push(Anchor {
                            seq: l.seq,
                            hash: l.hash,
                            source: format!(
                                "{} line {} ({})",
                                f.display(),
                                i + 1,
                                l.at.to_rfc3339()
                            ),
                        });
                    }
                }
                Ok(l) => {
                    out.other_databases.0 += 1;
                    out.other_databases.1.get_or_insert(l.database);
                }
                // The last line of the file, cut short: a crash mid-append.
                Err(_) if last && !ends_with_newline(&f) => {}
                Err(_) => out.bad_lines.push(format!(
                    "{} line {} is not a recorded head (the file was edited)",
                    f.display(),
                    i + 1
                )),
            }
        }
    }
    Ok(out)
}

fn ends_with_newline(f: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(f) else {
        return false;
    };
    let mut b = [0u8; 1];
    file.seek(SeekFrom::End(-1)).is_ok() && file.read_exact(&mut b).is_ok() && b[0] == b'\n'
}

/// The task that records heads while the server runs.
pub struct Writer {
    stop: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Writer {
    /// Record the current head now, then every `every` when it changed. `None` for a
    /// database that has no identity outside the process (SQLite in memory).
    pub async fn start(store: Arc<dyn Store>, data_dir: &Path, every: Duration) -> Option<Writer> {
        let database = store.database_id()?;
        let file = path(data_dir);
        warn_if_behind(store.as_ref(), &file, &database).await;
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut last = None;
            let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let done = tokio::select! {
                    _ = tick.tick() => false,
                    _ = stopped.wait_for(|s| *s) => true,
                };
                record(store.as_ref(), &file, &database, &mut last).await;
                if done {
                    break;
                }
            }
        });
        Some(Writer {
            stop,
            task: Some(task),
        })
    }

    /// Record the head one last time (after the server stopped serving) and end.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Writer {
    /// A server that failed to start: no last record.
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Append the store's head if it differs from `last`.
async fn record(store: &dyn Store, file: &Path, database: &str, last: &mut Option<(i64, String)>) {
    let head = match store.audit_head().await {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "reading the audit head to record it");
            return;
        }
    };
    if last.as_ref() == Some(&(head.seq, head.hash.clone())) {
        return;
    }
    let line = Line {
        at: Ts::now(),
        database: database.to_string(),
        seq: head.seq,
        hash: head.hash.clone(),
    };
    let f = file.to_path_buf();
    match tokio::task::spawn_blocking(move || append(&f, &line)).await {
        Ok(Ok(())) => {
            tracing::info!(seq = head.seq, hash = %head.hash, database, file = %file.display(), "audit head recorded");
            *last = Some((head.seq, head.hash));
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, file = %file.display(), "recording the audit head")
        }
        Err(e) => tracing::warn!(error = %e, "recording the audit head"),
    }
}

/// Say loudly at start when the database's head is behind the last one recorded here:
/// records were cut off the end while no server ran (`audit verify` says which).
async fn warn_if_behind(store: &dyn Store, file: &Path, database: &str) {
    let f = file.to_path_buf();
    let db = database.to_string();
    let Ok(Ok(recorded)) = tokio::task::spawn_blocking(move || read(&f, &db)).await else {
        return;
    };
    let (Some(newest), Ok(head)) = (
        recorded.anchors.iter().max_by_key(|a| a.seq),
        store.audit_head().await,
    ) else {
        return;
    };
    if head.seq < newest.seq {
        tracing::error!(
            database_head = head.seq,
            recorded_head = newest.seq,
            recorded_in = %newest.source,
            "the audit log ends before the head recorded outside the database: records were \
             cut off; run `patchpilot audit verify`"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(db: &str, seq: i64) -> Line {
        Line {
            at: Ts(1_700_000_000_000 + seq),
            database: db.into(),
            seq,
            hash: format!("{seq:064x}"),
        }
    }

    #[test]
    fn appended_heads_read_back_per_database() {
        let dir = tempfile::tempdir().unwrap();
        let f = path(dir.path());
        for l in [line("a", 1), line("b", 7), line("a", 2), line("a", 2)] {
            append(&f, &l).unwrap();
        }
        let r = read(&f, "a").unwrap();
        assert_eq!(
            r.anchors.iter().map(|a| a.seq).collect::<Vec<_>>(),
            vec![1, 2],
            "repeated heads once"
        );
        assert!(r.anchors[1].source.contains("line 3"), "{:?}", r.anchors[1]);
        assert_eq!(r.other_databases, (1, Some("b".to_string())));
        assert!(r.bad_lines.is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn a_torn_last_line_is_ignored_an_edited_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let f = path(dir.path());
        append(&f, &line("a", 1)).unwrap();
        let mut h = std::fs::OpenOptions::new().append(true).open(&f).unwrap();
        h.write_all(br#"{"at":"2026-01-01T00:00:00Z","datab"#)
            .unwrap();
        let r = read(&f, "a").unwrap();
        assert_eq!(r.anchors.len(), 1);
        assert!(r.bad_lines.is_empty(), "{:?}", r.bad_lines);
        h.write_all(b"\n").unwrap();
        append(&f, &line("a", 2)).unwrap();
        let r = read(&f, "a").unwrap();
        assert_eq!(r.anchors.len(), 2);
        assert_eq!(r.bad_lines.len(), 1, "{:?}", r.bad_lines);
        assert!(r.bad_lines[0].contains("line 2"), "{:?}", r.bad_lines);
    }

    #[test]
    fn a_missing_file_holds_no_head() {
        let dir = tempfile::tempdir().unwrap();
        let r = read(&path(dir.path()), "a").unwrap();
        assert!(r.anchors.is_empty() && r.files.is_empty());
    }

    #[test]
    fn rotation_keeps_the_previous_file_readable() {
        let dir = tempfile::tempdir().unwrap();
        let f = path(dir.path());
        // Rotated when a line would be appended to a file of 200 bytes or more (each
        // line is about 150): 1 2 | 3 4 | 5.
        for seq in 1..=5 {
            append_rotating_at(&f, &line("a", seq), 200).unwrap();
        }
        let r = read(&f, "a").unwrap();
        assert_eq!(r.files.len(), 2);
        assert_eq!(
            r.anchors.iter().map(|a| a.seq).collect::<Vec<_>>(),
            vec![3, 4, 5]
        );
    }
}
