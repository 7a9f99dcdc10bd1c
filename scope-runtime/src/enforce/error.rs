//! Refusals of the enforcement layer and their RFC 6750 §3 responses.

use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};

use super::bearer::Malformed;
use crate::route::Requirement;
use crate::scope::Scope;

/// The shape of error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ErrorStyle {
    /// `{"error": "insufficient_scope", "error_description": "...", "scope": "..."}`:
    /// RFC 6750 error codes in the body as in the header.
    #[default]
    Rfc6750,
    /// `{"error": "This action is outside the authorized scopes"}`: the
    /// human-readable messages Mastodon (Doorkeeper) answers with, which its
    /// clients display. A user-only route refused to an app token answers
    /// 422, as Mastodon does.
    Mastodon,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError<S: 'static> {
    /// No bearer token was sent to a route that needs one (401, bare
    /// `Bearer` challenge, RFC 6750 §3.1).
    MissingToken,
    /// The `Authorization` header could not be read (401 `invalid_token`).
    MalformedHeader(&'static str),
    /// The token is unknown, expired or revoked (401 `invalid_token`).
    InvalidToken,
    /// The token lacks the route's scopes (403 `insufficient_scope`).
    InsufficientScope(Requirement<S>),
    /// The route needs a user token and got an app token.
    UserRequired,
    /// The route needs an app token and got a user token.
    AppRequired,
    /// The validator could not answer (503).
    Unavailable,
}

impl<S: 'static> AuthError<S> {
    pub(crate) fn malformed(m: Malformed) -> Self {
        Self::MalformedHeader(m.describe())
    }

    /// The HTTP status of the response.
    pub fn status(&self, style: ErrorStyle) -> StatusCode {
        match self {
            Self::MissingToken | Self::MalformedHeader(_) | Self::InvalidToken => {
                StatusCode::UNAUTHORIZED
            }
            Self::InsufficientScope(_) | Self::AppRequired => StatusCode::FORBIDDEN,
            Self::UserRequired => match style {
                ErrorStyle::Mastodon => StatusCode::UNPROCESSABLE_ENTITY,
                ErrorStyle::Rfc6750 => StatusCode::FORBIDDEN,
            },
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::MissingToken | Self::MalformedHeader(_) | Self::InvalidToken => "invalid_token",
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::UserRequired | Self::AppRequired => "access_denied",
            Self::Unavailable => "temporarily_unavailable",
        }
    }

    fn description(&self) -> &'static str {
        match self {
            Self::MissingToken => "This resource requires an access token",
            Self::MalformedHeader(why) => why,
            Self::InvalidToken => "The access token is invalid",
            Self::InsufficientScope(_) => "This action is outside the authorized scopes",
            Self::UserRequired => "This method requires an authenticated user",
            Self::AppRequired => "This method requires a client credentials token",
            Self::Unavailable => "Token validation is temporarily unavailable",
        }
    }
}

impl<S: Scope> AuthError<S> {
    fn required_scopes(&self) -> Option<String> {
        match self {
            Self::InsufficientScope(r) => Some(
                r.scopes()
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            _ => None,
        }
    }

    /// The `WWW-Authenticate` challenge (RFC 6750 §3), if the error has one.
    pub fn challenge(&self, realm: Option<&str>) -> Option<String> {
        let mut params = Vec::new();
        if let Some(realm) = realm {
            params.push(format!("realm=\"{realm}\""));
        }
        match self {
            Self::MissingToken => {}
            Self::MalformedHeader(_) | Self::InvalidToken | Self::InsufficientScope(_) => {
                params.push(format!("error=\"{}\"", self.code()));
                params.push(format!("error_description=\"{}\"", self.description()));
                if let Some(scope) = self.required_scopes() {
                    params.push(format!("scope=\"{scope}\""));
                }
            }
            Self::UserRequired | Self::AppRequired | Self::Unavailable => return None,
        }
        Some(if params.is_empty() {
            "Bearer".to_owned()
        } else {
            format!("Bearer {}", params.join(", "))
        })
    }

    /// The response: status, `WWW-Authenticate`, and a JSON body in `style`.
    pub fn response(&self, style: ErrorStyle, realm: Option<&str>) -> Response {
        let body = match style {
            ErrorStyle::Mastodon => {
                let message = match self {
                    // Doorkeeper answers a missing token like an invalid one.
                    Self::MissingToken | Self::MalformedHeader(_) => "The access token is invalid",
                    _ => self.description(),
                };
                serde_json::json!({ "error": message })
            }
            ErrorStyle::Rfc6750 => {
                let mut body = serde_json::json!({
                    "error": self.code(),
                    "error_description": self.description(),
                });
                if let Some(scope) = self.required_scopes() {
                    body["scope"] = scope.into();
                }
                body
            }
        };
        let mut response = (self.status(style), body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(challenge) = self.challenge(realm)
            && let Ok(value) = HeaderValue::from_str(&challenge)
        {
            headers.insert(WWW_AUTHENTICATE, value);
        }
        response
    }
}

impl<S: Scope> IntoResponse for AuthError<S> {
    fn into_response(self) -> Response {
        self.response(ErrorStyle::default(), None)
    }
}

impl<S: Scope> std::fmt::Display for AuthError<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.description())?;
        if let Some(scope) = self.required_scopes() {
            write!(f, " (requires {scope})")?;
        }
        Ok(())
    }
}

impl<S: Scope> std::error::Error for AuthError<S> {}
