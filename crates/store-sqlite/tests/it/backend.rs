//! SQLite-only tests: tampering, reopening, URLs, pragmas.

use super::*;
use patchpilot_store::{AssetPatch, Error, NewAsset};
use sqlx::{Connection, SqliteConnection};
use std::path::Path;

async fn raw(path: &Path) -> SqliteConnection {
    SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("raw connection")
}

/// Open a seeded store, let `tamper` edit the database directly (as an attacker with
/// file access would, dropping the append-only triggers first), and verify the chain.
async fn tampered(tamper: &[&str]) -> audit::Verification {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(&path).await.unwrap();
    conformance::seed_audit(&store).await;
    let mut c = raw(&path).await;
    for sql in [
        "DROP TRIGGER audit_log_no_update",
        "DROP TRIGGER audit_log_no_delete",
    ]
    .iter()
    .chain(tamper)
    {
        sqlx::query(sql)
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    c.close().await.unwrap();
    conformance::verify_store(&store).await
}

#[tokio::test]
async fn tamper_edited_record_is_found() {
    let v = tampered(&["UPDATE audit_log SET after = '{\"tier\":4}' WHERE seq = 3"]).await;
    assert!(
        v.problems
            .iter()
            .any(|p| p.seq == 3 && p.reason.contains("edited")),
        "{:?}",
        v.problems
    );
    let v = tampered(&["UPDATE audit_log SET principal = 'token:999' WHERE seq = 2"]).await;
    assert!(v.problems.iter().any(|p| p.seq == 2), "{:?}", v.problems);
}

#[tokio::test]
async fn tamper_deleted_record_is_found() {
    let v = tampered(&["DELETE FROM audit_log WHERE seq = 3"]).await;
    assert!(
        v.problems
            .iter()
            .any(|p| p.seq == 4 && p.reason.contains("missing")),
        "{:?}",
        v.problems
    );
}

#[tokio::test]
async fn tamper_swapped_records_are_found() {
    let v = tampered(&[
        "UPDATE audit_log SET seq = -1 WHERE seq = 2",
        "UPDATE audit_log SET seq = 2 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = -1",
    ])
    .await;
    assert!(!v.ok());
    assert!(
        v.problems.iter().any(|p| p.reason.contains("link")),
        "{:?}",
        v.problems
    );
}

#[tokio::test]
async fn tamper_cut_tail_is_found_by_the_next_append() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let seeded = conformance::seed_audit(&store).await;
    let last = seeded.last().unwrap().seq;
    let mut c = raw(&path).await;
    sqlx::query("DROP TRIGGER audit_log_no_delete")
        .execute(&mut c)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(last)
        .execute(&mut c)
        .await
        .unwrap();
    // Cut off the end alone, the chain still links; the head kept apart shows the gap
    // as soon as anything is appended.
    assert!(conformance::verify_store(&store).await.ok());
    store
        .create_asset(NewAsset::named("after-cut"), T0, &conformance::admin())
        .await
        .unwrap();
    let v = conformance::verify_store(&store).await;
    assert!(
        v.problems.iter().any(|p| p.reason.contains("missing")),
        "{:?}",
        v.problems
    );
}

#[tokio::test]
async fn audit_log_is_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(&path).await.unwrap();
    conformance::seed_audit(&store).await;
    let mut c = raw(&path).await;
    let e = sqlx::query("UPDATE audit_log SET action = 'x' WHERE seq = 1")
        .execute(&mut c)
        .await;
    assert!(e.unwrap_err().to_string().contains("append-only"));
    let e = sqlx::query("DELETE FROM audit_log WHERE seq = 1")
        .execute(&mut c)
        .await;
    assert!(e.unwrap_err().to_string().contains("append-only"));
}

#[tokio::test]
async fn reopen_keeps_data_and_migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let a = {
        let store = SqliteStore::open(&path).await.unwrap();
        let a = store
            .create_asset(NewAsset::named("keep"), T0, &conformance::admin())
            .await
            .unwrap();
        store.close().await;
        a
    };
    let url = format!("sqlite://{}", path.display());
    let store = SqliteStore::open_url(&url).await.unwrap();
    assert_eq!(store.get_asset(a.id).await.unwrap(), Some(a.clone()));
    // Two stores on one file at once (e.g. `patchpilot audit verify` beside a server).
    let second = SqliteStore::open(&path).await.unwrap();
    second
        .update_asset(
            a.id,
            AssetPatch {
                tier: Some(1),
                ..Default::default()
            },
            T0,
            &conformance::admin(),
        )
        .await
        .unwrap();
    assert_eq!(store.get_asset(a.id).await.unwrap().unwrap().tier, 1);
    assert!(conformance::verify_store(&store).await.ok());
    let mut c = raw(&path).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn memory_url_works() {
    let store = Arc::new(SqliteStore::open_url("sqlite::memory:").await.unwrap());
    conformance::inventory_findings_lifecycle(store.clone()).await;
    conformance::jobs_concurrent_claimers_never_share(Arc::new(
        SqliteStore::open_url("sqlite::memory:").await.unwrap(),
    ))
    .await;
}

#[tokio::test]
async fn bad_urls_are_clear_errors() {
    match SqliteStore::open_url("postgres://x").await {
        Err(Error::Invalid(m)) => assert!(m.contains("SQLite"), "{m}"),
        other => panic!("{other:?}"),
    }
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir/x.db");
    assert!(matches!(
        SqliteStore::open(&missing).await,
        Err(Error::Backend(_))
    ));
}

#[tokio::test]
async fn a_second_instance_sees_committed_notices_only_in_process() {
    // SQLite notices are in-process: the same instance hears its own.
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("n.db")).await.unwrap());
    conformance::notice_reaches_other_instance(store.clone(), store).await;
}
