//! `patchpilot agent` and `patchpilot bench agents`: thin wrappers over
//! `patchpilot-agent`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use patchpilot_agent::{
    loadgen, Agent, AgentConfig, CancellationToken, ClientConfig, CollectConfig,
};
use patchpilot_api::{Environment, Exposure, NewAsset};

use crate::env;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EnvArg {
    Cloud,
    OnPrem,
    Edge,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExposureArg {
    InternetFacing,
    Internal,
    Isolated,
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The server, `http://host:8470` or `https://…` (https needs --ca).
    #[arg(long, env = env::SERVER_URL, value_name = "URL")]
    pub server: String,
    /// One-time enrolment token from an admin (`POST /api/v1/tokens` with role enroll);
    /// needed only until the agent has its credential.
    #[arg(long, env = env::ENROLL_TOKEN, hide_env_values = true, value_name = "TOKEN")]
    pub enroll_token: Option<String>,
    /// Where the credential (mode 0600) and the offline queue live [default: DATA_DIR/agent].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// PEM CA certificate(s) to trust for https (pins the server's CA).
    #[arg(long, value_name = "PEM")]
    pub ca: Option<PathBuf>,
    /// Asset name at enrolment [default: the host name].
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long, value_enum, default_value = "on-prem")]
    pub environment: EnvArg,
    /// Region or site.
    #[arg(long)]
    pub site: Option<String>,
    /// Criticality tier, 1 (most critical) to 4.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=4))]
    pub tier: u8,
    #[arg(long, value_enum, default_value = "internal")]
    pub exposure: ExposureArg,
    #[arg(long)]
    pub owner: Option<String>,
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Root of the file system whose OS packages are reported.
    #[arg(long, default_value = "/")]
    pub root: PathBuf,
    /// Do not report OS packages (only --path files).
    #[arg(long)]
    pub no_os: bool,
    /// A lockfile or SBOM to report as well (repeatable).
    #[arg(long = "path", value_name = "FILE")]
    pub paths: Vec<PathBuf>,
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub heartbeat_secs: u64,
    /// How often to re-read the inventory and report it if it changed.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub collect_secs: u64,
    /// Report at least this often even without a change.
    #[arg(long, default_value_t = 3600, value_name = "SECS")]
    pub report_secs: u64,
}

fn runtime() -> crate::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unnamed-host".into())
}

pub fn agent(data_dir: &Path, a: AgentArgs) -> crate::Result<ExitCode> {
    crate::server::init_tracing();
    let mut asset = NewAsset::named(a.name.unwrap_or_else(hostname));
    asset.environment = match a.environment {
        EnvArg::Cloud => Environment::Cloud,
        EnvArg::OnPrem => Environment::OnPrem,
        EnvArg::Edge => Environment::Edge,
    };
    asset.exposure = match a.exposure {
        ExposureArg::InternetFacing => Exposure::InternetFacing,
        ExposureArg::Internal => Exposure::Internal,
        ExposureArg::Isolated => Exposure::Isolated,
    };
    asset.site = a.site;
    asset.tier = a.tier;
    asset.owner = a.owner;
    asset.tags = a.tags;
    let state_dir = a.state_dir.unwrap_or_else(|| data_dir.join("agent"));
    let mut config = AgentConfig::new(a.server, state_dir, asset);
    config.enroll_token = a.enroll_token.map(Into::into);
    config.client.ca_pem = a.ca;
    config.collect = CollectConfig {
        host_root: (!a.no_os).then_some(a.root),
        paths: a.paths,
    };
    config.heartbeat_every = Duration::from_secs(a.heartbeat_secs.max(1));
    config.collect_every = Duration::from_secs(a.collect_secs.max(1));
    config.report_every = Duration::from_secs(a.report_secs.max(1));
    let rt = runtime()?;
    rt.block_on(async move {
        let cancel = CancellationToken::new();
        let c2 = cancel.clone();
        tokio::spawn(async move {
            crate::server::shutdown_signal().await;
            c2.cancel();
        });
        Agent::run(config, cancel).await.context("agent")?;
        Ok(ExitCode::SUCCESS)
    })
}

#[derive(Debug, Args)]
pub struct BenchAgentsArgs {
    /// The server to load.
    #[arg(long, env = env::SERVER_URL, value_name = "URL")]
    pub server: String,
    /// An admin token (enrolment tokens are minted with it, and the run is verified).
    #[arg(long, env = env::BOOTSTRAP_TOKEN, hide_env_values = true, value_name = "TOKEN")]
    pub admin_token: String,
    /// Simulated agents.
    #[arg(long, default_value_t = 1000)]
    pub count: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Packages per inventory report.
    #[arg(long, default_value_t = 1500)]
    pub packages: usize,
    /// Length of the heartbeat phase.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub heartbeat_secs: u64,
    /// Real inventories (dpkg status, lockfiles, SBOMs) the simulated reports are built
    /// from [default: this host's OS packages].
    #[arg(long = "template", value_name = "FILE")]
    pub templates: Vec<PathBuf>,
    /// PEM CA for an https server.
    #[arg(long, value_name = "PEM")]
    pub ca: Option<PathBuf>,
}

/// Exit 0 when every acknowledged report was found afterwards, 1 otherwise.
pub fn bench_agents(a: BenchAgentsArgs) -> crate::Result<ExitCode> {
    let collect = if a.templates.is_empty() {
        CollectConfig {
            host_root: Some(PathBuf::from("/")),
            paths: Vec::new(),
        }
    } else {
        CollectConfig {
            host_root: None,
            paths: a.templates,
        }
    };
    let template = patchpilot_agent::collect(&collect)
        .context("reading the template inventory")?
        .packages;
    let mut client = ClientConfig::new(a.server);
    client.ca_pem = a.ca;
    let mut cfg =
        loadgen::LoadConfig::new(client.clone(), a.admin_token.clone(), a.count, template);
    cfg.concurrency = a.concurrency.max(1);
    cfg.packages_per_report = a.packages;
    cfg.heartbeat_duration = Duration::from_secs(a.heartbeat_secs);
    let rt = runtime()?;
    rt.block_on(async move {
        let cancel = CancellationToken::new();
        let mut report = loadgen::run(&cfg, &cancel).await.context("load run")?;
        let admin = patchpilot_agent::Client::new(&client)
            .context("client")?
            .with_token(&a.admin_token);
        let v = loadgen::verify(&admin, &report.acks, cfg.concurrency).await;
        let ok = v.ok();
        report.verification = Some(v);
        for p in [
            &report.enroll,
            &report.inventory,
            &report.heartbeat,
            &report.changed_inventory,
        ] {
            eprintln!(
                "{:<18} {:>8} ok {:>5} err {:>9.1}/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
                p.name, p.ok, p.errors, p.per_second, p.p50_ms, p.p99_ms
            );
        }
        crate::out::outln!("{}", serde_json::to_string_pretty(&report)?)?;
        Ok(if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}
