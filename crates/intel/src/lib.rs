//! Threat-intelligence feed parsers: the CISA KEV catalog, FIRST EPSS scores and NVD CVE
//! API 2.0 pages (for CVSS where an advisory has none).
//!
//! *Pure*: functions take the bytes a feed served and return typed, validated values or an
//! error that names the reason (and the line or entry). No network, no files, no clock: the
//! download, conditional requests, resume and atomic swap belong to the feed-sync layer,
//! which calls [`parse_kev`] / [`parse_epss`] / [`parse_nvd`] on a complete download before
//! replacing the previous data. Rejecting a whole file on the first bad record is
//! deliberate: a feed that half-parses is a feed that has changed shape, and old-but-whole
//! data beats new-but-partial.
//!
//! [`Date`] is the civil date type shared with `patchpilot-risk` (due dates, KEV dates).

pub mod date;
pub mod epss;
pub mod kev;
pub mod nvd;

pub use date::{Date, DateError};
pub use epss::{parse_epss, EpssError, EpssScore, EpssScores};
pub use kev::{is_cve_id, parse_kev, KevCatalog, KevEntry, KevError, RansomwareUse};
pub use nvd::{parse_nvd, NvdError, NvdPage, NvdRecord, NvdStore, NvdTime};
