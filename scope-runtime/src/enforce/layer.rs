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

use super::{BoxFuture, Enforcer, Step};
use crate::guard::Verdict;
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
        let kind = match self.enforcer.precheck(&self.route, request.headers()) {
            // The hot path: no token needed, or the validator answered at
            // once (cache hit), and the guard (if any) decided from memory.
            // No allocation beyond the extension.
            Step::Proceed(principal) => {
                let guard = self
                    .enforcer
                    .run_guard(&self.route, principal.as_ref(), &request);
                let headers = match guard {
                    None => None,
                    Some(guard) => match guard.into_ready() {
                        Ok(Verdict::Pass(headers)) => Some(headers),
                        Ok(Verdict::Reject(response)) => return Kind::ready(response).into(),
                        Err(guard) => {
                            // The guard waits for something (a shared
                            // counter): the rest of the request waits with it.
                            let mut inner = self.take_ready_inner();
                            return Kind::Boxed {
                                future: Box::pin(async move {
                                    let headers = match guard.await {
                                        Verdict::Pass(headers) => headers,
                                        Verdict::Reject(response) => return Ok(response),
                                    };
                                    if let Some(principal) = principal {
                                        request.extensions_mut().insert(principal);
                                    }
                                    let mut response = inner.call(request).await?;
                                    response.headers_mut().extend(headers);
                                    Ok(response)
                                }),
                            }
                            .into();
                        }
                    },
                };
                if let Some(principal) = principal {
                    request.extensions_mut().insert(principal);
                }
                Kind::Inner {
                    future: self.inner.call(request),
                    headers,
                }
            }
            Step::Reject(error) => Kind::ready(self.enforcer.reject(&error)),
            Step::Validate(token, access) => {
                let mut inner = self.take_ready_inner();
                let enforcer = self.enforcer.clone();
                let route = self.route;
                Kind::Boxed {
                    future: Box::pin(async move {
                        let answer = enforcer.validate(&token).await;
                        let principal = match enforcer.finish(&route, access, answer) {
                            Ok(principal) => principal,
                            Err(error) => return Ok(enforcer.reject(&error)),
                        };
                        let headers = match enforcer.run_guard(&route, Some(&principal), &request) {
                            None => None,
                            Some(guard) => match guard.await {
                                Verdict::Pass(headers) => Some(headers),
                                Verdict::Reject(response) => return Ok(response),
                            },
                        };
                        request.extensions_mut().insert(principal);
                        let mut response = inner.call(request).await?;
                        if let Some(headers) = headers {
                            response.headers_mut().extend(headers);
                        }
                        Ok(response)
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
                let mut response = std::task::ready!(future.poll(cx))?;
                if let Some(headers) = headers.take() {
                    response.headers_mut().extend(headers);
                }
                Poll::Ready(Ok(response))
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
