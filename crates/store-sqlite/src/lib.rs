//! The embedded storage backend: [`SqliteStore`] implements
//! [`patchpilot_store::Store`] in one SQLite file, the default for a single-server site.
//!
//! How it is cut, and why:
//! - **One writer, many readers.** SQLite allows one writer at a time. Instead of letting
//!   concurrent transactions collide and fail with `SQLITE_BUSY`, every write goes through
//!   a pool of exactly one connection (transactions start with `BEGIN IMMEDIATE`), so
//!   writers queue in-process; reads use a separate pool of read-only connections that
//!   WAL mode lets run beside the writer.
//! - **Group commit for the hot writes** (`batch.rs`): inventory reports and heartbeats go
//!   to one writer task that applies all those waiting in a single transaction (each
//!   report under its own savepoint, with its own audit record and outcome). Heartbeats
//!   are taken first, in their own short transaction, so they never wait behind more
//!   than one small batch of reports.
//! - **Short write transactions.** Everything that can be computed outside the lock is:
//!   the snapshot's package list is encoded, hashed and deflated (`blob.rs`), inputs
//!   validated, before the writer is taken. Multi-row `INSERT`s use anonymous `?`
//!   placeholders (SQLite resolves named ones by a linear scan, quadratic for thousands
//!   of binds).
//! - **The current package set is the current snapshot's list** (migration 0002): a
//!   report writes one deflated list (~20 KB for 1,500 packages, once per distinct
//!   content) instead of maintaining ~1,500 rows, and `current_packages` reads one value.
//!   Measured on the 1,500-agent load run: first reports 55 → 258/s, changed 82 → 365/s
//!   (BENCHMARKS.md). `packages_named`, which only a feed update needs, decodes every
//!   asset's current list off the async workers (~1 ms per 1,500-package list).
//! - **Durability.** WAL with `synchronous=NORMAL`: a committed transaction survives a
//!   process crash (it is in the WAL); a power loss may lose the last few commits but never
//!   corrupts the file. A killed process leaves no partial transaction.
//! - **Notices** are in-process (`tokio::sync::broadcast`): one SQLite file has one server.
//! - Migrations (`migrations/`) are embedded and run at open; a second open is a no-op.
//! - **The file is private** (created 0600; SQLite gives `-wal` and `-shm` its mode): it
//!   holds the fleet's inventories. `check_integrity` runs `PRAGMA quick_check` on a
//!   connection of its own, so that it reads the file and not a pool's page cache.

mod batch;
mod blob;
mod integrity;
mod sql;

use async_trait::async_trait;
use patchpilot_store::audit::{self, Entry};
use patchpilot_store::codec;
use patchpilot_store::*;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::Row;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

use sql::*;

/// The store on one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
    notices: broadcast::Sender<Notice>,
    inventories: batch::Batcher,
    /// The file (canonical path) and how to open a connection of its own on it for
    /// [`Store::check_integrity`]; `None` in memory.
    file: Option<(PathBuf, SqliteConnectOptions)>,
    /// What the last integrity check found wrong, reported by `ping` (`/readyz`).
    damage: Arc<Mutex<Option<String>>>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Read connections beside the single writer.
const READERS: u32 = 4;
/// Rows per multi-row `INSERT` (well under SQLite's 32,766 bind parameters).
const CHUNK_ROWS: usize = 500;

impl SqliteStore {
    /// Open (creating if missing, mode 0600) the database file at `path` and run
    /// migrations.
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        let opts = SqliteConnectOptions::new().filename(path.as_ref());
        SqliteStore::open_with(opts, false).await
    }

    /// Open from a URL: `sqlite://relative/or/absolute/path.db`, `sqlite:path.db`, or
    /// `sqlite::memory:` (one connection, gone when the store is dropped; for tests).
    pub async fn open_url(url: &str) -> Result<SqliteStore> {
        if !url.starts_with("sqlite:") {
            return Err(Error::Invalid(format!(
                "not a SQLite URL (sqlite://path): {url:?}"
            )));
        }
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::Invalid(format!("not a SQLite URL {url:?}: {e}")))?;
        SqliteStore::open_with(opts, memory).await
    }

    async fn open_with(opts: SqliteConnectOptions, memory: bool) -> Result<SqliteStore> {
        let file = if memory {
            None
        } else {
            let path = opts.get_filename().to_path_buf();
            integrity::create_private(&path)?;
            Some(std::fs::canonicalize(&path).unwrap_or(path))
        };
        let opts = opts
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("cache_size", "-32768")
            .pragma("temp_store", "memory")
            .statement_cache_capacity(256);
        let mut write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(60));
        if memory {
            // The database lives in this one connection: never let the pool close it.
            write = write.idle_timeout(None).max_lifetime(None);
        }
        let write = write.connect_with(opts.clone()).await.map_err(db)?;
        MIGRATOR
            .run(&write)
            .await
            .map_err(|e| Error::Backend(format!("migrating the SQLite database: {e}")))?;
        let read = if memory {
            write.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(READERS)
                .acquire_timeout(Duration::from_secs(60))
                .connect_with(opts.clone().read_only(true))
                .await
                .map_err(db)?
        };
        let (notices, _) = broadcast::channel(1024);
        let inventories = batch::Batcher::start(write.clone());
        Ok(SqliteStore {
            write,
            read,
            notices,
            inventories,
            file: file.map(|f| (f, opts.read_only(true))),
            damage: Arc::default(),
        })
    }

    /// Close both pools, waiting for queries in flight (a clean shutdown checkpoints WAL).
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.write.begin_with("BEGIN IMMEDIATE").await.map_err(db)
    }

    fn notify(&self, n: Notice) {
        // No receiver is fine: notices are wake-ups, listeners re-read the database.
        let _ = self.notices.send(n);
    }
}

/// Map a driver error onto the store's error kinds (never leaking sqlx types).
pub(crate) fn db(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::RowNotFound => Error::NotFound("row not found".into()),
        sqlx::Error::Database(d) if d.is_unique_violation() => Error::Conflict(d.message().into()),
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            Error::NotFound(format!("a referenced row does not exist ({})", d.message()))
        }
        sqlx::Error::Database(d) if d.is_check_violation() => Error::Invalid(d.message().into()),
        _ => Error::Backend(e.to_string()),
    }
}

fn get<'r, T>(r: &'r SqliteRow, col: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    r.try_get(col).map_err(db)
}

fn ts(v: i64) -> Ts {
    Ts(v)
}

fn opt_ts(v: Option<i64>) -> Option<Ts> {
    v.map(Ts)
}

fn token_row(r: &SqliteRow) -> Result<Token> {
    Ok(Token {
        id: get(r, "id")?,
        name: get(r, "name")?,
        role: codec::parse_role(&get::<String>(r, "role")?)?,
        created_at: ts(get(r, "created_at")?),
        expires_at: opt_ts(get(r, "expires_at")?),
        revoked_at: opt_ts(get(r, "revoked_at")?),
        used_at: opt_ts(get(r, "used_at")?),
        asset_id: get(r, "asset_id")?,
    })
}

fn asset_row(r: &SqliteRow) -> Result<Asset> {
    let tier: i64 = get(r, "tier")?;
    Ok(Asset {
        id: get(r, "id")?,
        name: get(r, "name")?,
        environment: codec::parse_environment(&get::<String>(r, "environment")?)?,
        site: get(r, "site")?,
        tier: u8::try_from(tier).map_err(|_| codec::corrupt("tier", &tier.to_string()))?,
        exposure: codec::parse_exposure(&get::<String>(r, "exposure")?)?,
        sensitivity: codec::parse_sensitivity(&get::<String>(r, "sensitivity")?)?,
        owner: get(r, "owner")?,
        tags: codec::parse_strings(&get::<String>(r, "tags")?)?,
        created_at: ts(get(r, "created_at")?),
        updated_at: ts(get(r, "updated_at")?),
        last_seen: opt_ts(get(r, "last_seen")?),
        current_snapshot: get(r, "current_snapshot")?,
    })
}

fn package_row(r: &SqliteRow) -> Result<PackageRow> {
    Ok(PackageRow {
        ecosystem: get(r, "ecosystem")?,
        name: get(r, "name")?,
        version: get(r, "version")?,
        release: get(r, "release")?,
        source_name: get(r, "source_name")?,
        source_version: get(r, "source_version")?,
        purl: get(r, "purl")?,
    })
}

fn finding_row(r: &SqliteRow) -> Result<Finding> {
    Ok(Finding {
        id: get(r, "id")?,
        asset_id: get(r, "asset_id")?,
        package: package_row(r)?,
        advisory_id: get(r, "advisory_id")?,
        fixed_versions: codec::parse_strings(&get::<String>(r, "fixed_versions")?)?,
        severity: get(r, "severity")?,
        state: codec::parse_finding_state(&get::<String>(r, "state")?)?,
        reason: get(r, "reason")?,
        first_seen: ts(get(r, "first_seen")?),
        fixed_at: opt_ts(get(r, "fixed_at")?),
        updated_at: ts(get(r, "updated_at")?),
    })
}

fn job_row(r: &SqliteRow) -> Result<Job> {
    let attempts: i64 = get(r, "attempts")?;
    let result: Option<String> = get(r, "result")?;
    let result = match result {
        None => None,
        Some(t) => Some(
            serde_json::from_str::<JobResult>(&t)
                .map_err(|e| Error::Backend(format!("stored job result: {e}")))?,
        ),
    };
    Ok(Job {
        id: get(r, "id")?,
        asset_id: get(r, "asset_id")?,
        kind: get(r, "kind")?,
        payload: codec::parse_json(&get::<String>(r, "payload")?)?,
        state: codec::parse_job_state(&get::<String>(r, "state")?)?,
        created_at: ts(get(r, "created_at")?),
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        lease_until: opt_ts(get(r, "lease_until")?),
        finished_at: opt_ts(get(r, "finished_at")?),
        result,
    })
}

fn audit_row(r: &SqliteRow) -> Result<audit::Record> {
    Ok(audit::Record {
        seq: get(r, "seq")?,
        at: ts(get(r, "at")?),
        actor: Actor {
            principal: get(r, "principal")?,
            role: codec::parse_role(&get::<String>(r, "role")?)?,
        },
        action: get(r, "action")?,
        target: get(r, "target")?,
        before: get(r, "before")?,
        after: get(r, "after")?,
        prev_hash: get(r, "prev_hash")?,
        hash: get(r, "hash")?,
    })
}

/// Append one record to the hash chain, inside the caller's write transaction.
async fn append_audit(c: &mut SqliteConnection, entry: Entry) -> Result<()> {
    let (seq, prev): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut *c)
            .await
            .map_err(db)?;
    let r = audit::seal(seq + 1, &prev, entry);
    sqlx::query(INSERT_AUDIT)
        .bind(r.seq)
        .bind(r.at.0)
        .bind(&r.actor.principal)
        .bind(r.actor.role.as_str())
        .bind(&r.action)
        .bind(&r.target)
        .bind(&r.before)
        .bind(&r.after)
        .bind(&r.prev_hash)
        .bind(&r.hash)
        .execute(&mut *c)
        .await
        .map_err(db)?;
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(r.seq)
        .bind(&r.hash)
        .execute(&mut *c)
        .await
        .map_err(db)?;
    Ok(())
}

async fn asset_in(c: &mut SqliteConnection, id: i64) -> Result<Option<Asset>> {
    let r = sqlx::query(&format!("SELECT {ASSET_COLS} FROM assets WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *c)
        .await
        .map_err(db)?;
    r.as_ref().map(asset_row).transpose()
}

async fn token_in(c: &mut SqliteConnection, id: i64) -> Result<Option<Token>> {
    let r = sqlx::query(&format!("SELECT {TOKEN_COLS} FROM tokens WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *c)
        .await
        .map_err(db)?;
    r.as_ref().map(token_row).transpose()
}

async fn job_in(c: &mut SqliteConnection, id: i64) -> Result<Option<Job>> {
    let r = sqlx::query(&format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *c)
        .await
        .map_err(db)?;
    r.as_ref().map(job_row).transpose()
}

async fn insert_token(c: &mut SqliteConnection, new: &NewToken) -> Result<Token> {
    if new.hash.0.is_empty() {
        return Err(Error::Invalid("token hash is empty".into()));
    }
    new.validate()?;
    if let Some(a) = new.asset_id {
        if asset_in(c, a).await?.is_none() {
            return Err(Error::NotFound(format!("asset {a}")));
        }
    }
    let r = sqlx::query(&format!(
        "INSERT INTO tokens (name, role, hash, created_at, expires_at, asset_id) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {TOKEN_COLS}"
    ))
    .bind(&new.name)
    .bind(new.role.as_str())
    .bind(&new.hash.0)
    .bind(new.created_at.0)
    .bind(new.expires_at.map(|t| t.0))
    .bind(new.asset_id)
    .fetch_one(&mut *c)
    .await
    .map_err(|e| match db(e) {
        Error::Conflict(_) => Error::Conflict("a token with this hash exists".into()),
        other => other,
    })?;
    token_row(&r)
}

async fn insert_asset(c: &mut SqliteConnection, new: &NewAsset, now: Ts) -> Result<Asset> {
    new.validate()?;
    let r = sqlx::query(&format!(
        "INSERT INTO assets (name, environment, site, tier, exposure, sensitivity, owner, tags, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         RETURNING {ASSET_COLS}"
    ))
    .bind(&new.name)
    .bind(codec::environment_str(new.environment))
    .bind(&new.site)
    .bind(i64::from(new.tier))
    .bind(codec::exposure_str(new.exposure))
    .bind(codec::sensitivity_str(new.sensitivity))
    .bind(&new.owner)
    .bind(codec::strings_json(&new.tags))
    .bind(now.0)
    .fetch_one(&mut *c)
    .await
    .map_err(|e| match db(e) {
        Error::Conflict(_) => Error::Conflict(format!("an asset named {:?} exists", new.name)),
        other => other,
    })?;
    asset_row(&r)
}

/// `?,?,…,?`: `n` anonymous placeholders. Statements with long lists use only anonymous
/// `?` and bind in order: SQLite looks a *named* parameter (`$1`) up by a linear scan, so
/// binding thousands of them is quadratic.
fn placeholders(n: usize) -> String {
    let mut s = "?,".repeat(n);
    s.pop();
    s
}

/// `(?,?,?),(?,?,?),…` for `rows` rows of `cols` columns (anonymous, see [`placeholders`]).
fn values(cols: usize, rows: usize) -> String {
    let row = format!("({})", placeholders(cols));
    let mut s = String::with_capacity(rows * (row.len() + 1));
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push_str(&row);
    }
    s
}

/// Close findings as fixed. Only live ones change; `asset` restricts to one asset.
async fn fix_findings(
    c: &mut SqliteConnection,
    ids: &[i64],
    asset: Option<i64>,
    now: Ts,
) -> Result<u64> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut fixed = 0;
    for chunk in ids.chunks(CHUNK_ROWS) {
        let sql = format!(
            "UPDATE findings SET state = 'fixed', fixed_at = ?, updated_at = ? \
             WHERE state <> 'fixed' AND (? IS NULL OR asset_id = ?) AND id IN ({})",
            placeholders(chunk.len())
        );
        let mut q = sqlx::query(&sql)
            .bind(now.0)
            .bind(now.0)
            .bind(asset)
            .bind(asset);
        for id in chunk {
            q = q.bind(id);
        }
        fixed += q.execute(&mut *c).await.map_err(db)?.rows_affected();
    }
    Ok(fixed)
}

/// Open findings; one already live for the same (asset, package, advisory) is left as is.
async fn open_findings(c: &mut SqliteConnection, open: &[NewFinding], now: Ts) -> Result<u64> {
    const COLS: usize = 15;
    let mut opened = 0;
    for chunk in open.chunks(CHUNK_ROWS) {
        let sql = format!(
            "INSERT INTO findings (asset_id, ecosystem, match_name, name, version, release, \
             source_name, source_version, purl, advisory_id, fixed_versions, severity, state, \
             first_seen, updated_at) VALUES {} ON CONFLICT DO NOTHING",
            values(COLS, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for f in chunk {
            let p = &f.package;
            q = q
                .bind(f.asset_id)
                .bind(p.ecosystem.as_str())
                .bind(codec::match_name(p).into_owned())
                .bind(p.name.as_str())
                .bind(p.version.as_str())
                .bind(p.release.as_deref())
                .bind(p.source_name.as_deref())
                .bind(p.source_version.as_deref())
                .bind(p.purl.as_deref())
                .bind(f.advisory_id.as_str())
                .bind(codec::strings_json(&f.fixed_versions))
                .bind(f.severity.as_deref())
                .bind("open")
                .bind(f.first_seen.0)
                .bind(now.0);
        }
        opened += q.execute(&mut *c).await.map_err(db)?.rows_affected();
    }
    Ok(opened)
}

/// Group (ecosystem, name) keys by ecosystem, deduplicated, for indexed `IN` lookups.
fn keys_by_ecosystem(keys: &[PackageName]) -> Vec<(&str, Vec<&str>)> {
    let mut m: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> =
        Default::default();
    for k in keys {
        m.entry(k.ecosystem.as_str())
            .or_default()
            .insert(k.name.as_str());
    }
    m.into_iter()
        .map(|(e, n)| (e, n.into_iter().collect()))
        .collect()
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn ping(&self) -> Result<()> {
        if let Some(why) = self.damage.lock().ok().and_then(|d| d.clone()) {
            return Err(Error::Backend(why));
        }
        // The head row and the record it names: the pages `audit verify` starts from.
        let head: Option<(i64, Option<String>)> = sqlx::query_as(
            "SELECT h.seq, (SELECT l.hash FROM audit_log l WHERE l.seq = h.seq) \
             FROM audit_head h WHERE h.id = 1",
        )
        .fetch_optional(&self.read)
        .await
        .map_err(db)?;
        match head {
            Some(_) => Ok(()),
            None => Err(Error::Backend("the audit_head row is missing".into())),
        }
    }

    // ------------------------------------------------------------------ tokens

    async fn create_token(&self, new: NewToken, actor: &Actor) -> Result<Token> {
        let mut tx = self.begin().await?;
        let t = insert_token(&mut tx, &new).await?;
        let e = Entry::new::<(), _>(
            new.created_at,
            actor,
            "token.create",
            format!("token:{}", t.id),
            None,
            Some(&t),
        );
        append_audit(&mut tx, e).await?;
        tx.commit().await.map_err(db)?;
        Ok(t)
    }

    async fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<Token>> {
        let r = sqlx::query(&format!("SELECT {TOKEN_COLS} FROM tokens WHERE hash = $1"))
            .bind(&hash.0)
            .fetch_optional(&self.read)
            .await
            .map_err(db)?;
        r.as_ref().map(token_row).transpose()
    }

    async fn list_tokens(&self) -> Result<Vec<Token>> {
        let rows = sqlx::query(&format!("SELECT {TOKEN_COLS} FROM tokens ORDER BY id"))
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        rows.iter().map(token_row).collect()
    }

    async fn revoke_token(&self, id: i64, now: Ts, actor: &Actor) -> Result<bool> {
        let mut tx = self.begin().await?;
        let before = token_in(&mut tx, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("token {id}")))?;
        if before.revoked_at.is_some() {
            return Ok(false);
        }
        sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2")
            .bind(now.0)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let after = Token {
            revoked_at: Some(now),
            ..before.clone()
        };
        let e = Entry::new(
            now,
            actor,
            "token.revoke",
            format!("token:{id}"),
            Some(&before),
            Some(&after),
        );
        append_audit(&mut tx, e).await?;
        tx.commit().await.map_err(db)?;
        self.notify(Notice::TokensRevoked { ids: vec![id] });
        Ok(true)
    }

    async fn count_tokens(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tokens")
            .fetch_one(&self.read)
            .await
            .map_err(db)?;
        Ok(n as u64)
    }

    async fn enroll(&self, req: Enrollment, now: Ts) -> Result<Enrolled> {
        req.asset.validate()?;
        // One writer: concurrent enrolments (with one token, or for one asset) take turns.
        let mut tx = self.begin().await?;
        let r = sqlx::query(&format!("SELECT {TOKEN_COLS} FROM tokens WHERE hash = $1"))
            .bind(&req.enroll_hash.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        let enroll = codec::check_enroll_token(r.as_ref().map(token_row).transpose()?, now)?;
        let (asset, created) = match enroll.asset_id {
            Some(id) => {
                let a = asset_in(&mut tx, id)
                    .await?
                    .ok_or_else(|| Error::NotFound(format!("asset {id}")))?;
                codec::check_reenroll_name(&a, &req.asset.name)?;
                (a, false)
            }
            None => {
                let existing: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM assets WHERE name = $1")
                        .bind(&req.asset.name)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db)?;
                if existing.is_some() {
                    return Err(codec::enroll_name_taken(&req.asset.name, existing));
                }
                (insert_asset(&mut tx, &req.asset, now).await?, true)
            }
        };
        let revoked = if created {
            Vec::new()
        } else {
            let rows = sqlx::query(&format!(
                "UPDATE tokens SET revoked_at = $1 WHERE asset_id = $2 AND role = 'agent' \
                 AND revoked_at IS NULL RETURNING {TOKEN_COLS}"
            ))
            .bind(now.0)
            .bind(asset.id)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
            let mut v = rows.iter().map(token_row).collect::<Result<Vec<_>>>()?;
            v.sort_by_key(|t| t.id);
            v
        };
        let used = sqlx::query(
            "UPDATE tokens SET used_at = $1, asset_id = $2 WHERE id = $3 AND used_at IS NULL",
        )
        .bind(now.0)
        .bind(asset.id)
        .bind(enroll.id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if used.rows_affected() != 1 {
            return Err(Error::Conflict(
                "the enrolment token was already used".into(),
            ));
        }
        let token = insert_token(
            &mut tx,
            &NewToken {
                name: codec::agent_token_name(&asset),
                role: Role::Agent,
                hash: req.agent_hash.clone(),
                created_at: now,
                expires_at: None,
                asset_id: Some(asset.id),
            },
        )
        .await?;
        let enrolled = Enrolled {
            asset,
            token,
            asset_created: created,
            revoked_tokens: revoked.iter().map(|t| t.id).collect(),
        };
        append_audit(
            &mut tx,
            codec::enroll_entry(now, &enroll, &enrolled, &revoked),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        if !enrolled.revoked_tokens.is_empty() {
            let ids = enrolled.revoked_tokens.clone();
            self.notify(Notice::TokensRevoked { ids });
        }
        Ok(enrolled)
    }

    // ------------------------------------------------------------------ assets

    async fn create_asset(&self, new: NewAsset, now: Ts, actor: &Actor) -> Result<Asset> {
        new.validate()?;
        let mut tx = self.begin().await?;
        let a = insert_asset(&mut tx, &new, now).await?;
        let e = Entry::new::<(), _>(
            now,
            actor,
            "asset.create",
            format!("asset:{}", a.id),
            None,
            Some(&a),
        );
        append_audit(&mut tx, e).await?;
        tx.commit().await.map_err(db)?;
        Ok(a)
    }

    async fn get_asset(&self, id: i64) -> Result<Option<Asset>> {
        let mut c = self.read.acquire().await.map_err(db)?;
        asset_in(&mut c, id).await
    }

    async fn list_assets(&self, after_id: i64, limit: u32) -> Result<Vec<Asset>> {
        let rows = sqlx::query(&format!(
            "SELECT {ASSET_COLS} FROM assets WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after_id)
        .bind(i64::from(codec::list_limit(limit)))
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        rows.iter().map(asset_row).collect()
    }

    async fn update_asset(
        &self,
        id: i64,
        patch: AssetPatch,
        now: Ts,
        actor: &Actor,
    ) -> Result<Asset> {
        patch.validate()?;
        let mut tx = self.begin().await?;
        let before = asset_in(&mut tx, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("asset {id}")))?;
        let mut a = before.clone();
        if let Some(v) = patch.environment {
            a.environment = v;
        }
        if let Some(v) = codec::patch_text(patch.site) {
            a.site = v;
        }
        if let Some(v) = patch.tier {
            a.tier = v;
        }
        if let Some(v) = patch.exposure {
            a.exposure = v;
        }
        if let Some(v) = patch.sensitivity {
            a.sensitivity = v;
        }
        if let Some(v) = codec::patch_text(patch.owner) {
            a.owner = v;
        }
        if let Some(v) = patch.tags {
            a.tags = v;
        }
        a.updated_at = now;
        sqlx::query(
            "UPDATE assets SET environment = $1, site = $2, tier = $3, exposure = $4, \
             sensitivity = $5, owner = $6, tags = $7, updated_at = $8 WHERE id = $9",
        )
        .bind(codec::environment_str(a.environment))
        .bind(&a.site)
        .bind(i64::from(a.tier))
        .bind(codec::exposure_str(a.exposure))
        .bind(codec::sensitivity_str(a.sensitivity))
        .bind(&a.owner)
        .bind(codec::strings_json(&a.tags))
        .bind(now.0)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let e = Entry::new(
            now,
            actor,
            "asset.update",
            format!("asset:{id}"),
            Some(&before),
            Some(&a),
        );
        append_audit(&mut tx, e).await?;
        tx.commit().await.map_err(db)?;
        Ok(a)
    }

    async fn heartbeat(&self, asset_id: i64, now: Ts) -> Result<bool> {
        self.inventories.heartbeat(asset_id, now).await
    }

    // ------------------------------------------------------------------ inventories

    async fn current_packages(&self, asset_id: i64) -> Result<CurrentPackages> {
        // The current set is the current snapshot's stored list: one row to inflate and
        // decode instead of ~1,500 rows through the driver, which cost more than the rest
        // of a report.
        let row = sqlx::query(
            "SELECT a.current_snapshot, s.idempotency_key, typeof(b.body) AS kind, b.body FROM assets a \
             LEFT JOIN snapshots s ON s.id = a.current_snapshot \
             LEFT JOIN blobs b ON b.id = s.blob_id WHERE a.id = $1",
        )
        .bind(asset_id)
        .fetch_optional(&self.read)
        .await
        .map_err(db)?;
        let Some(row) = row else {
            return Err(Error::NotFound(format!("asset {asset_id}")));
        };
        let snapshot_id: Option<i64> = get(&row, "current_snapshot")?;
        let packages = match get::<Option<String>>(&row, "kind")?.as_deref() {
            None | Some("null") => Vec::new(),
            Some(kind) => blob::decode(kind, &row)?,
        };
        Ok(CurrentPackages {
            snapshot_id,
            idempotency_key: get(&row, "idempotency_key")?,
            packages,
        })
    }

    async fn apply_inventory(
        &self,
        change: InventoryChange,
        actor: &Actor,
    ) -> Result<ApplyOutcome> {
        codec::check_inventory(&change)?;
        // Encoding and hashing happen here, in parallel across callers; the writer task
        // only runs SQL.
        let prepared = batch::Prepared::new(change, actor.clone());
        self.inventories.apply(prepared).await
    }

    async fn list_snapshots(&self, asset_id: i64) -> Result<Vec<SnapshotInfo>> {
        let rows = sqlx::query(
            "SELECT id, asset_id, collected_at, received_at, source, content_hash, package_count \
             FROM snapshots WHERE asset_id = $1 ORDER BY id",
        )
        .bind(asset_id)
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(SnapshotInfo {
                    id: get(r, "id")?,
                    asset_id: get(r, "asset_id")?,
                    collected_at: ts(get(r, "collected_at")?),
                    received_at: ts(get(r, "received_at")?),
                    source: get(r, "source")?,
                    content_hash: get(r, "content_hash")?,
                    package_count: get::<i64>(r, "package_count")? as u64,
                })
            })
            .collect()
    }

    async fn snapshot_packages(&self, snapshot_id: i64) -> Result<Option<Vec<PackageRow>>> {
        let row = sqlx::query(
            "SELECT typeof(b.body) AS kind, b.body FROM snapshots s \
             JOIN blobs b ON b.id = s.blob_id WHERE s.id = $1",
        )
        .bind(snapshot_id)
        .fetch_optional(&self.read)
        .await
        .map_err(db)?;
        let Some(row) = row else { return Ok(None) };
        let kind: String = get(&row, "kind")?;
        blob::decode(&kind, &row).map(Some)
    }

    // ------------------------------------------------------------------ findings

    async fn list_findings(&self, filter: FindingFilter) -> Result<Vec<Finding>> {
        let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(format!(
            "SELECT {FINDING_COLS} FROM findings WHERE id > "
        ));
        qb.push_bind(filter.after_id);
        if let Some(a) = filter.asset_id {
            qb.push(" AND asset_id = ").push_bind(a);
        }
        if filter.unfixed {
            qb.push(" AND state <> 'fixed'");
        }
        if let Some(s) = filter.state {
            qb.push(" AND state = ").push_bind(s.as_str());
        }
        if let Some(adv) = &filter.advisory_id {
            qb.push(" AND advisory_id = ").push_bind(adv.clone());
        }
        qb.push(" ORDER BY id LIMIT ")
            .push_bind(i64::from(codec::finding_limit(&filter)));
        let rows = qb.build().fetch_all(&self.read).await.map_err(db)?;
        rows.iter().map(finding_row).collect()
    }

    async fn packages_named(
        &self,
        keys: &[PackageName],
        assets: Range<i64>,
    ) -> Result<NamedPackages> {
        if keys.is_empty() || assets.is_empty() {
            return Ok(NamedPackages::default());
        }
        // Run only after a feed update: read the current list of every asset in the range
        // and keep the rows filed under one of the keys. Lists are inflated and decoded off
        // the async workers, a few hundred assets at a time.
        let want = std::sync::Arc::new(codec::NameSet::new(keys));
        const PAGE: i64 = 256;
        let mut out = Vec::new();
        let mut snapshots = Vec::new();
        let mut after = assets.start.saturating_sub(1);
        loop {
            let rows = sqlx::query(
                "SELECT a.id, a.current_snapshot, typeof(b.body) AS kind, b.body FROM assets a \
                 JOIN snapshots s ON s.id = a.current_snapshot \
                 JOIN blobs b ON b.id = s.blob_id WHERE a.id > $1 AND a.id < $2 \
                 ORDER BY a.id LIMIT $3",
            )
            .bind(after)
            .bind(assets.end)
            .bind(PAGE)
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
            let Some(last) = rows.last() else { break };
            after = get(last, "id")?;
            for r in &rows {
                snapshots.push((get(r, "id")?, get(r, "current_snapshot")?));
            }
            let full = rows.len() as i64 == PAGE;
            let want = want.clone();
            let found = tokio::task::spawn_blocking(move || -> Result<Vec<AssetPackage>> {
                let mut found = Vec::new();
                for r in &rows {
                    let kind: String = get(r, "kind")?;
                    found.extend(want.pick(get(r, "id")?, blob::decode(&kind, r)?));
                }
                Ok(found)
            })
            .await
            .map_err(|e| Error::Backend(format!("reading current packages: {e}")))??;
            out.extend(found);
            if !full {
                break;
            }
        }
        out.sort_by(|a, b| (a.asset_id, &a.package).cmp(&(b.asset_id, &b.package)));
        Ok(NamedPackages {
            packages: out,
            snapshots,
        })
    }

    async fn findings_on(&self, keys: &[PackageName], assets: Range<i64>) -> Result<Vec<Finding>> {
        let mut out = Vec::new();
        if assets.is_empty() {
            return Ok(out);
        }
        let mut c = self.read.acquire().await.map_err(db)?;
        // Driven by the asset range (`findings_live` leads with asset_id). Left to itself
        // SQLite takes `findings_live_by_name` and reads the whole fleet's findings on the
        // names for every page, quadratic in the fleet (synthetic 10,000 assets x 60
        // findings, pages of 500: every name 25 s that way, 2.3 s this way; three names
        // 1.2 s and 0.3 s).
        for (eco, names) in keys_by_ecosystem(keys) {
            for chunk in names.chunks(CHUNK_ROWS) {
                let sql = format!(
                    "SELECT {FINDING_COLS} FROM findings INDEXED BY findings_live \
                     WHERE state <> 'fixed' AND ecosystem = ? AND match_name IN ({}) \
                     AND asset_id >= ? AND asset_id < ?",
                    placeholders(chunk.len())
                );
                let mut q = sqlx::query(&sql).bind(eco);
                for n in chunk {
                    q = q.bind(*n);
                }
                q = q.bind(assets.start).bind(assets.end);
                for r in q.fetch_all(&mut *c).await.map_err(db)? {
                    out.push(finding_row(&r)?);
                }
                if codec::MATCHED_BY_SOURCE_TOO.contains(&eco) {
                    // An RPM's finding may come from an advisory naming its source RPM.
                    let sql = format!(
                        "SELECT {FINDING_COLS} FROM findings INDEXED BY findings_live \
                         WHERE state <> 'fixed' AND ecosystem = ? AND source_name IN ({}) \
                         AND source_name <> name AND asset_id >= ? AND asset_id < ?",
                        placeholders(chunk.len())
                    );
                    let mut q = sqlx::query(&sql).bind(eco);
                    for n in chunk {
                        q = q.bind(*n);
                    }
                    q = q.bind(assets.start).bind(assets.end);
                    for r in q.fetch_all(&mut *c).await.map_err(db)? {
                        out.push(finding_row(&r)?);
                    }
                }
            }
        }
        out.sort_by_key(|f| f.id);
        out.dedup_by_key(|f| f.id);
        Ok(out)
    }

    async fn apply_finding_changes(
        &self,
        changes: FindingChanges,
        actor: &Actor,
    ) -> Result<ChangesApplied> {
        if changes.open.is_empty() && changes.fix.is_empty() && changes.update.is_empty() {
            return Ok(ChangesApplied::default());
        }
        let now = changes.now;
        let mut tx = self.begin().await?;
        // Leave out the changes of assets that reported since they were computed (this
        // transaction holds the database's one write lock, so none can report now).
        let mut current: Vec<(i64, Option<i64>)> = Vec::with_capacity(changes.basis.len());
        for chunk in changes.basis.chunks(CHUNK_ROWS) {
            let sql = format!(
                "SELECT id, current_snapshot FROM assets WHERE id IN ({})",
                placeholders(chunk.len())
            );
            let mut q = sqlx::query_as::<_, (i64, Option<i64>)>(&sql);
            for (asset, _) in chunk {
                q = q.bind(asset);
            }
            current.extend(q.fetch_all(&mut *tx).await.map_err(db)?);
        }
        let stale_assets = codec::stale_assets(&changes.basis, &current);
        let changes = if stale_assets.is_empty() {
            changes
        } else {
            let mut theirs = std::collections::HashSet::new();
            for asset in &stale_assets {
                let ids: Vec<i64> =
                    sqlx::query_scalar("SELECT id FROM findings WHERE asset_id = ?")
                        .bind(asset)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(db)?;
                theirs.extend(ids);
            }
            codec::without_stale(&changes, &stale_assets, &theirs)
        };
        let fixed = fix_findings(&mut tx, &changes.fix, None, now).await?;
        let mut updated = 0;
        for (id, fixed_versions, severity) in &changes.update {
            updated += sqlx::query(
                "UPDATE findings SET fixed_versions = $1, severity = $2, updated_at = $3 \
                 WHERE id = $4 AND state <> 'fixed' \
                 AND (fixed_versions <> $1 OR severity IS NOT $2)",
            )
            .bind(codec::strings_json(fixed_versions))
            .bind(severity)
            .bind(now.0)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        }
        let opened = open_findings(&mut tx, &changes.open, now).await?;
        let counts = ChangeCounts {
            opened,
            fixed,
            updated,
        };
        if counts == ChangeCounts::default() {
            // Nothing changed (all already applied): nothing to audit.
            return Ok(ChangesApplied {
                counts,
                stale_assets,
            });
        }
        let after = serde_json::json!({
            "cause": changes.cause,
            "opened": opened,
            "fixed": fixed,
            "updated": updated,
            "fix_requested": changes.fix.len(),
            "open_requested": changes.open.len(),
            "update_requested": changes.update.len(),
        });
        let e = Entry::new::<(), _>(now, actor, "findings.apply", "findings", None, Some(&after));
        append_audit(&mut tx, e).await?;
        tx.commit().await.map_err(db)?;
        Ok(ChangesApplied {
            counts,
            stale_assets,
        })
    }

    async fn set_finding_state(
        &self,
        id: i64,
        state: FindingState,
        reason: Option<String>,
        now: Ts,
        actor: &Actor,
    ) -> Result<Finding> {
        let reason = codec::check_finding_transition(state, reason)?;
        let mut tx = self.begin().await?;
        let r = sqlx::query(&format!(
            "SELECT {FINDING_COLS} FROM findings WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let before = match r {
            Some(r) => finding_row(&r)?,
            None => return Err(Error::NotFound(format!("finding {id}"))),
        };
        if before.state == FindingState::Fixed {
            return Err(Error::Conflict(format!("finding {id} is fixed")));
        }
        sqlx::query("UPDATE findings SET state = $1, reason = $2, updated_at = $3 WHERE id = $4")
            .bind(state.as_str())
            .bind(&reason)
            .bind(now.0)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let after = Finding {
            state,
            reason,
            updated_at: now,
            ..before.clone()
        };
        let e = Entry::new(
            now,
            actor,
            "finding.state",
            format!("finding:{id}"),
            Some(&before),
            Some(&after),
        );
        append_audit(&mut tx, e).await?;
        tx.commit().await.map_err(db)?;
        Ok(after)
    }

    // ------------------------------------------------------------------ feed state

    async fn get_feed_state(&self, name: &str) -> Result<Option<FeedState>> {
        let r = sqlx::query("SELECT name, state, updated_at FROM feed_state WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.read)
            .await
            .map_err(db)?;
        r.map(|r| {
            Ok(FeedState {
                name: get(&r, "name")?,
                state: codec::parse_json(&get::<String>(&r, "state")?)?,
                updated_at: ts(get(&r, "updated_at")?),
            })
        })
        .transpose()
    }

    async fn set_feed_state(&self, state: FeedState, actor: &Actor) -> Result<()> {
        let mut tx = self.begin().await?;
        let before = sqlx::query("SELECT name, state, updated_at FROM feed_state WHERE name = $1")
            .bind(&state.name)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?
            .map(|r| -> Result<FeedState> {
                Ok(FeedState {
                    name: get(&r, "name")?,
                    state: codec::parse_json(&get::<String>(&r, "state")?)?,
                    updated_at: ts(get(&r, "updated_at")?),
                })
            })
            .transpose()?;
        sqlx::query(
            "INSERT INTO feed_state (name, state, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(&state.name)
        .bind(codec::json_text(&state.state))
        .bind(state.updated_at.0)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let e = Entry::new(
            state.updated_at,
            actor,
            "feed.state",
            format!("feed:{}", state.name),
            before.as_ref(),
            Some(&state),
        );
        append_audit(&mut tx, e).await?;
        tx.commit().await.map_err(db)?;
        self.notify(Notice::FeedsUpdated);
        Ok(())
    }

    // ------------------------------------------------------------------ advisory files

    async fn put_advisory_file(&self, digest: &str, bytes: Vec<u8>, now: Ts) -> Result<()> {
        let mut tx = self.begin().await?;
        let kept = sqlx::query("UPDATE advisory_files SET stored_at = $2 WHERE digest = $1")
            .bind(digest)
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if kept.rows_affected() == 0 {
            sqlx::query("INSERT INTO advisory_files (digest, stored_at, body) VALUES ($1, $2, $3)")
                .bind(digest)
                .bind(now.0)
                .bind(bytes)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        sqlx::query(
            "DELETE FROM advisory_files WHERE digest <> $1 AND digest NOT IN \
             (SELECT digest FROM advisory_files WHERE digest <> $1 \
              ORDER BY stored_at DESC, digest DESC LIMIT 1)",
        )
        .bind(digest)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn get_advisory_file(&self, digest: &str) -> Result<Option<Vec<u8>>> {
        sqlx::query_scalar("SELECT body FROM advisory_files WHERE digest = $1")
            .bind(digest)
            .fetch_optional(&self.read)
            .await
            .map_err(db)
    }

    // ------------------------------------------------------------------ jobs

    async fn enqueue_job(&self, new: NewJob, now: Ts, actor: &Actor) -> Result<Job> {
        new.validate()?;
        let mut tx = self.begin().await?;
        if asset_in(&mut tx, new.asset_id).await?.is_none() {
            return Err(Error::NotFound(format!("asset {}", new.asset_id)));
        }
        let r = sqlx::query(&format!(
            "INSERT INTO jobs (asset_id, kind, payload, state, created_at) \
             VALUES ($1, $2, $3, 'queued', $4) RETURNING {JOB_COLS}"
        ))
        .bind(new.asset_id)
        .bind(&new.kind)
        .bind(codec::json_text(&new.payload))
        .bind(now.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let job = job_row(&r)?;
        let e = Entry::new::<(), _>(
            now,
            actor,
            "job.enqueue",
            format!("job:{}", job.id),
            None,
            Some(&job),
        );
        append_audit(&mut tx, e).await?;
        tx.commit().await.map_err(db)?;
        self.notify(Notice::JobQueued {
            asset_id: new.asset_id,
        });
        Ok(job)
    }

    async fn claim_jobs(
        &self,
        asset_id: i64,
        limit: u32,
        now: Ts,
        lease_until: Ts,
    ) -> Result<Vec<Job>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // Long-polling agents ask often; only take the writer when there is work.
        let any: Option<i64> = sqlx::query_scalar(CLAIMABLE_EXISTS)
            .bind(asset_id)
            .bind(now.0)
            .fetch_optional(&self.read)
            .await
            .map_err(db)?;
        if any.is_none() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin().await?;
        let rows = sqlx::query(&format!(
            "UPDATE jobs SET state = 'claimed', attempts = attempts + 1, lease_until = $1 \
             WHERE id IN (SELECT id FROM jobs WHERE asset_id = $2 AND (state = 'queued' \
             OR (state = 'claimed' AND lease_until <= $3)) ORDER BY id LIMIT $4) \
             RETURNING {JOB_COLS}"
        ))
        .bind(lease_until.0)
        .bind(asset_id)
        .bind(now.0)
        .bind(i64::from(codec::list_limit(limit)))
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let mut jobs = rows.iter().map(job_row).collect::<Result<Vec<_>>>()?;
        jobs.sort_by_key(|j| j.id);
        if jobs.is_empty() {
            return Ok(jobs);
        }
        let e = codec::claim_entry(asset_id, &jobs, now, lease_until);
        append_audit(&mut tx, e).await?;
        tx.commit().await.map_err(db)?;
        Ok(jobs)
    }

    async fn finish_job(
        &self,
        id: i64,
        asset_id: i64,
        result: JobResult,
        now: Ts,
        actor: &Actor,
    ) -> Result<Job> {
        let mut tx = self.begin().await?;
        let before = job_in(&mut tx, id)
            .await?
            .ok_or_else(|| codec::job_not_found(id))?;
        if codec::check_finish(&before, asset_id, &result)? {
            return Ok(before);
        }
        let state = if result.success {
            JobState::Succeeded
        } else {
            JobState::Failed
        };
        let result_text = serde_json::to_string(&result)
            .map_err(|e| Error::Invalid(format!("job result: {e}")))?;
        sqlx::query("UPDATE jobs SET state = $1, finished_at = $2, result = $3 WHERE id = $4")
            .bind(state.as_str())
            .bind(now.0)
            .bind(&result_text)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let after = Job {
            state,
            finished_at: Some(now),
            result: Some(result),
            ..before.clone()
        };
        let e = Entry::new(
            now,
            actor,
            "job.finish",
            format!("job:{id}"),
            Some(&before),
            Some(&after),
        );
        append_audit(&mut tx, e).await?;
        tx.commit().await.map_err(db)?;
        Ok(after)
    }

    async fn get_job(&self, id: i64) -> Result<Option<Job>> {
        let mut c = self.read.acquire().await.map_err(db)?;
        job_in(&mut c, id).await
    }

    async fn list_jobs(&self, asset_id: Option<i64>, limit: u32) -> Result<Vec<Job>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLS} FROM jobs WHERE ($1 IS NULL OR asset_id = $1) \
             ORDER BY id DESC LIMIT $2"
        ))
        .bind(asset_id)
        .bind(i64::from(codec::list_limit(limit)))
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        rows.iter().map(job_row).collect()
    }

    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }

    // ------------------------------------------------------------------ audit

    async fn audit_records(&self, after_seq: i64, limit: u32) -> Result<Vec<audit::Record>> {
        let rows = sqlx::query(&format!(
            "SELECT {AUDIT_COLS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
        ))
        .bind(after_seq)
        .bind(i64::from(codec::list_limit(limit)))
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        rows.iter().map(audit_row).collect()
    }

    // ------------------------------------------------------------------ integrity

    async fn audit_head(&self) -> Result<audit::Anchor> {
        let (seq, hash): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(&self.read)
                .await
                .map_err(db)?;
        Ok(audit::Anchor {
            seq,
            hash,
            source: "the database's audit_head row".into(),
        })
    }

    fn database_id(&self) -> Option<String> {
        self.file
            .as_ref()
            .map(|(p, _)| format!("sqlite:{}", p.display()))
    }

    async fn check_integrity(&self) -> Result<()> {
        let r = integrity::check_file(self.file.as_ref().map(|f| &f.1), &self.write).await;
        if let Ok(mut d) = self.damage.lock() {
            *d = r.as_ref().err().cloned();
        }
        r.map_err(Error::Backend)
    }
}
