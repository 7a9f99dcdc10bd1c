//! [`PgStore`]: the store in a PostgreSQL database, for pods that run
//! several processes on one database or already operate PostgreSQL.
//!
//! The schema is `migrations/postgres/` (SQLite's in PostgreSQL types:
//! `BYTEA` hashes, `BIGINT` times, `BOOLEAN` flags), embedded and applied
//! at connect time. A pod may keep its own tables in the same database with
//! its own migrations: migrations this store does not know are expected.
//!
//! Hashes ([`SecretHash`]) are 48-byte `BYTEA`s: the secret's time-ordered
//! selector, then its SHA-256. A stored hash of another length reads as a
//! [`StoreError::Backend`].

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgArguments, PgConnectOptions, PgListener, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::{Connection, PgConnection, PgPool, Postgres, Row};

use crate::primitives::{
    ClientRecord, CodeRecord, NewClient, Redeemed, Rotated, Store, StoreError, Timestamp,
    TokenRecord, UserRecord,
};
use crate::secret::SecretHash;

/// The store's migrations. A pod keeps its own tables in the same database
/// with its own migrations (numbered from 100), so migrations this store
/// does not know are expected.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate::Migrator {
    ignore_missing: true,
    ..sqlx::migrate!("./migrations/postgres")
};

/// How long connecting to the server may take before
/// [`PgStore::connect`] gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a query may wait for a connection of the pool (a busy pool, or
/// a server that went away) before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The first key of the advisory lock a grant family's rotations and
/// revocations take (`pg_advisory_xact_lock(FAMILY_LOCK, hashtext(family))`).
const FAMILY_LOCK: i32 = 0x6f61_7466; // "oatf"

/// Likewise for the tokens an authorization code issued.
const CODE_LOCK: i32 = 0x6f61_7463; // "oatc"

/// How a [`PgStore`] uses its server; [`PgSettings::default`] is what
/// [`PgStore::connect`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PgSettings {
    /// Connections of this process's pool (16), plus one per token writer
    /// (two from 8 up, else one). Across all instances they must stay under
    /// the server's `max_connections`.
    pub max_connections: u32,
    /// The longest a statement may run (`statement_timeout`, 10 s): a
    /// request fails with 503 rather than wait on a stuck server. (A new
    /// token also waits for the batches queued before its own; when one of
    /// them fails, it is answered with that failure at once.)
    pub statement_timeout: Duration,
    /// The longest a statement may wait for a lock (`lock_timeout`, 5 s).
    pub lock_timeout: Duration,
}

impl Default for PgSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            statement_timeout: Duration::from_secs(10),
            lock_timeout: Duration::from_secs(5),
        }
    }
}

impl PgSettings {
    /// Sets [`PgSettings::max_connections`] (at least 2: a
    /// [`RevocationFeed`] holds one).
    #[must_use]
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(2);
        self
    }

    /// Sets [`PgSettings::statement_timeout`] (zero: none).
    #[must_use]
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// Sets [`PgSettings::lock_timeout`] (zero: none).
    #[must_use]
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }
}

/// The token columns, in the order [`bind_token`] binds them.
macro_rules! token_columns {
    () => {
        "id, access_hash, refresh_hash, client_id, user_id, scopes, created_at, expires_at, family, code_hash, revoked"
    };
}

mod group_commit;

/// Stores a token.
const INSERT_TOKEN: &str = concat!(
    "INSERT INTO tokens (",
    token_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
);

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
/// connection of its own (see `group_commit.rs`); a row PostgreSQL refuses fails only
/// its own token. Every other write is one statement in its own (implicit)
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
    tokens: group_commit::TokenWriter,
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
        migrating.close().await;
        migrated.map_err(|e| {
            StoreError::Backend(format!("migration failed on PostgreSQL at {target}: {e}"))
        })?;
        let pool = pool_options(settings, settings.max_connections.max(2))
            .connect_lazy_with(options.clone());
        // Two writers (one gathers a batch while the other commits), each
        // with a connection of its own; one for a small pool.
        let writers = if settings.max_connections >= 8 { 2 } else { 1 };
        let tokens = group_commit::TokenWriter::start(
            &pool,
            pool_options(settings, writers),
            options,
            writers,
            settings.statement_timeout,
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

/// What a [`RevocationFeed`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationNotice {
    /// The access token with this SHA-256 was revoked (or replaced by a
    /// refresh): drop it from validation caches.
    AccessToken([u8; 32]),
    /// What some user's tokens may do changed (an administrator was
    /// demoted): drop every cached validation.
    GrantsChanged,
    /// Notices may have been lost (the listening connection dropped, or
    /// cannot be re-established yet): drop every cached validation.
    Missed,
}

/// The revocations committed on a database, as `LISTEN` on
/// [`REVOCATION_CHANNEL`] receives them: how several instances of a
/// resource server on one database keep their validation caches honest.
///
/// Every revocation in [`PgStore`] (an access token, a grant family, the
/// tokens of a replayed code, the token a refresh replaced) sends one
/// notice per token when it commits, whichever process made it: the
/// operator's command line included. A notice reaches the other processes
/// within milliseconds; if the connection drops, the feed reports
/// [`RevocationNotice::Missed`] and reconnects, and keeps reporting it
/// about once a second for as long as the server cannot be reached.
///
/// ```no_run
/// # async fn run(store: oauth_server::store::PgStore) -> Result<(), oauth_server::primitives::StoreError> {
/// # fn evict(_: &[u8; 32]) {}
/// # fn clear() {}
/// use oauth_server::store::RevocationNotice;
///
/// let mut feed = store.revocations().await?;
/// tokio::spawn(async move {
///     loop {
///         match feed.recv().await {
///             // e.g. `CachedValidator::evict_digest`
///             RevocationNotice::AccessToken(digest) => evict(&digest),
///             // e.g. `CachedValidator::clear`
///             _ => clear(),
///         }
///     }
/// });
/// # Ok(()) }
/// ```
pub struct RevocationFeed {
    pool: PgPool,
    channel: String,
    /// `None` after the connection was lost, until `LISTEN` succeeds again.
    listener: Option<PgListener>,
}

impl std::fmt::Debug for RevocationFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationFeed")
            .field("channel", &self.channel)
            .field("listening", &self.listener.is_some())
            .finish_non_exhaustive()
    }
}

/// A listener on `channel`, on a connection of `pool`.
async fn listen(pool: &PgPool, channel: &str) -> Result<PgListener, StoreError> {
    let mut listener = PgListener::connect_with(pool).await.map_err(backend)?;
    listener.listen(channel).await.map_err(backend)?;
    Ok(listener)
}

/// How long [`RevocationFeed::recv`] waits before it reports
/// [`RevocationNotice::Missed`] again while the server is unreachable.
const FEED_RETRY: Duration = Duration::from_secs(1);

impl RevocationFeed {
    /// The next notice. Cancel-safe: a notice is not lost when the future
    /// is dropped.
    ///
    /// After a lost connection the feed listens again on a new one, itself
    /// (not through sqlx's silent reconnection), and reports
    /// [`RevocationNotice::Missed`] once `LISTEN` has succeeded, so that
    /// nothing revoked while it was deaf stays cached; while it cannot
    /// listen, it reports `Missed` about once a second.
    pub async fn recv(&mut self) -> RevocationNotice {
        loop {
            let Some(listener) = self.listener.as_mut() else {
                match listen(&self.pool, &self.channel).await {
                    Ok(listener) => {
                        self.listener = Some(listener);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "revocation feed: cannot listen");
                        tokio::time::sleep(FEED_RETRY).await;
                    }
                }
                return RevocationNotice::Missed;
            };
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    if let Some(digest) = parse_digest(notification.payload()) {
                        return RevocationNotice::AccessToken(digest);
                    }
                    if notification.payload() == "grants" {
                        return RevocationNotice::GrantsChanged;
                    }
                    tracing::debug!(
                        payload = notification.payload(),
                        "unknown revocation notice"
                    );
                }
                // The connection was lost: listen again on a new one.
                Ok(None) => {
                    self.listener = None;
                    return RevocationNotice::Missed;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "revocation feed: connection failed");
                    self.listener = None;
                    tokio::time::sleep(FEED_RETRY).await;
                    return RevocationNotice::Missed;
                }
            }
        }
    }
}

/// 64 hex digits as 32 bytes.
fn parse_digest(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let digit = |c: u8| (c as char).to_digit(16);
        *byte = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(out)
}

/// A pool of `connections` with the store's acquire timeout and session
/// settings.
fn pool_options(settings: PgSettings, connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_connect(move |conn, _| Box::pin(session_settings(conn, settings)))
}

/// The session settings the store's statements rely on, whatever the
/// server's defaults: `READ COMMITTED` (a statement that waited for a row
/// lock re-reads the row instead of failing with a serialization error),
/// durable commits (`synchronous_commit` is set to `on` where it is `off`;
/// any other setting is kept), and the timeouts of `settings`.
///
/// These are session settings: behind PgBouncer, use session pooling (in
/// transaction pooling a later transaction may run on a server connection
/// that never received them).
async fn session_settings(
    conn: &mut PgConnection,
    settings: PgSettings,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT set_config('default_transaction_isolation', 'read committed', false), \
         set_config('statement_timeout', $1, false), \
         set_config('lock_timeout', $2, false), \
         CASE WHEN current_setting('synchronous_commit') = 'off' \
             THEN set_config('synchronous_commit', 'on', false) END",
    )
    .bind(millis(settings.statement_timeout))
    .bind(millis(settings.lock_timeout))
    .execute(conn)
    .await?;
    Ok(())
}

/// `timeout` as PostgreSQL's setting: whole milliseconds, at least 1 unless
/// zero (none), at most `i32::MAX` (the setting's range).
fn millis(timeout: Duration) -> String {
    let ms = match timeout.as_millis() {
        0 if timeout.is_zero() => 0,
        0 => 1,
        ms => ms.min(i32::MAX as u128),
    };
    format!("{ms}ms")
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

/// `USER@HOST:PORT/DATABASE`, for messages (never the password).
fn describe(options: &PgConnectOptions) -> String {
    format!(
        "{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or(options.get_username()),
    )
}

/// `url` with the password of its user information replaced by `***` and
/// its query dropped (it may carry `password=`). Everything before the last
/// `@` counts as user information, so a password holding `/`, `?`, `#` or
/// `@` unencoded is hidden too.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (userinfo, host_and_path) = match rest.rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let host_and_path = host_and_path.split(['?', '#']).next().unwrap_or_default();
    match userinfo.map(|info| (info, info.split_once(':'))) {
        Some((_, Some((user, _)))) => format!("{scheme}://{user}:***@{host_and_path}"),
        Some((info, None)) => format!("{scheme}://{info}@{host_and_path}"),
        None => format!("{scheme}://{host_and_path}"),
    }
}

/// Binds a token's columns in the order of [`token_columns!`].
fn bind_token<'q>(
    query: Query<'q, Postgres, PgArguments>,
    t: &'q TokenRecord,
) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(t.id.as_str())
        .bind(t.access_hash.as_bytes().as_slice())
        .bind(t.refresh_hash.as_ref().map(|h| h.as_bytes().as_slice()))
        .bind(t.client_id.as_str())
        .bind(t.user_id)
        .bind(t.scopes.as_str())
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(t.family.as_str())
        .bind(t.code_hash.as_ref().map(|h| h.as_bytes().as_slice()))
        .bind(t.revoked)
}

/// A unique violation (SQLSTATE 23505) is a [`StoreError::Conflict`]; a
/// value the server cannot hold (22021, 22P05: a NUL or untranslatable
/// character in `TEXT`; 22001, 22003: too long, out of range) a
/// [`StoreError::Invalid`]; anything else a
/// [`StoreError::Backend`].
fn backend(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return StoreError::Conflict(match db.constraint() {
                Some(constraint) => format!("a value of the unique key {constraint}"),
                None => db.message().to_owned(),
            });
        }
        // Values a client can send that PostgreSQL cannot hold: a NUL or
        // an invalid character in TEXT, a string or number too large.
        // Other data errors are bugs of ours, not the client's.
        if db
            .code()
            .is_some_and(|code| matches!(&*code, "22021" | "22P05" | "22001" | "22003"))
        {
            return StoreError::Invalid(db.message().to_owned());
        }
    }
    StoreError::Backend(format!("PostgreSQL: {e}"))
}

/// Whether `key` can be looked up at all: PostgreSQL's `TEXT` holds no NUL,
/// so a key with one matches nothing (rather than failing the query).
fn searchable(key: &str) -> bool {
    !key.contains('\0')
}

super::record_decoders!(PgRow);

impl Store for PgStore {
    async fn create_client(&self, c: NewClient) -> Result<ClientRecord, StoreError> {
        let row = sqlx::query(
            "INSERT INTO clients (client_id, secret_hash, name, redirect_uris, scopes, website, owner, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
        )
        .bind(&c.client_id)
        .bind(c.secret_hash.as_bytes().as_slice())
        .bind(&c.name)
        .bind(c.redirect_uris.join("\n"))
        .bind(&c.scopes)
        .bind(&c.website)
        .bind(c.owner)
        .bind(c.created_at)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        client_from(&row)
    }

    async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        if !searchable(client_id) {
            return Ok(None);
        }
        sqlx::query("SELECT * FROM clients WHERE client_id = $1")
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(client_from)
            .transpose()
    }

    async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        admin: bool,
    ) -> Result<UserRecord, StoreError> {
        let row = sqlx::query(
            "INSERT INTO users (username, password_hash, admin) VALUES ($1, $2, $3) RETURNING *",
        )
        .bind(username)
        .bind(password_hash)
        .bind(admin)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        user_from(&row)
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        if !searchable(username) {
            return Ok(None);
        }
        sqlx::query("SELECT * FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    async fn user(&self, id: i64) -> Result<Option<UserRecord>, StoreError> {
        sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    async fn insert_code(&self, code: CodeRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO codes (code_hash, client_id, user_id, redirect_uri, redirect_uri_given, scopes, challenge, challenge_method, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(code.code_hash.as_bytes().as_slice())
        .bind(&code.client_id)
        .bind(code.user_id)
        .bind(&code.redirect_uri)
        .bind(code.redirect_uri_given)
        .bind(&code.scopes)
        .bind(&code.challenge)
        .bind(&code.challenge_method)
        .bind(code.expires_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn code(&self, code_hash: SecretHash) -> Result<Option<(CodeRecord, bool)>, StoreError> {
        let row = sqlx::query("SELECT * FROM codes WHERE code_hash = $1")
            .bind(code_hash.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        match row {
            Some(row) => {
                let used: bool = row.try_get("used").map_err(backend)?;
                Ok(Some((code_from(&row)?, used)))
            }
            None => Ok(None),
        }
    }

    async fn redeem_code(
        &self,
        code_hash: SecretHash,
        token: TokenRecord,
    ) -> Result<Redeemed, StoreError> {
        let key = code_hash.as_bytes().as_slice();
        for _ in 0..REDEEM_ATTEMPTS {
            let stored = bind_token(sqlx::query(REDEEM).bind(key), &token)
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
        self.tokens.insert(t).await
    }

    async fn token_by_access(&self, hash: SecretHash) -> Result<Option<TokenRecord>, StoreError> {
        sqlx::query("SELECT * FROM tokens WHERE access_hash = $1")
            .bind(hash.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(token_from)
            .transpose()
    }

    async fn token_by_refresh(&self, hash: SecretHash) -> Result<Option<TokenRecord>, StoreError> {
        sqlx::query("SELECT * FROM tokens WHERE refresh_hash = $1")
            .bind(hash.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(token_from)
            .transpose()
    }

    async fn rotate_refresh(
        &self,
        old_refresh: SecretHash,
        new: TokenRecord,
    ) -> Result<Rotated, StoreError> {
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
        let rotated = bind_token(sqlx::query(ROTATE).bind(key), &new)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        if rotated.is_some() {
            return Ok(Rotated::Done);
        }
        let family: Option<String> =
            sqlx::query_scalar("SELECT family FROM tokens WHERE refresh_hash = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        Ok(match family {
            Some(family) => Rotated::Reused { family },
            None => Rotated::Unknown,
        })
    }

    async fn revoke_token(&self, id: &str) -> Result<bool, StoreError> {
        if !searchable(id) {
            return Ok(false);
        }
        Ok(sqlx::query(concat!(
            "UPDATE tokens SET revoked = TRUE WHERE id = $1 AND NOT revoked RETURNING ",
            notify_revoked!()
        ))
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(backend)?
        .rows_affected()
            > 0)
    }

    async fn revoke_family(&self, family: &str) -> Result<u64, StoreError> {
        if !searchable(family) {
            return Ok(0);
        }
        retrying_deadlocks(|| async {
            let mut tx = self.pool.begin().await?;
            lock(&mut tx, FAMILY_LOCK, family).await?;
            let n = sqlx::query(concat!(
                "UPDATE tokens SET revoked = TRUE WHERE family = $1 AND NOT revoked RETURNING ",
                notify_revoked!()
            ))
            .bind(family)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(n)
        })
        .await
    }

    async fn revoke_by_code(&self, code_hash: SecretHash) -> Result<u64, StoreError> {
        retrying_deadlocks(|| async {
            let mut tx = self.pool.begin().await?;
            lock(&mut tx, CODE_LOCK, &code_key(&code_hash)).await?;
            let n = sqlx::query(concat!(
                "UPDATE tokens SET revoked = TRUE WHERE code_hash = $1 AND NOT revoked RETURNING ",
                notify_revoked!()
            ))
            .bind(code_hash.as_bytes().as_slice())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(n)
        })
        .await
    }

    async fn set_admin(&self, user_id: i64, admin: bool) -> Result<bool, StoreError> {
        // The notice makes every instance drop its cached validations: a
        // demoted administrator's tokens lose the reserved scopes at once.
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let changed = sqlx::query("UPDATE users SET admin = $2 WHERE id = $1")
            .bind(user_id)
            .bind(admin)
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected()
            > 0;
        if changed {
            sqlx::query(concat!(
                "SELECT pg_notify(",
                revocation_channel!(),
                ", 'grants')"
            ))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(changed)
    }

    async fn create_session(
        &self,
        key: SecretHash,
        user_id: i64,
        now: Timestamp,
        expires_at: Timestamp,
        max_per_user: u32,
    ) -> Result<(), StoreError> {
        // Expired rows go first, in a statement of their own: concurrent
        // logins do not queue on each other's purges.
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query(
            "INSERT INTO sessions (key_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(key.as_bytes().as_slice())
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query(
            "DELETE FROM sessions WHERE user_id = $1 AND key_hash NOT IN \
             (SELECT key_hash FROM sessions WHERE user_id = $1 \
              ORDER BY key_hash = $2 DESC, created_at DESC LIMIT $3)",
        )
        .bind(user_id)
        .bind(key.as_bytes().as_slice())
        .bind(i64::from(max_per_user))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn session(&self, key: SecretHash, now: Timestamp) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar("SELECT user_id FROM sessions WHERE key_hash = $1 AND expires_at > $2")
            .bind(key.as_bytes().as_slice())
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)
    }

    async fn delete_session(&self, key: SecretHash) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE key_hash = $1")
            .bind(key.as_bytes().as_slice())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn login_failures(&self, key: [u8; 32], since: Timestamp) -> Result<u32, StoreError> {
        let n: Option<i32> = sqlx::query_scalar(
            "SELECT failures FROM login_failures WHERE key = $1 AND window_start > $2",
        )
        .bind(key.as_slice())
        .bind(since)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(n.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    async fn record_login_failure(
        &self,
        key: [u8; 32],
        now: Timestamp,
        window: i64,
    ) -> Result<u32, StoreError> {
        let ended = now.saturating_sub(window);
        sqlx::query("DELETE FROM login_failures WHERE window_start <= $1")
            .bind(ended)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let n: i32 = sqlx::query_scalar(
            "INSERT INTO login_failures (key, failures, window_start) VALUES ($1, 1, $2) \
             ON CONFLICT (key) DO UPDATE SET failures = LEAST(login_failures.failures, 1000000) + 1 \
             RETURNING failures",
        )
        .bind(key.as_slice())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn clear_login_failures(&self, key: [u8; 32]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key.as_slice())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_digest, redact};

    #[test]
    fn digests_parse_from_hex() {
        let hex = "00ff10ab".repeat(8);
        let digest = parse_digest(&hex).expect("64 hex digits");
        assert_eq!(&digest[..4], &[0x00, 0xff, 0x10, 0xab]);
        assert_eq!(parse_digest(&hex.to_uppercase()), Some(digest));
        assert_eq!(parse_digest(&hex[..62]), None);
        assert_eq!(parse_digest(&format!("{}zz", &hex[..62])), None);
        assert_eq!(parse_digest(&format!("{}é", &hex[..62])), None);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://pod:hunter2@db.example:5432/pod"),
            "postgres://pod:***@db.example:5432/pod"
        );
        assert_eq!(
            redact("postgres://pod@db.example/pod"),
            "postgres://pod@db.example/pod"
        );
        assert_eq!(
            redact("postgres://db.example/p@d"),
            "postgres://db.example/p@d"
        );
        assert_eq!(redact("not a url"), "not a url");
        // Unencoded separators in the password, and a password in the query.
        for url in [
            "postgres://u:pa/ss@h/db",
            "postgres://u:pa?ss@h/db",
            "postgres://u:pa#ss@h/db",
            "postgres://u:p@ss@h/db",
        ] {
            assert_eq!(redact(url), "postgres://u:***@h/db", "{url}");
        }
        assert_eq!(
            redact("postgres://u@h/db?password=hunter2&sslmode=disable"),
            "postgres://u@h/db"
        );
    }
}
