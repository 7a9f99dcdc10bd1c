//! Implementations of [`Store`](crate::primitives::Store): in memory for
//! tests, SQLite as the embedded default, PostgreSQL for pods that run
//! several processes on one database.

/// The record decoders of a sqlx store, for its row type `$row`: the same
/// columns in every schema. Errors go through the invoking module's
/// `backend`, so each store keeps its own error wording.
macro_rules! record_decoders {
    ($row:ty) => {
        /// A stored [`SecretHash`], or an error if the value has the wrong length
        /// (a corrupt row, or a database written before the selector format).
        fn hash_of(column: &str, bytes: &[u8]) -> Result<SecretHash, StoreError> {
            SecretHash::from_slice(bytes).ok_or_else(|| {
                StoreError::Backend(format!(
                    "{column} is {} bytes, not a {}-byte secret hash",
                    bytes.len(),
                    SecretHash::LEN
                ))
            })
        }

        fn hash_from(row: &$row, column: &str) -> Result<SecretHash, StoreError> {
            let bytes: &[u8] = row.try_get(column).map_err(backend)?;
            hash_of(column, bytes)
        }

        fn opt_hash_from(row: &$row, column: &str) -> Result<Option<SecretHash>, StoreError> {
            let bytes: Option<&[u8]> = row.try_get(column).map_err(backend)?;
            bytes.map(|b| hash_of(column, b)).transpose()
        }

        fn client_from(row: &$row) -> Result<ClientRecord, StoreError> {
            let uris: String = row.try_get("redirect_uris").map_err(backend)?;
            Ok(ClientRecord {
                id: row.try_get("id").map_err(backend)?,
                client_id: row.try_get("client_id").map_err(backend)?,
                secret_hash: hash_from(row, "secret_hash")?,
                name: row.try_get("name").map_err(backend)?,
                redirect_uris: uris.lines().map(str::to_owned).collect(),
                scopes: row.try_get("scopes").map_err(backend)?,
                website: row.try_get("website").map_err(backend)?,
                owner: row.try_get("owner").map_err(backend)?,
                created_at: row.try_get("created_at").map_err(backend)?,
            })
        }

        fn user_from(row: &$row) -> Result<UserRecord, StoreError> {
            Ok(UserRecord {
                id: row.try_get("id").map_err(backend)?,
                username: row.try_get("username").map_err(backend)?,
                password_hash: row.try_get("password_hash").map_err(backend)?,
                admin: row.try_get("admin").map_err(backend)?,
            })
        }

        fn code_from(row: &$row) -> Result<CodeRecord, StoreError> {
            Ok(CodeRecord {
                code_hash: hash_from(row, "code_hash")?,
                client_id: row.try_get("client_id").map_err(backend)?,
                user_id: row.try_get("user_id").map_err(backend)?,
                redirect_uri: row.try_get("redirect_uri").map_err(backend)?,
                redirect_uri_given: row.try_get("redirect_uri_given").map_err(backend)?,
                scopes: row.try_get("scopes").map_err(backend)?,
                challenge: row.try_get("challenge").map_err(backend)?,
                challenge_method: row.try_get("challenge_method").map_err(backend)?,
                expires_at: row.try_get("expires_at").map_err(backend)?,
            })
        }

        fn token_from(row: &$row) -> Result<TokenRecord, StoreError> {
            Ok(TokenRecord {
                id: row.try_get("id").map_err(backend)?,
                access_hash: hash_from(row, "access_hash")?,
                refresh_hash: opt_hash_from(row, "refresh_hash")?,
                client_id: row.try_get("client_id").map_err(backend)?,
                user_id: row.try_get("user_id").map_err(backend)?,
                scopes: row.try_get("scopes").map_err(backend)?,
                created_at: row.try_get("created_at").map_err(backend)?,
                expires_at: row.try_get("expires_at").map_err(backend)?,
                family: row.try_get("family").map_err(backend)?,
                code_hash: opt_hash_from(row, "code_hash")?,
                revoked: row.try_get("revoked").map_err(backend)?,
            })
        }
    };
}
use record_decoders;

/// Runs the future `writer()` makes on a thread named `name` with a
/// current-thread runtime of its own (the stores' group-commit writers:
/// they then serve callers on any runtime and outlive the one that opened
/// the store). The runtime is built on that thread, and this returns once
/// it is running, or with the reason it could not start.
fn spawn_on_own_runtime<F, Fut>(name: &str, writer: F) -> Result<(), crate::primitives::StoreError>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let cannot = |e: &dyn std::fmt::Display| {
        crate::primitives::StoreError::Backend(format!("cannot start {name}: {e}"))
    };
    let (started, outcome) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => {
                    let _ = started.send(Ok(()));
                    runtime.block_on(writer());
                }
                Err(e) => {
                    let _ = started.send(Err(e));
                }
            }
        })
        .map_err(|e| cannot(&e))?;
    // Only as long as building a runtime takes.
    match outcome.recv() {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(cannot(&e)),
        Err(e) => Err(cannot(&e)),
    }
}

mod memory;
mod postgres;
mod sqlite;

pub use self::memory::MemoryStore;
/// `url` with its password replaced by `***` and its query (which may
/// carry `password=`) dropped, for messages and banners.
pub use self::postgres::redact as redact_url;
pub use self::postgres::{
    PgSettings, PgStore, REVOCATION_CHANNEL, RevocationFeed, RevocationNotice,
};
pub use self::sqlite::SqliteStore;
