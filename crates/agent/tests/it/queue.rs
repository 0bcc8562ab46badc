use std::sync::atomic::Ordering;

use patchpilot_agent::queue::{new_idempotency_key, DrainError, Queue};
use patchpilot_agent::{CancellationToken, Client, ClientConfig};

use crate::fake::Server;
use crate::{fast_backoff, report};

fn keys(q: &Queue) -> Vec<String> {
    q.entries().unwrap().into_iter().map(|e| e.key).collect()
}

#[test]
fn reports_survive_reopening_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let reports: Vec<_> = (0..3).map(|_| report(&new_idempotency_key())).collect();
    {
        let mut q = Queue::open(dir.path(), 10).unwrap();
        for r in &reports {
            q.push(r).unwrap();
        }
    }
    let mut q = Queue::open(dir.path(), 10).unwrap();
    let entries = q.entries().unwrap();
    let read: Vec<_> = entries.iter().map(|e| q.read(e).unwrap()).collect();
    assert_eq!(read, reports);
    // The sequence continues after the reopen: a new report sorts last.
    let k4 = new_idempotency_key();
    let pushed = q.push(&report(&k4)).unwrap();
    assert_eq!(pushed.entry.seq, entries.last().unwrap().seq + 1);
    assert_eq!(keys(&q).last(), Some(&k4));
    #[cfg(unix)]
    assert_eq!(crate::mode(&pushed.entry.path), 0o600);
}

#[test]
fn the_bound_keeps_only_the_newest_reports() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = Queue::open(dir.path(), 3).unwrap();
    let ks: Vec<String> = (0..5).map(|_| new_idempotency_key()).collect();
    let mut dropped = Vec::new();
    for k in &ks {
        dropped.extend(
            q.push(&report(k))
                .unwrap()
                .dropped
                .into_iter()
                .map(|e| e.key),
        );
    }
    assert_eq!(keys(&q), &ks[2..]);
    assert_eq!(dropped, &ks[..2]);
    assert_eq!(q.len().unwrap(), 3);
}

#[test]
fn leftover_temp_files_are_removed_and_foreign_files_ignored() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".tmp-00000000000000000001-abc.json.1234"),
        "{",
    )
    .unwrap();
    std::fs::write(dir.path().join("README"), "not a report").unwrap();
    let q = Queue::open(dir.path(), 3).unwrap();
    assert!(q.is_empty().unwrap());
    assert!(!dir
        .path()
        .join(".tmp-00000000000000000001-abc.json.1234")
        .exists());
    assert!(dir.path().join("README").exists());
}

#[test]
fn keys_that_are_not_file_name_safe_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = Queue::open(dir.path(), 3).unwrap();
    for bad in ["", "../x", "a b", &"k".repeat(65)] {
        assert!(q.push(&report(bad)).is_err(), "{bad:?}");
    }
    assert!(q.is_empty().unwrap());
}

async fn setup(n: usize) -> (Server, Client, tempfile::TempDir, Queue, Vec<String>) {
    let server = Server::start().await;
    let (_, token) = server.agent("a1");
    let client = Client::new(&ClientConfig::new(&server.url))
        .unwrap()
        .with_token(&token);
    let dir = tempfile::tempdir().unwrap();
    let mut q = Queue::open(dir.path(), 100).unwrap();
    let ks: Vec<String> = (0..n).map(|_| new_idempotency_key()).collect();
    for k in &ks {
        q.push(&report(k)).unwrap();
    }
    (server, client, dir, q, ks)
}

fn delivered(server: &Server) -> Vec<String> {
    server.with(|s| s.reports.iter().map(|r| r.1.clone()).collect())
}

#[tokio::test]
async fn drain_deletes_only_acknowledged_reports_and_keeps_order() {
    let (server, client, _dir, mut q, ks) = setup(4).await;
    // Two are accepted, then an outage.
    server.fake.inventory_budget.store(2, Ordering::SeqCst);
    let pass = q.drain_once(&client).await.unwrap();
    assert_eq!(
        pass.delivered.iter().map(|d| &d.key).collect::<Vec<_>>(),
        [&ks[0], &ks[1]]
    );
    assert!(
        pass.error.as_ref().is_some_and(|e| e.is_retryable()),
        "{:?}",
        pass.error
    );
    assert_eq!(pass.remaining, 2);
    assert_eq!(keys(&q), &ks[2..]);
    assert_eq!(delivered(&server), &ks[..2]);

    // Still down: nothing changes.
    let pass = q.drain_once(&client).await.unwrap();
    assert!(pass.delivered.is_empty());
    assert_eq!(keys(&q), &ks[2..]);

    // Back: the rest, in order, each once.
    server.fake.inventory_budget.store(-1, Ordering::SeqCst);
    let all = q
        .drain(&client, fast_backoff(), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(all.delivered.len(), 2);
    assert!(q.is_empty().unwrap());
    assert_eq!(delivered(&server), ks);
}

#[tokio::test]
async fn a_lost_acknowledgement_is_resent_and_counted_once() {
    let (server, client, _dir, mut q, ks) = setup(2).await;
    // The first report is applied but its acknowledgement is lost; then two 503s.
    server.fake.lose_acks.store(1, Ordering::SeqCst);
    let pass = q.drain_once(&client).await.unwrap();
    assert!(pass.delivered.is_empty());
    assert_eq!(keys(&q), ks, "an unacknowledged report stays queued");
    server.fake.fail_inventory.store(2, Ordering::SeqCst);
    let all = q
        .drain(&client, fast_backoff(), &CancellationToken::new())
        .await
        .unwrap();
    assert!(q.is_empty().unwrap());
    assert_eq!(all.delivered.len(), 2);
    assert!(
        all.delivered[0].ack.duplicate,
        "the resend is acknowledged as a duplicate"
    );
    assert!(!all.delivered[1].ack.duplicate);
    assert_eq!(delivered(&server), ks, "each applied exactly once");
    assert_eq!(server.with(|s| s.inventory_failures), 2);
}

#[tokio::test]
async fn a_rejected_report_is_moved_aside_and_the_rest_delivered() {
    let (server, client, _dir, mut q, ks) = setup(3).await;
    server.with(|s| s.reject_keys.insert(ks[1].clone()));
    let pass = q.drain_once(&client).await.unwrap();
    assert!(pass.error.is_none());
    assert_eq!(pass.delivered.len(), 2);
    assert_eq!(pass.rejected.len(), 1);
    assert!(
        pass.rejected[0].1.contains("this report is rejected"),
        "{}",
        pass.rejected[0].1
    );
    assert!(q.is_empty().unwrap());
    assert_eq!(
        q.rejected()
            .unwrap()
            .iter()
            .map(|e| &e.key)
            .collect::<Vec<_>>(),
        [&ks[1]]
    );
    assert_eq!(delivered(&server), [ks[0].clone(), ks[2].clone()]);
}

#[tokio::test]
async fn a_refused_credential_stops_the_drain_and_keeps_the_queue() {
    let (server, _, _dir, mut q, ks) = setup(2).await;
    let bad = Client::new(&ClientConfig::new(&server.url))
        .unwrap()
        .with_token("revoked");
    let e = q
        .drain(&bad, fast_backoff(), &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(e, DrainError::Auth(_)), "{e}");
    assert_eq!(keys(&q), ks);
}

#[tokio::test]
async fn drain_retries_with_backoff_until_cancelled() {
    let (server, client, _dir, mut q, ks) = setup(2).await;
    server.fake.inventory_down.store(1, Ordering::SeqCst);
    let cancel = CancellationToken::new();
    let drain = q.drain(&client, fast_backoff(), &cancel);
    let stopper = async {
        server
            .wait_for("three failed attempts", |s| s.inventory_failures >= 3)
            .await;
        cancel.cancel();
    };
    let (res, ()) = tokio::join!(drain, stopper);
    assert!(
        matches!(res, Err(DrainError::Cancelled { remaining: 2 })),
        "{res:?}"
    );
    assert_eq!(keys(&q), ks);
    assert!(delivered(&server).is_empty());
}
