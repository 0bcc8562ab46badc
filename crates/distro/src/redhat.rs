//! Red Hat Security Data API, one CVE's JSON
//! (`https://access.redhat.com/hydra/rest/securitydata/cve/CVE-….json`) → advisories.
//!
//! Input: `{name: CVE-…, threat_severity, public_date, bugzilla: {description}, cvss3:
//! {cvss3_scoring_vector}, details: [...], affected_release: [{product_name, advisory,
//! cpe, package}], package_state: [{product_name, fix_state, package_name, cpe}]}`.
//! `package` is the fixed *source* RPM as NEVRA (`firefox-0:102.15.1-1.el8_8`), and so is
//! `package_name` (`firefox`); the matcher also looks binaries up under their source RPM.
//!
//! Releases come from the CPE, spelled as Red Hat's own OSV spells its ecosystems (the CPE
//! after `redhat:`): `cpe:/a:redhat:enterprise_linux:8` → `Red Hat:enterprise_linux:8`,
//! `cpe:/a:redhat:rhel_eus:8.6` → `Red Hat:rhel_eus:8.6`. What a release *matches* is
//! [`patchpilot_types::Ecosystem::release_key`]: mainline `enterprise_linux:N[::repo]` is
//! release `N`, which is what a RHEL N.x host's os-release gives (`rhel` `8.8` → `8`);
//! every other stream (EUS, AUS, TUS, E4S, ELS, layered products such as Satellite) keeps
//! its own key (`rhel_eus:8.6`) and never matches a mainline host. Their fixes are
//! different builds (`1.7.0-10.el8_6` on 8.6 EUS while mainline is at `el8_8`); mixing them
//! in would call a mainline host fixed by a lower EUS build, or an EUS host vulnerable
//! until the mainline fix. An EUS host cannot be told from os-release, so EUS streams are
//! kept but only matched by inventories that carry their key.
//!
//! Rules, per (package, release key):
//! - `affected_release` with a source RPM NEVRA: range `introduced 0, fixed V-R` (epoch
//!   `E:` kept when not 0; rpm compares a missing epoch as 0). Several fixes for one key:
//!   the lowest one (the first build with the patch; later builds of the stream have it).
//! - `package_state` `Affected`, `Will not fix`, `Fix deferred`, `Out of support scope`:
//!   range `introduced 0` with no fix (affected, no fixed version), unless the same key
//!   has a fix (a fix is a concrete shipped build; it wins).
//! - `Not affected`: no entry. `Under investigation`, `New` and other states: skipped,
//!   so a scan does not report unknowns (as with Debian's `undetermined`).
//! - Skipped as not installable RPMs: module streams (`nodejs:18-8080…`,
//!   `python38:3.8/python-lxml`), Flatpaks (`firefox:flatpak/firefox`), container images,
//!   and entries without a package or a `cpe:/a|o:redhat:…` CPE.
//!
//! A CVE whose numbering authority rejected it (a `details` paragraph starting `This CVE ID
//! has been rejected` or `** REJECT **`, typically a duplicate) still carries Red Hat's
//! package data; it is converted as *withdrawn* (dated [`crate::UNKNOWN_MODIFIED`], Red
//! Hat gives no date), so the matcher never reports it twice beside the CVE it duplicates.
//!
//! Severity: `threat_severity` (Low, Moderate, Important, Critical) is the advisory's
//! level (`database_specific.severity`), Red Hat's rating of its own builds. The CVSS 3
//! vector is kept as a `CVSS_V3` severity entry with its base score but without a level
//! of its own, so the level stays Red Hat's (a vector alone, without `threat_severity`,
//! keeps its CVSS level).
//!
//! Everything after parsing is shared with the CSAF VEX converter (`csaf.rs`): both read
//! their document into [`CveFacts`] and build the advisory with [`advisory`], so the rules
//! above hold for either feed and the same CVE gives the same advisory.
//!
//! The Security Data API's CVE *list* (`/cve.json` pages, entries with `CVE`,
//! `affected_packages` and `resource_url`) names packages without products, so neither
//! the release nor the stream can be known: it is refused with an error pointing at the
//! per-CVE JSON.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use patchpilot_osv::{Advisory, Affected, Ecosystem, Event, Range, RangeType, Severity};
use patchpilot_version::Scheme;
use serde::Deserialize;

use crate::{invalid, looks_like_id, syntax, tracker_advisory, DistroError, Format};

#[derive(Deserialize)]
struct RawCve {
    name: String,
    #[serde(default)]
    threat_severity: Option<String>,
    #[serde(default)]
    public_date: Option<String>,
    #[serde(default)]
    bugzilla: Option<RawBugzilla>,
    #[serde(default)]
    cvss3: Option<RawCvss3>,
    #[serde(default)]
    cwe: Option<String>,
    #[serde(default)]
    details: Option<Vec<String>>,
    #[serde(default)]
    affected_release: Option<Vec<RawRelease>>,
    #[serde(default)]
    package_state: Option<Vec<RawState>>,
}

#[derive(Deserialize)]
struct RawBugzilla {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct RawCvss3 {
    #[serde(default)]
    cvss3_scoring_vector: Option<String>,
}

#[derive(Deserialize)]
struct RawRelease {
    #[serde(default)]
    product_name: Option<String>,
    #[serde(default)]
    advisory: Option<String>,
    #[serde(default)]
    cpe: Option<String>,
    #[serde(default)]
    package: Option<String>,
}

#[derive(Deserialize)]
struct RawState {
    #[serde(default)]
    product_name: Option<String>,
    fix_state: String,
    package_name: String,
    #[serde(default)]
    cpe: Option<String>,
}

/// The release of a Red Hat CPE as OSV spells it: `cpe:/a:redhat:enterprise_linux:8::appstream`
/// → `enterprise_linux:8::appstream`. `None` for anything that is not a Red Hat product
/// CPE with a version.
pub(crate) fn cpe_release(cpe: &str) -> Option<&str> {
    let rest = cpe
        .trim()
        .strip_prefix("cpe:/a:redhat:")
        .or_else(|| cpe.trim().strip_prefix("cpe:/o:redhat:"))?;
    let (product, version) = rest.split_once(':')?;
    let version = version.split(':').next().unwrap_or("");
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    };
    (ok(product) && ok(version)).then_some(rest)
}

/// A source RPM NEVRA (`firefox-0:102.15.1-1.el8_8`) as (name, version to match): the
/// version is `V-R`, with `E:` in front when the epoch is not 0. `None` for module
/// streams, Flatpaks and anything else that is not an RPM NEVRA.
pub(crate) fn nevra(s: &str) -> Option<(&str, String)> {
    let s = s.trim();
    let (nev, release) = s.rsplit_once('-')?;
    let (name, ev) = nev.rsplit_once('-')?;
    let (epoch, version) = match ev.split_once(':') {
        Some((e, v)) => (Some(e), v),
        None => (None, ev),
    };
    if !rpm_name(name)
        || version.is_empty()
        || release.is_empty()
        || epoch.is_some_and(|e| e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let vr = match epoch.map(|e| e.trim_start_matches('0')) {
        Some(e) if !e.is_empty() => format!("{e}:{version}-{release}"),
        _ => format!("{version}-{release}"),
    };
    Scheme::Rpm.parse(&vr).ok()?;
    Some((name, vr))
}

/// An RPM package name: no white space, no `:` or `/` (module streams, Flatpaks, images).
pub(crate) fn rpm_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, ':' | '/'))
}

/// What a `package_state.fix_state` means: `Some(true)` affected (no fix), `Some(false)`
/// not affected, `None` unknown (skipped).
fn state_affected(fix_state: &str) -> Option<bool> {
    match fix_state.trim().to_ascii_lowercase().as_str() {
        "affected" | "will not fix" | "fix deferred" | "out of support scope" => Some(true),
        "not affected" => Some(false),
        _ => None,
    }
}

/// Red Hat's impact rating as the word `database_specific.severity` is read with.
pub(crate) fn threat_word(s: &str) -> Option<&'static str> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "low" => "LOW",
        "moderate" => "MODERATE",
        "important" => "IMPORTANT",
        "critical" => "CRITICAL",
        _ => return None,
    })
}

/// One CVE as Red Hat states it, whichever feed it came from. The Security Data converter
/// (here) and the CSAF VEX converter (`csaf.rs`) each reduce their document to these facts
/// and build the advisory with [`advisory`], so the same facts give the same advisory from
/// either feed.
#[derive(Debug)]
pub(crate) struct CveFacts {
    /// The vulnerability id, already checked with [`looks_like_id`].
    pub(crate) id: String,
    /// Red Hat's impact rating (`Low` … `Critical`), any case.
    pub(crate) threat_severity: Option<String>,
    pub(crate) public_date: Option<String>,
    /// One line naming the flaw (`libwebp: heap buffer overflow …`).
    pub(crate) title: Option<String>,
    /// Description paragraphs.
    pub(crate) details: Vec<String>,
    pub(crate) cwe: Option<String>,
    pub(crate) cvss3_vector: Option<String>,
    /// Shipped fixes, in document order.
    pub(crate) fixes: Vec<FixFact>,
    /// Unfixed states that mean affected (see [`state_affected`]), in document order.
    pub(crate) states: Vec<StateFact>,
    /// Advisory names as the feed gives them (`RHSA-2023:5184`); others are dropped.
    pub(crate) errata: Vec<String>,
    pub(crate) bugzilla_url: Option<String>,
    /// The numbering authority rejected the id (see [`is_rejection`]).
    pub(crate) rejected: bool,
}

/// A fixed source RPM build in one stream.
#[derive(Debug)]
pub(crate) struct FixFact {
    /// The stream as [`cpe_release`] spells it.
    pub(crate) release: String,
    /// Source RPM name and version to match, as [`nevra`] gives them.
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) advisory: Option<String>,
    pub(crate) product: Option<String>,
}

/// An affected, unfixed package in one stream.
#[derive(Debug)]
pub(crate) struct StateFact {
    pub(crate) release: String,
    pub(crate) name: String,
    /// The state as Red Hat words it (`Affected`, `Will not fix`, …).
    pub(crate) state: String,
    pub(crate) product: Option<String>,
}

/// True for a description paragraph saying the CVE id was rejected.
pub(crate) fn is_rejection(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with("This CVE ID has been rejected") || t.starts_with("** REJECT **")
}

/// One (package, release key) being built.
struct Entry {
    name: String,
    /// The release as the first CPE spelled it.
    release: String,
    /// Lowest fix so far, with the RHSA and product that shipped it.
    fix: Option<(String, Option<String>, Option<String>)>,
    /// The first unfixed state seen, with its product.
    state: Option<(String, Option<String>)>,
}

pub(crate) fn convert(bytes: &[u8], source_name: &str) -> Result<Vec<Advisory>, DistroError> {
    let format = Format::RedHatSecurityData;
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| syntax(source_name, format, e))?;
    let list = match &value {
        serde_json::Value::Array(_) => true,
        serde_json::Value::Object(o) => o.contains_key("CVE") && !o.contains_key("name"),
        _ => false,
    };
    if list {
        return Err(invalid(
            source_name,
            "(top level)",
            "a Security Data API CVE list entry names no products, so no release can be \
             known; import each CVE's JSON (its resource_url) instead",
        ));
    }
    let cve: RawCve = serde_json::from_value(value).map_err(|e| syntax(source_name, format, e))?;
    let id = cve.name.trim();
    if !looks_like_id(id) {
        return Err(invalid(
            source_name,
            "name",
            format!("{id:?} is not a vulnerability id"),
        ));
    }
    let fixes = cve
        .affected_release
        .iter()
        .flatten()
        .filter_map(|r| {
            let release = r.cpe.as_deref().and_then(cpe_release)?;
            let (name, version) = r.package.as_deref().and_then(nevra)?;
            Some(FixFact {
                release: release.to_string(),
                name: name.to_string(),
                version,
                advisory: r.advisory.clone(),
                product: r.product_name.clone(),
            })
        })
        .collect();
    let states = cve
        .package_state
        .iter()
        .flatten()
        .filter_map(|s| {
            let name = s.package_name.trim();
            let release = s.cpe.as_deref().and_then(cpe_release)?;
            (rpm_name(name) && state_affected(&s.fix_state) == Some(true)).then(|| StateFact {
                release: release.to_string(),
                name: name.to_string(),
                state: s.fix_state.trim().to_string(),
                product: s.product_name.clone(),
            })
        })
        .collect();
    let details = cve.details.unwrap_or_default();
    let facts = CveFacts {
        id: id.to_string(),
        threat_severity: cve.threat_severity,
        public_date: cve.public_date,
        title: cve.bugzilla.as_ref().and_then(|b| b.description.clone()),
        rejected: details.iter().any(|d| is_rejection(d)),
        details,
        cwe: cve.cwe,
        cvss3_vector: cve.cvss3.and_then(|c| c.cvss3_scoring_vector),
        fixes,
        states,
        errata: cve
            .affected_release
            .iter()
            .flatten()
            .filter_map(|r| r.advisory.clone())
            .collect(),
        bugzilla_url: cve.bugzilla.and_then(|b| b.url),
    };
    Ok(advisory(facts, source_name).into_iter().collect())
}

/// The advisory for one CVE's facts, or `None` when no package of any stream is affected.
/// `source_name` is recorded in `database_specific.source`.
pub(crate) fn advisory(facts: CveFacts, source_name: &str) -> Option<Advisory> {
    // Keyed by (normalized name, release key): the rules are per stream, not per CPE
    // spelling (`cpe:/o:…:8` and `cpe:/a:…:8::appstream` are one stream).
    let mut entries: BTreeMap<(String, String), Entry> = BTreeMap::new();
    let key_of = |name: &str, release: &str| {
        (
            Ecosystem::RedHat.normalize_name(name).into_owned(),
            Ecosystem::RedHat.release_key(release).into_owned(),
        )
    };
    let new_entry = |name: &str, release: &str| Entry {
        name: name.to_string(),
        release: release.to_string(),
        fix: None,
        state: None,
    };
    for f in facts.fixes {
        let e = entries
            .entry(key_of(&f.name, &f.release))
            .or_insert_with(|| new_entry(&f.name, &f.release));
        let lower = match &e.fix {
            None => true,
            Some((have, ..)) => Scheme::Rpm.compare(&f.version, have).ok() == Some(Ordering::Less),
        };
        if lower {
            e.release = f.release;
            e.fix = Some((f.version, f.advisory, f.product));
        }
    }
    for s in facts.states {
        let e = entries
            .entry(key_of(&s.name, &s.release))
            .or_insert_with(|| new_entry(&s.name, &s.release));
        if e.state.is_none() {
            e.state = Some((s.state, s.product));
        }
    }

    let affected: Vec<Affected> = entries
        .into_values()
        .filter_map(|e| {
            let (events, specific) = match (e.fix, e.state) {
                (Some((v, advisory, product)), _) => (
                    vec![Event::Introduced("0".into()), Event::Fixed(v)],
                    serde_json::json!({"advisory": advisory, "product": product}),
                ),
                (None, Some((state, product))) => (
                    vec![Event::Introduced("0".into())],
                    serde_json::json!({"fix_state": state, "product": product}),
                ),
                (None, None) => return None,
            };
            Some(Affected {
                ecosystem: Ecosystem::RedHat,
                release: Some(e.release),
                name: e.name,
                purl: None,
                ranges: vec![Range {
                    ty: RangeType::Ecosystem,
                    repo: None,
                    events,
                }],
                versions: Vec::new(),
                severity: Vec::new(),
                ecosystem_specific: Some(specific.to_string()),
                database_specific: None,
            })
        })
        .collect();
    if affected.is_empty() {
        return None;
    }

    let nonempty = |s: Option<&str>| {
        s.map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let id = facts.id.as_str();
    let title = nonempty(facts.title.as_deref());
    let details = Some(
        facts
            .details
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("\n\n"),
    )
    .filter(|d| !d.is_empty())
    .or_else(|| title.clone());
    let threat = facts.threat_severity.as_deref().and_then(threat_word);
    let mut ds = serde_json::json!({ "source": source_name });
    if let Some(word) = threat {
        ds["severity"] = word.into();
    }
    if let Some(cwe) = nonempty(facts.cwe.as_deref()) {
        ds["cwe"] = cwe.into();
    }
    let mut adv = tracker_advisory(
        "RHEL",
        id,
        affected,
        details,
        format!("https://access.redhat.com/security/cve/{id}"),
        ds.to_string(),
    );
    // A CVE its numbering authority rejected (often a duplicate) keeps Red Hat's package
    // data, which would report every finding twice: it is stored withdrawn, so it is
    // never matched. Red Hat gives no date for that.
    if facts.rejected {
        adv.withdrawn = Some(crate::UNKNOWN_MODIFIED.into());
    }
    adv.summary = title;
    adv.published = nonempty(facts.public_date.as_deref())
        .filter(|d| patchpilot_osv::Timestamp::parse(d).is_ok());
    if let Some(mut s) = nonempty(facts.cvss3_vector.as_deref()).and_then(|v| cvss3(&v)) {
        if threat.is_some() {
            s.level = None;
        }
        adv.severity.push(s);
    }
    let mut errata: Vec<&str> = facts
        .errata
        .iter()
        .map(|a| a.trim())
        .filter(|a| a.starts_with("RH") && a.contains(':') && !a.contains(['/', ' ']))
        .collect();
    errata.sort_unstable();
    errata.dedup();
    for a in errata {
        adv.references.push(patchpilot_osv::Reference {
            ty: "ADVISORY".into(),
            url: format!("https://access.redhat.com/errata/{a}"),
        });
    }
    if let Some(url) = nonempty(facts.bugzilla_url.as_deref()) {
        adv.references.push(patchpilot_osv::Reference {
            ty: "REPORT".into(),
            url,
        });
    }
    Some(adv)
}

/// A CVSS 3 vector as a scored severity entry (scored by `patchpilot-osv`, the one place
/// that scores vectors; a vector that does not parse keeps its text without a score).
pub(crate) fn cvss3(vector: &str) -> Option<Severity> {
    let rec = serde_json::json!({
        "id": "RHEL-CVSS-0",
        "modified": crate::UNKNOWN_MODIFIED,
        "severity": [{"type": "CVSS_V3", "score": vector}],
    });
    patchpilot_osv::parse_json(rec.to_string().as_bytes())
        .ok()?
        .severity
        .pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(json: &str) -> Result<Vec<Advisory>, DistroError> {
        convert(json.as_bytes(), "CVE-2024-1")
    }

    #[test]
    fn cpe_releases() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "cpe:/a:redhat:enterprise_linux:8",
                Some("enterprise_linux:8"),
            ),
            (
                "cpe:/o:redhat:enterprise_linux:7",
                Some("enterprise_linux:7"),
            ),
            (
                "cpe:/a:redhat:enterprise_linux:9::appstream",
                Some("enterprise_linux:9::appstream"),
            ),
            ("cpe:/a:redhat:rhel_eus:8.6", Some("rhel_eus:8.6")),
            (
                "cpe:/a:redhat:network_satellite:5.8::el6",
                Some("network_satellite:5.8::el6"),
            ),
            ("cpe:/a:redhat:enterprise_linux", None),
            ("cpe:/a:redhat:enterprise_linux:", None),
            ("cpe:/a:fedoraproject:fedora:38", None),
            ("cpe:2.3:a:redhat:enterprise_linux:8", None),
            ("", None),
        ];
        for (cpe, want) in cases {
            assert_eq!(cpe_release(cpe), *want, "{cpe}");
        }
    }

    #[test]
    fn nevras() {
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            (
                "firefox-0:102.15.1-1.el8_8",
                Some(("firefox", "102.15.1-1.el8_8")),
            ),
            (
                "java-1.8.0-openjdk-1:1.8.0.131-2.b11.el7_3",
                Some(("java-1.8.0-openjdk", "1:1.8.0.131-2.b11.el7_3")),
            ),
            (
                "libwebp-1.0.0-8.el8_8.1",
                Some(("libwebp", "1.0.0-8.el8_8.1")),
            ),
            ("nodejs:18-8080020230913162043.63b34585", None),
            ("389-ds:1.4-8080020230915154349.1fc8b219", None),
            ("firefox", None),
            ("firefox-102", None),
            ("-0:1-1", None),
            ("a-x:1-1", None),
            ("a b-1-1", None),
        ];
        for (text, want) in cases {
            let got = nevra(text);
            assert_eq!(got.as_ref().map(|(n, v)| (*n, v.as_str())), *want, "{text}");
        }
    }

    #[test]
    fn fix_states_table() {
        // (fix_state, expected events; None = no entry)
        let cases: &[(&str, Option<Vec<Event>>)] = &[
            ("Affected", Some(vec![Event::Introduced("0".into())])),
            ("Will not fix", Some(vec![Event::Introduced("0".into())])),
            ("Fix deferred", Some(vec![Event::Introduced("0".into())])),
            (
                "Out of support scope",
                Some(vec![Event::Introduced("0".into())]),
            ),
            ("Not affected", None),
            ("Under investigation", None),
            ("New", None),
        ];
        for (state, want) in cases {
            let json = format!(
                r#"{{"name": "CVE-2024-1", "package_state": [{{"product_name": "Red Hat Enterprise Linux 8",
                  "fix_state": "{state}", "package_name": "ghostscript", "cpe": "cpe:/o:redhat:enterprise_linux:8"}}]}}"#
            );
            let out = one(&json).unwrap();
            match want {
                None => assert!(out.is_empty(), "{state}: {out:?}"),
                Some(events) => {
                    assert_eq!(out.len(), 1, "{state}");
                    let a = &out[0].affected[0];
                    assert_eq!(a.ranges[0].events, *events, "{state}");
                    assert_eq!(a.release.as_deref(), Some("enterprise_linux:8"));
                    assert!(a.ecosystem_specific.as_deref().unwrap().contains(state));
                }
            }
        }
    }

    #[test]
    fn lowest_fix_per_stream_and_fix_beats_open_state() {
        let json = r#"{"name": "CVE-2024-1", "threat_severity": "Moderate",
          "affected_release": [
            {"advisory": "RHSA-2024:2", "cpe": "cpe:/a:redhat:enterprise_linux:8::appstream", "package": "pkg-0:1.2-3.el8_9"},
            {"advisory": "RHSA-2024:1", "cpe": "cpe:/a:redhat:enterprise_linux:8", "package": "pkg-0:1.2-2.el8_8"},
            {"advisory": "RHSA-2024:3", "cpe": "cpe:/a:redhat:rhel_eus:8.6", "package": "pkg-0:1.2-1.el8_6"},
            {"advisory": "RHSA-2024:4", "cpe": "cpe:/a:redhat:enterprise_linux:8", "package": "pkg:1.2-8080020230913162043.63b34585"},
            {"advisory": "RHBA-2024:5", "cpe": "cpe:/a:redhat:openshift:4.14::el9"}
          ],
          "package_state": [
            {"fix_state": "Affected", "package_name": "pkg", "cpe": "cpe:/o:redhat:enterprise_linux:8"},
            {"fix_state": "Affected", "package_name": "firefox:flatpak/pkg", "cpe": "cpe:/o:redhat:enterprise_linux:9"}
          ]}"#;
        let out = one(json).unwrap();
        assert_eq!(out.len(), 1);
        let a = &out[0];
        assert_eq!(a.id, "RHEL-CVE-2024-1");
        assert_eq!(a.aliases, ["CVE-2024-1"]);
        let got: Vec<(&str, Option<&str>, &[Event])> = a
            .affected
            .iter()
            .map(|e| {
                (
                    e.name.as_str(),
                    e.release.as_deref(),
                    e.ranges[0].events.as_slice(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "pkg",
                    Some("enterprise_linux:8"),
                    &[
                        Event::Introduced("0".into()),
                        Event::Fixed("1.2-2.el8_8".into())
                    ][..]
                ),
                (
                    "pkg",
                    Some("rhel_eus:8.6"),
                    &[
                        Event::Introduced("0".into()),
                        Event::Fixed("1.2-1.el8_6".into())
                    ][..]
                ),
            ]
        );
        assert!(a.affected[0]
            .ecosystem_specific
            .as_deref()
            .unwrap()
            .contains("RHSA-2024:1"));
        assert_eq!(
            a.severity_level(),
            Some(patchpilot_osv::SeverityLevel::Medium)
        );
    }

    #[test]
    fn threat_severity_is_the_level_and_the_vector_keeps_its_score() {
        let json = r#"{"name": "CVE-2024-1", "threat_severity": "Low",
          "cvss3": {"cvss3_scoring_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
          "package_state": [{"fix_state": "Will not fix", "package_name": "x", "cpe": "cpe:/o:redhat:enterprise_linux:9"}]}"#;
        let a = &one(json).unwrap()[0];
        assert_eq!(a.severity_level(), Some(patchpilot_osv::SeverityLevel::Low));
        let v = a.cvss_vector().expect("vector kept");
        assert_eq!(v.base_score, Some(9.8));
        // Without threat_severity, the vector's own level counts.
        let json = json.replace(r#""threat_severity": "Low","#, "");
        let a = &one(&json).unwrap()[0];
        assert_eq!(
            a.severity_level(),
            Some(patchpilot_osv::SeverityLevel::Critical)
        );
    }

    #[test]
    fn rejected_cves_are_withdrawn() {
        let json = r#"{"name": "CVE-2024-1", "details": ["This CVE ID has been rejected or withdrawn by its CVE Numbering Authority. Duplicate of CVE-2024-2."],
          "affected_release": [{"cpe": "cpe:/a:redhat:enterprise_linux:9", "package": "x-0:1-1.el9"}]}"#;
        assert!(one(json).unwrap()[0].is_withdrawn());
        let live = json.replace("This CVE ID has been rejected", "A flaw was found");
        assert!(!one(&live).unwrap()[0].is_withdrawn());
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for bad in [
            "",
            "{",
            "5",
            "{}",
            r#"{"name": 5}"#,
            r#"{"name": "not an id"}"#,
            r#"{"name": "CVE-2024-1", "affected_release": {"a": 1}}"#,
            r#"{"name": "CVE-2024-1", "package_state": [{"fix_state": "Affected"}]}"#,
            r#"[{"CVE": "CVE-2024-1", "resource_url": "https://x"}]"#,
            r#"{"CVE": "CVE-2024-1", "affected_packages": [], "resource_url": "https://x"}"#,
        ] {
            let e = one(bad).unwrap_err().to_string();
            assert!(e.starts_with("CVE-2024-1: "), "{bad}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
