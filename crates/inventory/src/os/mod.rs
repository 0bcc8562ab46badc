//! OS package databases.
pub mod apk;
pub mod dpkg;
pub mod rpm;
