//! What both backends check at server start ([`crate::Store::check_integrity`]), written
//! once: the tables every installation has, and whether the migrations a database
//! records are exactly the ones this build carries. The backends only read their
//! catalog and their page-level check (SQLite's `quick_check`).

/// Tables every installation has (both backends; migrations create them).
pub const TABLES: &[&str] = &[
    "assets",
    "tokens",
    "blobs",
    "snapshots",
    "findings",
    "feed_state",
    "jobs",
    "audit_log",
    "audit_head",
    "advisory_files",
];

/// One migration as the database records it (sqlx's `_sqlx_migrations`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub version: i64,
    pub success: bool,
    pub checksum: Vec<u8>,
}

/// Compare the migrations a database records with the ones this build carries
/// (`(version, checksum)`): each applied successfully with the same checksum, none
/// missing, none unknown (a database from a newer build). `Err` says which and why.
pub fn check_migrations<'a>(
    applied: &[Applied],
    expected: impl IntoIterator<Item = (i64, &'a [u8])>,
) -> Result<(), String> {
    let mut problems = Vec::new();
    let expected: Vec<(i64, &[u8])> = expected.into_iter().collect();
    for (version, checksum) in &expected {
        match applied.iter().find(|a| a.version == *version) {
            None => problems.push(format!("migration {version} is not applied")),
            Some(a) if !a.success => {
                problems.push(format!("migration {version} is partially applied"))
            }
            Some(a) if a.checksum != *checksum => problems.push(format!(
                "migration {version} differs from this build's (checksum)"
            )),
            Some(_) => {}
        }
    }
    for a in applied {
        if !expected.iter().any(|(v, _)| *v == a.version) {
            problems.push(format!(
                "migration {} is not known to this build (a database of a newer version?)",
                a.version
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The tables of [`TABLES`] missing from `present`, as a message; `Ok` if none is.
pub fn check_tables<S: AsRef<str>>(present: &[S]) -> Result<(), String> {
    let missing: Vec<&str> = TABLES
        .iter()
        .copied()
        .filter(|t| !present.iter().any(|p| p.as_ref() == *t))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("tables missing: {}", missing.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(version: i64, success: bool, checksum: &[u8]) -> Applied {
        Applied {
            version,
            success,
            checksum: checksum.to_vec(),
        }
    }

    #[test]
    fn migrations_must_match_exactly() {
        let want = [(1, &b"a"[..]), (2, &b"b"[..])];
        assert!(check_migrations(&[applied(1, true, b"a"), applied(2, true, b"b")], want).is_ok());
        let e = check_migrations(&[applied(1, true, b"a")], want).unwrap_err();
        assert!(e.contains("migration 2 is not applied"), "{e}");
        let e =
            check_migrations(&[applied(1, true, b"a"), applied(2, false, b"b")], want).unwrap_err();
        assert!(e.contains("partially"), "{e}");
        let e =
            check_migrations(&[applied(1, true, b"x"), applied(2, true, b"b")], want).unwrap_err();
        assert!(e.contains("migration 1 differs"), "{e}");
        let e = check_migrations(
            &[
                applied(1, true, b"a"),
                applied(2, true, b"b"),
                applied(3, true, b"c"),
            ],
            want,
        )
        .unwrap_err();
        assert!(e.contains("migration 3 is not known"), "{e}");
    }

    #[test]
    fn missing_tables_are_named() {
        assert!(check_tables(TABLES).is_ok());
        let e = check_tables(&["assets", "tokens"]).unwrap_err();
        assert!(e.contains("audit_log") && !e.contains("assets"), "{e}");
    }
}
