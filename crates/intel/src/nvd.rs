//! NVD CVE API 2.0 pages (`https://services.nvd.nist.gov/rest/json/cves/2.0`), read for
//! one thing: CVSS where OSV has none.
//!
//! [`parse_nvd`] reads one response page into [`NvdPage`]: per CVE its id, `published`,
//! `lastModified`, status, every CVSS metric (v4.0, v3.1, v3.0, v2) with its vector,
//! base score, source and type (Primary / Secondary), and the references NVD tags
//! `Exploit` (the first [`MAX_EXPLOITS`], an input of the risk model's exploitation
//! level). Descriptions, other references, CPE configurations and weaknesses are
//! dropped: they are the bulk of a page and nothing here uses them. Strict where the API schema is: the fields it requires must be there
//! with the right types (a page that lacks them has changed shape, and is rejected whole,
//! like a KEV catalog), a metric's `cvssData.version` must be the one its array names, the
//! vector must carry that version's prefix and the score must be in 0..=10. Tolerant of
//! everything else: unknown fields are ignored, so a new NVD field never breaks a sync.
//!
//! [`NvdStore`] is the compact file the feed layer keeps (`feeds/nvd.json`): records keyed
//! by CVE, merged so that the newer `lastModified` wins. [`NvdRecord::preferred`] picks the
//! metric to use: Primary before Secondary, NVD's own (`nvd@nist.gov`) before a CNA's, then
//! the newest CVSS version.
//!
//! NVD timestamps carry no zone and are UTC; [`NvdTime`] is that instant to the
//! millisecond, ordered chronologically, with the unix-seconds arithmetic the incremental
//! sync needs for its `lastModStartDate`/`lastModEndDate` windows.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::kev::is_cve_id;

/// NVD's own analyses are published under this source.
pub const NVD_SOURCE: &str = "nvd@nist.gov";

/// Why an NVD page or store was rejected. One line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NvdError {
    #[error("not an NVD CVE API 2.0 page: {0}")]
    Json(String),
    #[error(
        "not an NVD CVE API 2.0 page: format {format:?} version {version:?} (expected NVD_CVE 2.x)"
    )]
    WrongFormat { format: String, version: String },
    #[error("NVD page: invalid {field}: {reason}")]
    BadPage { field: &'static str, reason: String },
    #[error("NVD entry #{index}: id {value:?} is not of the form CVE-YYYY-NNNN")]
    BadCveId { index: usize, value: String },
    #[error("NVD entry {cve}: invalid {field}: {reason}")]
    BadField {
        cve: String,
        field: String,
        reason: String,
    },
    #[error("NVD page lists {0} more than once")]
    Duplicate(String),
    #[error("NVD store: {0}")]
    Store(String),
}

/// An instant in UTC to the millisecond, as NVD writes it (`2024-11-21T06:41:00.133`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NvdTime {
    date: Date,
    /// Milliseconds since midnight.
    millis: u32,
}

const DAY_MS: i64 = 86_400_000;

impl NvdTime {
    /// The instant `secs` seconds after 1970-01-01T00:00:00 UTC.
    pub fn from_unix(secs: u64) -> NvdTime {
        NvdTime::from_unix_millis(i64::try_from(secs).unwrap_or(i64::MAX).saturating_mul(1000))
    }

    fn from_unix_millis(ms: i64) -> NvdTime {
        NvdTime {
            date: Date::from_days(ms.div_euclid(DAY_MS)),
            millis: ms.rem_euclid(DAY_MS) as u32,
        }
    }

    /// Milliseconds since 1970-01-01T00:00:00 UTC.
    pub fn unix_millis(self) -> i64 {
        self.date.to_days() * DAY_MS + i64::from(self.millis)
    }

    /// Whole seconds since the epoch (0 before it).
    pub fn unix_secs(self) -> u64 {
        u64::try_from(self.unix_millis().div_euclid(1000)).unwrap_or(0)
    }

    pub fn date(self) -> Date {
        self.date
    }

    /// This instant plus `days` whole days (saturating at the representable dates).
    pub fn add_days(self, days: i64) -> NvdTime {
        NvdTime {
            date: self.date.add_days(days),
            millis: self.millis,
        }
    }

    /// `2024-11-21T06:41:00.133`: the form NVD writes and accepts in query parameters
    /// (no zone means UTC).
    pub fn to_nvd_string(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for NvdTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.millis / 1000;
        write!(
            f,
            "{}T{:02}:{:02}:{:02}.{:03}",
            self.date,
            s / 3600,
            s / 60 % 60,
            s % 60,
            self.millis % 1000
        )
    }
}

impl FromStr for NvdTime {
    type Err = String;

    /// `YYYY-MM-DDTHH:MM:SS`, an optional fraction (1-9 digits, kept to the millisecond),
    /// then nothing (UTC), `Z`, or an offset `±HH:MM`.
    fn from_str(s: &str) -> Result<NvdTime, String> {
        let bad = |why: &str| format!("{s:?}: {why}");
        if !s.is_ascii() {
            return Err(bad("expected YYYY-MM-DDTHH:MM:SS"));
        }
        let b = s.as_bytes();
        if b.len() < 19 || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
            return Err(bad("expected YYYY-MM-DDTHH:MM:SS"));
        }
        let date: Date = s[..10]
            .parse()
            .map_err(|e: crate::DateError| e.to_string())?;
        let two = |i: usize| -> Result<u32, String> {
            let p = &s[i..i + 2];
            if p.bytes().all(|c| c.is_ascii_digit()) {
                Ok(p.parse().unwrap_or(0))
            } else {
                Err(bad("expected digits in the time"))
            }
        };
        let (h, m, sec) = (two(11)?, two(14)?, two(17)?);
        if h > 23 || m > 59 || sec > 60 {
            return Err(bad("time out of range"));
        }
        let mut rest = &s[19..];
        let mut millis = 0u32;
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 || n > 9 {
                return Err(bad("expected 1 to 9 fraction digits"));
            }
            let digits = &frac[..n];
            let padded: String = digits.chars().chain("000".chars()).take(3).collect();
            millis = padded.parse().unwrap_or(0);
            rest = &frac[n..];
        }
        let offset_ms: i64 = match rest {
            "" | "Z" | "z" => 0,
            o if o.len() == 6
                && (o.starts_with('+') || o.starts_with('-'))
                && &o[3..4] == ":"
                && o[1..3]
                    .bytes()
                    .chain(o[4..6].bytes())
                    .all(|c| c.is_ascii_digit()) =>
            {
                let oh: i64 = o[1..3].parse().map_err(|_| bad("bad zone offset"))?;
                let om: i64 = o[4..6].parse().map_err(|_| bad("bad zone offset"))?;
                if oh > 23 || om > 59 {
                    return Err(bad("bad zone offset"));
                }
                let v = (oh * 60 + om) * 60_000;
                if o.starts_with('-') {
                    -v
                } else {
                    v
                }
            }
            _ => return Err(bad("unexpected text after the time")),
        };
        // A leap second reads as the last millisecond of its minute.
        let ms = (h * 3600 + m * 60 + sec.min(59)) * 1000 + if sec == 60 { 999 } else { millis };
        let local = NvdTime { date, millis: ms };
        Ok(if offset_ms == 0 {
            local
        } else {
            NvdTime::from_unix_millis(local.unix_millis() - offset_ms)
        })
    }
}

impl Serialize for NvdTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for NvdTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<NvdTime, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A CVSS version as NVD groups metrics (`cvssMetricV40`, `…V31`, `…V30`, `…V2`).
/// Ordered oldest first, so `max` is the newest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CvssVersion {
    #[serde(rename = "2.0")]
    V2,
    #[serde(rename = "3.0")]
    V3_0,
    #[serde(rename = "3.1")]
    V3_1,
    #[serde(rename = "4.0")]
    V4_0,
}

impl CvssVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            CvssVersion::V2 => "2.0",
            CvssVersion::V3_0 => "3.0",
            CvssVersion::V3_1 => "3.1",
            CvssVersion::V4_0 => "4.0",
        }
    }

    /// The prefix a vector of this version starts with (v2 vectors have none).
    fn vector_prefix(self) -> &'static str {
        match self {
            CvssVersion::V2 => "AV:",
            CvssVersion::V3_0 => "CVSS:3.0/",
            CvssVersion::V3_1 => "CVSS:3.1/",
            CvssVersion::V4_0 => "CVSS:4.0/",
        }
    }
}

impl fmt::Display for CvssVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who stands behind a metric: NVD's analysis (or, for CVEs NVD has not analysed, the
/// CNA's score NVD adopted) is `Primary`; other scores are `Secondary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MetricType {
    Secondary,
    Primary,
}

impl MetricType {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Primary => "Primary",
            MetricType::Secondary => "Secondary",
        }
    }
}

/// One CVSS score of a CVE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvssMetric {
    pub version: CvssVersion,
    /// The vector string as NVD gives it (`CVSS:3.1/AV:N/…`, or a bare v2 vector).
    pub vector: String,
    pub base_score: f32,
    /// Who scored it: `nvd@nist.gov` or a CNA's address.
    pub source: String,
    #[serde(rename = "type")]
    pub ty: MetricType,
}

impl CvssMetric {
    /// The ranking behind [`NvdRecord::preferred`]: Primary, then NVD's own, then the
    /// newest version.
    fn rank(&self) -> (MetricType, bool, CvssVersion) {
        (self.ty, self.source == NVD_SOURCE, self.version)
    }
}

/// What Patchpilot keeps of one CVE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NvdRecord {
    pub id: String,
    pub published: NvdTime,
    pub last_modified: NvdTime,
    /// `vulnStatus`: Analyzed, Modified, Awaiting Analysis, Rejected, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Every metric, newest version first, in the page's order within a version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<CvssMetric>,
    /// URLs of references NVD tags `Exploit` (a public exploit or proof of concept), in
    /// page order, at most [`MAX_EXPLOITS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exploits: Vec<String>,
}

/// Exploit references kept per CVE: enough to name one, not a link list.
pub const MAX_EXPLOITS: usize = 3;

impl NvdRecord {
    /// The metric to use: Primary before Secondary, `nvd@nist.gov` before a CNA, then the
    /// newest CVSS version; the first in page order among equals.
    pub fn preferred(&self) -> Option<&CvssMetric> {
        let mut best: Option<&CvssMetric> = None;
        for m in &self.metrics {
            if best.is_none_or(|b| m.rank() > b.rank()) {
                best = Some(m);
            }
        }
        best
    }

    /// NVD marks withdrawn CVE ids `Rejected`.
    pub fn is_rejected(&self) -> bool {
        self.status.as_deref() == Some("Rejected")
    }
}

/// One page of an API response.
#[derive(Debug, Clone, PartialEq)]
pub struct NvdPage {
    /// Records in this page.
    pub results_per_page: u64,
    /// Index of this page's first record in the whole result.
    pub start_index: u64,
    /// Records in the whole result (all pages).
    pub total_results: u64,
    /// When NVD produced the response.
    pub timestamp: NvdTime,
    /// In page order.
    pub records: Vec<NvdRecord>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPage {
    results_per_page: u64,
    start_index: u64,
    total_results: u64,
    format: String,
    version: String,
    timestamp: String,
    #[serde(default)]
    vulnerabilities: Vec<RawItem>,
}

#[derive(Deserialize)]
struct RawItem {
    cve: RawCve,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCve {
    id: String,
    published: String,
    last_modified: String,
    #[serde(default)]
    vuln_status: Option<String>,
    // Required by the schema; read only to insist they are there.
    #[allow(dead_code)]
    descriptions: IgnoredAny,
    references: Vec<RawReference>,
    #[serde(default)]
    metrics: RawMetrics,
}

/// A reference: its URL and NVD's tags (`Exploit`, `Patch`, `Third Party Advisory`, …).
/// Anything else in it is ignored.
#[derive(Deserialize)]
struct RawReference {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize, Default)]
struct RawMetrics {
    #[serde(default, rename = "cvssMetricV40")]
    v40: Vec<RawMetric>,
    #[serde(default, rename = "cvssMetricV31")]
    v31: Vec<RawMetric>,
    #[serde(default, rename = "cvssMetricV30")]
    v30: Vec<RawMetric>,
    #[serde(default, rename = "cvssMetricV2")]
    v2: Vec<RawMetric>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMetric {
    source: String,
    #[serde(rename = "type")]
    ty: String,
    cvss_data: RawCvssData,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCvssData {
    version: String,
    vector_string: String,
    base_score: f64,
}

/// Parse and validate one NVD CVE API 2.0 response page.
pub fn parse_nvd(bytes: &[u8]) -> Result<NvdPage, NvdError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Look at the envelope first, so a KEV catalog or an HTML error page is named as
    // "not an NVD page" rather than as a missing field deep inside.
    let raw: RawPage = serde_json::from_slice(bytes).map_err(|e| NvdError::Json(e.to_string()))?;
    if raw.format != "NVD_CVE" || !raw.version.starts_with("2.") {
        return Err(NvdError::WrongFormat {
            format: raw.format,
            version: raw.version,
        });
    }
    let timestamp: NvdTime = raw.timestamp.parse().map_err(|reason| NvdError::BadPage {
        field: "timestamp",
        reason,
    })?;
    let n = raw.vulnerabilities.len() as u64;
    if n > raw.results_per_page {
        return Err(NvdError::BadPage {
            field: "resultsPerPage",
            reason: format!("{} but the page lists {n} CVEs", raw.results_per_page),
        });
    }
    if raw.start_index.saturating_add(n) > raw.total_results {
        return Err(NvdError::BadPage {
            field: "totalResults",
            reason: format!(
                "{} but the page ends at record {}",
                raw.total_results,
                raw.start_index.saturating_add(n)
            ),
        });
    }
    let mut records = Vec::with_capacity(raw.vulnerabilities.len());
    let mut seen = std::collections::HashSet::new();
    for (index, item) in raw.vulnerabilities.into_iter().enumerate() {
        let record = record(index, item.cve)?;
        if !seen.insert(record.id.clone()) {
            return Err(NvdError::Duplicate(record.id));
        }
        records.push(record);
    }
    Ok(NvdPage {
        results_per_page: raw.results_per_page,
        start_index: raw.start_index,
        total_results: raw.total_results,
        timestamp,
        records,
    })
}

fn record(index: usize, c: RawCve) -> Result<NvdRecord, NvdError> {
    let id = c.id.trim().to_string();
    if !is_cve_id(&id) {
        return Err(NvdError::BadCveId { index, value: c.id });
    }
    let bad = |field: &str, reason: String| NvdError::BadField {
        cve: id.clone(),
        field: field.to_string(),
        reason,
    };
    let published: NvdTime = c.published.parse().map_err(|r| bad("published", r))?;
    let last_modified: NvdTime = c
        .last_modified
        .parse()
        .map_err(|r| bad("lastModified", r))?;
    let mut metrics = Vec::new();
    let groups = [
        ("cvssMetricV40", CvssVersion::V4_0, c.metrics.v40),
        ("cvssMetricV31", CvssVersion::V3_1, c.metrics.v31),
        ("cvssMetricV30", CvssVersion::V3_0, c.metrics.v30),
        ("cvssMetricV2", CvssVersion::V2, c.metrics.v2),
    ];
    for (group, version, raw) in groups {
        for (i, m) in raw.into_iter().enumerate() {
            let field = |f: &str| format!("metrics.{group}[{i}].{f}");
            let ty = match m.ty.as_str() {
                "Primary" => MetricType::Primary,
                "Secondary" => MetricType::Secondary,
                other => {
                    return Err(bad(
                        &field("type"),
                        format!("expected Primary or Secondary, got {other:?}"),
                    ))
                }
            };
            if m.cvss_data.version != version.as_str() {
                return Err(bad(
                    &field("cvssData.version"),
                    format!("{:?} in {group}", m.cvss_data.version),
                ));
            }
            let vector = m.cvss_data.vector_string.trim().to_string();
            if !vector.starts_with(version.vector_prefix()) {
                return Err(bad(
                    &field("cvssData.vectorString"),
                    format!("{vector:?} is not a CVSS {version} vector"),
                ));
            }
            let score = m.cvss_data.base_score;
            if !(0.0..=10.0).contains(&score) {
                return Err(bad(
                    &field("cvssData.baseScore"),
                    format!("{score} is outside 0..=10"),
                ));
            }
            metrics.push(CvssMetric {
                version,
                vector,
                base_score: score as f32,
                source: m.source,
                ty,
            });
        }
    }
    let mut exploits: Vec<String> = Vec::new();
    for r in c.references {
        let Some(url) = r.url.map(|u| u.trim().to_string()) else {
            continue;
        };
        if exploits.len() < MAX_EXPLOITS
            && !url.is_empty()
            && r.tags.iter().any(|t| t == "Exploit")
            && !exploits.contains(&url)
        {
            exploits.push(url);
        }
    }
    Ok(NvdRecord {
        id,
        published,
        last_modified,
        status: c.vuln_status,
        metrics,
        exploits,
    })
}

/// The store file's format version written. Version 1 stores (before exploit references
/// were kept) are still read; [`NvdStore::is_current`] says whether a store needs to be
/// rebuilt to have them.
pub const NVD_STORE_VERSION: u32 = 2;
/// The oldest store version read.
pub const NVD_STORE_MIN_VERSION: u32 = 1;

/// The compact local copy of NVD: records keyed by CVE, only those with a CVSS metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NvdStore {
    pub version: u32,
    pub records: BTreeMap<String, NvdRecord>,
}

impl Default for NvdStore {
    fn default() -> Self {
        NvdStore {
            version: NVD_STORE_VERSION,
            records: BTreeMap::new(),
        }
    }
}

/// What a [`NvdStore::merge`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeSummary {
    pub added: usize,
    pub updated: usize,
    /// Dropped because a newer record is rejected or has no CVSS any more.
    pub removed: usize,
    /// Not taken: the store's copy is newer (or the same).
    pub kept: usize,
}

impl MergeSummary {
    pub fn changed(&self) -> bool {
        self.added + self.updated + self.removed > 0
    }
}

impl NvdStore {
    pub fn get(&self, cve: &str) -> Option<&NvdRecord> {
        self.records.get(cve)
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Merge newer records in: a record replaces the stored one when its `lastModified`
    /// is later. A newer record that is rejected or carries no CVSS removes the CVE; such
    /// a record for an unknown CVE is not stored (the store holds only what can be used).
    pub fn merge(&mut self, records: impl IntoIterator<Item = NvdRecord>) -> MergeSummary {
        let mut s = MergeSummary::default();
        for r in records {
            let usable = !r.metrics.is_empty() && !r.is_rejected();
            match self.records.get(&r.id) {
                Some(have) if have.last_modified >= r.last_modified => s.kept += 1,
                Some(_) if !usable => {
                    self.records.remove(&r.id);
                    s.removed += 1;
                }
                Some(_) => {
                    self.records.insert(r.id.clone(), r);
                    s.updated += 1;
                }
                None if usable => {
                    self.records.insert(r.id.clone(), r);
                    s.added += 1;
                }
                None => s.kept += 1,
            }
        }
        s
    }

    /// Written in the current format (a version 1 store has no exploit references: a
    /// sync rebuilds it from scratch).
    pub fn is_current(&self) -> bool {
        self.version == NVD_STORE_VERSION
    }

    /// Read a store written by [`NvdStore::to_json`] (this version or an older one it can
    /// read, keeping its version); rejects other versions and keys that do not match their
    /// record.
    pub fn from_json(bytes: &[u8]) -> Result<NvdStore, NvdError> {
        let store: NvdStore =
            serde_json::from_slice(bytes).map_err(|e| NvdError::Store(e.to_string()))?;
        if !(NVD_STORE_MIN_VERSION..=NVD_STORE_VERSION).contains(&store.version) {
            return Err(NvdError::Store(format!(
                "version {}, this build reads versions {NVD_STORE_MIN_VERSION} to {NVD_STORE_VERSION}",
                store.version
            )));
        }
        if let Some((k, r)) = store.records.iter().find(|(k, r)| **k != r.id) {
            return Err(NvdError::Store(format!("key {k} holds record {}", r.id)));
        }
        Ok(store)
    }

    /// Compact JSON (one line).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an NVD store always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_sample(test: &str, name: &str) -> Option<Vec<u8>> {
        let p =
            patchpilot_testdata::shared_file(test, &format!("feeds/distro-samples/nvd/{name}"))?;
        Some(std::fs::read(p).unwrap())
    }

    #[test]
    fn single_entry_sample_parses_with_every_metric() {
        let Some(bytes) = read_sample(
            "single_entry_sample_parses_with_every_metric",
            "single-entry.json",
        ) else {
            return;
        };
        let page = parse_nvd(&bytes).unwrap();
        assert_eq!(
            (page.results_per_page, page.start_index, page.total_results),
            (1, 0, 1)
        );
        assert_eq!(page.timestamp.to_string(), "2023-01-03T21:56:15.797");
        let r = &page.records[0];
        assert_eq!(r.id, "CVE-2022-1576");
        assert_eq!(r.published.to_string(), "2022-07-11T13:15:08.503");
        assert_eq!(r.last_modified.to_string(), "2024-11-21T06:41:00.133");
        assert_eq!(r.status.as_deref(), Some("Modified"));
        let got: Vec<(CvssVersion, &str, f32, &str, MetricType)> = r
            .metrics
            .iter()
            .map(|m| {
                (
                    m.version,
                    m.vector.as_str(),
                    m.base_score,
                    m.source.as_str(),
                    m.ty,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    CvssVersion::V3_1,
                    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:H/A:N",
                    6.5,
                    NVD_SOURCE,
                    MetricType::Primary
                ),
                (
                    CvssVersion::V2,
                    "AV:N/AC:M/Au:N/C:N/I:P/A:N",
                    4.3,
                    NVD_SOURCE,
                    MetricType::Primary
                ),
            ]
        );
        assert_eq!(r.preferred().unwrap().version, CvssVersion::V3_1);
    }

    #[test]
    fn full_page_sample_parses_and_prefers_primary_nvd_metrics() {
        let Some(bytes) = read_sample(
            "full_page_sample_parses_and_prefers_primary_nvd_metrics",
            "full-page.json",
        ) else {
            return;
        };
        let page = parse_nvd(&bytes).unwrap();
        assert_eq!(page.records.len(), 38);
        assert_eq!(page.total_results, 38);
        let no_metrics: Vec<&str> = page
            .records
            .iter()
            .filter(|r| r.metrics.is_empty())
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(
            no_metrics,
            ["CVE-2023-43250", "CVE-2023-45383", "CVE-2023-46009"]
        );
        // References NVD tags `Exploit`: 11 of the 38 CVEs, one each.
        let with_exploit: Vec<&NvdRecord> = page
            .records
            .iter()
            .filter(|r| !r.exploits.is_empty())
            .collect();
        assert_eq!(with_exploit.len(), 11);
        assert!(with_exploit.iter().all(|r| r.exploits.len() == 1));
        let xss = page
            .records
            .iter()
            .find(|r| r.id == "CVE-2023-3706")
            .unwrap();
        assert_eq!(
            xss.exploits,
            ["https://wpscan.com/vulnerability/daa4d93a-f8b1-4809-a18e-8ab63a05de5a"]
        );
        // Two scores, NVD's Primary and NetApp's Secondary: NVD's is used.
        let first = &page.records[0];
        assert_eq!(first.id, "CVE-2023-27314");
        assert_eq!(first.metrics.len(), 2);
        let p = first.preferred().unwrap();
        assert_eq!((p.source.as_str(), p.ty), (NVD_SOURCE, MetricType::Primary));
        // A Patchstack-only record (Secondary) vs. NVD's different Primary score.
        let second = &page.records[1];
        let p = second.preferred().unwrap();
        assert_eq!((p.base_score, p.ty), (8.8, MetricType::Primary));
        assert!(second.metrics.iter().any(|m| m.base_score == 5.4));
        // A CNA's Primary score (not yet analysed by NVD) is used when it is all there is.
        let oracle = page
            .records
            .iter()
            .find(|r| {
                r.metrics
                    .iter()
                    .any(|m| m.source == "secalert_us@oracle.com")
            })
            .unwrap();
        assert_eq!(oracle.preferred().unwrap().ty, MetricType::Primary);
        let mut store = NvdStore::default();
        let s = store.merge(page.records);
        assert_eq!((s.added, s.kept), (35, 3));
    }

    #[test]
    fn preferred_ranks_primary_then_nvd_then_newest() {
        let m = |version, source: &str, ty| CvssMetric {
            version,
            vector: String::new(),
            base_score: 1.0,
            source: source.into(),
            ty,
        };
        let rec = |metrics| NvdRecord {
            id: "CVE-2024-0001".into(),
            published: "2024-01-01T00:00:00".parse().unwrap(),
            last_modified: "2024-01-01T00:00:00".parse().unwrap(),
            status: None,
            metrics,
            exploits: Vec::new(),
        };
        use CvssVersion::*;
        use MetricType::*;
        let cases = [
            (
                vec![m(V4_0, "cna@x", Secondary), m(V3_1, NVD_SOURCE, Primary)],
                (V3_1, Primary),
            ),
            (
                vec![m(V3_1, NVD_SOURCE, Primary), m(V4_0, NVD_SOURCE, Primary)],
                (V4_0, Primary),
            ),
            (
                vec![m(V4_0, "cna@x", Primary), m(V3_1, NVD_SOURCE, Primary)],
                (V3_1, Primary),
            ),
            (
                vec![m(V2, "cna@x", Secondary), m(V3_0, "cna@y", Secondary)],
                (V3_0, Secondary),
            ),
        ];
        for (metrics, want) in cases {
            let r = rec(metrics);
            let p = r.preferred().unwrap();
            assert_eq!((p.version, p.ty), want, "{r:?}");
        }
        assert!(rec(vec![]).preferred().is_none());
    }

    fn page(vulns: &str) -> String {
        format!(
            r#"{{"resultsPerPage":1,"startIndex":0,"totalResults":1,"format":"NVD_CVE","version":"2.0",
            "timestamp":"2024-01-01T00:00:00.000","vulnerabilities":[{vulns}]}}"#
        )
    }

    fn cve(id: &str, metrics: &str) -> String {
        format!(
            r#"{{"cve":{{"id":"{id}","published":"2024-01-01T00:00:00.000","lastModified":"2024-02-01T00:00:00.000",
            "descriptions":[],"references":[],"newField":{{"x":1}},"metrics":{{{metrics}}}}}}}"#
        )
    }

    const V31: &str = r#""cvssMetricV31":[{"source":"nvd@nist.gov","type":"Primary","cvssData":{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","baseScore":9.8}}]"#;

    #[test]
    fn tolerates_unknown_fields() {
        let p = parse_nvd(page(&cve("CVE-2024-0001", V31)).as_bytes()).unwrap();
        assert_eq!(p.records[0].preferred().unwrap().base_score, 9.8);
    }

    #[test]
    fn rejects_garbage_and_wrong_schemas_with_a_reason() {
        let kev = r#"{"title":"t","catalogVersion":"1","dateReleased":"2024-01-01","count":0,"vulnerabilities":[]}"#;
        let cases: Vec<(String, &str)> = vec![
            (
                "<html>Forbidden</html>".into(),
                "not an NVD CVE API 2.0 page",
            ),
            (String::new(), "not an NVD CVE API 2.0 page"),
            (kev.into(), "missing field"),
            (
                page(&cve("CVE-2024-0001", V31)).replace("NVD_CVE", "NVD_CPE"),
                "format \"NVD_CPE\"",
            ),
            (
                page(&cve("CVE-2024-0001", V31)).replace("\"2.0\",", "\"1.0\","),
                "version \"1.0\"",
            ),
            (page(&cve("CVE-2024-0001", V31))[..120].into(), "not an NVD"),
            (page(&cve("CVE-24-1", V31)), "CVE-YYYY-NNNN"),
            (
                page(&cve("CVE-2024-0001", V31)).replace("\"descriptions\":[],", ""),
                "missing field `descriptions`",
            ),
            (
                page(&cve("CVE-2024-0001", &V31.replace("\"3.1\"", "\"3.0\""))),
                "cvssData.version",
            ),
            (
                page(&cve("CVE-2024-0001", &V31.replace("Primary", "Tertiary"))),
                "Primary or Secondary",
            ),
            (
                page(&cve("CVE-2024-0001", &V31.replace("9.8", "98"))),
                "outside 0..=10",
            ),
            (
                page(&cve("CVE-2024-0001", &V31.replace("CVSS:3.1/", ""))),
                "not a CVSS 3.1 vector",
            ),
            (
                page(&cve("CVE-2024-0001", V31)).replace("2024-02-01T00:00:00.000", "yesterday"),
                "lastModified",
            ),
            (
                page(&format!(
                    "{},{}",
                    cve("CVE-2024-0001", V31),
                    cve("CVE-2024-0001", V31)
                ))
                .replace("\"resultsPerPage\":1", "\"resultsPerPage\":2")
                .replace("\"totalResults\":1", "\"totalResults\":2"),
                "more than once",
            ),
            (
                page(&format!(
                    "{},{}",
                    cve("CVE-2024-0001", V31),
                    cve("CVE-2024-0002", V31)
                )),
                "resultsPerPage",
            ),
            (
                page(&cve("CVE-2024-0001", V31)).replace("\"startIndex\":0", "\"startIndex\":5"),
                "totalResults",
            ),
        ];
        for (text, want) in cases {
            let err = parse_nvd(text.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(want), "error {err:?} should mention {want:?}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn times_parse_compare_and_convert() {
        let t: NvdTime = "2024-11-21T06:41:00.133".parse().unwrap();
        assert_eq!(t.to_string(), "2024-11-21T06:41:00.133");
        assert_eq!(t.date().to_string(), "2024-11-21");
        let cases = [
            ("2024-11-21T06:41:00.133Z", "2024-11-21T06:41:00.133"),
            ("2024-11-21T06:41:00", "2024-11-21T06:41:00.000"),
            ("2024-11-21T06:41:00.5", "2024-11-21T06:41:00.500"),
            ("2024-11-21T06:41:00.123456789", "2024-11-21T06:41:00.123"),
            ("2024-11-21T00:30:00.000+01:00", "2024-11-20T23:30:00.000"),
            ("2024-12-31T23:30:00-01:00", "2025-01-01T00:30:00.000"),
        ];
        for (s, want) in cases {
            assert_eq!(s.parse::<NvdTime>().unwrap().to_string(), want, "{s}");
        }
        for bad in [
            "",
            "2024-11-21",
            "2024-11-21 06:41:00",
            "2024-11-21T25:00:00",
            "2024-11-21T06:41:00.",
            "2024-11-21T06:41:00+0100",
            "2024-02-30T00:00:00",
            "2024-11-21T06:41:00.1234567890",
            "2024-11-21T06:41:00+-1:00",
            "２０２４-11-21T06:41:00",
        ] {
            assert!(bad.parse::<NvdTime>().is_err(), "{bad}");
        }
        let a: NvdTime = "2024-01-01T00:00:00.999".parse().unwrap();
        let b: NvdTime = "2024-01-01T00:00:01".parse().unwrap();
        assert!(a < b);
        let epoch = NvdTime::from_unix(0);
        assert_eq!(epoch.to_string(), "1970-01-01T00:00:00.000");
        let t = NvdTime::from_unix(1_700_000_000);
        assert_eq!(t.to_string(), "2023-11-14T22:13:20.000");
        assert_eq!(t.unix_secs(), 1_700_000_000);
        assert_eq!(t.add_days(120).unix_secs(), 1_700_000_000 + 120 * 86_400);
    }

    fn rec(id: &str, modified: &str, score: Option<f32>, status: Option<&str>) -> NvdRecord {
        NvdRecord {
            id: id.into(),
            published: "2024-01-01T00:00:00".parse().unwrap(),
            last_modified: modified.parse().unwrap(),
            status: status.map(str::to_string),
            metrics: score
                .map(|s| CvssMetric {
                    version: CvssVersion::V3_1,
                    vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
                    base_score: s,
                    source: NVD_SOURCE.into(),
                    ty: MetricType::Primary,
                })
                .into_iter()
                .collect(),
            exploits: Vec::new(),
        }
    }

    #[test]
    fn merge_keeps_the_newer_record() {
        let mut st = NvdStore::default();
        let s = st.merge([
            rec("CVE-2024-0001", "2024-02-01T00:00:00", Some(5.0), None),
            rec("CVE-2024-0002", "2024-02-01T00:00:00", None, None),
        ]);
        assert_eq!((s.added, s.kept), (1, 1));
        let s = st.merge([
            rec("CVE-2024-0001", "2024-01-15T00:00:00", Some(1.0), None),
            rec("CVE-2024-0001", "2024-02-01T00:00:00", Some(2.0), None),
        ]);
        assert_eq!((s.kept, s.changed()), (2, false));
        assert_eq!(st.get("CVE-2024-0001").unwrap().metrics[0].base_score, 5.0);
        let s = st.merge([rec("CVE-2024-0001", "2024-03-01T00:00:00", Some(7.5), None)]);
        assert_eq!(s.updated, 1);
        assert_eq!(st.get("CVE-2024-0001").unwrap().metrics[0].base_score, 7.5);
        let s = st.merge([rec(
            "CVE-2024-0001",
            "2024-04-01T00:00:00",
            Some(7.5),
            Some("Rejected"),
        )]);
        assert_eq!(s.removed, 1);
        assert!(st.is_empty());

        st.merge([rec(
            "CVE-2024-0003",
            "2024-02-01T00:00:00.5",
            Some(9.8),
            None,
        )]);
        let back = NvdStore::from_json(&st.to_json()).unwrap();
        assert_eq!(back, st);
        assert!(back.is_current());
        // A version 1 store (no exploit references) still reads, and says it is old.
        let mut v1 = st.clone();
        v1.version = 1;
        let old = NvdStore::from_json(&v1.to_json()).unwrap();
        assert!(!old.is_current());
        assert_eq!(old.records, st.records);
        let mut wrong = st.clone();
        wrong.version = 7;
        assert!(NvdStore::from_json(&wrong.to_json())
            .unwrap_err()
            .to_string()
            .contains("version 7"));
        let json = String::from_utf8(st.to_json()).unwrap().replacen(
            "\"CVE-2024-0003\":",
            "\"CVE-2024-9999\":",
            1,
        );
        assert!(NvdStore::from_json(json.as_bytes()).is_err());
        assert!(NvdStore::from_json(b"{").is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_input_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            if let Err(e) = parse_nvd(&bytes) {
                proptest::prop_assert!(!e.to_string().contains('\n'));
            }
            let _ = NvdStore::from_json(&bytes);
        }

        #[test]
        fn arbitrary_times_never_panic_and_round_trip(s in "[0-9T:.Z+-]{0,30}") {
            if let Ok(t) = s.parse::<NvdTime>() {
                proptest::prop_assert_eq!(t.to_string().parse::<NvdTime>().unwrap(), t);
            }
        }
    }
}
