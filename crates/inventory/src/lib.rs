//! Discovery: read what is installed from one source into an [`Inventory`].
//!
//! Sources are OS package databases (dpkg `status`, apk `installed`, rpm `-qa --qf`
//! output and the sqlite rpmdb), SBOMs (CycloneDX JSON/XML 1.2–1.6, SPDX 2.2/2.3 JSON)
//! and lockfiles. Each format has one module with a pure `parse(&[u8]) -> Result<Parsed,
//! ParseError>` (except the sqlite rpmdb, which needs a file); this module detects the
//! format and adds the path to errors, so every error names the file and the reason.
//!
//! What this crate does not do: decide whether anything is vulnerable.

use std::fmt;
use std::path::{Path, PathBuf};

pub use patchpilot_types::{Distro, Ecosystem, Inventory, Package};

pub mod host;
pub mod lockfile;
pub mod os;
pub mod sbom;

/// Why a source could not be read. Displays as one line: `<path>: <format>: <reason>`.
#[derive(Debug, thiserror::Error)]
#[error("{}: {}", path.display(), kind)]
pub struct InventoryError {
    pub path: PathBuf,
    pub kind: ErrorKind,
}

#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("unrecognized format (not a known package database, SBOM or lockfile)")]
    UnknownFormat,
    #[error("{format}: {reason}")]
    Parse { format: Format, reason: String },
}

/// A parse failure inside one format's parser (the caller adds the path and format).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl ParseError {
    pub fn new(reason: impl Into<String>) -> Self {
        ParseError(reason.into())
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What one parser found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub packages: Vec<Package>,
    /// The OS the packages belong to, when the source says (SBOM metadata, purl qualifiers).
    pub distro: Option<Distro>,
}

/// Every format we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    DpkgStatus,
    ApkInstalled,
    RpmQa,
    RpmSqlite,
    CycloneDxJson,
    CycloneDxXml,
    SpdxJson,
    CargoLock,
    PackageLockJson,
    YarnLock,
    PnpmLock,
    RequirementsTxt,
    PoetryLock,
    PipfileLock,
    UvLock,
    GoMod,
}

impl Format {
    pub const ALL: [Format; 16] = [
        Format::DpkgStatus,
        Format::ApkInstalled,
        Format::RpmQa,
        Format::RpmSqlite,
        Format::CycloneDxJson,
        Format::CycloneDxXml,
        Format::SpdxJson,
        Format::CargoLock,
        Format::PackageLockJson,
        Format::YarnLock,
        Format::PnpmLock,
        Format::RequirementsTxt,
        Format::PoetryLock,
        Format::PipfileLock,
        Format::UvLock,
        Format::GoMod,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::DpkgStatus => "dpkg-status",
            Format::ApkInstalled => "apk-installed",
            Format::RpmQa => "rpm-qa",
            Format::RpmSqlite => "rpmdb-sqlite",
            Format::CycloneDxJson => "cyclonedx-json",
            Format::CycloneDxXml => "cyclonedx-xml",
            Format::SpdxJson => "spdx-json",
            Format::CargoLock => "Cargo.lock",
            Format::PackageLockJson => "package-lock.json",
            Format::YarnLock => "yarn.lock",
            Format::PnpmLock => "pnpm-lock.yaml",
            Format::RequirementsTxt => "requirements.txt",
            Format::PoetryLock => "poetry.lock",
            Format::PipfileLock => "Pipfile.lock",
            Format::UvLock => "uv.lock",
            Format::GoMod => "go.mod",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Guess the format from the file name, then from the first bytes.
    pub fn detect(path: &Path, head: &[u8]) -> Option<Format> {
        let file = path.file_name()?.to_str()?.to_ascii_lowercase();
        let by_name = match file.as_str() {
            "status" => Some(Format::DpkgStatus),
            "installed" => Some(Format::ApkInstalled),
            "rpmdb.sqlite" => Some(Format::RpmSqlite),
            "cargo.lock" => Some(Format::CargoLock),
            "package-lock.json" | "npm-shrinkwrap.json" => Some(Format::PackageLockJson),
            "yarn.lock" => Some(Format::YarnLock),
            "pnpm-lock.yaml" => Some(Format::PnpmLock),
            "poetry.lock" => Some(Format::PoetryLock),
            "pipfile.lock" => Some(Format::PipfileLock),
            "uv.lock" => Some(Format::UvLock),
            "go.mod" => Some(Format::GoMod),
            f if f.ends_with(".cdx.json") || f.ends_with(".cyclonedx.json") || f == "bom.json" => {
                Some(Format::CycloneDxJson)
            }
            f if f.ends_with(".cdx.xml") || f.ends_with(".cyclonedx.xml") || f == "bom.xml" => {
                Some(Format::CycloneDxXml)
            }
            f if f.ends_with(".spdx.json") => Some(Format::SpdxJson),
            f if f.starts_with("requirements") && f.ends_with(".txt") => {
                Some(Format::RequirementsTxt)
            }
            f if f.ends_with(".mod") => Some(Format::GoMod),
            _ => None,
        };
        by_name.or_else(|| Format::sniff(head))
    }

    /// Recognize a format by content alone.
    pub fn sniff(head: &[u8]) -> Option<Format> {
        if head.starts_with(b"SQLite format 3\0") {
            return Some(Format::RpmSqlite);
        }
        let text = std::str::from_utf8(&head[..head.len().min(4096)]).ok()?;
        let t = text.trim_start();
        if t.starts_with('{') {
            if t.contains("\"bomFormat\"") || t.contains("\"CycloneDX\"") {
                return Some(Format::CycloneDxJson);
            }
            if t.contains("\"spdxVersion\"") {
                return Some(Format::SpdxJson);
            }
            if t.contains("\"lockfileVersion\"") {
                return Some(Format::PackageLockJson);
            }
            if t.contains("\"_meta\"") {
                return Some(Format::PipfileLock);
            }
            return None;
        }
        if t.starts_with('<') && t.contains("cyclonedx") {
            return Some(Format::CycloneDxXml);
        }
        if t.starts_with("Package: ") || t.contains("\nPackage: ") {
            return Some(Format::DpkgStatus);
        }
        if t.starts_with("C:") || t.starts_with("P:") {
            return Some(Format::ApkInstalled);
        }
        if t.starts_with("# yarn lockfile") || t.starts_with("# THIS IS AN AUTOGENERATED FILE") {
            return Some(Format::YarnLock);
        }
        if t.starts_with("lockfileVersion:") {
            return Some(Format::PnpmLock);
        }
        if t.starts_with("module ") {
            return Some(Format::GoMod);
        }
        None
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parse bytes already read, as `format`. The sqlite rpmdb needs a file: use [`read_path`].
pub fn parse(format: Format, data: &[u8]) -> Result<Parsed, ParseError> {
    match format {
        Format::DpkgStatus => os::dpkg::parse(data),
        Format::ApkInstalled => os::apk::parse(data),
        Format::RpmQa => os::rpm::parse_qa(data),
        Format::RpmSqlite => Err(ParseError::new("the sqlite rpmdb must be read from a file")),
        Format::CycloneDxJson => sbom::cyclonedx::parse_json(data),
        Format::CycloneDxXml => sbom::cyclonedx::parse_xml(data),
        Format::SpdxJson => sbom::spdx::parse_json(data),
        Format::CargoLock => lockfile::cargo::parse(data),
        Format::PackageLockJson => lockfile::npm::parse(data),
        Format::YarnLock => lockfile::yarn::parse(data),
        Format::PnpmLock => lockfile::pnpm::parse(data),
        Format::RequirementsTxt => lockfile::requirements::parse(data),
        Format::PoetryLock => lockfile::poetry::parse(data),
        Format::PipfileLock => lockfile::pipfile::parse(data),
        Format::UvLock => lockfile::uv::parse(data),
        Format::GoMod => lockfile::gomod::parse(data),
    }
}

/// Read one file as `format` (or detected from its name and content when `None`).
pub fn read_path(path: &Path, format: Option<Format>) -> Result<Inventory, InventoryError> {
    let err = |kind| InventoryError {
        path: path.to_path_buf(),
        kind,
    };
    let data = std::fs::read(path).map_err(|e| err(ErrorKind::Io(e)))?;
    let format = match format {
        Some(f) => f,
        None => Format::detect(path, &data).ok_or_else(|| err(ErrorKind::UnknownFormat))?,
    };
    let parsed = if format == Format::RpmSqlite {
        os::rpm::read_sqlite(path)
    } else {
        parse(format, &data)
    }
    .map_err(|e| {
        err(ErrorKind::Parse {
            format,
            reason: e.0,
        })
    })?;
    Ok(Inventory {
        source: path.display().to_string(),
        format: format.name().to_string(),
        distro: parsed.distro,
        packages: parsed.packages,
    })
}
