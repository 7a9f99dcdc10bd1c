//! A pod's database on SQLite or PostgreSQL, chosen by its URL.
//!
//! Two pieces share one database (and, on PostgreSQL, one `search_path`):
//!
//! - the bundled OAuth server's store, [`PodStore`]: a [`SqliteStore`] or
//!   a [`PgStore`], each with its own pool, schema and migrations;
//! - the pool of the pod's own tables, an [`AnyPool`]: handlers write
//!   their SQL once, in the dialect both engines accept (`$1` placeholders,
//!   `ON CONFLICT DO NOTHING`, `RETURNING`, times computed in Rust and
//!   bound, integer 0/1 flags), and [`Pod::migrator`] picks the pod's
//!   schema for the engine.
//!
//! Why `AnyPool` rather than a pool per engine: the handlers keep one code
//! path and one set of queries; sqlx's `Any` driver only adds the
//! conversion of arguments and rows to its own value type, which is small
//! next to the work of the statement itself (the pods' load test runs its
//! baseline over the same pool, so the ratio it reports is unchanged).
//! The price is the `Any` type set: integers, floats, text, blobs and
//! booleans; on SQLite a column declared `BOOLEAN`, `NUMERIC` or `DATETIME`
//! cannot be read through it, hence integer flags and text times.

use std::str::FromStr;
use std::time::Duration;

use oauth_server::primitives::{
    ClientRecord, CodeRecord, NewClient, Redeemed, Rotated, Store, StoreError, TokenRecord,
    UserRecord,
};
use oauth_server::secret::SecretHash;
use oauth_server::store::{PgStore, SqliteStore};
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

use crate::{Pod, StartError};

/// The database engine a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// `sqlite://PATH`.
    Sqlite,
    /// `postgres://...` or `postgresql://...`.
    Postgres,
}

impl Backend {
    /// The engine of `url`, or [`StartError::Database`] naming the URLs
    /// understood.
    ///
    /// # Errors
    /// A URL of another scheme.
    pub fn of_url(url: &str) -> Result<Self, StartError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else {
            // Only the scheme: the rest may hold a password.
            Err(StartError::Database(format!(
                "unsupported database URL scheme {:?}: expected sqlite://PATH or \
                 postgres://USER@HOST:PORT/DATABASE",
                url.split(':').next().unwrap_or_default()
            )))
        }
    }
}

/// The OAuth server's store of a pod, on either engine.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PodStore {
    /// The embedded default.
    Sqlite(SqliteStore),
    /// For several pod processes on one database.
    Postgres(PgStore),
}

/// Forwards a [`Store`] method to the store in use.
macro_rules! forward {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match $self {
            PodStore::Sqlite(store) => store.$method($($arg),*).await,
            PodStore::Postgres(store) => store.$method($($arg),*).await,
        }
    };
}

impl Store for PodStore {
    async fn create_client(&self, client: NewClient) -> Result<ClientRecord, StoreError> {
        forward!(self.create_client(client))
    }
    async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        forward!(self.client(client_id))
    }
    async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        admin: bool,
    ) -> Result<UserRecord, StoreError> {
        forward!(self.create_user(username, password_hash, admin))
    }
    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        forward!(self.user_by_name(username))
    }
    async fn user(&self, id: i64) -> Result<Option<UserRecord>, StoreError> {
        forward!(self.user(id))
    }
    async fn insert_code(&self, code: CodeRecord) -> Result<(), StoreError> {
        forward!(self.insert_code(code))
    }
    async fn code(&self, code_hash: SecretHash) -> Result<Option<(CodeRecord, bool)>, StoreError> {
        forward!(self.code(code_hash))
    }
    async fn redeem_code(
        &self,
        code_hash: SecretHash,
        token: TokenRecord,
    ) -> Result<Redeemed, StoreError> {
        forward!(self.redeem_code(code_hash, token))
    }
    async fn insert_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        forward!(self.insert_token(token))
    }
    async fn token_by_access(&self, hash: SecretHash) -> Result<Option<TokenRecord>, StoreError> {
        forward!(self.token_by_access(hash))
    }
    async fn token_by_refresh(&self, hash: SecretHash) -> Result<Option<TokenRecord>, StoreError> {
        forward!(self.token_by_refresh(hash))
    }
    async fn rotate_refresh(
        &self,
        old_refresh: SecretHash,
        new: TokenRecord,
    ) -> Result<Rotated, StoreError> {
        forward!(self.rotate_refresh(old_refresh, new))
    }
    async fn set_admin(&self, user_id: i64, admin: bool) -> Result<bool, StoreError> {
        forward!(self.set_admin(user_id, admin))
    }
    async fn set_disabled(&self, user_id: i64, disabled: bool) -> Result<bool, StoreError> {
        forward!(self.set_disabled(user_id, disabled))
    }
    async fn create_session(
        &self,
        key: SecretHash,
        user_id: i64,
        now: i64,
        expires_at: i64,
        max_per_user: u32,
    ) -> Result<(), StoreError> {
        forward!(self.create_session(key, user_id, now, expires_at, max_per_user))
    }
    async fn session(&self, key: SecretHash, now: i64) -> Result<Option<i64>, StoreError> {
        forward!(self.session(key, now))
    }
    async fn delete_session(&self, key: SecretHash) -> Result<(), StoreError> {
        forward!(self.delete_session(key))
    }
    async fn login_failures(&self, key: [u8; 32], since: i64) -> Result<u32, StoreError> {
        forward!(self.login_failures(key, since))
    }
    async fn record_login_failure(
        &self,
        key: [u8; 32],
        now: i64,
        window: i64,
    ) -> Result<u32, StoreError> {
        forward!(self.record_login_failure(key, now, window))
    }
    async fn clear_login_failures(&self, key: [u8; 32]) -> Result<(), StoreError> {
        forward!(self.clear_login_failures(key))
    }
    async fn revoke_token(&self, id: &str) -> Result<bool, StoreError> {
        forward!(self.revoke_token(id))
    }
    async fn revoke_family(&self, family: &str) -> Result<u64, StoreError> {
        forward!(self.revoke_family(family))
    }
    async fn revoke_by_code(&self, code_hash: SecretHash) -> Result<u64, StoreError> {
        forward!(self.revoke_by_code(code_hash))
    }
}

/// A pod's database, opened and migrated by [`open`]: the
/// OAuth store and the pool of the pod's tables, in the same database.
/// Clones share both pools.
#[derive(Debug, Clone)]
pub struct Database {
    /// The OAuth server's store (users, clients, codes, tokens).
    pub store: PodStore,
    /// The pod's tables.
    pub pool: AnyPool,
    /// The engine.
    pub backend: Backend,
}

/// Connections of the pool of the pod's tables on SQLite: readers run in
/// parallel under WAL; writers wait for each other (busy timeout).
const SQLITE_CONNECTIONS: u32 = 4;
/// Connections of that pool on PostgreSQL.
const PG_CONNECTIONS: u32 = 16;
/// How long a query may wait for a connection of the pool.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// What every SQLite connection of the pod's pool sets: the settings of
/// `SqliteStore::connect` (foreign keys on, 10 s busy timeout, FULL
/// synchronous commits, a 64 MiB page cache, reads through mmap). WAL is
/// a property of the file, set by the store when it opened it.
const SQLITE_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
     PRAGMA synchronous = FULL; PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456;";

/// What every PostgreSQL connection of the pod's pool sets: `READ
/// COMMITTED`, as the store's connections, whatever the server's default.
const PG_SETTINGS: &str =
    "SELECT set_config('default_transaction_isolation', 'read committed', false) IS NULL";

/// Opens the pool of the pod's tables at `url` (after the store created
/// and migrated the database there).
///
/// # Errors
/// [`StartError::Database`] with the reason.
pub async fn connect_pool(url: &str) -> Result<(AnyPool, Backend), StartError> {
    let backend = Backend::of_url(url)?;
    sqlx::any::install_default_drivers();
    let options = AnyPoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
    let options = match backend {
        Backend::Sqlite => options
            .max_connections(SQLITE_CONNECTIONS)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::Executor::execute(conn, SQLITE_PRAGMAS).await?;
                    Ok(())
                })
            }),
        Backend::Postgres => options
            .max_connections(PG_CONNECTIONS)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::Executor::execute(conn, PG_SETTINGS).await?;
                    Ok(())
                })
            }),
    };
    let any = sqlx::any::AnyConnectOptions::from_str(url)
        .map_err(|e| StartError::Database(format!("invalid database URL: {e}")))?;
    let pool = options
        .connect_with(any)
        .await
        .map_err(|e| StartError::Database(format!("cannot open the pod's tables: {e}")))?;
    Ok((pool, backend))
}

/// Opens the database at `url` (`sqlite://PATH`, created on first use, or
/// `postgres://...`) and applies the OAuth server's and the pod's
/// migrations.
///
/// Several processes may open one PostgreSQL database at once: sqlx holds
/// an advisory lock while it migrates, so the second waits and then finds
/// nothing to do.
///
/// # Errors
/// [`StartError::Database`] with the reason; an in-memory SQLite database
/// is refused (the store and the pod's pool would each see their own).
pub async fn open<P: Pod>(url: &str) -> Result<Database, StartError> {
    let backend = Backend::of_url(url)?;
    let migrated = |e: sqlx::migrate::MigrateError| {
        StartError::Database(format!("migration of the pod's tables failed: {e}"))
    };
    let store = match backend {
        Backend::Sqlite => {
            if url.contains(":memory:") || url.contains("mode=memory") {
                return Err(StartError::Database(format!(
                    "{url}: an in-memory database cannot be shared by the OAuth tables and the \
                     pod's tables; use a file, sqlite://PATH"
                )));
            }
            let store = SqliteStore::connect(url)
                .await
                .map_err(|e| StartError::Database(e.to_string()))?;
            P::migrator(backend)
                .run(store.pool())
                .await
                .map_err(migrated)?;
            PodStore::Sqlite(store)
        }
        Backend::Postgres => {
            let store = PgStore::connect(url)
                .await
                .map_err(|e| StartError::Database(e.to_string()))?;
            P::migrator(backend)
                .run(store.pool())
                .await
                .map_err(migrated)?;
            PodStore::Postgres(store)
        }
    };
    let (pool, backend) = connect_pool(url).await?;
    Ok(Database {
        store,
        pool,
        backend,
    })
}

impl Database {
    /// Runs `work` while no other process runs it on this database: on
    /// PostgreSQL under a transaction advisory lock keyed by `key` (held by
    /// a transaction open meanwhile on a connection of its own), on SQLite
    /// as is (its writers are serialized by the file lock; the pods' seeds
    /// take it with `BEGIN IMMEDIATE`-like transactions).
    ///
    /// # Errors
    /// `work`'s, or the database's if the lock cannot be taken.
    pub async fn exclusive<T, E, F>(&self, key: i64, work: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
        E: From<sqlx::Error>,
    {
        let PodStore::Postgres(store) = &self.store else {
            return work.await;
        };
        // A transaction-level lock: released when the transaction ends,
        // also when this future is dropped midway (the dropped transaction
        // rolls back before its connection is reused), where a session
        // lock would go back to the pool with the connection.
        let mut tx = store.pool().begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        let result = work.await;
        // Nothing was written in it: ending it only releases the lock (if
        // that fails, the connection is closed, and the lock with it).
        drop(tx.rollback().await);
        result
    }
}

/// The migrator of a pod's schema for `backend`, from the pod's two
/// dialects (`sqlx::migrate!("./migrations/sqlite")` and
/// `sqlx::migrate!("./migrations/postgres")`). The pod's migrations are
/// numbered from 100 and share the `_sqlx_migrations` table with the OAuth
/// server's, hence `ignore_missing`.
pub fn pod_migrator(
    backend: Backend,
    sqlite: sqlx::migrate::Migrator,
    postgres: sqlx::migrate::Migrator,
) -> sqlx::migrate::Migrator {
    let mut migrator = match backend {
        Backend::Postgres => postgres,
        Backend::Sqlite => sqlite,
    };
    migrator.set_ignore_missing(true);
    migrator
}

/// Begins a transaction that writes: `BEGIN IMMEDIATE` on SQLite (the
/// write lock up front, so two writers wait for each other under the busy
/// timeout instead of one failing when it upgrades its read lock), a
/// plain `BEGIN` on PostgreSQL (row locks are taken as rows are written).
///
/// # Errors
/// The database's.
pub async fn begin_write(
    pool: &AnyPool,
) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    if pool
        .connect_options()
        .database_url
        .scheme()
        .starts_with("sqlite")
    {
        pool.begin_with("BEGIN IMMEDIATE").await
    } else {
        pool.begin().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_backend() {
        assert_eq!(Backend::of_url("sqlite://x.db").ok(), Some(Backend::Sqlite));
        assert_eq!(
            Backend::of_url("postgresql://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        assert!(Backend::of_url("mysql://u:secret@h/db").is_err());
    }

    /// `set_disabled` reaches the store in use (and so its users' rows).
    #[tokio::test]
    async fn disabling_a_user_is_forwarded() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("pod-kit-disable-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}", dir.join("pod.db").display());
        let store = PodStore::Sqlite(SqliteStore::connect(&url).await.expect("sqlite"));
        let user = store.create_user("u", "x", false).await.expect("user");
        assert!(!user.disabled);
        assert!(store.set_disabled(user.id, true).await.expect("disable"));
        assert!(store.user(user.id).await.expect("q").expect("u").disabled);
        assert!(store.set_disabled(user.id, false).await.expect("enable"));
        assert!(!store.user(user.id).await.expect("q").expect("u").disabled);
        assert!(!store.set_disabled(9999, true).await.expect("nobody"));
        if let PodStore::Sqlite(sqlite) = &store {
            sqlite.pool().close().await;
        }
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
