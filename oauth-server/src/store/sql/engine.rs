//! Everything that differs between the two SQL engines at the level of a
//! statement, named in one place; the stores' statements are otherwise one
//! text for both (`shared_statements!`).
//!
//! - **Placeholders**: `$1`, `$2`, ... on both. sqlx's SQLite driver reads
//!   `$NNN` as the NNN-th argument, like `?NNN`, so one text serves both
//!   (tested below).
//! - **Types**: SQLite has no `BOOLEAN` or `BYTEA`: flags are `INTEGER` 0/1
//!   and hashes `BLOB`s, which sqlx encodes and decodes from the same `bool`
//!   and `&[u8]`, and `TRUE`/`NOT flag` read the same on both. A counter
//!   declared `INTEGER` is 64 bits on SQLite and 32 on PostgreSQL:
//!   statements `CAST(... AS BIGINT)` it, so it decodes as `i64` on both.
//! - **Text**: PostgreSQL's `TEXT` holds no NUL character, SQLite's does. So
//!   that the same input gets the same answer on both, neither store writes
//!   one ([`storable`]: [`StoreError::Invalid`], a 400) and a lookup by a key
//!   holding one finds nothing on both ([`searchable`]).
//! - **Errors** ([`store_error`]): a unique violation is a
//!   [`StoreError::Conflict`] on both; a value the engine cannot hold
//!   (PostgreSQL's data exceptions for text and numbers, SQLite's "too big")
//!   is a [`StoreError::Invalid`]; anything else (the connection, a
//!   timeout, a busy database, a constraint only a bug of ours can break) a
//!   [`StoreError::Backend`] (a 503). [`refused_for_a_value`] tells group
//!   commit which failures are about one write.
//!
//! What an engine does its own way beyond a statement stays in its store:
//! PostgreSQL's single-statement CTEs, advisory locks, `NOTIFY` and session
//! settings; SQLite's redemption script, journal settings and fresh codes.

use sqlx::error::DatabaseError;
use sqlx::postgres::PgDatabaseError;
use sqlx::sqlite::SqliteError;

use crate::primitives::{StoreError, TokenRecord};

/// SQLite's primary result codes that mean a refused value (the low byte
/// of an extended code): `SQLITE_TOOBIG`, `SQLITE_CONSTRAINT`,
/// `SQLITE_MISMATCH`.
const SQLITE_TOOBIG: i32 = 18;
const SQLITE_CONSTRAINT: i32 = 19;
const SQLITE_MISMATCH: i32 = 20;

/// SQLite's primary result code of `db`, if it is a SQLite error.
fn sqlite_code(db: &dyn DatabaseError) -> Option<i32> {
    let code = db.try_downcast_ref::<SqliteError>()?.code()?;
    code.parse::<i32>().ok().map(|c| c & 0xff)
}

/// PostgreSQL's SQLSTATE of `db`, if it is a PostgreSQL error.
fn sqlstate(db: &dyn DatabaseError) -> Option<&str> {
    Some(db.try_downcast_ref::<PgDatabaseError>()?.code())
}

/// Whether `db` refused a value a client can send: PostgreSQL's 22021 and
/// 22P05 (a NUL or untranslatable character in `TEXT`), 22001 and 22003 (a
/// string too long, a number out of range); SQLite's `SQLITE_TOOBIG`. Other
/// data errors are bugs of ours, not the client's.
fn refused_input(db: &dyn DatabaseError) -> bool {
    sqlstate(db).is_some_and(|code| matches!(code, "22021" | "22P05" | "22001" | "22003"))
        || sqlite_code(db) == Some(SQLITE_TOOBIG)
}

/// The [`StoreError`] of a failed statement on engine `DB`.
pub(crate) fn store_error<DB: sqlx::Database>(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return StoreError::Conflict(match db.constraint() {
                Some(constraint) => format!("a value of the unique key {constraint}"),
                None => db.message().to_owned(),
            });
        }
        if refused_input(db.as_ref()) {
            return StoreError::Invalid(db.message().to_owned());
        }
    }
    StoreError::Backend(format!("{}: {e}", DB::NAME))
}

/// Whether the engine refused a statement for a value it was given (an
/// integrity violation, a value it cannot hold), so that the same
/// statement without that value would pass: PostgreSQL's SQLSTATE classes
/// 22 and 23; SQLite's `SQLITE_CONSTRAINT`, `SQLITE_TOOBIG` and
/// `SQLITE_MISMATCH`.
pub(crate) fn refused_for_a_value(e: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = e else {
        return false;
    };
    let db = db.as_ref();
    sqlstate(db).is_some_and(|code| code.starts_with("22") || code.starts_with("23"))
        || sqlite_code(db)
            .is_some_and(|code| matches!(code, SQLITE_TOOBIG | SQLITE_CONSTRAINT | SQLITE_MISMATCH))
}

/// Whether `key` can be looked up at all: no stored key holds a NUL (see
/// [`storable`]), so a key with one matches nothing.
pub(crate) fn searchable(key: &str) -> bool {
    !key.contains('\0')
}

/// [`StoreError::Invalid`] if one of `values` holds a NUL character, which
/// PostgreSQL's `TEXT` cannot hold (and SQLite then refuses too).
pub(crate) fn storable<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<(), StoreError> {
    if values.into_iter().any(|v| v.contains('\0')) {
        return Err(StoreError::Invalid(
            "text holding a NUL character cannot be stored".into(),
        ));
    }
    Ok(())
}

/// [`storable`] for the text of a token.
pub(crate) fn storable_token(t: &TokenRecord) -> Result<(), StoreError> {
    storable([
        t.id.as_str(),
        t.client_id.as_str(),
        t.scopes.as_str(),
        t.family.as_str(),
    ])
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    /// One text with `$N` placeholders serves SQLite too: repeated and out
    /// of order, they are numbered, not positional.
    #[tokio::test]
    async fn sqlite_reads_numbered_dollar_placeholders() {
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .expect("in-memory SQLite");
        let (a, b, again): (i64, String, i64) = sqlx::query_as("SELECT $2, $1, $2")
            .bind("one")
            .bind(2_i64)
            .fetch_one(&mut conn)
            .await
            .expect("numbered placeholders");
        assert_eq!((a, b.as_str(), again), (2, "one", 2));
    }

    #[test]
    fn nul_characters_are_neither_stored_nor_searched() {
        assert!(super::storable(["ok", "fine"]).is_ok());
        assert!(matches!(
            super::storable(["ok", "n\0ul"]),
            Err(crate::primitives::StoreError::Invalid(_))
        ));
        assert!(super::searchable("app"));
        assert!(!super::searchable("app\0"));
    }
}
