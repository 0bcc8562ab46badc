//! Integration tests: the real server on 127.0.0.1:0, driven over HTTP, on SQLite and
//! (when PATCHPILOT_TEST_DATABASE_URL is set) PostgreSQL.

mod support;

mod api;
mod connections;
mod consistency;
mod enrolment;
mod incremental;
mod integrity;
mod ranking;
mod replicas;
mod roles;
