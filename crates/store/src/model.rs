//! The control plane's data model. These types are also the JSON bodies of the REST API
//! (`utoipa::ToSchema`), so the OpenAPI document describes exactly what is stored.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A point in time: milliseconds since the Unix epoch, UTC. JSON carries it as an
/// RFC 3339 string; databases store the integer (the same on SQLite and PostgreSQL).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, ToSchema)]
#[schema(value_type = String, format = DateTime)]
pub struct Ts(pub i64);

impl Ts {
    pub fn now() -> Ts {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Ts(d.as_millis() as i64)
    }
    pub fn millis(self) -> i64 {
        self.0
    }
    pub fn plus_secs(self, secs: i64) -> Ts {
        Ts(self.0.saturating_add(secs.saturating_mul(1000)))
    }
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
            Ok(t) => t
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_else(|_| self.0.to_string()),
            Err(_) => self.0.to_string(),
        }
    }
    pub fn parse_rfc3339(s: &str) -> Option<Ts> {
        let t =
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
        Some(Ts((t.unix_timestamp_nanos() / 1_000_000) as i64))
    }
}

impl Serialize for Ts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Ts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Ts, D::Error> {
        let s = String::deserialize(d)?;
        Ts::parse_rfc3339(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {s:?}")))
    }
}

/// Who did something: the token's principal and role, or the server itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Actor {
    /// `token:<id>` for an API/agent token, `system` for the server's own work.
    pub principal: String,
    pub role: Role,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            principal: "system".into(),
            role: Role::Admin,
        }
    }
}

/// What a token may do. Enrolment tokens may only enrol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    /// Plans and rollouts.
    Operator,
    Approver,
    /// Read-only.
    Auditor,
    Agent,
    /// A one-time enrolment token.
    Enroll,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Approver => "approver",
            Role::Auditor => "auditor",
            Role::Agent => "agent",
            Role::Enroll => "enroll",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "admin" => Role::Admin,
            "operator" => Role::Operator,
            "approver" => Role::Approver,
            "auditor" => Role::Auditor,
            "agent" => Role::Agent,
            "enroll" => Role::Enroll,
            _ => return None,
        })
    }
}

/// SHA-256 of a token secret, lower-case hex. The secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TokenHash(pub String);

impl TokenHash {
    pub fn of_secret(secret: &str) -> TokenHash {
        use sha2::Digest;
        TokenHash(hex::encode(sha2::Sha256::digest(secret.as_bytes())))
    }
}

#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    pub hash: TokenHash,
    pub created_at: Ts,
    pub expires_at: Option<Ts>,
    /// Agent tokens are bound to their asset.
    pub asset_id: Option<i64>,
}

/// A stored token (never its secret or hash in API output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_at: Ts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Ts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Ts>,
    /// For enrolment tokens: when it was used (they work once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_at: Option<Ts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_id: Option<i64>,
}

impl Token {
    /// Not revoked, not expired at `now`, and (for enrolment tokens) not used.
    pub fn usable_at(&self, now: Ts) -> bool {
        self.revoked_at.is_none()
            && self.expires_at.is_none_or(|e| now < e)
            && (self.role != Role::Enroll || self.used_at.is_none())
    }
}

/// An enrolment: trade a one-time token for an agent credential.
#[derive(Debug, Clone)]
pub struct Enrollment {
    pub enroll_hash: TokenHash,
    pub agent_hash: TokenHash,
    pub asset: NewAsset,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Enrolled {
    pub asset: Asset,
    pub token: Token,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Environment {
    Cloud,
    #[default]
    OnPrem,
    Edge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Exposure {
    InternetFacing,
    #[default]
    Internal,
    Isolated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Sensitivity {
    Low,
    #[default]
    Medium,
    High,
}

/// An asset's context (issue 3's asset model). Defaults: on-prem, tier 3, internal,
/// medium sensitivity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAsset {
    pub name: String,
    #[serde(default)]
    pub environment: Environment,
    /// Region (cloud) or site (on-prem, edge).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// Criticality tier, 1 (most critical) to 4.
    #[serde(default = "default_tier")]
    pub tier: u8,
    #[serde(default)]
    pub exposure: Exposure,
    #[serde(default)]
    pub sensitivity: Sensitivity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

pub fn default_tier() -> u8 {
    3
}

impl NewAsset {
    pub fn named(name: impl Into<String>) -> NewAsset {
        NewAsset {
            name: name.into(),
            environment: Environment::default(),
            site: None,
            tier: default_tier(),
            exposure: Exposure::default(),
            sensitivity: Sensitivity::default(),
            owner: None,
            tags: Vec::new(),
        }
    }
    /// Reject what the store must not hold: empty names, tiers outside 1–4.
    pub fn validate(&self) -> crate::Result<()> {
        if self.name.trim().is_empty() || self.name.len() > 255 {
            return Err(crate::Error::Invalid(
                "asset name must be 1 to 255 characters".into(),
            ));
        }
        if !(1..=4).contains(&self.tier) {
            return Err(crate::Error::Invalid(format!(
                "tier {} is not 1 to 4",
                self.tier
            )));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Asset {
    pub id: i64,
    pub name: String,
    pub environment: Environment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    pub tier: u8,
    pub exposure: Exposure,
    pub sensitivity: Sensitivity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub tags: Vec<String>,
    pub created_at: Ts,
    pub updated_at: Ts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Ts>,
    /// The current inventory snapshot, if any was reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_snapshot: Option<i64>,
}

/// A partial update: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetPatch {
    pub environment: Option<Environment>,
    pub site: Option<String>,
    pub tier: Option<u8>,
    pub exposure: Option<Exposure>,
    pub sensitivity: Option<Sensitivity>,
    pub owner: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// (ecosystem, name): the unit of incremental re-matching. `ecosystem` is the OSV
/// ecosystem name without release (`Debian`, `crates.io`); `name` is as matched
/// (normalized by the ecosystem's rules, source package for distros).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub struct PackageName {
    pub ecosystem: String,
    pub name: String,
}

/// One installed package as stored: what the matcher needs, plus the source package.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub struct PackageRow {
    pub ecosystem: String,
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

impl PackageRow {
    /// The key the matcher files this package under: the ecosystem's OSV name and the
    /// name normalized by its rules (PEP 503 for PyPI, ...), on the *source* package for
    /// Debian, Ubuntu and Alpine, whose advisories name source packages. Backends index
    /// current packages by exactly this key.
    pub fn key(&self) -> PackageName {
        PackageName {
            ecosystem: patchpilot_types::Ecosystem::parse_osv(&self.ecosystem)
                .0
                .as_str()
                .to_string(),
            name: self.match_name().into_owned(),
        }
    }

    /// The second name a Red Hat family RPM is matched under: its source RPM (Red Hat's
    /// security data names source RPMs, OSV names binaries; the matcher tries both), when
    /// it differs from the binary's own name. Feed re-matches look rows and findings up
    /// by this name too, so an advisory naming `python-lxml` reaches `python3-lxml`.
    pub fn source_match_name(&self) -> Option<&str> {
        use patchpilot_types::Ecosystem;
        let rpm = Ecosystem::parse_osv(&self.ecosystem)
            .0
            .also_matched_by_source();
        self.source_name
            .as_deref()
            .filter(|s| rpm && *s != self.name)
    }

    /// [`PackageRow::key`]'s name, borrowed when no normalization changes it.
    pub fn match_name(&self) -> std::borrow::Cow<'_, str> {
        use patchpilot_types::Ecosystem;
        let (eco, _) = Ecosystem::parse_osv(&self.ecosystem);
        let by_source = matches!(
            eco,
            Ecosystem::Debian | Ecosystem::Ubuntu | Ecosystem::Alpine
        );
        let name = if by_source {
            self.source_name.as_deref().unwrap_or(&self.name)
        } else {
            &self.name
        };
        match eco.normalize_name(name) {
            std::borrow::Cow::Borrowed(_) => std::borrow::Cow::Borrowed(name),
            std::borrow::Cow::Owned(n) => std::borrow::Cow::Owned(n),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AssetPackage {
    pub asset_id: i64,
    pub package: PackageRow,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CurrentPackages {
    pub snapshot_id: Option<i64>,
    /// The idempotency key of the report that made the current snapshot.
    pub idempotency_key: Option<String>,
    pub packages: Vec<PackageRow>,
}

/// A new inventory snapshot, as applied by [`crate::Store::apply_inventory`].
#[derive(Debug, Clone)]
pub struct InventoryChange {
    pub asset_id: i64,
    /// The agent's key for this report; the same key twice is applied once.
    pub idempotency_key: String,
    /// The snapshot the diff was computed against (`None` for the first).
    pub expected_previous: Option<i64>,
    pub collected_at: Ts,
    pub received_at: Ts,
    /// `host`, a lockfile path, an SBOM path...
    pub source: String,
    /// SHA-256 hex of the canonical package list, to spot unchanged inventories.
    pub content_hash: String,
    /// The complete new package list (kept per snapshot for history and diffs).
    pub packages: Vec<PackageRow>,
    /// Packages in `packages` but not in the previous snapshot.
    pub added: Vec<PackageRow>,
    /// Packages in the previous snapshot but not in `packages`.
    pub removed: Vec<PackageRow>,
    /// Findings to open (new matches of added packages).
    pub open: Vec<NewFinding>,
    /// Open/accepted/suppressed findings to close as fixed (their package left or
    /// moved to a version the advisory does not affect).
    pub fix: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ApplyOutcome {
    Applied {
        snapshot_id: i64,
        opened: u64,
        fixed: u64,
    },
    /// The idempotency key was already applied; nothing written.
    Duplicate { snapshot_id: i64 },
    /// `expected_previous` is not current; nothing written.
    Stale { current: Option<i64> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SnapshotInfo {
    pub id: i64,
    pub asset_id: i64,
    pub collected_at: Ts,
    pub received_at: Ts,
    pub source: String,
    pub content_hash: String,
    pub package_count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FindingState {
    Open,
    Fixed,
    Accepted,
    Suppressed,
}

impl FindingState {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingState::Open => "open",
            FindingState::Fixed => "fixed",
            FindingState::Accepted => "accepted",
            FindingState::Suppressed => "suppressed",
        }
    }
    pub fn parse(s: &str) -> Option<FindingState> {
        Some(match s {
            "open" => FindingState::Open,
            "fixed" => FindingState::Fixed,
            "accepted" => FindingState::Accepted,
            "suppressed" => FindingState::Suppressed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub struct NewFinding {
    pub asset_id: i64,
    pub package: PackageRow,
    pub advisory_id: String,
    /// Versions that fix it, ascending; empty when none is known.
    pub fixed_versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    pub first_seen: Ts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Finding {
    pub id: i64,
    pub asset_id: i64,
    pub package: PackageRow,
    pub advisory_id: String,
    pub fixed_versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    pub state: FindingState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub first_seen: Ts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_at: Option<Ts>,
    pub updated_at: Ts,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FindingFilter {
    pub asset_id: Option<i64>,
    pub state: Option<FindingState>,
    /// Only findings that are not fixed (open, accepted or suppressed); combines with
    /// `state` by AND.
    #[serde(default)]
    pub unfixed: bool,
    pub advisory_id: Option<String>,
    /// Findings ordered by id, starting after this id.
    #[serde(default)]
    pub after_id: i64,
    /// At most this many (the store caps it at 10,000).
    pub limit: Option<u32>,
}

/// What [`crate::Store::packages_named`] read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamedPackages {
    /// The packages filed under the names asked for, ordered by asset.
    pub packages: Vec<AssetPackage>,
    /// `(asset, current snapshot)` of every asset read, ascending: the state the
    /// packages are from (see [`FindingChanges::basis`]).
    pub snapshots: Vec<(i64, i64)>,
}

/// Finding changes from a feed re-match.
#[derive(Debug, Clone, Default)]
pub struct FindingChanges {
    pub open: Vec<NewFinding>,
    pub fix: Vec<i64>,
    /// Findings whose fixed_versions/severity changed (the advisory was edited).
    pub update: Vec<(i64, Vec<String>, Option<String>)>,
    pub now: Ts,
    /// What caused it, for the audit record (`feeds: advisories.db written at ...`).
    pub cause: String,
    /// `(asset, current snapshot)` the changes of each asset were computed from. An
    /// asset that has reported since (its current snapshot moved) gets none of its
    /// changes, which were computed from packages it may no longer have, and is
    /// returned in [`ChangesApplied::stale_assets`] for the caller to re-match. Changes
    /// of assets not listed are applied unchecked.
    pub basis: Vec<(i64, i64)>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeCounts {
    pub opened: u64,
    pub fixed: u64,
    pub updated: u64,
}

/// What [`crate::Store::apply_finding_changes`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangesApplied {
    pub counts: ChangeCounts,
    /// Assets of [`FindingChanges::basis`] whose current snapshot had moved: none of
    /// their changes were applied. Ascending.
    pub stale_assets: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FeedState {
    pub name: String,
    /// Free-form JSON owned by the server (database write time, digest, ...).
    #[schema(value_type = Object)]
    pub state: serde_json::Value,
    pub updated_at: Ts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewJob {
    pub asset_id: i64,
    /// What to do (`rescan`, later `patch`, `rollback`).
    pub kind: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Claimed,
    Succeeded,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Claimed => "claimed",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<JobState> {
        Some(match s {
            "queued" => JobState::Queued,
            "claimed" => JobState::Claimed,
            "succeeded" => JobState::Succeeded,
            "failed" => JobState::Failed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JobResult {
    pub success: bool,
    #[schema(value_type = Object)]
    pub output: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Job {
    pub id: i64,
    pub asset_id: i64,
    pub kind: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub state: JobState,
    pub created_at: Ts,
    /// How many times it was claimed (more than once only after a lease expired).
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<Ts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Ts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<JobResult>,
}

/// A change announced to every server process on the same database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    JobQueued { asset_id: i64 },
    FeedsUpdated,
}
