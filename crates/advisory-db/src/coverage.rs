//! What each import covered, and so what the database covers for the ecosystems a scan
//! meets.
//!
//! "No findings" means "clean" only when advisories for what was scanned were there to
//! match: a database holding the crates.io, Go and PyPI feeds finds nothing on a Debian
//! host whatever is installed. So every source records, as ecosystem keys, what it
//! vouches for ([`SourceCoverage`]):
//! - a **whole feed** (an OSV `all.zip`, a distro tracker file or sync): every advisory
//!   its publisher has for those ecosystems or releases. An `all.zip` covers its
//!   ecosystem with every release (`Debian` covers Debian 12 and 13); a tracker covers the
//!   releases it names (`Debian:12`, `Alpine:v3.18`), since a tracker that names no entry
//!   for a release has not looked at it (an old tracker dump, another Alpine branch);
//! - **individual records** (a folder or file of OSV records, Red Hat per-CVE documents):
//!   they are there, but nothing says what else their ecosystem has.
//!
//! [`Database::coverage`](crate::Database::coverage) combines them for one ecosystem and
//! release: covered by a whole feed, partial (only records: how many), unknown (a source
//! from a database written before sources recorded this), or not checked (no advisory).
//!
//! Keys are OSV ecosystem names with the release as the matcher compares it
//! ([`Ecosystem::release_key`]: `Ubuntu:20.04:LTS` is kept as `Ubuntu:20.04`).

use std::collections::BTreeSet;

use patchpilot_osv::Advisory;
use patchpilot_types::{CoverageState, Ecosystem};
use serde::{Deserialize, Serialize};

/// What one source vouches for, as ecosystem keys (`crates.io`, `Debian`, `Debian:12`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCoverage {
    /// Covered by a whole feed: every advisory its publisher has for these.
    pub feed: Vec<String>,
    /// Present only as individual records.
    pub records: Vec<String>,
}

impl SourceCoverage {
    /// Individual records: what they name, no more.
    pub fn records_of(advisories: &[Advisory]) -> SourceCoverage {
        SourceCoverage {
            feed: Vec::new(),
            records: keys(advisories),
        }
    }

    /// A whole feed (a distro tracker): every release its advisories name.
    pub fn feed_of(advisories: &[Advisory]) -> SourceCoverage {
        SourceCoverage {
            feed: keys(advisories),
            records: Vec::new(),
        }
    }

    /// An OSV `all.zip` in a folder named `folder` (`PyPI/all.zip`, as the osv.dev bucket
    /// and `feeds sync` lay them out): the whole feed of that ecosystem, every release,
    /// when its records are of it. Without such a folder: the whole feed of every
    /// ecosystem its records name (an archive is a feed, not a pick of records).
    pub(crate) fn archive(folder: Option<&str>, advisories: &[Advisory]) -> SourceCoverage {
        let bases: BTreeSet<String> = advisories
            .iter()
            .flat_map(|a| a.affected.iter().map(|x| x.ecosystem.as_str().to_string()))
            .collect();
        let named = folder
            .map(|f| f.parse::<Ecosystem>().expect("infallible"))
            .filter(|e| bases.contains(e.as_str()))
            .map(|e| e.as_str().to_string());
        SourceCoverage {
            feed: match named {
                Some(e) => vec![e],
                None => bases.into_iter().collect(),
            },
            records: Vec::new(),
        }
    }

    /// Cover what `other` covers as well.
    pub fn add(&mut self, other: SourceCoverage) {
        for (mine, theirs) in [
            (&mut self.feed, other.feed),
            (&mut self.records, other.records),
        ] {
            mine.extend(theirs);
            mine.sort();
            mine.dedup();
        }
    }

    fn covers_by(list: &[String], ecosystem: &Ecosystem, release: Option<&str>) -> bool {
        list.iter().any(|k| key_covers(k, ecosystem, release))
    }
}

impl crate::SourceInfo {
    /// What the source covers, in words, for `feeds status`: `whole feed: Debian 8, 9,
    /// 12`, `individual records, not a whole feed: Ubuntu 20.04`.
    pub fn describe_coverage(&self) -> String {
        match &self.coverage {
            None => "unknown (imported by an older version: import or sync it again)".into(),
            Some(c) if !c.feed.is_empty() && c.records.is_empty() => {
                format!("whole feed: {}", names(&c.feed))
            }
            Some(c) if c.feed.is_empty() => format!(
                "individual records, not a whole feed: {}",
                if c.records.is_empty() {
                    "none".to_string()
                } else {
                    names(&c.records)
                }
            ),
            Some(c) => format!(
                "whole feed: {}; individual records: {}",
                names(&c.feed),
                names(&c.records)
            ),
        }
    }
}

/// Keys as people say them, the releases of one ecosystem together in numeric order:
/// `Debian 8, 9, 12; crates.io`.
fn names(keys: &[String]) -> String {
    let mut by_eco: Vec<(String, Vec<String>)> = Vec::new();
    for k in keys {
        let (eco, release) = Ecosystem::parse_osv(k);
        let name = patchpilot_types::display_name(eco.as_str(), release.as_deref());
        let release = name
            .strip_prefix(eco.as_str())
            .unwrap_or_default()
            .trim_start()
            .to_string();
        let eco = eco.as_str().to_string();
        match by_eco.iter_mut().find(|(e, _)| *e == eco) {
            Some((_, rs)) => rs.push(release),
            None => by_eco.push((eco, vec![release])),
        }
    }
    let numeric = |r: &str| -> Vec<u64> {
        r.split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect()
    };
    by_eco
        .into_iter()
        .map(|(eco, mut releases)| {
            releases.sort_by(|a, b| numeric(a).cmp(&numeric(b)).then(a.cmp(b)));
            releases.retain(|r| !r.is_empty());
            if releases.is_empty() {
                eco
            } else {
                format!("{eco} {}", releases.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The key of an ecosystem and release: `crates.io`, `Debian:12`, `Ubuntu:20.04`.
pub fn key(ecosystem: &Ecosystem, release: Option<&str>) -> String {
    match release {
        Some(r) => format!("{}:{}", ecosystem.as_str(), ecosystem.release_key(r)),
        None => ecosystem.as_str().to_string(),
    }
}

/// Every (ecosystem, release) the advisories name, as keys, sorted and unique.
pub fn keys(advisories: &[Advisory]) -> Vec<String> {
    let set: BTreeSet<String> = advisories
        .iter()
        .flat_map(|a| {
            a.affected
                .iter()
                .map(|x| key(&x.ecosystem, x.release.as_deref()))
        })
        .collect();
    set.into_iter().collect()
}

/// Whether `key` covers packages of `ecosystem` at `release`: a key without a release
/// covers every release; one with a release only packages known to be of it.
fn key_covers(key: &str, ecosystem: &Ecosystem, release: Option<&str>) -> bool {
    let (e, r) = Ecosystem::parse_osv(key);
    e == *ecosystem
        && match (r, release) {
            (None, _) => true,
            (Some(r), Some(p)) => ecosystem.release_key(&r) == ecosystem.release_key(p),
            (Some(_), None) => false,
        }
}

/// What the database covers for one ecosystem (and release).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub state: CoverageState,
    /// Advisories that can apply to its packages (loaded ones: see
    /// [`Database::open_for`](crate::Database::open_for)).
    pub advisories: usize,
    /// The sources behind the state: the whole feeds when covered, the sources of the
    /// records when partial, the sources that did not record coverage when unknown.
    pub sources: Vec<String>,
}

impl crate::Database {
    /// What the database covers for packages of `ecosystem` at `release` (`None`: an
    /// ecosystem without releases, or a distro package whose release is unknown, which
    /// release-specific advisories cannot apply to, as in the matcher). Counts only the
    /// advisories loaded: open with [`Database::open_for`](crate::Database::open_for)
    /// including `ecosystem`, or [`Database::open`](crate::Database::open).
    pub fn coverage(&self, ecosystem: &Ecosystem, release: Option<&str>) -> Coverage {
        let release_key = release.map(|r| ecosystem.release_key(r));
        let advisories = self
            .advisories()
            .iter()
            .filter(|a| {
                a.affected.iter().any(|x| {
                    x.ecosystem == *ecosystem
                        && match (&x.release, &release_key) {
                            (None, _) => true,
                            (Some(r), Some(k)) => ecosystem.release_key(r) == *k,
                            (Some(_), None) => false,
                        }
                })
            })
            .count();
        let names = |pick: &dyn Fn(&crate::SourceInfo) -> bool| -> Vec<String> {
            self.sources()
                .iter()
                .filter(|s| pick(s))
                .map(|s| s.name.clone())
                .collect()
        };
        let feeds = names(&|s| {
            s.coverage
                .as_ref()
                .is_some_and(|c| SourceCoverage::covers_by(&c.feed, ecosystem, release))
        });
        if !feeds.is_empty() {
            return Coverage {
                state: CoverageState::Covered,
                advisories,
                sources: feeds,
            };
        }
        if advisories == 0 {
            return Coverage {
                state: CoverageState::NotChecked,
                advisories,
                sources: Vec::new(),
            };
        }
        let unknown = names(&|s| s.coverage.is_none());
        if !unknown.is_empty() {
            return Coverage {
                state: CoverageState::Unknown,
                advisories,
                sources: unknown,
            };
        }
        Coverage {
            state: CoverageState::Partial,
            advisories,
            sources: names(&|s| {
                s.coverage
                    .as_ref()
                    .is_some_and(|c| SourceCoverage::covers_by(&c.records, ecosystem, release))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adv(id: &str, ecosystems: &[&str]) -> Advisory {
        let affected: Vec<_> = ecosystems
            .iter()
            .map(|e| serde_json::json!({"package": {"ecosystem": e, "name": "p"}, "versions": ["1"]}))
            .collect();
        let json =
            serde_json::json!({"id": id, "modified": "2024-01-01T00:00:00Z", "affected": affected});
        patchpilot_osv::parse_json(json.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn keys_use_the_release_the_matcher_compares() {
        let a = [
            adv("A", &["Ubuntu:20.04:LTS", "Ubuntu:Pro:18.04:LTS"]),
            adv("B", &["crates.io", "Debian:12"]),
        ];
        assert_eq!(
            keys(&a),
            ["Debian:12", "Ubuntu:18.04", "Ubuntu:20.04", "crates.io"]
        );
        let (ubuntu, debian) = (Ecosystem::Ubuntu, Ecosystem::Debian);
        assert!(key_covers("Ubuntu:20.04", &ubuntu, Some("20.04")));
        assert!(!key_covers("Ubuntu:20.04", &ubuntu, Some("22.04")));
        assert!(!key_covers("Ubuntu:20.04", &ubuntu, None));
        assert!(key_covers("Debian", &debian, Some("12")));
        assert!(key_covers("Debian", &debian, None));
        assert!(!key_covers("Debian", &ubuntu, Some("12")));
    }

    #[test]
    fn names_group_releases_in_numeric_order() {
        let keys: Vec<String> = [
            "Debian:10",
            "Debian:9",
            "Alpine:v3.18",
            "crates.io",
            "Debian:12",
        ]
        .map(String::from)
        .into();
        assert_eq!(names(&keys), "Debian 9, 10, 12; Alpine 3.18; crates.io");
    }

    #[test]
    fn coverage_adds_up_without_duplicates() {
        let mut c = SourceCoverage {
            feed: vec!["Red Hat:8".into(), "Red Hat:9".into()],
            records: vec![],
        };
        c.add(SourceCoverage {
            feed: vec!["Red Hat:9".into(), "Red Hat:7".into()],
            records: vec!["Ubuntu:20.04".into()],
        });
        assert_eq!(c.feed, ["Red Hat:7", "Red Hat:8", "Red Hat:9"]);
        assert_eq!(c.records, ["Ubuntu:20.04"]);
    }

    #[test]
    fn an_archive_covers_the_ecosystem_its_folder_names() {
        // A GHSA record in npm's archive also names PyPI: the archive covers npm only.
        let a = [adv("A", &["npm", "PyPI"]), adv("B", &["npm"])];
        assert_eq!(SourceCoverage::archive(Some("npm"), &a).feed, ["npm"]);
        assert_eq!(
            SourceCoverage::archive(Some("downloads"), &a).feed,
            ["PyPI", "npm"]
        );
        assert_eq!(SourceCoverage::archive(None, &a).feed, ["PyPI", "npm"]);
        let d = [adv("D", &["Debian:11", "Debian:12"])];
        assert_eq!(SourceCoverage::archive(Some("Debian"), &d).feed, ["Debian"]);
    }
}
