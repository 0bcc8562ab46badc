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

pub(crate) const TOKEN_BY_HASH: &str = "SELECT id, name, role, created_at, expires_at, \
     revoked_at, used_at, asset_id FROM tokens WHERE hash = $1";

pub(crate) const ASSET_BY_ID: &str = "SELECT id, name, environment, site, tier, exposure, \
     sensitivity, owner, tags, created_at, updated_at, last_seen, current_snapshot \
     FROM assets WHERE id = $1";

pub(crate) const ASSET_BY_ID_FOR_UPDATE: &str = "SELECT id, name, environment, site, tier, \
     exposure, sensitivity, owner, tags, created_at, updated_at, last_seen, current_snapshot \
     FROM assets WHERE id = $1 FOR UPDATE";

pub(crate) const JOB_BY_ID: &str = "SELECT id, asset_id, kind, payload, state, created_at, \
     attempts, lease_until, finished_at, result FROM jobs WHERE id = $1";

pub(crate) const JOB_BY_ID_FOR_UPDATE: &str = "SELECT id, asset_id, kind, payload, state, \
     created_at, attempts, lease_until, finished_at, result FROM jobs WHERE id = $1 FOR UPDATE";

/// Insert the record and move the head in one round trip (the head row is already
/// locked by the caller's `SELECT … FOR UPDATE`).
pub(crate) const APPEND_AUDIT: &str = "WITH head AS (UPDATE audit_head SET seq = $1, hash = $10 \
     WHERE id = 1) INSERT INTO audit_log (seq, at, principal, role, action, target, before, \
     after, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

pub(crate) const HEARTBEAT: &str =
    "UPDATE assets SET last_seen = GREATEST(last_seen, $1) WHERE id = $2";

pub(crate) const CURRENT_PACKAGES: &str = "SELECT a.current_snapshot, p.ecosystem, p.name, \
     p.version, p.release, p.source_name, p.source_version, p.purl \
     FROM assets a LEFT JOIN current_packages p ON p.asset_id = a.id \
     WHERE a.id = $1 ORDER BY p.ecosystem, p.name, p.version, p.pkey";

/// A plain insert: `ON CONFLICT` makes every row a speculative insertion, about 30%
/// slower for a 1,500-row first report. Rows are distinct by construction (the caller
/// deduplicates); should one already be current, the caller retries with
/// [`INSERT_PACKAGES_TOLERANT`].
pub(crate) const INSERT_PACKAGES: &str = "INSERT INTO current_packages (asset_id, pkey, \
     ecosystem, match_name, name, version, release, source_name, source_version, purl) \
     SELECT $1, * FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], \
     $7::text[], $8::text[], $9::text[], $10::text[])";

pub(crate) const INSERT_PACKAGES_TOLERANT: &str = "INSERT INTO current_packages (asset_id, \
     pkey, ecosystem, match_name, name, version, release, source_name, source_version, purl) \
     SELECT $1, * FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], \
     $7::text[], $8::text[], $9::text[], $10::text[]) ON CONFLICT DO NOTHING";

pub(crate) const OPEN_FINDINGS: &str = "INSERT INTO findings (asset_id, ecosystem, match_name, \
     name, version, release, source_name, source_version, purl, advisory_id, fixed_versions, \
     severity, first_seen, state, updated_at) \
     SELECT *, 'open', $14 FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], \
     $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], \
     $12::text[], $13::bigint[]) ON CONFLICT DO NOTHING";

pub(crate) const PACKAGES_NAMED: &str = "SELECT asset_id, ecosystem, name, version, release, \
     source_name, source_version, purl FROM current_packages WHERE (ecosystem, match_name) \
     IN (SELECT * FROM UNNEST($1::text[], $2::text[]))";

pub(crate) const CLAIMABLE_EXISTS: &str = "SELECT id FROM jobs WHERE asset_id = $1 \
     AND (state = 'queued' OR (state = 'claimed' AND lease_until <= $2)) LIMIT 1";

pub(crate) const CLAIM_JOBS: &str = "UPDATE jobs SET state = 'claimed', \
     attempts = attempts + 1, lease_until = $1 WHERE id IN (SELECT id FROM jobs \
     WHERE asset_id = $2 AND (state = 'queued' OR (state = 'claimed' AND lease_until <= $3)) \
     ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING id, asset_id, kind, payload, \
     state, created_at, attempts, lease_until, finished_at, result";
