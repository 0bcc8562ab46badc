-- The current package set is the current snapshot's stored list (see batch.rs), so the
-- per-package table is no longer written or read. Snapshot lists written from now on
-- are deflated BLOBs; older TEXT lists are read as they are.
DROP TABLE current_packages;
