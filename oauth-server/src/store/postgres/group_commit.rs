//! Group commit of new tokens: concurrent [`Store::insert_token`] calls on
//! one [`PgStore`] share one `INSERT` statement and one commit.
//!
//! Each token is its own transaction otherwise, and PostgreSQL spends most
//! of a one-row insert on the statement and the commit around it (with
//! pgbench on this project's `tokens` table, 16 clients inserting one row
//! per transaction stored about a third of what one client inserting 16
//! rows per statement did). Issuance is the only write that can batch this
//! way: a new token depends on no other row, while a code redemption or a
//! refresh rotation must decide against the row it spends.
//!
//! A few writer tasks share one queue. A writer takes whatever is queued
//! (at most [`MAX_BATCH`]) and commits it with one statement that
//! `UNNEST`s the columns, so an idle server writes a token alone at once
//! and a busy one writes many per commit; nothing waits for a batch to
//! fill. Every caller is answered after the commit, so a token is durable
//! and visible to every instance before its response is sent, as without
//! batching. A token whose caller has gone (its request was cancelled)
//! before its batch starts is not written: nobody holds it.
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
//! A batch that PostgreSQL refuses for one of its rows (a unique or check
//! violation, a value `TEXT` cannot hold) is written again row by row, so
//! that only the offending token fails, with its own error. Any other
//! failure (the connection, a timeout) fails the whole batch, the rest of a
//! row-by-row pass, and every token queued behind it at that moment with
//! the same error, rather than have each batch wait out the same timeout
//! in turn. As with a single
//! insert, a connection lost after the commit reaches the server fails
//! tokens that were stored: they are never handed out, so never used.
//!
//! [`Store::insert_token`]: crate::primitives::Store::insert_token
//! [`PgStore`]: super::PgStore

use std::sync::Arc;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::{INSERT_TOKEN, backend, bind_token};
use crate::primitives::{StoreError, TokenRecord};

/// The most tokens one statement writes.
pub(super) const MAX_BATCH: usize = 64;

/// Tokens queued before [`TokenWriter::insert`] waits for room.
const QUEUE: usize = 1024;

/// How long [`TokenWriter::insert`] waits for room in a full queue.
const QUEUE_WAIT: std::time::Duration = super::ACQUIRE_TIMEOUT;

/// Stores the tokens of the arrays `$1..$11`, one per index.
const INSERT_TOKENS: &str = concat!(
    "INSERT INTO tokens (",
    token_columns!(),
    ") SELECT * FROM UNNEST($1::text[], $2::bytea[], $3::bytea[], $4::text[], $5::int8[], \
     $6::text[], $7::int8[], $8::int8[], $9::text[], $10::bytea[], $11::bool[])"
);

type Reply = oneshot::Sender<Result<(), StoreError>>;
type Sender = mpsc::Sender<(TokenRecord, Reply)>;
type Queue = Arc<Mutex<mpsc::Receiver<(TokenRecord, Reply)>>>;

/// The queue in front of the writer tasks. Clones share it; the writers,
/// their pool and their thread stop once every clone is dropped and the
/// queue is drained.
#[derive(Clone, Debug)]
pub(super) struct TokenWriter {
    queue: Sender,
    /// The store's own pool, for a token that finds the writers gone.
    pool: PgPool,
}

impl TokenWriter {
    /// Starts `writers` writer tasks (at least one) on a thread of their
    /// own, with a pool of `writers_pool` connecting with `options`; a
    /// batch fails after `statement_timeout` and the pool's wait (never,
    /// if `statement_timeout` is zero).
    ///
    /// # Errors
    /// [`StoreError::Backend`] if the thread cannot start.
    pub(super) fn start(
        pool: &PgPool,
        writers_pool: PgPoolOptions,
        options: PgConnectOptions,
        writers: u32,
        statement_timeout: std::time::Duration,
    ) -> Result<Self, StoreError> {
        // A batch that gets no answer (a server that stopped answering
        // without closing the connection) fails after the longest a
        // healthy one can take, so that the callers behind it do not wait
        // on the kernel. None if statements may run as long as they like.
        let batch_limit = (!statement_timeout.is_zero()).then(|| statement_timeout + QUEUE_WAIT);
        let (queue, receiver) = mpsc::channel(QUEUE);
        let receiver: Queue = Arc::new(Mutex::new(receiver));
        super::super::spawn_on_own_runtime("pg-token-writer", move || async move {
            // Opened here, so that its connections belong to this runtime.
            let pool = writers_pool.connect_lazy_with(options);
            let tasks: Vec<_> = (0..writers.max(1))
                .map(|_| {
                    tokio::spawn(write_batches(
                        pool.clone(),
                        Arc::clone(&receiver),
                        batch_limit,
                    ))
                })
                .collect();
            for task in tasks {
                if let Err(e) = task.await {
                    tracing::error!("a PostgreSQL token writer stopped: {e}");
                }
            }
            pool.close().await;
        })?;
        Ok(Self {
            queue,
            pool: pool.clone(),
        })
    }

    /// Stores `token` in the next batch, returning once it is committed.
    ///
    /// # Errors
    /// The store's answer for this token.
    pub(super) async fn insert(&self, token: TokenRecord) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        // A timer only when the queue is full, not on every token.
        let queued = match self.queue.try_send((token, reply)) {
            Ok(()) => Ok(Ok(())),
            Err(mpsc::error::TrySendError::Closed(item)) => Ok(Err(mpsc::error::SendError(item))),
            Err(mpsc::error::TrySendError::Full(item)) => {
                tokio::time::timeout(QUEUE_WAIT, self.queue.send(item)).await
            }
        };
        match queued {
            Ok(Ok(())) => {}
            // The writers are gone (their thread panicked): write it here.
            Ok(Err(mpsc::error::SendError((token, _)))) => {
                return insert_one(&self.pool, &token).await;
            }
            Err(_) => {
                return Err(StoreError::Backend(format!(
                    "PostgreSQL: {QUEUE} tokens are waiting to be written; \
                     none could join them for {} s",
                    QUEUE_WAIT.as_secs()
                )));
            }
        }
        answer.await.unwrap_or_else(|_| {
            // The writer dropped the batch: its thread ended, maybe
            // mid-commit. Whether the commit happened is unknown.
            Err(StoreError::Backend(
                "PostgreSQL: the token writer stopped before answering".into(),
            ))
        })
    }
}

/// One writer: takes what is queued, commits it, answers, again.
async fn write_batches(pool: PgPool, queue: Queue, limit: Option<std::time::Duration>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let failed = {
            let mut receiver = queue.lock().await;
            if receiver.recv_many(&mut batch, MAX_BATCH).await == 0 {
                return; // every sender is gone and the queue is empty
            }
            drop(receiver);
            // Tokens nobody waits for any more are not written.
            batch.retain(|(_, reply): &(TokenRecord, Reply)| !reply.is_closed());
            match limit {
                None => commit(&pool, &mut batch).await,
                Some(limit) => match tokio::time::timeout(limit, commit(&pool, &mut batch)).await {
                    Ok(failed) => failed,
                    Err(_) => {
                        // Whether the batch committed is unknown: its
                        // tokens are never handed out.
                        let e = StoreError::Backend(format!(
                            "PostgreSQL: no answer to a batch of tokens within {} s",
                            limit.as_secs()
                        ));
                        fail(batch.drain(..).map(|(_, reply)| reply), &e);
                        Some(e)
                    }
                },
            }
        };
        if let Some(e) = failed {
            // The same failure would meet everything queued now, one
            // timeout per batch: answer it at once instead. If the other
            // writer holds the queue, it is waiting on an empty one, and
            // what arrives next is not behind this failure.
            if let Ok(mut receiver) = queue.try_lock() {
                fail(
                    std::iter::from_fn(|| receiver.try_recv().ok()).map(|(_, reply)| reply),
                    &e,
                );
            }
        }
    }
}

/// Commits `batch` and answers each of its callers, leaving it empty.
/// Returns the error if the whole batch failed for a reason that is not
/// about one of its rows.
async fn commit(pool: &PgPool, batch: &mut Vec<(TokenRecord, Reply)>) -> Option<StoreError> {
    if batch.len() < 2 {
        return write_rows(pool, batch).await;
    }
    match insert_many(pool, batch).await {
        Ok(()) => {
            for (_, reply) in batch.drain(..) {
                // A caller that gave up since still has its token stored,
                // as if it had given up a moment after a single insert.
                let _ = reply.send(Ok(()));
            }
            None
        }
        Err(e) if refused_for_a_row(&e) => write_rows(pool, batch).await,
        Err(e) => {
            let e = backend(e);
            fail(batch.drain(..).map(|(_, reply)| reply), &e);
            Some(e)
        }
    }
}

/// Writes `batch` row by row, each in its own statement, answering each
/// caller; a row PostgreSQL refuses fails only its own token. Stops at a
/// failure of the database itself, failing the rest, and returns it.
async fn write_rows(pool: &PgPool, batch: &mut Vec<(TokenRecord, Reply)>) -> Option<StoreError> {
    let mut rows = batch.drain(..);
    for (token, reply) in rows.by_ref() {
        match insert(pool, &token).await {
            Ok(()) => {
                let _ = reply.send(Ok(()));
            }
            Err(e) if refused_for_a_row(&e) => {
                let _ = reply.send(Err(backend(e)));
            }
            Err(e) => {
                // The database itself failed: the rest would too.
                let e = backend(e);
                fail(
                    std::iter::once(reply).chain(rows.map(|(_, reply)| reply)),
                    &e,
                );
                return Some(e);
            }
        }
    }
    None
}

/// Answers every one of `replies` with `e`.
fn fail(replies: impl Iterator<Item = Reply>, e: &StoreError) {
    for reply in replies {
        let _ = reply.send(Err(e.duplicate()));
    }
}

/// Stores one token in its own statement.
async fn insert_one(pool: &PgPool, token: &TokenRecord) -> Result<(), StoreError> {
    insert(pool, token).await.map_err(backend)
}

async fn insert(pool: &PgPool, token: &TokenRecord) -> Result<(), sqlx::Error> {
    bind_token(sqlx::query(INSERT_TOKEN), token)
        .execute(pool)
        .await
        .map(drop)
}

async fn insert_many(pool: &PgPool, batch: &[(TokenRecord, Reply)]) -> Result<(), sqlx::Error> {
    let tokens = || batch.iter().map(|(t, _)| t);
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

/// Whether PostgreSQL refused the batch for what a row holds: an integrity
/// violation (class 23: unique, check, not null, foreign key) or a data
/// exception (class 22: a NUL in `TEXT`, a value out of range). Written row
/// by row, only that row fails.
fn refused_for_a_row(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("23") || code.starts_with("22")),
        _ => false,
    }
}
