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
//! An authenticated request counts against its user (or its client, for an
//! app token); an anonymous one against its IP address, taken from axum's
//! `ConnectInfo<SocketAddr>` (serve with
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
//! Anonymous clients are told apart by the peer address of the
//! connection: behind a reverse proxy every anonymous client shares the
//! proxy's bucket, and without `ConnectInfo` they all share `unknown`. Counters live in this process; expired
//! windows are swept as new ones open, so memory stays bounded by the
//! number of clients active within the longest duration.
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

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};

use crate::guard::{Guard, Verdict};
use crate::route::{Method, Route};
use crate::scope::Scope;
use crate::token::Principal;

/// A rate: `limit` requests per `duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per window.
    pub limit: u32,
    /// The window.
    pub duration: Duration,
}

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

    /// Funkwhale's default rates for the API scopes (its rate-limiting
    /// documentation, "Standard endpoints").
    pub fn funkwhale() -> Self {
        const H: u64 = 3600;
        const D: u64 = 86_400;
        let table: [(&str, u32, u64); 12] = [
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
    /// [`RateError`] on an entry without `=` or with a malformed rate.
    pub fn with_overrides(mut self, overrides: &str) -> Result<Self, RateError> {
        for entry in overrides
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let (scope, rate) = entry.split_once('=').ok_or_else(|| RateError {
                entry: entry.to_owned(),
                reason: "expected scope=rate",
            })?;
            self.0.insert(scope.trim().to_owned(), rate.parse()?);
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

struct Window {
    started: u64,
    count: u32,
    duration: u64,
}

/// Counts requests per (throttling scope, client) in fixed windows: see
/// the [module docs](self). Cheap to clone; clones share the counters.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    rates: Rates,
    windows: Mutex<Windows>,
}

struct Windows {
    map: HashMap<(String, String), Window>,
    sweep_at: usize,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("rates", &self.inner.rates)
            .finish_non_exhaustive()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl RateLimiter {
    /// A limiter applying `rates`; requests in a scope without a rate are
    /// not limited.
    pub fn new(rates: Rates) -> Self {
        Self {
            inner: Arc::new(Inner {
                rates,
                windows: Mutex::new(Windows {
                    map: HashMap::new(),
                    sweep_at: 1024,
                }),
            }),
        }
    }

    /// The rates applied.
    pub fn rates(&self) -> &Rates {
        &self.inner.rates
    }

    /// Counts one request of `ident` in `scope` at `now` (seconds since the
    /// epoch); `None` if the scope has no rate.
    pub fn hit(&self, scope: &str, ident: &str, now: u64) -> Option<Decision> {
        let rate = self.inner.rates.get(scope)?;
        let duration = rate.duration.as_secs().max(1);
        // A poisoned lock only means another request panicked mid-update;
        // the counters are still consistent enough to rate-limit with.
        let mut windows = self
            .inner
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.map.len() >= windows.sweep_at {
            windows
                .map
                .retain(|_, w| now < w.started.saturating_add(w.duration));
            windows.sweep_at = (windows.map.len() * 2).max(1024);
        }
        let window = windows
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
        Some(Decision {
            scope: scope.to_owned(),
            rate,
            remaining: rate.limit.saturating_sub(window.count),
            reset_seconds: window
                .started
                .saturating_add(window.duration)
                .saturating_sub(now),
            allowed,
        })
    }

    /// The current state of `ident`'s bucket in every scope, without
    /// counting a request (Funkwhale's `GET /api/v1/rate-limit/`).
    pub fn status(&self, ident: &str, now: u64) -> Vec<Decision> {
        let windows = self
            .inner
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.inner
            .rates
            .iter()
            .map(|(scope, rate)| {
                let live = windows
                    .map
                    .get(&(scope.to_owned(), ident.to_owned()))
                    .filter(|w| now < w.started.saturating_add(w.duration));
                let (count, reset_seconds) = live.map_or((0, 0), |w| {
                    (w.count, w.started.saturating_add(w.duration) - now)
                });
                Decision {
                    scope: scope.to_owned(),
                    rate,
                    remaining: rate.limit.saturating_sub(count),
                    reset_seconds,
                    allowed: count < rate.limit,
                }
            })
            .collect()
    }
}

/// Who a request counts against: `authenticated` and the user (or client)
/// id, or `anonymous` and the peer's IP address.
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
            let ip = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
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
            ("x-ratelimit-duration", header(self.rate.duration.as_secs())),
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

impl<S: Scope> Guard<S> for RateLimiter {
    fn check(
        &self,
        route: &Route<S>,
        principal: Option<&Principal<S>>,
        request: &Request<Body>,
    ) -> Verdict {
        let (kind, ident) = ident(principal, request);
        let mut scope = String::with_capacity(24);
        scope.push_str(kind);
        scope.push('-');
        scope.push_str(action(route));
        let now = unix_now();
        let Some(decision) = self.hit(&scope, &ident, now) else {
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
        let windows = limiter.inner.windows.lock().expect("lock");
        assert!(windows.map.len() <= 4000, "{}", windows.map.len());
    }
}
