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
//! batching.
//!
//! A batch that PostgreSQL refuses for one of its rows (a unique or check
//! violation, a value `TEXT` cannot hold) is written again row by row, so
//! that only the offending token fails, with its own error. Any other
//! failure (the connection, a timeout) fails the whole batch: nothing of it
//! was committed.
//!
//! [`Store::insert_token`]: crate::primitives::Store::insert_token
//! [`PgStore`]: super::PgStore

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::{INSERT_TOKEN, backend, bind_token};
use crate::primitives::{StoreError, TokenRecord};

/// The most tokens one statement writes.
pub(super) const MAX_BATCH: usize = 64;

/// Tokens queued before [`TokenWriter::insert`] waits for room.
const QUEUE: usize = 1024;

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

/// The queue in front of the writer tasks.
///
/// The writers start with the first token, on the runtime of its caller
/// (the one serving requests, not necessarily the one that connected the
/// store), and start again on the caller's runtime if that runtime has shut
/// down. Clones share the queue; the writers stop once every clone is
/// dropped and the queue is drained.
#[derive(Clone, Debug)]
pub(super) struct TokenWriter {
    pool: PgPool,
    writers: usize,
    queue: Arc<std::sync::Mutex<Option<Sender>>>,
}

impl TokenWriter {
    /// A writer of `writers` tasks (at least one), each holding a
    /// connection of `pool` while it commits. No task starts yet.
    pub(super) fn new(pool: &PgPool, writers: usize) -> Self {
        Self {
            pool: pool.clone(),
            writers: writers.max(1),
            queue: Arc::default(),
        }
    }

    /// The queue, starting the writers on the current runtime if none run.
    fn sender(&self) -> Sender {
        // A poisoned lock only means a thread panicked while holding this
        // Option, which every path leaves valid.
        let mut queue = self
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &*queue {
            Some(sender) if !sender.is_closed() => sender.clone(),
            _ => {
                let (sender, receiver) = mpsc::channel(QUEUE);
                let receiver: Queue = Arc::new(Mutex::new(receiver));
                for _ in 0..self.writers {
                    tokio::spawn(write_batches(self.pool.clone(), Arc::clone(&receiver)));
                }
                queue.insert(sender).clone()
            }
        }
    }

    /// Stores `token` in the next batch, returning once it is committed.
    ///
    /// # Errors
    /// The store's answer for this token.
    pub(super) async fn insert(&self, token: TokenRecord) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError((token, _))) = self.sender().send((token, reply)).await {
            // The writers' runtime shut down just now: write it here.
            return insert_one(&self.pool, &token).await;
        }
        answer.await.unwrap_or_else(|_| {
            // The writer dropped the batch mid-commit: its runtime shut
            // down. Whether the commit happened is unknown.
            Err(StoreError::Backend(
                "PostgreSQL: the token writer stopped before answering".into(),
            ))
        })
    }
}

/// One writer: takes what is queued, commits it, answers, again.
async fn write_batches(pool: PgPool, queue: Queue) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        {
            let mut receiver = queue.lock().await;
            if receiver.recv_many(&mut batch, MAX_BATCH).await == 0 {
                return; // every sender is gone and the queue is empty
            }
        }
        commit(&pool, &mut batch).await;
    }
}

/// Commits `batch` and answers each of its callers, leaving it empty.
async fn commit(pool: &PgPool, batch: &mut Vec<(TokenRecord, Reply)>) {
    if let [(token, _)] = batch.as_slice() {
        let result = insert_one(pool, token).await;
        if let Some((_, reply)) = batch.pop() {
            let _ = reply.send(result);
        }
        return;
    }
    match insert_many(pool, batch).await {
        Ok(()) => {
            for (_, reply) in batch.drain(..) {
                // A caller that gave up (its request was cancelled) still
                // has its token stored, as if it had given up a moment
                // after a single insert.
                let _ = reply.send(Ok(()));
            }
        }
        Err(e) if refused_for_a_row(&e) => {
            for (token, reply) in batch.drain(..) {
                let result = insert_one(pool, &token).await;
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            let e = backend(e);
            for (_, reply) in batch.drain(..) {
                let _ = reply.send(Err(e.duplicate()));
            }
        }
    }
}

/// Stores one token in its own statement.
async fn insert_one(pool: &PgPool, token: &TokenRecord) -> Result<(), StoreError> {
    bind_token(sqlx::query(INSERT_TOKEN), token)
        .execute(pool)
        .await
        .map(drop)
        .map_err(backend)
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
