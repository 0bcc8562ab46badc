use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use patchpilot_agent::credential::Credential;
use patchpilot_agent::queue::{new_idempotency_key, Queue};
use patchpilot_agent::{Agent, AgentConfig, AgentError, Backoff, CancellationToken};
use patchpilot_api::NewAsset;

use crate::fake::Server;
use crate::{collect, fast_backoff, report};

fn config(server: &Server, dir: &Path) -> AgentConfig {
    let mut c = AgentConfig::new(&server.url, dir.join("state"), NewAsset::named("host-1"));
    c.enroll_token = Some(server.enroll_token().into());
    c.collect = collect::host(dir);
    c.heartbeat_every = Duration::from_millis(50);
    c.collect_every = Duration::from_secs(3600);
    c.report_every = Duration::from_secs(3600);
    c.job_wait = Duration::from_secs(1);
    c.backoff = fast_backoff();
    c
}

#[tokio::test]
async fn enrols_drains_old_reports_reports_heartbeats_and_runs_jobs() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&server, dir.path());
    // A report left queued by an earlier run (asset "host-1" exists already).
    let (asset_id, _) = server.agent("host-1");
    let old_key = new_idempotency_key();
    Queue::open(&cfg.queue_dir(), 16)
        .unwrap()
        .push(&report(&old_key))
        .unwrap();
    let rescan = server.add_job(asset_id, "rescan");
    let patch = server.add_job(asset_id, "patch");

    let cancel = CancellationToken::new();
    let agent = tokio::spawn(Agent::run(cfg.clone(), cancel.clone()));
    server
        .wait_for("both job results, three reports, a heartbeat", |s| {
            s.results.len() == 2 && s.reports.len() >= 3 && s.heartbeats >= 1
        })
        .await;
    cancel.cancel();
    agent.await.unwrap().unwrap();

    let (reports, results) = server.with(|s| (s.reports.clone(), s.results.clone()));
    assert_eq!(reports.len(), 3, "old, start, rescan: {reports:?}");
    assert_eq!(reports[0].1, old_key, "the queued report goes first");
    assert!(reports.iter().all(|r| r.0 == asset_id));
    assert_eq!(
        reports[1].2, 3,
        "2 dpkg packages + serde (the local crate is not a dependency)"
    );

    let rescan_result = &results.iter().find(|r| r.0 == rescan).unwrap().1;
    assert!(rescan_result.success, "{rescan_result:?}");
    let snapshot = server.with(|s| s.snapshots[&asset_id].last().unwrap().id);
    assert_eq!(rescan_result.output["snapshot_id"], snapshot);

    let patch_result = &results.iter().find(|r| r.0 == patch).unwrap().1;
    assert!(!patch_result.success);
    let msg = patch_result.output["error"].as_str().unwrap();
    assert!(msg.contains("unsupported job kind \"patch\""), "{msg}");

    assert!(Queue::open(&cfg.queue_dir(), 16)
        .unwrap()
        .is_empty()
        .unwrap());
    let cred = Credential::load(&cfg.credential_path()).unwrap().unwrap();
    assert_eq!(cred.asset_id, asset_id);
    #[cfg(unix)]
    assert_eq!(crate::mode(&cfg.credential_path()), 0o600);

    // A restart reuses the credential: no second enrolment.
    let cancel = CancellationToken::new();
    let agent = tokio::spawn(Agent::run(cfg.clone(), cancel.clone()));
    server
        .wait_for("the restart's report", |s| s.reports.len() >= 4)
        .await;
    cancel.cancel();
    agent.await.unwrap().unwrap();
    assert_eq!(server.with(|s| s.enrollments), 1);
}

#[tokio::test]
async fn queues_while_offline_drains_on_reconnect_and_reports_on_change() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&server, dir.path());
    // Retries of the queue itself are far apart: only the reconnect (the first heartbeat
    // that succeeds after failures) can deliver the report within the test's time.
    cfg.backoff = Backoff {
        initial: Duration::from_secs(600),
        max: Duration::from_secs(600),
        factor: 2.0,
        jitter: 0.0,
    };
    cfg.heartbeat_every = Duration::from_millis(20);
    cfg.collect_every = Duration::from_millis(20);
    server.fake.inventory_down.store(1, Ordering::SeqCst);
    server.fake.heartbeat_status.store(503, Ordering::SeqCst);

    let cancel = CancellationToken::new();
    let agent = tokio::spawn(Agent::run(cfg.clone(), cancel.clone()));
    server
        .wait_for("a failed report", |s| s.inventory_failures >= 1)
        .await;
    let queued = Queue::open(&cfg.queue_dir(), 16).unwrap().len().unwrap();
    assert_eq!(queued, 1, "the start report waits on disk");

    server.fake.inventory_down.store(0, Ordering::SeqCst);
    server.fake.heartbeat_status.store(0, Ordering::SeqCst);
    server
        .wait_for("the report after reconnecting", |s| s.reports.len() == 1)
        .await;

    // Unchanged inventory is not reported again; a changed lockfile is.
    std::fs::write(&cfg.collect.paths[0], collect::cargo_lock("1.0.200")).unwrap();
    server
        .wait_for("the changed report", |s| s.reports.len() == 2)
        .await;
    cancel.cancel();
    agent.await.unwrap().unwrap();
    assert_eq!(server.with(|s| s.reports.len()), 2);
}

#[tokio::test]
async fn a_refused_credential_stops_the_agent_with_a_clear_error() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&server, dir.path());
    Credential {
        server: server.url.clone(),
        asset_id: 1,
        asset_name: "host-1".into(),
        token: "revoked".into(),
    }
    .save(&cfg.credential_path())
    .unwrap();
    let e = Agent::run(cfg.clone(), CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(e, AgentError::Unauthorized(_)), "{e}");
    assert!(e.to_string().contains("re-enrol"), "{e}");
    assert_eq!(server.with(|s| s.enrollments), 0);
}

#[tokio::test]
async fn a_bad_source_fails_at_start() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&server, dir.path());
    cfg.collect.paths.push(dir.path().join("nope/Cargo.lock"));
    let e = Agent::run(cfg, CancellationToken::new()).await.unwrap_err();
    assert!(matches!(e, AgentError::Collect(_)), "{e}");
    assert!(e.to_string().contains("nope/Cargo.lock"), "{e}");
}

#[tokio::test]
async fn shutdown_before_enrolment_returns_ok() {
    // Nothing listens here: enrolment keeps retrying until shutdown.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = AgentConfig::new(url, dir.path().join("state"), NewAsset::named("h"));
    cfg.enroll_token = Some("t".into());
    let cancel = CancellationToken::new();
    cancel.cancel();
    Agent::run(cfg, cancel).await.unwrap();
}
