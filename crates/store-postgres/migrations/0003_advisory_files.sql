-- Copies of the advisory database file under their digest, so that server replicas load
-- the database the fleet was matched against from here instead of their own data dir
-- (at most the last two; not audited: a cache of public data).
CREATE TABLE advisory_files (
    digest    TEXT   PRIMARY KEY,
    stored_at BIGINT NOT NULL,
    body      BYTEA  NOT NULL
);
