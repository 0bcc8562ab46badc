//! The one integration test binary of patchpilot-inventory: each module drives one group of
//! readers through the public API, against real public data and our own small fixtures.

mod bad_input;
mod bad_input_lockfile;
mod host;
mod lockfile;
mod os;
mod sbom;
