//! The scale-out storage backend: [`PgStore`] implements [`patchpilot_store::Store`] on
//! PostgreSQL, so several stateless server replicas can share one database.
//!
//! How it is cut, and why:
//! - **Replicas coordinate through the database only.** Jobs are claimed with
//!   `FOR UPDATE SKIP LOCKED`; inventories lock their asset row and check
//!   `expected_previous`; enrolment locks the token row. Notices go out with `pg_notify`
//!   inside the changing transaction (so they are sent only if it commits) and every
//!   instance's `LISTEN` task feeds its in-process broadcast.
//! - **One audit chain across replicas.** Each audited transaction locks the single
//!   `audit_head` row as its *last* step, appends, and commits. Taking it last keeps the
//!   serialized part short (two statements and the commit) and means a transaction
//!   holding it never waits for another lock, so it cannot be part of a deadlock. Other
//!   row locks are taken in a fixed order (asset, then findings by id, then new findings
//!   sorted by key) for the same reason.
//! - **Bulk writes are single statements** over `UNNEST`ed arrays.
//! - **Group commit for inventory reports** (`batch.rs`): the reports waiting at a moment
//!   share one transaction (a savepoint and an outcome each) and one WAL flush, and take
//!   the audit head once.
//! - **The current package set is the current snapshot's list** (migration 0002): a
//!   report stores its list once (TOAST-compressed) instead of maintaining ~1,500 indexed
//!   rows; `packages_named`, which only a feed update needs, decodes the current lists.
//! - **Heartbeats** are coalesced (`beats.rs`): those waiting at a moment are one
//!   `UPDATE` over arrays, on a small separate pool whose sessions use
//!   `synchronous_commit = off`: liveness telemetry need not wait for a WAL flush (a
//!   crash may lose the last fraction of a second of them, never consistency).
//! - Everything lives in the first schema of the connection's `search_path`, so one
//!   database can hold several isolated installations (the tests use a schema each);
//!   the notice channel is named after that schema.

use async_trait::async_trait;
use patchpilot_store::audit::{self, Entry};
use patchpilot_store::codec;
use patchpilot_store::*;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::Row;
use std::ops::Range;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

mod batch;
mod beats;
mod integrity;
mod sql;
use sql::*;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How a [`PgStore`] connects.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Connections for queries and transactions.
    pub max_connections: u32,
    /// Connections for heartbeats (`synchronous_commit = off`).
    pub heartbeat_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            max_connections: 16,
            heartbeat_connections: 4,
            acquire_timeout: Duration::from_secs(30),
        }
    }
}

/// The store on a PostgreSQL database. Cheap to clone; clones share pools and the
/// listener, which stops when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    beats: PgPool,
    heartbeats: beats::Beats,
    listen_pool: PgPool,
    notices: broadcast::Sender<Notice>,
    channel: Arc<str>,
    _listener: Arc<ListenerTask>,
    inventories: batch::Batcher,
    /// See [`Store::database_id`].
    id: Arc<str>,
    /// What the last integrity check found wrong, reported by `ping` (`/readyz`).
    damage: Arc<std::sync::Mutex<Option<String>>>,
}

#[derive(Debug)]
struct ListenerTask(tokio::task::JoinHandle<()>);

impl Drop for ListenerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl PgStore {
    /// Connect to `postgres://…` (query options such as `options=-c search_path=…` are
    /// honoured), run migrations, and start listening for notices.
    pub async fn connect(url: &str) -> Result<PgStore> {
        PgStore::connect_with(url, PgOptions::default()).await
    }

    pub async fn connect_with(url: &str, o: PgOptions) -> Result<PgStore> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(Error::Invalid(format!(
                "not a PostgreSQL URL (postgres://…): {url:?}"
            )));
        }
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| Error::Invalid(format!("bad PostgreSQL URL: {e}")))?
            .application_name("patchpilot")
            .statement_cache_capacity(256);
        let pool = PgPoolOptions::new()
            .max_connections(o.max_connections.max(1))
            .acquire_timeout(o.acquire_timeout)
            .connect_with(opts.clone())
            .await
            .map_err(db)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| Error::Backend(format!("migrating the PostgreSQL database: {e}")))?;
        let beats = PgPoolOptions::new()
            .max_connections(o.heartbeat_connections.max(1))
            .acquire_timeout(o.acquire_timeout)
            .connect_with(opts.clone().options([("synchronous_commit", "off")]))
            .await
            .map_err(db)?;
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&pool)
            .await
            .map_err(db)?;
        let channel: Arc<str> = channel_name(&schema).into();
        let id: Arc<str> = integrity::database_id(&pool).await.map_err(db)?.into();
        let (notices, _) = broadcast::channel(1024);
        // The listener keeps its connection for good: give it a pool of its own, so the
        // main pool's size and its close() do not depend on it.
        let listen_pool = PgPoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(o.acquire_timeout)
            .connect_with(opts.clone())
            .await
            .map_err(db)?;
        let mut listener = PgListener::connect_with(&listen_pool).await.map_err(db)?;
        // LISTEN is in place before connect returns: nothing sent after is missed.
        listener.listen(&channel).await.map_err(db)?;
        let task = tokio::spawn(listen(listener, notices.clone()));
        let inventories = batch::Batcher::start(pool.clone());
        let heartbeats = beats::Beats::start(beats.clone());
        Ok(PgStore {
            pool,
            beats,
            heartbeats,
            listen_pool,
            notices,
            channel,
            _listener: Arc::new(ListenerTask(task)),
            inventories,
            id,
            damage: Arc::default(),
        })
    }

    /// One attempt of [`Store::apply_finding_changes`].
    async fn apply_finding_changes_once(
        &self,
        changes: &FindingChanges,
        actor: &Actor,
    ) -> Result<ChangesApplied> {
        let now = changes.now;
        let mut tx = self.begin().await?;
        // Lock the assets first, in id order, as inventory batches do (asset, then its
        // findings), and leave out the changes of those that reported meanwhile.
        let mut ids: Vec<i64> = changes.basis.iter().map(|b| b.0).collect();
        ids.sort_unstable();
        ids.dedup();
        let current: Vec<(i64, Option<i64>)> = if ids.is_empty() {
            Vec::new()
        } else {
            sqlx::query_as(
                "SELECT id, current_snapshot FROM assets WHERE id = ANY($1) ORDER BY id FOR UPDATE",
            )
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?
        };
        let stale_assets = codec::stale_assets(&changes.basis, &current);
        let filtered;
        let changes = if stale_assets.is_empty() {
            changes
        } else {
            let theirs: std::collections::HashSet<i64> =
                sqlx::query_scalar("SELECT id FROM findings WHERE asset_id = ANY($1)")
                    .bind(&stale_assets)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db)?
                    .into_iter()
                    .collect();
            filtered = codec::without_stale(changes, &stale_assets, &theirs);
            &filtered
        };
        let fixed = fix_findings(&mut tx, &changes.fix, None, now).await?;
        let mut updated = 0;
        if !changes.update.is_empty() {
            let mut upd: Vec<&(i64, Vec<String>, Option<String>)> = changes.update.iter().collect();
            upd.sort_by_key(|u| u.0);
            upd.dedup_by_key(|u| u.0);
            let ids: Vec<i64> = upd.iter().map(|u| u.0).collect();
            let fvs: Vec<String> = upd.iter().map(|u| codec::strings_json(&u.1)).collect();
            let sevs: Vec<Option<&str>> = upd.iter().map(|u| u.2.as_deref()).collect();
            sqlx::query("SELECT id FROM findings WHERE id = ANY($1) ORDER BY id FOR UPDATE")
                .bind(&ids)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            updated = sqlx::query(
                "UPDATE findings f SET fixed_versions = u.fv, severity = u.sev, updated_at = $4 \
                 FROM UNNEST($1::bigint[], $2::text[], $3::text[]) AS u(id, fv, sev) \
                 WHERE f.id = u.id AND f.state <> 'fixed' \
                 AND (f.fixed_versions <> u.fv OR f.severity IS DISTINCT FROM u.sev)",
            )
            .bind(&ids)
            .bind(&fvs)
            .bind(&sevs)
            .bind(now.0)
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
            return Ok(ChangesApplied {
                counts,
                stale_assets,
            });
        }
        let after = serde_json::json!({
            "cause": &changes.cause,
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

    /// Close the pools, waiting for queries in flight.
    pub async fn close(&self) {
        self.listen_pool.close().await;
        self.pool.close().await;
        self.beats.close().await;
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.pool.begin().await.map_err(db)
    }
}

/// The notice channel of an installation: its schema, hashed if the name is too long
/// for a PostgreSQL identifier.
fn channel_name(schema: &str) -> String {
    let plain = format!("patchpilot:{schema}");
    if plain.len() <= 63 {
        plain
    } else {
        format!("patchpilot:{}", &codec::blob_hash(schema)[..32])
    }
}

async fn listen(mut listener: PgListener, tx: broadcast::Sender<Notice>) {
    loop {
        match listener.recv().await {
            Ok(n) => match serde_json::from_str::<Notice>(n.payload()) {
                Ok(notice) => {
                    let _ = tx.send(notice);
                }
                Err(e) => tracing::warn!(payload = n.payload(), "ignoring an unknown notice: {e}"),
            },
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => {
                // recv() reconnects on the next call; notices in between are lost, which
                // listeners tolerate (they re-read the database).
                tracing::warn!("notice listener: {e}; reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// How a deadlock or serialization failure starts its message: the transaction was rolled
/// back and may simply be run again.
const TRANSIENT: &str = "transient conflict, rolled back";

/// Retries of a transaction PostgreSQL rolled back to break a deadlock.
const TRANSIENT_RETRIES: u32 = 5;

fn is_transient(e: &Error) -> bool {
    matches!(e, Error::Backend(m) if m.starts_with(TRANSIENT))
}

/// Map a driver error onto the store's error kinds (never leaking sqlx types).
pub(crate) fn db(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::RowNotFound => Error::NotFound("row not found".into()),
        sqlx::Error::Database(d) => {
            let code = d.code().unwrap_or_default();
            if d.is_unique_violation() {
                Error::Conflict(d.message().into())
            } else if d.is_foreign_key_violation() {
                Error::NotFound(format!("a referenced row does not exist ({})", d.message()))
            } else if code == "40P01" || code == "40001" {
                Error::Backend(format!("{TRANSIENT}: {}", d.message()))
            } else if d.is_check_violation() || code.starts_with("22") || code == "54000" {
                // Data exceptions (a NUL byte in text, an out-of-range number) and values
                // too large for an index are the caller's input, not a database failure.
                Error::Invalid(d.message().into())
            } else {
                Error::Backend(e.to_string())
            }
        }
        _ => Error::Backend(e.to_string()),
    }
}

fn get<'r, T>(r: &'r PgRow, col: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    r.try_get(col).map_err(db)
}

fn opt_ts(v: Option<i64>) -> Option<Ts> {
    v.map(Ts)
}

fn token_row(r: &PgRow) -> Result<Token> {
    Ok(Token {
        id: get(r, "id")?,
        name: get(r, "name")?,
        role: codec::parse_role(&get::<String>(r, "role")?)?,
        created_at: Ts(get(r, "created_at")?),
        expires_at: opt_ts(get(r, "expires_at")?),
        revoked_at: opt_ts(get(r, "revoked_at")?),
        used_at: opt_ts(get(r, "used_at")?),
        asset_id: get(r, "asset_id")?,
    })
}

fn asset_row(r: &PgRow) -> Result<Asset> {
    let tier: i32 = get(r, "tier")?;
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
        created_at: Ts(get(r, "created_at")?),
        updated_at: Ts(get(r, "updated_at")?),
        last_seen: opt_ts(get(r, "last_seen")?),
        current_snapshot: get(r, "current_snapshot")?,
    })
}

fn package_row(r: &PgRow) -> Result<PackageRow> {
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

fn finding_row(r: &PgRow) -> Result<Finding> {
    Ok(Finding {
        id: get(r, "id")?,
        asset_id: get(r, "asset_id")?,
        package: package_row(r)?,
        advisory_id: get(r, "advisory_id")?,
        fixed_versions: codec::parse_strings(&get::<String>(r, "fixed_versions")?)?,
        severity: get(r, "severity")?,
        state: codec::parse_finding_state(&get::<String>(r, "state")?)?,
        reason: get(r, "reason")?,
        first_seen: Ts(get(r, "first_seen")?),
        fixed_at: opt_ts(get(r, "fixed_at")?),
        updated_at: Ts(get(r, "updated_at")?),
    })
}

fn job_row(r: &PgRow) -> Result<Job> {
    let attempts: i32 = get(r, "attempts")?;
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
        created_at: Ts(get(r, "created_at")?),
        attempts: u32::try_from(attempts).unwrap_or(0),
        lease_until: opt_ts(get(r, "lease_until")?),
        finished_at: opt_ts(get(r, "finished_at")?),
        result,
    })
}

fn audit_row(r: &PgRow) -> Result<audit::Record> {
    Ok(audit::Record {
        seq: get(r, "seq")?,
        at: Ts(get(r, "at")?),
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

/// Append one record to the chain: lock the head row (serializing appends across every
/// replica), insert, move the head. Call as the transaction's last step.
async fn append_audit(c: &mut PgConnection, entry: Entry) -> Result<()> {
    append_audits(c, vec![entry]).await
}

/// Append records in order with one lock of the head and one insert, so a group commit
/// holds the head (which every audited transaction of every replica waits for) for two
/// statements whatever its size. Call as the transaction's last step.
async fn append_audits(c: &mut PgConnection, entries: Vec<Entry>) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let (mut seq, mut prev): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE")
            .fetch_one(&mut *c)
            .await
            .map_err(db)?;
    let n = entries.len();
    let (mut seqs, mut ats) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut principals, mut roles) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut actions, mut targets) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut befores, mut afters) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut prevs, mut hashes) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for entry in entries {
        seq += 1;
        let r = audit::seal(seq, &prev, entry);
        prev.clone_from(&r.hash);
        seqs.push(r.seq);
        ats.push(r.at.0);
        principals.push(r.actor.principal);
        roles.push(r.actor.role.as_str());
        actions.push(r.action);
        targets.push(r.target);
        befores.push(r.before);
        afters.push(r.after);
        prevs.push(r.prev_hash);
        hashes.push(r.hash);
    }
    sqlx::query(APPEND_AUDIT)
        .bind(seq)
        .bind(&prev)
        .bind(&seqs)
        .bind(&ats)
        .bind(&principals)
        .bind(&roles)
        .bind(&actions)
        .bind(&targets)
        .bind(&befores)
        .bind(&afters)
        .bind(&prevs)
        .bind(&hashes)
        .execute(&mut *c)
        .await
        .map_err(db)?;
    Ok(())
}

/// Announce a notice when (and only if) the transaction commits.
async fn notify(c: &mut PgConnection, channel: &str, n: &Notice) -> Result<()> {
    let payload = serde_json::to_string(n).map_err(|e| Error::Backend(e.to_string()))?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel)
        .bind(payload)
        .execute(&mut *c)
        .await
        .map_err(db)?;
    Ok(())
}

async fn asset_in(c: &mut PgConnection, id: i64, lock: bool) -> Result<Option<Asset>> {
    let sql = if lock {
        ASSET_BY_ID_FOR_UPDATE
    } else {
        ASSET_BY_ID
    };
    let r = sqlx::query(sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await
        .map_err(db)?;
    r.as_ref().map(asset_row).transpose()
}

async fn job_in(c: &mut PgConnection, id: i64, lock: bool) -> Result<Option<Job>> {
    let sql = if lock {
        JOB_BY_ID_FOR_UPDATE
    } else {
        JOB_BY_ID
    };
    let r = sqlx::query(sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await
        .map_err(db)?;
    r.as_ref().map(job_row).transpose()
}

async fn insert_token(c: &mut PgConnection, new: &NewToken) -> Result<Token> {
    if new.hash.0.is_empty() {
        return Err(Error::Invalid("token hash is empty".into()));
    }
    new.validate()?;
    if let Some(a) = new.asset_id {
        if asset_in(c, a, false).await?.is_none() {
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

fn bind_asset<'q>(
    q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    a: &'q NewAsset,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    q.bind(&a.name)
        .bind(codec::environment_str(a.environment))
        .bind(&a.site)
        .bind(i32::from(a.tier))
        .bind(codec::exposure_str(a.exposure))
        .bind(codec::sensitivity_str(a.sensitivity))
        .bind(&a.owner)
        .bind(codec::strings_json(&a.tags))
}

async fn insert_asset(c: &mut PgConnection, new: &NewAsset, now: Ts) -> Result<Asset> {
    new.validate()?;
    let sql = format!(
        "INSERT INTO assets (name, environment, site, tier, exposure, sensitivity, owner, tags, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         RETURNING {ASSET_COLS}"
    );
    let r = bind_asset(sqlx::query(&sql), new)
        .bind(now.0)
        .fetch_one(&mut *c)
        .await
        .map_err(|e| match db(e) {
            Error::Conflict(_) => Error::Conflict(format!("an asset named {:?} exists", new.name)),
            other => other,
        })?;
    asset_row(&r)
}

/// Close live findings among `ids` as fixed, locking them in id order (so concurrent
/// callers never deadlock) in the same statement. `asset` restricts to one asset.
async fn fix_findings(
    c: &mut PgConnection,
    ids: &[i64],
    asset: Option<i64>,
    now: Ts,
) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let r = sqlx::query(
        "UPDATE findings f SET state = 'fixed', fixed_at = $3, updated_at = $3 \
         FROM (SELECT id FROM findings WHERE id = ANY($1) AND state <> 'fixed' \
         AND ($2::bigint IS NULL OR asset_id = $2) ORDER BY id FOR UPDATE) l WHERE f.id = l.id",
    )
    .bind(&ids)
    .bind(asset)
    .bind(now.0)
    .execute(&mut *c)
    .await
    .map_err(db)?;
    Ok(r.rows_affected())
}

/// Open findings in one statement; one already live for the same (asset, package,
/// advisory) is left as is. Rows go in key order so concurrent inserts of overlapping
/// keys wait for each other in one order.
async fn open_findings(c: &mut PgConnection, open: &[NewFinding], now: Ts) -> Result<u64> {
    if open.is_empty() {
        return Ok(0);
    }
    let mut rows: Vec<&NewFinding> = open.iter().collect();
    rows.sort_by(|a, b| {
        (
            a.asset_id,
            &a.package.ecosystem,
            &a.package.name,
            &a.package.version,
            &a.advisory_id,
        )
            .cmp(&(
                b.asset_id,
                &b.package.ecosystem,
                &b.package.name,
                &b.package.version,
                &b.advisory_id,
            ))
    });
    let col = |f: fn(&NewFinding) -> &str| rows.iter().map(|x| f(x)).collect::<Vec<&str>>();
    let opt = |f: fn(&NewFinding) -> Option<&str>| {
        rows.iter().map(|x| f(x)).collect::<Vec<Option<&str>>>()
    };
    let asset_ids: Vec<i64> = rows.iter().map(|f| f.asset_id).collect();
    let first_seen: Vec<i64> = rows.iter().map(|f| f.first_seen.0).collect();
    let fixed: Vec<String> = rows
        .iter()
        .map(|f| codec::strings_json(&f.fixed_versions))
        .collect();
    let r = sqlx::query(OPEN_FINDINGS)
        .bind(&asset_ids)
        .bind(col(|f| &f.package.ecosystem))
        .bind(
            rows.iter()
                .map(|f| codec::match_name(&f.package).into_owned())
                .collect::<Vec<String>>(),
        )
        .bind(col(|f| &f.package.name))
        .bind(col(|f| &f.package.version))
        .bind(opt(|f| f.package.release.as_deref()))
        .bind(opt(|f| f.package.source_name.as_deref()))
        .bind(opt(|f| f.package.source_version.as_deref()))
        .bind(opt(|f| f.package.purl.as_deref()))
        .bind(col(|f| &f.advisory_id))
        .bind(&fixed)
        .bind(opt(|f| f.severity.as_deref()))
        .bind(&first_seen)
        .bind(now.0)
        .execute(&mut *c)
        .await
        .map_err(db)?;
    Ok(r.rows_affected())
}

/// (ecosystem, name) keys as two parallel arrays, deduplicated.
fn key_arrays(keys: &[PackageName]) -> (Vec<&str>, Vec<&str>) {
    let set: std::collections::BTreeSet<(&str, &str)> = keys
        .iter()
        .map(|k| (k.ecosystem.as_str(), k.name.as_str()))
        .collect();
    set.into_iter().unzip()
}

/// What [`apply_one`] did.
pub(crate) enum Applied {
    /// The outcome and, when something was written, the audit record to append before
    /// commit.
    Done(ApplyOutcome, Option<Entry>),
    /// No such asset; nothing was written and the transaction is intact.
    UnknownAsset,
}

/// Apply one prepared change on `tx` (a transaction, possibly holding other reports).
/// Any `Err` leaves the transaction aborted. Five statements for a report that opens and
/// fixes findings (in a group commit, round trips are what a report waits for).
async fn apply_one(tx: &mut PgConnection, p: &batch::Prepared) -> Result<Applied> {
    let (change, actor, body, body_hash) = (&p.change, &p.actor, &p.body, &p.body_hash);
    // Lock the asset first: reports for one asset take turns, so the duplicate and
    // stale checks see the latest committed report.
    let row: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT a.current_snapshot, (SELECT s.id FROM snapshots s WHERE s.asset_id = a.id \
         AND s.idempotency_key = $2) FROM assets a WHERE a.id = $1 FOR UPDATE OF a",
    )
    .bind(change.asset_id)
    .bind(&change.idempotency_key)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let Some((current, dup)) = row else {
        return Ok(Applied::UnknownAsset);
    };
    if let Some(snapshot_id) = dup {
        return Ok(Applied::Done(ApplyOutcome::Duplicate { snapshot_id }, None));
    }
    if current != change.expected_previous {
        return Ok(Applied::Done(ApplyOutcome::Stale { current }, None));
    }

    // The list (stored once per content), the snapshot and the asset's pointer to it in
    // one statement. A list stored by a transaction that commits meanwhile is not
    // visible to this statement's snapshot: then `blob_id` is NULL and the insert fails,
    // which the batch's one-by-one retry resolves.
    let snapshot_id: i64 = sqlx::query_scalar(STORE_SNAPSHOT)
        .bind(change.asset_id)
        .bind(&change.idempotency_key)
        .bind(change.collected_at.0)
        .bind(change.received_at.0)
        .bind(&change.source)
        .bind(&change.content_hash)
        .bind(change.packages.len() as i64)
        .bind(body_hash)
        .bind(body)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;

    let fixed = fix_findings(
        &mut *tx,
        &change.fix,
        Some(change.asset_id),
        change.received_at,
    )
    .await?;
    let opened = open_findings(&mut *tx, &change.open, change.received_at).await?;
    let before = serde_json::json!({ "snapshot_id": current });
    let after = codec::inventory_summary(change, snapshot_id, opened, fixed);
    let e = Entry::new(
        change.received_at,
        actor,
        "inventory.apply",
        format!("asset:{}", change.asset_id),
        Some(&before),
        Some(&after),
    );
    Ok(Applied::Done(
        ApplyOutcome::Applied {
            snapshot_id,
            opened,
            fixed,
        },
        Some(e),
    ))
}

fn feed_row(r: &PgRow) -> Result<FeedState> {
    Ok(FeedState {
        name: get(r, "name")?,
        state: codec::parse_json(&get::<String>(r, "state")?)?,
        updated_at: Ts(get(r, "updated_at")?),
    })
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn ping(&self) -> Result<()> {
        if let Some(why) = self.damage.lock().ok().and_then(|d| d.clone()) {
            return Err(Error::Backend(why));
        }
        // The head row and the record it names: what `audit verify` starts from.
        let head: Option<(i64, Option<String>)> = sqlx::query_as(
            "SELECT h.seq, (SELECT l.hash FROM audit_log l WHERE l.seq = h.seq) \
             FROM audit_head h WHERE h.id = 1",
        )
        .fetch_optional(&self.pool)
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
        let r = sqlx::query(TOKEN_BY_HASH)
            .bind(&hash.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        r.as_ref().map(token_row).transpose()
    }

    async fn list_tokens(&self) -> Result<Vec<Token>> {
        let rows = sqlx::query(&format!("SELECT {TOKEN_COLS} FROM tokens ORDER BY id"))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(token_row).collect()
    }

    async fn revoke_token(&self, id: i64, now: Ts, actor: &Actor) -> Result<bool> {
        let mut tx = self.begin().await?;
        let r = sqlx::query(&format!(
            "SELECT {TOKEN_COLS} FROM tokens WHERE id = $1 FOR UPDATE"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let before = match r {
            Some(r) => token_row(&r)?,
            None => return Err(Error::NotFound(format!("token {id}"))),
        };
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
        notify(
            &mut tx,
            &self.channel,
            &Notice::TokensRevoked { ids: vec![id] },
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn count_tokens(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tokens")
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(n as u64)
    }

    async fn enroll(&self, req: Enrollment, now: Ts) -> Result<Enrolled> {
        req.asset.validate()?;
        let mut tx = self.begin().await?;
        // The row lock makes concurrent enrolments with one token take turns; the loser
        // then sees it used.
        let r = sqlx::query(&format!(
            "SELECT {TOKEN_COLS} FROM tokens WHERE hash = $1 FOR UPDATE"
        ))
        .bind(&req.enroll_hash.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let enroll = codec::check_enroll_token(r.as_ref().map(token_row).transpose()?, now)?;
        let (asset, created) = match enroll.asset_id {
            Some(id) => {
                // Locked: two re-enrolments of one asset take turns, so the second
                // revokes the first's agent token and one agent token stays live.
                let a = asset_in(&mut tx, id, true)
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
                // A concurrent enrolment may take the name first: the unique index says so.
                let a = insert_asset(&mut tx, &req.asset, now)
                    .await
                    .map_err(|e| match e {
                        Error::Conflict(_) => codec::enroll_name_taken(&req.asset.name, None),
                        other => other,
                    })?;
                (a, true)
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
        sqlx::query("UPDATE tokens SET used_at = $1, asset_id = $2 WHERE id = $3")
            .bind(now.0)
            .bind(asset.id)
            .bind(enroll.id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
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
        if !enrolled.revoked_tokens.is_empty() {
            let ids = enrolled.revoked_tokens.clone();
            notify(&mut tx, &self.channel, &Notice::TokensRevoked { ids }).await?;
        }
        tx.commit().await.map_err(db)?;
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
        let r = sqlx::query(ASSET_BY_ID)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        r.as_ref().map(asset_row).transpose()
    }

    async fn list_assets(&self, after_id: i64, limit: u32) -> Result<Vec<Asset>> {
        let rows = sqlx::query(&format!(
            "SELECT {ASSET_COLS} FROM assets WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after_id)
        .bind(i64::from(codec::list_limit(limit)))
        .fetch_all(&self.pool)
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
        let before = asset_in(&mut tx, id, true)
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
        .bind(i32::from(a.tier))
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
        self.heartbeats.beat(asset_id, now).await
    }

    // ------------------------------------------------------------------ inventories

    async fn current_packages(&self, asset_id: i64) -> Result<CurrentPackages> {
        // The current set is the current snapshot's stored list: one value to decode
        // instead of ~1,500 rows through the driver.
        let row = sqlx::query(
            "SELECT a.current_snapshot, s.idempotency_key, b.body FROM assets a \
             LEFT JOIN snapshots s ON s.id = a.current_snapshot \
             LEFT JOIN blobs b ON b.id = s.blob_id WHERE a.id = $1",
        )
        .bind(asset_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        let Some(row) = row else {
            return Err(Error::NotFound(format!("asset {asset_id}")));
        };
        let snapshot_id: Option<i64> = get(&row, "current_snapshot")?;
        let packages = match get::<Option<String>>(&row, "body")? {
            Some(body) => codec::decode_packages(&body)?,
            None => Vec::new(),
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
        // Encoding and hashing happen here, in parallel across callers; the batch task
        // only runs SQL.
        self.inventories
            .apply(batch::Prepared::new(change, actor.clone()))
            .await
    }

    async fn list_snapshots(&self, asset_id: i64) -> Result<Vec<SnapshotInfo>> {
        let rows = sqlx::query(
            "SELECT id, asset_id, collected_at, received_at, source, content_hash, package_count \
             FROM snapshots WHERE asset_id = $1 ORDER BY id",
        )
        .bind(asset_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(SnapshotInfo {
                    id: get(r, "id")?,
                    asset_id: get(r, "asset_id")?,
                    collected_at: Ts(get(r, "collected_at")?),
                    received_at: Ts(get(r, "received_at")?),
                    source: get(r, "source")?,
                    content_hash: get(r, "content_hash")?,
                    package_count: get::<i64>(r, "package_count")? as u64,
                })
            })
            .collect()
    }

    async fn snapshot_packages(&self, snapshot_id: i64) -> Result<Option<Vec<PackageRow>>> {
        let body: Option<String> = sqlx::query_scalar(
            "SELECT b.body FROM snapshots s JOIN blobs b ON b.id = s.blob_id WHERE s.id = $1",
        )
        .bind(snapshot_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        body.map(|b| codec::decode_packages(&b)).transpose()
    }

    // ------------------------------------------------------------------ findings

    async fn list_findings(&self, filter: FindingFilter) -> Result<Vec<Finding>> {
        let mut qb = sqlx::QueryBuilder::<sqlx::Postgres>::new(format!(
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
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db)?;
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
        // (the current set is the current snapshot's list; there are no per-package rows
        // to maintain on each report) and keep the rows filed under one of the keys,
        // decoding off the async workers a few hundred assets at a time.
        let want = std::sync::Arc::new(codec::NameSet::new(keys));
        const PAGE: i64 = 256;
        let mut out = Vec::new();
        let mut snapshots = Vec::new();
        let mut after = assets.start.saturating_sub(1);
        loop {
            let rows: Vec<(i64, i64, String)> = sqlx::query_as(
                "SELECT a.id, a.current_snapshot, b.body FROM assets a \
                 JOIN snapshots s ON s.id = a.current_snapshot \
                 JOIN blobs b ON b.id = s.blob_id WHERE a.id > $1 AND a.id < $2 \
                 ORDER BY a.id LIMIT $3",
            )
            .bind(after)
            .bind(assets.end)
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
            let Some((last, _, _)) = rows.last() else {
                break;
            };
            after = *last;
            snapshots.extend(rows.iter().map(|(id, snap, _)| (*id, *snap)));
            let full = rows.len() as i64 == PAGE;
            let want = want.clone();
            let found = tokio::task::spawn_blocking(move || -> Result<Vec<AssetPackage>> {
                let mut found = Vec::new();
                for (asset_id, _, body) in &rows {
                    found.extend(want.pick(*asset_id, codec::decode_packages(body)?));
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
        if keys.is_empty() || assets.is_empty() {
            return Ok(Vec::new());
        }
        let (ecos, names) = key_arrays(keys);
        // An RPM's finding may come from an advisory naming its source RPM.
        let (src_ecos, src_names): (Vec<&str>, Vec<&str>) = ecos
            .iter()
            .zip(&names)
            .filter(|(e, _)| codec::MATCHED_BY_SOURCE_TOO.contains(e))
            .map(|(e, n)| (*e, *n))
            .unzip();
        let rows = sqlx::query(&format!(
            "SELECT {FINDING_COLS} FROM findings WHERE state <> 'fixed' AND ((ecosystem, match_name) \
             IN (SELECT * FROM UNNEST($1::text[], $2::text[])) OR (source_name <> name AND \
             (ecosystem, source_name) IN (SELECT * FROM UNNEST($3::text[], $4::text[])))) \
             AND asset_id >= $5 AND asset_id < $6 ORDER BY id"
        ))
        .bind(&ecos)
        .bind(&names)
        .bind(&src_ecos)
        .bind(&src_names)
        .bind(assets.start)
        .bind(assets.end)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(finding_row).collect()
    }

    async fn apply_finding_changes(
        &self,
        changes: FindingChanges,
        actor: &Actor,
    ) -> Result<ChangesApplied> {
        if changes.open.is_empty() && changes.fix.is_empty() && changes.update.is_empty() {
            return Ok(ChangesApplied::default());
        }
        // A re-match takes its assets' locks in id order, as inventory batches do, but
        // PostgreSQL may still break a deadlock (or a serialization failure) by rolling
        // this transaction back. Nothing was written then: run it again.
        let mut attempt = 0;
        loop {
            match self.apply_finding_changes_once(&changes, actor).await {
                Err(e) if is_transient(&e) && attempt < TRANSIENT_RETRIES => {
                    attempt += 1;
                    tracing::warn!(error = %e, attempt, "finding changes rolled back; retrying");
                    // Jitter, so two retrying replicas do not meet again at once.
                    let jitter = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| u64::from(d.subsec_nanos()) % 50);
                    tokio::time::sleep(Duration::from_millis(50 * attempt as u64 + jitter)).await;
                }
                other => return other,
            }
        }
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
            "SELECT {FINDING_COLS} FROM findings WHERE id = $1 FOR UPDATE"
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
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        r.as_ref().map(feed_row).transpose()
    }

    async fn set_feed_state(&self, state: FeedState, actor: &Actor) -> Result<()> {
        let mut tx = self.begin().await?;
        let before = sqlx::query(
            "SELECT name, state, updated_at FROM feed_state WHERE name = $1 FOR UPDATE",
        )
        .bind(&state.name)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?
        .as_ref()
        .map(feed_row)
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
        notify(&mut tx, &self.channel, &Notice::FeedsUpdated).await?;
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
        Ok(())
    }

    // ------------------------------------------------------------------ advisory files

    async fn put_advisory_file(&self, digest: &str, bytes: Vec<u8>, now: Ts) -> Result<()> {
        let mut tx = self.begin().await?;
        // Puts from several replicas take turns, so "this one and the one before" is one
        // order; reads (plain SELECTs) are not blocked.
        sqlx::query("LOCK TABLE advisory_files IN EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
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
            .fetch_optional(&self.pool)
            .await
            .map_err(db)
    }

    // ------------------------------------------------------------------ jobs

    async fn enqueue_job(&self, new: NewJob, now: Ts, actor: &Actor) -> Result<Job> {
        new.validate()?;
        let mut tx = self.begin().await?;
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
        .map_err(|e| match db(e) {
            Error::NotFound(_) => Error::NotFound(format!("asset {}", new.asset_id)),
            other => other,
        })?;
        let job = job_row(&r)?;
        notify(
            &mut tx,
            &self.channel,
            &Notice::JobQueued {
                asset_id: new.asset_id,
            },
        )
        .await?;
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
        // Long-polling agents ask often; only open a write transaction when there is work.
        let any: Option<i64> = sqlx::query_scalar(CLAIMABLE_EXISTS)
            .bind(asset_id)
            .bind(now.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        if any.is_none() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin().await?;
        let rows = sqlx::query(CLAIM_JOBS)
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
        append_audit(
            &mut tx,
            codec::claim_entry(asset_id, &jobs, now, lease_until),
        )
        .await?;
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
        let before = job_in(&mut tx, id, true)
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
        let mut c = self.pool.acquire().await.map_err(db)?;
        job_in(&mut c, id, false).await
    }

    async fn list_jobs(&self, asset_id: Option<i64>, limit: u32) -> Result<Vec<Job>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLS} FROM jobs WHERE ($1::bigint IS NULL OR asset_id = $1) ORDER BY id DESC LIMIT $2"
        ))
        .bind(asset_id)
        .bind(i64::from(codec::list_limit(limit)))
        .fetch_all(&self.pool)
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
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(audit_row).collect()
    }

    // ------------------------------------------------------------------ integrity

    async fn audit_head(&self) -> Result<audit::Anchor> {
        let (seq, hash): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(&self.pool)
                .await
                .map_err(db)?;
        Ok(audit::Anchor {
            seq,
            hash,
            source: "the database's audit_head row".into(),
        })
    }

    fn database_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }

    async fn check_integrity(&self) -> Result<()> {
        let found = match integrity::check(&self.pool).await {
            Ok(()) => None,
            Err(integrity::Failed::Found(why)) => Some(why),
            Err(integrity::Failed::Query(why)) => return Err(Error::Backend(why)),
        };
        if let Ok(mut d) = self.damage.lock() {
            d.clone_from(&found);
        }
        match found {
            None => Ok(()),
            Some(why) => Err(Error::Backend(why)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_fit_an_identifier() {
        assert_eq!(channel_name("public"), "patchpilot:public");
        let long = channel_name(&"s".repeat(80));
        assert!(long.len() <= 63, "{long}");
        assert_ne!(long, channel_name(&"t".repeat(80)));
    }
}
