//! Integration tests that drive the real `patchpilot` binary.
mod asset_labels;
mod cargo_audit;
mod cli;
mod connections;
mod distro_feeds;
mod matcher_reference;
mod policy_vex;
mod server;
mod support;
