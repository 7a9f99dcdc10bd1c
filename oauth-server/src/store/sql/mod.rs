//! The SQL layer of the SQLite and PostgreSQL stores: what both engines do
//! the same way, written once.
//!
//! - [`engine`]: what differs between the engines at the level of a
//!   statement (placeholders, types, NUL in text, error classification).
//! - `statements.rs`: `shared_statements!`, every statement that is the
//!   same text on both engines (CRUD of clients, users, codes, tokens,
//!   sessions and login failures; revocations; the start-up check),
//!   expanded once per engine.
//! - `records.rs`: `record_decoders!`, rows into records.
//!
//! Group commit, shared too, is [`group_commit`](super::group_commit).

pub(crate) mod engine;
pub(crate) mod records;
pub(crate) mod statements;

pub(crate) use statements::{shared_statements, shared_store_methods};

use crate::primitives::StoreError;

/// The token columns, in the order every token statement binds them.
macro_rules! token_columns {
    () => {
        "id, access_hash, refresh_hash, client_id, user_id, scopes, created_at, expires_at, family, code_hash, revoked"
    };
}
pub(crate) use token_columns;

/// The verdict of `refuse_legacy_hashes` on `(clients, tokens)`, the
/// counts of rows whose hash is not 48 bytes, in the database at `place`.
pub(crate) fn legacy_hashes((clients, tokens): (i64, i64), place: &str) -> Result<(), StoreError> {
    if clients + tokens == 0 {
        return Ok(());
    }
    Err(StoreError::Backend(format!(
        "{place} holds {clients} apps and {tokens} tokens hashed by an earlier oauth-server \
         (32-byte digests, before secrets had a time-ordered selector); they can never match \
         again. Register those apps anew after deleting them \
         (DELETE FROM tokens WHERE length(access_hash) != 48; \
         DELETE FROM clients WHERE length(secret_hash) != 48), or start from a new database"
    )))
}
