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

/// Delete the newest `n` records behind the store's back; with `rewind`, also set the
/// head row back to the last record left, as someone who knows about it would.
async fn cut_tail(n: i64, rewind: bool) -> (audit::Verification, Vec<audit::Record>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let seeded = conformance::seed_audit(&store).await;
    let keep = seeded.len() as i64 - n;
    let mut c = raw(&path).await;
    sqlx::query("DROP TRIGGER audit_log_no_delete")
        .execute(&mut c)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq > $1")
        .bind(keep)
        .execute(&mut c)
        .await
        .unwrap();
    if rewind {
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2")
            .bind(keep)
            .bind(&seeded[keep as usize - 1].hash)
            .execute(&mut c)
            .await
            .unwrap();
    }
    (conformance::verify_store(&store).await, seeded)
}

#[tokio::test]
async fn tamper_cut_tail_is_found_against_the_head_row() {
    for n in [1, 3] {
        let (v, seeded) = cut_tail(n, false).await;
        let want = format!(
            "records {}..{} were cut off the end",
            seeded.len() as i64 - n + 1,
            seeded.len()
        );
        assert!(
            v.problems.iter().any(|p| p.reason.contains(&want)),
            "{want}: {:?}",
            v.problems
        );
    }
}

/// Cut and the head row rewound to match: the database alone cannot tell; a head
/// recorded outside it (the server's anchor log) can.
#[tokio::test]
async fn tamper_cut_tail_with_the_head_rewound_needs_a_head_kept_outside() {
    let (v, seeded) = cut_tail(2, true).await;
    assert!(v.ok(), "{:?}", v.problems);
    let last = seeded.last().unwrap();
    let outside = audit::Anchor {
        seq: last.seq,
        hash: last.hash.clone(),
        source: "a file".into(),
    };
    let kept: Vec<_> = seeded[..seeded.len() - 2].to_vec();
    let v = audit::verify_anchored(&kept, &[outside]);
    assert!(
        v.problems
            .iter()
            .any(|p| p.reason.contains("cut off the end")),
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

// ------------------------------------------------------------------ integrity

/// A database of a few MB, its WAL folded into the file, then `len` random bytes written
/// at its middle, as a failing disk or a bad copy would leave it.
async fn damaged(dir: &Path, len: usize) -> (SqliteStore, std::path::PathBuf) {
    let path = dir.join("d.db");
    let store = SqliteStore::open(&path).await.unwrap();
    for i in 0..40 {
        let a = store
            .create_asset(
                NewAsset::named(format!("host-{i}")),
                T0,
                &conformance::admin(),
            )
            .await
            .unwrap();
        let v = conformance::packages(500, &format!("{i}.0"));
        let c = conformance::change(a.id, &format!("k{i}"), None, &[], &v, T0);
        store
            .apply_inventory(c, &conformance::admin())
            .await
            .unwrap();
    }
    store.check_integrity().await.expect("sound before");
    let mut c = raw(&path).await;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    let size = std::fs::metadata(&path).unwrap().len() as usize;
    assert!(
        size > 4 * len,
        "{size} bytes is too small to damage its middle"
    );
    let mut bytes = std::fs::read(&path).unwrap();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for b in &mut bytes[size / 2..size / 2 + len] {
        // xorshift: noise, not a pattern SQLite could take for a page.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    std::fs::write(&path, bytes).unwrap();
    (store, path)
}

#[tokio::test]
async fn damaged_file_fails_the_integrity_check_and_ping() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = damaged(dir.path(), 64 << 10).await;
    let e = store.check_integrity().await.unwrap_err().to_string();
    assert!(e.contains("quick_check"), "{e}");
    // `/readyz` from now on.
    let e = store.ping().await.unwrap_err().to_string();
    assert!(e.contains("quick_check"), "{e}");
    // Opened again (a server start), it is refused by the check, or already at open.
    match SqliteStore::open(&path).await {
        Ok(again) => assert!(again.check_integrity().await.is_err()),
        Err(e) => assert!(matches!(e, Error::Backend(_)), "{e:?}"),
    }
}

#[tokio::test]
async fn integrity_check_finds_migrations_tables_and_head_row_changed() {
    for (sql, want) in [
        (
            "UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 2",
            "migration 2 differs",
        ),
        (
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99, 'newer', 1, x'00', 0)",
            "migration 99 is not known",
        ),
        ("DROP TABLE advisory_files", "tables missing: advisory_files"),
        ("DELETE FROM audit_head", "audit_head row is missing"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let store = SqliteStore::open(&path).await.unwrap();
        conformance::seed_audit(&store).await;
        sqlx::query(sql).execute(&mut raw(&path).await).await.unwrap();
        let e = store.check_integrity().await.unwrap_err().to_string();
        assert!(e.contains(want), "{sql}: {e}");
        assert!(store.ping().await.is_err(), "{sql}: ping");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn database_files_are_created_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let store = SqliteStore::open_url(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    conformance::seed_audit(&store).await;
    for f in ["p.db", "p.db-wal", "p.db-shm"] {
        let mode = std::fs::metadata(dir.path().join(f))
            .unwrap_or_else(|e| panic!("{f}: {e}"))
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{f} is {mode:o}");
    }
    assert_eq!(
        store.database_id(),
        Some(format!("sqlite:{}", path.canonicalize().unwrap().display()))
    );
}
