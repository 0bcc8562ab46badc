//! Integration tests for patchpilot-version: reference vectors and differential tests.
mod diff_tools_a;
mod diff_tools_b;
mod support;
mod vectors_a;
mod vectors_b;
