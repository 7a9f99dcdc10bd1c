//! PostgreSQL's side of group commit: concurrent [`Store::insert_token`]
//! calls on one [`PgStore`] share one `INSERT` statement and one commit
//! (the engine, with its batching, retry and queue policies, is
//! [`group_commit`](crate::store::group_commit); this is its sink).
//!
//! Each token is its own transaction otherwise, and PostgreSQL spends most
//! of a one-row insert on the statement and the commit around it (with
//! pgbench on this project's `tokens` table, 16 clients inserting one row
//! per transaction stored about a third of what one client inserting 16
//! rows per statement did). Issuance is the only write that can batch this
//! way: a new token depends on no other row, while a code redemption or a
//! refresh rotation must decide against the row it spends.
//!
//! A few writer tasks (one sink each) share one queue. A batch is one
//! statement that `UNNEST`s the columns; a token alone is the plain
//! `INSERT`. Every caller is answered after the commit, so a token is
//! durable and visible to every instance before its response is sent, as
//! without batching.
//!
//! The writers run on a thread and a runtime of their own, with a pool of
//! their own (one connection per writer), and callers reach them only
//! through channels, which work across runtimes. A runtime that is left
//! idle or shut down (one built only to connect the store, or to set up a
//! test) holds no writer and no writer's connection, so it cannot hold up
//! the batches. (A connection is tied to the runtime that opened it: one
//! opened by a runtime that no longer runs never wakes its user. That
//! still holds for the store's own pool, which every other call uses: see
//! [`PgStore`].)
//!
//! As with a single insert, a connection lost after the commit reaches the
//! server fails tokens that were stored: they are never handed out, so
//! never used.
//!
//! [`Store::insert_token`]: crate::primitives::Store::insert_token
//! [`PgStore`]: super::PgStore

use sqlx::{PgPool, Postgres};

use super::statements::insert_token;
use crate::primitives::TokenRecord;
use crate::store::group_commit::{Failure, Sink};
use crate::store::sql::token_columns;

/// Stores the tokens of the arrays `$1..$11`, one per index.
const INSERT_TOKENS: &str = concat!(
    "INSERT INTO tokens (",
    token_columns!(),
    ") SELECT * FROM UNNEST($1::text[], $2::bytea[], $3::bytea[], $4::text[], $5::int8[], \
     $6::text[], $7::int8[], $8::int8[], $9::text[], $10::bytea[], $11::bool[])"
);

/// One writer task's sink: the writers' pool (one connection per writer).
pub(super) struct PgSink(pub(super) PgPool);

impl Sink for PgSink {
    type Write = TokenRecord;
    type Done = ();

    async fn write(&mut self, batch: &[TokenRecord]) -> Result<Vec<()>, Failure> {
        match batch {
            [token] => insert_token(&self.0, token).await,
            _ => insert_many(&self.0, batch).await,
        }
        .map_err(Failure::of::<Postgres>)?;
        Ok(vec![(); batch.len()])
    }

    async fn finish(&mut self) {
        self.0.close().await;
    }
}

async fn insert_many(pool: &PgPool, tokens: &[TokenRecord]) -> Result<(), sqlx::Error> {
    let tokens = || tokens.iter();
    sqlx::query(INSERT_TOKENS)
        .bind(tokens().map(|t| t.id.as_str()).collect::<Vec<_>>())
        .bind(
            tokens()
                .map(|t| t.access_hash.as_bytes().as_slice())
                .collect::<Vec<_>>(),
        )
        .bind(
            tokens()
                .map(|t| t.refresh_hash.as_ref().map(|h| h.as_bytes().as_slice()))
                .collect::<Vec<_>>(),
        )
        .bind(tokens().map(|t| t.client_id.as_str()).collect::<Vec<_>>())
        .bind(tokens().map(|t| t.user_id).collect::<Vec<_>>())
        .bind(tokens().map(|t| t.scopes.as_str()).collect::<Vec<_>>())
        .bind(tokens().map(|t| t.created_at).collect::<Vec<_>>())
        .bind(tokens().map(|t| t.expires_at).collect::<Vec<_>>())
        .bind(tokens().map(|t| t.family.as_str()).collect::<Vec<_>>())
        .bind(
            tokens()
                .map(|t| t.code_hash.as_ref().map(|h| h.as_bytes().as_slice()))
                .collect::<Vec<_>>(),
        )
        .bind(tokens().map(|t| t.revoked).collect::<Vec<_>>())
        .execute(pool)
        .await
        .map(drop)
}
