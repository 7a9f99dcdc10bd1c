//! Where a [`RateLimiter`](crate::RateLimiter) keeps its counters: the
//! [`CounterStore`] trait, its in-process [`MemoryStore`] and, with the
//! `redis` feature, `RedisStore`, shared by every instance. See the
//! [crate docs](crate#where-the-counters-live).

mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::future::Future;
use std::pin::Pin;

pub use self::memory::MemoryStore;
#[cfg(feature = "redis")]
pub use self::redis::RedisStore;
use crate::limiter::Decision;
use crate::rate::{Rate, Rates};

/// The future of a [`CounterStore`] call that has to wait.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, CounterError>> + Send + 'a>>;

/// Holds the counters of a [`RateLimiter`](crate::RateLimiter): one window
/// (its start and its count) per (bucket, ident).
///
/// One API, async-capable: [`count`](Self::count) and
/// [`status`](Self::status) return futures, which a store that has to ask
/// another process (Redis) resolves later. A store that answers from
/// memory also answers [`count_now`](Self::count_now) at once, so that the
/// guard's verdict is ready without a future being allocated: the hot
/// path of an in-process limiter costs no more than a function call.
///
/// A window of `rate` lasts [`Rate`]'s duration in whole seconds, at least
/// one and at most [`MAX_WINDOW`](crate::MAX_WINDOW), from the bucket's
/// first request; every store builds its [`Decision`]s the same way, so
/// that they answer alike for the same sequence of requests.
pub trait CounterStore: Send + Sync + std::fmt::Debug + 'static {
    /// Counts one request of `ident` in `bucket` at `now` (seconds since
    /// the epoch) if this store can answer without waiting, and returns
    /// its decision; `None` if it cannot, having counted nothing (then
    /// [`count`](Self::count) does). The default answers `None`.
    fn count_now(&self, bucket: &str, ident: &str, rate: Rate, now: u64) -> Option<Decision> {
        let _ = (bucket, ident, rate, now);
        None
    }

    /// Counts one request of `ident` in `bucket` at `now`. A store that
    /// answers at once may count when called, before the future is polled.
    ///
    /// # Errors
    /// [`CounterError`] if the store failed, timed out or is in its backoff.
    fn count<'a>(
        &'a self,
        bucket: &'a str,
        ident: &'a str,
        rate: Rate,
        now: u64,
    ) -> StoreFuture<'a, Decision>;

    /// The state at `now` of `ident`'s bucket of every name in `rates`,
    /// without counting a request, in the order of `rates`.
    ///
    /// # Errors
    /// [`CounterError`] if the store failed, timed out or is in its backoff.
    fn status<'a>(
        &'a self,
        ident: &'a str,
        rates: &'a Rates,
        now: u64,
    ) -> StoreFuture<'a, Vec<Decision>>;

    /// Whether the counters live outside this process (and are shared with
    /// other instances).
    fn is_shared(&self) -> bool;

    /// How many calls failed since the store was built (0 for a store
    /// that cannot fail).
    fn failures(&self) -> u64 {
        0
    }

    /// How many calls were not made since the store was built because it
    /// had failed recently (0 for a store that cannot fail).
    fn skips(&self) -> u64 {
        0
    }
}

/// Why a [`CounterStore`] could not count a request or read a bucket.
/// The in-process store never fails.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct CounterError {
    kind: CounterErrorKind,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl CounterError {
    /// An error of `kind`, caused by `source` if there is one.
    pub fn new(
        kind: CounterErrorKind,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self { kind, source }
    }

    /// What went wrong.
    pub fn kind(&self) -> CounterErrorKind {
        self.kind
    }
}

/// The kind of a [`CounterError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CounterErrorKind {
    /// The store's URL could not be read.
    InvalidUrl,
    /// The store did not answer within its timeout.
    Timeout,
    /// The store failed a moment ago and was not asked: its backoff is not
    /// over, or another request is probing it (counted in
    /// [`RateLimiter::store_skips`](crate::RateLimiter::store_skips), not
    /// in `store_failures`).
    Backoff,
    /// The store could not be reached, or answered with an error.
    Failed,
}

impl std::fmt::Display for CounterErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::InvalidUrl => "invalid counter store URL",
            Self::Timeout => "the counter store did not answer in time",
            Self::Backoff => {
                "the counter store failed recently and is not asked until its backoff ends"
            }
            Self::Failed => "the counter store failed",
        })
    }
}
