//! TODO(helper): inventory of the local host (or a root directory standing for one).
use crate::{Inventory, InventoryError};
use std::path::Path;

/// Inventory the OS packages of the system rooted at `root` (`/` for this host): read
/// `etc/os-release` (or `usr/lib/os-release`) for the distro, then whichever package
/// databases exist (`var/lib/dpkg/status`, `lib/apk/db/installed`,
/// `var/lib/rpm/rpmdb.sqlite`). Packages carry the distro's ecosystem and release.
pub fn read_host(root: &Path) -> Result<Vec<Inventory>, InventoryError> {
    let _ = root;
    Ok(Vec::new())
}
