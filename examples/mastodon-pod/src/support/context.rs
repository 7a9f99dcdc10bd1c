//! The request's context: the database, how to write URLs, the viewer and
//! the query parameters.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use scope_runtime::Principal;
use sqlx::AnyPool;

use super::{ApiError, Params, parse_id};
use crate::{AppState, Scope};

/// The request's context: the database, how to write URLs, the viewer and
/// the query parameters.
pub(crate) struct Ctx {
    pub(crate) db: AnyPool,
    /// The configured issuer without a trailing slash (`https://host`).
    pub(crate) base: String,
    /// The issuer's host (and port).
    pub(crate) host: String,
    pub(super) path: String,
    pub(super) raw_query: Vec<(String, String)>,
    pub(crate) query: Params,
    /// The user of the token, if a user token was sent.
    pub(crate) viewer: Option<i64>,
    /// The streaming API's fan-out.
    pub(crate) hub: crate::streaming::Hub,
}

impl Ctx {
    /// The authenticated user, or 401 (app tokens and anonymous requests).
    pub(crate) fn me(&self) -> Result<i64, ApiError> {
        self.viewer.ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "This method requires an authenticated user",
            )
        })
    }

    /// A URL of this server.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The streaming API's URL: the issuer's host, `wss://` under an
    /// `https://` issuer, `ws://` otherwise.
    pub(crate) fn streaming_url(&self) -> String {
        let secure = self.base.starts_with("https://");
        format!("{}://{}", if secure { "wss" } else { "ws" }, self.host)
    }

    /// A context outside any request (demo data), writing URLs for
    /// `http://localhost`.
    pub(crate) fn internal(db: AnyPool, viewer: Option<i64>) -> Self {
        Self {
            db,
            base: "http://localhost".into(),
            host: "localhost".into(),
            path: String::new(),
            raw_query: Vec::new(),
            query: Params::default(),
            viewer,
            hub: crate::streaming::Hub::default(),
        }
    }

    /// The same server seen by `viewer` (no query): what a stream renders
    /// for its subscribers.
    pub(crate) fn seen_by(&self, viewer: Option<i64>) -> Self {
        Self {
            db: self.db.clone(),
            base: self.base.clone(),
            host: self.host.clone(),
            path: String::new(),
            raw_query: Vec::new(),
            query: Params::default(),
            viewer,
            hub: self.hub.clone(),
        }
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let raw_query = pod_kit::body::query_pairs(parts.uri.query());
        let viewer = parts
            .extensions
            .get::<Principal<Scope>>()
            .and_then(|p| p.user_id())
            .and_then(parse_id);
        Ok(Self {
            db: state.db.clone(),
            // From the configured issuer, never from the request's headers
            // (see `AppState::new`).
            base: state.base.to_string(),
            host: state.host.to_string(),
            path: parts.uri.path().to_owned(),
            query: Params::from_pairs(raw_query.clone()),
            raw_query,
            viewer,
            hub: state.hub.clone(),
        })
    }
}
