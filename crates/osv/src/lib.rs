//! OSV advisories (schema 1.6/1.7), parsed once into typed, validated values.
//!
//! [`parse_json`] / [`parse_yaml`] read one OSV record in two stages, as ripgrep does with
//! its arguments: serde fills loosely typed *raw* structs (`raw.rs`), then `parse.rs`
//! validates and converts them into [`Advisory`], naming the offending field on error
//! (`affected[0].ranges[1]: has no `introduced` event`). Downstream code never re-checks
//! strings.
//!
//! What is decided here, once:
//! - `Debian:12` is split into [`Ecosystem::Debian`] and release `"12"`.
//! - CVSS vectors are scored (`severity.rs`: v3.x/v4.0 via the `cvss` crate, v2 by hand).
//!   A bad vector never rejects a record; it keeps its text with no score.
//! - RustSec's `database_specific.informational` makes the [`AdvisoryKind`].
//! - `database_specific` / `ecosystem_specific` are kept as compact JSON *text*, because the
//!   advisory database stores records with a non-self-describing binary encoding.
//!
//! Not here: version comparison and range matching (the matcher), IO (the database).

mod parse;
mod raw;
mod severity;
mod time;

#[cfg(test)]
mod tests;

pub use time::{Timestamp, TimestampError};

pub use patchpilot_types::Ecosystem;
use serde::{Deserialize, Serialize};

/// What an advisory is about. RustSec informational advisories are findings of their own
/// kind, not vulnerabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdvisoryKind {
    Vulnerability,
    Unmaintained,
    Unsound,
    Notice,
}

/// Qualitative severity, ordered (`Critical` is greatest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeverityLevel {
    None,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SeverityType {
    #[serde(rename = "CVSS_V2")]
    CvssV2,
    #[serde(rename = "CVSS_V3")]
    CvssV3,
    #[serde(rename = "CVSS_V4")]
    CvssV4,
    #[serde(rename = "Ubuntu")]
    Ubuntu,
    #[serde(other)]
    Other,
}

/// One `severity[]` entry, with its vector parsed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Severity {
    #[serde(rename = "type")]
    pub ty: SeverityType,
    /// The vector (or Ubuntu priority word) as published.
    pub score: String,
    /// Base score 0.0–10.0 computed from the vector; `None` when not computable.
    pub base_score: Option<f64>,
    pub level: Option<SeverityLevel>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RangeType {
    #[serde(rename = "ECOSYSTEM")]
    Ecosystem,
    #[serde(rename = "SEMVER")]
    Semver,
    #[serde(rename = "GIT")]
    Git,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub ty: RangeType,
    pub repo: Option<String>,
    pub events: Vec<Event>,
}

/// One `affected[]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    pub ecosystem: Ecosystem,
    /// The release suffix of the ecosystem (`12` of `Debian:12`), if any.
    pub release: Option<String>,
    pub name: String,
    pub purl: Option<String>,
    pub ranges: Vec<Range>,
    /// Explicitly enumerated affected versions.
    pub versions: Vec<String>,
    /// Per-affected severity (schema 1.5+), if any.
    pub severity: Vec<Severity>,
    /// `ecosystem_specific` as JSON text (kept opaque; the DB format is not self-describing).
    pub ecosystem_specific: Option<String>,
    /// `database_specific` as JSON text.
    pub database_specific: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    pub ty: String,
    pub url: String,
}

/// A validated OSV record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    pub modified: String,
    pub published: Option<String>,
    pub withdrawn: Option<String>,
    pub aliases: Vec<String>,
    pub related: Vec<String>,
    pub summary: Option<String>,
    pub details: Option<String>,
    pub severity: Vec<Severity>,
    pub affected: Vec<Affected>,
    pub references: Vec<Reference>,
    pub kind: AdvisoryKind,
    /// `database_specific` as JSON text.
    pub database_specific: Option<String>,
}

/// Why an OSV record was refused. The message is one line and names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OsvError {
    /// Not well-formed JSON/YAML, or a field of the wrong JSON type.
    #[error("invalid {format}: {message}")]
    Syntax { format: Format, message: String },
    /// A required field is absent.
    #[error("missing required field `{0}`")]
    Missing(&'static str),
    /// A field is present but breaks the schema.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
}

/// The text format of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Json,
    Yaml,
}

impl Format {
    /// The format for a file extension (`json`, `yaml`, `yml`; case-insensitive).
    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "yaml" | "yml" => Some(Format::Yaml),
            _ => None,
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Json => "JSON",
            Format::Yaml => "YAML",
        })
    }
}

fn syntax(format: Format, e: impl std::fmt::Display) -> OsvError {
    let message = e.to_string().replace(['\n', '\r'], " ");
    OsvError::Syntax { format, message }
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Parse one OSV record from JSON bytes.
pub fn parse_json(bytes: &[u8]) -> Result<Advisory, OsvError> {
    let raw::Object::<raw::RawAdvisory>(raw) =
        serde_json::from_slice(strip_bom(bytes)).map_err(|e| syntax(Format::Json, e))?;
    parse::convert(raw)
}

/// Parse one OSV record from YAML bytes (one document).
pub fn parse_yaml(bytes: &[u8]) -> Result<Advisory, OsvError> {
    let raw::Object::<raw::RawAdvisory>(raw) =
        serde_yaml::from_slice(strip_bom(bytes)).map_err(|e| syntax(Format::Yaml, e))?;
    parse::convert(raw)
}

/// Parse one OSV record in the given format.
pub fn parse(bytes: &[u8], format: Format) -> Result<Advisory, OsvError> {
    match format {
        Format::Json => parse_json(bytes),
        Format::Yaml => parse_yaml(bytes),
    }
}

impl SeverityType {
    /// CVSS major version, for preferring newer vectors.
    fn cvss_rank(self) -> u8 {
        match self {
            SeverityType::CvssV4 => 3,
            SeverityType::CvssV3 => 2,
            SeverityType::CvssV2 => 1,
            SeverityType::Ubuntu | SeverityType::Other => 0,
        }
    }
}

impl Advisory {
    /// Every severity entry: the record's, then each affected entry's.
    pub fn all_severities(&self) -> impl Iterator<Item = &Severity> {
        self.severity
            .iter()
            .chain(self.affected.iter().flat_map(|a| a.severity.iter()))
    }

    /// The highest level derived from the severity entries (CVSS scores, Ubuntu priority);
    /// when there is none, `database_specific.severity` (GHSA's `HIGH`, `MODERATE`, ...).
    pub fn severity_level(&self) -> Option<SeverityLevel> {
        self.all_severities()
            .filter_map(|s| s.level)
            .max()
            .or_else(|| {
                let ds: serde_json::Value =
                    serde_json::from_str(self.database_specific.as_deref()?).ok()?;
                severity::level_word(ds.get("severity")?.as_str()?)
            })
    }

    /// The advisory's own id, then its aliases.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// The CVE ids among [`Advisory::ids`].
    pub fn cve_ids(&self) -> impl Iterator<Item = &str> {
        self.ids().filter(|id| id.starts_with("CVE-"))
    }

    /// The CVSS vector to show: v4, else v3, else v2; a scored vector beats one that did
    /// not parse; the record's own `severity` beats an affected entry's.
    pub fn cvss_vector(&self) -> Option<&Severity> {
        let mut best: Option<(&Severity, (bool, u8))> = None;
        for s in self.all_severities() {
            let rank = s.ty.cvss_rank();
            if rank == 0 {
                continue;
            }
            let key = (s.base_score.is_some(), rank);
            if best.is_none_or(|(_, k)| key > k) {
                best = Some((s, key));
            }
        }
        best.map(|(s, _)| s)
    }

    /// The highest CVSS base score among the severity entries.
    pub fn max_base_score(&self) -> Option<f64> {
        self.all_severities()
            .filter_map(|s| s.base_score)
            .reduce(f64::max)
    }

    /// `modified` as an instant (text order is wrong across precisions).
    pub fn modified_time(&self) -> Option<Timestamp> {
        Timestamp::parse(&self.modified).ok()
    }

    /// True when the record has been withdrawn by its publisher.
    pub fn is_withdrawn(&self) -> bool {
        self.withdrawn.is_some()
    }
}
