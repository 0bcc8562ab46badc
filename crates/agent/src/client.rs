//! The HTTP client for the control plane's `/api/v1`, shared by the agent and the load
//! generator.
//!
//! One [`Client`] wraps one pooled `reqwest` client; [`Client::with_token`] makes a cheap
//! copy that sends a different bearer token over the same connection pool, so ten
//! thousand simulated agents share a few dozen connections.
//!
//! TLS trusts only what it is told to: `https://` needs a CA certificate (PEM) and then
//! trusts that CA alone, which is how an agent pins its server's CA. There is no fallback
//! to system or bundled web roots: a control plane is reached through a private CA, and
//! the build has no root store to fall back on anyway.
//!
//! Errors are sorted by what the caller should do next ([`ClientError::is_retryable`]):
//! transport failures and 5xx/429 are worth retrying, any other 4xx is not, and a
//! response that does not decode is a bug on one side. No `reqwest` type leaks out.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use patchpilot_api::{
    paths, Asset, CreateToken, CreatedToken, EnrollRequest, EnrollResponse, ErrorBody, Heartbeat,
    InventoryAck, InventoryReport, Job, JobResult, SnapshotInfo, IDEMPOTENCY_HEADER,
};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

/// How to reach the server.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL, `http://host:port` or `https://host:port` (a path prefix is kept).
    pub server: String,
    /// PEM file with the CA certificate(s) to trust for `https://`. Required for https.
    pub ca_pem: Option<PathBuf>,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for one whole request (a long poll gets its wait on top).
    pub request_timeout: Duration,
    /// Idle connections kept per host (the load generator wants its concurrency here).
    pub pool_max_idle_per_host: usize,
}

impl ClientConfig {
    pub fn new(server: impl Into<String>) -> ClientConfig {
        ClientConfig {
            server: server.into(),
            ca_pem: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            pool_max_idle_per_host: 32,
        }
    }
}

/// What went wrong talking to the server.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// The client could not be built: bad URL, https without a CA, unreadable CA file.
    #[error("client configuration: {0}")]
    Config(String),
    /// Connection refused or reset, DNS, TLS, timeout: retry later.
    #[error("cannot reach {url}: {message}")]
    Transport { url: String, message: String },
    /// 5xx, 429 or 408: the server is overloaded or broken; retry later.
    #[error("{url}: server error {status} {code}: {message}")]
    Server {
        url: String,
        status: u16,
        code: String,
        message: String,
    },
    /// Any other 4xx: this request will not succeed as it is.
    #[error("{url}: rejected {status} {code}: {message}")]
    Rejected {
        url: String,
        status: u16,
        code: String,
        message: String,
    },
    /// A 2xx response whose body is not what the contract says.
    #[error("{url}: cannot decode the response: {message}")]
    Decode { url: String, message: String },
}

impl ClientError {
    /// True for transport failures and 5xx/429/408: the same request may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ClientError::Transport { .. } | ClientError::Server { .. }
        )
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Server { status, .. } | ClientError::Rejected { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// 401 or 403: the token is missing, expired, revoked or lacks the role. Retrying
    /// will not help; the agent must be re-enrolled (or the operator fix the token).
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            ClientError::Rejected {
                status: 401 | 403,
                ..
            }
        )
    }
}

pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// A client for one server. Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Arc<str>,
    token: Option<Arc<str>>,
    request_timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Client {
    /// Build a client. Fails for a URL that is not http(s), for https without a CA, and
    /// for a CA file that cannot be read or holds no certificate.
    pub fn new(config: &ClientConfig) -> Result<Client> {
        let base = normalize_base(&config.server)?;
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .connect_timeout(config.connect_timeout)
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .tcp_nodelay(true)
            .user_agent(concat!("patchpilot-agent/", env!("CARGO_PKG_VERSION")));
        match &config.ca_pem {
            Some(path) => {
                for cert in read_ca(path)? {
                    builder = builder.add_root_certificate(cert);
                }
            }
            None if base.starts_with("https://") => {
                return Err(ClientError::Config(format!(
                    "{base} is https but no CA certificate was given: pass the server's CA \
                     (PEM) to pin it; there is no built-in root store"
                )));
            }
            None => {}
        }
        let http = builder
            .build()
            .map_err(|e| ClientError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            base: base.into(),
            token: None,
            request_timeout: config.request_timeout,
        })
    }

    /// The same client (and connection pool), sending `token` as the bearer.
    pub fn with_token(&self, token: &str) -> Client {
        Client {
            token: Some(token.into()),
            ..self.clone()
        }
    }

    /// The base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `POST /api/v1/enroll` with a one-time enrolment token (not this client's token).
    pub async fn enroll(&self, enroll_token: &str, req: &EnrollRequest) -> Result<EnrollResponse> {
        let url = self.url(paths::ENROLL);
        let rb = self
            .http
            .post(&url)
            .timeout(self.request_timeout)
            .bearer_auth(enroll_token)
            .json(req);
        self.send_json(url, rb).await
    }

    /// `POST /api/v1/agent/heartbeat` (204 or 200; any body is ignored).
    pub async fn heartbeat(&self, hb: &Heartbeat) -> Result<()> {
        let url = self.url(paths::AGENT_HEARTBEAT);
        let rb = self.authed(self.http.post(&url)).json(hb);
        self.send_empty(url, rb).await
    }

    /// `POST /api/v1/agent/inventory`, with the report's idempotency key also as a header.
    pub async fn report_inventory(&self, report: &InventoryReport) -> Result<InventoryAck> {
        let url = self.url(paths::AGENT_INVENTORY);
        let rb = self
            .authed(self.http.post(&url))
            .header(IDEMPOTENCY_HEADER, &report.idempotency_key)
            .json(report);
        self.send_json(url, rb).await
    }

    /// Like [`Client::report_inventory`] with the body already serialized as JSON (the
    /// load generator serializes before it starts the clock).
    pub async fn report_inventory_raw(
        &self,
        idempotency_key: &str,
        body: Vec<u8>,
    ) -> Result<InventoryAck> {
        let url = self.url(paths::AGENT_INVENTORY);
        let rb = self
            .authed(self.http.post(&url))
            .header(IDEMPOTENCY_HEADER, idempotency_key)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        self.send_json(url, rb).await
    }

    /// `GET /api/v1/agent/jobs?wait=SECS`: jobs claimed for this agent, or `[]` after
    /// `wait` (the server caps it at 60 s). The request timeout is added to the wait.
    pub async fn poll_jobs(&self, wait: Duration) -> Result<Vec<Job>> {
        let secs = wait.as_secs().min(60);
        let url = format!("{}?wait={secs}", self.url(paths::AGENT_JOBS));
        let rb = self
            .authed(self.http.get(&url))
            .timeout(self.request_timeout + Duration::from_secs(secs));
        self.send_json(url, rb).await
    }

    /// `POST /api/v1/agent/jobs/{id}/result`.
    pub async fn finish_job(&self, job_id: i64, result: &JobResult) -> Result<()> {
        let url = self.url(&paths::AGENT_JOB_RESULT.replace("{id}", &job_id.to_string()));
        let rb = self.authed(self.http.post(&url)).json(result);
        self.send_empty(url, rb).await
    }

    /// `POST /api/v1/tokens` (admin): used by the load generator to mint enrolment tokens.
    pub async fn create_token(&self, req: &CreateToken) -> Result<CreatedToken> {
        let url = self.url(paths::TOKENS);
        let rb = self.authed(self.http.post(&url)).json(req);
        self.send_json(url, rb).await
    }

    /// `GET /api/v1/assets/{id}`.
    pub async fn get_asset(&self, asset_id: i64) -> Result<Asset> {
        let url = self.url(&paths::ASSET.replace("{id}", &asset_id.to_string()));
        let rb = self.authed(self.http.get(&url));
        self.send_json(url, rb).await
    }

    /// `GET /api/v1/assets/{id}/snapshots`.
    pub async fn list_snapshots(&self, asset_id: i64) -> Result<Vec<SnapshotInfo>> {
        let url = self.url(&paths::ASSET_SNAPSHOTS.replace("{id}", &asset_id.to_string()));
        let rb = self.authed(self.http.get(&url));
        self.send_json(url, rb).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn authed(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let rb = rb.timeout(self.request_timeout);
        match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    async fn send(&self, url: &str, rb: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        let resp = rb.send().await.map_err(|e| transport(url, &e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let bytes = resp.bytes().await.unwrap_or_default();
        let (code, message) = match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(b) => (b.error.code, b.error.message),
            Err(_) => (
                status
                    .canonical_reason()
                    .unwrap_or("error")
                    .to_ascii_lowercase()
                    .replace(' ', "_"),
                snippet(&bytes),
            ),
        };
        let url = url.to_string();
        let status_u16 = status.as_u16();
        if status.is_server_error()
            || status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT
        {
            Err(ClientError::Server {
                url,
                status: status_u16,
                code,
                message,
            })
        } else {
            Err(ClientError::Rejected {
                url,
                status: status_u16,
                code,
                message,
            })
        }
    }

    async fn send_json<T: DeserializeOwned>(
        &self,
        url: String,
        rb: reqwest::RequestBuilder,
    ) -> Result<T> {
        let resp = self.send(&url, rb).await?;
        let bytes = resp.bytes().await.map_err(|e| transport(&url, &e))?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
            url,
            message: format!("{e} (body: {})", snippet(&bytes)),
        })
    }

    async fn send_empty(&self, url: String, rb: reqwest::RequestBuilder) -> Result<()> {
        let resp = self.send(&url, rb).await?;
        // Read the body so the connection goes back to the pool.
        resp.bytes().await.map_err(|e| transport(&url, &e))?;
        Ok(())
    }
}

fn transport(url: &str, e: &reqwest::Error) -> ClientError {
    ClientError::Transport {
        url: url.to_string(),
        message: transport_cause(e),
    }
}

/// Why a request failed, named once: the innermost cause of the chain ("Connection
/// refused (os error 111)", "invalid peer certificate: UnknownIssuer"). The layers above
/// it repeat the URL ("error sending request for url (…)") or say nothing more ("client
/// error (Connect)"), and [`ClientError::Transport`] names the URL itself.
fn transport_cause(e: &reqwest::Error) -> String {
    let mut innermost = None;
    let mut next = std::error::Error::source(e);
    while let Some(c) = next {
        innermost = Some(c);
        next = c.source();
    }
    let mut message = innermost.map_or_else(|| e.to_string(), |c| c.to_string());
    if e.is_timeout() && !message.contains("timed out") {
        message.push_str(" (timed out)");
    }
    message
}

fn snippet(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]);
    let s = s.trim();
    if s.is_empty() {
        "(empty body)".to_string()
    } else {
        s.to_string()
    }
}

/// Check the scheme and drop a trailing slash, so `base + "/api/v1/..."` is right.
fn normalize_base(server: &str) -> Result<String> {
    let url = reqwest::Url::parse(server.trim())
        .map_err(|e| ClientError::Config(format!("server URL {server:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ClientError::Config(format!(
            "server URL {server:?}: scheme must be http or https"
        )));
    }
    if url.host_str().is_none() {
        return Err(ClientError::Config(format!(
            "server URL {server:?} has no host"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ClientError::Config(format!(
            "server URL {server:?} must not have a query or fragment"
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn read_ca(path: &Path) -> Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path).map_err(|e| {
        ClientError::Config(format!(
            "cannot read CA certificate {}: {e}",
            path.display()
        ))
    })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| ClientError::Config(format!("CA certificate {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(ClientError::Config(format!(
            "CA certificate {}: no PEM certificate in the file",
            path.display()
        )));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_and_normalized() {
        assert_eq!(
            normalize_base("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalize_base("https://pp.example/prefix/").unwrap(),
            "https://pp.example/prefix"
        );
        for bad in ["ftp://x", "not a url", "http://x/?a=1", ""] {
            assert!(
                matches!(normalize_base(bad), Err(ClientError::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn https_without_ca_is_a_clear_error() {
        let e = Client::new(&ClientConfig::new("https://127.0.0.1:1")).unwrap_err();
        assert!(matches!(e, ClientError::Config(_)));
        assert!(e.to_string().contains("no CA certificate"), "{e}");
        assert!(!e.is_retryable());
    }

    #[test]
    fn unreadable_or_empty_ca_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = ClientConfig::new("https://127.0.0.1:1");
        cfg.ca_pem = Some(dir.path().join("missing.pem"));
        let e = Client::new(&cfg).unwrap_err();
        assert!(e.to_string().contains("cannot read CA certificate"), "{e}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        cfg.ca_pem = Some(empty);
        let e = Client::new(&cfg).unwrap_err();
        assert!(matches!(e, ClientError::Config(_)), "{e}");
    }

    #[test]
    fn debug_hides_the_token() {
        let c = Client::new(&ClientConfig::new("http://127.0.0.1:1"))
            .unwrap()
            .with_token("s3cret");
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
