//! The control plane's storage: one trait, [`Store`], with two implementations in
//! `patchpilot-store-sqlite` (the embedded default) and `patchpilot-store-postgres`
//! (for stateless server replicas). Cut the way atuin cuts its server database: the
//! trait and its data model live here with no database dependency, so the server, the
//! CLI and the agent can share the types, and [`conformance`] is one suite that every
//! backend must pass against a real database.
//!
//! Design rules every backend follows:
//! - Every state-changing method takes an [`Actor`] and writes exactly one audit record
//!   in the same transaction as the change (see [`audit`] for the hash chain). Heartbeats
//!   are liveness telemetry, not state changes, and write none; nor do stored advisory
//!   database files, a cache of public data (see [`Store::put_advisory_file`]).
//! - Nothing is half-written: each method is one transaction.
//! - The server holds no state: optimistic checks (`expected_previous` on inventories)
//!   and row locks (`FOR UPDATE SKIP LOCKED` for jobs) make concurrent replicas safe.
//! - Secrets are never stored, only their SHA-256 ([`TokenHash`]).

pub mod audit;
pub mod codec;
pub mod conformance;
pub mod integrity;
mod model;

pub use model::*;

use std::ops::Range;

use async_trait::async_trait;

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The referenced row does not exist (unknown asset, token, job, snapshot).
    #[error("not found: {0}")]
    NotFound(String),
    /// A uniqueness or precondition rule was broken (duplicate name, a stale
    /// `expected_previous`, a used enrolment token, a job not claimed).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The caller passed something the store cannot hold.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The database failed (connection, I/O, a migration). The message is the backend's.
    #[error("database error: {0}")]
    Backend(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which backend a store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The storage trait. Object-safe (`Arc<dyn Store>`), so the server picks the backend
/// from the database URL at start.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn backend(&self) -> Backend;

    /// A cheap check for `/readyz`: the database answers, the audit chain's head row and
    /// the record it names can be read, and the last [`Store::check_integrity`] found
    /// nothing wrong. Not a full check: it reads a few pages.
    async fn ping(&self) -> Result<()>;

    // ---------------------------------------------------------------- tokens

    /// Store a new token (API, agent or enrolment). Fails with `Conflict` if the hash exists.
    async fn create_token(&self, new: NewToken, actor: &Actor) -> Result<Token>;
    /// The token with this hash, whatever its state (the caller checks expiry/revocation
    /// with [`Token::usable_at`]).
    async fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<Token>>;
    async fn list_tokens(&self) -> Result<Vec<Token>>;
    /// Revoke a token; `Ok(false)` if it was already revoked. `NotFound` if absent.
    async fn revoke_token(&self, id: i64, now: Ts, actor: &Actor) -> Result<bool>;
    /// How many tokens exist (to decide whether to bootstrap an admin).
    async fn count_tokens(&self) -> Result<u64>;

    /// Atomically: check that `enroll_hash` names a usable, unused enrolment token, mark
    /// it used (recording the asset in its `asset_id`), and store a new agent token bound
    /// to the asset, with one audit record. Which asset depends on the token:
    /// - **unbound** (`asset_id` none): a *new* asset from `req.asset`, `agent.enroll`.
    ///   An existing asset of that name, however it was created, is never reused:
    ///   `Conflict`, saying how to re-enrol (a token taking over an asset by its name
    ///   could report a clean inventory for it and close its findings).
    /// - **bound** to an asset (a re-enrolment, after a reinstall say): that asset, whose
    ///   name `req.asset.name` must be (`Conflict` otherwise; its other fields are
    ///   ignored: the asset keeps its stored context). Every live agent token of the
    ///   asset is revoked in the same transaction ([`Enrolled::revoked_tokens`]), and the
    ///   record, `agent.reenroll`, names them.
    ///
    /// `Conflict` if the enrolment token was already used, `NotFound` if it does not
    /// exist, is not an enrolment token or is not usable at `now`, `Invalid` for an asset
    /// that [`NewAsset::validate`] refuses. Nothing is written on any error.
    async fn enroll(&self, req: Enrollment, now: Ts) -> Result<Enrolled>;

    // ---------------------------------------------------------------- assets

    /// `Conflict` if an asset with the same name exists.
    async fn create_asset(&self, new: NewAsset, now: Ts, actor: &Actor) -> Result<Asset>;
    async fn get_asset(&self, id: i64) -> Result<Option<Asset>>;
    /// Assets ordered by id, starting after `after_id`.
    async fn list_assets(&self, after_id: i64, limit: u32) -> Result<Vec<Asset>>;
    /// Apply the fields that are `Some`. `NotFound` if absent.
    async fn update_asset(
        &self,
        id: i64,
        patch: AssetPatch,
        now: Ts,
        actor: &Actor,
    ) -> Result<Asset>;
    /// Record that the asset's agent is alive. `Ok(false)` if the asset does not exist.
    async fn heartbeat(&self, asset_id: i64, now: Ts) -> Result<bool>;

    // ---------------------------------------------------------------- inventories

    /// The asset's current snapshot id and packages (empty when none yet).
    async fn current_packages(&self, asset_id: i64) -> Result<CurrentPackages>;
    /// Apply an inventory change in one transaction: the new snapshot (history), the
    /// package diff against the current set, the finding changes, the idempotency key
    /// and one audit record. Returns `Duplicate` (and writes nothing) if the key was
    /// seen for this asset, `Stale` (and writes nothing) if the asset's current snapshot
    /// is not `expected_previous` — the caller re-reads and recomputes.
    async fn apply_inventory(&self, change: InventoryChange, actor: &Actor)
        -> Result<ApplyOutcome>;
    async fn list_snapshots(&self, asset_id: i64) -> Result<Vec<SnapshotInfo>>;
    /// The full package list of a snapshot (any, not just the current one).
    async fn snapshot_packages(&self, snapshot_id: i64) -> Result<Option<Vec<PackageRow>>>;

    // ---------------------------------------------------------------- findings

    async fn list_findings(&self, filter: FindingFilter) -> Result<Vec<Finding>>;
    /// Every current package of these (ecosystem, name) pairs on the assets whose id is in
    /// `assets`, with the asset it is on, ordered by asset — the input of an incremental
    /// re-match after a feed update. The caller pages through the fleet by asset id so
    /// that what it holds at once is bounded by a page, not by the fleet.
    async fn packages_named(
        &self,
        keys: &[PackageName],
        assets: Range<i64>,
    ) -> Result<NamedPackages>;
    /// Every non-fixed finding on these (ecosystem, name) pairs on the assets whose id is
    /// in `assets` (the same page as [`Store::packages_named`]'s), ordered by id.
    async fn findings_on(&self, keys: &[PackageName], assets: Range<i64>) -> Result<Vec<Finding>>;
    /// Apply finding changes computed by a feed re-match, in one transaction, with one
    /// audit record summarizing them; the changes of an asset that reported after they
    /// were computed are left out ([`FindingChanges::basis`]).
    async fn apply_finding_changes(
        &self,
        changes: FindingChanges,
        actor: &Actor,
    ) -> Result<ChangesApplied>;
    /// Move one finding to `accepted` / `suppressed` (with a reason) or back to `open`.
    async fn set_finding_state(
        &self,
        id: i64,
        state: FindingState,
        reason: Option<String>,
        now: Ts,
        actor: &Actor,
    ) -> Result<Finding>;

    // ---------------------------------------------------------------- feed state

    async fn get_feed_state(&self, name: &str) -> Result<Option<FeedState>>;
    async fn set_feed_state(&self, state: FeedState, actor: &Actor) -> Result<()>;

    // ---------------------------------------------------------------- advisory files

    /// Keep a copy of an advisory database file (`advisories.db`, several MB to hundreds)
    /// under its digest, so that server replicas load the database the fleet was matched
    /// against from here instead of each being provisioned with it. A digest already
    /// stored keeps its bytes (and counts as stored `now`). Then every file but this one
    /// and the one stored before it is deleted: a replica told of the previous digest can
    /// still fetch it while the new one is being recorded. Not audited: it is a cache of
    /// public data, and what it changes is recorded by the feed state that names it.
    async fn put_advisory_file(&self, digest: &str, bytes: Vec<u8>, now: Ts) -> Result<()>;
    /// The file stored under `digest`, if it is still kept.
    async fn get_advisory_file(&self, digest: &str) -> Result<Option<Vec<u8>>>;

    // ---------------------------------------------------------------- jobs

    async fn enqueue_job(&self, new: NewJob, now: Ts, actor: &Actor) -> Result<Job>;
    /// Claim up to `limit` queued jobs of this asset (or leases that expired), setting a
    /// lease until `lease_until`. Two concurrent claimers never get the same job
    /// (`FOR UPDATE SKIP LOCKED` on PostgreSQL, a write transaction on SQLite).
    async fn claim_jobs(
        &self,
        asset_id: i64,
        limit: u32,
        now: Ts,
        lease_until: Ts,
    ) -> Result<Vec<Job>>;
    /// Finish a claimed job. `NotFound` if it does not exist or is another asset's (the
    /// same error: an agent learns nothing of other assets' jobs), `Conflict` if it is
    /// not claimed or already finished with a different result; finishing twice with the
    /// same result is `Ok`.
    async fn finish_job(
        &self,
        id: i64,
        asset_id: i64,
        result: JobResult,
        now: Ts,
        actor: &Actor,
    ) -> Result<Job>;
    async fn get_job(&self, id: i64) -> Result<Option<Job>>;
    /// Jobs (of one asset, or all), newest first, at most `limit` (capped at 10,000).
    async fn list_jobs(&self, asset_id: Option<i64>, limit: u32) -> Result<Vec<Job>>;

    /// Changes announced by any process on this database (PostgreSQL LISTEN/NOTIFY,
    /// in-process on SQLite): jobs queued for an asset, feeds updated. Lossy by design —
    /// listeners re-read the database after a wake-up.
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Notice>;

    // ---------------------------------------------------------------- audit

    /// Audit records with `seq > after_seq`, ascending, at most `limit`.
    async fn audit_records(&self, after_seq: i64, limit: u32) -> Result<Vec<audit::Record>>;

    // ---------------------------------------------------------------- integrity

    /// The audit chain's head as the database records it (the `audit_head` row, updated
    /// in the transaction of every append): `(0, GENESIS)` for an empty log. A chain
    /// that no longer reaches it has lost records off its end.
    async fn audit_head(&self) -> Result<audit::Anchor>;

    /// What names this database in heads recorded outside it (the server's anchor log),
    /// so that a data dir that has served several databases checks each against its own
    /// heads: `sqlite:<canonical path>`, `postgres:<cluster>/<database>/<schema>`.
    /// `None` for a database that ends with the process (SQLite in memory).
    fn database_id(&self) -> Option<String>;

    /// A thorough check of the database, run at server start and now and then while it
    /// runs: SQLite's `PRAGMA quick_check` (every page: about 2 s per GB when cached), and on
    /// both backends that the migrations applied are exactly this build's, every table
    /// exists and the audit head row is there. `Err(Error::Backend)` names what is wrong.
    /// What it finds is also what [`Store::ping`] reports until a later check passes.
    async fn check_integrity(&self) -> Result<()>;
}
