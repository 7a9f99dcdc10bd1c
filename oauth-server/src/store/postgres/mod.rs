//! [`PgStore`]: the store in a PostgreSQL database, for pods that run
//! several processes on one database or already operate PostgreSQL.
//!
//! The schema is `migrations/postgres/` (SQLite's in PostgreSQL types:
//! `BYTEA` hashes, `BIGINT` times, `BOOLEAN` flags), embedded and applied
//! at connect time. A pod may keep its own tables in the same database with
//! its own migrations: migrations this store does not know are expected.
//!
//! Hashes ([`SecretHash`]) are 48-byte `BYTEA`s: the secret's time-ordered
//! selector, then its SHA-256. The schema refuses a hash of another length
//! (migration 0002's CHECKs); one that got in anyway reads as a
//! [`StoreError::Backend`], and a database holding clients or tokens
//! hashed before the selector is refused at connect time (as on SQLite).
//!
//! The statements that are the same on both engines are
//! [`sql`](super::sql)'s; here are PostgreSQL's own: the single-statement
//! CTEs of redemption and rotation, advisory locks, `NOTIFY` and its
//! [`RevocationFeed`] (`feed.rs`), the session settings ([`PgSettings`],
//! `settings.rs`) and the group-commit sink (`writer.rs`).

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres};

use self::feed::listen;
pub use self::feed::{RevocationFeed, RevocationNotice};
use self::settings::{ACQUIRE_TIMEOUT, CONNECT_TIMEOUT, describe, pool_options};
pub use self::settings::{PgSettings, redact};
use self::writer::PgSink;
use super::group_commit::{QUEUE_WAIT, Writer};
use super::sql::engine::{searchable, storable_token, store_error};
use crate::primitives::{CodeRecord, Redeemed, Rotated, Store, StoreError, TokenRecord};
use crate::secret::SecretHash;

/// The store's migrations. A pod keeps its own tables in the same database
/// with its own migrations (numbered from 100), so migrations this store
/// does not know are expected.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate::Migrator {
    ignore_missing: true,
    ..sqlx::migrate!("./migrations/postgres")
};

/// The first key of the advisory lock a grant family's rotations and
/// revocations take (`pg_advisory_xact_lock(FAMILY_LOCK, hashtext(family))`).
const FAMILY_LOCK: i32 = 0x6f61_7466; // "oatf"

/// Likewise for the tokens an authorization code issued.
const CODE_LOCK: i32 = 0x6f61_7463; // "oatc"
use super::sql::token_columns;

/// Spends the code `$1` if it is unspent and, in the same statement, stores
/// the token `$2..$12`. Returns a row if and only if the token was stored.
const REDEEM: &str = concat!(
    "WITH spent AS (UPDATE codes SET used = TRUE WHERE code_hash = $1 AND NOT used RETURNING code_hash) ",
    "INSERT INTO tokens (",
    token_columns!(),
    ") SELECT $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM spent RETURNING id"
);

/// The prefix of the channel of revocation notices: see
/// [`RevocationFeed`]. The channel is this followed by 16 hex digits of the
/// MD5 of the store's schema (`current_schema()`), so that deployments in
/// different schemas of one database do not hear each other.
pub const REVOCATION_CHANNEL: &str = "oauth_revocations_";

/// The channel's name, in SQL (see [`REVOCATION_CHANNEL`]).
macro_rules! revocation_channel {
    () => {
        "'oauth_revocations_' || left(md5(current_schema()), 16)"
    };
}

/// What a revoking `UPDATE tokens ... RETURNING` returns: a notice on
/// the channel of [`REVOCATION_CHANNEL`] per revoked token, carrying the SHA-256 of its
/// access token in hex (the [`SecretHash`] without its 16-byte selector:
/// [`SecretHash::digest`]). `NOTIFY`
/// is transactional: the notices go out when the revocation commits, and
/// not at all if it rolls back. A data-modifying statement always runs to
/// completion, so every row's notice is sent whatever reads the output.
macro_rules! notify_revoked {
    () => {
        concat!(
            "pg_notify(",
            revocation_channel!(),
            ", encode(substring(access_hash from 17 for 32), 'hex'))"
        )
    };
}

/// After a [`REDEEM`] that stored nothing: whether the code `$1` exists and
/// is spent; if spent (a replay), revokes every token it issued.
const REPLAY: &str = concat!(
    "WITH code AS (SELECT used FROM codes WHERE code_hash = $1), ",
    "revoked AS (UPDATE tokens SET revoked = TRUE ",
    "WHERE code_hash = $1 AND NOT revoked AND EXISTS (SELECT 1 FROM code WHERE used) ",
    "RETURNING ",
    notify_revoked!(),
    ") SELECT used FROM code"
);

/// Revokes the live token with refresh hash `$1` and, in the same
/// statement, stores the token `$2..$12`. Returns a row if and only if the
/// old token was live (and the new one is stored).
const ROTATE: &str = concat!(
    "WITH old AS (UPDATE tokens SET revoked = TRUE WHERE refresh_hash = $1 AND NOT revoked RETURNING id, ",
    notify_revoked!(),
    ") ",
    "INSERT INTO tokens (",
    token_columns!(),
    ") SELECT $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM old RETURNING id"
);

mod feed;
mod settings;
mod writer;

/// The statements shared with SQLite, for PostgreSQL: every revocation
/// sends its notices.
mod statements {
    crate::store::sql::shared_statements!(
        db: sqlx::Postgres,
        row: sqlx::postgres::PgRow,
        on_revoke: [" RETURNING ", notify_revoked!()],
    );
}

fn backend(e: sqlx::Error) -> StoreError {
    store_error::<Postgres>(e)
}

/// How many times [`Store::redeem_code`] retries when a concurrent
/// redemption of the same code rolled back between its two statements.
const REDEEM_ATTEMPTS: usize = 3;

/// A [`Store`] in a PostgreSQL database.
///
/// Clones share the connection pool. Every write is committed before its
/// future completes; code redemptions and refresh-token rotations are
/// atomic across processes.
///
/// # Atomicity
///
/// Every write is committed before its future completes. New tokens
/// ([`Store::insert_token`]: client credentials, personal tokens) are
/// group-committed: concurrent ones share one `INSERT` and one commit,
/// written by one or two tasks on a thread of their own, each with a
/// connection of its own (see `store/group_commit.rs`);
/// a row PostgreSQL refuses fails only its own token. Every other write is one statement in its own (implicit)
/// transaction, and the statements that must be atomic are single
/// statements with data-modifying CTEs:
///
/// - [`Store::redeem_code`]: `UPDATE codes SET used = TRUE ... WHERE NOT
///   used RETURNING` feeds the `INSERT` of the token. The `UPDATE` locks the
///   code's row, so a concurrent redemption (from any process) waits for
///   this one to commit, then re-reads the row, finds it spent and stores
///   nothing. It then revokes, in a second statement (a new snapshot under
///   `READ COMMITTED`, taken after the winner's commit), every token the
///   code issued, the winner's included.
/// - [`Store::rotate_refresh`]: likewise, `UPDATE tokens SET revoked = TRUE
///   ... WHERE NOT revoked RETURNING` feeds the `INSERT` of the new token:
///   of concurrent rotations of one refresh token exactly one succeeds, and
///   a failed insert leaves the old token live.
///
/// # Runtimes
///
/// Like any sqlx pool, the store's pool hands out connections that belong
/// to the tokio runtime that opened them, and a connection opened by a
/// runtime that no longer runs never wakes its next user. Use a store from
/// runtimes that keep running (build it on the serving runtime, or call
/// nothing but `connect` on a set-up runtime). The token writers are the
/// exception: they have a thread, a runtime and connections of their own.
///
/// # Durability
///
/// A commit is durable when the server's `synchronous_commit` is `on` (the
/// default), `local`, `remote_write` or `remote_apply`; the store sets it
/// to `on` on each of its connections where it is `off`, so a token handed
/// to a client survives a crash of the server. Its connections also use
/// `READ COMMITTED` whatever the server's default isolation level.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    tokens: Writer<TokenRecord, ()>,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`,
    /// or `postgresql://...`; libpq's query parameters such as `sslmode` or
    /// `options=-c search_path=pod` are understood) and applies the embedded
    /// migrations.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with the reason: a malformed URL, a server
    /// that cannot be reached or does not answer within 5 seconds, refused
    /// credentials, a failed migration. Messages never contain the password.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::Backend(format!(
                "invalid PostgreSQL URL {:?}: expected postgres://USER@HOST:PORT/DATABASE or postgresql://...",
                redact(url)
            )));
        }
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            StoreError::Backend(format!("invalid PostgreSQL URL {:?}: {e}", redact(url)))
        })?;
        Self::connect_with(options).await
    }

    /// [`PgStore::connect`] with options built in code (TLS settings, a
    /// `search_path`, ...).
    ///
    /// # Errors
    /// As [`PgStore::connect`].
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        Self::connect_configured(options, PgSettings::default()).await
    }

    /// [`PgStore::connect_with`] with the pool size and timeouts of
    /// `settings`.
    ///
    /// # Errors
    /// As [`PgStore::connect`].
    pub async fn connect_configured(
        options: PgConnectOptions,
        settings: PgSettings,
    ) -> Result<Self, StoreError> {
        let target = describe(&options);
        // One connection first, for a clear error (the pool would retry a
        // refused connection until its timeout, then only say so).
        let conn = match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options))
            .await
        {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => {
                return Err(StoreError::Backend(format!(
                    "cannot connect to PostgreSQL at {target}: {e}"
                )));
            }
            Err(_) => {
                return Err(StoreError::Backend(format!(
                    "cannot connect to PostgreSQL at {target}: no answer within {} s",
                    CONNECT_TIMEOUT.as_secs()
                )));
            }
        };
        // An error closing only means the connection is gone already.
        let _ = conn.close().await;
        // Migrations through a pool of one connection of their own, without
        // the store's timeouts: validating a constraint on a large table,
        // or waiting for the migration lock another instance holds while it
        // migrates, may take longer than a request should. (A pool, not the
        // connection above: `run` on a `&mut PgConnection` would make this
        // future not `Send` in generic contexts, sqlx's "Acquire is not
        // general enough".)
        let migrating = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options.clone());
        let migrated = MIGRATOR.run(&migrating).await;
        let checked = match migrated {
            Ok(()) => statements::refuse_legacy_hashes(&migrating, &target).await,
            Err(e) => Err(StoreError::Backend(format!(
                "migration failed on PostgreSQL at {target}: {e}"
            ))),
        };
        migrating.close().await;
        checked?;
        let pool = pool_options(settings, settings.max_connections.max(2))
            .connect_lazy_with(options.clone());
        // Two writers (one gathers a batch while the other commits), each
        // with a connection of its own; one for a small pool.
        let writers = if settings.max_connections >= 8 { 2 } else { 1 };
        let writers_pool = pool_options(settings, writers);
        // A batch that gets no answer (a server that stopped answering
        // without closing the connection) fails after the longest a healthy
        // one can take, so that the callers behind it do not wait on the
        // kernel. None if statements may run as long as they like.
        let statement_timeout = settings.statement_timeout;
        let limit = (!statement_timeout.is_zero()).then(|| statement_timeout + QUEUE_WAIT);
        let tokens = Writer::start(
            "pg-token-writer",
            move || {
                // Opened on the writers' runtime, so that its connections
                // belong to it: one connection per writer.
                let pool = writers_pool.connect_lazy_with(options);
                (0..writers).map(|_| PgSink(pool.clone())).collect()
            },
            limit,
        )?;
        Ok(Self { pool, tokens })
    }

    /// The connection pool, for operators' tools.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Listens for the revocations committed by every process on this
    /// database and schema (this one included): see [`RevocationFeed`].
    /// The feed holds one connection of the pool.
    ///
    /// # Errors
    /// [`StoreError::Backend`] if the server cannot be reached.
    pub async fn revocations(&self) -> Result<RevocationFeed, StoreError> {
        let channel: String = sqlx::query_scalar(concat!("SELECT ", revocation_channel!()))
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        let listener = listen(&self.pool, &channel).await?;
        Ok(RevocationFeed {
            pool: self.pool.clone(),
            channel,
            listener: Some(listener),
        })
    }
}

/// Takes the transaction-scoped advisory lock `(class, hashtext(key))`:
/// held until `conn`'s transaction ends.
async fn lock(conn: &mut PgConnection, class: i32, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(class)
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many times a revocation runs when PostgreSQL aborts it to break a
/// deadlock.
const DEADLOCK_ATTEMPTS: usize = 3;

/// Runs `op`, again when PostgreSQL aborted it to break a deadlock
/// (SQLSTATE 40P01), up to [`DEADLOCK_ATTEMPTS`] times in all.
///
/// A family revocation (under the family's lock) and a code replay or code
/// revocation (under the code's lock) can update the same rows in different
/// orders; PostgreSQL then aborts one of them after `deadlock_timeout`. Both
/// only set `revoked`, so running the aborted one again is safe, and it then
/// finds the rows free.
async fn retrying_deadlocks<T, F, Fut>(mut op: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Err(sqlx::Error::Database(db))
                if attempt < DEADLOCK_ATTEMPTS && db.code().as_deref() == Some("40P01") =>
            {
                tracing::debug!("a revocation was aborted to break a deadlock; running it again");
                attempt += 1;
            }
            result => return result.map_err(backend),
        }
    }
}

/// `hash` in hex, the key of its [`CODE_LOCK`].
fn code_key(hash: &SecretHash) -> String {
    hash.to_hex()
}

impl Store for PgStore {
    crate::store::sql::shared_store_methods!(statements);

    async fn insert_code(&self, code: CodeRecord) -> Result<(), StoreError> {
        statements::insert_code(&self.pool, &code).await
    }

    async fn code(&self, code_hash: SecretHash) -> Result<Option<(CodeRecord, bool)>, StoreError> {
        statements::code(&self.pool, code_hash).await
    }

    async fn redeem_code(
        &self,
        code_hash: SecretHash,
        token: TokenRecord,
    ) -> Result<Redeemed, StoreError> {
        storable_token(&token)?;
        let key = code_hash.as_bytes().as_slice();
        for _ in 0..REDEEM_ATTEMPTS {
            let stored = statements::bind_token(sqlx::query(REDEEM).bind(key), &token)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
            if stored.is_some() {
                return Ok(Redeemed::Issued);
            }
            // The code is unknown, or spent: by an earlier redemption, or
            // by a concurrent one that committed before the UPDATE above
            // re-read the row. This statement sees that commit.
            // Under the code's lock, so that no rotation of a token the code
            // issued slips a new token past the revocation.
            let used: Option<bool> = retrying_deadlocks(|| async {
                let mut tx = self.pool.begin().await?;
                lock(&mut tx, CODE_LOCK, &code_key(&code_hash)).await?;
                let used = sqlx::query_scalar(REPLAY)
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(used)
            })
            .await?;
            match used {
                Some(true) => return Ok(Redeemed::Replayed),
                None => return Ok(Redeemed::Unknown),
                // Unspent after all: the redemption that held the row
                // rolled back in between. Try again.
                Some(false) => {}
            }
        }
        Err(StoreError::Backend(format!(
            "PostgreSQL: the code stayed unspent yet could not be redeemed in {REDEEM_ATTEMPTS} attempts"
        )))
    }

    async fn insert_token(&self, t: TokenRecord) -> Result<(), StoreError> {
        storable_token(&t)?;
        self.tokens.write(t).await
    }

    async fn rotate_refresh(
        &self,
        old_refresh: SecretHash,
        new: TokenRecord,
    ) -> Result<Rotated, StoreError> {
        storable_token(&new)?;
        let key = old_refresh.as_bytes().as_slice();
        // The family's lock (and the code's), which revocations take too: a
        // revocation either sees the new token or makes this rotation fail.
        // Without them, under READ COMMITTED, a revocation that started
        // before this commit would miss the token inserted here.
        let mut tx = self.pool.begin().await.map_err(backend)?;
        lock(&mut tx, FAMILY_LOCK, &new.family)
            .await
            .map_err(backend)?;
        if let Some(code) = &new.code_hash {
            lock(&mut tx, CODE_LOCK, &code_key(code))
                .await
                .map_err(backend)?;
        }
        let rotated = statements::bind_token(sqlx::query(ROTATE).bind(key), &new)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        if rotated.is_some() {
            return Ok(Rotated::Done);
        }
        Ok(
            match statements::family_of_refresh(&self.pool, &old_refresh).await? {
                Some(family) => Rotated::Reused { family },
                None => Rotated::Unknown,
            },
        )
    }

    async fn revoke_family(&self, family: &str) -> Result<u64, StoreError> {
        if !searchable(family) {
            return Ok(0);
        }
        retrying_deadlocks(|| async {
            let mut tx = self.pool.begin().await?;
            lock(&mut tx, FAMILY_LOCK, family).await?;
            let n = statements::revoke_family(&mut *tx, family).await?;
            tx.commit().await?;
            Ok(n)
        })
        .await
    }

    async fn revoke_by_code(&self, code_hash: SecretHash) -> Result<u64, StoreError> {
        retrying_deadlocks(|| async {
            let mut tx = self.pool.begin().await?;
            lock(&mut tx, CODE_LOCK, &code_key(&code_hash)).await?;
            let n = statements::revoke_by_code(&mut *tx, &code_hash).await?;
            tx.commit().await?;
            Ok(n)
        })
        .await
    }

    async fn set_admin(&self, user_id: i64, admin: bool) -> Result<bool, StoreError> {
        // The notice makes every instance drop its cached validations: a
        // demoted administrator's tokens lose the reserved scopes at once.
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let changed = statements::set_admin(&mut *tx, user_id, admin).await?;
        if changed {
            notify_grants_changed(&mut tx, user_id).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(changed)
    }

    async fn set_disabled(&self, user_id: i64, disabled: bool) -> Result<bool, StoreError> {
        // As set_admin: the notice makes every instance drop its cached
        // validations, so a disabled user's tokens stop working at once.
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let changed = statements::set_disabled(&mut *tx, user_id, disabled).await?;
        if changed {
            notify_grants_changed(&mut tx, user_id).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(changed)
    }
}

/// Sends, when `tx` commits, the notice that what user `user_id`'s tokens
/// may do changed ([`RevocationNotice::User`] on every feed).
async fn notify_grants_changed(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    user_id: i64,
) -> Result<(), StoreError> {
    sqlx::query(concat!(
        "SELECT pg_notify(",
        revocation_channel!(),
        ", 'grants:' || ($1::bigint)::text)"
    ))
    .bind(user_id)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}
