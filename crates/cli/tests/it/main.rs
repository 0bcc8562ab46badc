//! Integration tests that drive the real `patchpilot` binary.
mod asset_labels;
mod cargo_audit;
mod cli;
mod connections;
mod coverage;
mod distro_feeds;
mod errors;
mod matcher_reference;
mod pipes;
mod policy_vex;
mod readme;
mod server;
mod status;
mod support;
mod table;
