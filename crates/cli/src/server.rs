//! `patchpilot server` and `patchpilot audit verify`: thin wrappers over
//! `patchpilot-server`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

use patchpilot_server::serve::Limits;

use crate::env;

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(long, env = env::LISTEN, default_value = "127.0.0.1:8470")]
    pub listen: SocketAddr,
    /// `postgres://user@host/db` for PostgreSQL, `sqlite://PATH` for another SQLite file
    /// [default: SQLite at DATA_DIR/server.db].
    #[arg(long, env = env::DATABASE_URL, value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// PEM certificate chain: serve HTTPS (needs --tls-key).
    #[arg(long, requires = "tls_key", value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, requires = "tls_cert", value_name = "PEM")]
    pub tls_key: Option<PathBuf>,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 32 << 20)]
    pub body_limit: usize,
    /// Assets re-matched at a time after an advisory database change (bounds the
    /// re-match's memory).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
    pub rematch_page_assets: u32,
    /// Store the advisory database in the database for other replicas when the fleet is
    /// re-matched against it [default: yes on PostgreSQL, no on SQLite].
    #[arg(long, value_name = "BOOL")]
    pub share_advisory_file: Option<bool>,
    /// Risk policy (TOML, as `scan --policy`) that `GET /api/v1/findings?prioritize=true`
    /// ranks with: its `epss-threshold`, `[weights]` and `[sla]` [default: the built-in
    /// policy].
    #[arg(long, env = env::SERVER_POLICY, value_name = "FILE")]
    pub policy: Option<std::path::PathBuf>,
    /// Connections served at once; more wait in the listen backlog [default: the
    /// open-file limit, raised to its hard limit at start, less a tenth (at least 256),
    /// at most 65536].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,
    /// Close a new connection that has not sent a complete request head within this.
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().header_read_timeout.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_secs: u64,
    /// Close a keep-alive connection with no request in flight after this (behind a load
    /// balancer, keep it above the balancer's own idle timeout).
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().idle_timeout.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout_secs: u64,
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Check the audit log's hash chain: finds records edited, deleted, reordered or cut
    /// off the end (against the database's head row and the server's `audit-head.log`).
    Verify(AuditVerifyArgs),
}

#[derive(Debug, Args)]
pub struct AuditVerifyArgs {
    /// The server's database (as for `patchpilot server`).
    #[arg(long, env = env::DATABASE_URL, value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// A head recorded earlier, `SEQ:HASH`: the chain must still hold that record.
    #[arg(long, value_name = "SEQ:HASH")]
    pub expect_head: Option<String>,
    /// Heads the server recorded outside the database (repeat for several, e.g. each
    /// replica's, or copies shipped off the host) [default: DATA_DIR/audit-head.log, if
    /// it exists].
    #[arg(long, value_name = "FILE")]
    pub anchor_log: Vec<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

fn runtime() -> crate::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Log records on stderr, filtered by `RUST_LOG` (default `info`), coloured only when
/// stderr is a terminal (a log file or journald gets no escape codes).
pub(crate) fn init_tracing() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

pub fn server(data_dir: &Path, a: ServerArgs) -> crate::Result<ExitCode> {
    init_tracing();
    let mut config = patchpilot_server::Config::new(data_dir.to_path_buf());
    config.listen = a.listen;
    config.database_url = a.database_url;
    config.body_limit = a.body_limit;
    config.rematch_page_assets = a.rematch_page_assets;
    config.share_advisory_file = a.share_advisory_file;
    config.policy = a.policy;
    config.tls = a.tls_cert.zip(a.tls_key);
    config.limits.max_connections = a.max_connections.map(|n| n as usize);
    config.limits.header_read_timeout = std::time::Duration::from_secs(a.header_timeout_secs);
    config.limits.idle_timeout = std::time::Duration::from_secs(a.idle_timeout_secs);
    config.bootstrap_token = std::env::var(env::BOOTSTRAP_TOKEN)
        .ok()
        .filter(|t| !t.is_empty());
    let rt = runtime()?;
    rt.block_on(async move {
        let running = patchpilot_server::start(config.clone())
            .await
            .context("starting the server")?;
        if let Some(secret) = &running.bootstrap_secret {
            // Printed once: only its hash is stored.
            eprintln!("patchpilot: bootstrap admin token (shown once, store it now): {secret}");
        }
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        // A plain line (not a log record) that scripts and tests can parse.
        eprintln!("patchpilot: listening on {scheme}://{}", running.addr);
        if !running.state.is_ready() {
            eprintln!(
                "patchpilot: re-matching the fleet against the changed advisory database; /readyz answers 503 until done"
            );
            let state = running.state.clone();
            tokio::spawn(async move {
                state.until_ready().await;
                eprintln!("patchpilot: ready");
            });
        }
        let stop = running.shutdown_handle();
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down");
            let _ = stop.send(true);
        });
        running.wait().await.context("serving")?;
        Ok(ExitCode::SUCCESS)
    })
}

pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Exit 0 when the chain is intact, 1 when it is broken. The chain is checked against
/// the head the database records, `--expect-head`, and every head of the anchor logs.
pub fn audit_verify(data_dir: &Path, a: AuditVerifyArgs) -> crate::Result<ExitCode> {
    use patchpilot_server::audit_anchor;
    use patchpilot_server::audit_anchor::Anchor;
    let mut anchors = Vec::new();
    if let Some(h) = &a.expect_head {
        let (seq, hash) = h
            .split_once(':')
            .context("--expect-head must be SEQ:HASH")?;
        let seq: i64 = seq.parse().context("--expect-head: SEQ is not a number")?;
        anchors.push(Anchor {
            seq,
            hash: hash.to_string(),
            source: "--expect-head".into(),
        });
    }
    let explicit = !a.anchor_log.is_empty();
    let logs = if explicit {
        a.anchor_log.clone()
    } else {
        vec![audit_anchor::path(data_dir)]
    };
    let rt = runtime()?;
    rt.block_on(async move {
        let store = patchpilot_server::open_store(a.database_url.as_deref(), data_dir)
            .await
            .context("opening the server database")?;
        let mut notes = Vec::new();
        let mut problems = Vec::new();
        match store.database_id() {
            None => notes.push("an in-memory database has no heads recorded outside it".into()),
            Some(db) => {
                for log in &logs {
                    if explicit && !log.exists() {
                        anyhow::bail!("--anchor-log {}: no such file", log.display());
                    }
                    let r = audit_anchor::read(log, &db)
                        .with_context(|| format!("reading {}", log.display()))?;
                    if r.files.is_empty() {
                        notes.push(format!(
                            "not checked against heads recorded outside the database: {} does not exist",
                            log.display()
                        ));
                    } else if r.anchors.is_empty() {
                        let other = match &r.other_databases {
                            (n, Some(o)) if *n > 0 => format!(" (it records {o})"),
                            _ => String::new(),
                        };
                        notes.push(format!(
                            "{} records no head of this database, {db}{other}",
                            log.display()
                        ));
                    }
                    anchors.extend(r.anchors);
                    problems.extend(r.bad_lines);
                }
            }
        }
        let c = patchpilot_server::check_audit(store.as_ref(), anchors, problems)
            .await
            .context("reading the audit log")?;
        let v = &c.result;
        if a.json {
            #[derive(serde::Serialize)]
            struct Against<'a> {
                source: &'a str,
                seq: i64,
            }
            #[derive(serde::Serialize)]
            struct Out<'a> {
                #[serde(flatten)]
                result: &'a patchpilot_api::AuditVerifyResponse,
                checked_against: Vec<Against<'a>>,
                notes: &'a [String],
            }
            let out = Out {
                result: v,
                checked_against: c
                    .against
                    .iter()
                    .map(|(source, seq)| Against { source, seq: *seq })
                    .collect(),
                notes: &notes,
            };
            crate::out::outln!("{}", serde_json::to_string_pretty(&out)?)?;
        } else {
            match (&v.head_seq, &v.head_hash) {
                (Some(s), Some(h)) => crate::out::outln!("{} records; head {s}:{h}", v.records)?,
                _ => crate::out::outln!("{} records", v.records)?,
            }
            for (source, seq) in &c.against {
                crate::out::outln!("checked against {source} (record {seq})")?;
            }
            for n in &notes {
                crate::out::outln!("note: {n}")?;
            }
            for p in &v.problems {
                crate::out::outln!("BROKEN {p}")?;
            }
            crate::out::outln!(
                "{}",
                if v.ok {
                    "audit log intact"
                } else {
                    "audit log has been tampered with"
                }
            )?;
        }
        Ok(if v.ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}
