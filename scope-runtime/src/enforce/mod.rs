//! Enforcement of the route→scope table: the [`Enforcer`] (validator and
//! response settings) and the per-route [`EnforceLayer`].
//!
//! `scope_routes!` wraps every route of its table in
//! `enforcer.layer(&ROUTES[i])` as a *route layer*, so the check runs after
//! routing and before any extractor of the handler reads the request: a
//! token without the scope gets its 403 even when the body is malformed.
//!
//! ```
//! use axum::body::Body;
//! use axum::http::{Request, StatusCode};
//! use scope_runtime::prelude::*;
//! use scope_runtime::token::InMemoryValidator;
//! use tower::ServiceExt;
//!
//! scope_hierarchy! { pub Scope { #[default] read { statuses }, write { statuses } } }
//!
//! #[requires_scope("write:statuses")]
//! async fn post_status(principal: Principal<Scope>) -> String {
//!     format!("posted by {}", principal.user_id().unwrap_or("an app"))
//! }
//!
//! scope_routes! { pub Api { POST "/api/v1/statuses" => post_status } }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let tokens = InMemoryValidator::new();
//! tokens.insert("reader", Principal::user("1", "app", "read".parse().unwrap()));
//! tokens.insert("writer", Principal::user("1", "app", "write".parse().unwrap()));
//! let app = Api::router(Enforcer::new(tokens));
//!
//! let post = |token: &str| {
//!     Request::post("/api/v1/statuses")
//!         .header("authorization", format!("Bearer {token}"))
//!         .body(Body::empty())
//!         .unwrap()
//! };
//! let refused = app.clone().oneshot(post("reader")).await.unwrap();
//! assert_eq!(refused.status(), StatusCode::FORBIDDEN);
//! assert_eq!(
//!     refused.headers()["www-authenticate"],
//!     "Bearer error=\"insufficient_scope\", \
//!      error_description=\"This action is outside the authorized scopes\", scope=\"write:statuses\""
//! );
//! let allowed = app.oneshot(post("writer")).await.unwrap();
//! assert_eq!(allowed.status(), StatusCode::OK);
//! # });
//! ```

mod bearer;
mod error;
mod layer;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, Request, Uri};

#[doc(inline)]
pub use self::error::{AuthError, ErrorStyle};
#[doc(inline)]
pub use self::layer::{Enforce, EnforceLayer, ResponseFuture};
use crate::guard::{Guard, Verdict};
use crate::route::{Access, Requirement, Route};
use crate::scope::Scope;
use crate::stream::OpenStreams;
use crate::stream::watch::Ticket;
use crate::token::{BearerToken, Principal, TokenError, TokenValidator};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Object-safe view of a [`TokenValidator`], so that [`Enforcer`] is not
/// generic over the validator type.
trait DynValidator<S: Scope>: Send + Sync + 'static {
    fn validate_boxed<'a>(
        &'a self,
        token: &'a BearerToken<'a>,
    ) -> BoxFuture<'a, Result<Principal<S>, TokenError>>;
    fn validate_now(&self, token: &BearerToken<'_>) -> Option<Result<Principal<S>, TokenError>>;
}

impl<S: Scope, V: TokenValidator<S>> DynValidator<S> for V {
    fn validate_boxed<'a>(
        &'a self,
        token: &'a BearerToken<'a>,
    ) -> BoxFuture<'a, Result<Principal<S>, TokenError>> {
        Box::pin(self.validate(token))
    }

    fn validate_now(&self, token: &BearerToken<'_>) -> Option<Result<Principal<S>, TokenError>> {
        TokenValidator::validate_now(self, token)
    }
}

/// The outcome of the synchronous part of a check.
enum Step<'a, S: Scope> {
    /// Let the request through, with the principal of its token if any.
    Proceed(Option<Principal<S>>),
    /// Answer with this error.
    Reject(AuthError<S>),
    /// The validator must be awaited for this token; then `Enforcer::finish`.
    Validate(BearerToken<'a>, Access),
}

/// A request that may reach its handler: the principal of its token (if
/// any) is in its extensions, and `headers` (the guard's) go on the
/// handler's response ([`finish_response`]).
pub(crate) struct Authorized {
    pub(crate) request: Request<Body>,
    pub(crate) headers: Option<HeaderMap>,
}

/// The answer for a request that may not proceed.
type Outcome = Result<Authorized, Response>;

/// The one enforcement decision of a request: known now (the hot path: no
/// allocation beyond the principal's extension, or, for a request without
/// one, the error style's when it is not the default), or to be awaited
/// (the validator or the guard has to ask another process).
pub(crate) enum Check {
    /// Decided now, the request left in place (its principal inserted):
    /// it proceeds, with the guard's headers if any, or this is the answer.
    Ready(Result<Option<HeaderMap>, Response>),
    /// To be awaited: the request was taken into the future, which gives
    /// it back admitted, or the answer.
    Pending(BoxFuture<'static, Outcome>),
}

/// Adds the guard's headers to the handler's response: the one place a
/// response is finished, ready or awaited.
pub(crate) fn finish_response(mut response: Response, headers: Option<HeaderMap>) -> Response {
    if let Some(headers) = headers {
        response.headers_mut().extend(headers);
    }
    response
}

/// How an enforcer answers errors: what a `Principal` extractor needs to
/// refuse in its style. Put in the extensions of a request that proceeds
/// without a principal, unless it is the default (then nothing is put
/// there: the default configuration pays nothing on anonymous requests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Answering {
    pub(crate) style: ErrorStyle,
    pub(crate) realm: Option<Arc<str>>,
}

/// Whether anonymous requests may reach routes declared `token = setting`
/// (Funkwhale's `api_authentication_required`, inverted). A shared switch:
/// clones see the same value, so a pod can flip it at run time.
#[derive(Debug, Clone)]
pub struct AnonymousAccess(Arc<AtomicBool>);

impl AnonymousAccess {
    /// A switch starting at `allowed`.
    pub fn new(allowed: bool) -> Self {
        Self(Arc::new(AtomicBool::new(allowed)))
    }

    /// Whether anonymous requests are allowed now.
    pub fn allowed(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Allows or denies anonymous requests from now on.
    pub fn set(&self, allowed: bool) {
        self.0.store(allowed, Ordering::Relaxed);
    }
}

/// Denies anonymous access, as Funkwhale does by default
/// (`api_authentication_required = true`).
impl Default for AnonymousAccess {
    fn default() -> Self {
        Self::new(false)
    }
}

/// A `realm` that cannot be put in a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid realm {0:?}: use printable ASCII without `\"` or `\\`")]
pub struct InvalidRealm(String);

/// Validates bearer tokens and decides, route by route, whether a request
/// may proceed. Cheap to clone (one shared allocation); see the
/// [module docs](self) for an example.
pub struct Enforcer<S: Scope> {
    config: Arc<Config<S>>,
}

struct Config<S: Scope> {
    validator: Arc<dyn DynValidator<S>>,
    style: ErrorStyle,
    realm: Option<Arc<str>>,
    anonymous: AnonymousAccess,
    guard: Option<Arc<dyn Guard<S>>>,
    /// `style` and `realm` for the `Principal` extractor; `None` when they
    /// are the defaults.
    answering: Option<Answering>,
    /// The streams this enforcer let open.
    streams: OpenStreams,
    /// How often an open stream is checked again without a notice.
    recheck: Duration,
}

impl<S: Scope> Config<S> {
    fn update_answering(&mut self) {
        let answering = Answering {
            style: self.style,
            realm: self.realm.clone(),
        };
        self.answering = (answering != Answering::default()).then_some(answering);
    }
}

impl<S: Scope> Clone for Config<S> {
    fn clone(&self) -> Self {
        Self {
            validator: Arc::clone(&self.validator),
            style: self.style,
            realm: self.realm.clone(),
            anonymous: self.anonymous.clone(),
            guard: self.guard.clone(),
            answering: self.answering.clone(),
            streams: self.streams.clone(),
            recheck: self.recheck,
        }
    }
}

impl<S: Scope> Clone for Enforcer<S> {
    fn clone(&self) -> Self {
        Self {
            config: Arc::clone(&self.config),
        }
    }
}

impl<S: Scope> std::fmt::Debug for Enforcer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enforcer")
            .field("style", &self.config.style)
            .field("realm", &self.config.realm)
            .field("anonymous", &self.config.anonymous)
            .field("guard", &self.config.guard.is_some())
            .finish_non_exhaustive()
    }
}

impl<S: Scope> Enforcer<S> {
    /// An enforcer validating tokens with `validator`, answering errors in
    /// [`ErrorStyle::Rfc6750`], denying anonymous access to `setting` routes.
    pub fn new(validator: impl TokenValidator<S>) -> Self {
        Self {
            config: Arc::new(Config {
                validator: Arc::new(validator),
                style: ErrorStyle::default(),
                realm: None,
                anonymous: AnonymousAccess::default(),
                guard: None,
                answering: None,
                streams: OpenStreams::new(),
                recheck: DEFAULT_STREAM_RECHECK,
            }),
        }
    }

    fn config_mut(&mut self) -> &mut Config<S> {
        Arc::make_mut(&mut self.config)
    }

    /// The shape of error bodies.
    #[must_use]
    pub fn error_style(mut self, style: ErrorStyle) -> Self {
        self.config_mut().style = style;
        self.config_mut().update_answering();
        self
    }

    /// Adds `realm="..."` to every challenge.
    ///
    /// # Errors
    /// [`InvalidRealm`] if `realm` is not printable ASCII or holds `"` or `\`.
    pub fn realm(mut self, realm: &str) -> Result<Self, InvalidRealm> {
        if realm
            .bytes()
            .any(|b| !(0x20..0x7f).contains(&b) || b == b'"' || b == b'\\')
        {
            return Err(InvalidRealm(realm.to_owned()));
        }
        self.config_mut().realm = Some(realm.into());
        self.config_mut().update_answering();
        Ok(self)
    }

    /// The switch that `token = setting` routes follow.
    #[must_use]
    pub fn anonymous_access(mut self, switch: AnonymousAccess) -> Self {
        self.config_mut().anonymous = switch;
        self
    }

    /// Runs `guard` on every authorized request, before its handler (see
    /// [`guard`](crate::guard)); replaces any earlier guard.
    #[must_use]
    pub fn guard(mut self, guard: impl Guard<S>) -> Self {
        self.config_mut().guard = Some(Arc::new(guard));
        self
    }

    /// How often an open stream ([`stream`](crate::stream)) checks its token
    /// again when no revocation notice came: the bound on how long a change
    /// nothing announced (a scope lost at the authorization server, seen
    /// through a cache) takes to end a stream, on top of the validator's own
    /// cache lifetime. Default [`DEFAULT_STREAM_RECHECK`]; at least 10 ms.
    #[must_use]
    pub fn stream_recheck(mut self, every: Duration) -> Self {
        self.config_mut().recheck = every.max(Duration::from_millis(10));
        self
    }

    /// Replaces the registry of open streams (to bound streams per token
    /// differently: [`OpenStreams::per_token`]).
    #[must_use]
    pub fn with_open_streams(mut self, streams: OpenStreams) -> Self {
        self.config_mut().streams = streams;
        self
    }

    /// The streams this enforcer let open: tell it about revocations
    /// ([`OpenStreams::revoked`]) where the token cache hears of them.
    pub fn open_streams(&self) -> &OpenStreams {
        &self.config.streams
    }

    pub(crate) fn recheck_interval(&self) -> Duration {
        self.config.recheck
    }

    /// Validates a token again (an open stream's check).
    pub(crate) async fn revalidate(
        &self,
        token: &BearerToken<'_>,
    ) -> Result<Principal<S>, TokenError> {
        if let Some(answer) = self.config.validator.validate_now(token) {
            return answer;
        }
        self.config.validator.validate_boxed(token).await
    }

    /// The layer enforcing `route` (a copy of the row: tables generic over
    /// the hierarchy, as the OAuth server's, have no `'static` rows).
    pub fn layer(&self, route: &Route<S>) -> EnforceLayer<S> {
        EnforceLayer::new(self.clone(), *route)
    }

    /// The response for `error`, in this enforcer's style.
    pub fn reject(&self, error: &AuthError<S>) -> axum::response::Response {
        error.response(self.config.style, self.config.realm.as_deref())
    }

    /// The one decision for a request to `route`: the token kind, the
    /// bearer header, the validator (at once if it can answer from memory),
    /// the route's requirement, then the [guard](Self::guard).
    ///
    /// The request is decided in place (not moved: it is a few hundred
    /// bytes) unless the check has to wait, which takes it.
    pub(crate) fn check(&self, route: &Route<S>, request: &mut Request<Body>) -> Check {
        match self.precheck(route, request.headers(), request.uri()) {
            Step::Proceed(principal) => self.guarded(route, principal, request),
            Step::Reject(error) => Check::Ready(Err(self.reject(&error))),
            Step::Validate(token, access) => {
                let token = token.into_owned();
                let request = std::mem::take(request);
                let enforcer = self.clone();
                let route = *route;
                Check::Pending(Box::pin(async move {
                    let answer = enforcer.config.validator.validate_boxed(&token).await;
                    match enforcer.finish(&route, access, answer) {
                        Ok(principal) => enforcer.guarded_async(&route, principal, request).await,
                        Err(error) => Err(enforcer.reject(&error)),
                    }
                }))
            }
        }
    }

    /// Everything that can be decided without waiting: the token kind, the
    /// header, and the validator's immediate answer (a cache hit).
    fn precheck<'h>(&self, route: &Route<S>, headers: &'h HeaderMap, uri: &'h Uri) -> Step<'h, S> {
        let access = match route.access() {
            Access::Public => return Step::Proceed(None),
            Access::Setting if self.config.anonymous.allowed() => Access::Optional,
            Access::Setting => Access::Required,
            other => other,
        };
        let token = match bearer::credentials(route.stream(), headers, uri) {
            Ok(Some((token, _))) => BearerToken::new(token),
            Ok(None) if access == Access::Optional => return Step::Proceed(None),
            Ok(None) => return Step::Reject(AuthError::MissingToken),
            Err(malformed) => return Step::Reject(AuthError::malformed(malformed)),
        };
        match self.config.validator.validate_now(&token) {
            Some(answer) => match self.finish(route, access, answer) {
                Ok(principal) => Step::Proceed(Some(principal)),
                Err(error) => Step::Reject(error),
            },
            None => Step::Validate(token, access),
        }
    }

    /// Checks a validated token against the route.
    pub(crate) fn finish(
        &self,
        route: &Route<S>,
        access: Access,
        answer: Result<Principal<S>, TokenError>,
    ) -> Result<Principal<S>, AuthError<S>> {
        let principal = answer.map_err(|e| match e {
            TokenError::Invalid => AuthError::InvalidToken,
            TokenError::Unavailable(_) => AuthError::Unavailable,
        })?;
        // Whatever the validator did, an expired token is refused here.
        if principal.is_expired() {
            return Err(AuthError::InvalidToken);
        }
        authorize(&principal, access, route.requirement())?;
        Ok(principal)
    }

    /// Runs the guard (if any) on a request that passed authorization.
    fn guarded(
        &self,
        route: &Route<S>,
        principal: Option<Principal<S>>,
        request: &mut Request<Body>,
    ) -> Check {
        let Some(guard) = &self.config.guard else {
            self.admit(route, request, principal);
            return Check::Ready(Ok(None));
        };
        match guard.check(route, principal.as_ref(), request).into_ready() {
            Ok(Verdict::Pass(headers)) => {
                self.admit(route, request, principal);
                Check::Ready(Ok(Some(headers)))
            }
            Ok(Verdict::Reject(response)) => Check::Ready(Err(response)),
            Err(pending) => {
                let request = std::mem::take(request);
                let enforcer = self.clone();
                let route = *route;
                Check::Pending(Box::pin(async move {
                    enforcer.judged(&route, pending.await, request, principal)
                }))
            }
        }
    }

    /// The same as [`guarded`](Self::guarded), already waiting (after the
    /// validator): the guard's future is awaited here, not boxed again.
    async fn guarded_async(
        &self,
        route: &Route<S>,
        principal: Principal<S>,
        mut request: Request<Body>,
    ) -> Outcome {
        let principal = Some(principal);
        let Some(guard) = &self.config.guard else {
            self.admit(route, &mut request, principal);
            return Ok(Authorized {
                request,
                headers: None,
            });
        };
        let verdict = guard.check(route, principal.as_ref(), &request).await;
        self.judged(route, verdict, request, principal)
    }

    /// What the guard's verdict makes of the request.
    // The refusal is the response itself, sent as it is: boxing it would
    // only add an allocation to every refused request.
    #[allow(clippy::result_large_err)]
    fn judged(
        &self,
        route: &Route<S>,
        verdict: Verdict,
        mut request: Request<Body>,
        principal: Option<Principal<S>>,
    ) -> Outcome {
        match verdict {
            Verdict::Pass(headers) => {
                self.admit(route, &mut request, principal);
                Ok(Authorized {
                    request,
                    headers: Some(headers),
                })
            }
            Verdict::Reject(response) => Err(response),
        }
    }

    /// Lets `request` through: the principal goes in its extensions (the
    /// one place it is put there), or, without one, the enforcer's error
    /// style if it is not the default, so that a `Principal` extractor
    /// refuses in that style. A stream route's request with a token also
    /// gets what a [`Watch`](crate::stream::Watch) needs to check it again
    /// while it is open.
    fn admit(
        &self,
        route: &Route<S>,
        request: &mut Request<Body>,
        principal: Option<Principal<S>>,
    ) {
        if let Some(principal) = principal {
            if route.stream().is_some() {
                self.ticket(route, request);
            }
            request.extensions_mut().insert(principal);
        } else if let Some(answering) = &self.config.answering {
            request.extensions_mut().insert(answering.clone());
        }
    }

    /// The ticket of an admitted stream request (the token read again:
    /// streams are few, and the REST path keeps borrowing it).
    fn ticket(&self, route: &Route<S>, request: &mut Request<Body>) {
        if let Ok(Some((token, source))) =
            bearer::credentials(route.stream(), request.headers(), request.uri())
        {
            let ticket = Ticket {
                enforcer: self.clone(),
                route: *route,
                token: BearerToken::new(token.into_owned()),
                as_protocol: source == bearer::Source::Protocol,
            };
            request.extensions_mut().insert(ticket);
            // The handler, its extractors and any logging after this never
            // see a token in the URI: the one read, or one sent beside a
            // header's, however its key is percent-encoded (the query is
            // rebuilt from its decoded pairs; stream requests are few).
            if request.uri().query().is_some()
                && let Some(uri) = bearer::without_query_token(request.uri())
            {
                *request.uri_mut() = uri;
            }
        }
    }
}

/// How often an open stream checks its token again without a notice
/// ([`Enforcer::stream_recheck`]).
pub const DEFAULT_STREAM_RECHECK: Duration = Duration::from_secs(5);

/// Whether `principal` may do what `access` and `requirement` ask: the
/// token kind, then the scopes. The one rule of routes and of stream
/// channels.
pub(crate) fn authorize<S: Scope>(
    principal: &Principal<S>,
    access: Access,
    requirement: Requirement<S>,
) -> Result<(), AuthError<S>> {
    match access {
        Access::User if !principal.is_user() => return Err(AuthError::UserRequired),
        Access::App if principal.is_user() => return Err(AuthError::AppRequired),
        _ => {}
    }
    if !requirement.is_satisfied_by(&principal.scopes()) {
        return Err(AuthError::InsufficientScope(requirement));
    }
    Ok(())
}
