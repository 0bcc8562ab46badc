//! The Patchpilot agent, as a library: everything `patchpilot agent` and
//! `patchpilot bench agents` do, with the CLI left to the binary.
//!
//! - [`client`]: the HTTP client for `/api/v1` (bearer tokens, CA pinning, errors sorted
//!   into retryable and not).
//! - [`credential`]: enrolment turns a one-time token into a credential file (0600,
//!   written atomically).
//! - [`mod@collect`]: the host's inventory (OS packages, lockfiles, SBOMs) as a canonical,
//!   hashed package list.
//! - [`queue`]: the durable offline queue every report passes through, so reports survive
//!   restarts and outages and are delivered at least once (idempotency keys make that
//!   exactly once on the server).
//! - [`run`]: the agent loop: heartbeats, reports on change and on an interval, jobs.
//! - [`loadgen`]: simulated agents driving a real server with the same client.
//!
//! Why one crate for agent and load generator: the load generator must exercise the code
//! path real agents use (same client, same bodies), and both are thin over [`client`].
//! What it does not do: decide anything about vulnerabilities (the server matches), or
//! run patches (a later job kind).

pub mod backoff;
pub mod client;
pub mod collect;
pub mod credential;
mod fsutil;
pub mod loadgen;
pub mod queue;
pub mod run;
pub mod secret;

pub use backoff::Backoff;
pub use client::{Client, ClientConfig, ClientError};
pub use collect::{collect, CollectConfig, CollectError, Collected};
pub use credential::{ensure_enrolled, Credential, CredentialError};
pub use queue::{Queue, QueueError};
pub use run::{Agent, AgentConfig, AgentError};
pub use secret::Secret;
pub use tokio_util::sync::CancellationToken;
