-- The current package set is the current snapshot's stored list: a first report no
-- longer inserts ~1,500 indexed rows, and `packages_named` (run only after a feed update)
-- reads the current lists instead.
DROP TABLE current_packages;
