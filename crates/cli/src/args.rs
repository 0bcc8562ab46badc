//! Command-line arguments (clap derive). Validation that needs more than clap's types
//! happens in each command module.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "patchpilot",
    version,
    about = "Find and fix vulnerable packages across a fleet",
    long_about = None,
    after_help = "Exit codes: 0 ok; 1 findings at or above --fail-on; 2 usage or input error."
)]
pub struct Cli {
    /// Where the advisory database lives [env: PATCHPILOT_DATA_DIR; default: $XDG_DATA_HOME/patchpilot].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Version schemes, for debugging and differential testing.
    #[command(subcommand)]
    Version(VersionCmd),
    /// Advisory and threat-intel feeds: sync, import and status.
    #[command(subcommand)]
    Feeds(FeedsCmd),
    /// Scan inventories (the local host when no path is given) against the advisory database.
    Scan(ScanArgs),
    /// Show every factor behind an advisory's rank: severity, KEV, EPSS, risk factors.
    Explain(ExplainArgs),
    /// Evaluate rankings against real exploitation (see BENCHMARKS.md).
    #[command(subcommand)]
    Eval(EvalCmd),
    /// Measure scan performance on the shared data set (see BENCHMARKS.md).
    #[command(hide = true)]
    Bench(BenchArgs),
    /// Run the control plane: REST API, agents, findings kept current (see README).
    Server(crate::server::ServerArgs),
    /// The control plane's audit log.
    #[command(subcommand)]
    Audit(crate::server::AuditCmd),
    /// Run the agent: enrol once, report inventories, heartbeat, take jobs.
    Agent(crate::agent::AgentArgs),
}

#[derive(Debug, Subcommand)]
pub enum VersionCmd {
    /// Compare two versions: prints `<`, `=` or `>`.
    Compare(CompareArgs),
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// deb, rpm, apk, semver, pep440, maven, nuget, gem, composer (or alpm, gentoo, pub,
    /// cran, hackage, conan, openssl), or an OSV ecosystem name such as `Debian` or `PyPI`.
    pub scheme: String,
    /// First version (omit with --batch).
    #[arg(required_unless_present = "batch", allow_hyphen_values = true)]
    pub a: Option<String>,
    /// Second version (omit with --batch).
    #[arg(required_unless_present = "batch", allow_hyphen_values = true)]
    pub b: Option<String>,
    /// Read `A B` pairs from stdin, one per line; write one result per line.
    #[arg(long, conflicts_with_all = ["a", "b"])]
    pub batch: bool,
}

// Parsed once per run; boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum FeedsCmd {
    /// Import OSV records (all.zip archives, folders of JSON/YAML records, single files), or
    /// CISA KEV, FIRST EPSS, Debian/Alpine/Red Hat tracker files (or folders of them) and
    /// saved NVD CVE API pages.
    Import(ImportArgs),
    /// Download feeds (OSV, CISA KEV, FIRST EPSS; optionally distro trackers and NVD) from
    /// upstream or a mirror.
    Sync(SyncArgs),
    /// Show what the database holds and where it came from.
    Status,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// OSV bucket or mirror (files at BASE/ECOSYSTEM/all.zip and modified_id.csv).
    #[arg(long, value_name = "URL")]
    pub osv_base: Option<String>,
    /// OSV ecosystems to sync (repeatable), as the bucket names them (`Ubuntu`,
    /// `AlmaLinux`, ...), or `none` for no OSV source [default: crates.io, Go, npm, PyPI].
    #[arg(long = "ecosystem", value_name = "NAME")]
    pub ecosystems: Vec<String>,
    /// CISA KEV catalog URL, or `none` to skip.
    #[arg(long, value_name = "URL")]
    pub kev_url: Option<String>,
    /// FIRST EPSS scores (.csv.gz) URL, or `none` to skip.
    #[arg(long, value_name = "URL")]
    pub epss_url: Option<String>,
    /// Download every OSV all.zip (and Red Hat's VEX archive) again instead of fetching only
    /// changed records.
    #[arg(long)]
    pub full: bool,
    /// Distro trackers to sync as well: debian, alpine, redhat (comma-separated or
    /// repeated). Giving --debian-url, --alpine-url, --alpine-branch or --redhat-url enables
    /// that tracker too.
    #[arg(
        long = "distro",
        value_name = "NAME",
        value_delimiter = ',',
        env = "PATCHPILOT_SYNC_DISTROS"
    )]
    pub distros: Vec<String>,
    /// Debian security tracker JSON URL [default: https://security-tracker.debian.org/tracker/data/json].
    #[arg(long, value_name = "URL")]
    pub debian_url: Option<String>,
    /// Alpine secdb base URL; files are BASE/BRANCH/REPO.json [default: https://secdb.alpinelinux.org].
    #[arg(long, value_name = "URL")]
    pub alpine_url: Option<String>,
    /// Red Hat CSAF VEX folder (archive_latest.txt, changes.csv, YEAR/cve-….json)
    /// [default: https://security.access.redhat.com/data/csaf/v2/vex].
    #[arg(long, value_name = "URL")]
    pub redhat_url: Option<String>,
    /// Alpine branches: v3.20 (its main and community), v3.20/main, or v3.20/main.yaml
    /// (comma-separated or repeated) [default: v3.19, v3.20, v3.21, v3.22].
    #[arg(long = "alpine-branch", value_name = "BRANCH", value_delimiter = ',')]
    pub alpine_branches: Vec<String>,
    /// NVD API key: with one, CVSS vectors are synced from the NVD CVE API 2.0 for
    /// advisories that have none. Prefer the environment variable (flags show in `ps`).
    #[arg(
        long,
        value_name = "KEY",
        env = "PATCHPILOT_NVD_API_KEY",
        hide_env_values = true
    )]
    pub nvd_api_key: Option<String>,
    /// NVD CVE API 2.0 endpoint or mirror [default: https://services.nvd.nist.gov/rest/json/cves/2.0].
    #[arg(long, value_name = "URL")]
    pub nvd_url: Option<String>,
    /// NVD request rate limit as REQUESTS/SECONDS (a rolling window) [default: 50/30, NVD's
    /// limit with an API key].
    #[arg(long, value_name = "N/SECS")]
    pub nvd_rate: Option<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// OSV `ECOSYSTEM/all.zip` files, directories of records, or record files; KEV, EPSS,
    /// distro tracker and NVD files are recognized by their content.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum FailOn {
    /// Any vulnerability, rated or not.
    Any,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Inventories to scan: package databases, SBOMs, lockfiles, or directories to search
    /// for them. Without a path, the local host's OS packages are scanned.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
    /// Exit 1 when a vulnerability at or above this severity is found.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    /// Exit 1 when an ecosystem (or distro release) of the inputs was not checked: the
    /// advisory database has no advisory for it, so "no findings" would mean nothing.
    #[arg(long)]
    pub fail_on_uncovered: bool,
    /// Read every PATH as this format instead of detecting it (dpkg-status, apk-installed,
    /// rpm-qa, rpmdb-sqlite, cyclonedx-json, cyclonedx-xml, spdx-json, Cargo.lock, ...).
    #[arg(long, value_name = "FORMAT")]
    pub input_format: Option<String>,
    /// The distro and release of OS package inventories that do not say it themselves,
    /// as `ID:VERSION_ID` from os-release, e.g. `debian:12`, `alpine:3.18`, `rhel:9`.
    #[arg(long, value_name = "ID:VERSION")]
    pub distro: Option<String>,
    /// With no PATH: the root of the system to inventory.
    #[arg(long, default_value = "/", value_name = "DIR")]
    pub root: PathBuf,
    /// Warn when an advisory source (or, with --prioritize, KEV/EPSS) was last imported or
    /// synced longer ago than this many days; 0 turns the check off.
    #[arg(
        long,
        value_name = "DAYS",
        default_value_t = 7.0,
        env = "PATCHPILOT_MAX_FEED_AGE_DAYS"
    )]
    pub max_feed_age: f64,
    /// VEX documents (CycloneDX or OpenVEX JSON; repeatable): `not_affected` and `fixed`
    /// statements suppress matching findings, which stay in the report with the reason.
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,
    /// Rank findings by risk (CVSS, EPSS, CISA KEV, fix, asset context) with SSVC
    /// decisions, due dates and explanations.
    #[arg(long)]
    pub prioritize: bool,
    /// Asset criticality tier, 1 (most critical) to 4, for every input; wins over inventory
    /// labels and the policy's `[asset]` [default: 3].
    #[arg(long, value_name = "1-4", requires = "prioritize")]
    pub tier: Option<u8>,
    /// Asset exposure: internet-facing, internal or isolated [default: internal].
    #[arg(long, value_name = "EXPOSURE", requires = "prioritize")]
    pub exposure: Option<String>,
    /// A TOML policy file (docs/policy.md): `[[exceptions]]` (risk acceptances with owner,
    /// reason, expiry), VEX (`vex-files`, `[[vex]]` statements), the `[asset]` context of
    /// inventories without labels, and the ranking's `[weights]`, `[sla]` and `epss-threshold`.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum EvalCmd {
    /// Coverage and efficiency of Patchpilot's score, CVSS alone and EPSS alone at 5, 10,
    /// 20 and 50% effort, on a time split of the CISA KEV catalog.
    Prioritize(EvalArgs),
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The KEV catalog at the split: its CVEs are known, not predicted, and left out.
    #[arg(long, value_name = "FILE")]
    pub kev_before: PathBuf,
    /// A later KEV catalog: CVEs it added since --kev-before are the positives.
    #[arg(long, value_name = "FILE")]
    pub kev_after: PathBuf,
    /// FIRST EPSS scores to use [default: the data directory's].
    #[arg(long, value_name = "FILE")]
    pub epss: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// An advisory id or alias: RUSTSEC-…, GHSA-…, PYSEC-…, GO-…, CVE-…
    pub id: String,
    /// Asset criticality tier, 1 (most critical) to 4 [default: 3].
    #[arg(long, value_name = "1-4")]
    pub tier: Option<u8>,
    /// Asset exposure: internet-facing, internal or isolated [default: internal].
    #[arg(long, value_name = "EXPOSURE")]
    pub exposure: Option<String>,
    /// Output format: text, or json (a versioned document with every factor, its source
    /// and date).
    #[arg(long, value_enum, default_value = "text")]
    pub format: ExplainFormat,
}

/// `explain --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    /// `agents`: the control plane load generator; without it, the scan benchmarks.
    #[command(subcommand)]
    pub what: Option<BenchCmd>,
    /// The shared data directory (../shared/data).
    #[arg(long, env = "PATCHPILOT_SHARED_DATA", value_name = "DIR")]
    pub shared: Option<PathBuf>,
    /// Number of simulated hosts for workload (c).
    #[arg(long, default_value_t = 10_000)]
    pub hosts: usize,
    /// Packages per simulated host for workload (c).
    #[arg(long, default_value_t = 1_500)]
    pub packages: usize,
    /// Repetitions for the timed parts (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// Simulated agents against a running server: enrolment, 1,500-package inventory
    /// reports, heartbeats; prints throughput and latency, then checks nothing was lost.
    Agents(crate::agent::BenchAgentsArgs),
}
