//! Extractors: the authenticated [`Principal`] in a handler.
//!
//! ```
//! use scope_runtime::Principal;
//! use scope_runtime::{requires_scope, scope_hierarchy};
//!
//! scope_hierarchy! { pub Scope { #[default] read { accounts } } }
//!
//! #[requires_scope("read:accounts", token = user)]
//! async fn me(principal: Principal<Scope>) -> String {
//!     principal.user_id().unwrap_or_default().to_owned()
//! }
//!
//! // On a route where the token is optional, take `Option<Principal<_>>`.
//! #[requires_scope("read:accounts", token = optional)]
//! async fn maybe_me(principal: Option<Principal<Scope>>) -> String {
//!     principal.map_or("anonymous".into(), |p| p.client_id().to_owned())
//! }
//! ```

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;

use crate::enforce::{Answering, AuthError};
use crate::scope::Scope;
use crate::token::Principal;

/// The enforcement layer put the principal of a valid token in the request
/// extensions; a handler of a route that let the request through without a
/// token (`optional`, `public`) gets a [`MissingPrincipal`] (401) from this
/// extractor, which is why such handlers take `Option<Principal<_>>`.
impl<S: Scope, St: Send + Sync> FromRequestParts<St> for Principal<S> {
    type Rejection = MissingPrincipal<S>;

    async fn from_request_parts(parts: &mut Parts, _state: &St) -> Result<Self, Self::Rejection> {
        if let Some(principal) = parts.extensions.get::<Self>() {
            return Ok(principal.clone());
        }
        Err(MissingPrincipal {
            answering: parts
                .extensions
                .get::<Answering>()
                .cloned()
                .unwrap_or_default(),
            scope: PhantomData,
        })
    }
}

/// The rejection of the [`Principal`] extractor when the request carries
/// none: [`AuthError::MissingToken`] (401), answered in the error style and
/// realm of the enforcer that let the request through.
pub struct MissingPrincipal<S: Scope> {
    answering: Answering,
    scope: PhantomData<fn() -> S>,
}

impl<S: Scope> MissingPrincipal<S> {
    /// The error: always [`AuthError::MissingToken`].
    pub fn error(&self) -> AuthError<S> {
        AuthError::MissingToken
    }
}

impl<S: Scope> std::fmt::Debug for MissingPrincipal<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MissingPrincipal")
            .field("style", &self.answering.style)
            .finish_non_exhaustive()
    }
}

impl<S: Scope> IntoResponse for MissingPrincipal<S> {
    fn into_response(self) -> Response {
        self.error()
            .response(self.answering.style, self.answering.realm.as_deref())
    }
}

impl<S: Scope, St: Send + Sync> OptionalFromRequestParts<St> for Principal<S> {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &St,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Self>().cloned())
    }
}
