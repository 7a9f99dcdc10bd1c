//! Rate limiting for the enforcement layer of `scope-runtime`, as
//! Funkwhale's API readme describes it: per-bucket counters,
//! `X-RateLimit-*` headers on every response, 429 with `Retry-After` when
//! a bucket is empty. [`RateLimiter`] is a
//! [`Guard`](scope_runtime::guard::Guard), so it counts after
//! authorization, per user.
//!
//! - [`Rate`] and [`Rates`]: a rate per *throttling bucket* (Funkwhale
//!   calls it a scope; it is not an OAuth scope), in Funkwhale's
//!   `THROTTLING_RATES` syntax.
//! - [`RateLimiter`]: counts requests per (bucket, client) in fixed
//!   windows, over a [`CounterStore`](store::CounterStore).
//! - [`store`]: where the counters live, [in this process](store::MemoryStore)
//!   or, with the `redis` feature, in Redis (`store::RedisStore`).
//! - [`funkwhale`]: Funkwhale's policy: its default rates, the bucket a
//!   request falls in, its headers and 429 body, and the guard.
//!
//! Each request falls in one bucket: `{anonymous|authenticated}-{action}`,
//! where the action comes from the method and the shape of the route
//! template that matched ([`RouteShape`](scope_runtime::route::RouteShape),
//! computed when the route table is built), as Funkwhale's viewsets do:
//!
//! | route template | GET | POST | PUT, PATCH | DELETE |
//! |---|---|---|---|---|
//! | collection (no `{param}`) | `list` | `create` | `wildcard` | `wildcard` |
//! | detail (ends with `{param}`) | `retrieve` | `wildcard` | `update` | `destroy` |
//! | custom action (`{pk}/tracks/`) | `wildcard` | `wildcard` | `wildcard` | `wildcard` |
//!
//! A route whose handler names its own bucket (`#[requires_scope(public,
//! throttle = "oauth-app")]`, as the OAuth server's app registration does)
//! counts in that bucket instead, anonymous or not, as Funkwhale's
//! endpoint-specific scopes do.
//!
//! An authenticated request counts against its user (or its client, for an
//! app token); an anonymous one against its client's address
//! ([`client_ip`](scope_runtime::client_ip); serve with
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
//! ([`client_ip`](scope_runtime::client_ip)): the connection's peer, or behind
//! the reverse proxies named in a [`TrustedProxies`](scope_runtime::client_ip::TrustedProxies)
//! the address they forwarded; IPv6 per /64. Without `ConnectInfo` they
//! all share `unknown`.
//!
//! ```
//! use scope_ratelimit::{Rates, RateLimiter};
//!
//! let rates = Rates::funkwhale().with_overrides("anonymous-list=10/hour,authenticated-create=2/minute")?;
//! assert_eq!(rates.get("anonymous-list").map(|r| r.limit), Some(10));
//! let limiter = RateLimiter::new(rates);
//! # let _ = limiter;
//! # Ok::<(), scope_ratelimit::RateError>(())
//! ```
//!
//! # Where the counters live
//!
//! A [`CounterStore`](store::CounterStore) holds them. The default,
//! [`MemoryStore`](store::MemoryStore) ([`RateLimiter::new`]), keeps them in this
//! process: each instance of a server counts on its own, and expired
//! windows are swept as new ones open, so memory stays bounded by the
//! number of clients active within the longest duration. It answers at
//! once ([`CounterStore::count_now`](store::CounterStore::count_now)), so
//! the guard then decides without waiting and without allocating a future.
//!
//! With the `redis` feature, a `RedisStore` keeps them in Redis, so that
//! every instance behind a load balancer counts against the same buckets;
//! limits, [`Decision`]s and headers are the same as in process for the
//! same sequence of requests. Each request costs one round trip: a Lua
//! script reads the bucket, opens a new window or counts the request, and
//! writes it back, atomically. A bucket is one key,
//! `{prefix}{bucket}:{ident}` (prefix `ratelimit:` unless
//! set with `RedisStore::prefix`), holding `{window start}:{count}` and
//! expiring when its window ends. Bucket names cannot contain `:`
//! ([`Rates::with_overrides`] refuses them), so the first `:` after the
//! prefix ends the bucket and two buckets never share a key, whatever the
//! ident holds (`RedisStore::key`, given a bucket with `:` or `%`
//! anyway, percent-escapes them). The window start is in the value rather
//! than the key because a window starts at its bucket's first request, as
//! in process, not at a multiple of its duration: `X-RateLimit-Reset`
//! stays what it was. [`RateLimiter::status`] reads every bucket of
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
//! use scope_ratelimit::store::RedisStore;
//! use scope_ratelimit::{RateLimiter, Rates};
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
//!
//! # Cargo features
//!
//! - `redis` (off by default): `store::RedisStore`, counters in Redis
//!   shared by every instance of a server (adds `redis` and tokio's
//!   `time`).

pub mod funkwhale;
mod limiter;
mod rate;
pub mod store;
#[cfg(test)]
mod tests;

pub use crate::limiter::{Decision, RateLimiter};
pub use crate::rate::{MAX_WINDOW, Rate, RateError, Rates};
