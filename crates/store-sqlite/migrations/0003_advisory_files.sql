-- Copies of the advisory database file under their digest, for server replicas to load
-- the database the fleet was matched against (at most the last two; not audited).
CREATE TABLE advisory_files (
    digest    TEXT    PRIMARY KEY,
    stored_at INTEGER NOT NULL,
    body      BLOB    NOT NULL
);
