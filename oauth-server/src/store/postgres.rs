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

use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::{Connection, PgConnection, PgPool, Postgres, Row};

use crate::primitives::{
    ClientRecord, CodeRecord, NewClient, Redeemed, Rotated, Store, StoreError, TokenRecord,
    UserRecord,
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

/// Connections of the pool.
const MAX_CONNECTIONS: u32 = 16;

/// The token columns, in the order [`bind_token`] binds them.
macro_rules! token_columns {
    () => {
        "id, access_hash, refresh_hash, client_id, user_id, scopes, created_at, expires_at, family, code_hash, revoked"
    };
}

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

/// After a [`REDEEM`] that stored nothing: whether the code `$1` exists and
/// is spent; if spent (a replay), revokes every token it issued.
const REPLAY: &str = "WITH code AS (SELECT used FROM codes WHERE code_hash = $1), \
     revoked AS (UPDATE tokens SET revoked = TRUE \
         WHERE code_hash = $1 AND NOT revoked AND EXISTS (SELECT 1 FROM code WHERE used)) \
     SELECT used FROM code";

/// Revokes the live token with refresh hash `$1` and, in the same
/// statement, stores the token `$2..$12`. Returns a row if and only if the
/// old token was live (and the new one is stored).
const ROTATE: &str = concat!(
    "WITH old AS (UPDATE tokens SET revoked = TRUE WHERE refresh_hash = $1 AND NOT revoked RETURNING id) ",
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
/// Every write is one statement in its own (implicit) transaction, so it
/// is committed before its future completes, and the statements that must
/// be atomic are single statements with data-modifying CTEs:
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
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(|conn, _| Box::pin(session_settings(conn)))
            .connect_lazy_with(options);
        // Through the pool, not the connection above: `run` on a
        // `&mut PgConnection` would make this future not `Send` in generic
        // contexts (sqlx's "Acquire is not general enough").
        MIGRATOR.run(&pool).await.map_err(|e| {
            StoreError::Backend(format!("migration failed on PostgreSQL at {target}: {e}"))
        })?;
        Ok(Self { pool })
    }

    /// The connection pool, for operators' tools.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// The session settings the store's statements rely on, whatever the
/// server's defaults: `READ COMMITTED` (a statement that waited for a row
/// lock re-reads the row instead of failing with a serialization error),
/// and durable commits (`synchronous_commit` is set to `on` where it is
/// `off`; any other setting is kept).
async fn session_settings(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT set_config('default_transaction_isolation', 'read committed', false), \
         CASE WHEN current_setting('synchronous_commit') = 'off' \
             THEN set_config('synchronous_commit', 'on', false) END",
    )
    .execute(conn)
    .await?;
    Ok(())
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
fn redact(url: &str) -> String {
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

/// A unique violation (SQLSTATE 23505) is a [`StoreError::Conflict`];
/// anything else a [`StoreError::Backend`].
fn backend(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        return StoreError::Conflict(match db.constraint() {
            Some(constraint) => format!("a value of the unique key {constraint}"),
            None => db.message().to_owned(),
        });
    }
    StoreError::Backend(format!("PostgreSQL: {e}"))
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
            "INSERT INTO codes (code_hash, client_id, user_id, redirect_uri, scopes, challenge, challenge_method, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(code.code_hash.as_bytes().as_slice())
        .bind(&code.client_id)
        .bind(code.user_id)
        .bind(&code.redirect_uri)
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
            let used: Option<bool> = sqlx::query_scalar(REPLAY)
                .bind(key)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
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
        bind_token(sqlx::query(INSERT_TOKEN), &t)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
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
        let rotated = bind_token(sqlx::query(ROTATE).bind(key), &new)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
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
        Ok(
            sqlx::query("UPDATE tokens SET revoked = TRUE WHERE id = $1 AND NOT revoked")
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(backend)?
                .rows_affected()
                > 0,
        )
    }

    async fn revoke_family(&self, family: &str) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("UPDATE tokens SET revoked = TRUE WHERE family = $1 AND NOT revoked")
                .bind(family)
                .execute(&self.pool)
                .await
                .map_err(backend)?
                .rows_affected(),
        )
    }

    async fn revoke_by_code(&self, code_hash: SecretHash) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("UPDATE tokens SET revoked = TRUE WHERE code_hash = $1 AND NOT revoked")
                .bind(code_hash.as_bytes().as_slice())
                .execute(&self.pool)
                .await
                .map_err(backend)?
                .rows_affected(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

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
