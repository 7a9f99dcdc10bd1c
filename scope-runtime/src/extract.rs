//! Extractors: the authenticated [`Principal`] in a handler.
//!
//! ```
//! use scope_runtime::token::Principal;
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

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;

use crate::enforce::AuthError;
use crate::scope::Scope;
use crate::token::Principal;

/// The enforcement layer put the principal of a valid token in the request
/// extensions; a handler of a route that let the request through without a
/// token (`optional`, `public`) gets a 401 from this extractor, which is why
/// such handlers take `Option<Principal<_>>`.
impl<S: Scope, St: Send + Sync> FromRequestParts<St> for Principal<S> {
    type Rejection = AuthError<S>;

    async fn from_request_parts(parts: &mut Parts, _state: &St) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or(AuthError::MissingToken)
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
