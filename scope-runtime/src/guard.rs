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
//! A guard that decides from memory answers at once with
//! [`GuardFuture::ready`] (or `verdict.into()`):
//!
//! ```
//! use axum::body::Body;
//! use axum::http::{HeaderMap, HeaderValue, Request};
//! use scope_runtime::guard::{Guard, GuardFuture, Verdict};
//! use scope_runtime::route::Route;
//! use scope_runtime::{Principal, Scope};
//!
//! /// Tells the client which route template served it.
//! struct RouteHeader;
//!
//! impl<S: Scope> Guard<S> for RouteHeader {
//!     fn check(&self, route: &Route<S>, _: Option<&Principal<S>>, _: &Request<Body>) -> GuardFuture {
//!         let mut headers = HeaderMap::new();
//!         if let Ok(v) = HeaderValue::from_str(route.path()) {
//!             headers.insert("x-route", v);
//!         }
//!         Verdict::Pass(headers).into()
//!     }
//! }
//! ```
//!
//! One that has to ask another process (a shared counter, a quota
//! service) reads what it needs from the borrowed arguments first, then
//! returns [`GuardFuture::new`] over an owned `async move` block:
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicU64, Ordering};
//!
//! use axum::body::Body;
//! use axum::http::{HeaderMap, Request, StatusCode};
//! use axum::response::IntoResponse;
//! use scope_runtime::guard::{Guard, GuardFuture, Verdict};
//! use scope_runtime::route::Route;
//! use scope_runtime::{Principal, Scope};
//!
//! /// Stands for a remote quota service.
//! struct Quota(Arc<AtomicU64>);
//!
//! impl<S: Scope> Guard<S> for Quota {
//!     fn check(&self, _: &Route<S>, principal: Option<&Principal<S>>, _: &Request<Body>) -> GuardFuture {
//!         let user = principal.and_then(|p| p.user_id()).map(str::to_owned);
//!         let used = Arc::clone(&self.0);
//!         GuardFuture::new(async move {
//!             // A network round trip would be awaited here.
//!             if user.is_some() && used.fetch_add(1, Ordering::Relaxed) >= 1000 {
//!                 return Verdict::Reject(StatusCode::PAYMENT_REQUIRED.into_response());
//!             }
//!             Verdict::Pass(HeaderMap::new())
//!         })
//!     }
//! }
//! ```
//!
//! # Why `check` returns a [`GuardFuture`]
//!
//! A guard may need a round trip (the `RateLimiter` of `scope-ratelimit`
//! over Redis), but most answer from memory on the request path of every
//! route. `GuardFuture` serves both without making the trait generic: it
//! is either a ready [`Verdict`] (no allocation; the enforcement layer
//! takes it synchronously with [`GuardFuture::into_ready`] and calls the
//! handler as if the guard were a plain function) or a boxed `'static`
//! future (which `into_ready` hands back as a [`PendingVerdict`] to await). An associated `type
//! Future`, as [`tower_service::Service`] has, would make `Guard` unusable
//! as `dyn Guard`, which [`Enforcer`](crate::enforce::Enforcer) stores so
//! that it is not generic over its guard; a separate async trait would give
//! the layer two hooks to call and keep in step. The future is `'static`,
//! so it borrows neither the route, the principal nor the request: the
//! layer holds the request while the guard runs and hands it to the
//! handler afterwards, with no self-referential state.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

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

/// The answer of [`Guard::check`]: a [`Verdict`] now, or a future of one.
/// See the [module docs](self) for why it has this shape.
#[must_use = "a guard's verdict does nothing unless it is awaited or taken"]
pub struct GuardFuture {
    kind: Kind,
}

enum Kind {
    /// `None` only once polled to completion (as any future, it must not
    /// be used again); [`GuardFuture::into_ready`] consumes it instead.
    Ready(Option<Verdict>),
    Boxed(Pin<Box<dyn Future<Output = Verdict> + Send + 'static>>),
}

impl GuardFuture {
    /// A verdict known now: no allocation, and the enforcement layer does
    /// not wait.
    pub fn ready(verdict: Verdict) -> Self {
        Self {
            kind: Kind::Ready(Some(verdict)),
        }
    }

    /// A verdict that needs waiting for (boxes `future`).
    pub fn new(future: impl Future<Output = Verdict> + Send + 'static) -> Self {
        Self {
            kind: Kind::Boxed(Box::pin(future)),
        }
    }

    /// The verdict if it is known without waiting, or else the future to
    /// await for it. Taking `self` leaves no spent future behind to be
    /// awaited by mistake.
    ///
    /// # Errors
    /// A [`PendingVerdict`] to await, when the verdict needs waiting for.
    ///
    /// # Panics
    /// If this future was already polled to completion (as any future, it
    /// must not be used after).
    pub fn into_ready(self) -> Result<Verdict, PendingVerdict> {
        match self.kind {
            Kind::Ready(verdict) => Ok(verdict.expect("GuardFuture used after it completed")),
            Kind::Boxed(future) => Err(PendingVerdict { future }),
        }
    }
}

/// A verdict that needs waiting for: what [`GuardFuture::into_ready`]
/// gives back when the guard has to ask another process. Await it.
#[must_use = "a guard's verdict does nothing unless it is awaited"]
pub struct PendingVerdict {
    future: Pin<Box<dyn Future<Output = Verdict> + Send + 'static>>,
}

impl Future for PendingVerdict {
    type Output = Verdict;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Verdict> {
        self.future.as_mut().poll(cx)
    }
}

impl std::fmt::Debug for PendingVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingVerdict").finish_non_exhaustive()
    }
}

impl From<Verdict> for GuardFuture {
    fn from(verdict: Verdict) -> Self {
        Self::ready(verdict)
    }
}

impl Future for GuardFuture {
    type Output = Verdict;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Verdict> {
        // Both variants are `Unpin` (a `Box` moves freely), so no projection.
        match &mut self.get_mut().kind {
            Kind::Ready(verdict) => {
                Poll::Ready(verdict.take().expect("GuardFuture polled after completion"))
            }
            Kind::Boxed(future) => future.as_mut().poll(cx),
        }
    }
}

impl std::fmt::Debug for GuardFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.kind {
            Kind::Ready(Some(_)) => "ready",
            Kind::Ready(None) => "done",
            Kind::Boxed(_) => "pending",
        };
        f.debug_struct("GuardFuture")
            .field("state", &state)
            .finish()
    }
}

/// A check run after authorization, before the handler: see the
/// [module docs](self).
///
/// It runs on the request path of every route: answer from memory with
/// [`GuardFuture::ready`] when possible, and bound any waiting (a guard
/// that waits delays the request by as much). Routes declared `public`
/// run it with no principal, whatever the request carries. It runs only
/// for requests that passed authorization (a 401 or 403 never reaches
/// it), and the headers of [`Verdict::Pass`] replace any of the same name
/// the handler set.
pub trait Guard<S: Scope>: Send + Sync + 'static {
    /// Decides about `request`, which `route` matched and which is
    /// authorized as `principal` (`None`: anonymous). The returned future
    /// borrows none of them: copy what it needs before it starts.
    fn check(
        &self,
        route: &Route<S>,
        principal: Option<&Principal<S>>,
        request: &Request<Body>,
    ) -> GuardFuture;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ready_verdict_is_taken_without_polling() {
        let ready = GuardFuture::ready(Verdict::Pass(HeaderMap::new()));
        assert!(matches!(ready.into_ready(), Ok(Verdict::Pass(_))));
        let pending = GuardFuture::new(async { Verdict::Pass(HeaderMap::new()) });
        let pending = pending.into_ready().expect_err("needs waiting for");
        assert_eq!(format!("{pending:?}"), "PendingVerdict { .. }");
    }

    /// A future handed back by `into_ready` still gives its verdict.
    #[tokio::test]
    async fn a_pending_verdict_is_awaited_after_into_ready() {
        let pending = GuardFuture::new(async {
            tokio::task::yield_now().await;
            Verdict::Pass(HeaderMap::new())
        });
        let pending = pending.into_ready().expect_err("needs waiting for");
        assert!(matches!(pending.await, Verdict::Pass(_)));
        let ready = GuardFuture::ready(Verdict::Pass(HeaderMap::new()));
        assert!(matches!(ready.await, Verdict::Pass(_)));
    }
}
