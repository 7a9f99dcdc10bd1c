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
//! use scope_runtime::enforce::Enforcer;
//! use scope_runtime::route::RouteTable;
//! use scope_runtime::token::{InMemoryValidator, Principal};
//! use scope_runtime::{requires_scope, scope_hierarchy, scope_routes};
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

use http::request::Parts;

#[doc(inline)]
pub use self::error::{AuthError, ErrorStyle};
#[doc(inline)]
pub use self::layer::{Enforce, EnforceLayer};
use crate::route::{Access, Route};
use crate::scope::Scope;
use crate::token::{Principal, TokenError, TokenValidator};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Object-safe view of a [`TokenValidator`], so that [`Enforcer`] is not
/// generic over the validator type.
trait DynValidator<S: Scope>: Send + Sync + 'static {
    fn validate_boxed<'a>(
        &'a self,
        token: &'a str,
    ) -> BoxFuture<'a, Result<Principal<S>, TokenError>>;
}

impl<S: Scope, V: TokenValidator<S>> DynValidator<S> for V {
    fn validate_boxed<'a>(
        &'a self,
        token: &'a str,
    ) -> BoxFuture<'a, Result<Principal<S>, TokenError>> {
        Box::pin(self.validate(token))
    }
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
/// may proceed. Cheap to clone; see the [module docs](self) for an example.
pub struct Enforcer<S: Scope> {
    validator: Arc<dyn DynValidator<S>>,
    style: ErrorStyle,
    realm: Option<Arc<str>>,
    anonymous: AnonymousAccess,
}

impl<S: Scope> Clone for Enforcer<S> {
    fn clone(&self) -> Self {
        Self {
            validator: Arc::clone(&self.validator),
            style: self.style,
            realm: self.realm.clone(),
            anonymous: self.anonymous.clone(),
        }
    }
}

impl<S: Scope> std::fmt::Debug for Enforcer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enforcer")
            .field("style", &self.style)
            .field("realm", &self.realm)
            .field("anonymous", &self.anonymous)
            .finish_non_exhaustive()
    }
}

impl<S: Scope> Enforcer<S> {
    /// An enforcer validating tokens with `validator`, answering errors in
    /// [`ErrorStyle::Rfc6750`], denying anonymous access to `setting` routes.
    pub fn new(validator: impl TokenValidator<S>) -> Self {
        Self {
            validator: Arc::new(validator),
            style: ErrorStyle::default(),
            realm: None,
            anonymous: AnonymousAccess::default(),
        }
    }

    /// The shape of error bodies.
    #[must_use]
    pub fn error_style(mut self, style: ErrorStyle) -> Self {
        self.style = style;
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
        self.realm = Some(realm.into());
        Ok(self)
    }

    /// The switch that `token = setting` routes follow.
    #[must_use]
    pub fn anonymous_access(mut self, switch: AnonymousAccess) -> Self {
        self.anonymous = switch;
        self
    }

    /// The layer enforcing `route`.
    pub fn layer(&self, route: &'static Route<S>) -> EnforceLayer<S> {
        EnforceLayer::new(self.clone(), route)
    }

    /// The response for `error`, in this enforcer's style.
    pub fn reject(&self, error: &AuthError<S>) -> axum::response::Response {
        error.response(self.style, self.realm.as_deref())
    }

    /// Decides whether the request may proceed to the handler of `route`;
    /// on success, the [`Principal`] (if a token was sent) is in the
    /// request extensions.
    ///
    /// # Errors
    /// The [`AuthError`] to answer with.
    pub async fn authorize(&self, route: &Route<S>, parts: &mut Parts) -> Result<(), AuthError<S>> {
        let access = match route.access() {
            Access::Public => return Ok(()),
            Access::Setting if self.anonymous.allowed() => Access::Optional,
            Access::Setting => Access::Token,
            other => other,
        };
        let principal = {
            let token = bearer::token(&parts.headers).map_err(AuthError::malformed)?;
            let Some(token) = token else {
                return match access {
                    Access::Optional => Ok(()),
                    _ => Err(AuthError::MissingToken),
                };
            };
            self.validator
                .validate_boxed(token)
                .await
                .map_err(|e| match e {
                    TokenError::Invalid => AuthError::InvalidToken,
                    TokenError::Unavailable(_) => AuthError::Unavailable,
                })?
        };
        match access {
            Access::User if !principal.is_user() => return Err(AuthError::UserRequired),
            Access::App if principal.is_user() => return Err(AuthError::AppRequired),
            _ => {}
        }
        let requirement = route.requirement();
        if !requirement.is_satisfied_by(&principal.scopes()) {
            return Err(AuthError::InsufficientScope(requirement));
        }
        parts.extensions.insert(principal);
        Ok(())
    }
}
