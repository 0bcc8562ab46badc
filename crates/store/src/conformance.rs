//! The conformance suite every [`Store`] backend passes, against a real database.
//!
//! Each case is a `pub async fn case(store: Arc<dyn Store>)` that expects an empty
//! database and panics on a violation. A backend's `tests/it` runs all of them with
//! [`conformance_suite!`](crate::conformance_suite), giving each case a fresh database
//! (a new SQLite file, a new PostgreSQL schema). Things only a backend can do — tamper
//! with rows behind the store's back, open a second instance on the same database — are
//! in the backend's own tests, using the helpers here ([`seed_audit`], [`verify_store`],
//! [`notice_reaches_other_instance`]).
//!
//! Conventions the cases pin down beyond the trait's doc comments:
//! - A call that changes nothing (revoking a revoked token, finishing a job again with
//!   the same result, finding changes that were all applied already, a claim that finds
//!   no job) writes no audit record; every call that changes state writes exactly one.
//! - `claim_jobs` records the asset's agent (`asset:<id>`, role agent) as the actor, and
//!   `enroll` the enrolment token (`token:<id>`, role enroll), as `agent.enroll` (a new
//!   asset) or `agent.reenroll` (a bound token; the record names the revoked tokens).
//! - Findings: at most one live (not fixed) row per (asset, ecosystem, package name,
//!   version, advisory); opening one that is live is a no-op, not an error.

use crate::audit::{self, Record};
use crate::*;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// Every asset id: `packages_named` and `findings_on` over the whole fleet.
const EVERY_ASSET: std::ops::Range<i64> = 0..i64::MAX;

/// Generate one `#[tokio::test]` per conformance case, in a module `suite`.
///
/// `$fixture` names an `async fn(case: &str) -> Option<(Arc<dyn Store>, G)>` in the
/// calling module: it returns a store on a fresh, empty database and a guard dropped
/// after the case (to delete the database), or `None` to skip (after saying why).
#[macro_export]
macro_rules! conformance_suite {
    ($fixture:ident) => {
        $crate::conformance_suite!(@cases $fixture;
            ping_and_backend,
            tokens_create_lookup_revoke,
            tokens_expiry_and_binding,
            enroll_is_one_time,
            enroll_rejects_unusable_tokens,
            enroll_concurrently_only_once,
            assets_create_conflict_invalid,
            assets_update,
            assets_list_paging,
            heartbeat_updates_last_seen,
            inventory_first_snapshot,
            inventory_diff_applied,
            inventory_large_diff,
            inventory_tolerates_redundant_added,
            inventory_duplicate_writes_nothing,
            inventory_stale_writes_nothing,
            inventory_rejects_bad_input,
            inventory_findings_lifecycle,
            findings_filter_and_paging,
            set_finding_state_rules,
            packages_named_and_findings_on,
            rematch_changes_skip_assets_that_reported,
            apply_finding_changes_counts,
            feed_state_round_trip,
            advisory_files_keep_the_last_two,
            jobs_enqueue_claim_finish,
            jobs_lease_expiry_reclaim,
            jobs_finish_rules,
            jobs_concurrent_claimers_never_share,
            subscribe_receives_job_queued,
            audit_every_change_writes_one_record,
            concurrent_writers_all_succeed,
            concurrent_reports_fail_alone,
            concurrent_heartbeats_answer_each,
            rpm_source_names_reach_binaries,
            unusual_text_round_trips_or_is_invalid,
            enroll_never_takes_an_existing_asset_by_name,
            enroll_same_name_concurrently_creates_one_asset,
            reenroll_binds_to_the_asset_and_revokes_its_agent_tokens,
            reenroll_needs_the_bound_assets_name,
            tokens_list_shows_use_revocation_and_asset,
            stored_text_is_refused_alike_on_every_backend,
            audit_head_is_the_last_record,
            integrity_check_passes_on_a_sound_database,
        );
    };
    (@cases $fixture:ident; $($case:ident),* $(,)?) => {
        mod suite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some((store, _guard)) = super::$fixture(stringify!($case)).await else {
                        return;
                    };
                    $crate::conformance::$case(store).await;
                }
            )*
        }
    };
}

// ---------------------------------------------------------------------- helpers

/// A fixed clock so records are reproducible.
pub const T0: Ts = Ts(1_700_000_000_000);

pub fn admin() -> Actor {
    Actor {
        principal: "token:1".into(),
        role: Role::Admin,
    }
}

fn operator() -> Actor {
    Actor {
        principal: "token:2".into(),
        role: Role::Operator,
    }
}

pub fn pkg(ecosystem: &str, name: &str, version: &str) -> PackageRow {
    PackageRow {
        ecosystem: ecosystem.into(),
        name: name.into(),
        version: version.into(),
        release: None,
        source_name: None,
        source_version: None,
        purl: None,
    }
}

/// `n` distinct Debian-like packages; every 7th has a source package, every 5th a purl.
pub fn packages(n: usize, version: &str) -> Vec<PackageRow> {
    (0..n)
        .map(|i| {
            let mut p = pkg("Debian", &format!("pkg-{i:05}"), version);
            p.release = Some("12".into());
            if i % 7 == 0 {
                p.source_name = Some(format!("src-{:05}", i / 7));
                p.source_version = Some(version.into());
            }
            if i % 5 == 0 {
                p.purl = Some(format!(
                    "pkg:deb/debian/pkg-{i:05}@{version}?distro=debian-12"
                ));
            }
            p
        })
        .collect()
}

/// An inventory change from `prev` to `next` (added/removed by set difference).
pub fn change(
    asset_id: i64,
    key: &str,
    expected_previous: Option<i64>,
    prev: &[PackageRow],
    next: &[PackageRow],
    at: Ts,
) -> InventoryChange {
    let p: BTreeSet<&PackageRow> = prev.iter().collect();
    let n: BTreeSet<&PackageRow> = next.iter().collect();
    InventoryChange {
        asset_id,
        idempotency_key: key.into(),
        expected_previous,
        collected_at: at,
        received_at: at,
        source: "host".into(),
        content_hash: codec::blob_hash(&codec::encode_packages(next)),
        packages: next.to_vec(),
        added: n.difference(&p).map(|x| (*x).clone()).collect(),
        removed: p.difference(&n).map(|x| (*x).clone()).collect(),
        open: Vec::new(),
        fix: Vec::new(),
    }
}

pub fn new_finding(asset_id: i64, p: &PackageRow, advisory: &str, at: Ts) -> NewFinding {
    NewFinding {
        asset_id,
        package: p.clone(),
        advisory_id: advisory.into(),
        fixed_versions: vec!["9.9".into()],
        severity: Some("HIGH".into()),
        first_seen: at,
    }
}

fn sorted(mut v: Vec<PackageRow>) -> Vec<PackageRow> {
    v.sort();
    v
}

fn secret_hash(s: &str) -> TokenHash {
    TokenHash::of_secret(s)
}

fn new_token(name: &str, role: Role, secret: &str) -> NewToken {
    NewToken {
        name: name.into(),
        role,
        hash: secret_hash(secret),
        created_at: T0,
        expires_at: None,
        asset_id: None,
    }
}

#[track_caller]
fn assert_err<T: std::fmt::Debug>(r: Result<T>, want: &str) {
    let got = match &r {
        Err(Error::NotFound(_)) => "NotFound",
        Err(Error::Conflict(_)) => "Conflict",
        Err(Error::Invalid(_)) => "Invalid",
        Err(Error::Backend(_)) => "Backend",
        Ok(_) => "Ok",
    };
    assert_eq!(got, want, "expected {want}, got {r:?}");
}

/// Every audit record, in `seq` order.
pub async fn all_records(store: &dyn Store) -> Vec<Record> {
    let mut out: Vec<Record> = Vec::new();
    loop {
        let after = out.last().map_or(0, |r| r.seq);
        let page = store
            .audit_records(after, 1000)
            .await
            .expect("audit_records");
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

/// Verify the whole chain as the store returns it, against the head the database
/// records (read first, as `audit verify` does).
pub async fn verify_store(store: &dyn Store) -> audit::Verification {
    let head = store.audit_head().await.expect("audit_head");
    audit::verify_anchored(&all_records(store).await, &[head])
}

async fn assert_chain_ok(store: &dyn Store) {
    let v = verify_store(store).await;
    assert!(v.ok(), "audit chain broken: {:?}", v.problems);
}

/// Assert that exactly one record was appended since `before` records, and return it.
async fn one_new_record(store: &dyn Store, before: usize, action: &str, target: &str) -> Record {
    let all = all_records(store).await;
    assert_eq!(
        all.len(),
        before + 1,
        "{action} must write exactly one audit record"
    );
    let r = all.last().cloned().expect("a record");
    assert_eq!(r.action, action);
    assert_eq!(r.target, target);
    r
}

async fn count_records(store: &dyn Store) -> usize {
    all_records(store).await.len()
}

async fn asset(store: &dyn Store, name: &str) -> Asset {
    store
        .create_asset(NewAsset::named(name), T0, &admin())
        .await
        .expect("create_asset")
}

/// Write a few records of different kinds (for the backends' tamper tests); returns them.
pub async fn seed_audit(store: &dyn Store) -> Vec<Record> {
    let a = asset(store, "seed-1").await;
    asset(store, "seed-2").await;
    store
        .update_asset(
            a.id,
            AssetPatch {
                tier: Some(1),
                ..Default::default()
            },
            T0.plus_secs(1),
            &admin(),
        )
        .await
        .expect("update");
    store
        .create_token(new_token("seed", Role::Auditor, "seed"), &admin())
        .await
        .expect("token");
    store
        .enqueue_job(
            NewJob {
                asset_id: a.id,
                kind: "rescan".into(),
                payload: serde_json::json!({}),
            },
            T0,
            &admin(),
        )
        .await
        .expect("job");
    store
        .set_feed_state(
            FeedState {
                name: "osv".into(),
                state: serde_json::json!({"n": 1}),
                updated_at: T0,
            },
            &admin(),
        )
        .await
        .expect("feed");
    let all = all_records(store).await;
    assert!(all.len() >= 6);
    assert!(audit::verify(&all, None).ok());
    all
}

/// A notice published through `publisher` reaches a subscriber of `listener`: on
/// PostgreSQL two store instances on one database (two replicas); on SQLite the same one.
pub async fn notice_reaches_other_instance(publisher: Arc<dyn Store>, listener: Arc<dyn Store>) {
    let mut rx = listener.subscribe();
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let a = asset(&*publisher, &format!("notice-target-{}-{n}", Ts::now().0)).await;
    publisher
        .enqueue_job(
            NewJob {
                asset_id: a.id,
                kind: "rescan".into(),
                payload: serde_json::json!({}),
            },
            T0,
            &admin(),
        )
        .await
        .expect("enqueue");
    let want = Notice::JobQueued { asset_id: a.id };
    wait_for_notice(&mut rx, &want).await;
}

async fn wait_for_notice(rx: &mut tokio::sync::broadcast::Receiver<Notice>, want: &Notice) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Err(_) => panic!("no {want:?} notice within 20 s"),
            Ok(Ok(n)) if &n == want => return,
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("notice channel closed: {e}"),
        }
    }
}

// ---------------------------------------------------------------------- tokens

pub async fn ping_and_backend(store: Arc<dyn Store>) {
    store.ping().await.expect("ping");
    let _ = store.backend();
    assert_eq!(store.count_tokens().await.unwrap(), 0);
    assert!(store.list_tokens().await.unwrap().is_empty());
    assert!(store.list_assets(0, 100).await.unwrap().is_empty());
    assert!(store.audit_records(0, 100).await.unwrap().is_empty());
    assert!(verify_store(&*store).await.ok());
}

pub async fn tokens_create_lookup_revoke(store: Arc<dyn Store>) {
    let t = store
        .create_token(new_token("ops", Role::Operator, "s1"), &admin())
        .await
        .unwrap();
    assert_eq!(t.name, "ops");
    assert_eq!(t.role, Role::Operator);
    assert_eq!(t.created_at, T0);
    assert!(t.revoked_at.is_none() && t.used_at.is_none() && t.expires_at.is_none());
    let r = one_new_record(&*store, 0, "token.create", &format!("token:{}", t.id)).await;
    assert_eq!(r.actor, admin());
    assert!(r.before.is_none());
    assert!(r.after.as_deref().unwrap().contains("\"ops\""));
    assert!(
        !r.after.as_deref().unwrap().contains(&secret_hash("s1").0),
        "no hash in the log"
    );

    assert_eq!(
        store.token_by_hash(&secret_hash("s1")).await.unwrap(),
        Some(t.clone())
    );
    assert_eq!(
        store.token_by_hash(&secret_hash("nope")).await.unwrap(),
        None
    );
    assert_eq!(store.count_tokens().await.unwrap(), 1);

    assert_err(
        store
            .create_token(new_token("dup", Role::Admin, "s1"), &admin())
            .await,
        "Conflict",
    );
    assert_eq!(store.count_tokens().await.unwrap(), 1);
    assert_eq!(count_records(&*store).await, 1);

    let t2 = store
        .create_token(new_token("aud", Role::Auditor, "s2"), &admin())
        .await
        .unwrap();
    assert!(t2.id > t.id);
    let list = store.list_tokens().await.unwrap();
    assert_eq!(
        list.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![t.id, t2.id]
    );

    let now = T0.plus_secs(60);
    assert!(store.revoke_token(t.id, now, &operator()).await.unwrap());
    let r = one_new_record(&*store, 2, "token.revoke", &format!("token:{}", t.id)).await;
    assert_eq!(r.actor, operator());
    assert!(r.before.is_some() && r.after.is_some());
    assert_ne!(r.before, r.after);
    let revoked = store
        .token_by_hash(&secret_hash("s1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(now));
    assert!(!revoked.usable_at(now));
    assert!(!store
        .revoke_token(t.id, now.plus_secs(1), &admin())
        .await
        .unwrap());
    assert_eq!(
        count_records(&*store).await,
        3,
        "revoking twice changes nothing"
    );
    assert_err(store.revoke_token(9999, now, &admin()).await, "NotFound");
    assert_chain_ok(&*store).await;
}

pub async fn tokens_expiry_and_binding(store: Arc<dyn Store>) {
    let mut nt = new_token("short", Role::Admin, "exp");
    nt.expires_at = Some(T0.plus_secs(10));
    store.create_token(nt, &admin()).await.unwrap();
    let t = store.token_by_hash(&t_hash("exp")).await.unwrap().unwrap();
    assert_eq!(t.expires_at, Some(T0.plus_secs(10)));
    assert!(t.usable_at(T0.plus_secs(9)));
    assert!(!t.usable_at(T0.plus_secs(10)));

    let mut bound = new_token("agent", Role::Agent, "ag");
    bound.asset_id = Some(424242);
    assert_err(
        store.create_token(bound.clone(), &admin()).await,
        "NotFound",
    );
    let a = asset(&*store, "host-a").await;
    bound.asset_id = Some(a.id);
    let t = store.create_token(bound, &admin()).await.unwrap();
    assert_eq!(t.asset_id, Some(a.id));
    assert_eq!(
        store
            .token_by_hash(&t_hash("ag"))
            .await
            .unwrap()
            .unwrap()
            .asset_id,
        Some(a.id)
    );
    assert_chain_ok(&*store).await;
}

fn t_hash(s: &str) -> TokenHash {
    secret_hash(s)
}

fn enrollment(enroll_secret: &str, agent_secret: &str, name: &str) -> Enrollment {
    Enrollment {
        enroll_hash: secret_hash(enroll_secret),
        agent_hash: secret_hash(agent_secret),
        asset: NewAsset::named(name),
    }
}

pub async fn enroll_is_one_time(store: Arc<dyn Store>) {
    let et = store
        .create_token(new_token("enrol", Role::Enroll, "e1"), &admin())
        .await
        .unwrap();
    let n = count_records(&*store).await;
    let now = T0.plus_secs(5);
    let mut req = enrollment("e1", "agent-1", "web-1");
    req.asset.tier = 1;
    req.asset.tags = vec!["pci".into()];
    let got = store.enroll(req, now).await.unwrap();
    assert_eq!(got.asset.name, "web-1");
    assert_eq!(got.asset.tier, 1);
    assert_eq!(got.asset.tags, vec!["pci".to_string()]);
    assert_eq!(got.token.role, Role::Agent);
    assert_eq!(got.token.asset_id, Some(got.asset.id));
    assert_eq!(
        store.token_by_hash(&secret_hash("agent-1")).await.unwrap(),
        Some(got.token.clone())
    );
    assert_eq!(
        store.get_asset(got.asset.id).await.unwrap(),
        Some(got.asset.clone())
    );
    let used = store
        .token_by_hash(&secret_hash("e1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(used.used_at, Some(now));
    assert!(!used.usable_at(now));
    let r = one_new_record(
        &*store,
        n,
        "agent.enroll",
        &format!("asset:{}", got.asset.id),
    )
    .await;
    assert_eq!(
        r.actor,
        Actor {
            principal: format!("token:{}", et.id),
            role: Role::Enroll
        }
    );
    assert!(r.before.is_some() && r.after.is_some());

    // Second use: Conflict, and nothing written.
    let tokens = store.count_tokens().await.unwrap();
    assert_err(
        store
            .enroll(enrollment("e1", "agent-2", "web-2"), now)
            .await,
        "Conflict",
    );
    assert_eq!(store.count_tokens().await.unwrap(), tokens);
    assert_eq!(store.list_assets(0, 100).await.unwrap().len(), 1);
    assert_eq!(count_records(&*store).await, n + 1);

    // A second enrolment token for the same name does not reuse the asset (see
    // `enroll_never_takes_an_existing_asset_by_name`).
    store
        .create_token(new_token("enrol2", Role::Enroll, "e2"), &admin())
        .await
        .unwrap();
    assert_err(
        store
            .enroll(enrollment("e2", "agent-3", "web-1"), now)
            .await,
        "Conflict",
    );
    assert_eq!(store.list_assets(0, 100).await.unwrap().len(), 1);
    assert_chain_ok(&*store).await;
}

pub async fn enroll_rejects_unusable_tokens(store: Arc<dyn Store>) {
    let now = T0.plus_secs(100);
    assert_err(
        store.enroll(enrollment("missing", "a", "x"), now).await,
        "NotFound",
    );
    store
        .create_token(new_token("admin", Role::Admin, "adm"), &admin())
        .await
        .unwrap();
    assert_err(
        store.enroll(enrollment("adm", "a", "x"), now).await,
        "NotFound",
    );
    let mut exp = new_token("old", Role::Enroll, "old");
    exp.expires_at = Some(T0.plus_secs(50));
    store.create_token(exp, &admin()).await.unwrap();
    assert_err(
        store.enroll(enrollment("old", "a", "x"), now).await,
        "NotFound",
    );
    let rv = store
        .create_token(new_token("rv", Role::Enroll, "rv"), &admin())
        .await
        .unwrap();
    store.revoke_token(rv.id, T0, &admin()).await.unwrap();
    assert_err(
        store.enroll(enrollment("rv", "a", "x"), now).await,
        "NotFound",
    );

    // An invalid asset is rejected without consuming the token.
    store
        .create_token(new_token("ok", Role::Enroll, "ok"), &admin())
        .await
        .unwrap();
    let mut bad = enrollment("ok", "a", "x");
    bad.asset.tier = 9;
    let n = count_records(&*store).await;
    assert_err(store.enroll(bad, now).await, "Invalid");
    assert!(store
        .token_by_hash(&secret_hash("ok"))
        .await
        .unwrap()
        .unwrap()
        .used_at
        .is_none());
    // An agent hash that collides with an existing token: Conflict, token not consumed.
    assert_err(
        store.enroll(enrollment("ok", "adm", "x"), now).await,
        "Conflict",
    );
    assert!(store
        .token_by_hash(&secret_hash("ok"))
        .await
        .unwrap()
        .unwrap()
        .used_at
        .is_none());
    assert!(store.list_assets(0, 10).await.unwrap().is_empty());
    assert_eq!(count_records(&*store).await, n);
    store.enroll(enrollment("ok", "a", "x"), now).await.unwrap();
    assert_chain_ok(&*store).await;
}

pub async fn enroll_concurrently_only_once(store: Arc<dyn Store>) {
    store
        .create_token(new_token("enrol", Role::Enroll, "race"), &admin())
        .await
        .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let s = store.clone();
            tokio::spawn(async move {
                s.enroll(
                    enrollment("race", &format!("agent-{i}"), &format!("host-{i}")),
                    T0,
                )
                .await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => ok += 1,
            Err(Error::Conflict(_)) => {}
            Err(e) => panic!("a losing enrolment must be Conflict, got {e:?}"),
        }
    }
    assert_eq!(ok, 1, "exactly one concurrent enrolment wins");
    assert_eq!(store.list_assets(0, 100).await.unwrap().len(), 1);
    let agents = store
        .list_tokens()
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.role == Role::Agent)
        .count();
    assert_eq!(agents, 1);
    assert_chain_ok(&*store).await;
}

// ---------------------------------------------------------------------- assets

pub async fn assets_create_conflict_invalid(store: Arc<dyn Store>) {
    let new = NewAsset {
        name: "db-1".into(),
        environment: Environment::Cloud,
        site: Some("eu-west-1".into()),
        tier: 1,
        exposure: Exposure::InternetFacing,
        sensitivity: Sensitivity::High,
        owner: Some("team-db".into()),
        tags: vec!["pci".into(), "prod".into()],
    };
    let a = store.create_asset(new.clone(), T0, &admin()).await.unwrap();
    assert_eq!(
        (
            a.name.as_str(),
            a.environment,
            a.site.as_deref(),
            a.tier,
            a.exposure,
            a.sensitivity
        ),
        (
            "db-1",
            Environment::Cloud,
            Some("eu-west-1"),
            1,
            Exposure::InternetFacing,
            Sensitivity::High
        )
    );
    assert_eq!(a.owner.as_deref(), Some("team-db"));
    assert_eq!(a.tags, new.tags);
    assert_eq!(
        (a.created_at, a.updated_at, a.last_seen, a.current_snapshot),
        (T0, T0, None, None)
    );
    assert_eq!(store.get_asset(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(store.get_asset(a.id + 1000).await.unwrap(), None);
    let r = one_new_record(&*store, 0, "asset.create", &format!("asset:{}", a.id)).await;
    assert!(r.before.is_none() && r.after.as_deref().unwrap().contains("db-1"));

    assert_err(
        store
            .create_asset(NewAsset::named("db-1"), T0, &admin())
            .await,
        "Conflict",
    );
    for tier in [0u8, 5, 255] {
        let mut bad = NewAsset::named("db-2");
        bad.tier = tier;
        assert_err(store.create_asset(bad, T0, &admin()).await, "Invalid");
    }
    assert_err(
        store.create_asset(NewAsset::named(""), T0, &admin()).await,
        "Invalid",
    );
    assert_err(
        store
            .create_asset(NewAsset::named("x".repeat(256)), T0, &admin())
            .await,
        "Invalid",
    );
    assert_eq!(store.list_assets(0, 100).await.unwrap().len(), 1);
    assert_eq!(count_records(&*store).await, 1);
    assert_chain_ok(&*store).await;
}

pub async fn assets_update(store: Arc<dyn Store>) {
    let a = asset(&*store, "app-1").await;
    let n = count_records(&*store).await;
    let now = T0.plus_secs(30);
    let patch = AssetPatch {
        tier: Some(2),
        tags: Some(vec!["edge".into()]),
        owner: Some("alice".into()),
        site: Some("lab".into()),
        exposure: Some(Exposure::Isolated),
        ..Default::default()
    };
    let b = store
        .update_asset(a.id, patch, now, &operator())
        .await
        .unwrap();
    assert_eq!(
        (b.tier, b.exposure, b.updated_at),
        (2, Exposure::Isolated, now)
    );
    assert_eq!(
        (b.owner.as_deref(), b.site.as_deref()),
        (Some("alice"), Some("lab"))
    );
    assert_eq!(b.tags, vec!["edge".to_string()]);
    assert_eq!(
        (b.name.as_str(), b.environment, b.sensitivity, b.created_at),
        ("app-1", a.environment, a.sensitivity, a.created_at)
    );
    assert_eq!(store.get_asset(a.id).await.unwrap(), Some(b.clone()));
    let r = one_new_record(&*store, n, "asset.update", &format!("asset:{}", a.id)).await;
    assert_eq!(r.actor, operator());
    let before: Asset = serde_json::from_str(r.before.as_deref().unwrap()).unwrap();
    let after: Asset = serde_json::from_str(r.after.as_deref().unwrap()).unwrap();
    assert_eq!((before, after), (a.clone(), b.clone()));

    // An empty string clears an optional text field.
    let c = store
        .update_asset(
            a.id,
            AssetPatch {
                owner: Some(String::new()),
                ..Default::default()
            },
            now,
            &admin(),
        )
        .await
        .unwrap();
    assert_eq!(c.owner, None);
    assert_eq!(c.site.as_deref(), Some("lab"));

    assert_err(
        store
            .update_asset(
                a.id,
                AssetPatch {
                    tier: Some(7),
                    ..Default::default()
                },
                now,
                &admin(),
            )
            .await,
        "Invalid",
    );
    assert_eq!(store.get_asset(a.id).await.unwrap().unwrap().tier, 2);
    assert_err(
        store
            .update_asset(a.id + 99, AssetPatch::default(), now, &admin())
            .await,
        "NotFound",
    );
    assert_eq!(count_records(&*store).await, n + 2);
    assert_chain_ok(&*store).await;
}

pub async fn assets_list_paging(store: Arc<dyn Store>) {
    let mut ids = Vec::new();
    for i in 0..25 {
        ids.push(asset(&*store, &format!("node-{i:02}")).await.id);
    }
    let mut seen = Vec::new();
    let mut after = 0;
    let mut pages = 0;
    loop {
        let page = store.list_assets(after, 10).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 10);
        pages += 1;
        after = page.last().unwrap().id;
        seen.extend(page.into_iter().map(|a| a.id));
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids, "ordered by id, no gaps or repeats");
    assert!(store.list_assets(0, 0).await.unwrap().is_empty());
    assert_eq!(
        store
            .list_assets(ids[4], 3)
            .await
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect::<Vec<_>>(),
        ids[5..8].to_vec()
    );
}

pub async fn heartbeat_updates_last_seen(store: Arc<dyn Store>) {
    let a = asset(&*store, "hb").await;
    let n = count_records(&*store).await;
    assert!(store.heartbeat(a.id, T0.plus_secs(10)).await.unwrap());
    assert_eq!(
        store.get_asset(a.id).await.unwrap().unwrap().last_seen,
        Some(T0.plus_secs(10))
    );
    assert!(store.heartbeat(a.id, T0.plus_secs(20)).await.unwrap());
    // A late, older heartbeat does not move last_seen back.
    assert!(store.heartbeat(a.id, T0.plus_secs(15)).await.unwrap());
    let got = store.get_asset(a.id).await.unwrap().unwrap();
    assert_eq!(got.last_seen, Some(T0.plus_secs(20)));
    assert_eq!(
        got.updated_at, a.updated_at,
        "a heartbeat is not an asset change"
    );
    assert!(!store.heartbeat(a.id + 1000, T0).await.unwrap());
    assert_eq!(
        count_records(&*store).await,
        n,
        "heartbeats write no audit record"
    );
}

// ---------------------------------------------------------------------- inventories

pub async fn inventory_first_snapshot(store: Arc<dyn Store>) {
    let a = asset(&*store, "inv").await;
    let empty = store.current_packages(a.id).await.unwrap();
    assert_eq!(empty, CurrentPackages::default());
    assert_err(store.current_packages(a.id + 1000).await, "NotFound");
    assert!(store.list_snapshots(a.id).await.unwrap().is_empty());

    let pk = packages(1500, "1.0");
    let n = count_records(&*store).await;
    let at = T0.plus_secs(60);
    let c = change(a.id, "r1", None, &[], &pk, at);
    let out = store.apply_inventory(c.clone(), &admin()).await.unwrap();
    let ApplyOutcome::Applied {
        snapshot_id,
        opened: 0,
        fixed: 0,
    } = out
    else {
        panic!("unexpected {out:?}");
    };
    let cur = store.current_packages(a.id).await.unwrap();
    assert_eq!(cur.snapshot_id, Some(snapshot_id));
    assert_eq!(cur.idempotency_key.as_deref(), Some("r1"));
    assert_eq!(sorted(cur.packages), sorted(pk.clone()));
    let got = store.get_asset(a.id).await.unwrap().unwrap();
    assert_eq!(got.current_snapshot, Some(snapshot_id));
    assert_eq!(got.last_seen, Some(at), "a report is a sign of life");

    let snaps = store.list_snapshots(a.id).await.unwrap();
    assert_eq!(snaps.len(), 1);
    assert_eq!(
        snaps[0],
        SnapshotInfo {
            id: snapshot_id,
            asset_id: a.id,
            collected_at: at,
            received_at: at,
            source: "host".into(),
            content_hash: c.content_hash.clone(),
            package_count: 1500,
        }
    );
    assert_eq!(
        store.snapshot_packages(snapshot_id).await.unwrap(),
        Some(pk),
        "order kept"
    );
    assert_eq!(
        store.snapshot_packages(snapshot_id + 1000).await.unwrap(),
        None
    );

    let r = one_new_record(&*store, n, "inventory.apply", &format!("asset:{}", a.id)).await;
    let after = r.after.as_deref().unwrap();
    assert!(
        after.len() < 2000,
        "the audit record is a summary, not the package list"
    );
    assert!(after.contains(&c.content_hash) && after.contains(&snapshot_id.to_string()));
    assert_chain_ok(&*store).await;
}

pub async fn inventory_diff_applied(store: Arc<dyn Store>) {
    let a = asset(&*store, "diff").await;
    let v1 = packages(300, "1.0");
    let ApplyOutcome::Applied {
        snapshot_id: s1, ..
    } = store
        .apply_inventory(change(a.id, "r1", None, &[], &v1, T0), &admin())
        .await
        .unwrap()
    else {
        panic!("first apply");
    };
    // Remove 10, add 20, upgrade 5 (remove + add of the same name).
    let mut v2: Vec<PackageRow> = v1[10..].to_vec();
    for p in v2.iter_mut().take(5) {
        p.version = "2.0".into();
    }
    v2.extend((0..20).map(|i| pkg("npm", &format!("new-{i}"), "0.1.0")));
    let c2 = change(a.id, "r2", Some(s1), &v1, &v2, T0.plus_secs(60));
    assert_eq!((c2.added.len(), c2.removed.len()), (25, 15));
    let ApplyOutcome::Applied {
        snapshot_id: s2, ..
    } = store.apply_inventory(c2, &admin()).await.unwrap()
    else {
        panic!("second apply");
    };
    assert!(s2 > s1);
    let cur = store.current_packages(a.id).await.unwrap();
    assert_eq!(cur.snapshot_id, Some(s2));
    assert_eq!(sorted(cur.packages), sorted(v2.clone()));
    // History: both snapshots, each with its own full list.
    let snaps = store.list_snapshots(a.id).await.unwrap();
    assert_eq!(
        snaps
            .iter()
            .map(|s| (s.id, s.package_count))
            .collect::<Vec<_>>(),
        vec![(s1, 300), (s2, 310)]
    );
    assert_eq!(store.snapshot_packages(s1).await.unwrap(), Some(v1.clone()));
    assert_eq!(store.snapshot_packages(s2).await.unwrap(), Some(v2.clone()));

    // A third report identical to the first shares its stored list and reads back right.
    let c3 = change(a.id, "r3", Some(s2), &v2, &v1, T0.plus_secs(120));
    let ApplyOutcome::Applied {
        snapshot_id: s3, ..
    } = store.apply_inventory(c3, &admin()).await.unwrap()
    else {
        panic!("third apply");
    };
    assert_eq!(store.snapshot_packages(s3).await.unwrap(), Some(v1.clone()));
    assert_eq!(
        sorted(store.current_packages(a.id).await.unwrap().packages),
        sorted(v1)
    );

    // Another asset's inventory is separate.
    let b = asset(&*store, "other").await;
    assert!(store
        .current_packages(b.id)
        .await
        .unwrap()
        .packages
        .is_empty());
    assert_chain_ok(&*store).await;
}

pub async fn inventory_large_diff(store: Arc<dyn Store>) {
    // Larger than any per-statement chunk a backend might use.
    let a = asset(&*store, "big").await;
    let v1 = packages(6000, "1.0");
    let ApplyOutcome::Applied {
        snapshot_id: s1, ..
    } = store
        .apply_inventory(change(a.id, "k1", None, &[], &v1, T0), &admin())
        .await
        .unwrap()
    else {
        panic!("apply");
    };
    let mut v2 = v1[1200..].to_vec();
    v2.extend(packages(6000, "2.0").into_iter().take(700));
    let c = change(a.id, "k2", Some(s1), &v1, &v2, T0);
    assert_eq!((c.added.len(), c.removed.len()), (700, 1200));
    store.apply_inventory(c, &admin()).await.unwrap();
    let cur = store.current_packages(a.id).await.unwrap();
    assert_eq!(cur.packages.len(), 5500);
    assert_eq!(sorted(cur.packages), sorted(v2));
}

pub async fn inventory_tolerates_redundant_added(store: Arc<dyn Store>) {
    // A package listed twice, or "added" though already current, is stored once.
    let a = asset(&*store, "redundant").await;
    let v1 = packages(20, "1.0");
    let mut c1 = change(a.id, "k1", None, &[], &v1, T0);
    c1.added.push(v1[3].clone());
    let ApplyOutcome::Applied {
        snapshot_id: s1, ..
    } = store.apply_inventory(c1, &admin()).await.unwrap()
    else {
        panic!("apply 1");
    };
    assert_eq!(
        sorted(store.current_packages(a.id).await.unwrap().packages),
        sorted(v1.clone())
    );
    let mut v2 = v1.clone();
    v2.push(pkg("npm", "left-pad", "1.3.0"));
    let mut c2 = change(a.id, "k2", Some(s1), &v1, &v2, T0);
    c2.added.push(v1[0].clone());
    assert!(matches!(
        store.apply_inventory(c2, &admin()).await.unwrap(),
        ApplyOutcome::Applied { .. }
    ));
    assert_eq!(
        sorted(store.current_packages(a.id).await.unwrap().packages),
        sorted(v2)
    );
    assert_chain_ok(&*store).await;
}

pub async fn inventory_duplicate_writes_nothing(store: Arc<dyn Store>) {
    let a = asset(&*store, "dup").await;
    let v1 = packages(50, "1.0");
    let p = v1[3].clone();
    let mut c1 = change(a.id, "same-key", None, &[], &v1, T0);
    c1.open = vec![new_finding(a.id, &p, "CVE-1", T0)];
    let ApplyOutcome::Applied {
        snapshot_id,
        opened: 1,
        ..
    } = store.apply_inventory(c1.clone(), &admin()).await.unwrap()
    else {
        panic!("apply");
    };
    let n = count_records(&*store).await;
    // The same report again, even after other changes, is a duplicate.
    assert_eq!(
        store.apply_inventory(c1.clone(), &admin()).await.unwrap(),
        ApplyOutcome::Duplicate { snapshot_id }
    );
    let v2 = packages(60, "1.0");
    let ApplyOutcome::Applied { .. } = store
        .apply_inventory(
            change(a.id, "next", Some(snapshot_id), &v1, &v2, T0),
            &admin(),
        )
        .await
        .unwrap()
    else {
        panic!("apply 2");
    };
    assert_eq!(
        store.apply_inventory(c1, &admin()).await.unwrap(),
        ApplyOutcome::Duplicate { snapshot_id }
    );
    assert_eq!(count_records(&*store).await, n + 1);
    assert_eq!(store.list_snapshots(a.id).await.unwrap().len(), 2);
    assert_eq!(
        store
            .list_findings(FindingFilter::default())
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store.current_packages(a.id).await.unwrap().packages.len(),
        60
    );
    // Keys are per asset: another asset may use the same key.
    let b = asset(&*store, "dup-b").await;
    let c = change(b.id, "same-key", None, &[], &v1, T0);
    assert!(matches!(
        store.apply_inventory(c, &admin()).await.unwrap(),
        ApplyOutcome::Applied { .. }
    ));
    assert_chain_ok(&*store).await;
}

pub async fn inventory_stale_writes_nothing(store: Arc<dyn Store>) {
    let a = asset(&*store, "stale").await;
    let v1 = packages(20, "1.0");
    let ApplyOutcome::Applied {
        snapshot_id: s1, ..
    } = store
        .apply_inventory(change(a.id, "k1", None, &[], &v1, T0), &admin())
        .await
        .unwrap()
    else {
        panic!("apply");
    };
    let n = count_records(&*store).await;
    let v2 = packages(30, "1.0");
    for expected in [None, Some(s1 + 1000)] {
        let mut c = change(a.id, &format!("k2-{expected:?}"), expected, &[], &v2, T0);
        c.open = vec![new_finding(a.id, &v2[0], "CVE-9", T0)];
        assert_eq!(
            store.apply_inventory(c, &admin()).await.unwrap(),
            ApplyOutcome::Stale { current: Some(s1) }
        );
    }
    assert_eq!(count_records(&*store).await, n);
    assert_eq!(store.list_snapshots(a.id).await.unwrap().len(), 1);
    assert_eq!(
        sorted(store.current_packages(a.id).await.unwrap().packages),
        sorted(v1.clone())
    );
    assert!(store
        .list_findings(FindingFilter::default())
        .await
        .unwrap()
        .is_empty());
    // The stale key was not consumed: recomputed against the right base, it applies.
    let c = change(a.id, "k2-None", Some(s1), &v1, &v2, T0);
    assert!(matches!(
        store.apply_inventory(c, &admin()).await.unwrap(),
        ApplyOutcome::Applied { .. }
    ));
    // On an asset with no snapshot, any expected_previous is stale.
    let b = asset(&*store, "fresh").await;
    let c = change(b.id, "x", Some(s1), &[], &v1, T0);
    assert_eq!(
        store.apply_inventory(c, &admin()).await.unwrap(),
        ApplyOutcome::Stale { current: None }
    );
    assert_chain_ok(&*store).await;
}

pub async fn inventory_rejects_bad_input(store: Arc<dyn Store>) {
    let a = asset(&*store, "bad").await;
    let b = asset(&*store, "other").await;
    let v = packages(5, "1.0");
    let n = count_records(&*store).await;
    assert_err(
        store
            .apply_inventory(change(a.id + 1000, "k", None, &[], &v, T0), &admin())
            .await,
        "NotFound",
    );
    let mut c = change(a.id, "k", None, &[], &v, T0);
    c.open = vec![new_finding(b.id, &v[0], "CVE-1", T0)];
    assert_err(store.apply_inventory(c, &admin()).await, "Invalid");
    assert_err(
        store
            .apply_inventory(change(a.id, "", None, &[], &v, T0), &admin())
            .await,
        "Invalid",
    );
    assert_eq!(count_records(&*store).await, n);
    assert!(store.list_snapshots(a.id).await.unwrap().is_empty());
}

pub async fn inventory_findings_lifecycle(store: Arc<dyn Store>) {
    let a = asset(&*store, "life").await;
    let v1 = packages(40, "1.0");
    let (p, q) = (v1[1].clone(), v1[2].clone());
    let t1 = T0.plus_secs(100);
    let mut c1 = change(a.id, "k1", None, &[], &v1, t1);
    c1.open = vec![
        new_finding(a.id, &p, "CVE-A", t1),
        new_finding(a.id, &q, "CVE-B", t1),
    ];
    let ApplyOutcome::Applied {
        snapshot_id: s1,
        opened: 2,
        fixed: 0,
    } = store.apply_inventory(c1, &admin()).await.unwrap()
    else {
        panic!("apply 1");
    };
    let open = store
        .list_findings(FindingFilter {
            asset_id: Some(a.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(open.len(), 2);
    let fa = open
        .iter()
        .find(|f| f.advisory_id == "CVE-A")
        .unwrap()
        .clone();
    assert_eq!(
        (fa.state, fa.first_seen, fa.fixed_at, &fa.package),
        (FindingState::Open, t1, None, &p)
    );
    assert_eq!(
        (fa.fixed_versions.clone(), fa.severity.as_deref()),
        (vec!["9.9".to_string()], Some("HIGH"))
    );

    // p leaves: its finding is fixed at the report's time; opening q's again is a no-op.
    let t2 = T0.plus_secs(200);
    let v2: Vec<PackageRow> = v1.iter().filter(|x| **x != p).cloned().collect();
    let mut c2 = change(a.id, "k2", Some(s1), &v1, &v2, t2);
    c2.fix = vec![fa.id];
    c2.open = vec![new_finding(a.id, &q, "CVE-B", t2)];
    let ApplyOutcome::Applied {
        snapshot_id: s2,
        opened: 0,
        fixed: 1,
    } = store.apply_inventory(c2, &admin()).await.unwrap()
    else {
        panic!("apply 2");
    };
    let fixed = store
        .list_findings(FindingFilter {
            state: Some(FindingState::Fixed),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(fixed.len(), 1);
    assert_eq!(
        (fixed[0].id, fixed[0].fixed_at, fixed[0].first_seen),
        (fa.id, Some(t2), t1)
    );
    let fb = store
        .list_findings(FindingFilter {
            advisory_id: Some("CVE-B".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (fb.len(), fb[0].first_seen),
        (1, t1),
        "the live finding keeps its first_seen"
    );

    // p comes back: a new finding row with a new first_seen; the fixed one stays fixed.
    let t3 = T0.plus_secs(300);
    let mut c3 = change(a.id, "k3", Some(s2), &v2, &v1, t3);
    c3.open = vec![new_finding(a.id, &p, "CVE-A", t3)];
    // Fixing an already fixed finding is a no-op.
    c3.fix = vec![fa.id];
    let ApplyOutcome::Applied {
        opened: 1,
        fixed: 0,
        ..
    } = store.apply_inventory(c3, &admin()).await.unwrap()
    else {
        panic!("apply 3");
    };
    let all_a = store
        .list_findings(FindingFilter {
            advisory_id: Some("CVE-A".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all_a.len(), 2);
    assert_eq!(all_a[0].id, fa.id);
    assert_eq!(all_a[0].state, FindingState::Fixed);
    assert!(all_a[1].id > fa.id);
    assert_eq!(
        (all_a[1].state, all_a[1].first_seen, all_a[1].fixed_at),
        (FindingState::Open, t3, None)
    );

    // An inventory cannot fix another asset's finding.
    let b = asset(&*store, "life-b").await;
    let mut cb = change(b.id, "kb", None, &[], &v1, t3);
    cb.fix = vec![all_a[1].id];
    let ApplyOutcome::Applied { fixed: 0, .. } = store.apply_inventory(cb, &admin()).await.unwrap()
    else {
        panic!("apply b");
    };
    assert_eq!(
        store
            .list_findings(FindingFilter {
                state: Some(FindingState::Open),
                ..Default::default()
            })
            .await
            .unwrap()
            .len(),
        2
    );
    assert_chain_ok(&*store).await;
}

// ---------------------------------------------------------------------- findings

pub async fn findings_filter_and_paging(store: Arc<dyn Store>) {
    let a = asset(&*store, "f-a").await;
    let b = asset(&*store, "f-b").await;
    let pk = packages(1005, "1.0");
    let mut open: Vec<NewFinding> = pk
        .iter()
        .map(|p| new_finding(a.id, p, "CVE-MANY", T0))
        .collect();
    open.push(new_finding(b.id, &pk[0], "CVE-ONE", T0));
    open.push(new_finding(b.id, &pk[1], "CVE-MANY", T0));
    let counts = store
        .apply_finding_changes(
            FindingChanges {
                open,
                now: T0,
                cause: "test".into(),
                ..Default::default()
            },
            &admin(),
        )
        .await
        .unwrap()
        .counts;
    assert_eq!(
        counts,
        ChangeCounts {
            opened: 1007,
            fixed: 0,
            updated: 0
        }
    );

    let default = store.list_findings(FindingFilter::default()).await.unwrap();
    assert_eq!(default.len(), 1000, "the default limit is 1,000");
    assert!(default.windows(2).all(|w| w[0].id < w[1].id));
    let all = store
        .list_findings(FindingFilter {
            limit: Some(50_000),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 1007);
    let rest = store
        .list_findings(FindingFilter {
            after_id: default.last().unwrap().id,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rest.len(), 7);
    let on_b = store
        .list_findings(FindingFilter {
            asset_id: Some(b.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(on_b.len(), 2);
    assert!(on_b.iter().all(|f| f.asset_id == b.id));
    let one = store
        .list_findings(FindingFilter {
            advisory_id: Some("CVE-ONE".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    let b_many = store
        .list_findings(FindingFilter {
            asset_id: Some(b.id),
            advisory_id: Some("CVE-MANY".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(b_many.len(), 1);
    store
        .set_finding_state(
            one[0].id,
            FindingState::Accepted,
            Some("risk owner ok".into()),
            T0,
            &admin(),
        )
        .await
        .unwrap();
    let acc = store
        .list_findings(FindingFilter {
            state: Some(FindingState::Accepted),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        acc.iter().map(|f| f.id).collect::<Vec<_>>(),
        vec![one[0].id]
    );
    // `unfixed`: open, accepted and suppressed, never fixed.
    store
        .apply_finding_changes(
            FindingChanges {
                fix: vec![on_b.iter().find(|f| f.id != one[0].id).unwrap().id],
                now: T0,
                cause: "test".into(),
                ..Default::default()
            },
            &admin(),
        )
        .await
        .unwrap();
    let unfixed_b = store
        .list_findings(FindingFilter {
            asset_id: Some(b.id),
            unfixed: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        unfixed_b.iter().map(|f| f.id).collect::<Vec<_>>(),
        vec![one[0].id],
        "unfixed keeps the accepted finding and drops the fixed one"
    );
    let page = store
        .list_findings(FindingFilter {
            asset_id: Some(a.id),
            limit: Some(10),
            after_id: all[500].id,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.len(), 10);
    assert!(page[0].id > all[500].id);
    assert!(store
        .list_findings(FindingFilter {
            limit: Some(0),
            ..Default::default()
        })
        .await
        .unwrap()
        .is_empty());
}

pub async fn set_finding_state_rules(store: Arc<dyn Store>) {
    let a = asset(&*store, "st").await;
    let p = pkg("crates.io", "openssl", "0.10.0");
    store
        .apply_finding_changes(
            FindingChanges {
                open: vec![
                    new_finding(a.id, &p, "RUSTSEC-1", T0),
                    new_finding(a.id, &p, "RUSTSEC-2", T0),
                ],
                now: T0,
                cause: "t".into(),
                ..Default::default()
            },
            &admin(),
        )
        .await
        .unwrap();
    let fs = store.list_findings(FindingFilter::default()).await.unwrap();
    let (f, g) = (fs[0].clone(), fs[1].clone());
    let n = count_records(&*store).await;
    let now = T0.plus_secs(5);
    let acc = store
        .set_finding_state(
            f.id,
            FindingState::Accepted,
            Some("compensating control".into()),
            now,
            &operator(),
        )
        .await
        .unwrap();
    assert_eq!(
        (acc.state, acc.reason.as_deref(), acc.updated_at),
        (FindingState::Accepted, Some("compensating control"), now)
    );
    assert_eq!((acc.first_seen, acc.fixed_at), (f.first_seen, None));
    assert_eq!(
        store
            .list_findings(FindingFilter {
                state: Some(FindingState::Accepted),
                ..Default::default()
            })
            .await
            .unwrap(),
        vec![acc.clone()]
    );
    let r = one_new_record(&*store, n, "finding.state", &format!("finding:{}", f.id)).await;
    assert_eq!(r.actor, operator());
    let (b, af): (Finding, Finding) = (
        serde_json::from_str(r.before.as_deref().unwrap()).unwrap(),
        serde_json::from_str(r.after.as_deref().unwrap()).unwrap(),
    );
    assert_eq!((b, af), (f.clone(), acc.clone()));

    assert_err(
        store
            .set_finding_state(f.id, FindingState::Suppressed, None, now, &admin())
            .await,
        "Invalid",
    );
    assert_err(
        store
            .set_finding_state(
                f.id,
                FindingState::Suppressed,
                Some("  ".into()),
                now,
                &admin(),
            )
            .await,
        "Invalid",
    );
    assert_err(
        store
            .set_finding_state(f.id, FindingState::Fixed, Some("x".into()), now, &admin())
            .await,
        "Invalid",
    );
    assert_err(
        store
            .set_finding_state(9999, FindingState::Open, None, now, &admin())
            .await,
        "NotFound",
    );
    let sup = store
        .set_finding_state(
            f.id,
            FindingState::Suppressed,
            Some("not reachable".into()),
            now,
            &admin(),
        )
        .await
        .unwrap();
    assert_eq!(sup.state, FindingState::Suppressed);
    let back = store
        .set_finding_state(f.id, FindingState::Open, None, now, &admin())
        .await
        .unwrap();
    assert_eq!((back.state, back.reason), (FindingState::Open, None));
    // A fixed finding cannot be reopened or accepted by hand.
    store
        .apply_finding_changes(
            FindingChanges {
                fix: vec![g.id],
                now,
                cause: "t".into(),
                ..Default::default()
            },
            &admin(),
        )
        .await
        .unwrap();
    assert_err(
        store
            .set_finding_state(g.id, FindingState::Open, None, now, &admin())
            .await,
        "Conflict",
    );
    assert_err(
        store
            .set_finding_state(
                g.id,
                FindingState::Accepted,
                Some("r".into()),
                now,
                &admin(),
            )
            .await,
        "Conflict",
    );
    assert_eq!(count_records(&*store).await, n + 4);
    assert_chain_ok(&*store).await;
}

pub async fn packages_named_and_findings_on(store: Arc<dyn Store>) {
    let a = asset(&*store, "pn-a").await;
    let b = asset(&*store, "pn-b").await;
    let mut libssl = pkg("Debian", "libssl3", "3.0.11-1");
    libssl.source_name = Some("openssl".into());
    libssl.source_version = Some("3.0.11-1".into());
    let openssl = pkg("Debian", "openssl", "3.0.11-1");
    let mut openssl_src = openssl.clone();
    openssl_src.source_name = Some("openssl".into());
    let curl = pkg("Debian", "curl", "7.88");
    let npm_openssl = pkg("npm", "openssl", "1.0.0");
    let va = vec![
        libssl.clone(),
        openssl_src.clone(),
        curl.clone(),
        npm_openssl.clone(),
    ];
    let vb = vec![libssl.clone(), curl.clone()];
    store
        .apply_inventory(change(a.id, "a1", None, &[], &va, T0), &admin())
        .await
        .unwrap();
    store
        .apply_inventory(change(b.id, "b1", None, &[], &vb, T0), &admin())
        .await
        .unwrap();

    let key = |e: &str, n: &str| PackageName {
        ecosystem: e.into(),
        name: n.into(),
    };
    let got = store
        .packages_named(&[key("Debian", "openssl")], EVERY_ASSET)
        .await
        .unwrap()
        .packages;
    let mut want = vec![
        AssetPackage {
            asset_id: a.id,
            package: libssl.clone(),
        },
        AssetPackage {
            asset_id: a.id,
            package: openssl_src.clone(),
        },
        AssetPackage {
            asset_id: b.id,
            package: libssl.clone(),
        },
    ];
    let norm = |mut v: Vec<AssetPackage>| {
        v.sort_by(|x, y| (x.asset_id, &x.package).cmp(&(y.asset_id, &y.package)));
        v
    };
    assert_eq!(norm(got), norm(want.clone()));
    // The binary name is not a match name when a source package is known.
    assert!(store
        .packages_named(&[key("Debian", "libssl3")], EVERY_ASSET)
        .await
        .unwrap()
        .packages
        .is_empty());
    assert!(store
        .packages_named(&[], EVERY_ASSET)
        .await
        .unwrap()
        .packages
        .is_empty());
    // Keys are the advisory index's: PEP 503-normalized for PyPI, and an npm package's
    // `source_name` (were one given) is not its match name. Regression: rows used to be
    // filed under the raw name, so a feed re-match never found `Django` by `django`.
    let c = asset(&*store, "pn-c").await;
    let django = pkg("PyPI", "Django_REST.framework", "3.14.0");
    let mut npm_src = pkg("npm", "lodash", "4.17.20");
    npm_src.source_name = Some("not-a-match-name".into());
    store
        .apply_inventory(
            change(
                c.id,
                "c1",
                None,
                &[],
                &[django.clone(), npm_src.clone()],
                T0,
            ),
            &admin(),
        )
        .await
        .unwrap();
    let got = store
        .packages_named(
            &[key("PyPI", "django-rest-framework"), key("npm", "lodash")],
            EVERY_ASSET,
        )
        .await
        .unwrap()
        .packages;
    assert_eq!(
        norm(got),
        norm(vec![
            AssetPackage {
                asset_id: c.id,
                package: django.clone()
            },
            AssetPackage {
                asset_id: c.id,
                package: npm_src.clone()
            },
        ])
    );
    store
        .apply_finding_changes(
            FindingChanges {
                open: vec![new_finding(c.id, &django, "PYSEC-1", T0)],
                now: T0,
                cause: "t".into(),
                ..Default::default()
            },
            &admin(),
        )
        .await
        .unwrap();
    let on = store
        .findings_on(&[key("PyPI", "django-rest-framework")], EVERY_ASSET)
        .await
        .unwrap();
    assert_eq!(
        on.iter()
            .map(|f| f.advisory_id.as_str())
            .collect::<Vec<_>>(),
        vec!["PYSEC-1"]
    );
    let got = store
        .packages_named(
            &[
                key("Debian", "openssl"),
                key("npm", "openssl"),
                key("Debian", "curl"),
                key("Debian", "openssl"),
            ],
            EVERY_ASSET,
        )
        .await
        .unwrap()
        .packages;
    want.push(AssetPackage {
        asset_id: a.id,
        package: npm_openssl.clone(),
    });
    want.push(AssetPackage {
        asset_id: a.id,
        package: curl.clone(),
    });
    want.push(AssetPackage {
        asset_id: b.id,
        package: curl.clone(),
    });
    assert_eq!(norm(got), norm(want));

    // findings_on: live findings of those names, fleet-wide.
    store
        .apply_finding_changes(
            FindingChanges {
                open: vec![
                    new_finding(a.id, &libssl, "DSA-1", T0),
                    new_finding(b.id, &libssl, "DSA-1", T0),
                    new_finding(a.id, &curl, "DSA-2", T0),
                    new_finding(a.id, &npm_openssl, "GHSA-1", T0),
                ],
                now: T0,
                cause: "t".into(),
                ..Default::default()
            },
            &admin(),
        )
        .await
        .unwrap();
    let on = store
        .findings_on(&[key("Debian", "openssl")], EVERY_ASSET)
        .await
        .unwrap();
    assert_eq!(on.len(), 2);
    assert!(on.iter().all(|f| f.advisory_id == "DSA-1"));
    let fixed_id = on[0].id;
    store
        .apply_finding_changes(
            FindingChanges {
                fix: vec![fixed_id],
                now: T0,
                cause: "t".into(),
                ..Default::default()
            },
            &admin(),
        )
        .await
        .unwrap();
    let on = store
        .findings_on(
            &[key("Debian", "openssl"), key("npm", "openssl")],
            EVERY_ASSET,
        )
        .await
        .unwrap();
    assert_eq!(on.len(), 2, "fixed findings are not returned");
    assert!(on.iter().all(|f| f.id != fixed_id));
    assert!(store
        .findings_on(&[], EVERY_ASSET)
        .await
        .unwrap()
        .is_empty());

    // Paged by asset id, as the server re-matches: an asset with no inventory between
    // the others, pages of one asset, of two, and pages that hold no asset at all.
    let d = asset(&*store, "pn-d").await;
    let e = asset(&*store, "pn-e").await;
    store
        .apply_inventory(change(e.id, "e1", None, &[], &vb, T0), &admin())
        .await
        .unwrap();
    store
        .apply_finding_changes(
            FindingChanges {
                open: vec![new_finding(e.id, &curl, "DSA-2", T0)],
                now: T0,
                cause: "t".into(),
                ..Default::default()
            },
            &admin(),
        )
        .await
        .unwrap();
    let keys = [
        key("Debian", "openssl"),
        key("npm", "openssl"),
        key("Debian", "curl"),
        key("PyPI", "django-rest-framework"),
        key("npm", "lodash"),
    ];
    let ids = [a.id, b.id, c.id, d.id, e.id];
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "asset ids ascend");
    for bounds in [
        ids.iter().map(|i| i + 1).collect::<Vec<_>>(),
        vec![b.id, d.id],
        vec![0, c.id, c.id, i64::MAX - 1],
    ] {
        assert_pages_partition(&*store, &keys, &bounds).await;
    }
    // One asset's page holds that asset's rows and only them.
    let on_e = store.findings_on(&keys, e.id..e.id + 1).await.unwrap();
    assert_eq!(
        on_e.iter()
            .map(|f| (f.asset_id, f.advisory_id.as_str()))
            .collect::<Vec<_>>(),
        vec![(e.id, "DSA-2")]
    );
    let pk_e = store
        .packages_named(&keys, e.id..e.id + 1)
        .await
        .unwrap()
        .packages;
    assert_eq!(
        norm(pk_e),
        norm(vec![
            AssetPackage {
                asset_id: e.id,
                package: curl.clone()
            },
            AssetPackage {
                asset_id: e.id,
                package: libssl.clone()
            },
        ])
    );
    assert!(store
        .packages_named(&keys, d.id..d.id + 1)
        .await
        .unwrap()
        .packages
        .is_empty());
    assert!(store
        .findings_on(&keys, c.id..c.id)
        .await
        .unwrap()
        .is_empty());
}

/// Page the fleet at `bounds` (pages `[0, b0)`, `[b0, b1)`, … `[bn, MAX)`) and check that
/// `packages_named` and `findings_on` return, for each page, exactly the rows of the
/// unpaged answer whose asset is in the page — so the pages together are the unpaged
/// answer — and that the unpaged answer spans more than one page.
async fn assert_pages_partition(store: &dyn Store, keys: &[PackageName], bounds: &[i64]) {
    let all_pkgs = store
        .packages_named(keys, EVERY_ASSET)
        .await
        .unwrap()
        .packages;
    let all_on = store.findings_on(keys, EVERY_ASSET).await.unwrap();
    let mut edges = vec![EVERY_ASSET.start];
    edges.extend_from_slice(bounds);
    edges.push(EVERY_ASSET.end);
    let (mut union_pkgs, mut union_on) = (Vec::new(), Vec::new());
    let mut pages_with_rows = 0;
    for w in edges.windows(2) {
        let page = w[0]..w[1];
        let pkgs = store
            .packages_named(keys, page.clone())
            .await
            .unwrap()
            .packages;
        let on = store.findings_on(keys, page.clone()).await.unwrap();
        let want_pkgs: Vec<_> = all_pkgs
            .iter()
            .filter(|p| page.contains(&p.asset_id))
            .cloned()
            .collect();
        let want_on: Vec<_> = all_on
            .iter()
            .filter(|f| page.contains(&f.asset_id))
            .cloned()
            .collect();
        assert_eq!(pkgs, want_pkgs, "packages_named on assets {page:?}");
        assert_eq!(on, want_on, "findings_on on assets {page:?}");
        pages_with_rows += usize::from(!pkgs.is_empty());
        union_pkgs.extend(pkgs);
        union_on.extend(on);
    }
    assert!(
        pages_with_rows > 1 || bounds.is_empty(),
        "pages at {bounds:?} should split the rows"
    );
    assert_eq!(union_pkgs, all_pkgs, "the pages' packages are the fleet's");
    union_on.sort_by_key(|f| f.id);
    assert_eq!(union_on, all_on, "the pages' findings are the fleet's");
}

pub async fn apply_finding_changes_counts(store: Arc<dyn Store>) {
    let a = asset(&*store, "fc").await;
    let pk = packages(3, "1.0");
    let open: Vec<NewFinding> = pk
        .iter()
        .map(|p| new_finding(a.id, p, "OSV-1", T0))
        .collect();
    let n = count_records(&*store).await;
    let c = store
        .apply_finding_changes(
            FindingChanges {
                open: open.clone(),
                now: T0,
                cause: "feeds: osv".into(),
                ..Default::default()
            },
            &admin(),
        )
        .await
        .unwrap()
        .counts;
    assert_eq!(
        c,
        ChangeCounts {
            opened: 3,
            fixed: 0,
            updated: 0
        }
    );
    let r = one_new_record(&*store, n, "findings.apply", "findings").await;
    assert!(r.after.as_deref().unwrap().contains("feeds: osv"));
    let fs = store.list_findings(FindingFilter::default()).await.unwrap();

    let t2 = T0.plus_secs(10);
    let changes = FindingChanges {
        open: open.clone(),
        fix: vec![fs[0].id, 99_999],
        update: vec![
            (fs[1].id, vec!["1.1".into(), "2.0".into()], None),
            (
                fs[2].id,
                fs[2].fixed_versions.clone(),
                fs[2].severity.clone(),
            ),
        ],
        now: t2,
        cause: "feeds: osv 2".into(),
        basis: Vec::new(),
    };
    // Fixes apply before opens: fs[0]'s package gets a new live finding in the same call.
    let c = store
        .apply_finding_changes(changes.clone(), &admin())
        .await
        .unwrap()
        .counts;
    assert_eq!(
        c,
        ChangeCounts {
            opened: 1,
            fixed: 1,
            updated: 1
        }
    );
    let fs2 = store.list_findings(FindingFilter::default()).await.unwrap();
    assert_eq!(fs2.len(), 4);
    assert_eq!(
        (fs2[0].state, fs2[0].fixed_at),
        (FindingState::Fixed, Some(t2))
    );
    assert_eq!(
        (
            fs2[1].fixed_versions.clone(),
            fs2[1].severity.clone(),
            fs2[1].updated_at
        ),
        (vec!["1.1".to_string(), "2.0".to_string()], None, t2)
    );
    assert_eq!(
        fs2[2], fs[2],
        "an update to the same values changes nothing"
    );
    assert_eq!(
        (fs2[3].package.clone(), fs2[3].state, fs2[3].first_seen),
        (pk[0].clone(), FindingState::Open, T0)
    );
    assert_eq!(count_records(&*store).await, n + 2);

    // Fully applied input changes nothing and writes nothing.
    assert_eq!(
        store
            .apply_finding_changes(changes, &admin())
            .await
            .unwrap()
            .counts,
        ChangeCounts::default()
    );
    let again = FindingChanges {
        open,
        now: t2,
        cause: "x".into(),
        ..Default::default()
    };
    assert_eq!(
        store
            .apply_finding_changes(again, &admin())
            .await
            .unwrap()
            .counts,
        ChangeCounts::default()
    );
    assert_eq!(
        store
            .apply_finding_changes(FindingChanges::default(), &admin())
            .await
            .unwrap()
            .counts,
        ChangeCounts::default()
    );
    assert_eq!(count_records(&*store).await, n + 2);

    // A finding for an unknown asset fails the whole call; nothing is written.
    let bad = FindingChanges {
        open: vec![
            new_finding(a.id, &pkg("npm", "x", "1"), "OSV-2", t2),
            new_finding(a.id + 1000, &pk[0], "OSV-2", t2),
        ],
        fix: vec![fs2[1].id],
        now: t2,
        cause: "bad".into(),
        ..Default::default()
    };
    assert_err(store.apply_finding_changes(bad, &admin()).await, "NotFound");
    assert_eq!(
        store
            .list_findings(FindingFilter::default())
            .await
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        store
            .list_findings(FindingFilter {
                state: Some(FindingState::Fixed),
                ..Default::default()
            })
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(count_records(&*store).await, n + 2);
    assert_chain_ok(&*store).await;
}

// ---------------------------------------------------------------------- feed state

pub async fn feed_state_round_trip(store: Arc<dyn Store>) {
    assert_eq!(store.get_feed_state("osv").await.unwrap(), None);
    let mut rx = store.subscribe();
    let s1 = FeedState {
        name: "osv".into(),
        state: serde_json::json!({"written_at": "x", "n": [1, 2]}),
        updated_at: T0,
    };
    store.set_feed_state(s1.clone(), &admin()).await.unwrap();
    assert_eq!(store.get_feed_state("osv").await.unwrap(), Some(s1.clone()));
    let r = one_new_record(&*store, 0, "feed.state", "feed:osv").await;
    assert!(r.before.is_none() && r.after.is_some());
    wait_for_notice(&mut rx, &Notice::FeedsUpdated).await;

    let s2 = FeedState {
        name: "osv".into(),
        state: serde_json::json!({"n": 3}),
        updated_at: T0.plus_secs(1),
    };
    store.set_feed_state(s2.clone(), &admin()).await.unwrap();
    assert_eq!(store.get_feed_state("osv").await.unwrap(), Some(s2));
    let r = one_new_record(&*store, 1, "feed.state", "feed:osv").await;
    let before: FeedState = serde_json::from_str(r.before.as_deref().unwrap()).unwrap();
    assert_eq!(before, s1);
    let kev = FeedState {
        name: "kev".into(),
        state: serde_json::json!(null),
        updated_at: T0,
    };
    store.set_feed_state(kev.clone(), &admin()).await.unwrap();
    assert_eq!(store.get_feed_state("kev").await.unwrap(), Some(kev));
    assert_chain_ok(&*store).await;
}

/// `n` bytes that do not compress, with every byte value (an advisory database file is
/// binary).
fn file_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub async fn advisory_files_keep_the_last_two(store: Arc<dyn Store>) {
    assert_eq!(store.get_advisory_file("d1").await.unwrap(), None);
    let records = count_records(&*store).await;
    let d1 = file_bytes(3 << 20, 1);
    store.put_advisory_file("d1", d1.clone(), T0).await.unwrap();
    assert!(store.get_advisory_file("d1").await.unwrap() == Some(d1.clone()));
    assert_eq!(store.get_advisory_file("D1").await.unwrap(), None);
    // A digest already stored keeps its bytes.
    store
        .put_advisory_file("d1", file_bytes(10, 2), T0.plus_secs(1))
        .await
        .unwrap();
    assert!(store.get_advisory_file("d1").await.unwrap() == Some(d1.clone()));

    let (d2, d3, d4) = (file_bytes(1 << 20, 3), file_bytes(5, 4), file_bytes(0, 5));
    store
        .put_advisory_file("d2", d2.clone(), T0.plus_secs(2))
        .await
        .unwrap();
    assert!(store.get_advisory_file("d1").await.unwrap() == Some(d1.clone()));
    assert!(store.get_advisory_file("d2").await.unwrap() == Some(d2.clone()));
    // A third: the oldest goes.
    store
        .put_advisory_file("d3", d3.clone(), T0.plus_secs(3))
        .await
        .unwrap();
    assert_eq!(store.get_advisory_file("d1").await.unwrap(), None);
    assert_eq!(
        store.get_advisory_file("d2").await.unwrap(),
        Some(d2.clone())
    );
    assert_eq!(
        store.get_advisory_file("d3").await.unwrap(),
        Some(d3.clone())
    );
    // Storing d2 again makes it the latest, so d3 is the one before the next.
    store
        .put_advisory_file("d2", Vec::new(), T0.plus_secs(4))
        .await
        .unwrap();
    store
        .put_advisory_file("d4", d4.clone(), T0.plus_secs(5))
        .await
        .unwrap();
    assert_eq!(store.get_advisory_file("d3").await.unwrap(), None);
    assert_eq!(store.get_advisory_file("d2").await.unwrap(), Some(d2));
    assert_eq!(store.get_advisory_file("d4").await.unwrap(), Some(d4));
    assert_eq!(
        count_records(&*store).await,
        records,
        "advisory files are not audited"
    );
}

// ---------------------------------------------------------------------- jobs

fn job(asset_id: i64, kind: &str) -> NewJob {
    NewJob {
        asset_id,
        kind: kind.into(),
        payload: serde_json::json!({"why": kind}),
    }
}

fn ok_result() -> JobResult {
    JobResult {
        success: true,
        output: serde_json::json!({"packages": 12}),
    }
}

pub async fn jobs_enqueue_claim_finish(store: Arc<dyn Store>) {
    let a = asset(&*store, "j-a").await;
    let b = asset(&*store, "j-b").await;
    let n = count_records(&*store).await;
    let j1 = store
        .enqueue_job(job(a.id, "rescan"), T0, &operator())
        .await
        .unwrap();
    assert_eq!(
        (
            j1.state,
            j1.attempts,
            j1.created_at,
            j1.lease_until,
            j1.finished_at
        ),
        (JobState::Queued, 0, T0, None, None)
    );
    assert_eq!(j1.payload, serde_json::json!({"why": "rescan"}));
    let r = one_new_record(&*store, n, "job.enqueue", &format!("job:{}", j1.id)).await;
    assert_eq!(r.actor, operator());
    let j2 = store
        .enqueue_job(job(a.id, "two"), T0, &admin())
        .await
        .unwrap();
    let j3 = store
        .enqueue_job(job(a.id, "three"), T0, &admin())
        .await
        .unwrap();
    let jb = store
        .enqueue_job(job(b.id, "other"), T0, &admin())
        .await
        .unwrap();
    assert_err(
        store.enqueue_job(job(b.id + 1000, "x"), T0, &admin()).await,
        "NotFound",
    );
    assert_err(
        store.enqueue_job(job(b.id, ""), T0, &admin()).await,
        "Invalid",
    );

    let now = T0.plus_secs(1);
    let lease = now.plus_secs(30);
    let n = count_records(&*store).await;
    let got = store.claim_jobs(a.id, 2, now, lease).await.unwrap();
    assert_eq!(
        got.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![j1.id, j2.id],
        "oldest first"
    );
    assert!(got
        .iter()
        .all(|j| j.state == JobState::Claimed && j.attempts == 1 && j.lease_until == Some(lease)));
    let r = one_new_record(&*store, n, "job.claim", &format!("asset:{}", a.id)).await;
    assert_eq!(r.actor, codec::agent_actor(a.id));
    let got = store.claim_jobs(a.id, 10, now, lease).await.unwrap();
    assert_eq!(got.iter().map(|j| j.id).collect::<Vec<_>>(), vec![j3.id]);
    let n = count_records(&*store).await;
    assert!(store
        .claim_jobs(a.id, 10, now, lease)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .claim_jobs(a.id, 0, now, lease)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .claim_jobs(b.id + 1000, 10, now, lease)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        count_records(&*store).await,
        n,
        "an empty claim writes nothing"
    );

    let done = store
        .finish_job(j1.id, a.id, ok_result(), now.plus_secs(2), &admin())
        .await
        .unwrap();
    assert_eq!(
        (done.state, done.finished_at, done.result.clone()),
        (
            JobState::Succeeded,
            Some(now.plus_secs(2)),
            Some(ok_result())
        )
    );
    let r = one_new_record(&*store, n, "job.finish", &format!("job:{}", j1.id)).await;
    assert!(r.before.is_some() && r.after.is_some());
    assert_eq!(store.get_job(j1.id).await.unwrap(), Some(done));
    let failed = store
        .finish_job(
            j2.id,
            a.id,
            JobResult {
                success: false,
                output: serde_json::json!("boom"),
            },
            now,
            &admin(),
        )
        .await
        .unwrap();
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(store.get_job(99_999).await.unwrap(), None);

    let list_a = store.list_jobs(Some(a.id), 100).await.unwrap();
    assert_eq!(
        list_a.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![j3.id, j2.id, j1.id],
        "newest first"
    );
    let all = store.list_jobs(None, 100).await.unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[0].id, jb.id);
    assert_eq!(store.list_jobs(None, 2).await.unwrap().len(), 2);
    assert_chain_ok(&*store).await;
}

pub async fn jobs_lease_expiry_reclaim(store: Arc<dyn Store>) {
    let a = asset(&*store, "lease").await;
    let j = store
        .enqueue_job(job(a.id, "rescan"), T0, &admin())
        .await
        .unwrap();
    let got = store
        .claim_jobs(a.id, 5, T0, T0.plus_secs(30))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert!(
        store
            .claim_jobs(a.id, 5, T0.plus_secs(29), T0.plus_secs(60))
            .await
            .unwrap()
            .is_empty(),
        "lease still held"
    );
    let again = store
        .claim_jobs(a.id, 5, T0.plus_secs(30), T0.plus_secs(90))
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].id, again[0].attempts, again[0].lease_until),
        (j.id, 2, Some(T0.plus_secs(90)))
    );
    // The agent that holds it now finishes it; it is not claimed again.
    store
        .finish_job(j.id, a.id, ok_result(), T0.plus_secs(40), &admin())
        .await
        .unwrap();
    assert!(store
        .claim_jobs(a.id, 5, T0.plus_secs(1000), T0.plus_secs(1030))
        .await
        .unwrap()
        .is_empty());
    assert_chain_ok(&*store).await;
}

pub async fn jobs_finish_rules(store: Arc<dyn Store>) {
    let a = asset(&*store, "fin-a").await;
    let b = asset(&*store, "fin-b").await;
    let j = store
        .enqueue_job(job(a.id, "rescan"), T0, &admin())
        .await
        .unwrap();
    assert_err(
        store
            .finish_job(j.id, a.id, ok_result(), T0, &admin())
            .await,
        "Conflict",
    );
    store
        .claim_jobs(a.id, 1, T0, T0.plus_secs(30))
        .await
        .unwrap();
    // Another asset's job is not found, exactly as a job that does not exist.
    let other = store
        .finish_job(j.id, b.id, ok_result(), T0, &admin())
        .await;
    let none = store
        .finish_job(99_999, a.id, ok_result(), T0, &admin())
        .await;
    match (&other, &none) {
        (Err(Error::NotFound(m1)), Err(Error::NotFound(m2))) => {
            assert_eq!(
                m1.replace(&j.id.to_string(), "N"),
                m2.replace("99999", "N"),
                "the two must not be told apart"
            );
        }
        _ => panic!("want NotFound for both, got {other:?} and {none:?}"),
    }
    let done = store
        .finish_job(j.id, a.id, ok_result(), T0.plus_secs(5), &admin())
        .await
        .unwrap();
    let n = count_records(&*store).await;
    let twice = store
        .finish_job(j.id, a.id, ok_result(), T0.plus_secs(9), &admin())
        .await
        .unwrap();
    assert_eq!(
        twice, done,
        "finishing twice with the same result is a no-op"
    );
    assert_eq!(count_records(&*store).await, n);
    let other = JobResult {
        success: false,
        output: serde_json::json!({"packages": 12}),
    };
    assert_err(
        store.finish_job(j.id, a.id, other, T0, &admin()).await,
        "Conflict",
    );
    assert_eq!(store.get_job(j.id).await.unwrap(), Some(done));
    assert_chain_ok(&*store).await;
}

pub async fn jobs_concurrent_claimers_never_share(store: Arc<dyn Store>) {
    let a = asset(&*store, "many").await;
    let mut want = BTreeSet::new();
    for i in 0..200 {
        want.insert(
            store
                .enqueue_job(job(a.id, &format!("j{i}")), T0, &admin())
                .await
                .unwrap()
                .id,
        );
    }
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = s
                        .claim_jobs(a.id, 3, T0, T0.plus_secs(600))
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
    let mut claimed: HashMap<i64, u32> = HashMap::new();
    for t in tasks {
        for id in t.await.expect("task") {
            *claimed.entry(id).or_default() += 1;
        }
    }
    let twice: Vec<_> = claimed.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "jobs claimed more than once: {twice:?}");
    assert_eq!(
        claimed.keys().copied().collect::<BTreeSet<_>>(),
        want,
        "every job claimed"
    );
    let jobs = store.list_jobs(Some(a.id), 1000).await.unwrap();
    assert!(jobs
        .iter()
        .all(|j| j.state == JobState::Claimed && j.attempts == 1));
    assert_chain_ok(&*store).await;
}

pub async fn subscribe_receives_job_queued(store: Arc<dyn Store>) {
    notice_reaches_other_instance(store.clone(), store).await;
}

// ---------------------------------------------------------------------- audit

/// One record appended since `n`, with the expected action, target and before/after.
async fn step(s: &dyn Store, n: &mut usize, action: &str, target: &str, before: bool, after: bool) {
    let r = one_new_record(s, *n, action, target).await;
    *n += 1;
    assert_eq!(r.seq as usize, *n, "seq has no gaps");
    assert_eq!(r.before.is_some(), before, "{action}: before");
    assert_eq!(r.after.is_some(), after, "{action}: after");
    assert!(r.at.0 >= T0.0);
}

pub async fn audit_every_change_writes_one_record(store: Arc<dyn Store>) {
    let who = Actor {
        principal: "token:77".into(),
        role: Role::Operator,
    };
    let n = &mut 0usize;
    let s = &*store;
    let t = s
        .create_token(new_token("t", Role::Auditor, "t"), &who)
        .await
        .unwrap();
    step(
        s,
        n,
        "token.create",
        &format!("token:{}", t.id),
        false,
        true,
    )
    .await;
    s.revoke_token(t.id, T0, &who).await.unwrap();
    step(s, n, "token.revoke", &format!("token:{}", t.id), true, true).await;
    let a = s
        .create_asset(NewAsset::named("aud"), T0, &who)
        .await
        .unwrap();
    let target = format!("asset:{}", a.id);
    step(s, n, "asset.create", &target, false, true).await;
    s.update_asset(
        a.id,
        AssetPatch {
            tier: Some(1),
            ..Default::default()
        },
        T0,
        &who,
    )
    .await
    .unwrap();
    step(s, n, "asset.update", &target, true, true).await;
    s.heartbeat(a.id, T0).await.unwrap();
    assert_eq!(count_records(s).await, *n);
    let v = packages(10, "1");
    let mut c = change(a.id, "k", None, &[], &v, T0);
    c.open = vec![new_finding(a.id, &v[0], "CVE-1", T0)];
    s.apply_inventory(c, &who).await.unwrap();
    step(s, n, "inventory.apply", &target, true, true).await;
    let f = s
        .list_findings(FindingFilter::default())
        .await
        .unwrap()
        .remove(0);
    s.set_finding_state(f.id, FindingState::Accepted, Some("ok".into()), T0, &who)
        .await
        .unwrap();
    step(
        s,
        n,
        "finding.state",
        &format!("finding:{}", f.id),
        true,
        true,
    )
    .await;
    s.apply_finding_changes(
        FindingChanges {
            fix: vec![f.id],
            now: T0,
            cause: "c".into(),
            ..Default::default()
        },
        &who,
    )
    .await
    .unwrap();
    step(s, n, "findings.apply", "findings", false, true).await;
    s.set_feed_state(
        FeedState {
            name: "kev".into(),
            state: serde_json::json!({}),
            updated_at: T0,
        },
        &who,
    )
    .await
    .unwrap();
    step(s, n, "feed.state", "feed:kev", false, true).await;
    let j = s.enqueue_job(job(a.id, "rescan"), T0, &who).await.unwrap();
    step(s, n, "job.enqueue", &format!("job:{}", j.id), false, true).await;
    s.claim_jobs(a.id, 1, T0, T0.plus_secs(5)).await.unwrap();
    step(s, n, "job.claim", &target, true, true).await;
    s.finish_job(j.id, a.id, ok_result(), T0, &who)
        .await
        .unwrap();
    step(s, n, "job.finish", &format!("job:{}", j.id), true, true).await;
    let e = s
        .create_token(new_token("e", Role::Enroll, "e"), &who)
        .await
        .unwrap();
    step(
        s,
        n,
        "token.create",
        &format!("token:{}", e.id),
        false,
        true,
    )
    .await;
    let en = s.enroll(enrollment("e", "ag", "aud-2"), T0).await.unwrap();
    step(
        s,
        n,
        "agent.enroll",
        &format!("asset:{}", en.asset.id),
        true,
        true,
    )
    .await;

    let all = all_records(s).await;
    assert!(all
        .iter()
        .filter(|r| r.action != "agent.enroll" && r.action != "job.claim")
        .all(|r| r.actor == who));
    let v = audit::verify(&all, Some((all.len() as i64, &all.last().unwrap().hash)));
    assert!(v.ok(), "{:?}", v.problems);
    assert_eq!(v.records as usize, all.len());
    // Paging returns the same chain.
    let first = s.audit_records(0, 3).await.unwrap();
    let next = s.audit_records(3, 3).await.unwrap();
    assert_eq!(
        first.iter().chain(next.iter()).cloned().collect::<Vec<_>>(),
        all[..6].to_vec()
    );
}

pub async fn concurrent_writers_all_succeed(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let s = store.clone();
            tokio::spawn(async move {
                let a = s
                    .create_asset(NewAsset::named(format!("c-{i}")), T0, &admin())
                    .await
                    .expect("asset");
                let mut prev: Vec<PackageRow> = Vec::new();
                let mut snap = None;
                for r in 0..3 {
                    let next = packages(300 + r * 10, "1.0");
                    let c = change(a.id, &format!("{i}-{r}"), snap, &prev, &next, T0);
                    match s.apply_inventory(c, &admin()).await.expect("apply") {
                        ApplyOutcome::Applied { snapshot_id, .. } => snap = Some(snapshot_id),
                        other => panic!("{other:?}"),
                    }
                    prev = next;
                    for h in 0..20 {
                        assert!(s.heartbeat(a.id, T0.plus_secs(h)).await.expect("heartbeat"));
                    }
                }
                let j = s
                    .enqueue_job(job(a.id, "rescan"), T0, &admin())
                    .await
                    .expect("enqueue");
                let got = s
                    .claim_jobs(a.id, 1, T0, T0.plus_secs(9))
                    .await
                    .expect("claim");
                assert_eq!(got.len(), 1);
                s.finish_job(j.id, a.id, ok_result(), T0, &admin())
                    .await
                    .expect("finish");
                a.id
            })
        })
        .collect();
    for t in tasks {
        let id = t.await.expect("task");
        assert_eq!(
            store.current_packages(id).await.unwrap().packages.len(),
            320
        );
        assert_eq!(store.list_snapshots(id).await.unwrap().len(), 3);
    }
    let all = all_records(&*store).await;
    assert_eq!(all.len(), 8 * (1 + 3 + 3));
    assert!(audit::verify(&all, None).ok());
}

/// A re-match computes changes from the packages it read; an asset that reports before
/// they are written may no longer have those packages, so its changes are left out (and
/// named, for the caller to re-match it) while the other assets' are applied.
pub async fn rematch_changes_skip_assets_that_reported(store: Arc<dyn Store>) {
    let a = asset(&*store, "moving").await;
    let b = asset(&*store, "still").await;
    let pkgs = packages(3, "1.0");
    let mut first_a = change(a.id, "a1", None, &[], &pkgs, T0);
    first_a.open = vec![new_finding(a.id, &pkgs[0], "CVE-2024-0001", T0)];
    store.apply_inventory(first_a, &admin()).await.unwrap();
    store
        .apply_inventory(change(b.id, "b1", None, &[], &pkgs, T0), &admin())
        .await
        .unwrap();
    let every: Vec<PackageName> = pkgs
        .iter()
        .map(|p| PackageName {
            ecosystem: p.ecosystem.clone(),
            name: crate::codec::match_name(p).into_owned(),
        })
        .collect();
    let read = store.packages_named(&every, EVERY_ASSET).await.unwrap();
    assert_eq!(read.packages.len(), 6);
    let snaps: Vec<(i64, i64)> = read.snapshots.clone();
    assert_eq!(
        snaps.iter().map(|s| s.0).collect::<Vec<_>>(),
        vec![a.id, b.id],
        "every asset read, ascending"
    );
    let live = store.findings_on(&every, EVERY_ASSET).await.unwrap();
    assert_eq!(live.len(), 1);

    // Asset a reports (its packages[1] is gone) after the read, before the write.
    let cur = store.current_packages(a.id).await.unwrap();
    let next = vec![pkgs[0].clone(), pkgs[2].clone()];
    store
        .apply_inventory(
            change(
                a.id,
                "a2",
                cur.snapshot_id,
                &cur.packages,
                &next,
                T0.plus_secs(5),
            ),
            &admin(),
        )
        .await
        .unwrap();

    let applied = store
        .apply_finding_changes(
            FindingChanges {
                open: vec![
                    new_finding(a.id, &pkgs[1], "CVE-2024-0002", T0.plus_secs(9)),
                    new_finding(b.id, &pkgs[1], "CVE-2024-0002", T0.plus_secs(9)),
                ],
                fix: vec![live[0].id],
                update: vec![],
                now: T0.plus_secs(9),
                cause: "test".into(),
                basis: snaps,
            },
            &admin(),
        )
        .await
        .unwrap();
    assert_eq!(applied.stale_assets, vec![a.id]);
    assert_eq!(
        applied.counts,
        ChangeCounts {
            opened: 1,
            fixed: 0,
            updated: 0
        },
        "only b's change is applied"
    );
    let on_a = store
        .list_findings(FindingFilter {
            asset_id: Some(a.id),
            unfixed: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        on_a.iter()
            .map(|f| f.advisory_id.as_str())
            .collect::<Vec<_>>(),
        vec!["CVE-2024-0001"],
        "no finding for a package a no longer has, and a's finding not fixed"
    );
    let on_b = store
        .list_findings(FindingFilter {
            asset_id: Some(b.id),
            unfixed: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(on_b.len(), 1);
}

/// Heartbeats arriving together (which the backends write together) answer each on its
/// own: known assets `true`, unknown ones `false`, and each asset keeps its latest time
/// whatever the order, also while its inventory is being written.
pub async fn concurrent_heartbeats_answer_each(store: Arc<dyn Store>) {
    let mut assets = Vec::new();
    for i in 0..8 {
        assets.push(asset(&*store, &format!("beat-{i}")).await);
    }
    let pkgs = packages(20, "1.0");
    let report = {
        let s = store.clone();
        let c = change(assets[0].id, "k-beat", None, &[], &pkgs, T0);
        tokio::spawn(async move { s.apply_inventory(c, &admin()).await })
    };
    let beats: Vec<_> = (0..400i64)
        .map(|i| {
            let s = store.clone();
            let known = i % 10 != 9;
            let id = if known {
                assets[(i % 8) as usize].id
            } else {
                assets[7].id + 1_000 + i
            };
            // Times go up and down, so arrival order is not time order.
            let at = T0.plus_secs(if i % 2 == 0 { i } else { 400 - i });
            tokio::spawn(async move { (known, s.heartbeat(id, at).await) })
        })
        .collect();
    for b in beats {
        let (known, r) = b.await.expect("task");
        assert_eq!(r.expect("heartbeat"), known);
    }
    assert!(matches!(
        report.await.expect("task").expect("report"),
        ApplyOutcome::Applied { .. }
    ));
    for (k, a) in assets.iter().enumerate() {
        let want = (0..400i64)
            .filter(|i| i % 10 != 9 && (i % 8) as usize == k)
            .map(|i| if i % 2 == 0 { i } else { 400 - i })
            .max()
            .expect("some heartbeat");
        let got = store.get_asset(a.id).await.unwrap().unwrap().last_seen;
        assert_eq!(got, Some(T0.plus_secs(want)), "asset {k}");
    }
}

/// Reports arriving together (which the backends group into one transaction) succeed or
/// fail each on its own: an unknown asset or a stale base answers that report only, and
/// every applied report has its snapshot, findings and one audit record.
pub async fn concurrent_reports_fail_alone(store: Arc<dyn Store>) {
    let mut assets = Vec::new();
    for i in 0..24 {
        assets.push(asset(&*store, &format!("batch-{i}")).await);
    }
    let records_before = count_records(&*store).await;
    let pkgs = packages(50, "1.0");
    let tasks: Vec<_> = (0..36)
        .map(|i| {
            let s = store.clone();
            let (id, expected) = match i % 3 {
                // Two out of three: a first report for a real asset.
                0 | 1 => (assets[i / 3 * 2 + i % 3].id, None),
                // Every third: an unknown asset or a stale base.
                _ if i % 2 == 0 => (assets[0].id + 10_000 + i as i64, None),
                _ => (assets[i / 3].id, Some(987_654)),
            };
            let mut c = change(id, &format!("k{i}"), expected, &[], &pkgs, T0);
            c.open = vec![new_finding(id, &pkgs[i % 50], "CVE-2024-0001", T0)];
            tokio::spawn(async move { (i, s.apply_inventory(c, &admin()).await) })
        })
        .collect();
    let (mut applied, mut missing, mut stale) = (0, 0, 0);
    for t in tasks {
        let (i, r) = t.await.expect("task");
        match (i % 3, r) {
            (0 | 1, Ok(ApplyOutcome::Applied { opened, .. })) => {
                assert_eq!(opened, 1, "report {i}");
                applied += 1;
            }
            (2, Err(Error::NotFound(_))) if i % 2 == 0 => missing += 1,
            (2, Ok(ApplyOutcome::Stale { .. })) if i % 2 == 1 => stale += 1,
            (_, other) => panic!("report {i}: {other:?}"),
        }
    }
    assert_eq!((applied, missing, stale), (24, 6, 6));
    for a in &assets {
        assert_eq!(
            store.list_snapshots(a.id).await.unwrap().len(),
            1,
            "{}",
            a.name
        );
        assert_eq!(
            sorted(store.current_packages(a.id).await.unwrap().packages),
            sorted(pkgs.clone())
        );
    }
    let open = store.list_findings(FindingFilter::default()).await.unwrap();
    assert_eq!(open.len(), 24);
    assert_eq!(count_records(&*store).await, records_before + 24);
    assert_chain_ok(&*store).await;
}

/// Red Hat's security data names source RPMs: a feed re-match asking for `python-lxml`
/// must find the installed binary `python3-lxml` built from it, and its findings.
pub async fn rpm_source_names_reach_binaries(store: Arc<dyn Store>) {
    let a = asset(&*store, "rhel").await;
    let mut lxml = pkg("Red Hat", "python3-lxml", "4.2.3-4.el8");
    lxml.release = Some("8".into());
    lxml.source_name = Some("python-lxml".into());
    lxml.source_version = Some("4.2.3-4.el8".into());
    let other = pkg("Red Hat", "python-lxml-docs", "4.2.3-4.el8");
    let deb = {
        let mut p = pkg("Debian", "python3-lxml", "4.9.2-1");
        p.source_name = Some("lxml".into());
        p
    };
    let v = vec![lxml.clone(), other.clone(), deb.clone()];
    let mut c = change(a.id, "k", None, &[], &v, T0);
    c.open = vec![new_finding(a.id, &lxml, "RHEL-CVE-2024-1", T0)];
    store.apply_inventory(c, &admin()).await.unwrap();
    let key = |eco: &str, name: &str| PackageName {
        ecosystem: eco.into(),
        name: name.into(),
    };
    let got = store
        .packages_named(&[key("Red Hat", "python-lxml")], EVERY_ASSET)
        .await
        .unwrap()
        .packages;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].package, lxml);
    let f = store
        .findings_on(&[key("Red Hat", "python-lxml")], EVERY_ASSET)
        .await
        .unwrap();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].package, lxml);
    // By its own name too; a Debian source name is not an RPM's.
    assert_eq!(
        store
            .packages_named(&[key("Red Hat", "python3-lxml")], EVERY_ASSET)
            .await
            .unwrap()
            .packages
            .len(),
        1
    );
    assert!(store
        .packages_named(&[key("Debian", "python-lxml")], EVERY_ASSET)
        .await
        .unwrap()
        .packages
        .is_empty());
    assert!(store
        .findings_on(&[key("Debian", "python-lxml")], EVERY_ASSET)
        .await
        .unwrap()
        .is_empty());
    // The source-name lookup keeps to the page too.
    let b = asset(&*store, "rhel-2").await;
    let mut c = change(b.id, "k", None, &[], &[lxml.clone()], T0);
    c.open = vec![new_finding(b.id, &lxml, "RHEL-CVE-2024-1", T0)];
    store.apply_inventory(c, &admin()).await.unwrap();
    let src = [key("Red Hat", "python-lxml")];
    for (page, want) in [(a.id..b.id, a.id), (b.id..i64::MAX, b.id)] {
        let got = store
            .packages_named(&src, page.clone())
            .await
            .unwrap()
            .packages;
        assert_eq!(
            got.iter().map(|p| p.asset_id).collect::<Vec<_>>(),
            vec![want],
            "{page:?}"
        );
        let f = store.findings_on(&src, page.clone()).await.unwrap();
        assert_eq!(
            f.iter().map(|f| f.asset_id).collect::<Vec<_>>(),
            vec![want],
            "{page:?}"
        );
    }
    assert_pages_partition(&*store, &src, &[b.id]).await;
}

pub async fn unusual_text_round_trips_or_is_invalid(store: Arc<dyn Store>) {
    // Unicode everywhere must round-trip; a NUL byte (which PostgreSQL text cannot hold)
    // must either round-trip or be `Invalid` with nothing written — never a panic or a
    // half-written change.
    let a = store
        .create_asset(NewAsset::named("höst-✓ \"quoted\" 'x'"), T0, &admin())
        .await
        .unwrap();
    assert_eq!(
        store.get_asset(a.id).await.unwrap().unwrap().name,
        "höst-✓ \"quoted\" 'x'"
    );
    let mut weird = pkg("PyPI", "naïve-pkg'; DROP TABLE assets; --", "1.0+ü");
    weird.purl = Some("pkg:pypi/na%C3%AFve@1.0".into());
    let v = vec![weird.clone()];
    let ApplyOutcome::Applied { snapshot_id, .. } = store
        .apply_inventory(change(a.id, "k", None, &[], &v, T0), &admin())
        .await
        .unwrap()
    else {
        panic!("apply");
    };
    assert_eq!(store.current_packages(a.id).await.unwrap().packages, v);
    assert_eq!(
        store.snapshot_packages(snapshot_id).await.unwrap(),
        Some(v.clone())
    );

    let n = count_records(&*store).await;
    let nul = vec![pkg("npm", "bad\0name", "1.0")];
    let c = change(a.id, "k-nul", Some(snapshot_id), &v, &nul, T0);
    match store.apply_inventory(c, &admin()).await {
        Ok(ApplyOutcome::Applied { .. }) => {
            assert_eq!(store.current_packages(a.id).await.unwrap().packages, nul);
        }
        Err(Error::Invalid(_)) => {
            assert_eq!(store.current_packages(a.id).await.unwrap().packages, v);
            assert_eq!(count_records(&*store).await, n);
        }
        other => panic!("a NUL byte must round-trip or be Invalid, got {other:?}"),
    }
    match store
        .create_asset(NewAsset::named("nul\0host"), T0, &admin())
        .await
    {
        Ok(x) => assert_eq!(
            store.get_asset(x.id).await.unwrap().unwrap().name,
            "nul\0host"
        ),
        Err(Error::Invalid(_)) => {}
        Err(e) => panic!("a NUL byte must round-trip or be Invalid, got {e:?}"),
    }
    assert_chain_ok(&*store).await;
}

// ---------------------------------------------------------------------- enrolment rules

/// A fresh enrolment token and the name of an existing asset once returned a working
/// agent token for that asset (asset takeover: a clean report then closed its findings,
/// and the original agent's token kept working). An unbound token enrols new assets
/// only, whether the asset was created by an operator or by an earlier enrolment.
pub async fn enroll_never_takes_an_existing_asset_by_name(store: Arc<dyn Store>) {
    let db = asset(&*store, "prod-db").await;
    store
        .create_token(new_token("first", Role::Enroll, "first"), &admin())
        .await
        .unwrap();
    let web = store
        .enroll(enrollment("first", "agent-web", "web-1"), T0)
        .await
        .unwrap();
    assert!(web.asset_created && web.revoked_tokens.is_empty());
    for (name, id) in [("prod-db", db.id), ("web-1", web.asset.id)] {
        let secret = format!("e-{name}");
        store
            .create_token(new_token(&secret, Role::Enroll, &secret), &admin())
            .await
            .unwrap();
        let n = count_records(&*store).await;
        let tokens = store.list_tokens().await.unwrap();
        let r = store
            .enroll(enrollment(&secret, &format!("a-{name}"), name), T0)
            .await;
        match &r {
            Err(Error::Conflict(m)) => {
                assert!(
                    m.contains(&format!("asset {id}")) && m.contains("asset_id"),
                    "the message names the asset and how to re-enrol it: {m}"
                );
            }
            other => panic!("{name}: want Conflict, got {other:?}"),
        }
        assert_eq!(
            store.list_tokens().await.unwrap(),
            tokens,
            "{name}: no token created, the enrolment token not consumed"
        );
        assert_eq!(count_records(&*store).await, n);
        assert!(store
            .token_by_hash(&secret_hash(&format!("a-{name}")))
            .await
            .unwrap()
            .is_none());
    }
    // The original agent's token is untouched.
    let t = store
        .token_by_hash(&secret_hash("agent-web"))
        .await
        .unwrap()
        .unwrap();
    assert!(t.usable_at(T0.plus_secs(1)));
    assert_eq!(store.list_assets(0, 100).await.unwrap().len(), 2);
    assert_chain_ok(&*store).await;
}

/// Two unbound tokens racing for one new name: one asset, one agent token; the loser is
/// a `Conflict` and its token stays unused.
pub async fn enroll_same_name_concurrently_creates_one_asset(store: Arc<dyn Store>) {
    for i in 0..8 {
        store
            .create_token(
                new_token(&format!("e{i}"), Role::Enroll, &format!("e{i}")),
                &admin(),
            )
            .await
            .unwrap();
    }
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let s = store.clone();
            tokio::spawn(async move {
                s.enroll(
                    enrollment(&format!("e{i}"), &format!("agent-{i}"), "same-host"),
                    T0,
                )
                .await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => ok += 1,
            Err(Error::Conflict(_)) => {}
            Err(e) => panic!("a losing enrolment must be Conflict, got {e:?}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(store.list_assets(0, 100).await.unwrap().len(), 1);
    let tokens = store.list_tokens().await.unwrap();
    assert_eq!(tokens.iter().filter(|t| t.role == Role::Agent).count(), 1);
    assert_eq!(tokens.iter().filter(|t| t.used_at.is_some()).count(), 1);
    assert_chain_ok(&*store).await;
}

fn bound_enroll_token(name: &str, secret: &str, asset_id: i64) -> NewToken {
    NewToken {
        asset_id: Some(asset_id),
        ..new_token(name, Role::Enroll, secret)
    }
}

/// Re-enrolling a host is explicit: an enrolment token bound to the asset. It enrols into
/// that asset, keeps the asset's stored context, revokes the asset's agent tokens in the
/// same transaction, and the one record says which.
pub async fn reenroll_binds_to_the_asset_and_revokes_its_agent_tokens(store: Arc<dyn Store>) {
    store
        .create_token(new_token("first", Role::Enroll, "first"), &admin())
        .await
        .unwrap();
    let mut req = enrollment("first", "agent-old", "db-1");
    req.asset.tier = 1;
    let first = store.enroll(req, T0).await.unwrap();
    let other = asset(&*store, "other").await;
    let mut other_agent = new_token("agent:other", Role::Agent, "agent-other");
    other_agent.asset_id = Some(other.id);
    store.create_token(other_agent, &admin()).await.unwrap();

    assert_err(
        store
            .create_token(bound_enroll_token("gone", "gone", 424242), &admin())
            .await,
        "NotFound",
    );
    let bound = store
        .create_token(bound_enroll_token("re", "re", first.asset.id), &admin())
        .await
        .unwrap();
    assert_eq!(bound.asset_id, Some(first.asset.id));

    let n = count_records(&*store).await;
    let now = T0.plus_secs(60);
    // The request's context is ignored: the asset keeps tier 1.
    let mut req = enrollment("re", "agent-new", "db-1");
    req.asset.tier = 4;
    req.asset.tags = vec!["ignored".into()];
    let again = store.enroll(req, now).await.unwrap();
    assert_eq!(again.asset, first.asset, "the same asset, unchanged");
    assert!(!again.asset_created);
    assert_eq!(again.revoked_tokens, vec![first.token.id]);
    assert_eq!(again.token.asset_id, Some(first.asset.id));
    assert_eq!(again.token.role, Role::Agent);

    let old = store
        .token_by_hash(&secret_hash("agent-old"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.revoked_at, Some(now));
    assert!(!old.usable_at(now));
    assert!(store
        .token_by_hash(&secret_hash("agent-new"))
        .await
        .unwrap()
        .unwrap()
        .usable_at(now));
    assert!(
        store
            .token_by_hash(&secret_hash("agent-other"))
            .await
            .unwrap()
            .unwrap()
            .usable_at(now),
        "another asset's agent token is untouched"
    );
    let used = store
        .token_by_hash(&secret_hash("re"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (used.used_at, used.asset_id),
        (Some(now), Some(first.asset.id))
    );

    let r = one_new_record(
        &*store,
        n,
        "agent.reenroll",
        &format!("asset:{}", first.asset.id),
    )
    .await;
    assert_eq!(
        r.actor,
        Actor {
            principal: format!("token:{}", bound.id),
            role: Role::Enroll
        }
    );
    let after: serde_json::Value = serde_json::from_str(r.after.as_deref().unwrap()).unwrap();
    assert_eq!(
        after["revoked_tokens"][0]["id"],
        serde_json::json!(first.token.id),
        "{after}"
    );
    assert_eq!(after["token"]["id"], serde_json::json!(again.token.id));
    let before: serde_json::Value = serde_json::from_str(r.before.as_deref().unwrap()).unwrap();
    assert!(
        before["agent_tokens"][0]["revoked_at"].is_null(),
        "{before}"
    );

    // Used once, like every enrolment token.
    assert_err(
        store.enroll(enrollment("re", "agent-3", "db-1"), now).await,
        "Conflict",
    );
    // A second re-enrolment revokes the agent token of the first.
    store
        .create_token(bound_enroll_token("re2", "re2", first.asset.id), &admin())
        .await
        .unwrap();
    let third = store
        .enroll(enrollment("re2", "agent-3", "db-1"), now.plus_secs(1))
        .await
        .unwrap();
    assert_eq!(third.revoked_tokens, vec![again.token.id]);
    let live: Vec<_> = store
        .list_tokens()
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.asset_id == Some(first.asset.id) && t.role == Role::Agent)
        .filter(|t| t.usable_at(now.plus_secs(2)))
        .map(|t| t.id)
        .collect();
    assert_eq!(live, vec![third.token.id], "one live agent token per asset");
    assert_chain_ok(&*store).await;
}

/// A token bound to asset A handed to host B must not make B into A.
pub async fn reenroll_needs_the_bound_assets_name(store: Arc<dyn Store>) {
    let a = asset(&*store, "db-1").await;
    store
        .create_token(bound_enroll_token("re", "re", a.id), &admin())
        .await
        .unwrap();
    let n = count_records(&*store).await;
    match store.enroll(enrollment("re", "agent", "web-9"), T0).await {
        Err(Error::Conflict(m)) => assert!(m.contains("db-1") && m.contains("web-9"), "{m}"),
        other => panic!("want Conflict, got {other:?}"),
    }
    let t = store
        .token_by_hash(&secret_hash("re"))
        .await
        .unwrap()
        .unwrap();
    assert!(t.used_at.is_none(), "not consumed");
    assert_eq!(count_records(&*store).await, n);
    assert_eq!(store.list_assets(0, 100).await.unwrap().len(), 1);
    // An asset created by an operator is enrolled into with a token bound to it.
    let got = store
        .enroll(enrollment("re", "agent", "db-1"), T0)
        .await
        .unwrap();
    assert_eq!(got.asset.id, a.id);
    assert!(got.revoked_tokens.is_empty());
    assert_chain_ok(&*store).await;
}

/// `list_tokens` returns each token's use, revocation, expiry and asset: an enrolment
/// token records the asset it enrolled.
pub async fn tokens_list_shows_use_revocation_and_asset(store: Arc<dyn Store>) {
    let mut exp = new_token("short", Role::Auditor, "short");
    exp.expires_at = Some(T0.plus_secs(10));
    let exp = store.create_token(exp, &admin()).await.unwrap();
    let e = store
        .create_token(new_token("enrol", Role::Enroll, "enrol"), &admin())
        .await
        .unwrap();
    let got = store
        .enroll(enrollment("enrol", "agent", "web-1"), T0.plus_secs(1))
        .await
        .unwrap();
    let rv = store
        .create_token(new_token("rv", Role::Operator, "rv"), &admin())
        .await
        .unwrap();
    store
        .revoke_token(rv.id, T0.plus_secs(2), &admin())
        .await
        .unwrap();
    let list = store.list_tokens().await.unwrap();
    let by_id = |id: i64| list.iter().find(|t| t.id == id).unwrap().clone();
    let now = T0.plus_secs(20);
    assert_eq!(by_id(exp.id).expires_at, Some(T0.plus_secs(10)));
    assert_eq!(by_id(exp.id).state_at(now), TokenState::Expired);
    let e = by_id(e.id);
    assert_eq!(
        (e.used_at, e.asset_id, e.state_at(now)),
        (Some(T0.plus_secs(1)), Some(got.asset.id), TokenState::Used)
    );
    let agent = by_id(got.token.id);
    assert_eq!(
        (agent.asset_id, agent.state_at(now)),
        (Some(got.asset.id), TokenState::Active)
    );
    let rv = by_id(rv.id);
    assert_eq!(
        (rv.revoked_at, rv.state_at(now)),
        (Some(T0.plus_secs(2)), TokenState::Revoked)
    );
}

/// SQLite once stored a NUL byte in an asset name that PostgreSQL refused: every text
/// the store keeps follows one rule set ([`crate::limits`]) on every backend: control
/// characters and oversized values are `Invalid`, and nothing is written.
pub async fn stored_text_is_refused_alike_on_every_backend(store: Arc<dyn Store>) {
    let a = asset(&*store, "ok").await;
    let bad_assets: Vec<(&str, NewAsset)> = vec![
        ("NUL in name", NewAsset::named("nul\0host")),
        ("escape in name", NewAsset::named("\u{1b}[31mred")),
        ("newline in name", NewAsset::named("two\nlines")),
        ("long name", NewAsset::named("x".repeat(limits::NAME + 1))),
        (
            "NUL in site",
            NewAsset {
                site: Some("eu\0".into()),
                ..NewAsset::named("s")
            },
        ),
        (
            "long owner",
            NewAsset {
                owner: Some("o".repeat(limits::OWNER + 1)),
                ..NewAsset::named("o")
            },
        ),
        (
            "too many tags",
            NewAsset {
                tags: vec!["t".into(); limits::TAGS + 1],
                ..NewAsset::named("t")
            },
        ),
        (
            "long tag",
            NewAsset {
                tags: vec!["t".repeat(limits::TAG + 1)],
                ..NewAsset::named("t")
            },
        ),
        (
            "control in tag",
            NewAsset {
                tags: vec!["a\u{7}".into()],
                ..NewAsset::named("t")
            },
        ),
    ];
    for (what, bad) in bad_assets {
        let r = store.create_asset(bad.clone(), T0, &admin()).await;
        assert!(matches!(r, Err(Error::Invalid(_))), "{what}: {r:?}");
        store
            .create_token(new_token(what, Role::Enroll, what), &admin())
            .await
            .unwrap();
        let before = count_records(&*store).await;
        let r = store
            .enroll(
                Enrollment {
                    enroll_hash: secret_hash(what),
                    agent_hash: secret_hash(&format!("agent {what}")),
                    asset: bad,
                },
                T0,
            )
            .await;
        assert!(matches!(r, Err(Error::Invalid(_))), "enrol, {what}: {r:?}");
        assert_eq!(count_records(&*store).await, before, "{what}");
    }
    let n = count_records(&*store).await;
    let patches = [
        AssetPatch {
            site: Some("a\0b".into()),
            ..Default::default()
        },
        AssetPatch {
            owner: Some("o\u{9b}".into()),
            ..Default::default()
        },
        AssetPatch {
            tags: Some(vec!["x".repeat(limits::TAG + 1)]),
            ..Default::default()
        },
        AssetPatch {
            tags: Some(vec!["x".into(); limits::TAGS + 1]),
            ..Default::default()
        },
    ];
    for p in patches {
        let r = store.update_asset(a.id, p.clone(), T0, &admin()).await;
        assert!(matches!(r, Err(Error::Invalid(_))), "{p:?}: {r:?}");
    }
    assert_err(
        store
            .create_token(new_token("tok\0en", Role::Auditor, "nul-token"), &admin())
            .await,
        "Invalid",
    );
    assert_err(
        store.enqueue_job(job(a.id, "re\0scan"), T0, &admin()).await,
        "Invalid",
    );
    assert_eq!(count_records(&*store).await, n, "nothing written");
    assert_eq!(store.get_asset(a.id).await.unwrap(), Some(a));
    assert_eq!(store.list_assets(0, 100).await.unwrap().len(), 1);
    assert_chain_ok(&*store).await;
}

// ---------------------------------------------------------------------- integrity

/// The database's head row follows every append, in the same transaction: the chain
/// checked against it passes; cut short by one record, it does not.
pub async fn audit_head_is_the_last_record(store: Arc<dyn Store>) {
    let s = &*store;
    let empty = s.audit_head().await.unwrap();
    assert_eq!((empty.seq, empty.hash.as_str()), (0, audit::GENESIS));
    assert!(audit::verify_anchored(&[], &[empty]).ok());
    let all = seed_audit(s).await;
    let head = s.audit_head().await.unwrap();
    let last = all.last().unwrap();
    assert_eq!((head.seq, &head.hash), (last.seq, &last.hash));
    assert!(verify_store(s).await.ok());
    let v = audit::verify_anchored(&all[..all.len() - 1], &[head]);
    assert!(
        v.problems
            .iter()
            .any(|p| p.reason.contains("cut off the end")),
        "{:?}",
        v.problems
    );
}

/// A sound database passes the start-up check, answers `ping`, and names itself the
/// same way each time.
pub async fn integrity_check_passes_on_a_sound_database(store: Arc<dyn Store>) {
    let s = &*store;
    s.check_integrity().await.expect("fresh database");
    seed_audit(s).await;
    s.check_integrity().await.expect("seeded database");
    s.ping().await.expect("ping");
    assert_eq!(s.database_id(), s.database_id());
}
