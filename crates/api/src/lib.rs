//! The control plane's HTTP contract, version 1: every path, request body and response
//! body that crosses the wire between `patchpilot server`, `patchpilot agent` and API
//! users. The stored entities (assets, findings, jobs, audit records) are
//! `patchpilot-store`'s model types, re-exported here, so the OpenAPI document and the
//! database describe the same thing. No IO here: the HTTP client lives in the agent.

pub use patchpilot_store::{
    audit::Record as AuditRecord, Actor, ApplyOutcome, Asset, AssetPatch, Environment, Exposure,
    FeedState, Finding, FindingState, Job, JobResult, JobState, NewAsset, NewJob, PackageRow, Role,
    Sensitivity, SnapshotInfo, Token, TokenState, Ts,
};

/// The sizes the server accepts (tags, names, owners, sites, token lifetimes...); text
/// with control characters is refused too (422).
pub use patchpilot_store::limits;

/// The canonical order and content hash of a package list (agent and server agree).
pub use patchpilot_store::codec::canonicalize;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every API path, relative to the server's base URL.
pub mod paths {
    pub const HEALTHZ: &str = "/healthz";
    pub const READYZ: &str = "/readyz";
    pub const METRICS: &str = "/metrics";
    pub const OPENAPI: &str = "/api/v1/openapi.json";
    pub const ENROLL: &str = "/api/v1/enroll";
    pub const AGENT_HEARTBEAT: &str = "/api/v1/agent/heartbeat";
    pub const AGENT_INVENTORY: &str = "/api/v1/agent/inventory";
    pub const AGENT_JOBS: &str = "/api/v1/agent/jobs";
    /// `{id}` is the job id.
    pub const AGENT_JOB_RESULT: &str = "/api/v1/agent/jobs/{id}/result";
    pub const ASSETS: &str = "/api/v1/assets";
    pub const ASSET: &str = "/api/v1/assets/{id}";
    pub const ASSET_SNAPSHOTS: &str = "/api/v1/assets/{id}/snapshots";
    pub const SNAPSHOT_DIFF: &str = "/api/v1/snapshots/diff";
    pub const FINDINGS: &str = "/api/v1/findings";
    pub const FINDING: &str = "/api/v1/findings/{id}";
    pub const TOKENS: &str = "/api/v1/tokens";
    pub const TOKEN: &str = "/api/v1/tokens/{id}";
    pub const JOBS: &str = "/api/v1/jobs";
    pub const JOB: &str = "/api/v1/jobs/{id}";
    pub const AUDIT: &str = "/api/v1/audit";
    pub const AUDIT_VERIFY: &str = "/api/v1/audit/verify";
    pub const FEEDS: &str = "/api/v1/feeds";
    pub const FEEDS_RELOAD: &str = "/api/v1/feeds/reload";
}

/// The header carrying an agent's idempotency key on inventory reports (also in the body).
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// Every error response: a 4xx/5xx status with this body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code: `bad_request`, `unauthorized`, `forbidden`,
    /// `not_found`, `conflict`, `payload_too_large`, `unsupported_media_type`,
    /// `invalid` (422: a well-formed request the rules refuse), `internal`,
    /// `unavailable`.
    pub code: String,
    /// One line for a human.
    pub message: String,
}

/// `POST /api/v1/enroll`, authenticated with a one-time enrolment token.
///
/// An enrolment token enrols a *new* asset: an existing asset of the same name, however
/// it was created, is never reused (409, saying how to re-enrol). To enrol into an
/// existing asset (a reinstalled host, or an asset created with `POST /api/v1/assets`),
/// an admin mints an enrolment token bound to it (`POST /api/v1/tokens` with
/// `"role": "enroll", "asset_id": N`); with that token, `asset.name` must be the asset's
/// name (409 otherwise) and the other asset fields are ignored (the asset keeps its
/// context; operators change it with `PATCH /api/v1/assets/{id}`), and the asset's
/// previous agent tokens are revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// The asset this agent runs on.
    pub asset: NewAsset,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnrollResponse {
    pub asset: Asset,
    /// The agent's credential (256-bit, hex). Shown once; the server keeps its hash.
    pub token: String,
}

/// `POST /api/v1/agent/heartbeat`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// The agent's version, for the fleet view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_version: Option<String>,
}

/// `POST /api/v1/agent/inventory`: the complete current inventory of the asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryReport {
    /// Chosen by the agent, unique per report; a retried report reuses it and is applied
    /// once.
    pub idempotency_key: String,
    pub collected_at: Ts,
    /// What was read: `host`, plus lockfile/SBOM paths.
    pub sources: Vec<String>,
    pub packages: Vec<PackageRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InventoryAck {
    pub snapshot_id: i64,
    /// True when this key was already applied (nothing changed now).
    pub duplicate: bool,
    /// True when the report equals the asset's current inventory: no snapshot is stored
    /// (`snapshot_id` is the current one), only the asset's `last_seen` moves.
    #[serde(default)]
    pub unchanged: bool,
    pub added: u64,
    pub removed: u64,
    pub findings_opened: u64,
    pub findings_fixed: u64,
}

/// `POST /api/v1/tokens` (admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub name: String,
    /// Any role but `agent` (agents get theirs by enrolling); `enroll` makes a one-time
    /// enrolment token.
    pub role: Role,
    /// Lifetime in seconds, at most ten years ([`limits::EXPIRES_IN_SECS`]); none means
    /// it does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_secs: Option<u64>,
    /// Only with role `enroll`: bind the token to this asset, to re-enrol it (see
    /// [`EnrollRequest`]). 404 if there is no such asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_id: Option<i64>,
}

/// One token of `GET /api/v1/tokens`: the stored token (every field present, `null`
/// when unset) and its state now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListedToken {
    #[serde(flatten)]
    pub token: Token,
    /// `active`, `used` (an enrolment token), `revoked` or `expired`.
    pub state: TokenState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    pub info: Token,
    /// The secret (256-bit, hex). Shown once.
    pub token: String,
}

/// `PATCH /api/v1/findings/{id}`: accept, suppress or reopen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingUpdate {
    /// `accepted`, `suppressed` or `open` (fixed is the server's to decide).
    pub state: FindingState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `GET /api/v1/snapshots/diff?from=A&to=B`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SnapshotDiff {
    pub from: i64,
    pub to: i64,
    pub added: Vec<PackageRow>,
    pub removed: Vec<PackageRow>,
    /// Same (ecosystem, name, release), different version: `[before, after]`.
    pub changed: Vec<[PackageRow; 2]>,
}

/// `GET /api/v1/audit/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditVerifyResponse {
    pub ok: bool,
    pub records: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_seq: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_hash: Option<String>,
    pub problems: Vec<String>,
}

/// `POST /api/v1/feeds/reload`: what the incremental re-match did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReloadResponse {
    /// False when the advisory database had not changed since the last reload.
    pub changed: bool,
    /// (ecosystem, package) pairs whose advisories changed and were re-matched.
    pub packages_rematched: u64,
    pub findings_opened: u64,
    pub findings_fixed: u64,
    pub findings_updated: u64,
}

/// Convert a discovered package into the stored/wire form.
pub fn package_row(p: &patchpilot_types::Package) -> PackageRow {
    PackageRow {
        ecosystem: p.ecosystem.as_str().to_string(),
        name: p.name.clone(),
        version: p.version.clone(),
        release: p.release.clone(),
        source_name: p.source_name.clone(),
        source_version: p.source_version.clone(),
        purl: p.purl.clone(),
    }
}
