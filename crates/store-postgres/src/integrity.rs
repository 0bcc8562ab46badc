//! The database's integrity as this backend can see it: the migrations applied are this
//! build's, every table of the installation exists in its schema, the audit head row is
//! there. Pages are PostgreSQL's own business (data checksums, chosen at `initdb`).

use patchpilot_store::integrity::{self, Applied};
use sqlx::{PgPool, Row};

/// What names this database in heads recorded outside it: the cluster (its system
/// identifier where the role may read it, else the server's address and port), the
/// database and the schema. Replicas connected through different host names agree.
pub(crate) async fn database_id(pool: &PgPool) -> Result<String, sqlx::Error> {
    let cluster: Option<String> =
        sqlx::query_scalar("SELECT system_identifier::text FROM pg_control_system()")
            .fetch_one(pool)
            .await
            .ok();
    let cluster = match cluster {
        Some(c) => c,
        None => sqlx::query_scalar(
            "SELECT coalesce(host(inet_server_addr()), 'local') || ':' || current_setting('port')",
        )
        .fetch_one(pool)
        .await?,
    };
    let (database, schema): (String, String) =
        sqlx::query_as("SELECT current_database()::text, current_schema()::text")
            .fetch_one(pool)
            .await?;
    Ok(format!("postgres:{cluster}/{database}/{schema}"))
}

/// Why the check failed: the database is not what this build expects (kept for `/readyz`
/// until a later check passes), or a query failed (a connection lost: said, not kept).
pub(crate) enum Failed {
    Found(String),
    Query(String),
}

pub(crate) async fn check(pool: &PgPool) -> Result<(), Failed> {
    let q = |e: sqlx::Error| Failed::Query(e.to_string());
    let applied: Vec<Applied> =
        sqlx::query("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")
            .fetch_all(pool)
            .await
            .map_err(|e| Failed::Query(format!("reading the migrations table: {e}")))?
            .iter()
            .map(|r| {
                Ok(Applied {
                    version: r.try_get("version")?,
                    success: r.try_get("success")?,
                    checksum: r.try_get("checksum")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| Failed::Found(format!("reading the migrations table: {e}")))?;
    integrity::check_migrations(
        &applied,
        crate::MIGRATOR
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .map(|m| (m.version, &*m.checksum)),
    )
    .map_err(Failed::Found)?;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await
    .map_err(q)?;
    integrity::check_tables(&tables).map_err(Failed::Found)?;
    let heads: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_head WHERE id = 1")
        .fetch_one(pool)
        .await
        .map_err(q)?;
    if heads != 1 {
        return Err(Failed::Found("the audit_head row is missing".into()));
    }
    Ok(())
}
