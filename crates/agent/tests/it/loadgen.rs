use std::time::Duration;

use patchpilot_agent::loadgen::{self, LoadConfig};
use patchpilot_agent::{CancellationToken, Client, ClientConfig};

use crate::fake::{Server, ADMIN};
use crate::row;

#[tokio::test]
async fn all_phases_run_and_every_ack_is_verified() {
    let server = Server::start().await;
    let template: Vec<_> = (0..20)
        .map(|i| row(&format!("crate-{i}"), "1.2.3"))
        .collect();
    let mut cfg = LoadConfig::new(ClientConfig::new(&server.url), ADMIN, 6, template);
    cfg.concurrency = 4;
    cfg.packages_per_report = 50;
    cfg.heartbeat_duration = Duration::from_secs(60);
    cfg.heartbeat_limit = Some(40);
    let report = loadgen::run(&cfg, &CancellationToken::new()).await.unwrap();

    assert_eq!(report.enrolled, 6);
    assert_eq!(
        (report.enroll.ok, report.enroll.errors),
        (6, 0),
        "{:?}",
        report.enroll
    );
    assert_eq!((report.inventory.ok, report.inventory.errors), (6, 0));
    assert_eq!((report.heartbeat.ok, report.heartbeat.operations), (40, 40));
    assert_eq!(
        (report.changed_inventory.ok, report.changed_inventory.errors),
        (6, 0)
    );
    assert!(report.inventory.p50_ms <= report.inventory.p99_ms);
    assert!(report.inventory.p99_ms <= report.inventory.max_ms);
    assert!(report.heartbeat.per_second > 0.0);
    assert_eq!(report.acks.len(), 12);
    let counts = server.with(|s| s.reports.iter().map(|r| r.2).collect::<Vec<_>>());
    assert_eq!(counts, vec![50; 12]);
    assert_eq!(server.with(|s| s.heartbeats), 40);

    let admin = Client::new(&ClientConfig::new(&server.url))
        .unwrap()
        .with_token(ADMIN);
    let v = loadgen::verify(&admin, &report.acks, 4).await;
    assert!(v.ok(), "{v:?}");
    assert_eq!((v.assets_checked, v.acks_checked), (6, 12));

    // The JSON output carries the phases but not the per-report acks.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["schema"], 1);
    assert_eq!(json["heartbeat"]["ok"], 40);
    assert!(json.get("acks").is_none());

    // A snapshot the server lost is found.
    let victim = report.acks[0].clone();
    server.with(|s| {
        s.snapshots
            .get_mut(&victim.asset_id)
            .unwrap()
            .retain(|x| x.id != victim.snapshot_id)
    });
    let v = loadgen::verify(&admin, &report.acks, 4).await;
    assert_eq!(v.missing, 1, "{v:?}");
    assert!(!v.ok());
}

#[tokio::test]
async fn errors_are_counted_not_fatal_and_a_bad_admin_token_is_clear() {
    let server = Server::start().await;
    let template = vec![row("a", "1.0.0")];
    let cfg = LoadConfig::new(ClientConfig::new(&server.url), "not-admin", 3, template);
    let e = loadgen::run(&cfg, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no agent could enrol"), "{e}");
    assert!(e.to_string().contains("403"), "{e}");
}
