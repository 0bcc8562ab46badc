//! Serving connections: one accept loop for HTTP and HTTPS, with the limits a server
//! that listens on an untrusted network needs.
//!
//! `axum::serve` (and axum-server for TLS) kept every connection as long as its peer
//! liked: some 20,000 connections that each sent half a request head and stalled took
//! the process to its open-file limit (`accept error: Too many open files`), and from
//! then on nobody was served. Here each connection is driven by hyper (HTTP/1.1 or
//! HTTP/2, chosen from the first bytes) in a task that watches it, and the accept loop
//! takes no more connections than the process can hold:
//!
//! - **Header-read timeout** ([`Limits::header_read_timeout`], 30 s): a connection that
//!   has not sent a complete request head that long after it was accepted (a TLS
//!   handshake included) is closed.
//! - **TLS handshake timeout** (10 s).
//! - **Idle timeout** (75 s): a keep-alive connection with no request in flight is
//!   closed (an HTTP/1 request head begun and not finished counts as idle).
//! - **Body-read timeout** (30 s between two pieces of a request body) and **send
//!   timeout** (a write the peer does not take for 60 s closes the connection).
//! - None of them cuts a request whose handler is still working: the agents' job long
//!   poll (`GET /api/v1/agent/jobs?wait=60`) moves no byte for up to 60 s and runs to its
//!   end. The idle timeout sits above the agent's heartbeat (30 s) and that wait, so an
//!   agent keeps its connection.
//! - **Connection cap** ([`connection_cap`]): at start the soft `RLIMIT_NOFILE` is raised
//!   to the hard limit, and the server serves at most that limit less a reserve (a tenth,
//!   at least 256, for the database pool, the advisory database, logs) at once, and at
//!   most 65,536 unless told otherwise. At the cap the loop stops accepting: new
//!   connections wait in the kernel's listen backlog until others close, so the process
//!   never runs out of descriptors. An accept error (EMFILE, ENFILE, ECONNABORTED, ...)
//!   never ends the loop; a resource error pauses it for 100 ms instead of spinning.
//! - **Per-connection limits**: 1,000 requests per connection (the last response says
//!   `Connection: close`, or HTTP/2 sends GOAWAY), 100 concurrent HTTP/2 streams, request
//!   heads of at most 64 KiB and 100 header fields.
//! - **Shutdown**: the loop stops accepting, every connection finishes its requests in
//!   flight (for up to [`Limits::shutdown_grace`]) and closes, idle ones at once.
//!
//! Why not a tower timeout layer: a timeout around the whole request would cut the long
//! poll, and none around the request head exists above hyper (its own
//! `header_read_timeout` also bounds the wait between keep-alive requests, so it cannot
//! be longer for idle connections than for half-sent heads). One watch per connection
//! sees both.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::metrics::CloseReason;

/// Limits on connections; [`Limits::default`] is what `patchpilot server` uses.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections served at once. `None`: the open-file limit less a reserve, at most
    /// [`DEFAULT_MAX_CONNECTIONS`] (see [`connection_cap`]). A number above what the
    /// file limit allows is lowered to it.
    pub max_connections: Option<usize>,
    /// A new connection must have sent a complete request head within this (TLS
    /// handshake included), or it is closed.
    pub header_read_timeout: Duration,
    /// A TLS handshake must finish within this.
    pub tls_handshake_timeout: Duration,
    /// A connection with no request in flight is closed after this.
    pub idle_timeout: Duration,
    /// Longest pause between two pieces of a request body (the request then fails).
    pub body_read_timeout: Duration,
    /// A write the peer does not take within this closes the connection.
    pub send_timeout: Duration,
    /// Requests served on one connection; the last response closes it.
    pub max_requests_per_connection: u64,
    /// Concurrent HTTP/2 streams per connection.
    pub http2_max_concurrent_streams: u32,
    /// Largest request head (HTTP/1 read buffer, HTTP/2 header list), bytes.
    pub max_header_bytes: usize,
    /// Most header fields in an HTTP/1 request.
    pub max_headers: usize,
    /// At shutdown, how long requests in flight may take to finish.
    pub shutdown_grace: Duration,
}

/// The default cap when the file limit would allow more: a stalled connection holds
/// some 10 KB, so this bounds what stalled peers can pin in memory (~1 GB).
pub const DEFAULT_MAX_CONNECTIONS: usize = 65_536;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: None,
            header_read_timeout: Duration::from_secs(30),
            tls_handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(75),
            body_read_timeout: Duration::from_secs(30),
            send_timeout: Duration::from_secs(60),
            max_requests_per_connection: 1_000,
            http2_max_concurrent_streams: 100,
            max_header_bytes: 64 << 10,
            max_headers: 100,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// How many connections to serve at once, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cap {
    /// Connections served at once.
    pub max: usize,
    /// The soft open-file limit after raising it (`None` where there is none).
    pub file_limit: Option<u64>,
    /// Descriptors kept for everything but connections.
    pub reserve: u64,
}

/// Descriptors kept free of connections for a file limit: the database pool, the
/// advisory database, logs, the listener, the runtime's own.
pub fn reserve_for(file_limit: u64) -> u64 {
    (file_limit / 10).max(256)
}

/// The cap for a file limit (`None`: no limit known) and an operator's request.
pub fn cap_for(file_limit: Option<u64>, requested: Option<usize>) -> Cap {
    let Some(limit) = file_limit else {
        return Cap {
            max: requested.unwrap_or(DEFAULT_MAX_CONNECTIONS).max(1),
            file_limit: None,
            reserve: 0,
        };
    };
    let reserve = reserve_for(limit);
    let allowed = usize::try_from(limit.saturating_sub(reserve))
        .unwrap_or(usize::MAX)
        .max(1);
    let max = match requested {
        Some(r) => r.clamp(1, allowed),
        None => allowed.min(DEFAULT_MAX_CONNECTIONS),
    };
    Cap {
        max: max.min(u32::MAX as usize),
        file_limit: Some(limit),
        reserve,
    }
}

/// Raise the soft open-file limit to the hard one where allowed, and compute the cap
/// from it ([`cap_for`]). A failed raise leaves the limit as it was (and says so).
pub fn connection_cap(requested: Option<usize>) -> Cap {
    #[cfg(unix)]
    let limit = {
        // 2^20 is Linux's default nr_open; an "unlimited" hard limit cannot be set.
        match rlimit::increase_nofile_limit(1 << 20) {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::warn!(error = %e, "cannot raise the open-file limit");
                rlimit::getrlimit(rlimit::Resource::NOFILE)
                    .ok()
                    .map(|(soft, _)| soft)
            }
        }
    };
    #[cfg(not(unix))]
    let limit = None;
    let cap = cap_for(limit, requested);
    if let Some(r) = requested {
        if r > cap.max {
            tracing::warn!(
                requested = r,
                max_connections = cap.max,
                file_limit = cap.file_limit,
                "the open-file limit allows fewer connections than asked for; raise `ulimit -n` (LimitNOFILE= under systemd)"
            );
        }
    }
    cap
}

/// Connections the kernel completes and holds for the accept loop (capped by
/// `net.core.somaxconn`). Above tokio's 1,024: a fleet reconnecting at once after an
/// outage, or the loop pausing at the cap, would otherwise overflow it and have SYNs
/// dropped (clients then retry after 1 s, 3 s, 7 s...).
pub const LISTEN_BACKLOG: u32 = 4096;

/// Bind `addr` for [`serve`] (address reuse on, as `TcpListener::bind`, and a backlog
/// of [`LISTEN_BACKLOG`]).
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// The TLS acceptor for a PEM certificate chain and key (HTTP/2 and HTTP/1.1 by ALPN).
/// The error names the file at fault.
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate", cert.display()));
    }
    let both = || format!("{} / {}", cert.display(), key.display());
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("{}: {e}", both()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// The metrics the loop keeps (handles into the server's registry).
#[derive(Clone)]
pub(crate) struct ConnMetrics {
    pub open: Gauge,
    pub requests: Gauge,
    pub closed: Family<CloseReason, Counter>,
}

struct Shared {
    router: axum::Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    builder: auto::Builder<TokioExecutor>,
    limits: Limits,
    metrics: ConnMetrics,
}

impl Shared {
    fn closed(&self, reason: &'static str) {
        self.metrics
            .closed
            .get_or_create(&CloseReason { reason })
            .inc();
    }
}

/// Serve `router` on `listener` until `shutdown` turns true, then let the connections
/// finish (see the module doc). At most `max_connections` at once.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: axum::Router,
    limits: Limits,
    max_connections: usize,
    metrics: ConnMetrics,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .keep_alive(true)
        // The watch below times heads and idle connections (see the module doc).
        .header_read_timeout(None)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_headers(limits.max_headers);
    builder
        .http2()
        .max_concurrent_streams(limits.http2_max_concurrent_streams)
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX));
    let max = max_connections.clamp(1, u32::MAX as usize);
    let shared = Arc::new(Shared {
        router,
        tls,
        builder,
        limits,
        metrics,
    });
    let slots = Arc::new(Semaphore::new(max));
    let mut full_warned: Option<Instant> = None;
    let mut error_logged: Option<Instant> = None;
    loop {
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if full_warned.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
                    tracing::warn!(
                        max_connections = max,
                        "connection limit reached: new connections wait in the listen backlog until others close"
                    );
                    full_warned = Some(Instant::now());
                }
                tokio::select! {
                    p = slots.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                    _ = stopped(&mut shutdown) => break,
                }
            }
        };
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = stopped(&mut shutdown) => break,
        };
        match accepted {
            Ok((stream, peer)) => {
                tokio::spawn(connection(
                    stream,
                    peer,
                    shared.clone(),
                    shutdown.clone(),
                    permit,
                ));
            }
            Err(e) if is_connection_error(&e) => {
                // That one connection failed (reset before it was accepted): next.
                tracing::debug!(error = %e, "accept");
            }
            Err(e) => {
                // Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): wait
                // for connections to close rather than spin on the error.
                if error_logged.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                    tracing::error!(error = %e, "accept failed; pausing 100 ms");
                    error_logged = Some(Instant::now());
                }
                drop(permit);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                    _ = stopped(&mut shutdown) => break,
                }
            }
        }
    }
    drop(listener);
    // Every connection holds a slot until it is closed, and each closes within the
    // grace period once told to: all slots back means all connections done.
    let _ = slots.acquire_many(max as u32).await;
    Ok(())
}

/// Resolves once `shutdown` turns true (or its sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|s| *s).await;
}

/// Accept errors that concern only the connection being accepted.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

/// Counts an open connection for the gauge while alive.
struct Open(Gauge);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.dec();
    }
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
    permit: OwnedSemaphorePermit,
) {
    let _permit = permit;
    shared.metrics.open.inc();
    let _open = Open(shared.metrics.open.clone());
    let _ = stream.set_nodelay(true);
    let watch = Arc::new(Watch::new(shared.metrics.requests.clone()));
    let io = Watched {
        inner: stream,
        watch: watch.clone(),
    };
    let Some(tls) = &shared.tls else {
        return drive(io, peer, &shared, &watch, shutdown).await;
    };
    let limit = shared
        .limits
        .tls_handshake_timeout
        .min(shared.limits.header_read_timeout);
    let handshake = tokio::time::timeout(limit, tls.accept(io));
    let stream = tokio::select! {
        r = handshake => match r {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                shared.closed("tls_handshake_timeout");
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
        },
        _ = stopped(&mut shutdown) => return,
    };
    drive(stream, peer, &shared, &watch, shutdown).await
}

/// How long an idle connection told to close may take to say goodbye (an HTTP/2
/// GOAWAY answered) before it is dropped.
const CLOSE_LINGER: Duration = Duration::from_secs(1);

async fn drive<I>(
    io: I,
    peer: SocketAddr,
    shared: &Shared,
    watch: &Arc<Watch>,
    mut shutdown: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = &shared.limits;
    let service = {
        let (router, watch) = (shared.router.clone(), watch.clone());
        let (body_timeout, max_requests) =
            (limits.body_read_timeout, limits.max_requests_per_connection);
        hyper::service::service_fn(move |req: Request<Incoming>| {
            let (router, watch) = (router.clone(), watch.clone());
            let (guard, nth) = InFlight::begin(&watch);
            async move {
                let version = req.version();
                let req =
                    req.map(|b| Body::new(tower_http::timeout::TimeoutBody::new(body_timeout, b)));
                let Ok(mut resp) = router.oneshot(req).await;
                if nth >= max_requests {
                    if version < hyper::Version::HTTP_2 {
                        resp.headers_mut().insert(
                            hyper::header::CONNECTION,
                            hyper::header::HeaderValue::from_static("close"),
                        );
                    } else {
                        watch.drain.store(true, Ordering::SeqCst);
                        watch.changed.notify_one();
                    }
                }
                Ok::<_, Infallible>(resp.map(|inner| Guarded {
                    inner,
                    _guard: guard,
                }))
            }
        })
    };
    let conn = shared.builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let far = Instant::now() + Duration::from_secs(86_400 * 365);
    let sleep = tokio::time::sleep_until(far);
    tokio::pin!(sleep);
    let mut draining = false;
    loop {
        let deadline = watch.deadline(limits);
        sleep.as_mut().reset(deadline.map_or(far, |(at, _)| at));
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            _ = watch.changed.notified() => {
                if watch.drain.load(Ordering::SeqCst) && !draining {
                    draining = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
            _ = &mut sleep, if deadline.is_some() => {
                let Some((at, reason)) = watch.deadline(limits) else { continue };
                if at > Instant::now() {
                    continue;
                }
                shared.closed(reason.label());
                tracing::debug!(%peer, reason = reason.label(), "closing connection");
                match reason {
                    // Nothing was asked, or nothing we send arrives: just close.
                    Reason::Header | Reason::Send => return,
                    Reason::Idle => {
                        conn.as_mut().graceful_shutdown();
                        let _ = tokio::time::timeout(CLOSE_LINGER, conn.as_mut()).await;
                        return;
                    }
                }
            }
            _ = stopped(&mut shutdown) => {
                if watch.served() == 0 {
                    return;
                }
                conn.as_mut().graceful_shutdown();
                let linger = if watch.in_flight() == 0 {
                    CLOSE_LINGER.min(limits.shutdown_grace)
                } else {
                    limits.shutdown_grace
                };
                let _ = tokio::time::timeout(linger, conn.as_mut()).await;
                return;
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    Header,
    Idle,
    Send,
}

impl Reason {
    fn label(self) -> &'static str {
        match self {
            Reason::Header => "header_timeout",
            Reason::Idle => "idle_timeout",
            Reason::Send => "send_timeout",
        }
    }
}

const NOT_BLOCKED: u64 = u64::MAX;

/// What one connection is doing, shared by its IO, its requests and its watch. Times
/// are milliseconds since the connection was accepted.
struct Watch {
    born: Instant,
    /// The server's gauge of requests in flight.
    requests: Gauge,
    in_flight: AtomicU32,
    served: AtomicU64,
    /// When the last request in flight finished.
    idle_since: AtomicU64,
    /// When a write started waiting for the peer to read, or [`NOT_BLOCKED`].
    write_blocked_since: AtomicU64,
    /// The request limit was reached on HTTP/2: send GOAWAY.
    drain: AtomicBool,
    /// Wakes the watch when the request count or the write state changes.
    changed: Notify,
}

impl Watch {
    fn new(requests: Gauge) -> Watch {
        Watch {
            born: Instant::now(),
            requests,
            in_flight: AtomicU32::new(0),
            served: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
            write_blocked_since: AtomicU64::new(NOT_BLOCKED),
            drain: AtomicBool::new(false),
            changed: Notify::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    fn at(&self, ms: u64, after: Duration) -> Instant {
        self.born + Duration::from_millis(ms) + after
    }

    fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::SeqCst)
    }

    fn served(&self) -> u64 {
        self.served.load(Ordering::SeqCst)
    }

    /// The earliest limit this connection runs into now, if any.
    fn deadline(&self, l: &Limits) -> Option<(Instant, Reason)> {
        let mut best: Option<(Instant, Reason)> = None;
        let mut consider = |at: Instant, r: Reason| {
            if best.is_none_or(|(b, _)| at < b) {
                best = Some((at, r));
            }
        };
        let blocked = self.write_blocked_since.load(Ordering::SeqCst);
        if blocked != NOT_BLOCKED {
            consider(self.at(blocked, l.send_timeout), Reason::Send);
        }
        if self.in_flight() == 0 {
            if self.served() == 0 {
                consider(self.born + l.header_read_timeout, Reason::Header);
            } else {
                let since = self.idle_since.load(Ordering::SeqCst);
                consider(self.at(since, l.idle_timeout), Reason::Idle);
            }
        }
        best
    }

    fn write_pending(&self) {
        if self
            .write_blocked_since
            .compare_exchange(
                NOT_BLOCKED,
                self.now_ms(),
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok()
        {
            self.changed.notify_one();
        }
    }

    fn write_ready(&self) {
        if self.write_blocked_since.load(Ordering::Relaxed) != NOT_BLOCKED {
            self.write_blocked_since
                .store(NOT_BLOCKED, Ordering::SeqCst);
        }
    }
}

/// A request in flight, from its head until its response body is sent (or dropped).
struct InFlight(Arc<Watch>);

impl InFlight {
    /// Count a request; returns its guard and its number on the connection (from 1).
    fn begin(watch: &Arc<Watch>) -> (InFlight, u64) {
        watch.in_flight.fetch_add(1, Ordering::SeqCst);
        watch.requests.inc();
        let nth = watch.served.fetch_add(1, Ordering::SeqCst) + 1;
        watch.changed.notify_one();
        (InFlight(watch.clone()), nth)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let w = &self.0;
        w.idle_since.store(w.now_ms(), Ordering::SeqCst);
        w.in_flight.fetch_sub(1, Ordering::SeqCst);
        w.requests.dec();
        w.changed.notify_one();
    }
}

/// A response body that keeps its request counted as in flight until it is done.
struct Guarded {
    inner: Body,
    _guard: InFlight,
}

impl http_body::Body for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The socket, telling the watch when writes wait for the peer.
struct Watched<S> {
    inner: S,
    watch: Arc<Watch>,
}

impl<S> Watched<S> {
    fn note<T>(&self, p: Poll<T>) -> Poll<T> {
        match p {
            Poll::Pending => self.watch.write_pending(),
            Poll::Ready(_) => self.watch.write_ready(),
        }
        p
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let p = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.note(p)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let p = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.note(p)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let p = Pin::new(&mut self.inner).poll_flush(cx);
        self.note(p)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let p = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.note(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults close stalled heads well within 45 s and never cut what an agent
    /// does: its heartbeat every 30 s and its long poll of up to 60 s, during which no
    /// byte moves, stay below every timeout that applies to them.
    #[test]
    fn default_timeouts_close_stalled_heads_and_spare_agents() {
        let l = Limits::default();
        assert!(l.header_read_timeout <= Duration::from_secs(40));
        assert!(l.tls_handshake_timeout <= l.header_read_timeout);
        let long_poll = Duration::from_secs(60);
        assert!(l.idle_timeout > long_poll);
        assert!(l.send_timeout >= long_poll);
        assert!(l.body_read_timeout >= Duration::from_secs(10));
        assert!(l.shutdown_grace >= Duration::from_secs(10));
    }

    #[test]
    fn the_cap_stays_below_the_file_limit() {
        // The limit here: 20,000 descriptors, 2,000 of them kept.
        let c = cap_for(Some(20_000), None);
        assert_eq!((c.max, c.reserve), (18_000, 2_000));
        // A small limit keeps at least 256.
        assert_eq!(cap_for(Some(1_024), None).max, 768);
        // Plenty of descriptors: the default cap.
        assert_eq!(cap_for(Some(1 << 20), None).max, DEFAULT_MAX_CONNECTIONS);
        // An operator may ask for more than the default, never for more than the limit.
        assert_eq!(cap_for(Some(1 << 20), Some(200_000)).max, 200_000);
        assert_eq!(cap_for(Some(20_000), Some(50_000)).max, 18_000);
        assert_eq!(cap_for(Some(20_000), Some(100)).max, 100);
        // A limit below the reserve still serves one connection at a time.
        assert_eq!(cap_for(Some(100), None).max, 1);
        assert_eq!(cap_for(None, None).max, DEFAULT_MAX_CONNECTIONS);
    }
}
