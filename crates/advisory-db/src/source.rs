//! Reading import inputs: an OSV `all.zip`, a directory tree of records, or one record.
//!
//! The whole input is read and parsed before anything is written, so an input that
//! turns out to be unreadable halfway (a corrupt zip entry, an unreadable directory) fails
//! the import with no effect. A record that is readable but not valid OSV is only
//! *rejected*: it is reported by name and the rest of the input still imports.

use std::fs;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use patchpilot_osv::{Advisory, Format};

use crate::{DbError, Progress, Rejected, SourceCoverage, SourceInfo, SourceKind};

/// One record larger than this is rejected rather than read (a zip entry can claim any
/// size; real OSV records are a few kilobytes).
const MAX_RECORD_BYTES: u64 = 64 << 20;

pub(crate) struct Batch {
    pub info: SourceInfo,
    pub records: Vec<Advisory>,
    pub rejected: Vec<Rejected>,
}

impl Batch {
    pub(crate) fn new(path: &Path, name: String, kind: SourceKind) -> Batch {
        let canonical = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        Batch {
            info: SourceInfo {
                name,
                path: canonical.display().to_string(),
                kind,
                imported_at: 0,
                records: 0,
                rejected: 0,
                coverage: None,
            },
            records: Vec::new(),
            rejected: Vec::new(),
        }
    }

    fn add(&mut self, name: String, bytes: &[u8], format: Format) {
        match patchpilot_osv::parse(bytes, format) {
            Ok(a) => self.records.push(a),
            Err(e) => self.rejected.push(Rejected {
                name,
                reason: e.to_string(),
            }),
        }
    }

    /// Count, and record what the batch covers: an archive is a whole feed, a folder or
    /// file of records is only those records (see `coverage.rs`).
    fn finish(mut self, path: &Path) -> Batch {
        self.info.records = self.records.len();
        self.info.rejected = self.rejected.len();
        self.info.coverage = Some(match self.info.kind {
            SourceKind::Zip => {
                let folder = path
                    .parent()
                    .and_then(Path::file_name)
                    .map(|f| f.to_string_lossy().into_owned());
                SourceCoverage::archive(folder.as_deref(), &self.records)
            }
            _ => SourceCoverage::records_of(&self.records),
        });
        self
    }
}

fn io_err(path: &Path, error: std::io::Error) -> DbError {
    DbError::Io {
        path: path.to_path_buf(),
        error,
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn format_of(name: &str) -> Option<Format> {
    let (_, ext) = name.rsplit_once('.')?;
    Format::from_extension(ext)
}

/// Read and parse one input.
pub(crate) fn read(path: &Path, progress: &mut dyn FnMut(Progress)) -> Result<Batch, DbError> {
    let meta = fs::metadata(path).map_err(|e| io_err(path, e))?;
    if meta.is_dir() {
        return read_dir(path, progress);
    }
    let name = file_name(path);
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".zip") {
        return read_zip(path, progress);
    }
    if let Some(format) = format_of(&lower) {
        let bytes = fs::read(path).map_err(|e| io_err(path, e))?;
        let mut batch = Batch::new(path, name, SourceKind::File);
        let label = batch.info.name.clone();
        progress(Progress::Start {
            source: label.clone(),
            records: 1,
        });
        batch.add(path.display().to_string(), &bytes, format);
        progress(Progress::Record);
        progress(Progress::Done { source: label });
        return Ok(batch.finish(path));
    }
    // No telling extension: accept a zip by its signature, refuse anything else.
    let mut head = [0u8; 4];
    let n = fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| io_err(path, e))?;
    if n == 4 && (&head == b"PK\x03\x04" || &head == b"PK\x05\x06") {
        return read_zip(path, progress);
    }
    Err(DbError::Unsupported {
        path: path.to_path_buf(),
    })
}

/// `ECOSYSTEM/all.zip` is named by both parts, as the osv.dev bucket lays it out.
fn zip_label(path: &Path) -> String {
    let file = file_name(path);
    match path
        .parent()
        .and_then(Path::file_name)
        .map(|p| p.to_string_lossy())
    {
        Some(parent) if !parent.is_empty() => format!("{parent}/{file}"),
        _ => file,
    }
}

fn read_zip(path: &Path, progress: &mut dyn FnMut(Progress)) -> Result<Batch, DbError> {
    let bytes = fs::read(path).map_err(|e| io_err(path, e))?;
    let archive_err = |reason: String| DbError::Archive {
        path: path.to_path_buf(),
        reason,
    };
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| archive_err(format!("not a zip archive: {e}")))?;
    let mut batch = Batch::new(path, zip_label(path), SourceKind::Zip);
    let label = batch.info.name.clone();
    let total = zip.len();
    progress(Progress::Start {
        source: label.clone(),
        records: total as u64,
    });
    let mut buf = Vec::new();
    for i in 0..total {
        let entry = zip
            .by_index(i)
            .map_err(|e| archive_err(format!("corrupt entry #{i}: {e}")))?;
        let entry_name = entry.name().to_string();
        progress(Progress::Record);
        if entry.is_dir() {
            continue;
        }
        let Some(format) = format_of(&entry_name.to_ascii_lowercase()) else {
            continue;
        };
        let record_name = format!("{label}:{entry_name}");
        if entry.size() > MAX_RECORD_BYTES {
            batch.rejected.push(Rejected {
                name: record_name,
                reason: format!("record larger than {MAX_RECORD_BYTES} bytes"),
            });
            continue;
        }
        buf.clear();
        // `take` bounds the read even if the header lies about the size; the zip crate
        // checks the CRC when the entry is read to its end.
        entry
            .take(MAX_RECORD_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| archive_err(format!("corrupt entry {entry_name}: {e}")))?;
        if buf.len() as u64 > MAX_RECORD_BYTES {
            return Err(archive_err(format!(
                "corrupt entry {entry_name}: larger than its header says"
            )));
        }
        batch.add(record_name, &buf, format);
    }
    progress(Progress::Done { source: label });
    Ok(batch.finish(path))
}

/// Record files under `dir`, sorted, recursively. Hidden entries (`.git`) are skipped and
/// symlinked directories are not followed (no loops).
fn walk(dir: &Path, out: &mut Vec<(PathBuf, Format)>) -> Result<(), DbError> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
        let entry = entry.map_err(|e| io_err(dir, e))?;
        entries.push(entry);
    }
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let ty = entry.file_type().map_err(|e| io_err(&path, e))?;
        if ty.is_dir() {
            walk(&path, out)?;
            continue;
        }
        let is_file = ty.is_file() || (ty.is_symlink() && path.is_file());
        if let (true, Some(format)) = (is_file, format_of(&name.to_ascii_lowercase())) {
            out.push((path, format));
        }
    }
    Ok(())
}

fn read_dir(dir: &Path, progress: &mut dyn FnMut(Progress)) -> Result<Batch, DbError> {
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    let mut batch = Batch::new(dir, file_name(dir), SourceKind::Directory);
    let label = batch.info.name.clone();
    progress(Progress::Start {
        source: label.clone(),
        records: files.len() as u64,
    });
    for (path, format) in files {
        let len = fs::metadata(&path).map_err(|e| io_err(&path, e))?.len();
        let name = path.display().to_string();
        if len > MAX_RECORD_BYTES {
            batch.rejected.push(Rejected {
                name,
                reason: format!("record larger than {MAX_RECORD_BYTES} bytes"),
            });
        } else {
            let bytes = fs::read(&path).map_err(|e| io_err(&path, e))?;
            batch.add(name, &bytes, format);
        }
        progress(Progress::Record);
    }
    progress(Progress::Done { source: label });
    Ok(batch.finish(dir))
}
