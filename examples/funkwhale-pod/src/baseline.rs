//! The load test's baseline (`bench/pod-load.sh`): the pod's own
//! `GET /api/v1/users/me/` handler on a bare axum router, with the
//! principal fixed instead of read from a token. The same handler and
//! database work as the pod, without the framework (no bearer parsing,
//! token validation, scope check or rate limiting), so the ratio of the two
//! is the framework's cost.

use axum::Router;
use axum::routing::get;
use scope_runtime::Principal;

use crate::{AppState, Scope};

/// The bare router serving `/api/v1/users/me/` as `principal`.
pub fn router(state: AppState, principal: Principal<Scope>) -> Router {
    Router::new()
        .route("/api/v1/users/me/", get(crate::users::profile))
        .layer(axum::middleware::map_request(
            move |mut request: axum::extract::Request| {
                let principal = principal.clone();
                async move {
                    request.extensions_mut().insert(principal);
                    request
                }
            },
        ))
        .with_state(state)
}
