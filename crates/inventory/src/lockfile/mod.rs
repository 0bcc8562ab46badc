//! Language lockfiles.
pub mod cargo;
pub mod gomod;
pub mod npm;
pub mod pipfile;
pub mod pnpm;
pub mod poetry;
pub mod requirements;
pub mod uv;
pub mod yarn;

mod util;
