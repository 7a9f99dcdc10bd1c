//! Group commit, for both SQL stores: concurrent writes share one
//! statement (or one script) and one commit, and every caller is answered
//! once its batch committed, so a write is durable before its future
//! completes, as without batching.
//!
//! The engine is generic over a [`Sink`]: how one store writes a batch.
//! Everything else is decided here, once, for both engines:
//!
//! - **Batching**: a writer takes whatever is queued, at most
//!   [`MAX_BATCH`], and commits it; nothing waits for a batch to fill, so an
//!   idle store writes a lone write at once and a busy one many per commit.
//!   512 was SQLite's figure, 64 PostgreSQL's; 512 is kept for both: under
//!   load a larger batch means fewer commits (SQLite's `fsync`s), a batch is
//!   only as large as what is queued (the README's benchmark never queues
//!   more than its 32 clients, so it cannot tell them apart), and 512 rows
//!   of 11 columns stay well under both engines' parameter limits.
//! - **Retry**: a batch refused for what one of its writes holds (a unique
//!   or check violation, a value the engine cannot hold: see
//!   [`Failure::of_a_write`]) is written again write by write, so that only
//!   the offending write fails, with its own error. Any other failure (the
//!   connection, a timeout, a busy database) fails the whole batch, the rest
//!   of a write-by-write pass and every write queued behind it at that
//!   moment with the same error, rather than have each batch meet the same
//!   failure in turn. (SQLite used to retry write by write on any failure,
//!   which only repeats a failure of the database once per write.)
//! - **Full queue**: a caller waits at most [`QUEUE_WAIT`] for room, then
//!   fails with [`StoreError::Backend`] (a 503), never forever.
//! - **Callers that have gone** (a cancelled request): their writes are
//!   written all the same, as a single statement sent a moment before the
//!   cancellation would be. The effect of a write then does not depend on
//!   whether its batch had started, and a redemption whose caller vanished
//!   still spends its code, so a retried exchange is a replay, as it would be
//!   after a lost response. (PostgreSQL's writer used to drop such tokens.)
//! - **Writers gone** (their thread ended): the caller fails with
//!   [`StoreError::Backend`].
//!
//! The writers run on a thread and a runtime of their own
//! ([`spawn_on_own_runtime`]), so that they serve callers on any runtime and
//! outlive the one that opened the store; callers reach them only through
//! channels, which work across runtimes.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, mpsc, oneshot};

use crate::primitives::StoreError;

/// The most writes one batch holds.
pub(super) const MAX_BATCH: usize = 512;

/// Writes queued before a caller waits for room.
const QUEUE: usize = 4 * MAX_BATCH;

/// How long a caller waits for room in a full queue before it fails.
pub(super) const QUEUE_WAIT: Duration = Duration::from_secs(10);

/// Why a batch failed, and whether for what one of its writes holds.
#[derive(Debug)]
pub(super) struct Failure {
    /// What the callers are answered.
    pub(super) error: StoreError,
    /// Whether the engine refused a value of one write (a constraint, a
    /// value it cannot hold) rather than failed itself: written one by one,
    /// only that write would fail.
    pub(super) of_a_write: bool,
}

impl Failure {
    /// The failure of a statement on engine `DB`.
    pub(super) fn of<DB: sqlx::Database>(e: sqlx::Error) -> Self {
        Self {
            of_a_write: super::sql::engine::refused_for_a_value(&e),
            error: super::sql::engine::store_error::<DB>(e),
        }
    }
}

impl From<StoreError> for Failure {
    /// A failure of the store itself (a row it cannot decode, ...).
    fn from(error: StoreError) -> Self {
        Self {
            error,
            of_a_write: false,
        }
    }
}

/// How one store writes a batch: the only engine-specific part of group
/// commit.
pub(super) trait Sink: Send + 'static {
    /// One queued write.
    type Write: Send + Sync + 'static;
    /// What a committed write answers its caller.
    type Done: Send + 'static;

    /// Writes `batch` in one transaction, all or nothing, and returns one
    /// outcome per write, in order. A batch of one is how a write is
    /// written alone.
    fn write(
        &mut self,
        batch: &[Self::Write],
    ) -> impl Future<Output = Result<Vec<Self::Done>, Failure>> + Send;

    /// Called once the queue is closed and drained and every writer is
    /// done, before the writers' thread ends.
    fn finish(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

type Reply<D> = oneshot::Sender<Result<D, StoreError>>;
type Queue<W, D> = Arc<Mutex<mpsc::Receiver<(W, Reply<D>)>>>;

/// The queue in front of a store's writers. Clones share it; the writers
/// and their thread stop once every clone is dropped and the queue is
/// drained.
pub(super) struct Writer<W, D> {
    queue: mpsc::Sender<(W, Reply<D>)>,
    /// The writers' name, for messages.
    name: &'static str,
}

impl<W, D> Clone for Writer<W, D> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
            name: self.name,
        }
    }
}

impl<W, D> std::fmt::Debug for Writer<W, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<W: Send + Sync + 'static, D: Send + 'static> Writer<W, D> {
    /// Starts one writer task per sink that `sinks` makes (on the writers'
    /// own thread and runtime, so that what the sinks open belongs to it),
    /// sharing one queue. A batch that takes longer than `limit` (if any)
    /// fails, and whether it committed is unknown.
    ///
    /// # Errors
    /// [`StoreError::Backend`] if the thread cannot start.
    pub(super) fn start<S, F>(
        name: &'static str,
        sinks: F,
        limit: Option<Duration>,
    ) -> Result<Self, StoreError>
    where
        S: Sink<Write = W, Done = D>,
        F: FnOnce() -> Vec<S> + Send + 'static,
    {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let receiver: Queue<W, D> = Arc::new(Mutex::new(receiver));
        spawn_on_own_runtime(name, move || async move {
            let tasks: Vec<_> = sinks()
                .into_iter()
                .map(|sink| tokio::spawn(write_batches(sink, Arc::clone(&receiver), limit)))
                .collect();
            let mut finished = Vec::with_capacity(tasks.len());
            for task in tasks {
                match task.await {
                    Ok(sink) => finished.push(sink),
                    Err(e) => tracing::error!("a writer of {name} stopped: {e}"),
                }
            }
            // Only once every writer is done: the sinks may share what
            // `finish` closes.
            for mut sink in finished {
                sink.finish().await;
            }
        })?;
        Ok(Self { queue, name })
    }

    /// Queues `write` for the next batch, returning its outcome once the
    /// batch committed.
    ///
    /// # Errors
    /// The store's answer for this write; [`StoreError::Backend`] if the
    /// queue stayed full for [`QUEUE_WAIT`] or the writers are gone.
    pub(super) async fn write(&self, write: W) -> Result<D, StoreError> {
        let (reply, answer) = oneshot::channel();
        // A timer only when the queue is full, not on every write.
        let queued = match self.queue.try_send((write, reply)) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(self.stopped()),
            Err(mpsc::error::TrySendError::Full(item)) => {
                match tokio::time::timeout(QUEUE_WAIT, self.queue.send(item)).await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(_)) => Err(self.stopped()),
                    Err(_) => Err(StoreError::Backend(format!(
                        "{}: {QUEUE} writes are waiting to be committed; \
                         none could join them for {} s",
                        self.name,
                        QUEUE_WAIT.as_secs()
                    ))),
                }
            }
        };
        queued?;
        answer.await.unwrap_or_else(|_| {
            // The writer dropped the write: its thread ended, maybe
            // mid-commit. Whether the commit happened is unknown.
            Err(StoreError::Backend(format!(
                "{}: the writer stopped before answering",
                self.name
            )))
        })
    }

    fn stopped(&self) -> StoreError {
        StoreError::Backend(format!("{}: the writer stopped", self.name))
    }
}

/// One writer: takes what is queued, commits it, answers, again, until
/// every sender is gone and the queue is empty; then returns its sink.
async fn write_batches<S: Sink>(
    mut sink: S,
    queue: Queue<S::Write, S::Done>,
    limit: Option<Duration>,
) -> S {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        {
            let mut receiver = queue.lock().await;
            if receiver.recv_many(&mut batch, MAX_BATCH).await == 0 {
                break;
            }
        }
        let (writes, replies): (Vec<_>, VecDeque<_>) = batch.drain(..).unzip();
        let mut replies = replies;
        let failed = match limit {
            None => commit(&mut sink, &writes, &mut replies).await,
            Some(limit) => {
                match tokio::time::timeout(limit, commit(&mut sink, &writes, &mut replies)).await {
                    Ok(failed) => failed,
                    Err(_) => {
                        // Whether the batch committed is unknown: its
                        // writes are never answered as done.
                        let e = StoreError::Backend(format!(
                            "no answer to a batch of writes within {} s",
                            limit.as_secs()
                        ));
                        fail(replies.drain(..), &e);
                        Some(e)
                    }
                }
            }
        };
        if let Some(e) = failed {
            // The same failure would meet everything queued now, once per
            // batch: answer it at once instead. If another writer holds the
            // queue, it is waiting on an empty one, and what arrives next is
            // not behind this failure.
            if let Ok(mut receiver) = queue.try_lock() {
                fail(
                    std::iter::from_fn(|| receiver.try_recv().ok()).map(|(_, reply)| reply),
                    &e,
                );
            }
        }
    }
    sink
}

/// Commits `writes` and answers each of `replies` (one per write, taken
/// from the front as they are answered). Returns the error if the batch
/// failed for a reason that is not about one of its writes.
async fn commit<S: Sink>(
    sink: &mut S,
    writes: &[S::Write],
    replies: &mut VecDeque<Reply<S::Done>>,
) -> Option<StoreError> {
    if writes.len() > 1 {
        match sink.write(writes).await {
            Ok(done) => {
                answer(replies, done, writes.len());
                return None;
            }
            Err(f) if f.of_a_write => {
                tracing::debug!(
                    size = writes.len(),
                    error = %f.error,
                    "batch refused for one of its writes; committing them one by one"
                );
            }
            Err(f) => {
                fail(replies.drain(..), &f.error);
                return Some(f.error);
            }
        }
    }
    for write in writes {
        match sink.write(std::slice::from_ref(write)).await {
            Ok(done) => answer(replies, done, 1),
            Err(f) if f.of_a_write => {
                if let Some(reply) = replies.pop_front() {
                    let _ = reply.send(Err(f.error));
                }
            }
            Err(f) => {
                // The database itself failed: the rest would too.
                fail(replies.drain(..), &f.error);
                return Some(f.error);
            }
        }
    }
    None
}

/// Answers the `written` callers at the front of `replies` with `done`,
/// one each. A caller that gave up is no error; a sink that returned fewer
/// outcomes than writes fails the callers it left out.
fn answer<D>(replies: &mut VecDeque<Reply<D>>, done: Vec<D>, written: usize) {
    let got = done.len().min(written);
    for outcome in done.into_iter().take(written) {
        if let Some(reply) = replies.pop_front() {
            let _ = reply.send(Ok(outcome));
        }
    }
    if got < written {
        let e = StoreError::Backend(format!(
            "the writer answered {got} of {written} writes of a batch"
        ));
        let left = (written - got).min(replies.len());
        fail(replies.drain(..left), &e);
    }
}

/// Answers every one of `replies` with `e`.
fn fail<D>(replies: impl Iterator<Item = Reply<D>>, e: &StoreError) {
    for reply in replies {
        let _ = reply.send(Err(e.duplicate()));
    }
}

/// Runs the future `writer()` makes on a thread named `name` with a
/// current-thread runtime of its own. The runtime is built on that thread,
/// and this returns once it is running, or with the reason it could not
/// start.
fn spawn_on_own_runtime<F, Fut>(name: &str, writer: F) -> Result<(), StoreError>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let cannot =
        |e: &dyn std::fmt::Display| StoreError::Backend(format!("cannot start {name}: {e}"));
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
