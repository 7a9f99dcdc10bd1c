//! Guards: checks that run after a request is authorized and before its
//! handler, with the route and the principal in hand (rate limits, quotas).
//!
//! A guard is installed with [`Enforcer::guard`](crate::enforce::Enforcer::guard)
//! and runs inside every route layer of the table. It sees what a global
//! middleware cannot: the route template that matched (so it can tell a
//! list from a detail view) and the validated [`Principal`] (so it can
//! count per user rather than per token). It may reject the request or let
//! it pass with headers to add to the handler's response.
//!
//! ```
//! use axum::body::Body;
//! use axum::http::{HeaderMap, HeaderValue, Request};
//! use scope_runtime::guard::{Guard, Verdict};
//! use scope_runtime::route::Route;
//! use scope_runtime::{Principal, Scope};
//!
//! /// Tells the client which route template served it.
//! struct RouteHeader;
//!
//! impl<S: Scope> Guard<S> for RouteHeader {
//!     fn check(&self, route: &Route<S>, _: Option<&Principal<S>>, _: &Request<Body>) -> Verdict {
//!         let mut headers = HeaderMap::new();
//!         if let Ok(v) = HeaderValue::from_str(route.path()) {
//!             headers.insert("x-route", v);
//!         }
//!         Verdict::Pass(headers)
//!     }
//! }
//! ```

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, Request};

use crate::route::Route;
use crate::scope::Scope;
use crate::token::Principal;

/// What a [`Guard`] decided.
#[derive(Debug)]
pub enum Verdict {
    /// Call the handler, then add these headers to its response (an empty
    /// map adds nothing).
    Pass(HeaderMap),
    /// Answer with this response; the handler is not called.
    Reject(Response),
}

/// A check run after authorization, before the handler: see the
/// [module docs](self).
///
/// It is synchronous: it runs on the request path of every route, so it
/// must decide from memory. Routes declared `public` run it with no
/// principal, whatever the request carries. It runs only for requests that
/// passed authorization (a 401 or 403 never reaches it), and the headers
/// of [`Verdict::Pass`] replace any of the same name the handler set.
pub trait Guard<S: Scope>: Send + Sync + 'static {
    /// Decides about `request`, which `route` matched and which is
    /// authorized as `principal` (`None`: anonymous).
    fn check(
        &self,
        route: &Route<S>,
        principal: Option<&Principal<S>>,
        request: &Request<Body>,
    ) -> Verdict;
}
