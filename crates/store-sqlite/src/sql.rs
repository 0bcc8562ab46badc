//! Column lists and statements used in more than one place.

pub(crate) const TOKEN_COLS: &str =
    "id, name, role, created_at, expires_at, revoked_at, used_at, asset_id";

pub(crate) const ASSET_COLS: &str = "id, name, environment, site, tier, exposure, sensitivity, \
     owner, tags, created_at, updated_at, last_seen, current_snapshot";

pub(crate) const FINDING_COLS: &str = "id, asset_id, ecosystem, name, version, release, \
     source_name, source_version, purl, advisory_id, fixed_versions, severity, state, reason, \
     first_seen, fixed_at, updated_at";

pub(crate) const JOB_COLS: &str =
    "id, asset_id, kind, payload, state, created_at, attempts, lease_until, finished_at, result";

pub(crate) const AUDIT_COLS: &str =
    "seq, at, principal, role, action, target, before, after, prev_hash, hash";

pub(crate) const INSERT_AUDIT: &str = "INSERT INTO audit_log (seq, at, principal, role, action, \
     target, before, after, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

pub(crate) const CLAIMABLE_EXISTS: &str = "SELECT id FROM jobs WHERE asset_id = $1 \
     AND (state = 'queued' OR (state = 'claimed' AND lease_until <= $2)) LIMIT 1";
