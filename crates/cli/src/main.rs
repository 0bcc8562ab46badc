//! The `patchpilot` binary: parses arguments and calls the libraries.
//!
//! Exit codes (documented in README.md):
//! - 0: success, no finding at or above `--fail-on`;
//! - 1: `scan --fail-on` threshold reached, or `--fail-on-uncovered` and an ecosystem of
//!   the inputs was not checked (no advisory for it);
//! - 2: usage error or bad input (unreadable file, unparsable version, corrupt feed).
//!
//! Errors print as one line, `patchpilot: <context>: <reason>` (anyhow's `{:#}`). A stdout
//! closed by its reader (`| head`) ends any command quietly with exit 0 (`out.rs`).

use std::process::ExitCode;

use clap::Parser;

mod agent;
mod args;
mod bench;
mod env;
mod eval;
mod explain;
mod feeds;
mod out;
mod prioritize;
mod scan;
mod server;
mod version;

// Scans allocate many small strings (package names, versions, records); mimalloc is
// measurably faster than glibc malloc here (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// An error that maps to exit code 2 (usage or input), printed as one line.
pub(crate) type Result<T> = anyhow::Result<T>;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // clap prints help/version to stdout with exit 0, usage errors with exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => code,
        // `patchpilot scan | head`: the reader has what it wanted (see `out.rs`).
        Err(e) if out::is_closed(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("patchpilot: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn run(cli: args::Cli) -> Result<ExitCode> {
    let data_dir = env::data_dir(cli.data_dir.as_deref())?;
    match cli.command {
        args::Command::Version(args::VersionCmd::Compare(c)) => version::compare(c),
        args::Command::Feeds(args::FeedsCmd::Import(c)) => feeds::import(&data_dir, c),
        args::Command::Feeds(args::FeedsCmd::Sync(c)) => feeds::sync(&data_dir, c),
        args::Command::Feeds(args::FeedsCmd::Status) => feeds::status(&data_dir),
        args::Command::Scan(c) => scan::run(&data_dir, c),
        args::Command::Explain(c) => explain::run(&data_dir, c),
        args::Command::Eval(args::EvalCmd::Prioritize(c)) => eval::prioritize(&data_dir, c),
        args::Command::Bench(args::BenchArgs {
            what: Some(args::BenchCmd::Agents(c)),
            ..
        }) => agent::bench_agents(c),
        args::Command::Bench(c) => bench::run(&data_dir, c),
        args::Command::Agent(c) => agent::agent(&data_dir, c),
        args::Command::Server(c) => server::server(&data_dir, c),
        args::Command::Audit(server::AuditCmd::Verify(c)) => server::audit_verify(&data_dir, c),
    }
}
