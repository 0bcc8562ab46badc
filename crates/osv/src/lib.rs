//! OSV advisories (schema 1.6/1.7), parsed once into typed, validated values.
//!
//! TODO(helper): parsing from JSON/YAML bytes, validation, CVSS parsing.
//! The types below are the contract used by the matcher and the advisory database.

use patchpilot_types::Ecosystem;
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
