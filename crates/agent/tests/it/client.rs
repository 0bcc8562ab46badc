use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use patchpilot_agent::{Client, ClientConfig, ClientError};
use patchpilot_api::{paths, Heartbeat, JobResult};

use crate::fake::Server;
use crate::report;

async fn agent_client(server: &Server) -> (i64, Client) {
    let (id, token) = server.agent("a1");
    let c = Client::new(&ClientConfig::new(&server.url))
        .unwrap()
        .with_token(&token);
    (id, c)
}

#[tokio::test]
async fn statuses_are_sorted_into_retryable_and_not() {
    let server = Server::start().await;
    let base = Client::new(&ClientConfig::new(&server.url)).unwrap();

    let e = base
        .with_token("nope")
        .heartbeat(&Heartbeat::default())
        .await
        .unwrap_err();
    assert!(
        matches!(e, ClientError::Rejected { status: 401, .. }),
        "{e}"
    );
    assert!(e.is_auth() && !e.is_retryable());
    assert!(
        e.to_string().contains("unknown token"),
        "the ErrorBody message is kept: {e}"
    );

    let (_, c) = agent_client(&server).await;
    c.heartbeat(&Heartbeat::default()).await.unwrap();
    for status in [503, 500, 429] {
        server.fake.heartbeat_status.store(status, Ordering::SeqCst);
        let e = c.heartbeat(&Heartbeat::default()).await.unwrap_err();
        assert!(matches!(e, ClientError::Server { .. }), "{status}: {e}");
        assert_eq!(e.status(), Some(status as u16));
        assert!(e.is_retryable() && !e.is_auth(), "{e}");
    }
    server.fake.heartbeat_status.store(404, Ordering::SeqCst);
    let e = c.heartbeat(&Heartbeat::default()).await.unwrap_err();
    assert!(
        matches!(e, ClientError::Rejected { status: 404, .. }) && !e.is_retryable(),
        "{e}"
    );
}

#[tokio::test]
async fn a_closed_port_is_a_retryable_transport_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mut cfg = ClientConfig::new(format!("http://{addr}"));
    cfg.connect_timeout = Duration::from_secs(2);
    let c = Client::new(&cfg).unwrap().with_token("t");
    let e = c.heartbeat(&Heartbeat::default()).await.unwrap_err();
    assert!(matches!(e, ClientError::Transport { .. }), "{e}");
    assert!(e.is_retryable());
}

/// The agent's retry lines quote this error: it named the URL twice ("cannot reach URL:
/// error sending request for url (URL): client error (Connect): tcp connect error: …").
#[tokio::test]
async fn a_transport_error_names_its_url_and_cause_once() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = Client::new(&ClientConfig::new(format!("http://{addr}")))
        .unwrap()
        .with_token("t");
    let e = c
        .heartbeat(&Heartbeat::default())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(e.matches(&addr.to_string()).count(), 1, "{e}");
    assert!(e.to_lowercase().contains("refused"), "{e}");
}

#[tokio::test]
async fn undecodable_bodies_and_plain_text_errors_are_reported() {
    let app = Router::new()
        .route(
            paths::AGENT_INVENTORY,
            post(|| async { "this is not json" }),
        )
        .route(
            paths::AGENT_HEARTBEAT,
            post(|| async { (StatusCode::BAD_GATEWAY, "upstream down") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let c = Client::new(&ClientConfig::new(&url))
        .unwrap()
        .with_token("t");

    let e = c.report_inventory(&report("k1")).await.unwrap_err();
    assert!(matches!(e, ClientError::Decode { .. }), "{e}");
    assert!(e.to_string().contains("this is not json"), "{e}");
    assert!(!e.is_retryable());

    let e = c.heartbeat(&Heartbeat::default()).await.unwrap_err();
    assert!(matches!(e, ClientError::Server { status: 502, .. }), "{e}");
    assert!(e.to_string().contains("upstream down"), "{e}");
    task.abort();
}

#[tokio::test]
async fn inventory_is_idempotent_through_the_client() {
    let server = Server::start().await;
    let (_, c) = agent_client(&server).await;
    let r = report("0123456789abcdef0123456789abcdef");
    let first = c.report_inventory(&r).await.unwrap();
    assert!(!first.duplicate);
    let second = c.report_inventory(&r).await.unwrap();
    assert!(second.duplicate);
    assert_eq!(first.snapshot_id, second.snapshot_id);
    assert_eq!(server.with(|s| s.reports.len()), 1);
}

#[tokio::test]
async fn jobs_long_poll_and_results() {
    let server = Server::start().await;
    let (id, c) = agent_client(&server).await;
    assert!(c.poll_jobs(Duration::ZERO).await.unwrap().is_empty());
    let job = server.add_job(id, "rescan");
    let jobs = c.poll_jobs(Duration::from_secs(5)).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].id, job);
    let result = JobResult {
        success: true,
        output: serde_json::json!({"ok": 1}),
    };
    c.finish_job(job, &result).await.unwrap();
    assert_eq!(server.with(|s| s.results.clone()), vec![(job, result)]);

    // A long poll that starts empty returns the job as soon as it is queued.
    let waiting = tokio::spawn({
        let c = c.clone();
        async move { c.poll_jobs(Duration::from_secs(30)).await }
    });
    // Parked or not yet, the poll returns the job once it is queued.
    let job2 = server.add_job(id, "rescan");
    let jobs = waiting.await.unwrap().unwrap();
    assert_eq!(jobs.iter().map(|j| j.id).collect::<Vec<_>>(), [job2]);
}
