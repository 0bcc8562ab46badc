//! Distro security trackers converted into OSV [`Advisory`] values, so the matcher treats
//! them like any other advisory and distro backports are honoured (a Debian 12 package at
//! `5.8.0-1+deb12u1` is fixed even though upstream fixed the bug in a later release).
//!
//! Two steps, as everywhere in Patchpilot: [`detect`] sniffs a file's [`Format`] from its
//! name and first bytes, then [`convert`] parses it into typed values and builds advisories,
//! naming the source and the reason on error. Pure: no IO, no clock.
//!
//! Formats:
//! - [`Format::DebianTracker`], from `https://security-tracker.debian.org/tracker/data/json`
//!   (see `debian.rs` for the status and urgency rules).
//! - [`Format::AlpineSecDb`], from `https://secdb.alpinelinux.org/<release>/<repo>.yaml` (or
//!   `.json`, same structure; see `alpine.rs`).
//! - [`Format::RedHatSecurityData`], one CVE's JSON from Red Hat's Security Data API
//!   (`https://access.redhat.com/hydra/rest/securitydata/cve/CVE-….json`; see `redhat.rs`
//!   for the CPE → release rules, EUS/AUS streams and `package_state`). The API's CVE
//!   *list* names no products and is refused with an error saying so.
//! - [`Format::RedHatCsafVex`], one CVE's CSAF 2.0 VEX document, Red Hat's current feed
//!   (`https://security.access.redhat.com/data/csaf/v2/vex/<year>/cve-….json`; see
//!   `csaf.rs`). It is read into the same facts as the Security Data API and built into
//!   the advisory by the same code, so a CVE gives the same advisory from either feed.
//! - [`Format::Osv`], distro feeds already published as OSV (AlmaLinux, Ubuntu, Rocky):
//!   one record per file, passed through [`patchpilot_osv::parse_json`]. Their ecosystem
//!   suffixes are kept as published (`Ubuntu:22.04:LTS`, `Ubuntu:Pro:18.04:LTS`); the
//!   matcher compares releases by [`patchpilot_types::Ecosystem::release_key`], so
//!   `Ubuntu:22.04:LTS` applies to an Ubuntu 22.04 host and not to 20.04. Ubuntu Pro (ESM)
//!   records apply to hosts of their release (os-release cannot tell whether Pro is
//!   attached, and for a release in ESM the `+esm` build is the only fix); Pro's FIPS and
//!   other sub-streams are divergent builds and match no plain host.
//!
//! Decisions shared by the converters:
//! - One advisory per vulnerability id *per converted file*, with one `affected` entry per
//!   (source package, release). Ids are prefixed with the distro (`DEBIAN-CVE-2023-1234`,
//!   `ALPINE-CVE-2023-1234`, `RHEL-CVE-2023-1234`) so they never collide with the upstream CVE or OSV record; the
//!   bare id is the alias when it is a CVE. Several files (Alpine `main` + `community`, or
//!   several releases) yield the same ids: combine them with [`merge`] before storing.
//! - Package names are *source* package names (Debian source, Alpine origin, Red Hat source
//!   RPM), which is what the matcher looks up for Debian/Ubuntu/Alpine, and also, besides
//!   the binary name, for Red Hat.
//! - Trackers carry no modification time, so `modified` is the Unix epoch
//!   ([`UNKNOWN_MODIFIED`]); the feed importer should overwrite it with the download time.
//! - Output is sorted by id, and affected entries by (name, release), so conversion is
//!   deterministic.

mod alpine;
mod csaf;
mod debian;
mod redhat;

use std::collections::BTreeMap;

use patchpilot_osv::Advisory;

/// `modified` of converted advisories: the trackers do not say when a record changed.
pub const UNKNOWN_MODIFIED: &str = "1970-01-01T00:00:00Z";

/// A distro tracker format this crate converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Debian security tracker JSON (`{source: {CVE: {releases: {codename: ...}}}}`).
    DebianTracker,
    /// Alpine secdb, YAML or JSON (`{distroversion, reponame, packages: [...]}`).
    AlpineSecDb,
    /// Red Hat Security Data API, one CVE (`{name, threat_severity, affected_release,
    /// package_state, ...}`).
    RedHatSecurityData,
    /// Red Hat CSAF 2.0 VEX, one CVE (`{document: {csaf_version: "2.0", category:
    /// "csaf_vex"}, product_tree, vulnerabilities}`).
    RedHatCsafVex,
    /// One OSV record (JSON), e.g. an AlmaLinux `ALSA-…` advisory.
    Osv,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::DebianTracker => "Debian security tracker JSON",
            Format::AlpineSecDb => "Alpine secdb",
            Format::RedHatSecurityData => "Red Hat security data JSON",
            Format::RedHatCsafVex => "Red Hat CSAF VEX JSON",
            Format::Osv => "OSV JSON",
        })
    }
}

/// Why a tracker file was refused. One line, naming the source and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DistroError {
    /// Not well-formed JSON/YAML, or a field of the wrong type.
    #[error("{source_name}: invalid {format}: {message}")]
    Syntax {
        source_name: String,
        format: Format,
        message: String,
    },
    /// Well-formed, but breaks the format's rules.
    #[error("{source_name}: {field}: {reason}")]
    Invalid {
        source_name: String,
        field: String,
        reason: String,
    },
}

pub(crate) fn syntax(source_name: &str, format: Format, e: impl std::fmt::Display) -> DistroError {
    DistroError::Syntax {
        source_name: source_name.to_string(),
        format,
        message: e.to_string().replace(['\n', '\r'], " "),
    }
}

pub(crate) fn invalid(
    source_name: &str,
    field: impl Into<String>,
    reason: impl Into<String>,
) -> DistroError {
    DistroError::Invalid {
        source_name: source_name.to_string(),
        field: field.into(),
        reason: reason.into(),
    }
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// How many leading bytes [`detect`] looks at.
const SNIFF: usize = 8192;

/// Guess the format of a file from its name and first bytes. `None` when it is none of
/// the formats this crate converts. A guess only: [`convert`] still validates everything.
pub fn detect(bytes: &[u8], file_name: &str) -> Option<Format> {
    let bytes = strip_bom(bytes);
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(SNIFF)]);
    let lower = file_name.to_ascii_lowercase();
    let trimmed = head.trim_start();
    // The Security Data API's CVE list (refused by `convert`, with the reason).
    let rh_list = head.contains("\"resource_url\"") && head.contains("\"CVE\"");
    if trimmed.starts_with('[') && rh_list {
        return Some(Format::RedHatSecurityData);
    }
    if trimmed.starts_with('{') {
        // Any CSAF document (`csaf_version` is its one mandatory marker, `product_tree`
        // comes first when keys are not sorted): `convert` says why one that is not a
        // CSAF 2.0 VEX document is refused, rather than an OSV parse error.
        if head.contains("\"csaf_version\"") || head.contains("\"product_tree\"") {
            return Some(Format::RedHatCsafVex);
        }
        let rh = head.contains("\"threat_severity\"")
            || head.contains("\"affected_release\"")
            || head.contains("\"package_state\"");
        if rh || rh_list {
            return Some(Format::RedHatSecurityData);
        }
        if head.contains("\"distroversion\"") && head.contains("\"packages\"") {
            return Some(Format::AlpineSecDb);
        }
        if (head.contains("\"affected\"") || head.contains("\"schema_version\""))
            && head.contains("\"id\"")
        {
            return Some(Format::Osv);
        }
        if head.contains("\"releases\"") {
            return Some(Format::DebianTracker);
        }
        return None;
    }
    let yaml = lower.ends_with(".yaml") || lower.ends_with(".yml");
    if yaml && head.contains("distroversion:") && head.contains("packages:") {
        return Some(Format::AlpineSecDb);
    }
    None
}

/// Convert one tracker file into advisories. `source_name` (a file name or URL) only labels
/// errors and is recorded in each advisory's `database_specific.source`.
pub fn convert(
    format: Format,
    bytes: &[u8],
    source_name: &str,
) -> Result<Vec<Advisory>, DistroError> {
    let bytes = strip_bom(bytes);
    match format {
        Format::DebianTracker => debian::convert(bytes, source_name),
        Format::AlpineSecDb => alpine::convert(bytes, source_name),
        Format::RedHatSecurityData => redhat::convert(bytes, source_name),
        Format::RedHatCsafVex => csaf::convert(bytes, source_name),
        Format::Osv => patchpilot_osv::parse_json(bytes)
            .map(|a| vec![a])
            .map_err(|e| syntax(source_name, format, e)),
    }
}

/// Combine advisories with the same id (e.g. one CVE from Alpine `main` and `community`,
/// or from several releases): their `affected` entries and aliases are united, duplicates
/// dropped; the first record's other fields win. Sorted by id.
pub fn merge(advisories: impl IntoIterator<Item = Advisory>) -> Vec<Advisory> {
    let mut by_id: BTreeMap<String, Advisory> = BTreeMap::new();
    for adv in advisories {
        match by_id.get_mut(&adv.id) {
            None => {
                by_id.insert(adv.id.clone(), adv);
            }
            Some(have) => {
                for a in adv.affected {
                    if !have.affected.contains(&a) {
                        have.affected.push(a);
                    }
                }
                for alias in adv.aliases {
                    if !have.aliases.contains(&alias) {
                        have.aliases.push(alias);
                    }
                }
                for r in adv.references {
                    if !have.references.contains(&r) {
                        have.references.push(r);
                    }
                }
                if have.details.is_none() {
                    have.details = adv.details;
                }
                sort_affected(&mut have.affected);
            }
        }
    }
    by_id.into_values().collect()
}

fn sort_affected(affected: &mut [patchpilot_osv::Affected]) {
    affected.sort_by(|a, b| (&a.name, &a.release).cmp(&(&b.name, &b.release)));
}

/// The advisory a tracker entry becomes: `<PREFIX>-<id>`, the id as alias when it is a
/// CVE, one ADVISORY reference, affected entries in a stable order.
pub(crate) fn tracker_advisory(
    prefix: &str,
    id: &str,
    mut affected: Vec<patchpilot_osv::Affected>,
    details: Option<String>,
    url: String,
    database_specific: String,
) -> Advisory {
    sort_affected(&mut affected);
    Advisory {
        id: format!("{prefix}-{id}"),
        modified: UNKNOWN_MODIFIED.into(),
        published: None,
        withdrawn: None,
        aliases: if id.starts_with("CVE-") {
            vec![id.to_string()]
        } else {
            Vec::new()
        },
        related: Vec::new(),
        summary: None,
        details,
        severity: Vec::new(),
        affected,
        references: vec![patchpilot_osv::Reference {
            ty: "ADVISORY".into(),
            url,
        }],
        kind: patchpilot_osv::AdvisoryKind::Vulnerability,
        database_specific: Some(database_specific),
    }
}

/// True for a vulnerability id worth recording: `PREFIX-rest` with an upper-case ASCII
/// prefix and a digit in the rest (`CVE-2023-1234`, `XSA-123`, `GHSA-…`, `TEMP-0000-AB12`).
pub(crate) fn looks_like_id(s: &str) -> bool {
    let Some((prefix, rest)) = s.split_once('-') else {
        return false;
    };
    !prefix.is_empty()
        && prefix.bytes().all(|b| b.is_ascii_uppercase())
        && rest.bytes().any(|b| b.is_ascii_digit())
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_table() {
        let cases: &[(&str, &str, Option<Format>)] = &[
            (
                "{\"openssl\": {\"CVE-2023-1\": {\"releases\": {}}}}",
                "debian.json",
                Some(Format::DebianTracker),
            ),
            (
                "distroversion: v3.18\nreponame: main\npackages:\n",
                "main.yaml",
                Some(Format::AlpineSecDb),
            ),
            (
                "distroversion: v3.18\nreponame: main\npackages:\n",
                "main.txt",
                None,
            ),
            (
                "{\"distroversion\": \"v3.18\", \"packages\": []}",
                "main.json",
                Some(Format::AlpineSecDb),
            ),
            (
                "{\"id\": \"ALSA-2023:1\", \"affected\": []}",
                "ALSA-2023:1.json",
                Some(Format::Osv),
            ),
            (
                "{\"threat_severity\": \"Low\", \"name\": \"CVE-2023-1\"}",
                "CVE-2023-1",
                Some(Format::RedHatSecurityData),
            ),
            (
                "{\"name\": \"CVE-2023-1\", \"package_state\": []}",
                "CVE-2023-1.json",
                Some(Format::RedHatSecurityData),
            ),
            (
                "[{\"CVE\": \"CVE-2023-1\", \"resource_url\": \"https://x\"}]",
                "1.json",
                Some(Format::RedHatSecurityData),
            ),
            (
                "{\"document\": {\"category\": \"csaf_vex\", \"csaf_version\": \"2.0\"}}",
                "cve-2023-1.json",
                Some(Format::RedHatCsafVex),
            ),
            // Keys in another order, and CSAF documents `convert` refuses with the reason.
            (
                "{\"product_tree\": {}, \"vulnerabilities\": [{\"cve\": \"CVE-2023-1\"}]}",
                "x.json",
                Some(Format::RedHatCsafVex),
            ),
            (
                "{\"document\": {\"category\": \"csaf_security_advisory\", \"csaf_version\": \"2.0\"}}",
                "rhsa-2023_1.json",
                Some(Format::RedHatCsafVex),
            ),
            ("[{\"id\": \"x\"}]", "1.json", None),
            ("{\"foo\": 1}", "x.json", None),
            ("", "x.json", None),
            ("\u{feff}[1,2]", "x.json", None),
        ];
        for (text, name, want) in cases {
            assert_eq!(detect(text.as_bytes(), name), *want, "{name}: {text}");
        }
    }

    #[test]
    fn ids() {
        for ok in [
            "CVE-2023-1234",
            "XSA-123",
            "TEMP-0000000-AB12CD",
            "GHSA-abcd-1234-xyz1",
        ] {
            assert!(looks_like_id(ok), "{ok}");
        }
        for bad in [
            "",
            "CVE",
            "cve-2023-1",
            "CVE-",
            "CVE-abc",
            "(CVE-2023-1)",
            "-1",
        ] {
            assert!(!looks_like_id(bad), "{bad}");
        }
    }

    fn adv(id: &str, pkg: &str, alias: &str) -> Advisory {
        let yaml = format!(
            "distroversion: v3.18\npackages:\n- pkg:\n    name: {pkg}\n    secfixes:\n      1.0-r0:\n      - {id}\n"
        );
        let mut out = convert(Format::AlpineSecDb, yaml.as_bytes(), "t.yaml").unwrap();
        assert_eq!(out.len(), 1);
        out[0].aliases = vec![alias.to_string()];
        out.remove(0)
    }

    #[test]
    fn merge_unites_affected_and_aliases_without_duplicates() {
        let merged = merge([
            adv("CVE-2020-2", "b", "CVE-2020-2"),
            adv("CVE-2020-1", "b", "CVE-2020-1"),
            adv("CVE-2020-1", "a", "X-1"),
            adv("CVE-2020-1", "b", "CVE-2020-1"),
        ]);
        let ids: Vec<&str> = merged.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["ALPINE-CVE-2020-1", "ALPINE-CVE-2020-2"]);
        let names: Vec<&str> = merged[0].affected.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(merged[0].aliases, ["CVE-2020-1", "X-1"]);
        assert_eq!(merged[1].affected.len(), 1);
    }

    const ALL: [Format; 5] = [
        Format::DebianTracker,
        Format::AlpineSecDb,
        Format::RedHatSecurityData,
        Format::RedHatCsafVex,
        Format::Osv,
    ];

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            for f in ALL {
                if let Err(e) = convert(f, &bytes, "x") {
                    proptest::prop_assert!(!e.to_string().contains('\n'));
                }
            }
            let _ = detect(&bytes, "x.yaml");
        }

        #[test]
        fn arbitrary_text_never_panics(text in "[{}\\[\\]:,\"a-z0-9 \\n-]{0,200}") {
            for f in ALL {
                let _ = convert(f, text.as_bytes(), "x");
            }
        }
    }

    #[test]
    fn osv_errors_are_one_line_and_named() {
        let e = convert(Format::Osv, b"{not json", "x.json").unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("x.json: invalid OSV JSON"), "{msg}");
        assert!(!msg.contains('\n'));
    }
}
