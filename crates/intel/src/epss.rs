//! FIRST EPSS daily scores (`epss_scores-YYYY-MM-DD.csv[.gz]`).
//!
//! The file is one optional comment line `#model_version:v2023.03.01,score_date:2026-09-29T..Z`,
//! the header `cve,epss,percentile`, then one row per CVE. [`parse_epss`] takes the bytes as
//! downloaded: gzip is recognised by its magic bytes (`1f 8b`), never by a file name, so a
//! mirror that serves either form works. Every row is validated (CVE ID, both numbers finite
//! and in `0..=1`, no CVE twice); the first bad row rejects the whole file with its line
//! number, so an import keeps the previous scores rather than a partial set.
//!
//! Decompression is capped ([`MAX_DECOMPRESSED`]) so a hostile mirror cannot exhaust memory;
//! the real file is about 10 MB uncompressed.

use std::collections::HashMap;
use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::kev::is_cve_id;

/// Decompressed-size cap for a gzip EPSS file.
pub const MAX_DECOMPRESSED: u64 = 512 * 1024 * 1024;

/// The EPSS probability of exploitation activity in the next 30 days, and its percentile
/// among all scored CVEs. Both in `0..=1`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpssScore {
    pub epss: f32,
    pub percentile: f32,
}

/// One day's EPSS scores.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EpssScores {
    /// `model_version` from the comment line, e.g. `v2026.06.15`.
    pub model_version: Option<String>,
    /// The date part of `score_date` from the comment line.
    pub score_date: Option<Date>,
    pub scores: HashMap<String, EpssScore>,
}

impl EpssScores {
    pub fn get(&self, cve: &str) -> Option<EpssScore> {
        self.scores.get(cve).copied()
    }

    pub fn len(&self) -> usize {
        self.scores.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }
}

/// Why an EPSS file was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EpssError {
    #[error("EPSS file: gzip data is corrupt or truncated: {0}")]
    Gzip(String),
    #[error("EPSS file: decompressed size exceeds {MAX_DECOMPRESSED} bytes")]
    TooLarge,
    #[error("EPSS file is not UTF-8 text")]
    NotText,
    #[error("EPSS file is empty")]
    Empty,
    #[error("EPSS file line {line}: bad comment line: {reason}")]
    BadComment { line: usize, reason: String },
    #[error("EPSS file line {line}: expected header \"cve,epss,percentile\", got {got:?}")]
    BadHeader { line: usize, got: String },
    #[error("EPSS file line {line}: {reason}")]
    BadRow { line: usize, reason: String },
    #[error("EPSS file line {line}: {cve} scored twice")]
    Duplicate { line: usize, cve: String },
}

fn decompress(bytes: &[u8]) -> Result<Vec<u8>, EpssError> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut out)
        .map_err(|e| EpssError::Gzip(e.to_string()))?;
    if out.len() as u64 > MAX_DECOMPRESSED {
        return Err(EpssError::TooLarge);
    }
    Ok(out)
}

fn parse_comment(line: usize, text: &str) -> Result<(Option<String>, Option<Date>), EpssError> {
    let mut model = None;
    let mut date = None;
    for part in text.trim_start_matches('#').split(',') {
        let Some((key, value)) = part.split_once(':') else {
            return Err(EpssError::BadComment {
                line,
                reason: format!("expected key:value, got {part:?}"),
            });
        };
        match key.trim() {
            "model_version" => model = Some(value.trim().to_string()),
            "score_date" => {
                date = Some(
                    Date::parse_prefix(value).map_err(|e| EpssError::BadComment {
                        line,
                        reason: e.to_string(),
                    })?,
                )
            }
            _ => {} // unknown keys are tolerated: FIRST may add metadata
        }
    }
    Ok((model, date))
}

fn unit(line: usize, what: &str, s: &str) -> Result<f32, EpssError> {
    let v: f32 = s.trim().parse().map_err(|_| EpssError::BadRow {
        line,
        reason: format!("{what} {s:?} is not a number"),
    })?;
    if !(0.0..=1.0).contains(&v) {
        return Err(EpssError::BadRow {
            line,
            reason: format!("{what} {s:?} is outside 0..=1"),
        });
    }
    Ok(v)
}

/// Parse an EPSS scores file, plain CSV or gzip.
pub fn parse_epss(bytes: &[u8]) -> Result<EpssScores, EpssError> {
    let owned;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        owned = decompress(bytes)?;
        &owned[..]
    } else {
        bytes
    };
    let text = std::str::from_utf8(bytes).map_err(|_| EpssError::NotText)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')));

    let mut out = EpssScores::default();
    let (mut n, mut first) = lines.next().ok_or(EpssError::Empty)?;
    if first.starts_with('#') {
        (out.model_version, out.score_date) = parse_comment(n, first)?;
        (n, first) = lines.next().ok_or(EpssError::BadHeader {
            line: n + 1,
            got: String::new(),
        })?;
    }
    let header: Vec<&str> = first.split(',').map(str::trim).collect();
    if header != ["cve", "epss", "percentile"] {
        return Err(EpssError::BadHeader {
            line: n,
            got: first.chars().take(80).collect(),
        });
    }
    for (line, row) in lines {
        if row.trim().is_empty() {
            continue;
        }
        let mut fields = row.split(',');
        let (Some(cve), Some(epss), Some(pct), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(EpssError::BadRow {
                line,
                reason: format!(
                    "expected 3 fields cve,epss,percentile, got {:?}",
                    row.chars().take(80).collect::<String>()
                ),
            });
        };
        let cve = cve.trim();
        if !is_cve_id(cve) {
            return Err(EpssError::BadRow {
                line,
                reason: format!("{cve:?} is not a CVE ID"),
            });
        }
        let score = EpssScore {
            epss: unit(line, "epss", epss)?,
            percentile: unit(line, "percentile", pct)?,
        };
        if out.scores.insert(cve.to_string(), score).is_some() {
            return Err(EpssError::Duplicate {
                line,
                cve: cve.to_string(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const SAMPLE: &str = "#model_version:v2023.03.01,score_date:2024-05-02T00:00:00+0000\n\
                          cve,epss,percentile\n\
                          CVE-2024-0001,0.94,0.99\r\n\
                          CVE-2024-0002,0.00043,0.1\n\n";

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn parses_plain_and_gzip_alike() {
        let plain = parse_epss(SAMPLE.as_bytes()).unwrap();
        assert_eq!(plain.model_version.as_deref(), Some("v2023.03.01"));
        assert_eq!(plain.score_date.unwrap().to_string(), "2024-05-02");
        assert_eq!(plain.len(), 2);
        assert_eq!(
            plain.get("CVE-2024-0001"),
            Some(EpssScore {
                epss: 0.94,
                percentile: 0.99
            })
        );
        assert_eq!(parse_epss(&gz(SAMPLE.as_bytes())).unwrap(), plain);
    }

    #[test]
    fn comment_line_is_optional() {
        let s = parse_epss(b"cve,epss,percentile\nCVE-2020-0001,0.5,0.5\n").unwrap();
        assert_eq!(s.model_version, None);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn rejects_bad_files_with_a_reason() {
        let full = gz(SAMPLE.as_bytes());
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (full[..full.len() - 6].to_vec(), "corrupt or truncated"),
            (vec![0x1f, 0x8b, 0, 1, 2, 3], "corrupt or truncated"),
            (b"".to_vec(), "empty"),
            (vec![0xff, 0xfe, 0x00], "not UTF-8"),
            (b"<html>not found</html>".to_vec(), "expected header"),
            (b"#model_version:v1\n".to_vec(), "expected header"),
            (b"#garbage\ncve,epss,percentile\n".to_vec(), "key:value"),
            (b"cve,epss\nCVE-2020-0001,0.5\n".to_vec(), "expected header"),
            (
                b"cve,epss,percentile\nCVE-2020-0001,0.5\n".to_vec(),
                "line 2: expected 3 fields",
            ),
            (
                b"cve,epss,percentile\nCVE-2020-0001,0.5,0.5,1\n".to_vec(),
                "expected 3 fields",
            ),
            (
                b"cve,epss,percentile\nCVE-2020-0001,abc,0.5\n".to_vec(),
                "not a number",
            ),
            (
                b"cve,epss,percentile\nCVE-2020-0001,1.5,0.5\n".to_vec(),
                "outside 0..=1",
            ),
            (
                b"cve,epss,percentile\nCVE-2020-0001,NaN,0.5\n".to_vec(),
                "outside 0..=1",
            ),
            (
                b"cve,epss,percentile\nCVE-2020-0001,0.1,-0.5\n".to_vec(),
                "outside 0..=1",
            ),
            (
                b"cve,epss,percentile\nGHSA-1,0.1,0.5\n".to_vec(),
                "not a CVE ID",
            ),
            (
                b"cve,epss,percentile\nCVE-2020-0001,0.1,0.5\nCVE-2020-0001,0.1,0.5\n".to_vec(),
                "line 3: CVE-2020-0001 scored twice",
            ),
        ];
        for (bytes, want) in cases {
            let err = parse_epss(&bytes).unwrap_err().to_string();
            assert!(err.contains(want), "error {err:?} should mention {want:?}");
        }
    }
}
