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

/// Insert records (`$3`… parallel arrays, in order) and move the head to `$1`/`$2` in
/// one round trip (the head row is already locked by the caller's `SELECT … FOR UPDATE`).
pub(crate) const APPEND_AUDIT: &str = "WITH head AS (UPDATE audit_head SET seq = $1, hash = $2 \
     WHERE id = 1) INSERT INTO audit_log (seq, at, principal, role, action, target, before, \
     after, prev_hash, hash) SELECT * FROM UNNEST($3::bigint[], $4::bigint[], $5::text[], \
     $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])";

pub(crate) const HEARTBEAT: &str =
    "UPDATE assets SET last_seen = GREATEST(last_seen, $1) WHERE id = $2";

/// Many heartbeats (`$1` ids, `$2` times, parallel arrays), skipping rows another
/// transaction holds; returns the ids written.
pub(crate) const HEARTBEATS: &str = "UPDATE assets a SET last_seen = GREATEST(a.last_seen, v.at) \
     FROM (SELECT x.id, x.at FROM UNNEST($1::bigint[], $2::bigint[]) AS x (id, at) \
     JOIN assets b ON b.id = x.id FOR UPDATE OF b SKIP LOCKED) v WHERE a.id = v.id RETURNING a.id";

pub(crate) const OPEN_FINDINGS: &str = "INSERT INTO findings (asset_id, ecosystem, match_name, \
     name, version, release, source_name, source_version, purl, advisory_id, fixed_versions, \
     severity, first_seen, state, updated_at) \
     SELECT *, 'open', $14 FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], \
     $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], \
     $12::text[], $13::bigint[]) ON CONFLICT DO NOTHING";

pub(crate) const CLAIMABLE_EXISTS: &str = "SELECT id FROM jobs WHERE asset_id = $1 \
     AND (state = 'queued' OR (state = 'claimed' AND lease_until <= $2)) LIMIT 1";

pub(crate) const CLAIM_JOBS: &str = "UPDATE jobs SET state = 'claimed', \
     attempts = attempts + 1, lease_until = $1 WHERE id IN (SELECT id FROM jobs \
     WHERE asset_id = $2 AND (state = 'queued' OR (state = 'claimed' AND lease_until <= $3)) \
     ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING id, asset_id, kind, payload, \
     state, created_at, attempts, lease_until, finished_at, result";

/// An inventory's list (`$8` hash, `$9` body; kept if already stored), its snapshot row
/// (`$1`…`$7`) and the asset's move to it; returns the snapshot id.
pub(crate) const STORE_SNAPSHOT: &str = "WITH new_blob AS (INSERT INTO blobs (hash, body) \
     VALUES ($8, $9) ON CONFLICT (hash) DO NOTHING RETURNING id), \
     blob AS (SELECT id FROM new_blob UNION ALL SELECT id FROM blobs WHERE hash = $8 LIMIT 1), \
     snap AS (INSERT INTO snapshots (asset_id, idempotency_key, collected_at, received_at, \
     source, content_hash, package_count, blob_id) SELECT $1, $2, $3, $4, $5, $6, $7, \
     (SELECT id FROM blob) RETURNING id), \
     moved AS (UPDATE assets SET current_snapshot = (SELECT id FROM snap), \
     last_seen = GREATEST(last_seen, $4) WHERE id = $1) \
     SELECT id FROM snap";
