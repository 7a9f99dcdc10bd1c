//! The statements both SQL stores run, written once: `shared_statements!`
//! expands them for one engine, in a module of that engine's store.
//!
//! A macro rather than functions generic over `sqlx::Database`: generic
//! sqlx code must repeat a dozen higher-ranked bounds (`for<'q> &'q str:
//! Encode<'q, DB> + Type<DB>`, `IntoArguments`, `Executor` for the pool and
//! for a connection, ...) on every function, since where-clauses are not
//! implied, and its futures then fail to prove `Send` in the `Store` impls
//! (sqlx's "`Executor` is not general enough"). Expanded for a concrete
//! engine, the same text type-checks as ordinary code, and each engine pays
//! for its expansion only. What differs between the engines is named in
//! [`engine`](super::engine); the text here is the same for both.

/// The shared statements for engine `$db` with rows `$row`; `on_revoke`
/// is appended to every revoking `UPDATE tokens` (PostgreSQL's `RETURNING`
/// of its notices; nothing on SQLite). Expands to `pub(crate)` functions
/// and the record decoders of `record_decoders!`.
macro_rules! shared_statements {
    (db: $db:ty, row: $row:ty, on_revoke: [$($on_revoke:tt)*] $(,)?) => {
        #[allow(unused_imports)]
        use sqlx::Row as _;
        use sqlx::{Executor, Pool};

        use $crate::primitives::{
            ClientRecord, CodeRecord, NewClient, StoreError, Timestamp, TokenRecord, UserRecord,
        };
        use $crate::secret::SecretHash;
        use $crate::store::sql::engine::{searchable, storable};

        $crate::store::sql::records::record_decoders!($db, $row);

        /// Registers a client.
        pub(crate) async fn create_client(pool: &Pool<$db>, c: NewClient) -> Result<ClientRecord, StoreError> {
            let uris = c.redirect_uris.join("\n");
            storable(
                [c.client_id.as_str(), &c.name, &uris, &c.scopes]
                    .into_iter()
                    .chain(c.website.as_deref()),
            )?;
            let row = sqlx::query(
                "INSERT INTO clients (client_id, secret_hash, name, redirect_uris, scopes, website, owner, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
            )
            .bind(&c.client_id)
            .bind(c.secret_hash.as_bytes().as_slice())
            .bind(&c.name)
            .bind(uris)
            .bind(&c.scopes)
            .bind(&c.website)
            .bind(c.owner)
            .bind(c.created_at)
            .fetch_one(pool)
            .await
            .map_err(backend)?;
            client_from(&row)
        }

        /// The client with this `client_id`.
        pub(crate) async fn client(pool: &Pool<$db>, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
            if !searchable(client_id) {
                return Ok(None);
            }
            sqlx::query("SELECT * FROM clients WHERE client_id = $1")
                .bind(client_id)
                .fetch_optional(pool)
                .await
                .map_err(backend)?
                .as_ref()
                .map(client_from)
                .transpose()
        }

        /// Creates a user.
        pub(crate) async fn create_user(
            pool: &Pool<$db>,
            username: &str,
            password_hash: &str,
            admin: bool,
        ) -> Result<UserRecord, StoreError> {
            storable([username, password_hash])?;
            let row = sqlx::query(
                "INSERT INTO users (username, password_hash, admin) VALUES ($1, $2, $3) RETURNING *",
            )
            .bind(username)
            .bind(password_hash)
            .bind(admin)
            .fetch_one(pool)
            .await
            .map_err(backend)?;
            user_from(&row)
        }

        /// The user with this name.
        pub(crate) async fn user_by_name(pool: &Pool<$db>, username: &str) -> Result<Option<UserRecord>, StoreError> {
            if !searchable(username) {
                return Ok(None);
            }
            sqlx::query("SELECT * FROM users WHERE username = $1")
                .bind(username)
                .fetch_optional(pool)
                .await
                .map_err(backend)?
                .as_ref()
                .map(user_from)
                .transpose()
        }

        /// The user with this id.
        pub(crate) async fn user(pool: &Pool<$db>, id: i64) -> Result<Option<UserRecord>, StoreError> {
            sqlx::query("SELECT * FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(backend)?
                .as_ref()
                .map(user_from)
                .transpose()
        }

        /// Stores a new authorization code.
        pub(crate) async fn insert_code(pool: &Pool<$db>, code: &CodeRecord) -> Result<(), StoreError> {
            storable(
                [code.client_id.as_str(), &code.redirect_uri, &code.scopes]
                    .into_iter()
                    .chain(code.challenge.as_deref())
                    .chain(code.challenge_method.as_deref()),
            )?;
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
            .execute(pool)
            .await
            .map_err(backend)?;
            Ok(())
        }

        /// The code with this hash, and whether it was spent.
        pub(crate) async fn code(pool: &Pool<$db>, code_hash: SecretHash) -> Result<Option<(CodeRecord, bool)>, StoreError> {
            let row = sqlx::query("SELECT * FROM codes WHERE code_hash = $1")
                .bind(code_hash.as_bytes().as_slice())
                .fetch_optional(pool)
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

        /// Binds a token's columns in the order of `token_columns!`.
        pub(crate) fn bind_token<'q>(
            query: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>,
            t: &'q TokenRecord,
        ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>> {
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

        /// Stores one token in its own statement.
        pub(crate) async fn insert_token<'a, E>(executor: E, t: &'a TokenRecord) -> Result<(), sqlx::Error>
        where
            E: Executor<'a, Database = $db>,
        {
            bind_token(
                sqlx::query(concat!(
                    "INSERT INTO tokens (",
                    $crate::store::sql::token_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                )),
                t,
            )
            .execute(executor)
            .await
            .map(drop)
        }

        /// The token whose access token hashes to `hash`.
        pub(crate) async fn token_by_access(pool: &Pool<$db>, hash: SecretHash) -> Result<Option<TokenRecord>, StoreError> {
            sqlx::query("SELECT * FROM tokens WHERE access_hash = $1")
                .bind(hash.as_bytes().as_slice())
                .fetch_optional(pool)
                .await
                .map_err(backend)?
                .as_ref()
                .map(token_from)
                .transpose()
        }

        /// The token whose refresh token hashes to `hash`.
        pub(crate) async fn token_by_refresh(pool: &Pool<$db>, hash: SecretHash) -> Result<Option<TokenRecord>, StoreError> {
            sqlx::query("SELECT * FROM tokens WHERE refresh_hash = $1")
                .bind(hash.as_bytes().as_slice())
                .fetch_optional(pool)
                .await
                .map_err(backend)?
                .as_ref()
                .map(token_from)
                .transpose()
        }

        /// The family of the token with refresh hash `hash` (after a
        /// rotation that found no live token: reuse, or no such token).
        pub(crate) async fn family_of_refresh<'a, E>(executor: E, hash: &'a SecretHash) -> Result<Option<String>, StoreError>
        where
            E: Executor<'a, Database = $db>,
        {
            sqlx::query_scalar("SELECT family FROM tokens WHERE refresh_hash = $1")
                .bind(hash.as_bytes().as_slice())
                .fetch_optional(executor)
                .await
                .map_err(backend)
        }

        /// Revokes the token `id` if live; how many were.
        pub(crate) async fn revoke_token<'a, E>(executor: E, id: &'a str) -> Result<u64, sqlx::Error>
        where
            E: Executor<'a, Database = $db>,
        {
            if !searchable(id) {
                return Ok(0);
            }
            Ok(sqlx::query(concat!(
                "UPDATE tokens SET revoked = TRUE WHERE id = $1 AND NOT revoked",
                $($on_revoke)*
            ))
            .bind(id)
            .execute(executor)
            .await?
            .rows_affected())
        }

        /// Revokes the live tokens of `family`; how many were live.
        pub(crate) async fn revoke_family<'a, E>(executor: E, family: &'a str) -> Result<u64, sqlx::Error>
        where
            E: Executor<'a, Database = $db>,
        {
            if !searchable(family) {
                return Ok(0);
            }
            Ok(sqlx::query(concat!(
                "UPDATE tokens SET revoked = TRUE WHERE family = $1 AND NOT revoked",
                $($on_revoke)*
            ))
            .bind(family)
            .execute(executor)
            .await?
            .rows_affected())
        }

        /// Revokes the live tokens the code `code_hash` issued; how many
        /// were live.
        pub(crate) async fn revoke_by_code<'a, E>(executor: E, code_hash: &'a SecretHash) -> Result<u64, sqlx::Error>
        where
            E: Executor<'a, Database = $db>,
        {
            Ok(sqlx::query(concat!(
                "UPDATE tokens SET revoked = TRUE WHERE code_hash = $1 AND NOT revoked",
                $($on_revoke)*
            ))
            .bind(code_hash.as_bytes().as_slice())
            .execute(executor)
            .await?
            .rows_affected())
        }

        /// Sets whether a user is an administrator; `false` if there is no
        /// such user.
        pub(crate) async fn set_admin<'a, E>(executor: E, user_id: i64, admin: bool) -> Result<bool, StoreError>
        where
            E: Executor<'a, Database = $db>,
        {
            Ok(sqlx::query("UPDATE users SET admin = $2 WHERE id = $1")
                .bind(user_id)
                .bind(admin)
                .execute(executor)
                .await
                .map_err(backend)?
                .rows_affected()
                > 0)
        }

        /// Disables a user or enables them again; `false` if there is no
        /// such user.
        pub(crate) async fn set_disabled<'a, E>(executor: E, user_id: i64, disabled: bool) -> Result<bool, StoreError>
        where
            E: Executor<'a, Database = $db>,
        {
            Ok(sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
                .bind(user_id)
                .bind(disabled)
                .execute(executor)
                .await
                .map_err(backend)?
                .rows_affected()
                > 0)
        }

        /// Stores a session; see `Store::create_session`. Expired rows go
        /// first, in a statement of their own: concurrent logins do not
        /// queue on each other's purges.
        pub(crate) async fn create_session(
            pool: &Pool<$db>,
            key: SecretHash,
            user_id: i64,
            now: Timestamp,
            expires_at: Timestamp,
            max_per_user: u32,
        ) -> Result<(), StoreError> {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(now)
                .execute(pool)
                .await
                .map_err(backend)?;
            let mut tx = pool.begin().await.map_err(backend)?;
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

        /// The user of the session `key`, if live at `now`.
        pub(crate) async fn session(pool: &Pool<$db>, key: SecretHash, now: Timestamp) -> Result<Option<i64>, StoreError> {
            sqlx::query_scalar("SELECT user_id FROM sessions WHERE key_hash = $1 AND expires_at > $2")
                .bind(key.as_bytes().as_slice())
                .bind(now)
                .fetch_optional(pool)
                .await
                .map_err(backend)
        }

        /// Ends the session `key`.
        pub(crate) async fn delete_session(pool: &Pool<$db>, key: SecretHash) -> Result<(), StoreError> {
            sqlx::query("DELETE FROM sessions WHERE key_hash = $1")
                .bind(key.as_bytes().as_slice())
                .execute(pool)
                .await
                .map_err(backend)?;
            Ok(())
        }

        /// The failed logins under `key` in a window started after `since`.
        pub(crate) async fn login_failures(pool: &Pool<$db>, key: [u8; 32], since: Timestamp) -> Result<u32, StoreError> {
            let n: Option<i64> = sqlx::query_scalar(
                "SELECT CAST(failures AS BIGINT) FROM login_failures WHERE key = $1 AND window_start > $2",
            )
            .bind(key.as_slice())
            .bind(since)
            .fetch_optional(pool)
            .await
            .map_err(backend)?;
            Ok(n.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
        }

        /// Counts a failed login under `key`; see
        /// `Store::record_login_failure`. Ended windows go first, in a
        /// statement of their own, as for sessions.
        pub(crate) async fn record_login_failure(
            pool: &Pool<$db>,
            key: [u8; 32],
            now: Timestamp,
            window: i64,
        ) -> Result<u32, StoreError> {
            let ended = now.saturating_sub(window);
            sqlx::query("DELETE FROM login_failures WHERE window_start <= $1")
                .bind(ended)
                .execute(pool)
                .await
                .map_err(backend)?;
            let n: i64 = sqlx::query_scalar(
                "INSERT INTO login_failures (key, failures, window_start) VALUES ($1, 1, $2) \
                 ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN login_failures.failures < 1000000 \
                 THEN login_failures.failures ELSE 1000000 END + 1 \
                 RETURNING CAST(failures AS BIGINT)",
            )
            .bind(key.as_slice())
            .bind(now)
            .fetch_one(pool)
            .await
            .map_err(backend)?;
            Ok(u32::try_from(n).unwrap_or(u32::MAX))
        }

        /// Forgets the failures under `key`.
        pub(crate) async fn clear_login_failures(pool: &Pool<$db>, key: [u8; 32]) -> Result<(), StoreError> {
            sqlx::query("DELETE FROM login_failures WHERE key = $1")
                .bind(key.as_slice())
                .execute(pool)
                .await
                .map_err(backend)?;
            Ok(())
        }

        /// Refuses a database written before secrets had their selector:
        /// its clients' and tokens' 32-byte digests can never match again
        /// (only the digest was kept, so no migration can convert them),
        /// and serving it would answer every one of those clients with an
        /// error. Both stores run it when they connect.
        pub(crate) async fn refuse_legacy_hashes(pool: &Pool<$db>, place: &str) -> Result<(), StoreError> {
            $crate::store::sql::legacy_hashes(
                sqlx::query_as(
                    "SELECT (SELECT count(*) FROM clients WHERE length(secret_hash) != 48), \
                            (SELECT count(*) FROM tokens WHERE length(access_hash) != 48)",
                )
                .fetch_one(pool)
                .await
                .map_err(backend)?,
                place,
            )
        }
    };
}
pub(crate) use shared_statements;

/// The [`Store`](crate::primitives::Store) methods that are one shared
/// statement on both SQL stores, for the `impl Store` of a store whose
/// `pool` field is the pool of its expansion `$statements` of
/// `shared_statements!`.
macro_rules! shared_store_methods {
    ($statements:ident) => {
        async fn create_client(
            &self,
            c: $crate::primitives::NewClient,
        ) -> Result<$crate::primitives::ClientRecord, StoreError> {
            $statements::create_client(&self.pool, c).await
        }

        async fn client(
            &self,
            client_id: &str,
        ) -> Result<Option<$crate::primitives::ClientRecord>, StoreError> {
            $statements::client(&self.pool, client_id).await
        }

        async fn create_user(
            &self,
            username: &str,
            password_hash: &str,
            admin: bool,
        ) -> Result<$crate::primitives::UserRecord, StoreError> {
            $statements::create_user(&self.pool, username, password_hash, admin).await
        }

        async fn user_by_name(
            &self,
            username: &str,
        ) -> Result<Option<$crate::primitives::UserRecord>, StoreError> {
            $statements::user_by_name(&self.pool, username).await
        }

        async fn user(
            &self,
            id: i64,
        ) -> Result<Option<$crate::primitives::UserRecord>, StoreError> {
            $statements::user(&self.pool, id).await
        }

        async fn token_by_access(
            &self,
            hash: SecretHash,
        ) -> Result<Option<$crate::primitives::TokenRecord>, StoreError> {
            $statements::token_by_access(&self.pool, hash).await
        }

        async fn token_by_refresh(
            &self,
            hash: SecretHash,
        ) -> Result<Option<$crate::primitives::TokenRecord>, StoreError> {
            $statements::token_by_refresh(&self.pool, hash).await
        }

        async fn revoke_token(&self, id: &str) -> Result<bool, StoreError> {
            Ok($statements::revoke_token(&self.pool, id)
                .await
                .map_err(backend)?
                > 0)
        }

        async fn create_session(
            &self,
            key: SecretHash,
            user_id: i64,
            now: $crate::primitives::Timestamp,
            expires_at: $crate::primitives::Timestamp,
            max_per_user: u32,
        ) -> Result<(), StoreError> {
            $statements::create_session(&self.pool, key, user_id, now, expires_at, max_per_user)
                .await
        }

        async fn session(
            &self,
            key: SecretHash,
            now: $crate::primitives::Timestamp,
        ) -> Result<Option<i64>, StoreError> {
            $statements::session(&self.pool, key, now).await
        }

        async fn delete_session(&self, key: SecretHash) -> Result<(), StoreError> {
            $statements::delete_session(&self.pool, key).await
        }

        async fn login_failures(
            &self,
            key: [u8; 32],
            since: $crate::primitives::Timestamp,
        ) -> Result<u32, StoreError> {
            $statements::login_failures(&self.pool, key, since).await
        }

        async fn record_login_failure(
            &self,
            key: [u8; 32],
            now: $crate::primitives::Timestamp,
            window: i64,
        ) -> Result<u32, StoreError> {
            $statements::record_login_failure(&self.pool, key, now, window).await
        }

        async fn clear_login_failures(&self, key: [u8; 32]) -> Result<(), StoreError> {
            $statements::clear_login_failures(&self.pool, key).await
        }
    };
}
pub(crate) use shared_store_methods;
