//! `RedisStore`: the counters in Redis, shared by every instance (the
//! `redis` feature). See the [crate docs](crate#where-the-counters-live)
//! for the key layout, the clocks and the failure policy.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ErrorKind, RedisError, RedisResult, ServerErrorKind};

use super::{CounterError, CounterErrorKind, CounterStore, StoreFuture};
use crate::limiter::Decision;
use crate::rate::{Rate, Rates};

/// Counts one request in one step (a script runs atomically): reads
/// the bucket `{start}:{count}`, opens a new window if there is none
/// or it ended, counts the request if the bucket is not empty, and
/// writes it back expiring at the window's end. A refused request in
/// a live window writes nothing. Mirrors `MemoryStore`'s count.
///
/// KEYS[1]: the bucket; ARGV: now (s), window (s, at most a year, so
/// that `EX` gets an integer), limit.
/// Returns {window start, count, allowed (0 or 1)}.
const HIT: &str = r"
local now = tonumber(ARGV[1])
local duration = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local start, count, fresh = now, 0, true
local value = redis.call('GET', KEYS[1])
if value then
  local s, c = string.match(value, '^(%d+):(%d+)$')
  if s and now < tonumber(s) + duration then
start, count, fresh = tonumber(s), tonumber(c), false
  end
end
local allowed = 0
if count < limit then
  count = count + 1
  allowed = 1
end
if allowed == 1 or fresh then
  redis.call('SET', KEYS[1], string.format('%d:%d', start, count), 'EX', start + duration - now)
end
return {start, count, allowed}
";

/// `resume_at` while the store answers: every request asks it.
const HEALTHY: u64 = 0;

/// Rate-limit counters in Redis, shared by every instance that points
/// at the same server and prefix. Build a limiter over it with
/// [`RateLimiter::with_store`](crate::RateLimiter::with_store); see the
/// [crate docs](crate#where-the-counters-live) for the key layout, the
/// clocks and the failure policy.
///
/// Use it within a Tokio runtime (the connection and the timeout need
/// one); building it needs none, and does not connect.
pub struct RedisStore {
    client: redis::Client,
    connection: Mutex<Slot>,
    hit: redis::Script,
    prefix: String,
    timeout: Duration,
    backoff: Duration,
    epoch: Instant,
    /// [`HEALTHY`], or the time (`millis`) until which the store is
    /// not asked (the end of a backoff, or of a probe's timeout).
    resume_at: AtomicU64,
    failures: AtomicU64,
    skips: AtomicU64,
}

/// The shared connection: `None` before the first request and after
/// a failure that may have left it hung. Its generation tells a
/// failed request whether the connection it used is still the shared
/// one (it drops only that one).
struct Slot {
    manager: Option<ConnectionManager>,
    generation: u64,
}

/// Whether a request may ask the store.
enum Admission {
    /// Yes: the store is healthy.
    Ask,
    /// Yes, as the one probe after a backoff, holding this lease on
    /// `resume_at`.
    Probe(u64),
    /// No: the store is in its backoff, or being probed.
    Skip,
}

impl RedisStore {
    /// A store on the server of `url`
    /// (`redis://[user:password@]host[:port][/db]`), keys prefixed
    /// `ratelimit:`, 100 ms timeout, 1 s backoff. Nothing is connected
    /// until the first request.
    ///
    /// # Errors
    /// [`CounterError`] of kind [`InvalidUrl`](CounterErrorKind::InvalidUrl)
    /// if `url` is not a Redis URL (the message never repeats it: it
    /// may hold a password).
    pub fn new(url: &str) -> Result<Self, CounterError> {
        let client = redis::Client::open(url)
            .map_err(|e| CounterError::new(CounterErrorKind::InvalidUrl, Some(Box::new(e))))?;
        Ok(Self {
            client,
            connection: Mutex::new(Slot {
                manager: None,
                generation: 0,
            }),
            hit: redis::Script::new(HIT),
            prefix: "ratelimit:".to_owned(),
            timeout: Duration::from_millis(100),
            backoff: Duration::from_secs(1),
            epoch: Instant::now(),
            resume_at: AtomicU64::new(HEALTHY),
            failures: AtomicU64::new(0),
            skips: AtomicU64::new(0),
        })
    }

    /// Prefixes every key with `prefix` (`ratelimit:` by default), to
    /// share one Redis between services or keep tests apart.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long one round trip (connecting included) may take before
    /// the request is let through (100 ms by default).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long the store is left alone after a failure, every request
    /// passing at once meanwhile (1 s by default; zero: the next
    /// request probes it at once). Then one request probes it while the
    /// others keep passing at once.
    #[must_use]
    pub fn backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    /// The key of `ident`'s counter in `bucket`:
    /// `{prefix}{bucket}:{ident}`. A `:` or `%` in `bucket` (which
    /// [`Rates`] never holds) is percent-escaped, so that the bucket
    /// always ends at the first `:` after the prefix and two buckets
    /// never share a key.
    pub fn key(&self, bucket: &str, ident: &str) -> String {
        let mut key = String::with_capacity(self.prefix.len() + bucket.len() + ident.len() + 1);
        key.push_str(&self.prefix);
        if bucket.contains([':', '%']) {
            for c in bucket.chars() {
                match c {
                    ':' => key.push_str("%3A"),
                    '%' => key.push_str("%25"),
                    c => key.push(c),
                }
            }
        } else {
            key.push_str(bucket);
        }
        key.push(':');
        key.push_str(ident);
        key
    }

    async fn hit(
        &self,
        bucket: &str,
        ident: &str,
        rate: Rate,
        now: u64,
    ) -> Result<Decision, CounterError> {
        let key = self.key(bucket, ident);
        let (started, count, allowed): (u64, u64, u8) = self
            .bounded(|mut connection| async move {
                let mut invocation = self.hit.prepare_invoke();
                invocation
                    .key(&key)
                    .arg(now)
                    .arg(rate.window_seconds())
                    .arg(rate.limit);
                invocation.invoke_async(&mut connection).await
            })
            .await?;
        // The script counts at most `limit` (a u32).
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        Ok(Decision::counted(
            bucket,
            rate,
            started,
            count,
            allowed == 1,
            now,
        ))
    }

    async fn read_status(
        &self,
        ident: &str,
        rates: &Rates,
        now: u64,
    ) -> Result<Vec<Decision>, CounterError> {
        let keys: Vec<String> = rates
            .iter()
            .map(|(bucket, _)| self.key(bucket, ident))
            .collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let values: Vec<Option<String>> = self
            .bounded(|mut connection| {
                let keys = &keys;
                async move {
                    redis::cmd("MGET")
                        .arg(keys)
                        .query_async(&mut connection)
                        .await
                }
            })
            .await?;
        if values.len() != keys.len() {
            return Err(CounterError::new(
                CounterErrorKind::Failed,
                Some("MGET answered a list of another length".into()),
            ));
        }
        Ok(rates
            .iter()
            .zip(values)
            .map(|((bucket, rate), value)| {
                Decision::current(bucket, rate, value.as_deref().and_then(parse_window), now)
            })
            .collect())
    }

    fn slot(&self) -> MutexGuard<'_, Slot> {
        // Nothing panics while holding the lock; and a slot is valid
        // in any state.
        self.connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The shared connection and its generation, created (not
    /// connected: that happens within the first request's timeout) if
    /// there is none. Creating it needs the Tokio runtime, which a
    /// caller of `new` may not be in. The lock is held only to clone
    /// (or create) the manager, never across a round trip.
    fn connection(&self) -> RedisResult<(u64, ConnectionManager)> {
        let mut slot = self.slot();
        if let Some(manager) = &slot.manager {
            return Ok((slot.generation, manager.clone()));
        }
        // No retries inside the manager: the backoff spaces them out,
        // and `bounded`'s timeout bounds each attempt. The manager's
        // own timeouts are longer, so that `bounded`'s fires first and
        // a late answer is always a `Timeout`; they only end what a
        // dropped connection still has under way.
        let inner_timeout = self.timeout.saturating_mul(2);
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(inner_timeout))
            .set_response_timeout(Some(inner_timeout))
            .set_number_of_retries(0);
        let manager = ConnectionManager::new_lazy_with_config(self.client.clone(), config)?;
        slot.generation += 1;
        slot.manager = Some(manager.clone());
        Ok((slot.generation, manager))
    }

    /// Drops the shared connection if it is still the one of
    /// `generation`, so that the next attempt opens a new one. Requests
    /// under way on it keep it until they end (or time out); then it
    /// closes.
    fn discard(&self, generation: u64) {
        let mut slot = self.slot();
        if slot.generation == generation {
            slot.manager = None;
        }
    }

    /// Milliseconds since `epoch`, plus one: never [`HEALTHY`], so
    /// that a backoff of zero started in the first millisecond is one.
    fn millis(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1)
    }

    fn as_millis(duration: Duration) -> u64 {
        u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether this request asks the store: always while it is healthy;
    /// never during a backoff; after it, only the first request, which
    /// takes a lease until its timeout runs out (a probe that has not
    /// answered by then lets the next request probe too).
    fn admit(&self) -> Admission {
        let resume_at = self.resume_at.load(Ordering::Acquire);
        if resume_at == HEALTHY {
            return Admission::Ask;
        }
        let now = self.millis();
        if now < resume_at {
            return Admission::Skip;
        }
        let lease = now.saturating_add(Self::as_millis(self.timeout));
        match self
            .resume_at
            .compare_exchange(resume_at, lease, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Admission::Probe(lease),
            // The probe before answered in the meantime.
            Err(HEALTHY) => Admission::Ask,
            // Another request probes it.
            Err(_) => Admission::Skip,
        }
    }

    /// Runs `op` on the shared connection within the timeout, if the
    /// store is to be asked (see [`admit`](Self::admit)); a skip is
    /// counted in `skips`. A failure is counted in `failures`, starts
    /// a backoff and, unless Redis answered it with a well-formed
    /// error, drops the connection.
    async fn bounded<T, F>(
        &self,
        op: impl FnOnce(ConnectionManager) -> F,
    ) -> Result<T, CounterError>
    where
        F: Future<Output = RedisResult<T>>,
    {
        let lease = match self.admit() {
            Admission::Ask => None,
            Admission::Probe(lease) => Some(lease),
            Admission::Skip => {
                self.skips.fetch_add(1, Ordering::Relaxed);
                return Err(CounterError::new(CounterErrorKind::Backoff, None));
            }
        };
        let (generation, outcome) = match self.connection() {
            Ok((generation, connection)) => (
                Some(generation),
                tokio::time::timeout(self.timeout, op(connection)).await,
            ),
            Err(e) => (None, Ok(Err(e))),
        };
        let (error, suspect) = match outcome {
            Ok(Ok(value)) => {
                if let Some(lease) = lease {
                    // Healthy again, unless another request failed
                    // meanwhile and started a new backoff.
                    let _ = self.resume_at.compare_exchange(
                        lease,
                        HEALTHY,
                        Ordering::AcqRel,
                        Ordering::Relaxed,
                    );
                }
                return Ok(value);
            }
            Ok(Err(e)) => {
                let suspect = connection_suspect(&e);
                let error = CounterError::new(CounterErrorKind::Failed, Some(Box::new(e)));
                (error, suspect)
            }
            // The manager's own response timeout (the same duration)
            // would fire a moment later and might not reconnect: the
            // connection may hang for good (no RST), so it goes.
            Err(_elapsed) => {
                let error = CounterError::new(CounterErrorKind::Timeout, None);
                (error, true)
            }
        };
        self.failures.fetch_add(1, Ordering::Relaxed);
        if let (Some(generation), true) = (generation, suspect) {
            self.discard(generation);
        }
        let resume_at = self.millis().saturating_add(Self::as_millis(self.backoff));
        self.resume_at.store(resume_at, Ordering::Release);
        Err(error)
    }
}

impl CounterStore for RedisStore {
    fn count<'a>(
        &'a self,
        bucket: &'a str,
        ident: &'a str,
        rate: Rate,
        now: u64,
    ) -> StoreFuture<'a, Decision> {
        Box::pin(self.hit(bucket, ident, rate, now))
    }

    fn status<'a>(
        &'a self,
        ident: &'a str,
        rates: &'a Rates,
        now: u64,
    ) -> StoreFuture<'a, Vec<Decision>> {
        Box::pin(self.read_status(ident, rates, now))
    }

    fn is_shared(&self) -> bool {
        true
    }

    fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    fn skips(&self) -> u64 {
        self.skips.load(Ordering::Relaxed)
    }
}

/// Whether `error` may come from a broken or hung connection: anything
/// but a well-formed answer of the server that the connection carried
/// (an error reply of the script, a reply of an unexpected type).
fn connection_suspect(error: &RedisError) -> bool {
    !matches!(
        error.kind(),
        ErrorKind::Server(ServerErrorKind::ResponseError) | ErrorKind::UnexpectedReturnType
    )
}

/// `{start}:{count}`, as the script writes it.
fn parse_window(value: &str) -> Option<(u64, u32)> {
    let (start, count) = value.split_once(':')?;
    Some((start.parse().ok()?, count.parse().ok()?))
}

impl std::fmt::Debug for RedisStore {
    // Not the client: its URL may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("backoff", &self.backoff)
            .field("failures", &self.failures.load(Ordering::Relaxed))
            .field("skips", &self.skips.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values() {
        let store = RedisStore::new("redis://127.0.0.1:6379/")
            .expect("url")
            .prefix("p:");
        assert_eq!(store.key("anonymous-list", "::1"), "p:anonymous-list:::1");
        assert_eq!(parse_window("1700000000:3"), Some((1_700_000_000, 3)));
        assert_eq!(parse_window("junk"), None);
        assert_eq!(parse_window("1:x"), None);
    }

    /// Bucket `a:b` with ident `c` and bucket `a` with ident `b:c` would
    /// both be `p:a:b:c` unescaped.
    #[test]
    fn a_colon_in_a_bucket_cannot_make_two_buckets_share_a_key() {
        let store = RedisStore::new("redis://127.0.0.1:6379/")
            .expect("url")
            .prefix("p:");
        assert_eq!(store.key("a", "b:c"), "p:a:b:c");
        assert_eq!(store.key("a:b", "c"), "p:a%3Ab:c");
        assert_eq!(store.key("a%3Ab", "c"), "p:a%253Ab:c");
        let keys = [
            store.key("a", "b:c"),
            store.key("a:b", "c"),
            store.key("a%3Ab", "c"),
            store.key("a:b:c", ""),
        ];
        for (i, x) in keys.iter().enumerate() {
            for y in &keys[i + 1..] {
                assert_ne!(x, y);
            }
        }
    }

    #[test]
    fn a_bad_url_is_refused_without_echoing_it() {
        let error = RedisStore::new("postgres://user:hunter2@host/").expect_err("not redis");
        assert_eq!(error.kind(), CounterErrorKind::InvalidUrl);
        assert!(!format!("{error} {:?}", std::error::Error::source(&error)).contains("hunter2"));
    }

    #[test]
    fn only_replies_of_the_server_keep_the_connection() {
        let reply = RedisError::from((ErrorKind::UnexpectedReturnType, "not a list"));
        assert!(!connection_suspect(&reply));
        let io = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(connection_suspect(&io));
    }
}
