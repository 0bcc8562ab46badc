//! rpm: the output of `rpm -qa --qf …`, and the sqlite rpmdb (`rpmdb.sqlite`).
//!
//! # `rpm -qa` output
//!
//! One accepted query format, tab-separated, one package per line:
//!
//! ```text
//! rpm -qa --qf '%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\n'
//! ```
//!
//! The epoch may be left out (`%{VERSION}-%{RELEASE}`) or be `(none)` (as `%{EPOCH}`
//! prints it); the architecture and source rpm columns may be left out or be `(none)`.
//! Blank lines and `#` comments are skipped. Anything else is an error.
//!
//! # The sqlite rpmdb
//!
//! rpm ≥ 4.16 keeps one row per package in `Packages(hnum, blob)`, where `blob` is an rpm
//! header without its 8-byte magic: two big-endian u32 (`il` index entries, `dl` bytes of
//! data), `il` 16-byte entries (`tag`, `type`, `offset`, `count`), then the data store.
//! We read NAME (1000), VERSION (1001), RELEASE (1002), EPOCH (1003), ARCH (1022) and
//! SOURCERPM (1044), checking every offset and length against the blob, so a corrupt row
//! is an error naming the row, never a panic. The database is opened read-only (and, if
//! that fails because a WAL database sits in a read-only directory, as immutable). The
//! older BerkeleyDB (`Packages`) and SUSE ndb (`Packages.db`) formats are recognized and
//! refused with a clear error.
//!
//! # Both
//!
//! The version is `[epoch:]version-release`, the epoch shown only when non-zero (rpm
//! compares a missing epoch as 0, and advisories mostly leave it out). `source_name` is
//! the source rpm's name (`openssl-3.0.7-24.el9.src.rpm` → `openssl`). The purl follows
//! the purl spec for rpm: `pkg:rpm/<vendor>/<name>@<version>-<release>?arch=…&epoch=…`.
//! `gpg-pubkey` entries (imported signing keys, not software) are skipped.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::host::OsTarget;
use crate::{Package, ParseError, Parsed};

/// Parse `rpm -qa --qf` output (see the module docs for the format) as Red Hat packages.
pub fn parse_qa(data: &[u8]) -> Result<Parsed, ParseError> {
    parse_qa_for(data, &OsTarget::redhat())
}

/// Parse `rpm -qa --qf` output for a known distro.
pub fn parse_qa_for(data: &[u8], target: &OsTarget) -> Result<Parsed, ParseError> {
    let text = std::str::from_utf8(data)
        .map_err(|e| ParseError::new(format!("not UTF-8 text (at byte {})", e.valid_up_to())))?;
    let mut packages = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |why: &str| {
            ParseError::new(format!(
                "line {lineno}: {why} (want NAME<TAB>[EPOCH:]VERSION-RELEASE<TAB>ARCH<TAB>SOURCERPM)"
            ))
        };
        let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
        if cols.len() < 2 || cols.len() > 4 {
            return Err(err(&format!(
                "expected 2 to 4 tab-separated columns, got {}",
                cols.len()
            )));
        }
        let name = cols[0];
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(err(&format!("bad package name {name:?}")));
        }
        let (epoch, vr) = match cols[1].split_once(':') {
            Some((e, vr)) => (Some(e), vr),
            None => (None, cols[1]),
        };
        let epoch = match epoch {
            None | Some("(none)") => None,
            Some(e) => Some(
                e.parse::<u32>()
                    .map_err(|_| err(&format!("bad epoch {e:?}")))?,
            ),
        };
        let Some((version, release)) = vr.rsplit_once('-') else {
            return Err(err(&format!("version {vr:?} has no -RELEASE")));
        };
        if version.is_empty() || release.is_empty() || vr.contains(char::is_whitespace) {
            return Err(err(&format!("bad version-release {vr:?}")));
        }
        let opt = |i: usize| {
            cols.get(i)
                .copied()
                .filter(|c| !c.is_empty() && *c != "(none)")
        };
        let rpm = Rpm {
            name,
            epoch,
            version,
            release,
            arch: opt(2),
            sourcerpm: opt(3),
        };
        if let Some(p) = rpm.package(target) {
            packages.push(p);
        }
    }
    Ok(Parsed {
        packages,
        distro: None,
    })
}

/// Read a sqlite rpmdb as Red Hat packages.
pub fn read_sqlite(path: &Path) -> Result<Parsed, ParseError> {
    read_sqlite_for(path, &OsTarget::redhat())
}

/// Read a sqlite rpmdb for a known distro.
pub fn read_sqlite_for(path: &Path, target: &OsTarget) -> Result<Parsed, ParseError> {
    let mut head = [0u8; 16];
    let n = {
        use std::io::Read;
        let mut f =
            std::fs::File::open(path).map_err(|e| ParseError::new(format!("cannot open: {e}")))?;
        let mut n = 0;
        while n < head.len() {
            match f.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) => return Err(ParseError::new(format!("cannot read: {e}"))),
            }
        }
        n
    };
    check_magic(&head[..n])?;
    let conn = open_read_only(path)?;
    let blobs = read_blobs(&conn).map_err(|e| {
        if e.contains("no such table") {
            ParseError::new("SQLite database without a Packages table: not an rpmdb")
        } else {
            ParseError::new(format!("cannot read the Packages table: {e}"))
        }
    })?;
    let mut packages = Vec::with_capacity(blobs.len());
    for (hnum, blob) in blobs {
        let h = parse_header(&blob).map_err(|e| {
            ParseError::new(format!("Packages row hnum={hnum}: corrupt rpm header: {e}"))
        })?;
        if let Some(p) = h.as_rpm().package(target) {
            packages.push(p);
        }
    }
    Ok(Parsed {
        packages,
        distro: None,
    })
}

/// Recognize the file by its first bytes, so other databases get a precise error.
fn check_magic(head: &[u8]) -> Result<(), ParseError> {
    if head.is_empty() {
        return Err(ParseError::new("empty file, not an rpmdb.sqlite"));
    }
    if head.starts_with(b"SQLite format 3\0") {
        return Ok(());
    }
    if head.len() >= 16 {
        let m = [head[12], head[13], head[14], head[15]];
        // BerkeleyDB hash (0x061561) and btree (0x053162) magics, either byte order.
        for magic in [0x0006_1561u32, 0x0005_3162] {
            if m == magic.to_le_bytes() || m == magic.to_be_bytes() {
                return Err(ParseError::new(
                    "BerkeleyDB rpm database (the pre-4.16 `Packages` file) is not supported; \
                     read `rpm -qa --qf` output instead",
                ));
            }
        }
    }
    if head.starts_with(b"RpmP") {
        return Err(ParseError::new(
            "ndb rpm database (SUSE `Packages.db`) is not supported; read `rpm -qa --qf` output instead",
        ));
    }
    Err(ParseError::new(
        "not a SQLite database (no `SQLite format 3` header)",
    ))
}

fn open_read_only(path: &Path) -> Result<Connection, ParseError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let probe = |c: &Connection| c.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()));
    if let Ok(c) = Connection::open_with_flags(path, flags) {
        if probe(&c).is_ok() {
            return Ok(c);
        }
    }
    // A WAL database in a directory we cannot write (no -shm file to create): open it as
    // immutable, which needs no locks or side files.
    let uri = format!("file:{}?immutable=1", uri_escape(&path.to_string_lossy()));
    let c = Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
        .map_err(|e| ParseError::new(format!("cannot open as SQLite: {e}")))?;
    probe(&c).map_err(|e| ParseError::new(format!("not a readable SQLite database: {e}")))?;
    Ok(c)
}

fn uri_escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii() && !matches!(b, b'%' | b'?' | b'#') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn read_blobs(conn: &Connection) -> Result<Vec<(i64, Vec<u8>)>, String> {
    let mut stmt = conn
        .prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")
        .map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
        .map_err(|e| e.to_string())?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

/// One package's identifying fields, from either source.
struct Rpm<'a> {
    name: &'a str,
    epoch: Option<u32>,
    version: &'a str,
    release: &'a str,
    arch: Option<&'a str>,
    sourcerpm: Option<&'a str>,
}

impl Rpm<'_> {
    /// The package, or `None` for pseudo-packages that are not software (`gpg-pubkey`).
    fn package(&self, target: &OsTarget) -> Option<Package> {
        if self.name == "gpg-pubkey" {
            return None;
        }
        let vr = format!("{}-{}", self.version, self.release);
        let epoch = self.epoch.filter(|e| *e != 0);
        let version = match epoch {
            Some(e) => format!("{e}:{vr}"),
            None => vr.clone(),
        };
        let epoch_s = epoch.map(|e| e.to_string());
        let mut p = Package::new(target.ecosystem.clone(), self.name, version);
        p.release = target.release.clone();
        p.purl = target.purl(
            "rpm",
            self.name,
            &vr,
            &[("arch", self.arch), ("epoch", epoch_s.as_deref())],
        );
        p.source_name = self.sourcerpm.and_then(source_rpm_name).map(str::to_string);
        Some(p)
    }
}

/// `openssl-3.0.7-24.el9.src.rpm` → `openssl`.
pub fn source_rpm_name(srpm: &str) -> Option<&str> {
    let base = srpm
        .strip_suffix(".src.rpm")
        .or_else(|| srpm.strip_suffix(".nosrc.rpm"))?;
    let (rest, _release) = base.rsplit_once('-')?;
    let (name, _version) = rest.rsplit_once('-')?;
    (!name.is_empty()).then_some(name)
}

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// rpm's own limits (`hdrblobVerifyInfo`): at most 0xffff entries and 256 MiB of data.
const MAX_INDEX_ENTRIES: usize = 0xffff;
const MAX_DATA: usize = 256 << 20;

/// The fields we read from one rpm header.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub epoch: Option<u32>,
    pub version: String,
    pub release: String,
    pub arch: Option<String>,
    pub sourcerpm: Option<String>,
}

impl Header {
    fn as_rpm(&self) -> Rpm<'_> {
        Rpm {
            name: &self.name,
            epoch: self.epoch,
            version: &self.version,
            release: &self.release,
            arch: self.arch.as_deref(),
            sourcerpm: self.sourcerpm.as_deref(),
        }
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Parse an rpm header blob (as stored in rpmdb.sqlite, with or without the 8-byte header
/// magic). Every offset is bounds-checked; errors say what was wrong.
pub fn parse_header(blob: &[u8]) -> Result<Header, String> {
    let b = if blob.starts_with(&[0x8e, 0xad, 0xe8, 0x01]) {
        blob.get(8..).ok_or("truncated after the header magic")?
    } else {
        blob
    };
    let il = be32(b, 0).ok_or("shorter than 8 bytes")? as usize;
    let dl = be32(b, 4).ok_or("shorter than 8 bytes")? as usize;
    if il == 0 || il > MAX_INDEX_ENTRIES {
        return Err(format!("bad index entry count {il}"));
    }
    if dl > MAX_DATA {
        return Err(format!("bad data length {dl}"));
    }
    let data_start = 8 + il * 16;
    let data = b.get(data_start..data_start + dl).ok_or_else(|| {
        format!(
            "{} bytes, but {il} entries and {dl} data bytes need {}",
            b.len(),
            data_start + dl
        )
    })?;

    let mut h = Header::default();
    let (mut name, mut version, mut release) = (None, None, None);
    for i in 0..il {
        let at = 8 + i * 16;
        let (Some(tag), Some(ty), Some(off), Some(count)) = (
            be32(b, at),
            be32(b, at + 4),
            be32(b, at + 8),
            be32(b, at + 12),
        ) else {
            return Err(format!("index entry {i} truncated"));
        };
        let off = off as usize;
        let string = || -> Result<String, String> {
            if !matches!(ty, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) || count == 0 {
                return Err(format!(
                    "tag {tag} has type {ty} count {count}, expected a string"
                ));
            }
            let rest = data
                .get(off..)
                .ok_or_else(|| format!("tag {tag} offset {off} beyond the {dl}-byte data store"))?;
            let end = rest
                .iter()
                .position(|&c| c == 0)
                .ok_or_else(|| format!("tag {tag}: string not NUL-terminated"))?;
            String::from_utf8(rest[..end].to_vec())
                .map_err(|_| format!("tag {tag}: string is not UTF-8"))
        };
        match tag {
            TAG_NAME => name = Some(string()?),
            TAG_VERSION => version = Some(string()?),
            TAG_RELEASE => release = Some(string()?),
            TAG_ARCH => h.arch = Some(string()?),
            TAG_SOURCERPM => h.sourcerpm = Some(string()?),
            TAG_EPOCH => {
                if ty != TYPE_INT32 || count == 0 {
                    return Err(format!("EPOCH has type {ty} count {count}, expected int32"));
                }
                h.epoch = Some(
                    be32(data, off)
                        .ok_or_else(|| format!("EPOCH offset {off} beyond the data store"))?,
                );
            }
            _ => {}
        }
    }
    let need = |v: Option<String>, what: &str| -> Result<String, String> {
        v.filter(|s| !s.is_empty() && !s.contains(char::is_whitespace))
            .ok_or_else(|| format!("no valid {what} tag"))
    };
    h.name = need(name, "NAME")?;
    h.version = need(version, "VERSION")?;
    h.release = need(release, "RELEASE")?;
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Build a header blob from (tag, type, payload) entries, the way rpm lays it out.
    pub(crate) fn blob(entries: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, ty, payload) in entries {
            while *ty == TYPE_INT32 && data.len() % 4 != 0 {
                data.push(0);
            }
            index.extend(tag.to_be_bytes());
            index.extend(ty.to_be_bytes());
            index.extend((data.len() as u32).to_be_bytes());
            index.extend(1u32.to_be_bytes());
            data.extend(payload);
        }
        let mut out = Vec::new();
        out.extend((entries.len() as u32).to_be_bytes());
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(index);
        out.extend(data);
        out
    }

    fn s(v: &str) -> Vec<u8> {
        let mut b = v.as_bytes().to_vec();
        b.push(0);
        b
    }

    fn sample() -> Vec<(u32, u32, Vec<u8>)> {
        vec![
            (TAG_NAME, TYPE_STRING, s("openssl-libs")),
            (TAG_VERSION, TYPE_STRING, s("3.0.7")),
            (TAG_RELEASE, TYPE_STRING, s("24.el9")),
            (TAG_EPOCH, TYPE_INT32, 1u32.to_be_bytes().to_vec()),
            (TAG_ARCH, TYPE_STRING, s("x86_64")),
            (
                TAG_SOURCERPM,
                TYPE_STRING,
                s("openssl-3.0.7-24.el9.src.rpm"),
            ),
        ]
    }

    #[test]
    fn header_roundtrip() {
        let h = parse_header(&blob(&sample())).unwrap();
        assert_eq!(h.name, "openssl-libs");
        assert_eq!(h.epoch, Some(1));
        assert_eq!(
            (h.version.as_str(), h.release.as_str()),
            ("3.0.7", "24.el9")
        );
        assert_eq!(h.arch.as_deref(), Some("x86_64"));
        let p = h.as_rpm().package(&OsTarget::redhat()).unwrap();
        assert_eq!(p.version, "1:3.0.7-24.el9");
        assert_eq!(p.source_name.as_deref(), Some("openssl"));
        // With the 8-byte magic in front, too.
        let mut with_magic = vec![0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0];
        with_magic.extend(blob(&sample()));
        assert_eq!(parse_header(&with_magic).unwrap(), h);
    }

    #[test]
    fn corrupt_headers_are_errors() {
        let good = blob(&sample());
        for cut in 0..good.len() {
            assert!(parse_header(&good[..cut]).is_err(), "truncated at {cut}");
        }
        let mut bad_off = good.clone();
        bad_off[8 + 8..8 + 12].copy_from_slice(&9999u32.to_be_bytes());
        assert!(parse_header(&bad_off).unwrap_err().contains("offset 9999"));
        let mut no_nul = sample();
        no_nul.truncate(1);
        no_nul[0].2.pop();
        assert!(parse_header(&blob(&no_nul)).unwrap_err().contains("NUL"));
        let mut wrong_type = sample();
        wrong_type[3].1 = TYPE_STRING;
        assert!(parse_header(&blob(&wrong_type))
            .unwrap_err()
            .contains("EPOCH"));
        let mut huge = good.clone();
        huge[0..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse_header(&huge).is_err());
        let missing: Vec<_> = sample()
            .into_iter()
            .filter(|e| e.0 != TAG_RELEASE)
            .collect();
        assert!(parse_header(&blob(&missing))
            .unwrap_err()
            .contains("RELEASE"));
    }

    #[test]
    fn source_rpm_names() {
        let cases = [
            ("openssl-3.0.7-24.el9.src.rpm", Some("openssl")),
            ("python3.11-3.11.5-1.el9.src.rpm", Some("python3.11")),
            ("kernel-5.14.0-362.el9.nosrc.rpm", Some("kernel")),
            ("foo-1.0.src.rpm", None),
            ("foo-1.0-1.x86_64.rpm", None),
            ("-1-2.src.rpm", None),
        ];
        for (srpm, want) in cases {
            assert_eq!(source_rpm_name(srpm), want, "{srpm}");
        }
    }

    #[test]
    fn qa_lines() {
        let data = b"# rpm -qa\nbash\t0:5.1.8-6.el9_1\tx86_64\tbash-5.1.8-6.el9_1.src.rpm\n\n\
openssl\t1:3.0.7-24.el9\tx86_64\topenssl-3.0.7-24.el9.src.rpm\r\n\
tzdata\t2023c-1.el9\tnoarch\n\
gpg-pubkey\t(none):fd431d51-4ae0493b\t(none)\t(none)\n\
filesystem\t(none):3.16-2.el9\n";
        let p = parse_qa(data).unwrap().packages;
        let got: Vec<_> = p
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.source_name.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("bash", "5.1.8-6.el9_1", Some("bash")),
                ("openssl", "1:3.0.7-24.el9", Some("openssl")),
                ("tzdata", "2023c-1.el9", None),
                ("filesystem", "3.16-2.el9", None),
            ]
        );
    }

    #[test]
    fn qa_errors() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"bash\n",
                "line 1: expected 2 to 4 tab-separated columns, got 1",
            ),
            (b"bash 5.1-1\n", "got 1"),
            (b"bash\tx:5.1-1\n", "bad epoch"),
            (b"bash\t5.1\n", "has no -RELEASE"),
            (b"bash\t5.1-\n", "bad version-release"),
            (b"a\tb-c\td\te\tf\n", "got 5"),
            (b"\xff\xfe\n", "not UTF-8"),
        ];
        for (data, want) in cases {
            let err = parse_qa(data).unwrap_err().0;
            assert!(err.contains(want), "{err:?} lacks {want:?}");
        }
    }

    #[test]
    fn magic_sniffing() {
        let mut bdb = vec![0u8; 16];
        bdb[12..16].copy_from_slice(&0x0006_1561u32.to_le_bytes());
        assert!(check_magic(&bdb).unwrap_err().0.contains("BerkeleyDB"));
        assert!(check_magic(b"RpmP\0\0\0\0\0\0\0\0\0\0\0\0")
            .unwrap_err()
            .0
            .contains("ndb"));
        assert!(check_magic(b"").unwrap_err().0.contains("empty"));
        assert!(check_magic(b"asdf\n")
            .unwrap_err()
            .0
            .contains("not a SQLite"));
        assert!(check_magic(b"SQLite format 3\0").is_ok());
    }
}
