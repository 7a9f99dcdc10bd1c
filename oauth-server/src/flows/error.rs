//! The errors of the flows: an OAuth error code, a description and the
//! HTTP status the docs give it.

use http::StatusCode;

/// An error answered as `{"error": code, "error_description": description}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The OAuth error code (`invalid_grant`, ...), or for Mastodon's app
    /// registration a whole message.
    pub code: &'static str,
    /// Human-readable detail.
    pub description: String,
}

impl OAuthError {
    fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
        }
    }

    /// 400 `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// 401 `invalid_client`, with the text of the Mastodon docs.
    pub fn invalid_client() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
        )
    }

    /// 400 `invalid_grant`, with the text of the Mastodon docs.
    pub fn invalid_grant() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
        )
    }

    /// 400 `invalid_scope`, with the text of the Mastodon docs.
    pub fn invalid_scope() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "The requested scope is invalid, unknown, or malformed.",
        )
    }

    /// 400 `unsupported_grant_type`.
    pub fn unsupported_grant_type() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        )
    }

    /// 403 `unauthorized_client` (revoking a token of another client).
    pub fn not_your_token() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "unauthorized_client",
            "You are not authorized to revoke this token",
        )
    }

    /// 422 with Mastodon's validation message in `error`.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        )
    }

    /// 500 `server_error` (the store failed); the detail is logged, not sent.
    pub fn server_error() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "The authorization server encountered an unexpected condition.",
        )
    }

    /// 503 `temporarily_unavailable`.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "The authorization server is temporarily unable to handle the request.",
        )
    }
}

impl From<crate::primitives::StoreError> for OAuthError {
    fn from(e: crate::primitives::StoreError) -> Self {
        if let crate::primitives::StoreError::Invalid(reason) = &e {
            tracing::debug!(%reason, "value refused by the store");
            return Self::invalid_request("The request holds a value that cannot be stored.");
        }
        tracing::error!(error = %e, "store failure");
        Self::unavailable()
    }
}

impl From<crate::secret::RandomError> for OAuthError {
    fn from(e: crate::secret::RandomError) -> Self {
        tracing::error!(error = %e, "no randomness");
        Self::server_error()
    }
}
