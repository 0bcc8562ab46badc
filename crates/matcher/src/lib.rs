//! Matching: which installed packages are affected by which advisories, and which
//! versions fix them.
//!
//! An [`Index`] is built once from the advisory database: each `affected[]` entry is
//! compiled into half-open intervals of *parsed* versions under its ecosystem's scheme, and
//! filed under `(ecosystem, normalized name)`. A look-up is then one hash probe plus, only
//! for packages that have advisories, one version parse and a few comparisons. That keeps
//! scanning cost proportional to the packages that matter, which is what makes a
//! 15-million-instance fleet scan take seconds.
//!
//! Semantics follow the OSV specification:
//! - `ECOSYSTEM` ranges compare with the ecosystem's own scheme, `SEMVER` ranges with
//!   SemVer 2.0; `GIT` ranges name commits and cannot be evaluated against a version, so
//!   only the record's explicit `versions` list counts for them.
//! - Events are sorted by version; `introduced` opens an interval (`0` = from the start),
//!   `fixed` closes it exclusively, `last_affected` inclusively, `limit` is an upper bound.
//! - Withdrawn advisories are never indexed.
//! - Distro advisories apply only to the matching release (`Debian:12` ≠ Debian 11), and
//!   Debian, Ubuntu and Alpine advisories name *source* packages, so those packages match
//!   on their source name and version (binNMU-safe); Red Hat family advisories name binary
//!   RPMs (OSV) or source RPMs (Red Hat security data), so an RPM matches under both.
//!   Releases compare by [`Ecosystem::release_key`] (`Ubuntu:22.04:LTS` applies to an
//!   Ubuntu 22.04 host, `Red Hat:enterprise_linux:8::appstream` to RHEL 8).
//!
//! Nothing is silently dropped: an event version the scheme cannot parse disables that
//! range and is counted in [`Index::warnings`], and an installed version that cannot be
//! parsed is reported by [`Index::matches`] as an error for the caller to surface.

use std::cmp::Ordering;

use ahash::AHashMap;
use patchpilot_osv::{Advisory, Affected, Event, RangeType};
use patchpilot_types::{Ecosystem, Package};
use patchpilot_version::{Scheme, Version, VersionError};

/// One match: this advisory affects the package; upgrading to any of `fixed_versions`
/// (ascending; the first is the smallest fix) resolves it. Empty when no fix exists.
#[derive(Debug, Clone, PartialEq)]
pub struct Match<'i> {
    pub advisory: &'i Advisory,
    pub fixed_versions: Vec<&'i str>,
}

/// A problem found while building the index: a range that could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexWarning {
    pub advisory: String,
    pub package: String,
    pub reason: String,
}

/// Why a package could not be matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchError {
    /// The installed version does not parse under the ecosystem's scheme.
    Version(VersionError),
}

impl std::fmt::Display for MatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MatchError::Version(e) => e.fmt(f),
        }
    }
}

/// Lower bound of an interval: `None` = from the very first version.
#[derive(Debug, Clone)]
struct Interval {
    lo: Option<Version>,
    hi: Upper,
    /// The range's `limit` (exclusive upper bound over the whole range), if any.
    limit: Option<Version>,
}

#[derive(Debug, Clone)]
enum Upper {
    /// `fixed`: exclusive.
    Fixed(Version),
    /// `last_affected`: inclusive.
    LastAffected(Version),
    Unbounded,
}

impl Interval {
    fn contains(&self, v: &Version) -> bool {
        if let Some(lo) = &self.lo {
            if v.partial_cmp(lo) == Some(Ordering::Less) {
                return false;
            }
        }
        if let Some(l) = &self.limit {
            if v.partial_cmp(l) != Some(Ordering::Less) {
                return false;
            }
        }
        match &self.hi {
            Upper::Fixed(h) => v.partial_cmp(h) == Some(Ordering::Less),
            Upper::LastAffected(h) => {
                matches!(v.partial_cmp(h), Some(Ordering::Less | Ordering::Equal))
            }
            Upper::Unbounded => true,
        }
    }
}

/// One compiled `affected[]` entry.
#[derive(Debug)]
struct Entry {
    advisory: u32,
    release: Option<Box<str>>,
    /// Intervals over all ranges; a version is affected when any interval contains it.
    intervals: Vec<Interval>,
    /// Explicitly listed affected versions, parsed and sorted for binary search.
    versions: Vec<Version>,
    /// Every `fixed` event of the entry, ascending, without duplicates, each marked with
    /// whether the entry itself still lists it as affected (then it is no fix).
    fixed: Vec<Fix>,
    /// The scheme used for the package's own version.
    scheme: Scheme,
}

#[derive(Debug)]
struct Fix {
    raw: Box<str>,
    version: Version,
    affected_here: bool,
}

/// An index of advisories by `(ecosystem, normalized package name)`.
pub struct Index<'a> {
    advisories: &'a [Advisory],
    by_name: AHashMap<Ecosystem, AHashMap<Box<str>, Vec<Entry>>>,
    warnings: Vec<IndexWarning>,
    entries: usize,
}

impl<'a> Index<'a> {
    /// Compile every non-withdrawn advisory.
    pub fn build(advisories: &'a [Advisory]) -> Index<'a> {
        let mut index = Index {
            advisories,
            by_name: AHashMap::new(),
            warnings: Vec::new(),
            entries: 0,
        };
        for (i, adv) in advisories.iter().enumerate() {
            if adv.withdrawn.is_some() {
                continue;
            }
            for aff in &adv.affected {
                index.add(i as u32, adv, aff);
            }
        }
        index
    }

    fn add(&mut self, advisory: u32, adv: &Advisory, aff: &Affected) {
        let Some(scheme) = aff.ecosystem.scheme() else {
            // An ecosystem we cannot order (e.g. purl:generic); nothing can be matched.
            return;
        };
        let warn = |reason: String| IndexWarning {
            advisory: adv.id.clone(),
            package: format!("{}/{}", aff.ecosystem, aff.name),
            reason,
        };
        let mut entry = Entry {
            advisory,
            release: aff
                .release
                .as_deref()
                .map(|r| aff.ecosystem.release_key(r).into()),
            intervals: Vec::new(),
            versions: Vec::new(),
            fixed: Vec::new(),
            scheme,
        };
        let mut fixed: Vec<(Box<str>, Version)> = Vec::new();
        for range in &aff.ranges {
            let range_scheme = match range.ty {
                RangeType::Ecosystem => scheme,
                RangeType::Semver => Scheme::Semver,
                RangeType::Git => continue,
            };
            if range_scheme != scheme {
                // A SEMVER range on a non-SemVer ecosystem: the installed version is parsed
                // with the ecosystem scheme, so the two cannot be compared. Say so.
                self.warnings.push(warn(format!(
                    "SEMVER range on {} (scheme {scheme}) not evaluated",
                    aff.ecosystem
                )));
                continue;
            }
            match compile_range(range_scheme, &range.events, &mut fixed) {
                Ok(iv) => entry.intervals.extend(iv),
                Err(e) => self.warnings.push(warn(format!("range skipped: {e}"))),
            }
        }
        for v in &aff.versions {
            match scheme.parse(v) {
                Ok(p) => entry.versions.push(p),
                Err(e) => self
                    .warnings
                    .push(warn(format!("listed version skipped: {e}"))),
            }
        }
        if entry.intervals.is_empty() && entry.versions.is_empty() {
            return;
        }
        entry.versions.sort_by(cmp);
        entry.versions.dedup_by(|a, b| cmp(a, b) == Ordering::Equal);
        fixed.sort_by(|a, b| cmp(&a.1, &b.1));
        fixed.dedup_by(|a, b| cmp(&a.1, &b.1) == Ordering::Equal);
        entry.fixed = fixed
            .into_iter()
            .map(|(raw, version)| Fix {
                affected_here: entry.affects(&version),
                raw,
                version,
            })
            .collect();
        let name: Box<str> = aff.ecosystem.normalize_name(&aff.name).into();
        self.by_name
            .entry(aff.ecosystem.clone())
            .or_default()
            .entry(name)
            .or_default()
            .push(entry);
        self.entries += 1;
    }

    /// Ranges or listed versions that could not be compiled.
    pub fn warnings(&self) -> &[IndexWarning] {
        &self.warnings
    }

    /// Number of compiled `affected[]` entries.
    pub fn len(&self) -> usize {
        self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// The advisories this index was built from.
    pub fn advisories(&self) -> &'a [Advisory] {
        self.advisories
    }

    /// All advisories affecting `pkg`, one [`Match`] per advisory, in database order.
    pub fn matches(&self, pkg: &Package) -> Result<Vec<Match<'_>>, MatchError> {
        // Debian, Ubuntu and Alpine advisories name source packages; match on the source
        // name and version when the inventory knows them.
        let by_source = matches!(
            pkg.ecosystem,
            Ecosystem::Debian | Ecosystem::Ubuntu | Ecosystem::Alpine
        );
        let (name, version) = if by_source {
            (
                pkg.source_name.as_deref().unwrap_or(&pkg.name),
                pkg.source_version.as_deref().unwrap_or(&pkg.version),
            )
        } else {
            (pkg.name.as_str(), pkg.version.as_str())
        };
        let mut out = self.matches_raw(&pkg.ecosystem, pkg.release.as_deref(), name, version)?;
        // Red Hat family advisories name binary RPMs (OSV) or source RPMs (Red Hat's
        // security data): a binary also matches under its source RPM's name, with its own
        // version (every binary of a build carries the source RPM's EVR).
        let red_hat = pkg.ecosystem.also_matched_by_source();
        if let Some(src) = pkg.source_name.as_deref().filter(|s| red_hat && *s != name) {
            for m in self.matches_raw(&pkg.ecosystem, pkg.release.as_deref(), src, version)? {
                if !out.iter().any(|o| std::ptr::eq(o.advisory, m.advisory)) {
                    out.push(m);
                }
            }
        }
        Ok(out)
    }

    /// The core look-up on borrowed parts (no allocation unless something matches).
    pub fn matches_raw<'s>(
        &'s self,
        ecosystem: &Ecosystem,
        release: Option<&str>,
        name: &str,
        version: &str,
    ) -> Result<Vec<Match<'s>>, MatchError> {
        let Some(entries) = self
            .by_name
            .get(ecosystem)
            .and_then(|m| m.get(ecosystem.normalize_name(name).as_ref()))
        else {
            return Ok(Vec::new());
        };
        let release = release.map(|r| ecosystem.release_key(r));
        let applies = |e: &Entry| e.release.is_none() || e.release.as_deref() == release.as_deref();
        let Some(first) = entries.iter().find(|e| applies(e)) else {
            return Ok(Vec::new());
        };
        let installed = first.scheme.parse(version).map_err(MatchError::Version)?;
        let mut out: Vec<Match<'s>> = Vec::new();
        for e in entries {
            if !applies(e) || !e.affects(&installed) {
                continue;
            }
            let adv = &self.advisories[e.advisory as usize];
            if out.iter().any(|m| std::ptr::eq(m.advisory, adv)) {
                continue; // already handled with all its entries below
            }
            // Entries of the same advisory for this package (usually just this one).
            let same = || {
                entries
                    .iter()
                    .filter(|o| o.advisory == e.advisory && applies(o))
            };
            let mut fixes: Vec<&'s Fix> = same()
                .flat_map(|o| o.fixed.iter())
                .filter(|f| !f.affected_here && cmp(&f.version, &installed) == Ordering::Greater)
                .collect();
            if same().nth(1).is_some() {
                // A fix offered by one entry may be affected under another: keep only
                // versions that no entry of this advisory marks affected.
                fixes.retain(|f| !same().any(|o| o.affects(&f.version)));
                fixes.sort_by(|a, b| cmp(&a.version, &b.version));
                fixes.dedup_by(|a, b| cmp(&a.version, &b.version) == Ordering::Equal);
            }
            out.push(Match {
                advisory: adv,
                fixed_versions: fixes.iter().map(|f| &*f.raw).collect(),
            });
        }
        Ok(out)
    }
}

/// Order two versions of one scheme (always comparable; `Equal` is only a fallback).
fn cmp(a: &Version, b: &Version) -> Ordering {
    a.partial_cmp(b).unwrap_or(Ordering::Equal)
}

impl Entry {
    fn affects(&self, v: &Version) -> bool {
        self.intervals.iter().any(|iv| iv.contains(v))
            || self.versions.binary_search_by(|x| cmp(x, v)).is_ok()
    }
}

/// Compile one range's events into intervals (OSV evaluation, done once).
fn compile_range(
    scheme: Scheme,
    events: &[Event],
    fixed_out: &mut Vec<(Box<str>, Version)>,
) -> Result<Vec<Interval>, VersionError> {
    // (version or None for "0", order tag, event)
    let mut parsed: Vec<(Option<Version>, &Event)> = Vec::with_capacity(events.len());
    for ev in events {
        let raw = match ev {
            Event::Introduced(s) | Event::Fixed(s) | Event::LastAffected(s) | Event::Limit(s) => s,
        };
        let v = if matches!(ev, Event::Introduced(_)) && raw == "0" {
            None
        } else {
            Some(scheme.parse(raw)?)
        };
        parsed.push((v, ev));
    }
    parsed.sort_by(|a, b| match (&a.0, &b.0) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
    });
    let limit = parsed
        .iter()
        .filter(|(_, ev)| matches!(ev, Event::Limit(_)))
        .filter_map(|(v, _)| v.clone())
        .min_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    let mut out = Vec::new();
    let mut open: Option<Option<Version>> = None;
    for (v, ev) in parsed {
        match ev {
            Event::Introduced(_) => {
                if open.is_none() {
                    open = Some(v);
                }
            }
            Event::Fixed(raw) => {
                let Some(v) = v else { continue };
                fixed_out.push((raw.as_str().into(), v.clone()));
                if let Some(lo) = open.take() {
                    out.push(Interval {
                        lo,
                        hi: Upper::Fixed(v),
                        limit: limit.clone(),
                    });
                }
            }
            Event::LastAffected(_) => {
                let Some(v) = v else { continue };
                if let Some(lo) = open.take() {
                    out.push(Interval {
                        lo,
                        hi: Upper::LastAffected(v),
                        limit: limit.clone(),
                    });
                }
            }
            Event::Limit(_) => {}
        }
    }
    if let Some(lo) = open {
        out.push(Interval {
            lo,
            hi: Upper::Unbounded,
            limit,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adv(json: &str) -> Advisory {
        patchpilot_osv::parse_json(json.as_bytes()).expect("test advisory parses")
    }

    fn record(id: &str, affected: &str) -> String {
        format!(r#"{{"id":"{id}","modified":"2024-01-01T00:00:00Z","affected":[{affected}]}}"#)
    }

    fn pkg(eco: Ecosystem, name: &str, version: &str) -> Package {
        Package::new(eco, name, version)
    }

    fn ids(idx: &Index<'_>, p: &Package) -> Vec<(String, Vec<String>)> {
        idx.matches(p)
            .unwrap()
            .into_iter()
            .map(|m| {
                (
                    m.advisory.id.clone(),
                    m.fixed_versions.iter().map(|s| s.to_string()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn introduced_fixed_and_last_affected() {
        let advs = vec![
            adv(&record(
                "A-1",
                r#"{"package":{"ecosystem":"crates.io","name":"foo"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.3"},{"introduced":"2.0.0"},{"fixed":"2.0.5"}]}]}"#,
            )),
            adv(&record(
                "A-2",
                r#"{"package":{"ecosystem":"crates.io","name":"foo"},"ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"last_affected":"1.5.0"}]}]}"#,
            )),
        ];
        let idx = Index::build(&advs);
        let f = |v| ids(&idx, &pkg(Ecosystem::CratesIo, "foo", v));
        assert_eq!(
            f("0.1.0"),
            vec![("A-1".into(), vec!["1.2.3".into(), "2.0.5".into()])]
        );
        assert_eq!(f("1.2.3"), vec![("A-2".into(), vec![])]);
        assert_eq!(f("1.5.0"), vec![("A-2".into(), vec![])]);
        assert_eq!(f("1.5.1"), vec![]);
        assert_eq!(f("2.0.4"), vec![("A-1".into(), vec!["2.0.5".into()])]);
        assert_eq!(f("2.0.5"), vec![]);
        // Pre-releases of a fix are still affected.
        assert_eq!(f("1.2.3-rc.1").len(), 2);
    }

    #[test]
    fn withdrawn_advisories_are_never_reported() {
        let advs = vec![adv(
            r#"{"id":"W-1","modified":"2024-01-01T00:00:00Z","withdrawn":"2024-02-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"Foo_Bar"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}"#,
        )];
        let idx = Index::build(&advs);
        assert!(ids(&idx, &pkg(Ecosystem::PyPI, "foo-bar", "1.0")).is_empty());
    }

    #[test]
    fn pypi_names_normalize_and_versions_list_uses_pep440_equality() {
        let advs = vec![adv(&record(
            "P-1",
            r#"{"package":{"ecosystem":"PyPI","name":"Foo_Bar"},"versions":["1.0","1.1"]}"#,
        ))];
        let idx = Index::build(&advs);
        assert_eq!(
            ids(&idx, &pkg(Ecosystem::PyPI, "foo.bar", "1.0.0")).len(),
            1
        );
        assert_eq!(ids(&idx, &pkg(Ecosystem::PyPI, "FOO-BAR", "1.1")).len(), 1);
        assert!(ids(&idx, &pkg(Ecosystem::PyPI, "foo-bar", "1.2")).is_empty());
    }

    #[test]
    fn debian_matches_source_package_and_release_only() {
        let advs = vec![adv(&record(
            "DSA-1",
            r#"{"package":{"ecosystem":"Debian:12","name":"openssl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.11-1~deb12u2"}]}]}"#,
        ))];
        let idx = Index::build(&advs);
        let mut libssl = pkg(Ecosystem::Debian, "libssl3", "3.0.11-1~deb12u1");
        libssl.source_name = Some("openssl".into());
        libssl.release = Some("12".into());
        assert_eq!(
            ids(&idx, &libssl),
            vec![("DSA-1".into(), vec!["3.0.11-1~deb12u2".into()])]
        );
        // Same package on Debian 11: the Debian 12 advisory does not apply.
        libssl.release = Some("11".into());
        assert!(ids(&idx, &libssl).is_empty());
        // The backported fix itself is not affected (~ ordering).
        libssl.release = Some("12".into());
        libssl.version = "3.0.11-1~deb12u2".into();
        assert!(ids(&idx, &libssl).is_empty());
        // binNMU: the binary version differs, the source version decides.
        libssl.version = "3.0.11-1~deb12u1+b1".into();
        libssl.source_version = Some("3.0.11-1~deb12u1".into());
        assert_eq!(ids(&idx, &libssl).len(), 1);
    }

    #[test]
    fn osv_release_spellings_match_the_host_release() {
        let advs = vec![
            adv(&record(
                "U-22",
                r#"{"package":{"ecosystem":"Ubuntu:22.04:LTS","name":"curl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"7.81.0-1ubuntu1.16"}]}]}"#,
            )),
            adv(&record(
                "U-PRO-18",
                r#"{"package":{"ecosystem":"Ubuntu:Pro:18.04:LTS","name":"curl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"7.58.0-2ubuntu3.24+esm4"}]}]}"#,
            )),
            adv(&record(
                "U-FIPS-22",
                r#"{"package":{"ecosystem":"Ubuntu:Pro:FIPS:22.04:LTS","name":"curl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}"#,
            )),
            adv(&record(
                "RH-8",
                r#"{"package":{"ecosystem":"Red Hat:enterprise_linux:8::appstream","name":"curl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"7.61.1-30.el8_8.3"}]}]}"#,
            )),
            adv(&record(
                "RH-EUS",
                r#"{"package":{"ecosystem":"Red Hat:rhel_eus:8.6::appstream","name":"curl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}"#,
            )),
        ];
        let idx = Index::build(&advs);
        let on = |eco: Ecosystem, release: &str, version: &str| {
            let mut p = pkg(eco, "curl", version);
            p.release = Some(release.into());
            ids(&idx, &p).into_iter().map(|m| m.0).collect::<Vec<_>>()
        };
        assert_eq!(
            on(Ecosystem::Ubuntu, "22.04", "7.81.0-1ubuntu1.15"),
            ["U-22"]
        );
        assert!(on(Ecosystem::Ubuntu, "20.04", "7.68.0-1ubuntu2.20").is_empty());
        assert_eq!(
            on(Ecosystem::Ubuntu, "18.04", "7.58.0-2ubuntu3.24"),
            ["U-PRO-18"]
        );
        assert!(on(Ecosystem::Ubuntu, "18.04", "7.58.0-2ubuntu3.24+esm4").is_empty());
        assert_eq!(on(Ecosystem::RedHat, "8", "7.61.1-30.el8_8.2"), ["RH-8"]);
        assert!(on(Ecosystem::RedHat, "8", "7.61.1-30.el8_8.3").is_empty());
        assert!(on(Ecosystem::RedHat, "9", "7.76.1-26.el9").is_empty());
    }

    #[test]
    fn red_hat_binaries_match_their_source_rpm_too() {
        let advs = vec![
            adv(&record(
                "RHEL-SRC",
                r#"{"package":{"ecosystem":"Red Hat:enterprise_linux:9","name":"python-lxml"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"4.6.5-3.el9"}]}]}"#,
            )),
            adv(&record(
                "RHEL-BIN",
                r#"{"package":{"ecosystem":"Red Hat:enterprise_linux:9","name":"python3-lxml"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"4.6.5-3.el9"}]}]}"#,
            )),
        ];
        let idx = Index::build(&advs);
        let mut p = pkg(Ecosystem::RedHat, "python3-lxml", "4.6.5-2.el9");
        p.release = Some("9".into());
        assert_eq!(ids(&idx, &p).len(), 1, "binary name only without a source");
        p.source_name = Some("python-lxml".into());
        let got = ids(&idx, &p);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[1], ("RHEL-SRC".into(), vec!["4.6.5-3.el9".into()]));
        p.version = "4.6.5-3.el9".into();
        assert!(ids(&idx, &p).is_empty());
    }

    #[test]
    fn epochs_are_respected() {
        let advs = vec![adv(&record(
            "E-1",
            r#"{"package":{"ecosystem":"Debian:12","name":"vim"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2:9.0.1378-2"}]}]}"#,
        ))];
        let idx = Index::build(&advs);
        let mut vim = pkg(Ecosystem::Debian, "vim", "9.9.9-1");
        vim.release = Some("12".into());
        // Without the epoch, 9.9.9 < 2:9.0: still affected.
        assert_eq!(ids(&idx, &vim).len(), 1);
        vim.version = "2:9.0.1378-2".into();
        assert!(ids(&idx, &vim).is_empty());
    }

    #[test]
    fn unparsable_installed_version_is_an_error_not_a_silent_miss() {
        let advs = vec![adv(&record(
            "N-1",
            r#"{"package":{"ecosystem":"npm","name":"@Scope/Pkg"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}"#,
        ))];
        let idx = Index::build(&advs);
        assert!(idx
            .matches(&pkg(Ecosystem::Npm, "@scope/pkg", "not-a-version"))
            .is_err());
        assert_eq!(
            ids(&idx, &pkg(Ecosystem::Npm, "@scope/pkg", "0.9.0")).len(),
            1
        );
    }

    #[test]
    fn bad_event_versions_become_warnings() {
        let advs = vec![adv(&record(
            "B-1",
            r#"{"package":{"ecosystem":"crates.io","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"not.a.version"}]}]}"#,
        ))];
        let idx = Index::build(&advs);
        assert_eq!(idx.warnings().len(), 1);
        assert!(idx.is_empty());
    }

    #[test]
    fn limit_caps_the_range() {
        let advs = vec![adv(&record(
            "L-1",
            r#"{"package":{"ecosystem":"crates.io","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"limit":"2.0.0"}]}]}"#,
        ))];
        let idx = Index::build(&advs);
        assert_eq!(ids(&idx, &pkg(Ecosystem::CratesIo, "x", "1.5.0")).len(), 1);
        assert!(ids(&idx, &pkg(Ecosystem::CratesIo, "x", "2.0.0")).is_empty());
    }
}
