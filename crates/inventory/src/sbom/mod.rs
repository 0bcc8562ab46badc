//! Software bills of materials.
pub mod cyclonedx;
pub mod spdx;
