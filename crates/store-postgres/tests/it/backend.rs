//! PostgreSQL-only tests: tampering, replicas, reconnecting, URLs.

use super::*;
use patchpilot_store::{Error, JobState, NewAsset, NewJob};
use std::collections::HashMap;

/// Seed the log, let `tamper` edit it directly (as someone with database access would,
/// disabling the append-only trigger first), and verify the chain.
async fn tampered(case: &str, tamper: &[&str]) -> Option<audit::Verification> {
    let schema = Schema::create(case).await?;
    let store = PgStore::connect(&schema.url()).await.unwrap();
    conformance::seed_audit(&store).await;
    let mut c = schema.raw().await;
    for sql in ["ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"]
        .iter()
        .chain(tamper)
    {
        sqlx::query(sql)
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    c.close().await.ok();
    let v = conformance::verify_store(&store).await;
    store.close().await;
    Some(v)
}

#[tokio::test]
async fn tamper_edited_record_is_found() {
    let Some(v) = tampered(
        "tamper_edited",
        &["UPDATE audit_log SET after = '{\"tier\":4}' WHERE seq = 3"],
    )
    .await
    else {
        return;
    };
    assert!(
        v.problems
            .iter()
            .any(|p| p.seq == 3 && p.reason.contains("edited")),
        "{:?}",
        v.problems
    );
    let v = tampered(
        "tamper_edited_actor",
        &["UPDATE audit_log SET principal = 'token:999' WHERE seq = 2"],
    )
    .await
    .unwrap();
    assert!(v.problems.iter().any(|p| p.seq == 2), "{:?}", v.problems);
}

#[tokio::test]
async fn tamper_deleted_record_is_found() {
    let Some(v) = tampered("tamper_deleted", &["DELETE FROM audit_log WHERE seq = 3"]).await else {
        return;
    };
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
    let Some(v) = tampered(
        "tamper_swapped",
        &[
            "UPDATE audit_log SET seq = -1 WHERE seq = 2",
            "UPDATE audit_log SET seq = 2 WHERE seq = 3",
            "UPDATE audit_log SET seq = 3 WHERE seq = -1",
        ],
    )
    .await
    else {
        return;
    };
    assert!(!v.ok());
    assert!(
        v.problems.iter().any(|p| p.reason.contains("link")),
        "{:?}",
        v.problems
    );
}

/// Delete the newest `n` records behind the store's back; with `rewind`, also set the
/// head row back to the last record left, as someone who knows about it would.
async fn cut_tail(
    case: &str,
    n: i64,
    rewind: bool,
) -> Option<(audit::Verification, Vec<audit::Record>)> {
    let schema = Schema::create(case).await?;
    let store = PgStore::connect(&schema.url()).await.unwrap();
    let seeded = conformance::seed_audit(&store).await;
    let keep = seeded.len() as i64 - n;
    let mut c = schema.raw().await;
    sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
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
    c.close().await.ok();
    let v = conformance::verify_store(&store).await;
    store.close().await;
    Some((v, seeded))
}

#[tokio::test]
async fn tamper_cut_tail_is_found_against_the_head_row() {
    for n in [1, 3] {
        let Some((v, seeded)) = cut_tail("tamper_cut_tail", n, false).await else {
            return;
        };
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
    let Some((v, seeded)) = cut_tail("tamper_cut_rewind", 2, true).await else {
        return;
    };
    assert!(v.ok(), "{:?}", v.problems);
    let last = seeded.last().unwrap();
    let outside = audit::Anchor {
        seq: last.seq,
        hash: last.hash.clone(),
        source: "a file".into(),
    };
    let v = audit::verify_anchored(&seeded[..seeded.len() - 2], &[outside]);
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
    let Some(schema) = Schema::create("append_only").await else {
        return;
    };
    let store = PgStore::connect(&schema.url()).await.unwrap();
    conformance::seed_audit(&store).await;
    let mut c = schema.raw().await;
    for sql in [
        "UPDATE audit_log SET action = 'x' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 1",
        "TRUNCATE audit_log",
    ] {
        let e = sqlx::query(sql).execute(&mut c).await.unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
}

#[tokio::test]
async fn notice_from_one_instance_reaches_another() {
    let Some(schema) = Schema::create("notice_cross_instance").await else {
        return;
    };
    let a: Arc<dyn Store> = Arc::new(PgStore::connect(&schema.url()).await.unwrap());
    let b: Arc<dyn Store> = Arc::new(PgStore::connect(&schema.url()).await.unwrap());
    conformance::notice_reaches_other_instance(a.clone(), b.clone()).await;
    conformance::notice_reaches_other_instance(b, a).await;
}

#[tokio::test]
async fn notices_stay_within_their_schema() {
    let Some(s1) = Schema::create("notice_isolation_1").await else {
        return;
    };
    let s2 = Schema::create("notice_isolation_2").await.unwrap();
    let a = PgStore::connect(&s1.url()).await.unwrap();
    let b = PgStore::connect(&s2.url()).await.unwrap();
    let mut rx_b = b.subscribe();
    let mut rx_a = a.subscribe();
    let x = a
        .create_asset(NewAsset::named("x"), T0, &conformance::admin())
        .await
        .unwrap();
    a.enqueue_job(
        NewJob {
            asset_id: x.id,
            kind: "rescan".into(),
            payload: serde_json::json!({}),
        },
        T0,
        &conformance::admin(),
    )
    .await
    .unwrap();
    // Once a has heard its own notice, b (listening as long) would have heard it too.
    let got = tokio::time::timeout(std::time::Duration::from_secs(20), rx_a.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, patchpilot_store::Notice::JobQueued { asset_id: x.id });
    let y = b
        .create_asset(NewAsset::named("y"), T0, &conformance::admin())
        .await
        .unwrap();
    b.enqueue_job(
        NewJob {
            asset_id: y.id,
            kind: "rescan".into(),
            payload: serde_json::json!({}),
        },
        T0,
        &conformance::admin(),
    )
    .await
    .unwrap();
    let got = tokio::time::timeout(std::time::Duration::from_secs(20), rx_b.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        patchpilot_store::Notice::JobQueued { asset_id: y.id },
        "b hears only its own schema"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_never_claim_the_same_job() {
    let Some(schema) = Schema::create("replicas_claim").await else {
        return;
    };
    let a: Arc<dyn Store> = Arc::new(PgStore::connect(&schema.url()).await.unwrap());
    let b: Arc<dyn Store> = Arc::new(PgStore::connect(&schema.url()).await.unwrap());
    let x = a
        .create_asset(NewAsset::named("x"), T0, &conformance::admin())
        .await
        .unwrap();
    for i in 0..200 {
        let s = if i % 2 == 0 { &a } else { &b };
        s.enqueue_job(
            NewJob {
                asset_id: x.id,
                kind: format!("j{i}"),
                payload: serde_json::json!({}),
            },
            T0,
            &conformance::admin(),
        )
        .await
        .unwrap();
    }
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let s = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = s
                        .claim_jobs(x.id, 2, T0, T0.plus_secs(600))
                        .await
                        .expect("claim");
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|j| j.id));
                }
            })
        })
        .collect();
    let mut seen: HashMap<i64, u32> = HashMap::new();
    for t in tasks {
        for id in t.await.unwrap() {
            *seen.entry(id).or_default() += 1;
        }
    }
    assert_eq!(seen.len(), 200, "no job lost");
    assert!(seen.values().all(|n| *n == 1), "no job claimed twice");
    assert!(a
        .list_jobs(Some(x.id), 1000)
        .await
        .unwrap()
        .iter()
        .all(|j| j.state == JobState::Claimed));
    let v = conformance::verify_store(&*b).await;
    assert!(v.ok(), "one chain across replicas: {:?}", v.problems);
}

#[tokio::test]
async fn reconnect_runs_migrations_idempotently() {
    let Some(schema) = Schema::create("reconnect").await else {
        return;
    };
    let a = PgStore::connect(&schema.url()).await.unwrap();
    let x = a
        .create_asset(NewAsset::named("keep"), T0, &conformance::admin())
        .await
        .unwrap();
    a.close().await;
    drop(a);
    let url = schema.url();
    let (b, c) = tokio::join!(PgStore::connect(&url), PgStore::connect(&url));
    let (b, _c) = (b.unwrap(), c.unwrap());
    assert_eq!(b.get_asset(x.id).await.unwrap(), Some(x));
    assert!(conformance::verify_store(&b).await.ok());
}

#[tokio::test]
async fn bad_urls_are_clear_errors() {
    assert!(matches!(
        PgStore::connect("sqlite://x.db").await,
        Err(Error::Invalid(_))
    ));
    // Nothing listens on port 1.
    let r = PgStore::connect_with(
        "postgres://nobody@127.0.0.1:1/none",
        patchpilot_store_postgres::PgOptions {
            acquire_timeout: std::time::Duration::from_secs(2),
            ..Default::default()
        },
    )
    .await;
    assert!(matches!(r, Err(Error::Backend(_))), "{r:?}");
}

/// Heartbeats are written together, but a row another transaction holds (an asset whose
/// inventory is being written) holds up only its own heartbeat: the others are answered
/// while the lock is held, and the held one once it is released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_asset_delays_only_its_own_heartbeat() {
    let Some(schema) = Schema::create("locked_asset_heartbeat").await else {
        return;
    };
    let store = Arc::new(PgStore::connect(&schema.url()).await.unwrap());
    let admin = conformance::admin();
    let busy = store
        .create_asset(NewAsset::named("busy"), T0, &admin)
        .await
        .unwrap();
    let free = store
        .create_asset(NewAsset::named("free"), T0, &admin)
        .await
        .unwrap();
    let mut holder = schema.raw().await;
    sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::query("SELECT 1 FROM assets WHERE id = $1 FOR UPDATE")
        .bind(busy.id)
        .execute(&mut holder)
        .await
        .unwrap();

    let held = {
        let s = store.clone();
        tokio::spawn(async move { s.heartbeat(busy.id, T0.plus_secs(5)).await })
    };
    let others: Vec<_> = (0..20)
        .map(|i| {
            let s = store.clone();
            tokio::spawn(async move { s.heartbeat(free.id, T0.plus_secs(i)).await })
        })
        .collect();
    for o in others {
        // A batch that waited for the lock would never finish while it is held.
        let r = tokio::time::timeout(std::time::Duration::from_secs(30), o)
            .await
            .expect("a heartbeat for an unlocked asset waited for another asset's lock");
        assert!(r.unwrap().unwrap());
    }
    assert_eq!(
        store.get_asset(free.id).await.unwrap().unwrap().last_seen,
        Some(T0.plus_secs(19))
    );
    assert!(
        !held.is_finished(),
        "the locked asset's heartbeat cannot have been written"
    );

    sqlx::query("COMMIT").execute(&mut holder).await.unwrap();
    assert!(held.await.unwrap().unwrap());
    assert_eq!(
        store.get_asset(busy.id).await.unwrap().unwrap().last_seen,
        Some(T0.plus_secs(5))
    );
}

/// When PostgreSQL breaks a deadlock between a re-match (which locks findings of many
/// assets in id order) and another transaction by rolling back the re-match, the store
/// runs it again instead of failing the feed update.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rematch_rolled_back_by_a_deadlock_is_retried() {
    use patchpilot_store::{FindingChanges, FindingFilter};
    let Some(schema) = Schema::create("rematch_deadlock_retry").await else {
        return;
    };
    let store = Arc::new(PgStore::connect(&schema.url()).await.unwrap());
    let admin = conformance::admin();
    let a = store
        .create_asset(NewAsset::named("host"), T0, &admin)
        .await
        .unwrap();
    let pkgs = conformance::packages(2, "1.0");
    let mut c = conformance::change(a.id, "k1", None, &[], &pkgs, T0);
    c.open = pkgs
        .iter()
        .map(|p| conformance::new_finding(a.id, p, "CVE-2024-0001", T0))
        .collect();
    store.apply_inventory(c, &admin).await.unwrap();
    let ids: Vec<i64> = store
        .list_findings(FindingFilter::default())
        .await
        .unwrap()
        .iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(ids.len(), 2);
    let (first, second) = (ids[0].min(ids[1]), ids[0].max(ids[1]));

    // Another transaction holds the second finding ...
    let mut other = schema.raw().await;
    sqlx::query("BEGIN").execute(&mut other).await.unwrap();
    sqlx::query("SELECT 1 FROM findings WHERE id = $1 FOR UPDATE")
        .bind(second)
        .execute(&mut other)
        .await
        .unwrap();
    // ... the re-match locks the first and waits for the second ...
    let rematch = {
        let s = store.clone();
        tokio::spawn(async move {
            s.apply_finding_changes(
                FindingChanges {
                    open: vec![],
                    fix: vec![first, second],
                    update: vec![],
                    now: T0.plus_secs(60),
                    cause: "test".into(),
                    basis: vec![],
                },
                &conformance::admin(),
            )
            .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // ... and the other transaction now wants the first: a deadlock. The re-match has
    // waited longer, so its deadlock check (after deadlock_timeout) finds the cycle and
    // PostgreSQL rolls it back; the other transaction then gets its row.
    sqlx::query("SELECT 1 FROM findings WHERE id = $1 FOR UPDATE")
        .bind(first)
        .execute(&mut other)
        .await
        .expect("the other transaction was not the one rolled back");
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    let counts = rematch
        .await
        .unwrap()
        .expect("the re-match should have been retried");
    assert_eq!(counts.counts.fixed, 2);
    let fixed = store
        .list_findings(FindingFilter::default())
        .await
        .unwrap()
        .iter()
        .filter(|f| f.fixed_at == Some(T0.plus_secs(60)))
        .count();
    assert_eq!(fixed, 2);
}

// ------------------------------------------------------------------ integrity

#[tokio::test]
async fn integrity_check_finds_migrations_tables_and_head_row_changed() {
    for (sql, want) in [
        (
            "UPDATE _sqlx_migrations SET checksum = '\\x00' WHERE version = 2",
            "migration 2 differs",
        ),
        (
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99, 'newer', true, '\\x00', 0)",
            "migration 99 is not known",
        ),
        ("DROP TABLE advisory_files", "tables missing: advisory_files"),
        ("DELETE FROM audit_head", "audit_head row is missing"),
    ] {
        let Some(schema) = Schema::create("integrity_check").await else {
            return;
        };
        let store = PgStore::connect(&schema.url()).await.unwrap();
        store.check_integrity().await.expect("sound before");
        conformance::seed_audit(&store).await;
        let mut c = schema.raw().await;
        sqlx::query(sql).execute(&mut c).await.unwrap();
        c.close().await.ok();
        let e = store.check_integrity().await.unwrap_err().to_string();
        assert!(e.contains(want), "{sql}: {e}");
        assert!(store.ping().await.is_err(), "{sql}: ping");
        store.close().await;
    }
}

/// Two connections to one database through different URLs (replicas) name it the same,
/// and another schema (another installation) differently.
#[tokio::test]
async fn database_id_names_the_database_not_the_url() {
    let (Some(a), Some(b)) = (
        Schema::create("database_id_a").await,
        Schema::create("database_id_b").await,
    ) else {
        return;
    };
    let one = PgStore::connect(&a.url()).await.unwrap();
    let alias = a.url().replacen("127.0.0.1", "localhost", 1);
    let two = PgStore::connect(&alias).await.unwrap();
    let other = PgStore::connect(&b.url()).await.unwrap();
    let id = one.database_id().unwrap();
    assert!(id.starts_with("postgres:") && id.ends_with(&a.name), "{id}");
    assert_eq!(two.database_id(), Some(id.clone()));
    assert_ne!(other.database_id(), Some(id));
}
