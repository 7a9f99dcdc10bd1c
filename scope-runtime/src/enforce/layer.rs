//! [`EnforceLayer`] and its service [`Enforce`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, Request};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::{Authorized, BoxFuture, Check, Enforcer, finish_response};
use crate::route::Route;
use crate::scope::Scope;

/// Enforces one route of the table: built by [`Enforcer::layer`].
#[must_use]
pub struct EnforceLayer<S: Scope> {
    enforcer: Enforcer<S>,
    route: Route<S>,
}

impl<S: Scope> EnforceLayer<S> {
    pub(crate) fn new(enforcer: Enforcer<S>, route: Route<S>) -> Self {
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
    route: Route<S>,
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
    type Future = ResponseFuture<I::Future, I::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let kind = match self.enforcer.check(&self.route, &mut request) {
            // The hot path: no token needed, or the validator answered at
            // once (cache hit), and the guard (if any) decided from memory.
            Check::Ready(Ok(headers)) => Kind::Inner {
                future: self.inner.call(request),
                headers,
            },
            Check::Ready(Err(response)) => Kind::ready(response),
            Check::Pending(check) => {
                // The validator or the guard waits for another process:
                // the rest of the request waits with it.
                let mut inner = self.take_ready_inner();
                Kind::Boxed {
                    future: Box::pin(async move {
                        match check.await {
                            Ok(Authorized { request, headers }) => {
                                Ok(finish_response(inner.call(request).await?, headers))
                            }
                            Err(response) => Ok(response),
                        }
                    }),
                }
            }
        };
        ResponseFuture { kind }
    }
}

impl<S: Scope, I: Clone> Enforce<S, I> {
    /// The service that was driven to readiness, leaving a clone in its
    /// place, for a future that calls it later:
    /// <https://docs.rs/tower/latest/tower/trait.Service.html#be-careful-when-cloning-inner-services>
    fn take_ready_inner(&mut self) -> I {
        let clone = self.inner.clone();
        std::mem::replace(&mut self.inner, clone)
    }
}

pin_project! {
    /// The response future of [`Enforce`].
    pub struct ResponseFuture<F, E> {
        #[pin]
        kind: Kind<F, E>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, E> {
        Inner { #[pin] future: F, headers: Option<HeaderMap> },
        Ready { response: Option<Response> },
        // The validator's future type is unnameable (`impl Future` in a
        // trait) and a guard's is erased, so a request that has to wait for
        // either is boxed.
        Boxed { future: BoxFuture<'static, Result<Response, E>> },
    }
}

impl<F, E> Kind<F, E> {
    fn ready(response: Response) -> Self {
        Kind::Ready {
            response: Some(response),
        }
    }
}

impl<F, E> From<Kind<F, E>> for ResponseFuture<F, E> {
    fn from(kind: Kind<F, E>) -> Self {
        ResponseFuture { kind }
    }
}

impl<F, E> Future for ResponseFuture<F, E>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { future, headers } => {
                let response = std::task::ready!(future.poll(cx))?;
                Poll::Ready(Ok(finish_response(response, headers.take())))
            }
            KindProj::Ready { response } => {
                Poll::Ready(Ok(response.take().expect("future polled after completion")))
            }
            KindProj::Boxed { future } => future.as_mut().poll(cx),
        }
    }
}

impl<F, E> std::fmt::Debug for ResponseFuture<F, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
