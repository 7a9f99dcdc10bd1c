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
mod page;
mod params;
mod personal;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::{get, post};
use scope_runtime::Scope;

pub use self::error::Rejection;
pub use self::params::{MAX_BODY, Params};
use crate::flows::AuthServer;
use crate::primitives::Store;

/// The state of the OAuth routes.
pub struct HttpState<S: Scope, St: Store> {
    server: AuthServer<S, St>,
    sessions: Arc<page::Sessions>,
}

impl<S: Scope, St: Store> Clone for HttpState<S, St> {
    fn clone(&self) -> Self {
        Self {
            server: self.server.clone(),
            sessions: Arc::clone(&self.sessions),
        }
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

/// Every endpoint of the authorization server, ready to merge into a pod's
/// router.
pub fn router<S: Scope, St: Store, Outer>(server: AuthServer<S, St>) -> Router<Outer> {
    let state = HttpState {
        server,
        sessions: Arc::default(),
    };
    Router::new()
        .route("/api/v1/apps", post(api::create_app_mastodon::<S, St>))
        .route(
            "/api/v1/apps/verify_credentials",
            get(api::verify_app::<S, St>),
        )
        .route(
            "/api/v1/oauth/apps",
            post(api::create_app_funkwhale::<S, St>),
        )
        .route(
            "/api/v1/oauth/apps/",
            post(api::create_app_funkwhale::<S, St>),
        )
        .route(
            "/oauth/authorize",
            get(page::show::<S, St>).post(page::decide::<S, St>),
        )
        .route(
            "/authorize",
            get(page::show::<S, St>).post(page::decide::<S, St>),
        )
        .route("/oauth/token", post(api::token::<S, St>))
        .route("/api/v1/oauth/token", post(api::token::<S, St>))
        .route("/api/v1/oauth/token/", post(api::token::<S, St>))
        .route("/oauth/revoke", post(api::revoke::<S, St>))
        .route("/oauth/introspect", post(api::introspect::<S, St>))
        .route(
            "/.well-known/oauth-authorization-server",
            get(api::metadata::<S, St>),
        )
        .route(api::JWKS_PATH, get(api::jwks::<S, St>))
        .route(
            "/settings/applications/new",
            get(personal::show::<S, St>).post(personal::create::<S, St>),
        )
        .route(
            "/api/v1/oauth/apps/personal",
            post(personal::create_api::<S, St>),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}
