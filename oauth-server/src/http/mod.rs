//! Thin axum routes over [`AuthServer`]: [`router`] mounts every endpoint
//! at Mastodon's and Funkwhale's paths.
//!
//! | path | what |
//! |---|---|
//! | `POST /api/v1/apps` | register an app (Mastodon) |
//! | `GET /api/v1/apps/verify_credentials` | the app of a token |
//! | `POST /api/v1/oauth/apps` | register an app (Funkwhale) |
//! | `GET`, `POST /oauth/authorize` (and `/authorize`) | login and consent page |
//! | `POST /oauth/token` (and `/api/v1/oauth/token`) | token endpoint |
//! | `POST /oauth/revoke` | RFC 7009 |
//! | `POST /oauth/introspect` | RFC 7662 |
//! | `GET /.well-known/oauth-authorization-server` | RFC 8414 |
//! | `GET /.well-known/jwks.json` | RFC 7517: the keys of JWT access tokens (404 without) |
//! | `GET`, `POST /settings/applications/new` | personal application token (page) |
//! | `POST /api/v1/oauth/apps/personal` | personal application token (API, with a user token) |

mod api;
mod error;
mod login;
mod page;
mod params;
mod personal;
mod session;

use std::marker::PhantomData;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::handler::Handler;
use axum::routing::{MethodRouter, on};
use scope_runtime::Scope;
use scope_runtime::enforce::Enforcer;
use scope_runtime::route::{Method, Route, ScopedHandler};

pub use self::error::Rejection;
pub use self::params::{MAX_BODY, Params};
use crate::flows::AuthServer;
use crate::primitives::Store;

/// The state of the OAuth routes.
pub struct HttpState<S: Scope, St: Store> {
    server: AuthServer<S, St>,
    logins: Arc<login::Logins>,
}

impl<S: Scope, St: Store> Clone for HttpState<S, St> {
    fn clone(&self) -> Self {
        Self {
            server: self.server.clone(),
            logins: Arc::clone(&self.logins),
        }
    }
}

/// The address the client's limits count under (see
/// [`client_ip`](scope_runtime::client_ip::client_ip): the peer, or what a
/// trusted proxy forwarded; IPv6 per /64), `None` without `ConnectInfo`.
pub(crate) struct ClientAddr(pub(crate) Option<std::net::IpAddr>);

impl<St: Send + Sync> axum::extract::FromRequestParts<St> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &St,
    ) -> Result<Self, Self::Rejection> {
        use scope_runtime::client_ip::{client_ip, limit_address};
        Ok(Self(
            client_ip(&parts.headers, &parts.extensions).map(limit_address),
        ))
    }
}

impl<S: Scope, St: Store> HttpState<S, St> {
    fn secure_cookies(&self) -> bool {
        self.server.config().issuer.starts_with("https://")
    }
}

impl<S: Scope, St: Store> FromRef<HttpState<S, St>> for AuthServer<S, St> {
    fn from_ref(state: &HttpState<S, St>) -> Self {
        state.server.clone()
    }
}

/// The server's route table: every endpoint is declared with
/// `#[requires_scope]` and served behind the enforcer's layer for its row,
/// as the routes of `scope_routes!` are: one bearer parser, one validator,
/// one guard (the rate limiter) for the whole process. `scope_routes!`
/// writes a table for one hierarchy; this one serves every hierarchy, so
/// `table!` writes its rows with the same constructor.
pub struct Routes<S>(PhantomData<fn() -> S>);

macro_rules! table {
    ($($method:ident $path:expr => $module:ident :: $handler:ident),* $(,)?) => {
        impl<S: Scope> Routes<S> {
            /// Every route the server serves.
            pub const ROUTES: [Route<S>; [$($path),*].len()] = [$(
                Route::__new(
                    Method::$method,
                    $path,
                    concat!(stringify!($module), "::", stringify!($handler)),
                    <markers::$module::$handler as ScopedHandler<S>>::DECLARATION,
                )
            ),*];
        }

        /// The rows' services, each behind its row's layer, with their paths.
        fn services<S: Scope, St: Store>(
            enforcer: &Enforcer<S>,
        ) -> Vec<(&'static str, MethodRouter<HttpState<S, St>>)> {
            let routes = &Routes::<S>::ROUTES;
            let mut services = Vec::with_capacity(routes.len());
            $(
                let row = &routes[services.len()];
                services.push((
                    row.path(),
                    on(row.method().filter(), $module::$handler::<S, St>.layer(enforcer.layer(row))),
                ));
            )*
            services
        }
    };
}

/// The declarations `#[requires_scope]` wrote next to the handlers, under
/// the handlers' names, for `table!`.
mod markers {
    pub(super) mod api {
        pub(in super::super) use super::super::api::{
            __requires_scope_create_app_funkwhale as create_app_funkwhale,
            __requires_scope_create_app_mastodon as create_app_mastodon,
            __requires_scope_introspect as introspect, __requires_scope_jwks as jwks,
            __requires_scope_metadata as metadata, __requires_scope_revoke as revoke,
            __requires_scope_token as token, __requires_scope_verify_app as verify_app,
        };
    }
    pub(super) mod page {
        pub(in super::super) use super::super::page::{
            __requires_scope_decide as decide, __requires_scope_show as show,
        };
    }
    pub(super) mod personal {
        pub(in super::super) use super::super::personal::{
            __requires_scope_create as create, __requires_scope_create_api as create_api,
            __requires_scope_show as show,
        };
    }
}

table! {
    Post "/api/v1/apps" => api::create_app_mastodon,
    Get "/api/v1/apps/verify_credentials" => api::verify_app,
    Post "/api/v1/oauth/apps" => api::create_app_funkwhale,
    Post "/api/v1/oauth/apps/" => api::create_app_funkwhale,
    Get "/oauth/authorize" => page::show,
    Post "/oauth/authorize" => page::decide,
    Get "/authorize" => page::show,
    Post "/authorize" => page::decide,
    Post "/oauth/token" => api::token,
    Post "/api/v1/oauth/token" => api::token,
    Post "/api/v1/oauth/token/" => api::token,
    Post "/oauth/revoke" => api::revoke,
    Post "/oauth/introspect" => api::introspect,
    Get "/.well-known/oauth-authorization-server" => api::metadata,
    Get api::JWKS_PATH => api::jwks,
    Get "/settings/applications/new" => personal::show,
    Post "/settings/applications/new" => personal::create,
    Post "/api/v1/oauth/apps/personal" => personal::create_api,
}

/// Every endpoint of the authorization server, ready to merge into a pod's
/// router, behind an enforcer of its own: the server's store, no cache, no
/// guard, RFC 6750 error bodies. A pod passes its own enforcer to
/// [`router_with`] instead, so its token cache, error style and rate
/// limiter apply here too.
pub fn router<S: Scope, St: Store, Outer>(server: AuthServer<S, St>) -> Router<Outer> {
    let enforcer = Enforcer::new(server.validator());
    router_with(server, &enforcer)
}

/// Every endpoint of the authorization server ([`Routes::ROUTES`]), each
/// behind `enforcer`'s layer for its row.
pub fn router_with<S: Scope, St: Store, Outer>(
    server: AuthServer<S, St>,
    enforcer: &Enforcer<S>,
) -> Router<Outer> {
    let state = HttpState {
        server,
        logins: Arc::default(),
    };
    let mut router: Router<HttpState<S, St>> = Router::new();
    // Rows of one path merge (axum refuses only a method routed twice).
    for (path, service) in services::<S, St>(enforcer) {
        router = router.route(path, service);
    }
    router
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}
