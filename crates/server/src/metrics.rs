//! Prometheus metrics at `/metrics` (prometheus-client, one registry per server).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;

use crate::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PhaseLabel {
    pub phase: &'static str,
}

/// Seconds spent per phase of inventory ingestion (wall time; `store` includes waiting
/// for the writer), so a load run shows where a report's time goes.
pub type PhaseSeconds = Family<PhaseLabel, Counter<f64, std::sync::atomic::AtomicU64>>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteOnly {
    pub route: String,
}

/// Why the server closed a connection by itself (see [`crate::serve`]).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CloseReason {
    pub reason: &'static str,
}

pub struct Metrics {
    registry: Registry,
    /// HTTP connections open now.
    pub connections: Gauge,
    /// HTTP requests in flight now (until their response is sent).
    pub requests_in_flight: Gauge,
    /// The most connections served at once ([`crate::serve::Limits::max_connections`]).
    pub connection_limit: Gauge,
    /// Connections the server closed: header, idle or send timeout, TLS handshake.
    pub connections_closed: Family<CloseReason, Counter>,
    pub requests: Family<RouteLabels, Counter>,
    pub latency: Family<RouteOnly, Histogram>,
    pub inventory_reports: Counter,
    pub inventory_unchanged: Counter,
    pub heartbeats: Counter,
    pub findings_opened: Counter,
    pub findings_fixed: Counter,
    pub stale_retries: Counter,
    pub ingest_phase: PhaseSeconds,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("patchpilot");
        let requests = Family::<RouteLabels, Counter>::default();
        let latency = Family::<RouteOnly, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ])
        });
        let c = Counter::default;
        let (inventory_reports, heartbeats, findings_opened, findings_fixed, stale_retries) =
            (c(), c(), c(), c(), c());
        let inventory_unchanged = c();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register(
            "inventory_reports",
            "Inventory reports applied",
            inventory_reports.clone(),
        );
        registry.register(
            "inventory_unchanged",
            "Inventory reports equal to the current inventory (nothing stored)",
            inventory_unchanged.clone(),
        );
        registry.register("heartbeats", "Agent heartbeats", heartbeats.clone());
        registry.register(
            "findings_opened",
            "Findings opened",
            findings_opened.clone(),
        );
        registry.register(
            "findings_fixed",
            "Findings closed as fixed",
            findings_fixed.clone(),
        );
        registry.register(
            "inventory_stale_retries",
            "Inventory reports recomputed after a concurrent change",
            stale_retries.clone(),
        );
        let connections = Gauge::default();
        registry.register(
            "http_connections",
            "HTTP connections open",
            connections.clone(),
        );
        let requests_in_flight = Gauge::default();
        registry.register(
            "http_requests_in_flight",
            "HTTP requests in flight (a long poll counts while it waits)",
            requests_in_flight.clone(),
        );
        let connection_limit = Gauge::default();
        registry.register(
            "http_connection_limit",
            "The most HTTP connections served at once (more wait in the listen backlog)",
            connection_limit.clone(),
        );
        let connections_closed = Family::<CloseReason, Counter>::default();
        registry.register(
            "http_connections_closed_by_server",
            "Connections closed by the server's limits, by reason",
            connections_closed.clone(),
        );
        let ingest_phase = PhaseSeconds::default();
        registry.register(
            "inventory_phase_seconds",
            "Wall time spent per phase of inventory ingestion",
            ingest_phase.clone(),
        );
        Metrics {
            registry,
            connections,
            requests_in_flight,
            connection_limit,
            connections_closed,
            ingest_phase,
            requests,
            latency,
            inventory_reports,
            inventory_unchanged,
            heartbeats,
            findings_opened,
            findings_fixed,
            stale_retries,
        }
    }
}

impl Metrics {
    /// Add the time since `since` to `phase` and restart the clock.
    pub fn phase(&self, phase: &'static str, since: &mut Instant) {
        let now = Instant::now();
        self.ingest_phase
            .get_or_create(&PhaseLabel { phase })
            .inc_by((now - *since).as_secs_f64());
        *since = now;
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Middleware: count and time every request by its route template.
pub async fn track(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    let m = &state.metrics;
    m.latency
        .get_or_create(&RouteOnly {
            route: route.clone(),
        })
        .observe(start.elapsed().as_secs_f64());
    m.requests
        .get_or_create(&RouteLabels {
            method,
            route,
            status: resp.status().as_u16(),
        })
        .inc();
    resp
}
