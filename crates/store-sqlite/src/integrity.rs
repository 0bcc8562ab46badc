//! The database file's integrity: created private (0600), checked page by page at server
//! start (`PRAGMA quick_check`, on a connection of its own so that it reads the file,
//! not a page cache), and the failure remembered for `/readyz`.

use patchpilot_store::integrity::{self, Applied};
use patchpilot_store::{Error, Result};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Row};
use std::path::Path;

use crate::db;

/// Create the database file, empty (a valid SQLite database), readable by its owner only:
/// it holds the fleet's inventories and token hashes. SQLite gives the `-wal` and `-shm`
/// files the mode of the database file. An existing file is left as it is.
pub(crate) fn create_private(path: &Path) -> Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    match o.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::Backend(format!("creating {}: {e}", path.display()))),
    }
}

/// `PRAGMA quick_check` (every page and b-tree, not index contents: about as fast as
/// reading the file), the migrations this build expects, every table, the audit head row.
pub(crate) async fn check(c: &mut SqliteConnection) -> std::result::Result<(), String> {
    let rows = sqlx::query("PRAGMA quick_check(3)")
        .fetch_all(&mut *c)
        .await
        .map_err(|e| e.to_string())?;
    let found: Vec<String> = rows
        .iter()
        .filter_map(|r| r.try_get::<String, _>(0).ok())
        .collect();
    if found != ["ok"] {
        let lines: Vec<String> = found
            .iter()
            .flat_map(|f| f.lines())
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("***"))
            .map(str::to_string)
            .collect();
        return Err(format!(
            "PRAGMA quick_check found damage: {}",
            lines.join("; ")
        ));
    }
    let applied: Vec<Applied> =
        sqlx::query("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut *c)
            .await
            .map_err(|e| format!("reading the migrations table: {e}"))?
            .iter()
            .map(|r| {
                Ok(Applied {
                    version: r.try_get("version")?,
                    success: r.try_get("success")?,
                    checksum: r.try_get("checksum")?,
                })
            })
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(|e| format!("reading the migrations table: {e}"))?;
    integrity::check_migrations(
        &applied,
        crate::MIGRATOR
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .map(|m| (m.version, &*m.checksum)),
    )?;
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_schema WHERE type = 'table'")
            .fetch_all(&mut *c)
            .await
            .map_err(|e| e.to_string())?;
    integrity::check_tables(&tables)?;
    let heads: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_head WHERE id = 1")
        .fetch_one(&mut *c)
        .await
        .map_err(|e| e.to_string())?;
    if heads != 1 {
        return Err("the audit_head row is missing".into());
    }
    Ok(())
}

/// Run [`check`] on a connection of its own (a file), or on `shared` (in memory).
pub(crate) async fn check_file(
    opts: Option<&SqliteConnectOptions>,
    shared: &sqlx::SqlitePool,
) -> std::result::Result<(), String> {
    match opts {
        Some(o) => {
            let mut c = SqliteConnection::connect_with(o)
                .await
                .map_err(|e| e.to_string())?;
            let r = check(&mut c).await;
            let _ = c.close().await;
            r
        }
        None => {
            let mut c = shared.acquire().await.map_err(|e| db(e).to_string())?;
            check(&mut c).await
        }
    }
}
