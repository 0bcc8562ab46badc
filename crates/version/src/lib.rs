//! Version schemes: parse a version string once into a typed value, then compare.
//!
//! Each ecosystem orders versions by its own rules, and a matcher that borrows another
//! ecosystem's rules gives wrong answers (epochs, `~`, pre-releases, backports). So every
//! scheme here follows its reference implementation exactly and is checked against the
//! reference vectors and, differentially, against the real tool (`dpkg --compare-versions`,
//! `rpm.vercmp`, Python `packaging`, npm `semver`).
//!
//! What this crate does not do: ranges and advisories (see `patchpilot-osv` and
//! `patchpilot-matcher`), and any IO.
//!
//! Design: [`Scheme::parse`] validates at the boundary and returns a [`Version`]; comparing
//! two parsed versions never fails and never allocates. Versions of different schemes are
//! not comparable ([`Version::partial_cmp`] returns `None`).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

mod alpm;
mod apk;
mod composer;
mod conan;
mod cran;
mod deb;
mod gem;
mod gentoo;
mod hackage;
mod maven;
mod nuget;
mod openssl;
mod pep440;
mod pub_;
mod rpm;
mod semver;

pub use alpm::AlpmVersion;
pub use apk::ApkVersion;
pub use composer::ComposerVersion;
pub use conan::ConanVersion;
pub use cran::CranVersion;
pub use deb::DebVersion;
pub use gem::GemVersion;
pub use gentoo::GentooVersion;
pub use hackage::HackageVersion;
pub use maven::MavenVersion;
pub use nuget::NuGetVersion;
pub use openssl::OpensslVersion;
pub use pep440::Pep440Version;
pub use pub_::PubVersion;
pub use rpm::RpmVersion;
pub use semver::SemVersion;

/// A version string that a scheme cannot parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {scheme} version {input:?}: {reason}")]
pub struct VersionError {
    pub scheme: Scheme,
    pub input: String,
    pub reason: String,
}

impl VersionError {
    pub fn new(scheme: Scheme, input: &str, reason: impl Into<String>) -> Self {
        VersionError {
            scheme,
            input: input.to_string(),
            reason: reason.into(),
        }
    }
}

/// A version ordering scheme.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Debian/Ubuntu dpkg: `[epoch:]upstream[-revision]`, `~` sorts before everything.
    Deb,
    /// RPM rpmvercmp over `[epoch:]version[-release]`, with `~` and `^`.
    Rpm,
    /// Alpine apk-tools.
    Apk,
    /// SemVer 2.0 (crates.io, npm, Go modules with `v` prefix and `+incompatible`).
    Semver,
    /// PEP 440 (PyPI).
    Pep440,
    /// Maven ComparableVersion.
    Maven,
    /// NuGet (SemVer 2.0 with 4 parts, case-insensitive pre-release).
    Nuget,
    /// RubyGems Gem::Version.
    Gem,
    /// Composer (PHP) version_compare after Composer normalization.
    Composer,
    /// Arch Linux pacman (alpm vercmp).
    Alpm,
    /// Gentoo portage (PMS version comparison).
    Gentoo,
    /// Dart pub (pub_semver).
    Pub,
    /// R CRAN package_version.
    Cran,
    /// Haskell Hackage (Data.Version).
    Hackage,
    /// Conan C/C++ packages.
    Conan,
    /// OpenSSL legacy letter releases (1.1.1w).
    Openssl,
}

impl Scheme {
    pub const ALL: [Scheme; 16] = [
        Scheme::Deb,
        Scheme::Rpm,
        Scheme::Apk,
        Scheme::Semver,
        Scheme::Pep440,
        Scheme::Maven,
        Scheme::Nuget,
        Scheme::Gem,
        Scheme::Composer,
        Scheme::Alpm,
        Scheme::Gentoo,
        Scheme::Pub,
        Scheme::Cran,
        Scheme::Hackage,
        Scheme::Conan,
        Scheme::Openssl,
    ];

    /// The short name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Deb => "deb",
            Scheme::Rpm => "rpm",
            Scheme::Apk => "apk",
            Scheme::Semver => "semver",
            Scheme::Pep440 => "pep440",
            Scheme::Maven => "maven",
            Scheme::Nuget => "nuget",
            Scheme::Gem => "gem",
            Scheme::Composer => "composer",
            Scheme::Alpm => "alpm",
            Scheme::Gentoo => "gentoo",
            Scheme::Pub => "pub",
            Scheme::Cran => "cran",
            Scheme::Hackage => "hackage",
            Scheme::Conan => "conan",
            Scheme::Openssl => "openssl",
        }
    }

    /// A scheme by its short name, or by an OSV ecosystem name (`Debian`, `Debian:12`,
    /// `Alpine:v3.18`, `crates.io`, `PyPI`, ...). Case-sensitive for OSV names as OSV is.
    pub fn from_name(name: &str) -> Option<Scheme> {
        if let Some(s) = Scheme::ALL.iter().find(|s| s.name() == name) {
            return Some(*s);
        }
        let base = name.split(':').next().unwrap_or(name);
        Some(match base {
            "Debian" | "Ubuntu" => Scheme::Deb,
            "Alpine" | "Wolfi" | "Chainguard" => Scheme::Apk,
            "Red Hat" | "Rocky Linux" | "AlmaLinux" | "openSUSE" | "SUSE" | "Mageia" => Scheme::Rpm,
            "crates.io" | "npm" | "Go" | "Hex" => Scheme::Semver,
            "PyPI" => Scheme::Pep440,
            "Maven" => Scheme::Maven,
            "NuGet" => Scheme::Nuget,
            "RubyGems" => Scheme::Gem,
            "Packagist" => Scheme::Composer,
            "Pub" => Scheme::Pub,
            "CRAN" => Scheme::Cran,
            "Hackage" => Scheme::Hackage,
            "Arch Linux" => Scheme::Alpm,
            _ => return None,
        })
    }

    /// Parse `input` under this scheme.
    pub fn parse(self, input: &str) -> Result<Version, VersionError> {
        Ok(match self {
            Scheme::Deb => Version::Deb(DebVersion::parse(input)?),
            Scheme::Rpm => Version::Rpm(RpmVersion::parse(input)?),
            Scheme::Apk => Version::Apk(ApkVersion::parse(input)?),
            Scheme::Semver => Version::Semver(SemVersion::parse(input)?),
            Scheme::Pep440 => Version::Pep440(Pep440Version::parse(input)?),
            Scheme::Maven => Version::Maven(MavenVersion::parse(input)?),
            Scheme::Nuget => Version::Nuget(NuGetVersion::parse(input)?),
            Scheme::Gem => Version::Gem(GemVersion::parse(input)?),
            Scheme::Composer => Version::Composer(ComposerVersion::parse(input)?),
            Scheme::Alpm => Version::Alpm(AlpmVersion::parse(input)?),
            Scheme::Gentoo => Version::Gentoo(GentooVersion::parse(input)?),
            Scheme::Pub => Version::Pub(PubVersion::parse(input)?),
            Scheme::Cran => Version::Cran(CranVersion::parse(input)?),
            Scheme::Hackage => Version::Hackage(HackageVersion::parse(input)?),
            Scheme::Conan => Version::Conan(ConanVersion::parse(input)?),
            Scheme::Openssl => Version::Openssl(OpensslVersion::parse(input)?),
        })
    }

    /// Parse both and compare.
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        let a = self.parse(a)?;
        let b = self.parse(b)?;
        Ok(a.partial_cmp(&b).expect("same scheme is always comparable"))
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scheme {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scheme::from_name(s).ok_or_else(|| format!("unknown version scheme {s:?}"))
    }
}

/// A parsed version of some scheme. Equality and order are the scheme's own (so
/// `1.0-1` and `0:1.0-1` are equal under dpkg).
#[derive(Debug, Clone)]
pub enum Version {
    Deb(DebVersion),
    Rpm(RpmVersion),
    Apk(ApkVersion),
    Semver(SemVersion),
    Pep440(Pep440Version),
    Maven(MavenVersion),
    Nuget(NuGetVersion),
    Gem(GemVersion),
    Composer(ComposerVersion),
    Alpm(AlpmVersion),
    Gentoo(GentooVersion),
    Pub(PubVersion),
    Cran(CranVersion),
    Hackage(HackageVersion),
    Conan(ConanVersion),
    Openssl(OpensslVersion),
}

impl Version {
    pub fn scheme(&self) -> Scheme {
        match self {
            Version::Deb(_) => Scheme::Deb,
            Version::Rpm(_) => Scheme::Rpm,
            Version::Apk(_) => Scheme::Apk,
            Version::Semver(_) => Scheme::Semver,
            Version::Pep440(_) => Scheme::Pep440,
            Version::Maven(_) => Scheme::Maven,
            Version::Nuget(_) => Scheme::Nuget,
            Version::Gem(_) => Scheme::Gem,
            Version::Composer(_) => Scheme::Composer,
            Version::Alpm(_) => Scheme::Alpm,
            Version::Gentoo(_) => Scheme::Gentoo,
            Version::Pub(_) => Scheme::Pub,
            Version::Cran(_) => Scheme::Cran,
            Version::Hackage(_) => Scheme::Hackage,
            Version::Conan(_) => Scheme::Conan,
            Version::Openssl(_) => Scheme::Openssl,
        }
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.partial_cmp(other) == Some(Ordering::Equal)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        use Version::*;
        Some(match (self, other) {
            (Deb(a), Deb(b)) => a.cmp(b),
            (Rpm(a), Rpm(b)) => a.cmp(b),
            (Apk(a), Apk(b)) => a.cmp(b),
            (Semver(a), Semver(b)) => a.cmp(b),
            (Pep440(a), Pep440(b)) => a.cmp(b),
            (Maven(a), Maven(b)) => a.cmp(b),
            (Nuget(a), Nuget(b)) => a.cmp(b),
            (Gem(a), Gem(b)) => a.cmp(b),
            (Composer(a), Composer(b)) => a.cmp(b),
            (Alpm(a), Alpm(b)) => a.cmp(b),
            (Gentoo(a), Gentoo(b)) => a.cmp(b),
            (Pub(a), Pub(b)) => a.cmp(b),
            (Cran(a), Cran(b)) => a.cmp(b),
            (Hackage(a), Hackage(b)) => a.cmp(b),
            (Conan(a), Conan(b)) => a.cmp(b),
            (Openssl(a), Openssl(b)) => a.cmp(b),
            _ => return None,
        })
    }
}
