//! Rate limiting as Funkwhale's API readme describes it: per-scope buckets, `X-RateLimit-*`
//! headers on every response, 429 with `Retry-After` when a bucket is
//! empty. A [`Guard`], so it counts after authorization, per user.
//!
//! Each request falls in one *throttling scope* (not an OAuth scope):
//! `{anonymous|authenticated}-{action}`, where the action comes from the
//! method and the route template that matched, as Funkwhale's viewsets do:
//!
//! | route template | GET | POST | PUT, PATCH | DELETE |
//! |---|---|---|---|---|
//! | collection (no `{param}`) | `list` | `create` | `wildcard` | `wildcard` |
//! | detail (ends with `{param}`) | `retrieve` | `wildcard` | `update` | `destroy` |
//! | custom action (`{pk}/tracks/`) | `wildcard` | `wildcard` | `wildcard` | `wildcard` |
//!
//! A route whose handler names its own scope (`#[requires_scope(public,
//! throttle = "oauth-app")]`, as the OAuth server's app registration does)
//! counts in that scope instead, anonymous or not, as Funkwhale's
//! endpoint-specific scopes do.
//!
//! An authenticated request counts against its user (or its client, for an
//! app token); an anonymous one against its client's address
//! ([`client_ip`](crate::client_ip); serve with
//! `into_make_service_with_connect_info`). The rates are Funkwhale's
//! defaults ([`Rates::funkwhale`]), overridable with its
//! `THROTTLING_RATES` syntax ([`Rates::with_overrides`]).
//!
//! Windows are fixed: a bucket holds `limit` requests per `duration`,
//! starting at its first request (Django REST framework, under Funkwhale,
//! slides its window; a fixed one can let up to twice the limit through
//! around a window's end, and costs one counter instead of a timestamp per
//! request). Only requests that passed authorization are counted.
//!
//! Anonymous clients are told apart by their address
//! ([`client_ip`](crate::client_ip)): the connection's peer, or behind
//! the reverse proxies named in a [`TrustedProxies`](crate::client_ip::TrustedProxies)
//! the address they forwarded; IPv6 per /64. Without `ConnectInfo` they
//! all share `unknown`.
//!
//! ```
//! use scope_runtime::ratelimit::{Rates, RateLimiter};
//!
//! let rates = Rates::funkwhale().with_overrides("anonymous-list=10/hour,authenticated-create=2/minute")?;
//! assert_eq!(rates.get("anonymous-list").map(|r| r.limit), Some(10));
//! let limiter = RateLimiter::new(rates);
//! # let _ = limiter;
//! # Ok::<(), scope_runtime::ratelimit::RateError>(())
//! ```
//!
//! # Where the counters live
//!
//! A [`CounterStore`] holds them. The default,
//! [`CounterStore::in_process`] ([`RateLimiter::new`]), keeps them in this
//! process: each instance of a server counts on its own, and expired
//! windows are swept as new ones open, so memory stays bounded by the
//! number of clients active within the longest duration. The guard then
//! decides without waiting and without allocating a future.
//!
//! With the `redis` feature, a `RedisStore` keeps them in Redis, so that
//! every instance behind a load balancer counts against the same buckets;
//! limits, [`Decision`]s and headers are the same as in process for the
//! same sequence of requests. Each request costs one round trip: a Lua
//! script reads the bucket, opens a new window or counts the request, and
//! writes it back, atomically. A bucket is one key,
//! `{prefix}{scope}:{ident}` (prefix `ratelimit:` unless
//! set with `RedisStore::prefix`), holding `{window start}:{count}` and
//! expiring when its window ends. Scope names cannot contain `:`
//! ([`Rates::with_overrides`] refuses them), so the first `:` after the
//! prefix ends the scope and two buckets never share a key, whatever the
//! ident holds (`RedisStore::key`, given a scope with `:` or `%`
//! anyway, percent-escapes them). The window start is in the value rather
//! than the key because a window starts at its bucket's first request, as
//! in process, not at a multiple of its duration: `X-RateLimit-Reset`
//! stays what it was. [`RateLimiter::fetch_status`] reads every bucket of
//! a client with one `MGET`.
//!
//! The connection is opened on first use, so a limiter can be built
//! before Redis is up. After a timeout or a connection error it is
//! dropped, and the next attempt opens a new one: a connection that hangs
//! without being closed (a frozen server, a dropped route, no RST) costs
//! one timeout, not one per request until the kernel gives up on it.
//!
//! ## Clocks
//!
//! Times come from the instances' clocks, not from Redis': the guard
//! reads `now` on its instance and the script opens, ends and reports
//! windows with it (Redis' clock only expires the keys, at the end of the
//! window they hold). The instances' clocks must therefore agree, as NTP
//! keeps them: an instance whose clock is `d` seconds ahead sees every
//! window end `d` seconds early (it may open a new one while the others
//! still count in the old one, letting up to a further `limit` requests
//! through), one `d` behind sees them end `d` late and tells its clients
//! to wait `d` seconds more in `Retry-After`. A skew under a second
//! moves a window's end by at most one second. The `now` of
//! [`RateLimiter::count`] stays the caller's so that a store can be
//! tested with chosen times and answers exactly as in process.
//!
//! ## When Redis is down or slow: fail open
//!
//! Each round trip is bounded (`RedisStore::timeout`, 100 ms by
//! default). A request whose count fails or times out **passes**, without
//! `X-RateLimit-*` headers (nothing is known about its bucket), and is
//! counted in [`RateLimiter::store_failures`]. After a failure the store
//! is left alone for `RedisStore::backoff` (1 s by default): the requests
//! meanwhile pass at once, without headers, counted in
//! [`RateLimiter::store_skips`]. Once the backoff is over, the first
//! request to arrive *probes* the store, waiting at most the timeout;
//! every other request arriving while the probe runs (up to one timeout
//! after it started) passes at once too, as during the backoff. If the
//! probe succeeds every request asks the store again; if it fails another
//! backoff starts. So an outage delays one request per backoff by at most
//! one timeout, and no other (besides those already waiting for Redis
//! when it failed, each for at most its own timeout). Rate limiting protects the service; refusing
//! all traffic (or answering 500) because the limiter's store is away
//! would turn a Redis outage into an outage of the API. Watch
//! `store_failures` and `store_skips` to notice it.
//!
//! ```
//! # #[cfg(feature = "redis")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//!
//! use scope_runtime::ratelimit::{RateLimiter, Rates, RedisStore};
//!
//! // Parses the URL; connects on the first request.
//! let store = RedisStore::new("redis://127.0.0.1:6379/")?
//!     .prefix("my-pod:ratelimit:")
//!     .timeout(Duration::from_millis(50));
//! let limiter = RateLimiter::with_store(Rates::funkwhale(), store);
//! // On every instance: `Enforcer::new(validator).guard(limiter.clone())`.
//! # let _ = limiter;
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "redis"))]
//! # fn main() {}
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};

#[cfg(feature = "redis")]
#[doc(inline)]
pub use self::redis_store::RedisStore;
pub use crate::client_ip::peer_ip;
use crate::client_ip::{client_ip, limit_address};
use crate::guard::{Guard, GuardFuture, Verdict};
use crate::route::{Method, Route};
use crate::scope::Scope;
use crate::token::Principal;

/// A rate: `limit` requests per `duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per window.
    pub limit: u32,
    /// The window, counted in whole seconds: at least one second and at
    /// most [`MAX_WINDOW`] (a longer duration counts as that).
    pub duration: Duration,
}

/// The longest window a bucket keeps: a year (365 days). A [`Rate`] with a
/// longer duration counts in windows of a year, in process as in Redis
/// (whose key expiry takes whole seconds).
pub const MAX_WINDOW: Duration = Duration::from_secs(365 * 86_400);

/// A malformed rate or `THROTTLING_RATES` entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid rate {entry:?}: {reason}")]
pub struct RateError {
    entry: String,
    reason: &'static str,
}

impl std::str::FromStr for Rate {
    type Err = RateError;

    /// `N/PERIOD`, where the period is read from its first letter as
    /// Django REST framework does: `s`econd, `m`inute, `h`our, `d`ay
    /// (`10/hour`, `2/m`, `1000/day`).
    fn from_str(s: &str) -> Result<Self, RateError> {
        let err = |reason| RateError {
            entry: s.to_owned(),
            reason,
        };
        let (limit, period) = s.trim().split_once('/').ok_or(err("expected N/period"))?;
        let limit = limit
            .trim()
            .parse()
            .map_err(|_| err("the limit is not a whole number"))?;
        let seconds = match period.trim().chars().next() {
            Some('s') => 1,
            Some('m') => 60,
            Some('h') => 3600,
            Some('d') => 86_400,
            _ => return Err(err("the period must be second, minute, hour or day")),
        };
        Ok(Rate {
            limit,
            duration: Duration::from_secs(seconds),
        })
    }
}

/// The rate of each throttling scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rates(BTreeMap<String, Rate>);

impl Rates {
    /// No scope limited.
    pub fn empty() -> Self {
        Self(BTreeMap::new())
    }

    /// Funkwhale's default rates: the API scopes of its rate-limiting
    /// documentation ("Standard endpoints"), and the endpoint-specific
    /// scopes of its OAuth endpoints, which routes name with
    /// `#[requires_scope(.., throttle = "oauth-app")]` (registering apps
    /// 10/hour, authorizing, tokens and revocation 100/hour each; per
    /// address when anonymous). Introspection (`oauth-introspect`) has no
    /// default rate: a resource server introspects every token it is sent,
    /// junk included, from one address, and a limit there would let anyone
    /// make it refuse every user; set one with an override if you want.
    pub fn funkwhale() -> Self {
        const H: u64 = 3600;
        const D: u64 = 86_400;
        let table: [(&str, u32, u64); 16] = [
            ("oauth-app", 10, H),
            ("oauth-authorize", 100, H),
            ("oauth-token", 100, H),
            ("oauth-revoke", 100, H),
            ("anonymous-wildcard", 1000, H),
            ("authenticated-wildcard", 2000, H),
            ("anonymous-create", 1000, D),
            ("authenticated-create", 1000, H),
            ("anonymous-list", 10_000, D),
            ("authenticated-list", 10_000, H),
            ("anonymous-retrieve", 10_000, D),
            ("authenticated-retrieve", 10_000, H),
            ("anonymous-destroy", 1000, D),
            ("authenticated-destroy", 500, H),
            ("anonymous-update", 1000, D),
            ("authenticated-update", 1000, H),
        ];
        Self(
            table
                .into_iter()
                .map(|(name, limit, secs)| {
                    let duration = Duration::from_secs(secs);
                    (name.to_owned(), Rate { limit, duration })
                })
                .collect(),
        )
    }

    /// These rates with `overrides` applied, in Funkwhale's
    /// `THROTTLING_RATES` syntax: `scope=rate,scope=rate` (blank entries
    /// ignored; a scope not in the defaults is added).
    ///
    /// # Errors
    /// [`RateError`] on an entry without `=`, with a malformed rate, or
    /// with a scope name containing `:` (it would make the keys of a
    /// shared store ambiguous: see the
    /// [module docs](self#where-the-counters-live)).
    pub fn with_overrides(mut self, overrides: &str) -> Result<Self, RateError> {
        for entry in overrides
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let err = |reason| RateError {
                entry: entry.to_owned(),
                reason,
            };
            let (scope, rate) = entry.split_once('=').ok_or(err("expected scope=rate"))?;
            let scope = scope.trim();
            if scope.contains(':') {
                return Err(err("a scope name cannot contain ':'"));
            }
            self.0.insert(scope.to_owned(), rate.parse()?);
        }
        Ok(self)
    }

    /// The rate of `scope`.
    pub fn get(&self, scope: &str) -> Option<Rate> {
        self.0.get(scope).copied()
    }

    /// Every scope and its rate, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Rate)> {
        self.0.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

/// The state of one bucket after a request was counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The throttling scope.
    pub scope: String,
    /// Its rate.
    pub rate: Rate,
    /// Requests left in the window (0 when refused).
    pub remaining: u32,
    /// Seconds until the window ends and the bucket is full again.
    pub reset_seconds: u64,
    /// Whether this request may proceed.
    pub allowed: bool,
}

/// The length of `rate`'s windows in whole seconds: at least one, at most
/// [`MAX_WINDOW`].
fn window_seconds(rate: Rate) -> u64 {
    rate.duration.as_secs().clamp(1, MAX_WINDOW.as_secs())
}

impl Decision {
    /// A request of `scope` counted (or refused) at `now` in the window
    /// that started at `started` and now holds `count` requests. Every
    /// store computes its answer here, so they answer alike.
    fn counted(scope: &str, rate: Rate, started: u64, count: u32, allowed: bool, now: u64) -> Self {
        Decision {
            scope: scope.to_owned(),
            rate,
            remaining: rate.limit.saturating_sub(count),
            reset_seconds: started
                .saturating_add(window_seconds(rate))
                .saturating_sub(now),
            allowed,
        }
    }

    /// The bucket of `scope` at `now`, given its last window (`started`,
    /// `count`) if it has one, without counting a request.
    fn current(scope: &str, rate: Rate, window: Option<(u64, u32)>, now: u64) -> Self {
        let live =
            window.filter(|&(started, _)| now < started.saturating_add(window_seconds(rate)));
        let (count, reset_seconds) = live.map_or((0, 0), |(started, count)| {
            (
                count,
                started
                    .saturating_add(window_seconds(rate))
                    .saturating_sub(now),
            )
        });
        Decision {
            scope: scope.to_owned(),
            rate,
            remaining: rate.limit.saturating_sub(count),
            reset_seconds,
            allowed: count < rate.limit,
        }
    }
}

/// The in-process counters.
struct Windows {
    map: HashMap<(String, String), Window>,
    sweep_at: usize,
}

struct Window {
    started: u64,
    count: u32,
    duration: u64,
}

impl Windows {
    fn new() -> Self {
        Self {
            map: HashMap::new(),
            sweep_at: 1024,
        }
    }

    fn hit(&mut self, scope: &str, ident: &str, rate: Rate, now: u64) -> Decision {
        let duration = window_seconds(rate);
        if self.map.len() >= self.sweep_at {
            self.map
                .retain(|_, w| now < w.started.saturating_add(w.duration));
            self.sweep_at = (self.map.len() * 2).max(1024);
        }
        let window = self
            .map
            .entry((scope.to_owned(), ident.to_owned()))
            .or_insert(Window {
                started: now,
                count: 0,
                duration,
            });
        if now >= window.started.saturating_add(window.duration) {
            *window = Window {
                started: now,
                count: 0,
                duration,
            };
        }
        let allowed = window.count < rate.limit;
        if allowed {
            window.count += 1;
        }
        Decision::counted(scope, rate, window.started, window.count, allowed, now)
    }

    fn status(&self, ident: &str, rates: &Rates, now: u64) -> Vec<Decision> {
        rates
            .iter()
            .map(|(scope, rate)| {
                let window = self
                    .map
                    .get(&(scope.to_owned(), ident.to_owned()))
                    .map(|w| (w.started, w.count));
                Decision::current(scope, rate, window, now)
            })
            .collect()
    }
}

/// Where a [`RateLimiter`] keeps its counters: in this process (the
/// default) or, with the `redis` feature, in a `RedisStore` shared by
/// every instance. See the [module docs](self#where-the-counters-live).
pub struct CounterStore {
    kind: StoreKind,
}

enum StoreKind {
    InProcess(Mutex<Windows>),
    // Boxed: the in-process variant is much smaller.
    #[cfg(feature = "redis")]
    Redis(Box<RedisStore>),
}

impl CounterStore {
    /// Counters in this process: each instance counts on its own.
    pub fn in_process() -> Self {
        Self {
            kind: StoreKind::InProcess(Mutex::new(Windows::new())),
        }
    }

    /// Whether the counters live outside this process (and are shared with
    /// other instances).
    pub fn is_shared(&self) -> bool {
        !matches!(self.kind, StoreKind::InProcess(_))
    }

    /// The in-process counters, if they live here.
    fn windows(&self) -> Option<std::sync::MutexGuard<'_, Windows>> {
        match &self.kind {
            // A poisoned lock only means another request panicked
            // mid-update; the counters are still consistent enough to
            // rate-limit with.
            StoreKind::InProcess(windows) => Some(
                windows
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            ),
            #[cfg(feature = "redis")]
            StoreKind::Redis(_) => None,
        }
    }
}

impl Default for CounterStore {
    fn default() -> Self {
        Self::in_process()
    }
}

#[cfg(feature = "redis")]
impl From<RedisStore> for CounterStore {
    fn from(store: RedisStore) -> Self {
        Self {
            kind: StoreKind::Redis(Box::new(store)),
        }
    }
}

impl std::fmt::Debug for CounterStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            StoreKind::InProcess(_) => f.write_str("CounterStore::InProcess"),
            #[cfg(feature = "redis")]
            StoreKind::Redis(store) => f.debug_tuple("CounterStore::Redis").field(store).finish(),
        }
    }
}

/// Why a [`CounterStore`] could not count a request or read a bucket.
/// The in-process store never fails.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct StoreError {
    kind: StoreErrorKind,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    /// What went wrong.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }
}

/// The kind of a [`StoreError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The store's URL could not be read.
    InvalidUrl,
    /// The store did not answer within its timeout.
    Timeout,
    /// The store failed a moment ago and was not asked: its backoff is not
    /// over, or another request is probing it (counted in
    /// [`RateLimiter::store_skips`], not in `store_failures`).
    Backoff,
    /// The store could not be reached, or answered with an error.
    Failed,
}

impl std::fmt::Display for StoreErrorKind {
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

/// Counts requests per (throttling scope, client) in fixed windows: see
/// the [module docs](self). Cheap to clone; clones share the counters.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    rates: Rates,
    store: CounterStore,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("rates", &self.inner.rates)
            .field("store", &self.inner.store)
            .finish()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl RateLimiter {
    /// A limiter applying `rates` with counters in this process; requests
    /// in a scope without a rate are not limited.
    pub fn new(rates: Rates) -> Self {
        Self::with_store(rates, CounterStore::in_process())
    }

    /// A limiter applying `rates` with counters in `store` (a
    /// [`CounterStore`], or with the `redis` feature a `RedisStore`).
    pub fn with_store(rates: Rates, store: impl Into<CounterStore>) -> Self {
        Self {
            inner: Arc::new(Inner {
                rates,
                store: store.into(),
            }),
        }
    }

    /// The rates applied.
    pub fn rates(&self) -> &Rates {
        &self.inner.rates
    }

    /// Where the counters live.
    pub fn store(&self) -> &CounterStore {
        &self.inner.store
    }

    /// Counts one request of `ident` in `scope` at `now` (seconds since the
    /// epoch) in the in-process counters; `None` if the scope has no rate,
    /// or if the counters are [shared](CounterStore::is_shared) (this
    /// process holds none: use [`count`](Self::count)).
    pub fn hit(&self, scope: &str, ident: &str, now: u64) -> Option<Decision> {
        let rate = self.inner.rates.get(scope)?;
        Some(self.inner.store.windows()?.hit(scope, ident, rate, now))
    }

    /// The current state of `ident`'s bucket in every scope, without
    /// counting a request (Funkwhale's `GET /api/v1/rate-limit/`), from the
    /// in-process counters. Empty if the counters are
    /// [shared](CounterStore::is_shared): use
    /// [`fetch_status`](Self::fetch_status), which reads any store.
    pub fn status(&self, ident: &str, now: u64) -> Vec<Decision> {
        self.inner
            .store
            .windows()
            .map_or_else(Vec::new, |w| w.status(ident, &self.inner.rates, now))
    }

    /// Counts one request of `ident` in `scope` at `now` (seconds since the
    /// epoch), wherever the counters are: what the guard does. `Ok(None)`
    /// if the scope has no rate. In process it answers at once; in Redis
    /// it takes one round trip, within the store's timeout.
    ///
    /// # Errors
    /// [`StoreError`] if a shared store failed, timed out or is in its
    /// backoff (the guard then lets the request through).
    pub async fn count(
        &self,
        scope: &str,
        ident: &str,
        now: u64,
    ) -> Result<Option<Decision>, StoreError> {
        let Some(rate) = self.inner.rates.get(scope) else {
            return Ok(None);
        };
        match &self.inner.store.kind {
            StoreKind::InProcess(_) => Ok(self
                .inner
                .store
                .windows()
                .map(|mut w| w.hit(scope, ident, rate, now))),
            #[cfg(feature = "redis")]
            StoreKind::Redis(store) => store.hit(scope, ident, rate, now).await.map(Some),
        }
    }

    /// The current state of `ident`'s bucket in every scope, without
    /// counting a request, wherever the counters are (in Redis: one
    /// `MGET`, within the store's timeout).
    ///
    /// # Errors
    /// [`StoreError`] if a shared store failed, timed out or is in its
    /// backoff.
    pub async fn fetch_status(&self, ident: &str, now: u64) -> Result<Vec<Decision>, StoreError> {
        match &self.inner.store.kind {
            StoreKind::InProcess(_) => Ok(self.status(ident, now)),
            #[cfg(feature = "redis")]
            StoreKind::Redis(store) => store.status(ident, &self.inner.rates, now).await,
        }
    }

    /// How many calls to the store failed (an error or a timeout) since
    /// this limiter was built; each started a backoff, and each failed
    /// count let a request through unlimited. Calls not made because of a
    /// backoff are [`store_skips`](Self::store_skips), not failures.
    /// Always 0 in process.
    pub fn store_failures(&self) -> u64 {
        match &self.inner.store.kind {
            StoreKind::InProcess(_) => 0,
            #[cfg(feature = "redis")]
            StoreKind::Redis(store) => store.failures(),
        }
    }

    /// How many counts (or status reads) did not ask the store since this
    /// limiter was built because it had failed recently: during a backoff,
    /// or while the one request after a backoff probed it (see the
    /// [module docs](self#when-redis-is-down-or-slow-fail-open)). Each
    /// skipped count let a request through unlimited, at once. Always 0 in
    /// process.
    pub fn store_skips(&self) -> u64 {
        match &self.inner.store.kind {
            StoreKind::InProcess(_) => 0,
            #[cfg(feature = "redis")]
            StoreKind::Redis(store) => store.skips(),
        }
    }
}

/// Who a request counts against: `authenticated` and the user (or client)
/// id, or `anonymous` and the client's address ([`client_ip`], IPv6 per
/// /64).
pub fn ident<S: Scope>(
    principal: Option<&Principal<S>>,
    request: &Request<Body>,
) -> (&'static str, String) {
    match principal {
        Some(p) => match p.user_id() {
            Some(user) => ("authenticated", format!("user:{user}")),
            None => ("authenticated", format!("client:{}", p.client_id())),
        },
        None => {
            let ip = client_ip(request.headers(), request.extensions())
                .map_or_else(|| "unknown".to_owned(), |ip| limit_address(ip).to_string());
            ("anonymous", ip)
        }
    }
}

/// The action of a request to `route`, as the table in the
/// [module docs](self) gives it.
pub fn action<S: Scope>(route: &Route<S>) -> &'static str {
    let path = route.path().trim_end_matches('/');
    let last_is_param = path.rsplit('/').next().is_some_and(|s| s.starts_with('{'));
    let has_param = path.contains('{');
    match (route.method(), has_param, last_is_param) {
        (Method::Get | Method::Head, false, _) => "list",
        (Method::Post, false, _) => "create",
        (Method::Get | Method::Head, true, true) => "retrieve",
        (Method::Put | Method::Patch, true, true) => "update",
        (Method::Delete, true, true) => "destroy",
        _ => "wildcard",
    }
}

fn header(value: impl ToString) -> HeaderValue {
    // Digits and scope names only: always a valid header value.
    HeaderValue::from_str(&value.to_string()).unwrap_or(HeaderValue::from_static("0"))
}

impl Decision {
    /// Funkwhale's headers: `X-RateLimit-Limit`, `-Duration`, `-Scope`,
    /// `-Remaining`, `-Reset` (a Unix time), `-ResetSeconds`, `-Available`,
    /// `-AvailableSeconds`, and `Retry-After` when refused.
    pub fn headers(&self, now: u64) -> HeaderMap {
        // The next request waits for the window's end once the bucket is
        // empty, including right after the request that emptied it.
        let available_seconds = if self.remaining > 0 {
            0
        } else {
            self.reset_seconds
        };
        let pairs: [(&str, HeaderValue); 8] = [
            ("x-ratelimit-limit", header(self.rate.limit)),
            ("x-ratelimit-duration", header(window_seconds(self.rate))),
            ("x-ratelimit-scope", header(&self.scope)),
            ("x-ratelimit-remaining", header(self.remaining)),
            ("x-ratelimit-reset", header(now + self.reset_seconds)),
            ("x-ratelimit-resetseconds", header(self.reset_seconds)),
            ("x-ratelimit-available", header(now + available_seconds)),
            ("x-ratelimit-availableseconds", header(available_seconds)),
        ];
        let mut headers = HeaderMap::with_capacity(9);
        for (name, value) in pairs {
            headers.insert(HeaderName::from_static(name), value);
        }
        if !self.allowed {
            headers.insert(http::header::RETRY_AFTER, header(self.reset_seconds));
        }
        headers
    }
}

/// The guard's answer for a request counted as `decision` at `now`
/// (`None`: not limited, or not counted).
fn verdict(decision: Option<Decision>, now: u64) -> Verdict {
    let Some(decision) = decision else {
        return Verdict::Pass(HeaderMap::new());
    };
    let headers = decision.headers(now);
    if decision.allowed {
        return Verdict::Pass(headers);
    }
    let body = serde_json::json!({
        "detail": format!(
            "Request was throttled. Expected available in {} seconds.",
            decision.reset_seconds
        )
    });
    let mut response = axum::response::Response::new(Body::from(body.to_string()));
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    response.headers_mut().extend(headers);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Verdict::Reject(response)
}

/// In process the verdict is ready at once (no future is allocated); over
/// Redis the guard's future does the round trip and fails open (see the
/// [module docs](self#when-redis-is-down-or-slow-fail-open)).
impl<S: Scope> Guard<S> for RateLimiter {
    fn check(
        &self,
        route: &Route<S>,
        principal: Option<&Principal<S>>,
        request: &Request<Body>,
    ) -> GuardFuture {
        let (kind, ident) = ident(principal, request);
        let scope = match route.throttle() {
            // A route's own throttling scope counts anonymous and
            // authenticated requests alike, as Funkwhale's do.
            Some(throttle) => throttle.to_owned(),
            None => {
                let mut scope = String::with_capacity(24);
                scope.push_str(kind);
                scope.push('-');
                scope.push_str(action(route));
                scope
            }
        };
        let now = unix_now();
        match &self.inner.store.kind {
            StoreKind::InProcess(_) => verdict(self.hit(&scope, &ident, now), now).into(),
            #[cfg(feature = "redis")]
            StoreKind::Redis(_) => {
                if self.inner.rates.get(&scope).is_none() {
                    return Verdict::Pass(HeaderMap::new()).into();
                }
                let limiter = self.clone();
                GuardFuture::new(async move {
                    // Fail open: an error is counted in `store_failures`
                    // and the request passes without headers.
                    let decision = limiter.count(&scope, &ident, now).await.ok().flatten();
                    verdict(decision, now)
                })
            }
        }
    }
}

#[cfg(feature = "redis")]
mod redis_store {
    use std::future::Future;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Mutex, MutexGuard, PoisonError};
    use std::time::{Duration, Instant};

    use redis::aio::{ConnectionManager, ConnectionManagerConfig};
    use redis::{ErrorKind, RedisError, RedisResult, ServerErrorKind};

    use super::{Decision, Rate, Rates, StoreError, StoreErrorKind, window_seconds};

    /// Counts one request in one step (a script runs atomically): reads
    /// the bucket `{start}:{count}`, opens a new window if there is none
    /// or it ended, counts the request if the bucket is not empty, and
    /// writes it back expiring at the window's end. A refused request in
    /// a live window writes nothing. Mirrors `Windows::hit`.
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
    /// [`RateLimiter::with_store`](super::RateLimiter::with_store); see the
    /// [module docs](super#where-the-counters-live) for the key layout, the
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
        /// [`StoreError`] of kind [`InvalidUrl`](StoreErrorKind::InvalidUrl)
        /// if `url` is not a Redis URL (the message never repeats it: it
        /// may hold a password).
        pub fn new(url: &str) -> Result<Self, StoreError> {
            let client = redis::Client::open(url).map_err(|e| StoreError {
                kind: StoreErrorKind::InvalidUrl,
                source: Some(Box::new(e)),
            })?;
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

        /// The key of `ident`'s bucket in `scope`:
        /// `{prefix}{scope}:{ident}`. A `:` or `%` in `scope` (which
        /// [`Rates`] never holds) is percent-escaped, so that the scope
        /// always ends at the first `:` after the prefix and two buckets
        /// never share a key.
        pub fn key(&self, scope: &str, ident: &str) -> String {
            let mut key = String::with_capacity(self.prefix.len() + scope.len() + ident.len() + 1);
            key.push_str(&self.prefix);
            if scope.contains([':', '%']) {
                for c in scope.chars() {
                    match c {
                        ':' => key.push_str("%3A"),
                        '%' => key.push_str("%25"),
                        c => key.push(c),
                    }
                }
            } else {
                key.push_str(scope);
            }
            key.push(':');
            key.push_str(ident);
            key
        }

        pub(super) async fn hit(
            &self,
            scope: &str,
            ident: &str,
            rate: Rate,
            now: u64,
        ) -> Result<Decision, StoreError> {
            let key = self.key(scope, ident);
            let (started, count, allowed): (u64, u64, u8) = self
                .bounded(|mut connection| async move {
                    let mut invocation = self.hit.prepare_invoke();
                    invocation
                        .key(&key)
                        .arg(now)
                        .arg(window_seconds(rate))
                        .arg(rate.limit);
                    invocation.invoke_async(&mut connection).await
                })
                .await?;
            // The script counts at most `limit` (a u32).
            let count = u32::try_from(count).unwrap_or(u32::MAX);
            Ok(Decision::counted(
                scope,
                rate,
                started,
                count,
                allowed == 1,
                now,
            ))
        }

        pub(super) async fn status(
            &self,
            ident: &str,
            rates: &Rates,
            now: u64,
        ) -> Result<Vec<Decision>, StoreError> {
            let keys: Vec<String> = rates
                .iter()
                .map(|(scope, _)| self.key(scope, ident))
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
                return Err(StoreError {
                    kind: StoreErrorKind::Failed,
                    source: Some("MGET answered a list of another length".into()),
                });
            }
            Ok(rates
                .iter()
                .zip(values)
                .map(|((scope, rate), value)| {
                    Decision::current(scope, rate, value.as_deref().and_then(parse_window), now)
                })
                .collect())
        }

        pub(super) fn failures(&self) -> u64 {
            self.failures.load(Ordering::Relaxed)
        }

        pub(super) fn skips(&self) -> u64 {
            self.skips.load(Ordering::Relaxed)
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
            match self.resume_at.compare_exchange(
                resume_at,
                lease,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
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
        ) -> Result<T, StoreError>
        where
            F: Future<Output = RedisResult<T>>,
        {
            let lease = match self.admit() {
                Admission::Ask => None,
                Admission::Probe(lease) => Some(lease),
                Admission::Skip => {
                    self.skips.fetch_add(1, Ordering::Relaxed);
                    return Err(StoreError {
                        kind: StoreErrorKind::Backoff,
                        source: None,
                    });
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
                    let error = StoreError {
                        kind: StoreErrorKind::Failed,
                        source: Some(Box::new(e)),
                    };
                    (error, suspect)
                }
                // The manager's own response timeout (the same duration)
                // would fire a moment later and might not reconnect: the
                // connection may hang for good (no RST), so it goes.
                Err(_elapsed) => {
                    let error = StoreError {
                        kind: StoreErrorKind::Timeout,
                        source: None,
                    };
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
                .field("failures", &self.failures())
                .field("skips", &self.skips())
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

        /// Scope `a:b` with ident `c` and scope `a` with ident `b:c` would
        /// both be `p:a:b:c` unescaped.
        #[test]
        fn a_colon_in_a_scope_cannot_make_two_buckets_share_a_key() {
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
            assert_eq!(error.kind(), StoreErrorKind::InvalidUrl);
            assert!(
                !format!("{error} {:?}", std::error::Error::source(&error)).contains("hunter2")
            );
        }

        #[test]
        fn only_replies_of_the_server_keep_the_connection() {
            let reply = RedisError::from((ErrorKind::UnexpectedReturnType, "not a list"));
            assert!(!connection_suspect(&reply));
            let io = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
            assert!(connection_suspect(&io));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_drf_periods() {
        assert_eq!(
            "10/hour".parse::<Rate>(),
            Ok(Rate {
                limit: 10,
                duration: Duration::from_secs(3600)
            })
        );
        assert_eq!(
            "2/m".parse::<Rate>().map(|r| r.duration),
            Ok(Duration::from_secs(60))
        );
        assert!("ten/hour".parse::<Rate>().is_err());
        assert!("10/fortnight".parse::<Rate>().is_err());
        assert!("10".parse::<Rate>().is_err());
        assert!(Rates::funkwhale().with_overrides("anonymous-list").is_err());
        // `a:b` + ident `c` and `a` + ident `b:c` would share a key in
        // Redis.
        let colon = Rates::empty().with_overrides("a:b=1/s").expect_err("colon");
        assert!(colon.to_string().contains("':'"), "{colon}");
        let rates = Rates::funkwhale()
            .with_overrides(" anonymous-list=10/hour , ,custom=1/s")
            .expect("valid");
        assert_eq!(rates.get("anonymous-list").map(|r| r.limit), Some(10));
        assert_eq!(rates.get("custom").map(|r| r.limit), Some(1));
        assert_eq!(
            rates.get("authenticated-destroy").map(|r| r.limit),
            Some(500)
        );
    }

    #[test]
    fn a_bucket_empties_then_refills_after_its_window() {
        let limiter = RateLimiter::new(Rates::empty().with_overrides("s=2/minute").expect("rate"));
        let first = limiter.hit("s", "a", 1000).expect("limited scope");
        assert!(first.allowed);
        assert_eq!(first.remaining, 1);
        assert_eq!(first.reset_seconds, 60);
        assert!(limiter.hit("s", "a", 1010).expect("scope").allowed);
        let refused = limiter.hit("s", "a", 1020).expect("scope");
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        assert_eq!(refused.reset_seconds, 40);
        // Another client has its own bucket.
        assert!(limiter.hit("s", "b", 1020).expect("scope").allowed);
        // The window is over.
        let later = limiter.hit("s", "a", 1060).expect("scope");
        assert!(later.allowed);
        assert_eq!(later.remaining, 1);
        assert!(limiter.hit("unlimited", "a", 1060).is_none());
        let status = limiter.status("a", 1061);
        assert_eq!(status.len(), 1);
        assert_eq!(status[0].remaining, 1);
    }

    /// A window longer than a year counts as a year (Redis' `EX` would
    /// get a float, and refuse it, for a huge one).
    #[test]
    fn huge_durations_are_clamped_to_a_year() {
        let year = MAX_WINDOW.as_secs();
        let mut rates = Rates::empty();
        for (name, duration) in [("huge", Duration::MAX), ("long", MAX_WINDOW * 3)] {
            let rate = Rate { limit: 1, duration };
            rates.0.insert(name.to_owned(), rate);
        }
        let limiter = RateLimiter::new(rates);
        for scope in ["huge", "long"] {
            let first = limiter.hit(scope, "a", 1000).expect("limited");
            assert_eq!(first.reset_seconds, year, "{scope}");
            assert_eq!(
                first.headers(1000)["x-ratelimit-duration"],
                &year.to_string()
            );
            assert!(
                !limiter
                    .hit(scope, "a", 1000 + year - 1)
                    .expect("limited")
                    .allowed
            );
            assert!(
                limiter
                    .hit(scope, "a", 1000 + year)
                    .expect("limited")
                    .allowed
            );
        }
    }

    #[test]
    fn headers_say_when_to_come_back() {
        let limiter = RateLimiter::new(Rates::empty().with_overrides("s=1/hour").expect("rate"));
        let _ = limiter.hit("s", "a", 100);
        let refused = limiter.hit("s", "a", 160).expect("scope");
        let h = refused.headers(160);
        assert_eq!(h["x-ratelimit-scope"], "s");
        assert_eq!(h["x-ratelimit-limit"], "1");
        assert_eq!(h["x-ratelimit-remaining"], "0");
        assert_eq!(h["x-ratelimit-duration"], "3600");
        assert_eq!(h["x-ratelimit-reset"], "3700");
        assert_eq!(h["retry-after"], "3540");
    }

    #[test]
    fn expired_windows_are_swept() {
        let limiter = RateLimiter::new(Rates::empty().with_overrides("s=5/second").expect("rate"));
        for i in 0..5000 {
            let _ = limiter.hit("s", &i.to_string(), 10);
        }
        // New clients arrive after those windows ended: the map is swept
        // when it doubles instead of holding every client ever seen.
        for i in 0..4000 {
            let _ = limiter.hit("s", &format!("late{i}"), 100);
        }
        let windows = limiter.inner.store.windows().expect("in process");
        assert!(windows.map.len() <= 4000, "{}", windows.map.len());
    }

    #[tokio::test]
    async fn count_and_fetch_status_agree_with_the_sync_calls() {
        let rates = Rates::empty().with_overrides("s=2/minute").expect("rate");
        let sync = RateLimiter::new(rates.clone());
        let counted = RateLimiter::new(rates);
        for now in [1000, 1010, 1020, 1060] {
            assert_eq!(
                counted.count("s", "a", now).await.expect("in process"),
                sync.hit("s", "a", now)
            );
        }
        assert_eq!(counted.count("other", "a", 1060).await.expect("ok"), None);
        assert_eq!(
            counted.fetch_status("a", 1061).await.expect("in process"),
            sync.status("a", 1061)
        );
        assert_eq!(counted.store_failures(), 0);
        assert!(!counted.store().is_shared());
    }

    /// Redis down: no hang, no error to the caller of the guard, a
    /// counted failure, then the backoff answers at once.
    #[cfg(feature = "redis")]
    #[tokio::test]
    async fn a_store_on_a_closed_port_fails_fast_and_backs_off() {
        let store = RedisStore::new("redis://127.0.0.1:1/")
            .expect("url")
            .timeout(Duration::from_millis(200))
            // Far longer than the test: every later call is skipped.
            .backoff(Duration::from_secs(60));
        let limiter = RateLimiter::with_store(
            Rates::empty().with_overrides("s=1/minute").expect("rate"),
            store,
        );
        assert!(limiter.store().is_shared());
        assert_eq!(limiter.hit("s", "a", 1000), None, "no counters here");
        assert!(limiter.status("a", 1000).is_empty());
        let started = std::time::Instant::now();
        let first = limiter
            .count("s", "a", 1000)
            .await
            .expect_err("closed port");
        assert!(
            matches!(
                first.kind(),
                StoreErrorKind::Failed | StoreErrorKind::Timeout
            ),
            "{first:?}"
        );
        let second = limiter.count("s", "a", 1000).await.expect_err("backoff");
        assert_eq!(second.kind(), StoreErrorKind::Backoff);
        let status = limiter.fetch_status("a", 1000).await.expect_err("backoff");
        assert_eq!(status.kind(), StoreErrorKind::Backoff);
        // Generous: the point is that nothing hangs (the timeout is 200 ms).
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(limiter.store_failures(), 1, "one call made, and failed");
        assert_eq!(limiter.store_skips(), 2, "two not made");
        // An unlimited scope never asks the store.
        assert_eq!(
            limiter.count("other", "a", 1000).await.expect("no rate"),
            None
        );
        assert_eq!((limiter.store_failures(), limiter.store_skips()), (1, 2));
    }

    /// A rate longer than a year counts in windows of a year in Redis too
    /// (`EX` would get a float, which Redis refuses, and every count would
    /// fail), as in process. Needs `TEST_REDIS_URL`; skipped without it
    /// unless `REQUIRE_REDIS=1`.
    #[cfg(feature = "redis")]
    #[tokio::test]
    async fn huge_durations_count_in_redis_as_in_process() {
        let url = match std::env::var("TEST_REDIS_URL") {
            Ok(url) if !url.trim().is_empty() => url,
            _ => {
                assert!(
                    std::env::var("REQUIRE_REDIS").as_deref() != Ok("1"),
                    "REQUIRE_REDIS=1 but TEST_REDIS_URL is not set"
                );
                println!("SKIPPED: TEST_REDIS_URL not set");
                return;
            }
        };
        let mut rates = Rates::empty();
        let huge = Rate {
            limit: 2,
            duration: Duration::MAX,
        };
        rates.0.insert("s".to_owned(), huge);
        let store = RedisStore::new(&url)
            .expect("url")
            .prefix(format!(
                "scope-runtime:huge:{}:{}:",
                std::process::id(),
                unix_now()
            ))
            .timeout(Duration::from_secs(5));
        let key = store.key("s", "x");
        let redis = RateLimiter::with_store(rates.clone(), store);
        let local = RateLimiter::new(rates);
        let year = MAX_WINDOW.as_secs();
        let t = unix_now();
        for at in [t, t + 1, t + 2, t + year - 1, t + year] {
            let counted = redis.count("s", "x", at).await.expect("redis answers");
            assert_eq!(counted, local.hit("s", "x", at), "at t + {}", at - t);
        }
        assert_eq!((redis.store_failures(), redis.store_skips()), (0, 0));
        // The key expires with its window, a year from now; then it goes.
        let client = redis::Client::open(url).expect("url");
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .expect("redis");
        let ttl: i64 = redis::cmd("TTL")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .expect("TTL");
        assert!(
            (year.cast_signed() - 60..=year.cast_signed()).contains(&ttl),
            "{ttl}"
        );
        let deleted: i64 = redis::cmd("DEL")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .expect("DEL");
        assert_eq!(deleted, 1);
    }

    /// After the backoff, one request probes the store (here: waits out
    /// its timeout on a server that never answers); the others arriving
    /// meanwhile are skipped, not made to wait.
    #[cfg(feature = "redis")]
    #[tokio::test]
    async fn only_one_request_probes_after_the_backoff() {
        // Accepted by the kernel, never read.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = silent.local_addr().expect("addr").port();
        let store = RedisStore::new(&format!("redis://127.0.0.1:{port}/"))
            .expect("url")
            .timeout(Duration::from_millis(500))
            .backoff(Duration::from_millis(50));
        let limiter = RateLimiter::with_store(
            Rates::empty().with_overrides("s=1/minute").expect("rate"),
            store,
        );
        let first = limiter.count("s", "a", 1000).await.expect_err("silent");
        assert_eq!(first.kind(), StoreErrorKind::Timeout);
        tokio::time::sleep(Duration::from_millis(100)).await;
        // This runtime has one thread: every task runs up to its first
        // wait before the probe's can end.
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move { limiter.count("s", "a", 1000).await.map(|_| ()) })
            })
            .collect();
        let mut kinds = Vec::new();
        for task in tasks {
            kinds.push(task.await.expect("no panic").expect_err("silent").kind());
        }
        let probes = kinds
            .iter()
            .filter(|&&k| k == StoreErrorKind::Timeout)
            .count();
        let skipped = kinds
            .iter()
            .filter(|&&k| k == StoreErrorKind::Backoff)
            .count();
        assert_eq!((probes, skipped), (1, 7), "{kinds:?}");
        assert_eq!(limiter.store_failures(), 2);
        assert_eq!(limiter.store_skips(), 7);
        drop(silent);
    }
}
