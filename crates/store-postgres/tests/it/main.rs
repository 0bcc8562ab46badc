//! The PostgreSQL backend against the conformance suite, plus what only this backend
//! can test: tampering with the audit log behind the store, two instances (replicas) on
//! one database. Needs `PATCHPILOT_TEST_DATABASE_URL`; skipped loudly without it, and a
//! failure under `CI=true`. Every test works in its own fresh schema, dropped afterwards,
//! so tests run in parallel and reruns never collide.

use patchpilot_store::conformance::{self, T0};
use patchpilot_store::{audit, Store};
use patchpilot_store_postgres::PgStore;
use sqlx::{Connection, PgConnection};
use std::sync::Arc;

/// A fresh schema on the test database, dropped (with everything in it) on drop.
pub struct Schema {
    base: String,
    name: String,
}

impl Schema {
    pub async fn create(case: &str) -> Option<Schema> {
        let base = match std::env::var("PATCHPILOT_TEST_DATABASE_URL") {
            Ok(u) if !u.trim().is_empty() => u,
            _ => {
                patchpilot_testdata::require(
                    case,
                    false,
                    "PATCHPILOT_TEST_DATABASE_URL is not set",
                );
                return None;
            }
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let name = format!("pp_test_{now}_{:016x}", rand::random::<u64>());
        let mut c = PgConnection::connect(&base)
            .await
            .unwrap_or_else(|e| panic!("{case}: connect {base}: {e}"));
        // Schemas of runs that were killed before they could clean up (named with their
        // start time; no test runs for an hour).
        let stale: Vec<String> = sqlx::query_scalar(
            "SELECT nspname::text FROM pg_namespace WHERE CASE \
             WHEN nspname ~ '^pp_test_[0-9]{1,18}_[0-9a-f]+$' \
             THEN split_part(nspname, '_', 3)::bigint < $1 ELSE false END",
        )
        .bind(now as i64 - 3600)
        .fetch_all(&mut c)
        .await
        .expect("list stale schemas");
        for old in stale {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {old} CASCADE"))
                .execute(&mut c)
                .await;
        }
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&mut c)
            .await
            .expect("create schema");
        c.close().await.ok();
        Some(Schema { base, name })
    }

    /// The test database URL with this schema as the search path.
    pub fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-c%20search_path%3D{}", self.base, self.name)
    }

    pub async fn raw(&self) -> PgConnection {
        PgConnection::connect(&self.url())
            .await
            .expect("raw connection")
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
        // Drop runs outside any async context we could borrow; use a private runtime.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut c = PgConnection::connect(&base).await.ok()?;
                sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                    .execute(&mut c)
                    .await
                    .ok()?;
                c.close().await.ok()
            })
        })
        .join();
        if !matches!(done, Ok(Some(()))) {
            eprintln!("warning: could not drop test schema {}", self.name);
        }
    }
}

async fn fixture(case: &str) -> Option<(Arc<dyn Store>, Schema)> {
    let schema = Schema::create(case).await?;
    let store = PgStore::connect(&schema.url()).await.expect("connect");
    Some((Arc::new(store), schema))
}

patchpilot_store::conformance_suite!(fixture);

mod backend;
