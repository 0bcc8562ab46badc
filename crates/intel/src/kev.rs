//! The CISA Known Exploited Vulnerabilities catalog (`known_exploited_vulnerabilities.json`).
//!
//! Parsed in two steps: serde reads the upstream shape (camelCase, every field a string), then
//! [`parse_kev`] validates each entry into typed values (CVE ID pattern, dates, ransomware
//! flag) and the catalog as a whole (`count` must equal the number of entries, no CVE twice).
//! A catalog that fails any check is rejected whole, so a feed import can keep the previous
//! catalog instead of storing a half-understood one.
//!
//! Older catalogs (before late 2023) have no `knownRansomwareCampaignUse`; it reads as
//! [`RansomwareUse::Unknown`], which is also what CISA publishes when it lacks confirmation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::date::Date;

/// Whether CISA knows the vulnerability to have been used in a ransomware campaign.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum RansomwareUse {
    /// CISA lacks confirmation (or the catalog predates the field).
    #[default]
    Unknown,
    /// Known to have been leveraged in a ransomware campaign.
    Known,
}

/// One catalog entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevEntry {
    pub cve: String,
    pub vendor: String,
    pub product: String,
    pub name: String,
    pub date_added: Date,
    /// The remediation deadline CISA set for federal agencies (BOD 22-01).
    pub due_date: Date,
    pub known_ransomware_campaign_use: RansomwareUse,
    pub short_description: String,
    pub required_action: String,
    pub notes: String,
    pub cwes: Vec<String>,
}

impl KevEntry {
    pub fn ransomware_known(&self) -> bool {
        self.known_ransomware_campaign_use == RansomwareUse::Known
    }
}

/// A whole catalog: version, release date and entries by CVE ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevCatalog {
    /// `catalogVersion`, e.g. `2026.08.07`.
    pub version: String,
    /// The date part of `dateReleased`.
    pub released: Date,
    pub entries: BTreeMap<String, KevEntry>,
}

impl KevCatalog {
    pub fn get(&self, cve: &str) -> Option<&KevEntry> {
        self.entries.get(cve)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in `self` whose CVE is not in `older`, in CVE order: what a catalog update added.
    pub fn added_since<'a>(&'a self, older: &KevCatalog) -> Vec<&'a KevEntry> {
        self.entries
            .iter()
            .filter(|(cve, _)| !older.entries.contains_key(*cve))
            .map(|(_, e)| e)
            .collect()
    }
}

/// Why a KEV catalog was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KevError {
    #[error("KEV catalog is not valid JSON of the expected schema: {0}")]
    Json(String),
    #[error("KEV catalog declares count {declared} but lists {actual} vulnerabilities (truncated or corrupt?)")]
    CountMismatch { declared: u64, actual: usize },
    #[error("KEV entry #{index}: cveID {value:?} is not of the form CVE-YYYY-NNNN")]
    BadCveId { index: usize, value: String },
    #[error("KEV entry {cve}: invalid {field}: {reason}")]
    BadField {
        cve: String,
        field: &'static str,
        reason: String,
    },
    #[error("KEV catalog lists {0} more than once")]
    Duplicate(String),
    #[error("KEV catalog: invalid dateReleased: {0}")]
    BadReleased(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCatalog {
    catalog_version: String,
    date_released: String,
    count: u64,
    vulnerabilities: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    #[serde(rename = "cveID")]
    cve_id: String,
    vendor_project: String,
    product: String,
    vulnerability_name: String,
    date_added: String,
    short_description: String,
    required_action: String,
    due_date: String,
    #[serde(default)]
    known_ransomware_campaign_use: Option<String>,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    cwes: Vec<String>,
}

/// True when `s` matches `^CVE-[0-9]{4}-[0-9]{4,19}$` (the schema's pattern).
pub fn is_cve_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, num)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && (4..=19).contains(&num.len())
        && year.bytes().all(|b| b.is_ascii_digit())
        && num.bytes().all(|b| b.is_ascii_digit())
}

/// Parse and validate a KEV catalog from its JSON bytes.
pub fn parse_kev(bytes: &[u8]) -> Result<KevCatalog, KevError> {
    let raw: RawCatalog =
        serde_json::from_slice(bytes).map_err(|e| KevError::Json(e.to_string()))?;
    if raw.count != raw.vulnerabilities.len() as u64 {
        return Err(KevError::CountMismatch {
            declared: raw.count,
            actual: raw.vulnerabilities.len(),
        });
    }
    let released =
        Date::parse_prefix(&raw.date_released).map_err(|e| KevError::BadReleased(e.to_string()))?;
    let mut entries = BTreeMap::new();
    for (index, v) in raw.vulnerabilities.into_iter().enumerate() {
        let cve = v.cve_id.trim().to_string();
        if !is_cve_id(&cve) {
            return Err(KevError::BadCveId {
                index,
                value: v.cve_id,
            });
        }
        let bad = |field: &'static str, reason: String| KevError::BadField {
            cve: cve.clone(),
            field,
            reason,
        };
        let date_added = v
            .date_added
            .trim()
            .parse::<Date>()
            .map_err(|e| bad("dateAdded", e.to_string()))?;
        let due_date = v
            .due_date
            .trim()
            .parse::<Date>()
            .map_err(|e| bad("dueDate", e.to_string()))?;
        let ransomware = match v.known_ransomware_campaign_use.as_deref().map(str::trim) {
            None => RansomwareUse::Unknown,
            Some(s) if s.eq_ignore_ascii_case("known") => RansomwareUse::Known,
            Some(s) if s.eq_ignore_ascii_case("unknown") => RansomwareUse::Unknown,
            Some(other) => {
                return Err(bad(
                    "knownRansomwareCampaignUse",
                    format!("expected \"Known\" or \"Unknown\", got {other:?}"),
                ))
            }
        };
        let entry = KevEntry {
            cve: cve.clone(),
            vendor: v.vendor_project,
            product: v.product,
            name: v.vulnerability_name,
            date_added,
            due_date,
            known_ransomware_campaign_use: ransomware,
            short_description: v.short_description,
            required_action: v.required_action,
            notes: v.notes,
            cwes: v.cwes,
        };
        if entries.insert(cve.clone(), entry).is_some() {
            return Err(KevError::Duplicate(cve));
        }
    }
    Ok(KevCatalog {
        version: raw.catalog_version,
        released,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(cve: &str, extra: &str) -> String {
        format!(
            r#"{{"cveID":"{cve}","vendorProject":"V","product":"P","vulnerabilityName":"N",
            "dateAdded":"2024-05-02","shortDescription":"d","requiredAction":"a",
            "dueDate":"2024-05-23"{extra}}}"#
        )
    }

    fn catalog(count: usize, entries: &[String]) -> Vec<u8> {
        format!(
            r#"{{"title":"t","catalogVersion":"2024.05.02","dateReleased":"2024-05-02T12:00:00.000Z",
            "count":{count},"vulnerabilities":[{}]}}"#,
            entries.join(",")
        )
        .into_bytes()
    }

    #[test]
    fn parses_a_minimal_catalog() {
        let c = parse_kev(&catalog(
            2,
            &[
                entry(
                    "CVE-2024-1234",
                    r#","knownRansomwareCampaignUse":"Known","cwes":["CWE-78"]"#,
                ),
                entry("CVE-2023-12345", ""),
            ],
        ))
        .unwrap();
        assert_eq!(c.version, "2024.05.02");
        assert_eq!(c.released.to_string(), "2024-05-02");
        assert_eq!(c.len(), 2);
        let e = c.get("CVE-2024-1234").unwrap();
        assert!(e.ransomware_known());
        assert_eq!(e.due_date.to_string(), "2024-05-23");
        assert_eq!(e.cwes, vec!["CWE-78".to_string()]);
        assert_eq!(
            c.get("CVE-2023-12345")
                .unwrap()
                .known_ransomware_campaign_use,
            RansomwareUse::Unknown
        );
    }

    #[test]
    fn rejects_bad_catalogs_with_a_reason() {
        let ok = entry("CVE-2024-1234", "");
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"not json".to_vec(), "not valid JSON"),
            (b"{\"catalogVersion\":\"x\"}".to_vec(), "missing field"),
            (catalog(2, std::slice::from_ref(&ok)), "declares count 2"),
            (catalog(1, &[entry("CVE-24-1", "")]), "CVE-YYYY-NNNN"),
            (
                catalog(1, &[entry("CVE-2024-1234", "")])
                    .split_at(60)
                    .0
                    .to_vec(),
                "not valid JSON",
            ),
            (
                catalog(
                    1,
                    &[entry(
                        "CVE-2024-1234",
                        r#","knownRansomwareCampaignUse":"Maybe""#,
                    )],
                ),
                "knownRansomwareCampaignUse",
            ),
            (catalog(2, &[ok.clone(), ok.clone()]), "more than once"),
            (
                catalog(1, &[ok.replace("2024-05-23", "2024-02-30")]),
                "dueDate",
            ),
        ];
        for (bytes, want) in cases {
            let err = parse_kev(&bytes).unwrap_err().to_string();
            assert!(err.contains(want), "error {err:?} should mention {want:?}");
        }
    }

    #[test]
    fn cve_id_pattern() {
        for ok in [
            "CVE-2021-44228",
            "CVE-1999-0001",
            "CVE-2024-1234567890123456789",
        ] {
            assert!(is_cve_id(ok), "{ok}");
        }
        for bad in [
            "cve-2021-44228",
            "CVE-2021-123",
            "CVE-21-44228",
            "CVE-2021-44228 ",
            "GHSA-xxxx",
            "CVE-2021-12345678901234567890",
        ] {
            assert!(!is_cve_id(bad), "{bad}");
        }
    }
}
