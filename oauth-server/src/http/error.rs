//! OAuth errors as HTTP responses.

use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};

use crate::flows::OAuthError;

/// An [`OAuthError`] answered as JSON: `{"error", "error_description"}`, or
/// Mastodon's `{"error": "Validation failed: ..."}` for 422s.
#[derive(Debug)]
pub struct Rejection(pub OAuthError);

impl From<OAuthError> for Rejection {
    fn from(e: OAuthError) -> Self {
        Self(e)
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let e = self.0;
        let body = if e.status == StatusCode::UNPROCESSABLE_ENTITY {
            serde_json::json!({ "error": e.description })
        } else {
            serde_json::json!({ "error": e.code, "error_description": e.description })
        };
        let mut response = (e.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if e.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"oauth\""),
            );
        }
        response
    }
}
