//! Inventory of the local host, or of a directory standing for one (a container image
//! unpacked on disk, a mounted VM disk).
//!
//! [`read_host`] reads `etc/os-release` (or `usr/lib/os-release`) for the distro, then
//! every package database it finds under the root, and tags each package with the distro's
//! OSV ecosystem and release ([`Distro::ecosystem`]) and a purl naming the distro
//! (`pkg:deb/ubuntu/…?distro=ubuntu-22.04`). That knowledge travels into the parsers as an
//! [`OsTarget`], so a parser builds each package once, right, instead of having its purl
//! rewritten afterwards. Without an os-release, each database keeps its own default
//! (dpkg → Debian, apk → Alpine, rpm → Red Hat) and no release.
//!
//! Databases: `var/lib/dpkg/status` plus the one-file-per-package
//! `var/lib/dpkg/status.d/` of distroless images (merged into one dpkg inventory),
//! `lib/apk/db/installed`, and the sqlite rpmdb at `var/lib/rpm/rpmdb.sqlite` or
//! `usr/lib/sysimage/rpm/rpmdb.sqlite`. An rpm database in the older BerkeleyDB
//! (`Packages`) or SUSE ndb (`Packages.db`) formats is reported as an error rather than
//! skipped, since silently reporting "no packages" would read as "nothing vulnerable".
//!
//! Paths are joined to the root as they are: an absolute symlink inside an unpacked image
//! would resolve on this machine, which is why the result names the root it read.

use std::path::{Path, PathBuf};

use patchpilot_purl::Purl;

use crate::{os, Distro, Ecosystem, ErrorKind, Format, Inventory, InventoryError, Parsed};

/// What OS packages belong to: their OSV ecosystem and release, and how their purls name
/// the distro (`namespace`, and the `distro` qualifier).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsTarget {
    pub ecosystem: Ecosystem,
    pub release: Option<String>,
    /// purl namespace: `debian`, `ubuntu`, `alpine`, `redhat`, `rocky`, ...
    pub purl_namespace: String,
    /// purl `distro` qualifier, e.g. `debian-12` (none when the release is unknown).
    pub purl_distro: Option<String>,
}

impl OsTarget {
    fn plain(ecosystem: Ecosystem, namespace: &str) -> OsTarget {
        OsTarget {
            ecosystem,
            release: None,
            purl_namespace: namespace.to_string(),
            purl_distro: None,
        }
    }

    /// dpkg's default when the distro is unknown.
    pub fn debian() -> OsTarget {
        OsTarget::plain(Ecosystem::Debian, "debian")
    }

    /// apk's default when the distro is unknown.
    pub fn alpine() -> OsTarget {
        OsTarget::plain(Ecosystem::Alpine, "alpine")
    }

    /// rpm's default when the distro is unknown.
    pub fn redhat() -> OsTarget {
        OsTarget::plain(Ecosystem::RedHat, "redhat")
    }

    /// The target for a known distro.
    pub fn from_distro(d: &Distro) -> OsTarget {
        let (ecosystem, release) = d.ecosystem();
        let namespace = match d.id.as_str() {
            "rhel" => "redhat",
            other => other,
        };
        OsTarget {
            ecosystem,
            release,
            purl_namespace: namespace.to_string(),
            purl_distro: d.version_id.as_ref().map(|v| format!("{}-{v}", d.id)),
        }
    }

    /// The purl of one package: `pkg:<ty>/<namespace>/<name>@<version>?arch=..&distro=..`
    /// (qualifiers with an empty value are left out), normalized by `patchpilot-purl`;
    /// `None` in the unlikely case the components do not make a valid purl.
    pub(crate) fn purl(
        &self,
        ty: &str,
        name: &str,
        version: &str,
        qualifiers: &[(&str, Option<&str>)],
    ) -> Option<String> {
        let mut b = Purl::builder().ty(ty).name(name).version(version);
        if !self.purl_namespace.is_empty() {
            b = b.namespace(self.purl_namespace.as_str());
        }
        for (k, v) in qualifiers {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                b = b.qualifier(*k, v);
            }
        }
        if let Some(d) = &self.purl_distro {
            b = b.qualifier("distro", d.as_str());
        }
        b.build().ok().map(|p| p.to_string())
    }
}

/// Parse the text of an `os-release` file; `None` when it has no `ID`.
///
/// Lines are `KEY=value`, the value optionally in double quotes (with `\"`, `\\`, `\$`,
/// `` \` `` escapes) or single quotes; `#` starts a comment line.
pub fn parse_os_release(text: &str) -> Option<Distro> {
    let mut id = None;
    let mut version_id = None;
    let mut codename = None;
    let mut pretty = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = unquote(v.trim());
        let slot = match k.trim() {
            "ID" => &mut id,
            "VERSION_ID" => &mut version_id,
            "VERSION_CODENAME" => &mut codename,
            "PRETTY_NAME" => &mut pretty,
            _ => continue,
        };
        *slot = Some(v).filter(|v| !v.is_empty());
    }
    Some(Distro {
        id: id?.to_ascii_lowercase(),
        version_id,
        codename,
        pretty_name: pretty,
    })
}

fn unquote(v: &str) -> String {
    if let Some(inner) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some(e @ ('"' | '\\' | '$' | '`')) => out.push(e),
                    Some(e) => {
                        out.push('\\');
                        out.push(e);
                    }
                    None => out.push('\\'),
                }
            } else {
                out.push(c);
            }
        }
        out
    } else if let Some(inner) = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        inner.to_string()
    } else {
        v.to_string()
    }
}

/// Inventory the OS packages of the system rooted at `root` (`/` for this host): read
/// `etc/os-release` (or `usr/lib/os-release`) for the distro, then whichever package
/// databases exist (`var/lib/dpkg/status`, `lib/apk/db/installed`,
/// `var/lib/rpm/rpmdb.sqlite`). Packages carry the distro's ecosystem and release.
///
/// Returns one [`Inventory`] per database found (none when there is none); its `source` is
/// `host:<root>`. An unreadable or corrupt database is an error naming the file.
pub fn read_host(root: &Path) -> Result<Vec<Inventory>, InventoryError> {
    let distro = read_os_release(root)?;
    let target =
        |default: fn() -> OsTarget| distro.as_ref().map_or_else(default, OsTarget::from_distro);
    let source = format!("host:{}", root.display());
    let inventory = |format: Format, parsed: Parsed| Inventory {
        source: source.clone(),
        format: format.name().to_string(),
        distro: distro.clone().or(parsed.distro),
        packages: parsed.packages,
    };
    let mut out = Vec::new();

    // dpkg: the status file and/or the distroless status.d directory, as one database.
    let status = root.join("var/lib/dpkg/status");
    let status_d = root.join("var/lib/dpkg/status.d");
    let mut dpkg: Option<Parsed> = None;
    if status.is_file() {
        let data = read(&status)?;
        let parsed = os::dpkg::parse_for(&data, &target(OsTarget::debian))
            .map_err(|e| parse_err(&status, Format::DpkgStatus, e))?;
        dpkg = Some(parsed);
    }
    if status_d.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&status_d)
            .map_err(|e| io_err(&status_d, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                p.is_file() && !name.starts_with('.') && !name.ends_with(".md5sums")
            })
            .collect();
        files.sort();
        let all = dpkg.get_or_insert_with(Parsed::default);
        for f in files {
            let data = read(&f)?;
            let parsed = os::dpkg::parse_status_d(&data, &target(OsTarget::debian))
                .map_err(|e| parse_err(&f, Format::DpkgStatus, e))?;
            all.packages.extend(parsed.packages);
        }
    }
    if let Some(parsed) = dpkg {
        out.push(inventory(Format::DpkgStatus, parsed));
    }

    let apk = root.join("lib/apk/db/installed");
    if apk.is_file() {
        let data = read(&apk)?;
        let parsed = os::apk::parse_for(&data, &target(OsTarget::alpine))
            .map_err(|e| parse_err(&apk, Format::ApkInstalled, e))?;
        out.push(inventory(Format::ApkInstalled, parsed));
    }

    let rpm_dirs = [root.join("var/lib/rpm"), root.join("usr/lib/sysimage/rpm")];
    if let Some(db) = rpm_dirs
        .iter()
        .map(|d| d.join("rpmdb.sqlite"))
        .find(|p| p.is_file())
    {
        let parsed = os::rpm::read_sqlite_for(&db, &target(OsTarget::redhat))
            .map_err(|e| parse_err(&db, Format::RpmSqlite, e))?;
        out.push(inventory(Format::RpmSqlite, parsed));
    } else if let Some(old) = rpm_dirs
        .iter()
        .flat_map(|d| [d.join("Packages"), d.join("Packages.db")])
        .find(|p| p.is_file())
    {
        return Err(parse_err(
            &old,
            Format::RpmSqlite,
            crate::ParseError::new(
                "BerkeleyDB/ndb rpm databases are not supported (only rpmdb.sqlite); \
                 read `rpm -qa --qf` output instead (see os::rpm)",
            ),
        ));
    }
    Ok(out)
}

fn read_os_release(root: &Path) -> Result<Option<Distro>, InventoryError> {
    for rel in ["etc/os-release", "usr/lib/os-release"] {
        let p = root.join(rel);
        if p.is_file() {
            let data = read(&p)?;
            return Ok(parse_os_release(&String::from_utf8_lossy(&data)));
        }
    }
    Ok(None)
}

fn read(path: &Path) -> Result<Vec<u8>, InventoryError> {
    std::fs::read(path).map_err(|e| io_err(path, e))
}

fn io_err(path: &Path, e: std::io::Error) -> InventoryError {
    InventoryError {
        path: path.to_path_buf(),
        kind: ErrorKind::Io(e),
    }
}

fn parse_err(path: &Path, format: Format, e: crate::ParseError) -> InventoryError {
    InventoryError {
        path: path.to_path_buf(),
        kind: ErrorKind::Parse {
            format,
            reason: e.0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_forms() {
        let text = "# comment\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
VERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL='https://www.debian.org/'\n";
        let d = parse_os_release(text).unwrap();
        assert_eq!(d.id, "debian");
        assert_eq!(d.version_id.as_deref(), Some("12"));
        assert_eq!(d.codename.as_deref(), Some("bookworm"));
        assert_eq!(
            d.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );

        let d =
            parse_os_release("ID='alpine'\nVERSION_ID=3.18.4\nPRETTY_NAME=\"a \\\"b\\\" \\\\c\"\n")
                .unwrap();
        assert_eq!(d.id, "alpine");
        assert_eq!(d.version_id.as_deref(), Some("3.18.4"));
        assert_eq!(d.pretty_name.as_deref(), Some("a \"b\" \\c"));

        assert_eq!(parse_os_release("NAME=x\nVERSION_ID=1\n"), None);
        assert_eq!(parse_os_release("ID=\n"), None);
    }

    #[test]
    fn targets_from_distros() {
        let d = |id: &str, v: Option<&str>| Distro {
            id: id.into(),
            version_id: v.map(Into::into),
            codename: None,
            pretty_name: None,
        };
        let t = OsTarget::from_distro(&d("rhel", Some("9.3")));
        assert_eq!(t.ecosystem, Ecosystem::RedHat);
        assert_eq!(t.release.as_deref(), Some("9"));
        assert_eq!(t.purl_namespace, "redhat");
        assert_eq!(t.purl_distro.as_deref(), Some("rhel-9.3"));
        let t = OsTarget::from_distro(&d("ubuntu", None));
        assert_eq!(
            (t.ecosystem, t.release, t.purl_distro),
            (Ecosystem::Ubuntu, None, None)
        );
    }
}
