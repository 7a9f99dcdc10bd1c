//! Funkwhale's policy: its default rates ([`Rates::funkwhale`]), the
//! throttling bucket a request falls in ([`ident`], [`Action`],
//! [`bucket`]), its `X-RateLimit-*` headers ([`Decision::headers`]) and
//! its 429 body, and the [`Guard`] that applies them ([`RateLimiter`]'s
//! implementation). See the [crate docs](crate) for the table of actions.

use std::time::Duration;

use axum::body::Body;
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use scope_runtime::client_ip::{client_ip, limit_address};
use scope_runtime::guard::{Guard, GuardFuture, Verdict};
use scope_runtime::route::{Method, Route, RouteShape};
use scope_runtime::{Principal, Scope};

use crate::limiter::{Decision, RateLimiter, unix_now};
use crate::rate::{Rate, Rates};

impl Rates {
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

/// The action of a request, as Funkwhale's viewsets name them: the second
/// half of its bucket's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `GET` or `HEAD` on a collection.
    List,
    /// `POST` on a collection.
    Create,
    /// `GET` or `HEAD` on one item.
    Retrieve,
    /// `PUT` or `PATCH` on one item.
    Update,
    /// `DELETE` on one item.
    Destroy,
    /// Anything else (custom actions included).
    Wildcard,
}

/// The bucket names, anonymous then authenticated, in the order of
/// [`Action`]'s variants.
const BUCKETS: [(&str, &str); 6] = [
    ("anonymous-list", "authenticated-list"),
    ("anonymous-create", "authenticated-create"),
    ("anonymous-retrieve", "authenticated-retrieve"),
    ("anonymous-update", "authenticated-update"),
    ("anonymous-destroy", "authenticated-destroy"),
    ("anonymous-wildcard", "authenticated-wildcard"),
];

impl Action {
    /// The action of a request with `method` to a route of `shape`, as
    /// the table in the [crate docs](crate) gives it.
    pub const fn of(method: Method, shape: RouteShape) -> Self {
        match (method, shape) {
            (Method::Get | Method::Head, RouteShape::Collection) => Self::List,
            (Method::Post, RouteShape::Collection) => Self::Create,
            (Method::Get | Method::Head, RouteShape::Detail) => Self::Retrieve,
            (Method::Put | Method::Patch, RouteShape::Detail) => Self::Update,
            (Method::Delete, RouteShape::Detail) => Self::Destroy,
            _ => Self::Wildcard,
        }
    }

    /// Its name (`list`, `create`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::List => "list",
            Self::Create => "create",
            Self::Retrieve => "retrieve",
            Self::Update => "update",
            Self::Destroy => "destroy",
            Self::Wildcard => "wildcard",
        }
    }

    /// The bucket of this action: `anonymous-{action}` or
    /// `authenticated-{action}`.
    pub const fn bucket(self, authenticated: bool) -> &'static str {
        let (anonymous, signed_in) = BUCKETS[self as usize];
        if authenticated { signed_in } else { anonymous }
    }
}

/// The throttling bucket of a request to `route` (Funkwhale calls it a
/// scope): the route's own (`throttle = ".."`, anonymous or not, as
/// Funkwhale's endpoint-specific scopes), or `{anonymous|authenticated}-{action}`.
pub fn bucket<S: Copy>(route: &Route<S>, authenticated: bool) -> &'static str {
    match route.throttle() {
        Some(throttle) => throttle,
        None => Action::of(route.method(), route.shape()).bucket(authenticated),
    }
}

fn header(value: impl ToString) -> HeaderValue {
    // Digits and bucket names only: always a valid header value.
    HeaderValue::from_str(&value.to_string()).unwrap_or(HeaderValue::from_static("0"))
}

impl Decision {
    /// Funkwhale's headers: `X-RateLimit-Limit`, `-Duration`, `-Scope`
    /// (the bucket), `-Remaining`, `-Reset` (a Unix time), `-ResetSeconds`,
    /// `-Available`, `-AvailableSeconds`, and `Retry-After` when refused.
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
            ("x-ratelimit-duration", header(self.rate.window_seconds())),
            ("x-ratelimit-scope", header(&self.bucket)),
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
/// (`None`: not limited, or not counted): the headers, or Funkwhale's 429.
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

/// When the store answers at once ([`CounterStore::count_now`](crate::store::CounterStore::count_now),
/// as in process) the verdict is ready (no future is allocated); over
/// Redis the guard's future does the round trip and fails open (see the
/// [crate docs](crate#when-redis-is-down-or-slow-fail-open)).
impl<S: Scope> Guard<S> for RateLimiter {
    fn check(
        &self,
        route: &Route<S>,
        principal: Option<&Principal<S>>,
        request: &Request<Body>,
    ) -> GuardFuture {
        let bucket = bucket(route, principal.is_some());
        let Some(rate) = self.rates().get(bucket) else {
            return Verdict::Pass(HeaderMap::new()).into();
        };
        let (_, ident) = ident(principal, request);
        let now = unix_now();
        if let Some(decision) = self.store().count_now(bucket, &ident, rate, now) {
            return verdict(Some(decision), now).into();
        }
        let limiter = self.clone();
        GuardFuture::new(async move {
            // Fail open: an error is counted in `store_failures` and the
            // request passes without headers.
            let decision = limiter.store().count(bucket, &ident, rate, now).await.ok();
            verdict(decision, now)
        })
    }
}
