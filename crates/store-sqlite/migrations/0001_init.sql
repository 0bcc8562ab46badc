-- Patchpilot control plane, SQLite schema 1. Times are INTEGER milliseconds since the
-- Unix epoch; JSON is TEXT. Hot tables (current_packages) carry no foreign keys: the
-- store checks the asset inside the same write transaction instead.

CREATE TABLE assets (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT    NOT NULL UNIQUE,
    environment      TEXT    NOT NULL,
    site             TEXT,
    tier             INTEGER NOT NULL CHECK (tier BETWEEN 1 AND 4),
    exposure         TEXT    NOT NULL,
    sensitivity      TEXT    NOT NULL,
    owner            TEXT,
    tags             TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    last_seen        INTEGER,
    current_snapshot INTEGER
);

CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER,
    used_at    INTEGER,
    asset_id   INTEGER REFERENCES assets (id)
);

-- One package list per distinct content, shared by every snapshot that has it.
CREATE TABLE blobs (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    hash TEXT    NOT NULL UNIQUE,
    body TEXT    NOT NULL
);

CREATE TABLE snapshots (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    asset_id        INTEGER NOT NULL REFERENCES assets (id),
    idempotency_key TEXT    NOT NULL,
    collected_at    INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
    source          TEXT    NOT NULL,
    content_hash    TEXT    NOT NULL,
    package_count   INTEGER NOT NULL,
    blob_id         INTEGER NOT NULL REFERENCES blobs (id),
    UNIQUE (asset_id, idempotency_key)
);

-- Each asset's current packages, kept by applying diffs. pkey identifies a package
-- (every field) within its asset. Deliberately no index on (ecosystem, match_name):
-- hosts share most package names, so such an index puts one report's rows on ~1,500
-- different pages, and SQLite writes every dirty page whole to the WAL, which made
-- first reports 3x slower. packages_named, run only after a feed update and from a
-- read connection, scans instead (about 0.4 s per million rows here).
CREATE TABLE current_packages (
    asset_id       INTEGER NOT NULL,
    pkey           INTEGER NOT NULL,
    ecosystem      TEXT    NOT NULL,
    match_name     TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    version        TEXT    NOT NULL,
    release        TEXT,
    source_name    TEXT,
    source_version TEXT,
    purl           TEXT,
    PRIMARY KEY (asset_id, pkey)
) WITHOUT ROWID;

CREATE TABLE findings (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    asset_id       INTEGER NOT NULL REFERENCES assets (id),
    ecosystem      TEXT    NOT NULL,
    match_name     TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    version        TEXT    NOT NULL,
    release        TEXT,
    source_name    TEXT,
    source_version TEXT,
    purl           TEXT,
    advisory_id    TEXT    NOT NULL,
    fixed_versions TEXT    NOT NULL,
    severity       TEXT,
    state          TEXT    NOT NULL,
    reason         TEXT,
    first_seen     INTEGER NOT NULL,
    fixed_at       INTEGER,
    updated_at     INTEGER NOT NULL
);

-- At most one live (not fixed) finding per asset, package and advisory.
CREATE UNIQUE INDEX findings_live ON findings (asset_id, ecosystem, name, version, advisory_id)
    WHERE state <> 'fixed';
CREATE INDEX findings_live_by_name ON findings (ecosystem, match_name) WHERE state <> 'fixed';
CREATE INDEX findings_by_asset ON findings (asset_id, id);
CREATE INDEX findings_by_advisory ON findings (advisory_id, id);
CREATE INDEX findings_by_state ON findings (state, id);

CREATE TABLE feed_state (
    name       TEXT    PRIMARY KEY,
    state      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    asset_id    INTEGER NOT NULL REFERENCES assets (id),
    kind        TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_until INTEGER,
    finished_at INTEGER,
    result      TEXT
);

CREATE INDEX jobs_by_asset ON jobs (asset_id, state, id);

-- The append-only audit log: a hash chain (see patchpilot_store::audit). before/after
-- are the exact JSON text that was hashed.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    principal TEXT    NOT NULL,
    role      TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    target    TEXT    NOT NULL,
    before    TEXT,
    after     TEXT,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- The chain's head, kept apart from the log so a record cut off the end still leaves
-- a gap the next append makes visible.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL
);

INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
