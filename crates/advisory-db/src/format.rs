//! The on-disk format of `advisories.db`.
//!
//! ```text
//! offset  size  field
//! 0       8     magic  b"PPADVDB\n"
//! 8       4     format version, u32 little-endian (FORMAT_VERSION)
//! 12      4     CRC-32 of the table (bytes 24 .. 32+m), u32 little-endian
//! 16      8     body length (everything after the header), u64 little-endian
//! 24      8     m = length of the table, u64 little-endian
//! 32      m     table: bincode of `Table` (written_at, sources, sections with CRCs)
//! ...           sections, each bincode, each with its own CRC-32 in the table:
//!               one per ecosystem (`Vec<Advisory>` without `details`), and one
//!               `details` section (`Vec<(id, details)>`)
//! ```
//!
//! Sections exist so that a scan reads and decodes only what it needs: a `Cargo.lock`
//! needs the crates.io section, not 4,000 Go and PyPI records, and matching never needs the
//! long `details` text. An advisory that affects several ecosystems is stored in each of
//! their sections (rare; readers merge by id). Advisories without `affected` go to the
//! section named `""`.
//!
//! bincode is not self-describing, so any change to `Payload` or to the OSV types it
//! contains must bump [`FORMAT_VERSION`]; an old file then gets a clear "import again"
//! error instead of garbage, unless the change is only in the table and the old table is
//! still read: version 3 (before sources recorded their coverage) is, its sources
//! with coverage unknown; the next import writes version 4. The checksums catch torn or bit-flipped files (each section
//! when it is read); the decode has a byte limit so a corrupt length can never ask for a
//! huge allocation.

use bincode::Options;
use patchpilot_osv::Advisory;
use serde::{Deserialize, Serialize};

use crate::SourceInfo;

pub(crate) const MAGIC: &[u8; 8] = b"PPADVDB\n";
/// Bump on any change to the stored types (including `patchpilot_osv::Advisory`).
/// 4: `SourceInfo::coverage`.
pub const FORMAT_VERSION: u32 = 4;
/// The previous version, whose table is still read (same sections, sources without
/// coverage).
const FORMAT_VERSION_3: u32 = 3;
const HEADER_LEN: usize = 24;

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Payload {
    /// Unix seconds of the write.
    pub written_at: u64,
    pub sources: Vec<SourceInfo>,
    /// Sorted by id, unique.
    pub advisories: Vec<Advisory>,
}

/// The table at the start of the payload: everything but the advisories.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Table {
    pub written_at: u64,
    pub sources: Vec<SourceInfo>,
    pub sections: Vec<Section>,
}

/// The table of format version 3: sources without coverage.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct TableV3 {
    written_at: u64,
    sources: Vec<SourceInfoV3>,
    sections: Vec<Section>,
}

/// [`SourceInfo`] of format version 3.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct SourceInfoV3 {
    name: String,
    path: String,
    kind: crate::SourceKind,
    imported_at: u64,
    records: usize,
    rejected: usize,
}

impl From<TableV3> for Table {
    fn from(t: TableV3) -> Table {
        Table {
            written_at: t.written_at,
            sources: t
                .sources
                .into_iter()
                .map(|s| SourceInfo {
                    name: s.name,
                    path: s.path,
                    kind: s.kind,
                    imported_at: s.imported_at,
                    records: s.records,
                    rejected: s.rejected,
                    coverage: None,
                })
                .collect(),
            sections: t.sections,
        }
    }
}

#[cfg(test)]
impl From<Table> for TableV3 {
    fn from(t: Table) -> TableV3 {
        TableV3 {
            written_at: t.written_at,
            sources: t
                .sources
                .into_iter()
                .map(|s| SourceInfoV3 {
                    name: s.name,
                    path: s.path,
                    kind: s.kind,
                    imported_at: s.imported_at,
                    records: s.records,
                    rejected: s.rejected,
                })
                .collect(),
            sections: t.sections,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Section {
    /// The OSV ecosystem name without release (`Debian`, `crates.io`), or `""`; for the
    /// details section, [`DETAILS`].
    pub ecosystem: String,
    /// Offset from the start of the body, and length, in bytes.
    pub start: u64,
    pub len: u64,
    pub crc: u32,
}

/// The name of the section that holds every advisory's `details`.
const DETAILS: &str = "\0details";

/// The section names an advisory belongs in.
fn section_keys(a: &Advisory) -> std::collections::BTreeSet<&str> {
    let mut keys: std::collections::BTreeSet<&str> =
        a.affected.iter().map(|x| x.ecosystem.as_str()).collect();
    if keys.is_empty() {
        keys.insert("");
    }
    keys
}

/// Why a file could not be decoded.
#[derive(Debug)]
pub(crate) enum DecodeError {
    /// Another format version (older or newer build).
    Version(u32),
    Corrupt(String),
}

fn options() -> impl Options {
    bincode::DefaultOptions::new()
        .with_varint_encoding()
        .with_little_endian()
        .reject_trailing_bytes()
}

pub(crate) fn encode(payload: &Payload) -> Result<Vec<u8>, String> {
    encode_as(payload, FORMAT_VERSION)
}

/// [`encode`] in format `version` (tests write version 3 files, to read them back).
fn encode_as(payload: &Payload, version: u32) -> Result<Vec<u8>, String> {
    let err = |e: bincode::Error| format!("cannot encode the database: {e}");
    let mut by_key: std::collections::BTreeMap<&str, Vec<Advisory>> = Default::default();
    let mut details: Vec<(&str, &str)> = Vec::new();
    for a in &payload.advisories {
        if let Some(d) = &a.details {
            details.push((&a.id, d));
        }
        let light = Advisory {
            details: None,
            ..a.clone()
        };
        for k in section_keys(a) {
            by_key.entry(k).or_default().push(light.clone());
        }
    }
    let mut blobs = Vec::with_capacity(by_key.len() + 1);
    for (k, list) in &by_key {
        blobs.push((k.to_string(), options().serialize(list).map_err(err)?));
    }
    blobs.push((
        DETAILS.to_string(),
        options().serialize(&details).map_err(err)?,
    ));
    // The table's size depends on the offsets it holds, and varints make its length
    // depend on the values: iterate until the length is stable (two rounds in practice).
    let mut table_len = 0u64;
    let table = loop {
        let mut sections = Vec::with_capacity(blobs.len());
        let mut at = 8 + table_len;
        for (k, b) in &blobs {
            sections.push(Section {
                ecosystem: k.clone(),
                start: at,
                len: b.len() as u64,
                crc: crc32fast::hash(b),
            });
            at += b.len() as u64;
        }
        let table = Table {
            written_at: payload.written_at,
            sources: payload.sources.clone(),
            sections,
        };
        let table = match version {
            #[cfg(test)]
            FORMAT_VERSION_3 => options().serialize(&TableV3::from(table)),
            _ => options().serialize(&table),
        }
        .map_err(err)?;
        if table.len() as u64 == table_len {
            break table;
        }
        table_len = table.len() as u64;
    };
    let mut body =
        Vec::with_capacity(8 + table.len() + blobs.iter().map(|b| b.1.len()).sum::<usize>());
    body.extend_from_slice(&(table.len() as u64).to_le_bytes());
    body.extend_from_slice(&table);
    let table_crc = crc32fast::hash(&body);
    for (_, b) in &blobs {
        body.extend_from_slice(b);
    }
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&table_crc.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decode the whole database.
#[cfg(test)]
pub(crate) fn decode(bytes: &[u8]) -> Result<Payload, DecodeError> {
    let len = bytes.len() as u64;
    decode_only(&mut std::io::Cursor::new(bytes), len, None)
}

/// Decode the table and the sections of `only` (all, with details, when `None`) from a
/// file of `file_len` bytes, reading only those sections. Advisories come out sorted by id
/// and unique.
pub(crate) fn decode_only<R: std::io::Read + std::io::Seek>(
    file: &mut R,
    file_len: u64,
    only: Option<&[&str]>,
) -> Result<Payload, DecodeError> {
    let corrupt = |s: &str| DecodeError::Corrupt(s.to_string());
    let io = |e: std::io::Error| DecodeError::Corrupt(format!("cannot read: {e}"));
    if file_len < HEADER_LEN as u64 + 8 {
        return Err(corrupt("file too short"));
    }
    let mut header = [0u8; HEADER_LEN + 8];
    file.read_exact(&mut header).map_err(io)?;
    if &header[0..8] != MAGIC {
        return Err(corrupt("not a patchpilot advisory database (bad magic)"));
    }
    let u32_at = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().expect("4 bytes"));
    let u64_at = |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().expect("8 bytes"));
    let version = u32_at(8);
    if version != FORMAT_VERSION && version != FORMAT_VERSION_3 {
        return Err(DecodeError::Version(version));
    }
    let body_len = u64_at(16);
    if body_len != file_len - HEADER_LEN as u64 {
        return Err(corrupt("length mismatch (truncated file?)"));
    }
    let table_len = u64_at(24);
    if table_len > body_len - 8 {
        return Err(corrupt("table length outside the file"));
    }
    let mut table_bytes = vec![0u8; table_len as usize];
    file.read_exact(&mut table_bytes).map_err(io)?;
    let mut h = crc32fast::Hasher::new();
    h.update(&header[24..32]);
    h.update(&table_bytes);
    if h.finalize() != u32_at(12) {
        return Err(corrupt("checksum mismatch"));
    }
    let decode_err = |e: bincode::Error| DecodeError::Corrupt(format!("cannot decode: {e}"));
    let table: Table = if version == FORMAT_VERSION_3 {
        options()
            .with_limit(table_len)
            .deserialize::<TableV3>(&table_bytes)
            .map_err(decode_err)?
            .into()
    } else {
        options()
            .with_limit(table_len)
            .deserialize(&table_bytes)
            .map_err(decode_err)?
    };
    let mut read_section = |sec: &Section| -> Result<Vec<u8>, DecodeError> {
        let end = sec.start.checked_add(sec.len).filter(|&e| e <= body_len);
        if end.is_none() || sec.start < 8 + table_len {
            return Err(corrupt("section outside the file"));
        }
        file.seek(std::io::SeekFrom::Start(HEADER_LEN as u64 + sec.start))
            .map_err(io)?;
        let mut b = vec![0u8; sec.len as usize];
        file.read_exact(&mut b).map_err(io)?;
        if crc32fast::hash(&b) != sec.crc {
            return Err(corrupt("checksum mismatch"));
        }
        Ok(b)
    };
    let mut advisories: Vec<Advisory> = Vec::new();
    let mut details: Option<Vec<(String, String)>> = None;
    let mut sections = 0;
    for sec in &table.sections {
        if sec.ecosystem == DETAILS {
            if only.is_none() {
                let b = read_section(sec)?;
                details = Some(
                    options()
                        .with_limit(b.len() as u64)
                        .deserialize(&b)
                        .map_err(decode_err)?,
                );
            }
            continue;
        }
        if only.is_some_and(|o| !o.contains(&sec.ecosystem.as_str())) {
            continue;
        }
        let b = read_section(sec)?;
        let mut list: Vec<Advisory> = options()
            .with_limit(b.len() as u64)
            .deserialize(&b)
            .map_err(decode_err)?;
        advisories.append(&mut list);
        sections += 1;
    }
    if sections > 1 {
        advisories.sort_by(|a, b| a.id.cmp(&b.id));
        advisories.dedup_by(|a, b| a.id == b.id);
    }
    if let Some(details) = details {
        // Both lists are sorted by id: one merge pass.
        let mut it = details.into_iter().peekable();
        for a in &mut advisories {
            while it.peek().is_some_and(|(id, _)| id < &a.id) {
                it.next();
            }
            if it.peek().is_some_and(|(id, _)| id == &a.id) {
                a.details = it.next().map(|(_, d)| d);
            }
        }
    }
    Ok(Payload {
        written_at: table.written_at,
        sources: table.sources,
        advisories,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let a = patchpilot_osv::parse_json(
            br#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
                "affected":[{"package":{"ecosystem":"Debian:12","name":"x"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1"}]}],
                "database_specific":{"a":1}}]}"#,
        )
        .unwrap();
        encode(&Payload {
            written_at: 7,
            sources: vec![],
            advisories: vec![a],
        })
        .unwrap()
    }

    #[test]
    fn round_trip() {
        let bytes = sample();
        let p = decode(&bytes).unwrap();
        assert_eq!(p.written_at, 7);
        assert_eq!(p.advisories[0].id, "X-1");
        assert_eq!(p.advisories[0].severity[0].base_score, Some(9.8));
        assert_eq!(p.advisories[0].affected[0].release.as_deref(), Some("12"));
        assert_eq!(encode(&p).unwrap(), bytes);
    }

    #[test]
    fn every_truncation_and_bit_flip_is_detected() {
        let bytes = sample();
        for n in 0..bytes.len() {
            assert!(decode(&bytes[..n]).is_err(), "truncated to {n}");
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x40;
            assert!(decode(&b).is_err(), "flipped byte {i}");
        }
    }

    #[test]
    fn sections_decode_alone_and_merge_by_id() {
        let rec = |id: &str, ecos: &[&str]| {
            let affected: Vec<_> = ecos
                .iter()
                .map(|e| serde_json::json!({"package": {"ecosystem": e, "name": "p"}, "versions": ["1"]}))
                .collect();
            let json = serde_json::json!({"id": id, "modified": "2024-01-01T00:00:00Z", "affected": affected});
            patchpilot_osv::parse_json(json.to_string().as_bytes()).unwrap()
        };
        let payload = Payload {
            written_at: 1,
            sources: vec![],
            advisories: vec![
                rec("A", &["crates.io"]),
                rec("B", &["PyPI", "crates.io"]),
                rec("C", &["Debian:12"]),
                rec("D", &[]),
            ],
        };
        let bytes = encode(&payload).unwrap();
        let ids = |only: Option<&[&str]>| -> Vec<String> {
            decode_only(&mut std::io::Cursor::new(&bytes), bytes.len() as u64, only)
                .unwrap()
                .advisories
                .into_iter()
                .map(|a| a.id)
                .collect()
        };
        assert_eq!(ids(Some(&["crates.io"])), ["A", "B"]);
        assert_eq!(ids(Some(&["PyPI"])), ["B"]);
        assert_eq!(ids(Some(&["Debian"])), ["C"]);
        assert_eq!(ids(Some(&["Go"])), Vec::<String>::new());
        assert_eq!(ids(None), ["A", "B", "C", "D"]);
    }

    #[test]
    fn a_version_3_file_still_opens_with_coverage_unknown() {
        let mut p = decode(&sample()).unwrap();
        p.sources = vec![SourceInfo {
            name: "PyPI/all.zip".into(),
            path: "/feeds/PyPI/all.zip".into(),
            kind: crate::SourceKind::Zip,
            imported_at: 5,
            records: 1,
            rejected: 0,
            coverage: Some(crate::SourceCoverage::default()),
        }];
        let v3 = encode_as(&p, FORMAT_VERSION_3).unwrap();
        assert_eq!(v3[8..12], 3u32.to_le_bytes());
        let back = decode(&v3).unwrap();
        assert_eq!(back.advisories, p.advisories);
        assert_eq!(back.sources.len(), 1);
        assert_eq!(back.sources[0].name, "PyPI/all.zip");
        assert_eq!(back.sources[0].coverage, None, "unknown, not made up");
        // Written again, it is version 4 and keeps what it knows.
        let v4 = encode(&back).unwrap();
        assert_eq!(v4[8..12], FORMAT_VERSION.to_le_bytes());
        assert_eq!(decode(&v4).unwrap().sources, back.sources);
    }

    #[test]
    fn other_version_is_named() {
        let mut bytes = sample();
        bytes[8..12].copy_from_slice(&99u32.to_le_bytes());
        assert!(matches!(decode(&bytes), Err(DecodeError::Version(99))));
    }

    #[test]
    fn valid_checksum_over_garbage_body_is_an_error_not_a_panic() {
        // A 10-byte table: written_at 0, then a `sources` vector claiming ~2^63 entries:
        // the byte limit stops the allocation.
        let table = [0x00, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        let mut body = (table.len() as u64).to_le_bytes().to_vec();
        body.extend_from_slice(&table);
        let mut bytes = Vec::new();
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&body);
        assert!(matches!(decode(&bytes), Err(DecodeError::Corrupt(_))));
    }
}
