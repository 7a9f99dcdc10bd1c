//! [`SqliteStore`]: the embedded default. One file, WAL journal,
//! `synchronous = FULL` (a commit is on disk before its future completes, so
//! a token handed to a client survives a crash), migrations embedded and
//! applied at connect time, a busy timeout instead of "database is locked".
//!
//! Hashes ([`SecretHash`]) are 48-byte BLOBs: the secret's time-ordered
//! selector, then its SHA-256 (migration 0001's comment, which says 32
//! bytes, predates the selector; a migration's text cannot change, and
//! 0003 says so in the schema). A stored hash of another length reads as a
//! [`StoreError::Backend`], and a database holding clients or tokens hashed
//! before the selector is refused at connect time (as on PostgreSQL).
//!
//! The statements that are the same on both engines are
//! [`sql`](super::sql)'s; here are SQLite's own: the connection settings,
//! the fresh codes ([`fresh`]), the refresh rotation's transaction, and the
//! group-commit sink with its redemption script ([`writer`]).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Sqlite, SqlitePool};

use self::fresh::FreshCodes;
use self::writer::{SqliteSink, Write, WriterConnection};
use super::group_commit::Writer;
use super::sql::engine::{storable_token, store_error};
use crate::primitives::{CodeRecord, Redeemed, Rotated, Store, StoreError, TokenRecord};
use crate::secret::SecretHash;

mod fresh;
mod writer;

/// The statements shared with PostgreSQL, for SQLite.
mod statements {
    crate::store::sql::shared_statements!(db: sqlx::Sqlite, row: sqlx::sqlite::SqliteRow, on_revoke: []);
}

/// The store's migrations. A pod keeps its own tables in the same file with
/// its own migrations (numbered from 100), so migrations this store does
/// not know are expected.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate::Migrator {
    ignore_missing: true,
    ..sqlx::migrate!("./migrations/sqlite")
};

/// A [`Store`] in one SQLite file.
///
/// New tokens and code redemptions go through a group-commit writer
/// (`store/group_commit.rs`): concurrent ones are batched into
/// one transaction, so one `fsync` makes a whole batch durable and every
/// caller is answered only after its batch committed.
///
/// Codes this store inserted are also kept in memory until their first
/// lookup or redemption, so the usual exchange reads nothing from the
/// database before its redemption.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: Writer<Write, Option<Redeemed>>,
    fresh: Arc<FreshCodes>,
}

fn backend(e: sqlx::Error) -> StoreError {
    store_error::<Sqlite>(e)
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url`
    /// (`sqlite://pod.db`, `sqlite::memory:`), and applies the embedded
    /// migrations.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with the reason: a malformed URL, a file that
    /// cannot be created or opened, a failed migration.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::Backend(format!(
                "invalid SQLite URL {url:?}: expected sqlite://PATH or sqlite::memory:"
            )));
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid SQLite URL {url:?}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Keep the indexes in memory (64 MiB page cache per connection)
            // and read through mmap. Stored hashes start with their
            // secret's time-ordered selector, so inserts touch the right
            // edge of each index, not random pages.
            .pragma("cache_size", "-65536")
            .pragma("mmap_size", "268435456")
            // Checkpoint less often: a page changed by many commits is then
            // copied into the database once.
            .pragma("wal_autocheckpoint", "10000");
        // An in-memory database exists per connection: keep exactly one.
        let memory = url.contains(":memory:");
        let mut pool_options = SqlitePoolOptions::new().max_connections(if memory { 1 } else { 4 });
        if memory {
            // The database lives as long as its one connection: never let
            // the pool close it for idleness or age.
            pool_options = pool_options
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        }
        let pool = pool_options
            .connect_with(options.clone())
            .await
            .map_err(|e| StoreError::Backend(format!("cannot open {url}: {e}")))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migration failed: {e}")))?;
        statements::refuse_legacy_hashes(&pool, url).await?;
        let conn = if memory {
            WriterConnection::Shared(pool.clone())
        } else {
            WriterConnection::Own(
                Some(
                    options
                        .clone()
                        .connect()
                        .await
                        .map_err(|e| StoreError::Backend(format!("cannot open {url}: {e}")))?,
                ),
                Box::new(options),
            )
        };
        // The thread ends with the queue, once every clone of the store
        // is dropped.
        let writer = Writer::start("sqlite-writer", move || vec![SqliteSink(conn)], None)?;
        Ok(Self {
            pool,
            writer,
            fresh: Arc::default(),
        })
    }

    /// The connection pool, for operators' tools.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

impl Store for SqliteStore {
    crate::store::sql::shared_store_methods!(statements);

    async fn insert_code(&self, code: CodeRecord) -> Result<(), StoreError> {
        statements::insert_code(&self.pool, &code).await?;
        // Nobody knows the code before this returns: nothing can have
        // looked it up yet.
        self.fresh.insert(code);
        Ok(())
    }

    async fn code(&self, code_hash: SecretHash) -> Result<Option<(CodeRecord, bool)>, StoreError> {
        if let Some(code) = self.fresh.take(&code_hash) {
            return Ok(Some((code, false)));
        }
        statements::code(&self.pool, code_hash).await
    }

    async fn redeem_code(
        &self,
        code_hash: SecretHash,
        token: TokenRecord,
    ) -> Result<Redeemed, StoreError> {
        storable_token(&token)?;
        self.fresh.take(&code_hash);
        let redeemed = self
            .writer
            .write(Write::Redeem(code_hash, Box::new(token)))
            .await?;
        Ok(redeemed.unwrap_or(Redeemed::Unknown))
    }

    async fn insert_token(&self, t: TokenRecord) -> Result<(), StoreError> {
        storable_token(&t)?;
        self.writer.write(Write::Token(Box::new(t))).await.map(drop)
    }

    async fn rotate_refresh(
        &self,
        old_refresh: SecretHash,
        new: TokenRecord,
    ) -> Result<Rotated, StoreError> {
        storable_token(&new)?;
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let revoked =
            sqlx::query("UPDATE tokens SET revoked = TRUE WHERE refresh_hash = $1 AND NOT revoked")
                .bind(old_refresh.as_bytes().as_slice())
                .execute(&mut *tx)
                .await
                .map_err(backend)?
                .rows_affected();
        if revoked == 0 {
            let family = statements::family_of_refresh(&mut *tx, &old_refresh).await?;
            tx.rollback().await.map_err(backend)?;
            return Ok(match family {
                Some(family) => Rotated::Reused { family },
                None => Rotated::Unknown,
            });
        }
        statements::insert_token(&mut *tx, &new)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(Rotated::Done)
    }

    async fn revoke_family(&self, family: &str) -> Result<u64, StoreError> {
        statements::revoke_family(&self.pool, family)
            .await
            .map_err(backend)
    }

    async fn revoke_by_code(&self, code_hash: SecretHash) -> Result<u64, StoreError> {
        statements::revoke_by_code(&self.pool, &code_hash)
            .await
            .map_err(backend)
    }

    async fn set_admin(&self, user_id: i64, admin: bool) -> Result<bool, StoreError> {
        statements::set_admin(&self.pool, user_id, admin).await
    }

    async fn set_disabled(&self, user_id: i64, disabled: bool) -> Result<bool, StoreError> {
        statements::set_disabled(&self.pool, user_id, disabled).await
    }
}
