//! [`EnforceLayer`] and its service [`Enforce`].

use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::Response;
use http::Request;
use tower_layer::Layer;
use tower_service::Service;

use super::{BoxFuture, Enforcer};
use crate::route::Route;
use crate::scope::Scope;

/// Enforces one route of the table: built by [`Enforcer::layer`].
#[must_use]
pub struct EnforceLayer<S: Scope> {
    enforcer: Enforcer<S>,
    route: &'static Route<S>,
}

impl<S: Scope> EnforceLayer<S> {
    pub(crate) fn new(enforcer: Enforcer<S>, route: &'static Route<S>) -> Self {
        Self { enforcer, route }
    }
}

impl<S: Scope> Clone for EnforceLayer<S> {
    fn clone(&self) -> Self {
        Self {
            enforcer: self.enforcer.clone(),
            route: self.route,
        }
    }
}

impl<S: Scope> std::fmt::Debug for EnforceLayer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnforceLayer")
            .field("method", &self.route.method())
            .field("path", &self.route.path())
            .finish_non_exhaustive()
    }
}

impl<S: Scope, I> Layer<I> for EnforceLayer<S> {
    type Service = Enforce<S, I>;

    fn layer(&self, inner: I) -> Enforce<S, I> {
        Enforce {
            inner,
            enforcer: self.enforcer.clone(),
            route: self.route,
        }
    }
}

/// The service of [`EnforceLayer`]: authorizes, then calls `inner`.
pub struct Enforce<S: Scope, I> {
    inner: I,
    enforcer: Enforcer<S>,
    route: &'static Route<S>,
}

impl<S: Scope, I: Clone> Clone for Enforce<S, I> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            enforcer: self.enforcer.clone(),
            route: self.route,
        }
    }
}

impl<S: Scope, I> std::fmt::Debug for Enforce<S, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enforce")
            .field("method", &self.route.method())
            .field("path", &self.route.path())
            .finish_non_exhaustive()
    }
}

impl<S: Scope, I> Enforce<S, I> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &I {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut I {
        &mut self.inner
    }

    /// The wrapped service, unwrapped.
    pub fn into_inner(self) -> I {
        self.inner
    }
}

impl<S, I> Service<Request<Body>> for Enforce<S, I>
where
    S: Scope,
    I: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    I::Future: Send + 'static,
{
    type Response = Response;
    type Error = I::Error;
    // Validation is async and the validator's future type is unnameable
    // (`impl Future` in a trait), so the future is boxed: one allocation per
    // request, measured in `benches/enforce.rs`.
    type Future = BoxFuture<'static, Result<Response, I::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // Take the service that was driven to readiness, leave a clone:
        // https://docs.rs/tower/latest/tower/trait.Service.html#be-careful-when-cloning-inner-services
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let enforcer = self.enforcer.clone();
        let route = self.route;
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            match enforcer.authorize(route, &mut parts).await {
                Ok(()) => inner.call(Request::from_parts(parts, body)).await,
                Err(error) => Ok(enforcer.reject(&error)),
            }
        })
    }
}
