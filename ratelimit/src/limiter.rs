//! The limiter: a bucket's [`Decision`], and [`RateLimiter`], which
//! applies [`Rates`] over any [`CounterStore`].

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::rate::{Rate, Rates};
use crate::store::{CounterError, CounterStore, MemoryStore};

/// The state of one bucket after a request was counted (or, from
/// [`RateLimiter::status`], without counting one).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// The throttling bucket (Funkwhale calls it a scope).
    pub bucket: String,
    /// Its rate.
    pub rate: Rate,
    /// Requests left in the window (0 when refused).
    pub remaining: u32,
    /// Seconds until the window ends and the bucket is full again.
    pub reset_seconds: u64,
    /// Whether this request may proceed.
    pub allowed: bool,
}

impl Decision {
    /// A request of `bucket` counted (or refused) at `now` in the window
    /// that started at `started` and now holds `count` requests. Every
    /// store computes its answer here, so they answer alike.
    pub fn counted(
        bucket: &str,
        rate: Rate,
        started: u64,
        count: u32,
        allowed: bool,
        now: u64,
    ) -> Self {
        Decision {
            bucket: bucket.to_owned(),
            rate,
            remaining: rate.limit.saturating_sub(count),
            reset_seconds: started
                .saturating_add(rate.window_seconds())
                .saturating_sub(now),
            allowed,
        }
    }

    /// The bucket at `now`, given its last window (`started`, `count`) if
    /// it has one, without counting a request.
    pub fn current(bucket: &str, rate: Rate, window: Option<(u64, u32)>, now: u64) -> Self {
        let live =
            window.filter(|&(started, _)| now < started.saturating_add(rate.window_seconds()));
        let (count, reset_seconds) = live.map_or((0, 0), |(started, count)| {
            (
                count,
                started
                    .saturating_add(rate.window_seconds())
                    .saturating_sub(now),
            )
        });
        Decision {
            bucket: bucket.to_owned(),
            rate,
            remaining: rate.limit.saturating_sub(count),
            reset_seconds,
            allowed: count < rate.limit,
        }
    }
}

/// Counts requests per (throttling bucket, client) in fixed windows: see
/// the [crate docs](crate). Cheap to clone; clones share the counters.
///
/// The store is a `dyn` [`CounterStore`] rather than a type parameter: a
/// server picks it at start-up (in process, or Redis when configured), and
/// handlers find the limiter by its one type (in the request's
/// extensions, as Funkwhale's `GET /api/v1/rate-limit/` does).
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    rates: Rates,
    store: Box<dyn CounterStore>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("rates", &self.inner.rates)
            .field("store", &self.inner.store)
            .finish()
    }
}

/// Seconds since the epoch, on this instance's clock.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl RateLimiter {
    /// A limiter applying `rates` with counters in this process (a
    /// [`MemoryStore`]); requests in a bucket without a rate are not
    /// limited.
    pub fn new(rates: Rates) -> Self {
        Self::with_store(rates, MemoryStore::new())
    }

    /// A limiter applying `rates` with counters in `store` (a
    /// [`MemoryStore`], or with the `redis` feature a `RedisStore`).
    pub fn with_store(rates: Rates, store: impl CounterStore) -> Self {
        Self {
            inner: Arc::new(Inner {
                rates,
                store: Box::new(store),
            }),
        }
    }

    /// The rates applied.
    pub fn rates(&self) -> &Rates {
        &self.inner.rates
    }

    /// Where the counters live.
    pub fn store(&self) -> &dyn CounterStore {
        &*self.inner.store
    }

    /// Counts one request of `ident` in `bucket` at `now` (seconds since
    /// the epoch), wherever the counters are: what the guard does.
    /// `Ok(None)` if the bucket has no rate. In process it answers at
    /// once; in Redis it takes one round trip, within the store's timeout.
    ///
    /// # Errors
    /// [`CounterError`] if a shared store failed, timed out or is in its
    /// backoff (the guard then lets the request through).
    pub async fn count(
        &self,
        bucket: &str,
        ident: &str,
        now: u64,
    ) -> Result<Option<Decision>, CounterError> {
        let Some(rate) = self.inner.rates.get(bucket) else {
            return Ok(None);
        };
        let store = self.store();
        if let Some(decision) = store.count_now(bucket, ident, rate, now) {
            return Ok(Some(decision));
        }
        store.count(bucket, ident, rate, now).await.map(Some)
    }

    /// The current state of every bucket of `ident`, without
    /// counting a request (Funkwhale's `GET /api/v1/rate-limit/`),
    /// wherever the counters are (in Redis: one `MGET`, within the
    /// store's timeout).
    ///
    /// # Errors
    /// [`CounterError`] if a shared store failed, timed out or is in its
    /// backoff.
    pub async fn status(&self, ident: &str, now: u64) -> Result<Vec<Decision>, CounterError> {
        self.store().status(ident, &self.inner.rates, now).await
    }

    /// How many calls to the store failed (an error or a timeout) since
    /// this limiter was built; each started a backoff, and each failed
    /// count let a request through unlimited. Calls not made because of a
    /// backoff are [`store_skips`](Self::store_skips), not failures.
    /// Always 0 in process.
    pub fn store_failures(&self) -> u64 {
        self.store().failures()
    }

    /// How many counts (or status reads) did not ask the store since this
    /// limiter was built because it had failed recently: during a backoff,
    /// or while the one request after a backoff probed it (see the
    /// [crate docs](crate#when-redis-is-down-or-slow-fail-open)). Each
    /// skipped count let a request through unlimited, at once. Always 0 in
    /// process.
    pub fn store_skips(&self) -> u64 {
        self.store().skips()
    }
}
