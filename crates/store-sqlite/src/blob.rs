//! Snapshot package lists are stored deflated: a 1,500-package list is ~120 KB of JSON and
//! ~20 KB deflated, and every byte the one writer stores is written twice (WAL, then the
//! checkpoint). Level 1: about 1 ms per list, spent on the caller's task, not the writer.
//! The hash that deduplicates lists stays the hash of the JSON. Lists written before this
//! are TEXT and read as they are (`typeof(body)`).

use std::io::{Read, Write};

use flate2::{read::DeflateDecoder, write::DeflateEncoder, Compression};
use patchpilot_store::{codec, Error, PackageRow, Result};
use sqlx::sqlite::SqliteRow;

/// Decode the `body` column of `row`, whose SQLite type (`typeof`) is `kind`.
pub(crate) fn decode(kind: &str, row: &SqliteRow) -> Result<Vec<PackageRow>> {
    if kind == "blob" {
        codec::decode_packages(&inflate(&super::get::<Vec<u8>>(row, "body")?)?)
    } else {
        // Written before lists were deflated.
        codec::decode_packages(&super::get::<String>(row, "body")?)
    }
}

pub(crate) fn deflate(json: &str) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::with_capacity(json.len() / 4), Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = e.write_all(json.as_bytes());
    e.finish().unwrap_or_default()
}

pub(crate) fn inflate(bytes: &[u8]) -> Result<String> {
    let mut out = String::with_capacity(bytes.len() * 6);
    DeflateDecoder::new(bytes)
        .read_to_string(&mut out)
        .map_err(|e| Error::Backend(format!("stored snapshot packages: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip_and_corruption() {
        let json = r#"[["crates.io","serde","1.0.0",null,null,null,null]]"#.repeat(50);
        let z = super::deflate(&json);
        assert!(z.len() < json.len() / 4, "{} vs {}", z.len(), json.len());
        assert_eq!(super::inflate(&z).unwrap(), json);
        assert!(super::inflate(&z[..z.len() / 2]).is_err());
        assert!(super::inflate(b"not deflate").is_err());
    }
}
