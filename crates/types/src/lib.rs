//! Shared domain types: what an [`Ecosystem`] is, what an installed [`Package`] is, and an
//! [`Inventory`] of them from one source (a host's package database, an SBOM, a lockfile).
//!
//! These types sit between discovery (`patchpilot-inventory`), advisories
//! (`patchpilot-osv`) and matching (`patchpilot-matcher`), so they are deliberately small
//! and free of IO. Name normalization lives here because both sides of a match (inventory
//! and advisory) must normalize the same way, or matches are silently missed.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use patchpilot_purl::Purl;
use patchpilot_version::Scheme;

/// A package ecosystem, named as OSV names it (without the `:release` suffix).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ecosystem {
    Debian,
    Ubuntu,
    Alpine,
    RedHat,
    RockyLinux,
    AlmaLinux,
    CratesIo,
    Npm,
    Go,
    PyPI,
    Maven,
    NuGet,
    RubyGems,
    Packagist,
    /// Any other OSV ecosystem or purl type we carry but cannot version-compare.
    Other(String),
}

impl Ecosystem {
    /// Parse an OSV ecosystem string, splitting off the release suffix:
    /// `Debian:12` → (Debian, Some("12")), `Alpine:v3.18` → (Alpine, Some("v3.18")).
    pub fn parse_osv(s: &str) -> (Ecosystem, Option<String>) {
        let (base, rest) = match s.split_once(':') {
            Some((b, r)) => (b, Some(r.to_string()).filter(|r| !r.is_empty())),
            None => (s, None),
        };
        (base.parse().expect("infallible"), rest)
    }

    /// Red Hat family advisories name binary RPMs (OSV) or source RPMs (Red Hat's
    /// security data), so a package of these ecosystems is matched under its own name
    /// and, when it differs, its source RPM's name too.
    pub fn also_matched_by_source(&self) -> bool {
        matches!(
            self,
            Ecosystem::RedHat | Ecosystem::RockyLinux | Ecosystem::AlmaLinux
        )
    }

    /// The key a release is matched by: the OSV release suffix with what does not tell
    /// releases apart removed, so an advisory and an installed package of the same release
    /// compare equal ([`Distro::ecosystem`] already yields keys).
    ///
    /// - Ubuntu: `22.04:LTS` → `22.04`; `Pro:18.04:LTS` → `18.04`. Ubuntu Pro (ESM,
    ///   `esm-infra`/`esm-apps`) fixes are the same release's packages from another pocket
    ///   (`…+esm1` versions), and os-release cannot tell whether Pro is attached, so they
    ///   apply to every host of that release: a host without Pro is vulnerable and its
    ///   only fix is the ESM one. Other Pro streams (`Pro:FIPS:22.04:LTS`,
    ///   `Pro:FIPS-updates:…`, `Pro:Realtime:…`) are divergent builds with their own
    ///   version lines: they keep their name (`Pro:FIPS:22.04`) and match no plain host.
    /// - Red Hat, as Red Hat's OSV spells it (the CPE after `redhat:`): mainline
    ///   `enterprise_linux:8::appstream`, `enterprise_linux:8` → `8` (the major version,
    ///   as for a RHEL 8.x host); other streams drop only the repository part
    ///   (`rhel_eus:8.6::appstream` → `rhel_eus:8.6`, also `rhel_aus`, `rhel_e4s`,
    ///   `rhel_tus`, `rhel_els`, layered products), so EUS/AUS/… fixes, whose versions
    ///   are lower than mainline ones, never decide a mainline host's status.
    /// - Everything else is its own key.
    pub fn release_key<'a>(&self, release: &'a str) -> Cow<'a, str> {
        match self {
            Ecosystem::Ubuntu => {
                let r = release.strip_suffix(":LTS").unwrap_or(release);
                let r = match r.strip_prefix("Pro:") {
                    Some(v) if v.starts_with(|c: char| c.is_ascii_digit()) => v,
                    _ => r,
                };
                Cow::Borrowed(r)
            }
            Ecosystem::RedHat => {
                let head = release.split("::").next().unwrap_or(release);
                match head.strip_prefix("enterprise_linux:") {
                    Some(v) => Cow::Borrowed(v.split('.').next().unwrap_or(v)),
                    None => Cow::Borrowed(head),
                }
            }
            _ => Cow::Borrowed(release),
        }
    }

    /// The OSV name.
    pub fn as_str(&self) -> &str {
        match self {
            Ecosystem::Debian => "Debian",
            Ecosystem::Ubuntu => "Ubuntu",
            Ecosystem::Alpine => "Alpine",
            Ecosystem::RedHat => "Red Hat",
            Ecosystem::RockyLinux => "Rocky Linux",
            Ecosystem::AlmaLinux => "AlmaLinux",
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Npm => "npm",
            Ecosystem::Go => "Go",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Maven => "Maven",
            Ecosystem::NuGet => "NuGet",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Packagist => "Packagist",
            Ecosystem::Other(s) => s,
        }
    }

    /// The version scheme, or `None` when we cannot order this ecosystem's versions.
    pub fn scheme(&self) -> Option<Scheme> {
        Scheme::from_name(self.as_str())
    }

    /// True for OS distributions, whose advisories may name source packages and are
    /// specific to a release.
    pub fn is_distro(&self) -> bool {
        matches!(
            self,
            Ecosystem::Debian
                | Ecosystem::Ubuntu
                | Ecosystem::Alpine
                | Ecosystem::RedHat
                | Ecosystem::RockyLinux
                | Ecosystem::AlmaLinux
        )
    }

    /// The ecosystem of a purl type (`cargo` → crates.io, `pypi` → PyPI, ...). For `deb`,
    /// `rpm` and `apk` the purl namespace (vendor) picks the distro; an unknown vendor gives
    /// `Other("rpm:fedora")` and the like, which no distro advisory matches.
    pub fn from_purl(purl: &Purl) -> Ecosystem {
        let ns = purl.namespace.as_deref().unwrap_or("").to_ascii_lowercase();
        match purl.ty.as_str() {
            "cargo" => Ecosystem::CratesIo,
            "npm" => Ecosystem::Npm,
            "golang" => Ecosystem::Go,
            "pypi" => Ecosystem::PyPI,
            "maven" => Ecosystem::Maven,
            "nuget" => Ecosystem::NuGet,
            "gem" => Ecosystem::RubyGems,
            "composer" => Ecosystem::Packagist,
            // Distro packages: only vendors whose advisories we match by name. Another
            // vendor's package (Fedora, openSUSE, Amazon Linux, Wolfi, Raspbian, ...) shares
            // names with these but not versions or patches, so matching it against Red Hat
            // or Debian advisories would be wrong either way.
            "deb" if ns == "debian" => Ecosystem::Debian,
            "deb" if ns == "ubuntu" => Ecosystem::Ubuntu,
            "apk" if ns == "alpine" => Ecosystem::Alpine,
            "rpm" if ns == "redhat" || ns == "rhel" || ns == "centos" => Ecosystem::RedHat,
            "rpm" if ns == "rocky" || ns == "rocky linux" => Ecosystem::RockyLinux,
            "rpm" if ns == "almalinux" => Ecosystem::AlmaLinux,
            "deb" | "apk" | "rpm" => Ecosystem::Other(format!("{}:{ns}", purl.ty)),
            other => Ecosystem::Other(format!("purl:{other}")),
        }
    }

    /// The package name as this ecosystem's advisories spell it, built from a purl:
    /// Maven `group:artifact`, npm `@scope/name`, Go `host/path`, otherwise the name.
    pub fn package_name_from_purl(&self, purl: &Purl) -> String {
        match (self, purl.namespace.as_deref()) {
            (Ecosystem::Maven, Some(ns)) => format!("{ns}:{}", purl.name),
            (Ecosystem::Npm, Some(ns))
            | (Ecosystem::Go, Some(ns))
            | (Ecosystem::Packagist, Some(ns)) => {
                format!("{ns}/{}", purl.name)
            }
            _ => purl.name.clone(),
        }
    }

    /// Normalize a package name for index look-ups, the same way on both sides of a match:
    /// PyPI per PEP 503 (lowercase, runs of `-_.` become `-`), case-insensitive registries
    /// lowercased (npm, NuGet, Packagist, distros); Go module paths, Maven coordinates,
    /// crates.io and RubyGems names are case-sensitive and kept as they are.
    pub fn normalize_name<'a>(&self, name: &'a str) -> Cow<'a, str> {
        let name = name.trim();
        match self {
            Ecosystem::PyPI => {
                let needs = name
                    .bytes()
                    .any(|b| b.is_ascii_uppercase() || b == b'_' || b == b'.')
                    || name.contains("--");
                if !needs {
                    return Cow::Borrowed(name);
                }
                let mut out = String::with_capacity(name.len());
                let mut sep = false;
                for c in name.chars() {
                    if matches!(c, '-' | '_' | '.') {
                        sep = true;
                        continue;
                    }
                    if sep && !out.is_empty() {
                        out.push('-');
                    }
                    sep = false;
                    out.push(c.to_ascii_lowercase());
                }
                Cow::Owned(out)
            }
            Ecosystem::Npm
            | Ecosystem::NuGet
            | Ecosystem::Packagist
            | Ecosystem::Debian
            | Ecosystem::Ubuntu
            | Ecosystem::Alpine
            | Ecosystem::RedHat
            | Ecosystem::RockyLinux
            | Ecosystem::AlmaLinux => {
                if name.bytes().any(|b| b.is_ascii_uppercase()) {
                    Cow::Owned(name.to_ascii_lowercase())
                } else {
                    Cow::Borrowed(name)
                }
            }
            _ => Cow::Borrowed(name),
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Ecosystem {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "Debian" => Ecosystem::Debian,
            "Ubuntu" => Ecosystem::Ubuntu,
            "Alpine" => Ecosystem::Alpine,
            "Red Hat" => Ecosystem::RedHat,
            "Rocky Linux" => Ecosystem::RockyLinux,
            "AlmaLinux" => Ecosystem::AlmaLinux,
            "crates.io" => Ecosystem::CratesIo,
            "npm" => Ecosystem::Npm,
            "Go" => Ecosystem::Go,
            "PyPI" => Ecosystem::PyPI,
            "Maven" => Ecosystem::Maven,
            "NuGet" => Ecosystem::NuGet,
            "RubyGems" => Ecosystem::RubyGems,
            "Packagist" => Ecosystem::Packagist,
            other => Ecosystem::Other(other.to_string()),
        })
    }
}

impl serde::Serialize for Ecosystem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Ecosystem {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <Cow<'de, str>>::deserialize(d)?;
        Ok(s.parse().expect("infallible"))
    }
}

/// The operating system a host inventory came from (`/etc/os-release`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Distro {
    /// os-release `ID`: `debian`, `ubuntu`, `alpine`, `rhel`, `rocky`, `almalinux`, ...
    pub id: String,
    /// os-release `VERSION_ID`: `12`, `22.04`, `3.18.4`, `9.3`.
    pub version_id: Option<String>,
    /// os-release `VERSION_CODENAME`: `bookworm`, `jammy`.
    pub codename: Option<String>,
    /// os-release `PRETTY_NAME`.
    pub pretty_name: Option<String>,
}

impl Distro {
    /// The OSV ecosystem and release for this distro's packages:
    /// debian 12 → (Debian, "12"); ubuntu 22.04 → (Ubuntu, "22.04"); alpine 3.18.4 →
    /// (Alpine, "v3.18"); rhel/rocky/almalinux 9.3 → major "9".
    pub fn ecosystem(&self) -> (Ecosystem, Option<String>) {
        let v = self.version_id.clone();
        let major = |v: &Option<String>| {
            v.as_ref()
                .map(|v| v.split('.').next().unwrap_or(v).to_string())
        };
        match self.id.as_str() {
            "debian" => (Ecosystem::Debian, major(&v)),
            "ubuntu" => (Ecosystem::Ubuntu, v),
            "alpine" => (
                Ecosystem::Alpine,
                v.map(|v| {
                    let mut it = v.split('.');
                    match (it.next(), it.next()) {
                        (Some(a), Some(b)) => format!("v{a}.{b}"),
                        _ => format!("v{v}"),
                    }
                }),
            ),
            "rhel" | "redhat" => (Ecosystem::RedHat, major(&v)),
            "rocky" => (Ecosystem::RockyLinux, major(&v)),
            "almalinux" => (Ecosystem::AlmaLinux, major(&v)),
            other => (Ecosystem::Other(other.to_string()), v),
        }
    }
}

/// One installed package instance.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Package {
    /// The (binary) package name as the source spells it.
    pub name: String,
    /// The installed version, as the source spells it (with epoch for dpkg/rpm when known).
    pub version: String,
    pub ecosystem: Ecosystem,
    /// Distro release (`12`, `v3.18`, `9`) for distro packages; `None` elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The package URL, when the source gives one or one can be built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// The source package (dpkg `Source:`, apk origin, rpm source RPM name), when it
    /// differs from or is known besides the binary name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    /// The source package's version when it differs from the binary version
    /// (dpkg `Source: name (version)`, binNMUs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
}

impl Package {
    pub fn new(ecosystem: Ecosystem, name: impl Into<String>, version: impl Into<String>) -> Self {
        Package {
            name: name.into(),
            version: version.into(),
            ecosystem,
            release: None,
            purl: None,
            source_name: None,
            source_version: None,
        }
    }
}

/// An ecosystem and release as people say them: `Debian 12`, `Alpine 3.18` (for
/// `Alpine:v3.18`), `Ubuntu 20.04`, `crates.io`.
pub fn display_name(ecosystem: &str, release: Option<&str>) -> String {
    match release {
        Some(r) => format!(
            "{ecosystem} {}",
            r.strip_prefix('v')
                .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))
                .unwrap_or(r)
        ),
        None => ecosystem.to_string(),
    }
}

/// How far the advisory database covers an ecosystem (or one release of a distro) that a
/// scan met: the difference between "no findings" and "nothing was checked".
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum CoverageState {
    /// A whole feed for it was synced or imported (an OSV `all.zip`, a distro tracker).
    Covered,
    /// Only individual advisories were imported: others may exist that the database lacks.
    Partial,
    /// Advisories are there, but from a database written before imports recorded what they
    /// covered: import or sync again to know.
    Unknown,
    /// No advisory at all: a scan of it finds nothing whatever is installed.
    NotChecked,
}

impl CoverageState {
    /// `covered`, `partial`, `unknown`, `not checked`.
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageState::Covered => "covered",
            CoverageState::Partial => "partial",
            CoverageState::Unknown => "unknown",
            CoverageState::NotChecked => "not checked",
        }
    }
}

/// The packages found in one source: a host's package database, an SBOM or a lockfile.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Inventory {
    /// Where it came from: a file path, or `host:<hostname>`.
    pub source: String,
    /// What format it was read as (`dpkg-status`, `cyclonedx-json`, `Cargo.lock`, ...).
    pub format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distro: Option<Distro>,
    pub packages: Vec<Package>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_normalization() {
        let e = Ecosystem::PyPI;
        assert_eq!(e.normalize_name("Friendly-Bard"), "friendly-bard");
        assert_eq!(e.normalize_name("FRIENDLY-BARD"), "friendly-bard");
        assert_eq!(e.normalize_name("friendly.bard"), "friendly-bard");
        assert_eq!(e.normalize_name("friendly_bard"), "friendly-bard");
        assert_eq!(e.normalize_name("friendly--bard"), "friendly-bard");
        assert_eq!(e.normalize_name("FrIeNdLy-._.-bArD"), "friendly-bard");
    }

    #[test]
    fn osv_ecosystem_suffix() {
        assert_eq!(
            Ecosystem::parse_osv("Debian:12"),
            (Ecosystem::Debian, Some("12".into()))
        );
        assert_eq!(
            Ecosystem::parse_osv("Alpine:v3.18"),
            (Ecosystem::Alpine, Some("v3.18".into()))
        );
        assert_eq!(
            Ecosystem::parse_osv("crates.io"),
            (Ecosystem::CratesIo, None)
        );
        assert_eq!(
            Ecosystem::parse_osv("Red Hat").0.scheme(),
            Some(Scheme::Rpm)
        );
    }

    #[test]
    fn purl_vendor_picks_the_distro_and_unknown_vendors_match_nothing() {
        let eco = |s: &str| Ecosystem::from_purl(&Purl::parse(s).unwrap());
        assert_eq!(eco("pkg:deb/debian/curl@7.88.1-10"), Ecosystem::Debian);
        assert_eq!(eco("pkg:deb/ubuntu/curl@7.81.0-1"), Ecosystem::Ubuntu);
        assert_eq!(eco("pkg:apk/alpine/zlib@1.3-r0"), Ecosystem::Alpine);
        assert_eq!(eco("pkg:rpm/redhat/openssl@3.0.7-1.el9"), Ecosystem::RedHat);
        assert_eq!(
            eco("pkg:rpm/rocky/openssl@3.0.7-1.el9"),
            Ecosystem::RockyLinux
        );
        assert_eq!(
            eco("pkg:rpm/fedora/openssl@3.0.9-1.fc38"),
            Ecosystem::Other("rpm:fedora".into())
        );
        assert_eq!(
            eco("pkg:apk/wolfi/zlib@1.3-r0"),
            Ecosystem::Other("apk:wolfi".into())
        );
        assert_eq!(eco("pkg:cargo/serde@1.0.0"), Ecosystem::CratesIo);
        assert!(eco("pkg:rpm/fedora/openssl@3").scheme().is_none());
    }

    #[test]
    fn release_keys() {
        let cases: &[(Ecosystem, &str, &str)] = &[
            (Ecosystem::Ubuntu, "22.04:LTS", "22.04"),
            (Ecosystem::Ubuntu, "22.04", "22.04"),
            (Ecosystem::Ubuntu, "24.10", "24.10"),
            (Ecosystem::Ubuntu, "Pro:18.04:LTS", "18.04"),
            (Ecosystem::Ubuntu, "Pro:FIPS:22.04:LTS", "Pro:FIPS:22.04"),
            (
                Ecosystem::Ubuntu,
                "Pro:FIPS-updates:20.04:LTS",
                "Pro:FIPS-updates:20.04",
            ),
            (Ecosystem::RedHat, "enterprise_linux:8::appstream", "8"),
            (Ecosystem::RedHat, "enterprise_linux:8", "8"),
            (Ecosystem::RedHat, "enterprise_linux:9::baseos", "9"),
            (Ecosystem::RedHat, "8", "8"),
            (Ecosystem::RedHat, "rhel_eus:8.6::appstream", "rhel_eus:8.6"),
            (Ecosystem::RedHat, "rhel_aus:8.2", "rhel_aus:8.2"),
            (
                Ecosystem::RedHat,
                "network_satellite:5.8::el6",
                "network_satellite:5.8",
            ),
            (Ecosystem::Debian, "12", "12"),
            (Ecosystem::Alpine, "v3.18", "v3.18"),
            (Ecosystem::AlmaLinux, "8", "8"),
        ];
        for (eco, release, want) in cases {
            assert_eq!(eco.release_key(release), *want, "{eco} {release}");
        }
        // What an inventory carries is already a key.
        for (id, version) in [("ubuntu", "22.04"), ("rhel", "8.8"), ("rhel", "9")] {
            let d = Distro {
                id: id.into(),
                version_id: Some(version.into()),
                codename: None,
                pretty_name: None,
            };
            let (eco, release) = d.ecosystem();
            let release = release.unwrap();
            assert_eq!(eco.release_key(&release), release.as_str());
        }
    }

    #[test]
    fn distro_release() {
        let d = Distro {
            id: "alpine".into(),
            version_id: Some("3.18.4".into()),
            codename: None,
            pretty_name: None,
        };
        assert_eq!(d.ecosystem(), (Ecosystem::Alpine, Some("v3.18".into())));
    }
}
