//! The on-disk format of `advisories.db`.
//!
//! ```text
//! offset  size  field
//! 0       8     magic  b"PPADVDB\n"
//! 8       4     format version, u32 little-endian (FORMAT_VERSION)
//! 12      4     CRC-32 of the payload, u32 little-endian
//! 16      8     payload length, u64 little-endian
//! 24      n     payload: bincode 1 (varint, little-endian) of `Payload`
//! ```
//!
//! bincode is not self-describing, so any change to `Payload` or to the OSV types it
//! contains must bump [`FORMAT_VERSION`]; an old file then gets a clear "import again"
//! error instead of garbage. The checksum catches torn or bit-flipped files; the decode
//! has a byte limit so a corrupt length can never ask for a huge allocation.

use bincode::Options;
use patchpilot_osv::Advisory;
use serde::{Deserialize, Serialize};

use crate::SourceInfo;

pub(crate) const MAGIC: &[u8; 8] = b"PPADVDB\n";
/// Bump on any change to the stored types (including `patchpilot_osv::Advisory`).
pub const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 24;

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Payload {
    /// Unix seconds of the write.
    pub written_at: u64,
    pub sources: Vec<SourceInfo>,
    /// Sorted by id, unique.
    pub advisories: Vec<Advisory>,
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
    let body = options()
        .serialize(payload)
        .map_err(|e| format!("cannot encode the database: {e}"))?;
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

pub(crate) fn decode(bytes: &[u8]) -> Result<Payload, DecodeError> {
    let corrupt = |s: &str| DecodeError::Corrupt(s.to_string());
    if bytes.len() < HEADER_LEN {
        return Err(corrupt("file too short"));
    }
    let (header, body) = bytes.split_at(HEADER_LEN);
    if &header[0..8] != MAGIC {
        return Err(corrupt("not a patchpilot advisory database (bad magic)"));
    }
    let word = |r: std::ops::Range<usize>| -> [u8; 4] {
        let mut w = [0u8; 4];
        w.copy_from_slice(&header[r]);
        w
    };
    let version = u32::from_le_bytes(word(8..12));
    if version != FORMAT_VERSION {
        return Err(DecodeError::Version(version));
    }
    let crc = u32::from_le_bytes(word(12..16));
    let mut len = [0u8; 8];
    len.copy_from_slice(&header[16..24]);
    if u64::from_le_bytes(len) != body.len() as u64 {
        return Err(corrupt("length mismatch (truncated file?)"));
    }
    if crc32fast::hash(body) != crc {
        return Err(corrupt("checksum mismatch"));
    }
    options()
        .with_limit(body.len() as u64)
        .deserialize(body)
        .map_err(|e| DecodeError::Corrupt(format!("cannot decode: {e}")))
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
    fn other_version_is_named() {
        let mut bytes = sample();
        bytes[8..12].copy_from_slice(&99u32.to_le_bytes());
        assert!(matches!(decode(&bytes), Err(DecodeError::Version(99))));
    }

    #[test]
    fn valid_checksum_over_garbage_body_is_an_error_not_a_panic() {
        // written_at 0, then a `sources` vector claiming ~2^63 entries: the byte limit stops the allocation.
        let body = [0x00, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        let mut bytes = Vec::new();
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&body);
        assert!(matches!(decode(&bytes), Err(DecodeError::Corrupt(_))));
    }
}
