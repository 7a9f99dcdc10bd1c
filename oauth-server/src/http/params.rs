//! Reading OAuth parameters from a request body without ever failing
//! badly: form or JSON, bounded size, duplicates refused (RFC 6749 §3.1),
//! unknown parameters ignored (§3.2).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use http::header::CONTENT_TYPE;

use super::error::Rejection;
use crate::flows::OAuthError;

/// Largest body accepted by the OAuth endpoints.
pub const MAX_BODY: usize = 64 * 1024;

/// Every parameter some endpoint of the server reads; the others are
/// dropped while parsing.
const KNOWN: &[&str] = &[
    "client_id",
    "client_name",
    "client_secret",
    "code",
    "code_challenge",
    "code_challenge_method",
    "code_verifier",
    "csrf_token",
    "decision",
    "force_login",
    "grant_type",
    "lang",
    "name",
    "password",
    "redirect_uri",
    "redirect_uris",
    "refresh_token",
    "response_type",
    "scope",
    "scopes",
    "state",
    "token",
    "token_type_hint",
    "username",
    "website",
];

/// The parameters of a request body, by name. A JSON array value (e.g.
/// Mastodon's `redirect_uris`) becomes its items joined by newlines.
#[derive(Default, Clone)]
pub struct Params(pub HashMap<String, String>);

/// Names only: values may be secrets or passwords.
impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Params {
    /// The value of `name`, if sent and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The value of `name`, owned.
    pub fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    /// Parses a form body. A parameter the server reads may appear once
    /// (RFC 6749 §3.1); one it does not know is ignored, repeated or not
    /// (§3.2): Mastodon.py, for one, sends a repeated `oauth_info` to the
    /// token endpoint.
    ///
    /// # Errors
    /// `invalid_request` for a repeated parameter the server reads.
    pub fn from_form(body: &[u8]) -> Result<Self, OAuthError> {
        let mut out = HashMap::new();
        for (k, v) in form_urlencoded::parse(body) {
            if !KNOWN.contains(&k.as_ref()) {
                continue;
            }
            if out.insert(k.to_string(), v.into_owned()).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {k} is repeated"
                )));
            }
        }
        Ok(Self(out))
    }

    fn from_json(body: &[u8]) -> Result<Self, OAuthError> {
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|_| OAuthError::invalid_request("the JSON body is malformed"))?;
        let serde_json::Value::Object(map) = value else {
            return Err(OAuthError::invalid_request(
                "the JSON body must be an object",
            ));
        };
        let mut out = HashMap::new();
        for (k, v) in map {
            let v = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Array(items) => items
                    .iter()
                    .filter_map(|i| i.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
                serde_json::Value::Null => continue,
                other => other.to_string(),
            };
            out.insert(k, v);
        }
        Ok(Self(out))
    }
}

impl<St: Send + Sync> FromRequest<St> for Params {
    type Rejection = Rejection;

    async fn from_request(req: Request, state: &St) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                Rejection(OAuthError {
                    status: http::StatusCode::PAYLOAD_TOO_LARGE,
                    ..OAuthError::invalid_request(format!(
                        "the body is larger than {MAX_BODY} bytes"
                    ))
                })
            } else {
                Rejection(OAuthError::invalid_request("the body could not be read"))
            }
        })?;
        let params = if is_json {
            Self::from_json(&body)
        } else {
            Self::from_form(&body)
        };
        params.map_err(Rejection)
    }
}

/// The user and password of an `Authorization: Basic` header: `None` when
/// there is no such header (none, or another scheme), `Some(Err(()))` when
/// it cannot be read. The one Basic reader of the server (bearer tokens are
/// the enforcement layer's).
pub(crate) fn basic_auth(headers: &http::HeaderMap) -> Option<Result<(String, String), ()>> {
    use base64::Engine as _;
    let value = headers.get(http::header::AUTHORIZATION)?;
    let Ok(value) = value.to_str() else {
        return Some(Err(()));
    };
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|d| String::from_utf8(d).ok());
    Some(
        decoded
            .as_deref()
            .and_then(|d| d.split_once(':'))
            .map(|(user, password)| (user.to_owned(), password.to_owned()))
            .ok_or(()),
    )
}

/// Client credentials from HTTP Basic (RFC 6749 §2.3.1, form-encoded id and
/// secret) or, failing that, from the body.
pub(crate) fn client_credentials(
    headers: &http::HeaderMap,
    params: &Params,
) -> Result<(String, Option<String>), OAuthError> {
    match basic_auth(headers) {
        Some(Ok((id, secret))) => {
            let unescape = |s: &str| -> String {
                form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            Ok((unescape(&id), Some(unescape(&secret))))
        }
        Some(Err(())) => Err(OAuthError::invalid_client()),
        None => {
            let id = params
                .owned("client_id")
                .ok_or_else(OAuthError::invalid_client)?;
            Ok((id, params.owned("client_secret")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::KNOWN;

    /// A parameter an endpoint reads but `KNOWN` lacks would be dropped
    /// silently: every name read through `Params` must be listed.
    #[test]
    fn every_parameter_read_is_known() {
        let sources = [
            include_str!("api.rs"),
            include_str!("page.rs"),
            include_str!("personal.rs"),
            include_str!("mod.rs"),
        ];
        let mut seen = 0;
        for source in sources {
            for call in ["params.get(\"", "params.owned(\""] {
                for rest in source.split(call).skip(1) {
                    let name = rest.split('"').next().unwrap_or_default();
                    assert!(KNOWN.contains(&name), "{name} is read but not in KNOWN");
                    seen += 1;
                }
            }
        }
        assert!(seen > 20, "the scan found only {seen} reads");
    }
}
