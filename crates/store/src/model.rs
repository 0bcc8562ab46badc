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
    /// Agent tokens: the asset they act for. Enrolment tokens: the asset they re-enrol
    /// (see [`crate::Store::enroll`]); none for a token that enrols a new asset.
    pub asset_id: Option<i64>,
}

impl NewToken {
    /// A name of 1 to [`limits::TOKEN_NAME`] characters, no control characters.
    pub fn validate(&self) -> crate::Result<()> {
        check_name("token name", &self.name, limits::TOKEN_NAME)
    }
}

/// A stored token (never its secret or hash in API output). Every field is always
/// present in JSON (`null` when unset), so a listing shows what is not set as well.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_at: Ts,
    #[serde(default)]
    pub expires_at: Option<Ts>,
    #[serde(default)]
    pub revoked_at: Option<Ts>,
    /// For enrolment tokens: when it was used (they work once).
    #[serde(default)]
    pub used_at: Option<Ts>,
    /// Agent tokens: the asset they act for. Enrolment tokens: the asset they are bound
    /// to (a re-enrolment token) or, once used, the asset they enrolled.
    #[serde(default)]
    pub asset_id: Option<i64>,
}

/// What a token can do now, derived from its times ([`Token::state_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenState {
    /// Usable.
    Active,
    /// An enrolment token that was used (they work once).
    Used,
    Revoked,
    Expired,
}

impl Token {
    /// Not revoked, not expired at `now`, and (for enrolment tokens) not used.
    pub fn usable_at(&self, now: Ts) -> bool {
        self.state_at(now) == TokenState::Active
    }

    /// The token's state at `now`; when several apply, revoked before used before
    /// expired (the most telling first).
    pub fn state_at(&self, now: Ts) -> TokenState {
        if self.revoked_at.is_some() {
            TokenState::Revoked
        } else if self.role == Role::Enroll && self.used_at.is_some() {
            TokenState::Used
        } else if self.expires_at.is_some_and(|e| now >= e) {
            TokenState::Expired
        } else {
            TokenState::Active
        }
    }
}

/// An enrolment: trade a one-time token for an agent credential.
#[derive(Debug, Clone)]
pub struct Enrollment {
    pub enroll_hash: TokenHash,
    pub agent_hash: TokenHash,
    /// The asset to create. With a re-enrolment token (bound to an asset), only its
    /// `name` is used: it must be the bound asset's name; the asset keeps its stored
    /// context (tier, exposure, ...), which operators change with `update_asset`.
    pub asset: NewAsset,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Enrolled {
    pub asset: Asset,
    pub token: Token,
    /// True when the enrolment created the asset; false for a re-enrolment.
    pub asset_created: bool,
    /// The asset's agent tokens a re-enrolment revoked (ids, ascending).
    pub revoked_tokens: Vec<i64>,
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
    /// Reject what the store must not hold: names, sites, owners and tags outside the
    /// [`limits`] or with control characters, tiers outside 1–4.
    pub fn validate(&self) -> crate::Result<()> {
        check_name("asset name", &self.name, limits::NAME)?;
        check_tier(self.tier)?;
        check_opt_text("site", self.site.as_deref(), limits::SITE)?;
        check_opt_text("owner", self.owner.as_deref(), limits::OWNER)?;
        check_tags(&self.tags)
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

impl AssetPatch {
    /// The rules of [`NewAsset::validate`] for the fields present (`""` clears site and
    /// owner).
    pub fn validate(&self) -> crate::Result<()> {
        if let Some(t) = self.tier {
            check_tier(t)?;
        }
        check_opt_text("site", self.site.as_deref(), limits::SITE)?;
        check_opt_text("owner", self.owner.as_deref(), limits::OWNER)?;
        if let Some(tags) = &self.tags {
            check_tags(tags)?;
        }
        Ok(())
    }
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
    /// Ecosystem, name and version present; every field within
    /// [`limits::PACKAGE_FIELD`] characters and free of control characters.
    pub fn validate(&self) -> crate::Result<()> {
        check_name("ecosystem", &self.ecosystem, limits::PACKAGE_FIELD)?;
        check_name("name", &self.name, limits::PACKAGE_FIELD)?;
        check_name("version", &self.version, limits::PACKAGE_FIELD)?;
        check_opt_text("release", self.release.as_deref(), limits::PACKAGE_FIELD)?;
        check_opt_text(
            "source_name",
            self.source_name.as_deref(),
            limits::PACKAGE_FIELD,
        )?;
        check_opt_text(
            "source_version",
            self.source_version.as_deref(),
            limits::PACKAGE_FIELD,
        )?;
        check_opt_text("purl", self.purl.as_deref(), limits::PACKAGE_FIELD)
    }

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

impl NewJob {
    /// A kind of 1 to [`limits::JOB_KIND`] characters, no control characters.
    pub fn validate(&self) -> crate::Result<()> {
        check_name("job kind", &self.kind, limits::JOB_KIND)
    }
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
    JobQueued {
        asset_id: i64,
    },
    FeedsUpdated,
    /// These tokens were revoked (by an admin, or by a re-enrolment of their asset):
    /// every process forgets them at once instead of serving them from its token cache.
    TokensRevoked {
        ids: Vec<i64>,
    },
}

// ---------------------------------------------------------------------- input rules

/// How large what the control plane stores may be. One list for every backend and every
/// route, so SQLite and PostgreSQL accept and refuse the same input (PostgreSQL's `text`
/// cannot hold a NUL byte; SQLite's can, so neither may), and one caller cannot make
/// every listing large (10,000 tags of 1,000 characters made `GET /assets` 10 MB).
/// Lengths count characters (Unicode scalar values).
pub mod limits {
    /// Asset names.
    pub const NAME: usize = 255;
    /// Token names (room for an agent token's `agent:<asset name>`).
    pub const TOKEN_NAME: usize = 320;
    pub const SITE: usize = 255;
    pub const OWNER: usize = 255;
    /// Tags per asset.
    pub const TAGS: usize = 64;
    /// Characters per tag.
    pub const TAG: usize = 64;
    pub const JOB_KIND: usize = 64;
    /// A finding's accept/suppress reason (may span lines).
    pub const REASON: usize = 4096;
    /// Each field of a reported package, and each inventory source.
    pub const PACKAGE_FIELD: usize = 4096;
    /// The longest token lifetime: ten years.
    pub const EXPIRES_IN_SECS: u64 = 10 * 365 * 24 * 60 * 60;
}

fn invalid(m: String) -> crate::Error {
    crate::Error::Invalid(m)
}

/// One line of text of at most `max` characters with no control character (C0, DEL,
/// C1: NUL, newlines, escape sequences...). Empty is allowed.
pub fn check_text(field: &str, value: &str, max: usize) -> crate::Result<()> {
    check_chars(field, value, max, |_| false)
}

/// Text that may span lines (newline and tab allowed, no other control character), at
/// most `max` characters.
pub fn check_free_text(field: &str, value: &str, max: usize) -> crate::Result<()> {
    check_chars(field, value, max, |c| c == '\n' || c == '\t')
}

/// [`check_text`] that also refuses an empty or all-blank value.
pub fn check_name(field: &str, value: &str, max: usize) -> crate::Result<()> {
    if value.trim().is_empty() {
        return Err(invalid(format!("{field} must be 1 to {max} characters")));
    }
    check_text(field, value, max)
}

fn check_opt_text(field: &str, value: Option<&str>, max: usize) -> crate::Result<()> {
    value.map_or(Ok(()), |v| check_text(field, v, max))
}

fn check_chars(
    field: &str,
    value: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
) -> crate::Result<()> {
    let mut n = 0;
    for c in value.chars() {
        n += 1;
        if n > max {
            return Err(invalid(format!("{field} must be 1 to {max} characters")));
        }
        if c.is_control() && !allowed(c) {
            return Err(invalid(format!(
                "{field} contains a control character (U+{:04X}) at character {n}",
                u32::from(c)
            )));
        }
    }
    Ok(())
}

fn check_tier(tier: u8) -> crate::Result<()> {
    if (1..=4).contains(&tier) {
        Ok(())
    } else {
        Err(invalid(format!("tier {tier} is not 1 to 4")))
    }
}

fn check_tags(tags: &[String]) -> crate::Result<()> {
    if tags.len() > limits::TAGS {
        return Err(invalid(format!(
            "{} tags; an asset has at most {}",
            tags.len(),
            limits::TAGS
        )));
    }
    for (i, t) in tags.iter().enumerate() {
        check_name(&format!("tags[{i}]"), t, limits::TAG)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules_refuse_control_characters_and_excess() {
        assert!(check_text("f", "höst-✓ 'x'", 10).is_ok());
        assert!(check_text("f", "", 10).is_ok());
        for bad in ["a\0b", "a\nb", "\u{1b}[31m", "a\u{7f}", "a\u{85}"] {
            assert!(check_text("f", bad, 10).is_err(), "{bad:?}");
        }
        assert!(check_free_text("f", "line 1\nline 2\tx", 100).is_ok());
        assert!(check_free_text("f", "a\0b", 100).is_err());
        assert!(
            check_text("f", &"é".repeat(10), 10).is_ok(),
            "characters, not bytes"
        );
        assert!(check_text("f", &"é".repeat(11), 10).is_err());
        assert!(check_name("f", " ", 10).is_err());
    }

    #[test]
    fn asset_sizes_are_bounded() {
        let mut a = NewAsset::named("web-1");
        a.tags = vec!["t".repeat(limits::TAG); limits::TAGS];
        assert!(a.validate().is_ok());
        a.tags.push("one more".into());
        assert!(a.validate().is_err());
        a.tags = vec!["t".repeat(limits::TAG + 1)];
        assert!(a.validate().is_err());
        a.tags = vec![String::new()];
        assert!(a.validate().is_err());
        a.tags = vec![];
        a.owner = Some("o".repeat(limits::OWNER + 1));
        assert!(a.validate().is_err());
        let p = AssetPatch {
            site: Some("s\0".into()),
            ..Default::default()
        };
        assert!(p.validate().is_err());
        assert!(AssetPatch {
            site: Some(String::new()),
            ..Default::default()
        }
        .validate()
        .is_ok());
    }

    #[test]
    fn token_state_order() {
        let t = Token {
            id: 1,
            name: "e".into(),
            role: Role::Enroll,
            created_at: Ts(0),
            expires_at: Some(Ts(10)),
            revoked_at: None,
            used_at: None,
            asset_id: None,
        };
        assert_eq!(t.state_at(Ts(5)), TokenState::Active);
        assert_eq!(t.state_at(Ts(10)), TokenState::Expired);
        let used = Token {
            used_at: Some(Ts(5)),
            ..t.clone()
        };
        assert_eq!(used.state_at(Ts(20)), TokenState::Used);
        let revoked = Token {
            revoked_at: Some(Ts(6)),
            ..used
        };
        assert_eq!(revoked.state_at(Ts(20)), TokenState::Revoked);
        let agent = Token {
            role: Role::Agent,
            used_at: Some(Ts(5)),
            expires_at: None,
            ..t
        };
        assert_eq!(agent.state_at(Ts(20)), TokenState::Active);
    }
}
