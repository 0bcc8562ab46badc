//! Connection limits (`patchpilot_server::serve`): stalled peers are closed while others
//! are served, the cap holds, requests in flight are never cut. Raw sockets on
//! 127.0.0.1 play the misbehaving clients; reqwest the well-behaved ones.
//!
//! These run on SQLite only, except the long poll: connection handling does not touch
//! the store, the long poll waits on the backend's job notices. The test with 15,000
//! stalled connections runs the server as a child process (`crates/cli/tests/it/
//! connections.rs`): both ends of them would not fit in this process's file limit.

use std::time::{Duration, Instant};

use futures::StreamExt;
use patchpilot_server::metrics::CloseReason;
use patchpilot_server::AppState;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{backends, Backend, TestServer};

/// A request head cut off before its end: the client stalls here.
const HALF_HEAD: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n";

fn closed(state: &AppState, reason: &'static str) -> u64 {
    state
        .metrics
        .connections_closed
        .get_or_create(&CloseReason { reason })
        .get()
}

/// Open `n` connections to `addr`, each of which sends half a request head and stalls.
async fn stall(addr: std::net::SocketAddr, n: usize) -> Vec<TcpStream> {
    futures::stream::iter(0..n)
        .map(|_| async move {
            let mut s = TcpStream::connect(addr).await.expect("connect");
            s.write_all(HALF_HEAD).await.expect("half a head");
            s
        })
        .buffer_unordered(256)
        .collect()
        .await
}

/// Resolves when the server has closed `s` (EOF or reset); fails on any answer.
async fn until_closed(mut s: TcpStream) {
    let mut buf = [0u8; 512];
    if let Ok(n @ 1..) = s.read(&mut buf).await {
        panic!(
            "a stalled connection got an answer: {:?}",
            String::from_utf8_lossy(&buf[..n])
        );
    }
}

/// At the connection cap the server stops accepting instead of running out of
/// descriptors: new connections wait in the listen backlog and are served as soon as
/// stalled ones are dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_new_connections_wait_and_are_served() {
    let srv = TestServer::start_with(&Backend::Sqlite, None, |c| {
        c.limits.max_connections = Some(20);
        c.limits.header_read_timeout = Duration::from_secs(1);
    })
    .await;
    let state = srv.state().clone();
    assert_eq!(state.metrics.connection_limit.get(), 20);
    let addr = srv.running.as_ref().unwrap().addr;
    // Three times the cap: the last ones are accepted only after two rounds of timeouts.
    let stalled = stall(addr, 60).await;
    let t = Instant::now();
    let resp = reqwest::get(format!("{}/healthz", srv.base))
        .await
        .expect("served once stalled connections are dropped");
    assert_eq!(resp.status(), 200);
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "took {:?}",
        t.elapsed()
    );
    assert!(state.metrics.connections.get() <= 20);
    tokio::time::timeout(
        Duration::from_secs(20),
        futures::future::join_all(stalled.into_iter().map(until_closed)),
    )
    .await
    .expect("every stalled connection is closed");
    srv.stop().await;
}

/// A job long poll waits longer than every timeout of this server (header, idle, body:
/// 1 s) with no byte moving, and is answered at the end of its wait, not cut. Then its
/// connection, idle, is closed by the idle timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_outlasts_the_header_and_idle_timeouts() {
    for b in backends("a_long_poll_outlasts_the_header_and_idle_timeouts") {
        let srv = TestServer::start_with(&b, None, |c| {
            c.limits.header_read_timeout = Duration::from_secs(1);
            c.limits.idle_timeout = Duration::from_secs(1);
            c.limits.body_read_timeout = Duration::from_secs(1);
        })
        .await;
        let (_, agent) = srv.enroll("long-poller").await;
        let state = srv.state().clone();
        let idle_before = closed(&state, "idle_timeout");
        let t = Instant::now();
        let (s, jobs) = srv.get("/api/v1/agent/jobs?wait=3", &agent).await;
        let waited = t.elapsed();
        assert_eq!(s, 200, "{}: {jobs}", b.name());
        assert_eq!(jobs, serde_json::json!([]), "{}", b.name());
        assert!(
            waited >= Duration::from_secs(3),
            "{}: answered after {waited:?}, before its wait",
            b.name()
        );

        // The same over a raw connection, which then sits idle: closed in about 1 s.
        let mut s = TcpStream::connect(srv.running.as_ref().unwrap().addr)
            .await
            .unwrap();
        let req = format!(
            "GET /api/v1/agent/jobs?wait=2 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {agent}\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let t = Instant::now();
        let mut got = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut got))
            .await
            .expect("the idle connection is closed")
            .unwrap();
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with("HTTP/1.1 200"), "{}: {text}", b.name());
        assert!(t.elapsed() >= Duration::from_secs(2), "{}", b.name());
        assert!(closed(&state, "idle_timeout") > idle_before, "{}", b.name());
        srv.stop().await;
    }
}

/// The last request a connection may carry is answered with `Connection: close`, and
/// the connection ends there; requests pipelined behind it are not served.
#[tokio::test]
async fn a_connection_carries_a_bounded_number_of_requests() {
    let srv = TestServer::start_with(&Backend::Sqlite, None, |c| {
        c.limits.max_requests_per_connection = 3;
    })
    .await;
    let mut s = TcpStream::connect(srv.running.as_ref().unwrap().addr)
        .await
        .unwrap();
    let one = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    s.write_all(one.repeat(5).as_bytes()).await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut got))
        .await
        .expect("the connection is closed after its last request")
        .unwrap();
    let text = String::from_utf8_lossy(&got).to_ascii_lowercase();
    assert_eq!(text.matches("http/1.1 200").count(), 3, "{text}");
    assert_eq!(text.matches("connection: close").count(), 1, "{text}");
    srv.stop().await;
}

/// A request head above the bound is refused (431) rather than buffered.
#[tokio::test]
async fn an_oversized_request_head_is_refused() {
    let srv = TestServer::start(&Backend::Sqlite, None).await;
    let mut s = TcpStream::connect(srv.running.as_ref().unwrap().addr)
        .await
        .unwrap();
    let big = format!(
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(100 << 10)
    );
    // The server may close before taking all of it.
    let _ = s.write_all(big.as_bytes()).await;
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut got))
        .await
        .expect("answered and closed");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 431"), "{text}");
    srv.stop().await;
}

/// A request body that stops arriving fails after the body-read timeout instead of
/// holding its connection and handler forever.
#[tokio::test]
async fn a_stalled_request_body_times_out() {
    let srv = TestServer::start_with(&Backend::Sqlite, None, |c| {
        c.limits.body_read_timeout = Duration::from_secs(1);
    })
    .await;
    let mut s = TcpStream::connect(srv.running.as_ref().unwrap().addr)
        .await
        .unwrap();
    let head = format!(
        "POST /api/v1/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\":",
        srv.admin
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
        .await
        .expect("answered after the body-read timeout")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(
        text.starts_with("HTTP/1.1 4") || text.starts_with("HTTP/1.1 5"),
        "{text}"
    );
    srv.stop().await;
}

/// Over TLS: a client that connects and never starts its handshake is dropped after the
/// handshake timeout, and a pinned client is served over HTTP/2 (ALPN).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_stalled_handshakes_are_dropped_and_http2_is_served() {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
    let dir = tempfile::tempdir().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca.self_signed(&ca_key).unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    leaf.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let key = KeyPair::generate().unwrap();
    let leaf = leaf.signed_by(&key, &ca, &ca_key).unwrap();
    let (cert_pem, key_pem) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_pem, leaf.pem() + &ca.pem()).unwrap();
    std::fs::write(&key_pem, key.serialize_pem()).unwrap();
    let srv = TestServer::start_with(&Backend::Sqlite, None, |c| {
        c.tls = Some((cert_pem, key_pem));
        c.limits.tls_handshake_timeout = Duration::from_secs(1);
    })
    .await;
    let addr = srv.running.as_ref().unwrap().addr;
    let state = srv.state().clone();
    let silent = TcpStream::connect(addr).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), until_closed(silent))
        .await
        .expect("a silent TLS client is dropped");
    assert_eq!(closed(&state, "tls_handshake_timeout"), 1);

    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let resp = client
        .get(format!("https://127.0.0.1:{}/healthz", addr.port()))
        .send()
        .await
        .expect("served over TLS");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    srv.stop().await;
}

/// Poll `check` (another task's progress) until true, or fail after `secs`.
async fn until(secs: u64, what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A client that sends requests and never reads the answers is dropped once a write has
/// waited for it longer than the send timeout, instead of holding its connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_read_is_dropped_after_the_send_timeout() {
    let srv = TestServer::start_with(&Backend::Sqlite, None, |c| {
        c.limits.send_timeout = Duration::from_secs(1);
    })
    .await;
    let state = srv.state().clone();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let (mut r, mut w) = socket
        .connect(srv.running.as_ref().unwrap().addr)
        .await
        .unwrap()
        .into_split();
    // Pipelined requests for the OpenAPI document, whose answers fill both socket
    // buffers; none is read.
    let writer = tokio::spawn(async move {
        let req = b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        for _ in 0..5_000 {
            if w.write_all(req).await.is_err() {
                break;
            }
        }
    });
    until(30, "a send timeout", || closed(&state, "send_timeout") >= 1).await;
    // Now the connection ends for this client too.
    let mut sink = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), r.read_to_end(&mut sink))
        .await
        .expect("the connection is closed")
        .ok();
    writer.abort();
    srv.stop().await;
}

/// Shutdown stops accepting and lets a request in flight finish: a long poll waiting
/// when it begins is answered at the end of its wait, and `shutdown` returns after that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_a_request_in_flight_finish() {
    let mut srv = TestServer::start(&Backend::Sqlite, None).await;
    let (_, agent) = srv.enroll("draining").await;
    let state = srv.state().clone();
    let addr = srv.running.as_ref().unwrap().addr;
    let gauge = || state.metrics.requests_in_flight.get();
    until(10, "the enrolment to finish", || gauge() == 0).await;
    let url = format!("{}/api/v1/agent/jobs?wait=2", srv.base);
    let t = Instant::now();
    let poll = tokio::spawn(async move {
        reqwest::Client::new()
            .get(url)
            .bearer_auth(agent)
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    until(10, "the long poll to be in flight", || gauge() == 1).await;
    let running = srv.running.take().unwrap();
    running.shutdown().await.expect("clean shutdown");
    assert!(
        t.elapsed() >= Duration::from_secs(2),
        "shutdown returned after {:?}, before the long poll's wait ended",
        t.elapsed()
    );
    assert_eq!(poll.await.unwrap().expect("answered, not cut"), 200);
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
    srv.stop().await;
}
