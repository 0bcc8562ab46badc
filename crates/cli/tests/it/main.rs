//! Integration tests that drive the real `patchpilot` binary.
mod cargo_audit;
mod cli;
mod matcher_reference;
mod server;
mod support;
