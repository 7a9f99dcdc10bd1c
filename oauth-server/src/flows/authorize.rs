//! The authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3): validated
//! before the consent page is shown, then turned into a code.

use scope_runtime::{Scope, ScopeSet};
use serde::Deserialize;

use super::apps::OOB;
use super::{AuthServer, OAuthError, now};
use crate::primitives::{ClientRecord, CodeRecord, Store};
use crate::secret::{self, SecretHash};

/// The query of `GET /oauth/authorize`. Every field is optional here so that
/// a missing one is reported properly rather than by the extractor.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizeRequest {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// The client.
    pub client_id: Option<String>,
    /// One of the client's registered redirect URIs (optional if it has one).
    pub redirect_uri: Option<String>,
    /// Requested scopes; defaults to the hierarchy's default.
    pub scope: Option<String>,
    /// Passed through to the redirect.
    pub state: Option<String>,
    /// PKCE challenge.
    pub code_challenge: Option<String>,
    /// `S256` (or `plain` if configured).
    pub code_challenge_method: Option<String>,
    /// Ask for the password even with a session.
    pub force_login: Option<String>,
}

impl AuthorizeRequest {
    /// Whether `force_login` is set to a true value.
    pub fn force_login(&self) -> bool {
        matches!(
            self.force_login.as_deref(),
            Some("true" | "1" | "yes" | "on")
        )
    }
}

/// A request that may be shown to the user for consent.
#[derive(Debug, Clone)]
pub struct ValidAuthorization<S: Scope> {
    /// The client.
    pub client: ClientRecord,
    /// The redirect URI, exactly as registered.
    pub redirect_uri: String,
    /// Whether the request named it (then the token request must too).
    pub redirect_uri_given: bool,
    /// The scopes asked for.
    pub scopes: ScopeSet<S>,
    /// The client's `state`.
    pub state: Option<String>,
    /// PKCE challenge and method.
    pub challenge: Option<(String, String)>,
}

impl<S: Scope> ValidAuthorization<S> {
    /// Whether the code is shown to the user instead of redirected.
    pub fn is_oob(&self) -> bool {
        self.redirect_uri == OOB
    }

    /// `redirect_uri` with `params` (and `state`) added to its query.
    pub fn redirect_with(&self, params: &[(&str, &str)]) -> String {
        with_query(&self.redirect_uri, params, self.state.as_deref())
    }
}

fn with_query(uri: &str, params: &[(&str, &str)], state: Option<&str>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        query.append_pair(k, v);
    }
    if let Some(state) = state {
        query.append_pair("state", state);
    }
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{}", query.finish())
}

/// `43*128unreserved` (RFC 7636 §4.2).
pub(crate) fn is_pkce_value(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

impl<S: Scope, St: Store> AuthServer<S, St> {
    /// Validates an authorization request.
    ///
    /// Every refusal is shown to the user on the server's own page, never
    /// redirected: anyone can register a client with any redirect URI, so a
    /// redirect answered before the user did anything would make this
    /// endpoint an open redirector (RFC 9700 §4.11.2). Only the user's own
    /// decision (deny) is sent back to the client.
    ///
    /// # Errors
    /// The [`OAuthError`] to show: an unknown client, an unregistered
    /// redirect URI, a bad `response_type`, scope or PKCE challenge.
    pub async fn check_authorize(
        &self,
        req: &AuthorizeRequest,
    ) -> Result<ValidAuthorization<S>, OAuthError> {
        let page = OAuthError::invalid_request;
        let client_id = req
            .client_id
            .as_deref()
            .ok_or_else(|| page("client_id is missing"))?;
        let client = self
            .client(client_id)
            .await?
            .ok_or_else(OAuthError::invalid_client)?;
        let redirect_uri = match (&req.redirect_uri, client.redirect_uris.as_slice()) {
            (Some(uri), registered) if registered.iter().any(|r| r == uri) => uri.clone(),
            (Some(_), _) => return Err(page("redirect_uri is not registered for this client")),
            (None, [only]) => only.clone(),
            (None, _) => return Err(page("redirect_uri is missing")),
        };
        if req.response_type.as_deref() != Some("code") {
            return Err(OAuthError {
                code: "unsupported_response_type",
                ..OAuthError::invalid_request("response_type must be code")
            });
        }
        let scopes = ScopeSet::<S>::parse_requested(req.scope.as_deref().unwrap_or_default())
            .map_err(|_| OAuthError::invalid_scope())?;
        let allowed = ScopeSet::<S>::parse(&client.scopes).unwrap_or_default();
        if !allowed.grants_all(&scopes) {
            return Err(OAuthError::invalid_scope());
        }
        let challenge = match (&req.code_challenge, &req.code_challenge_method) {
            (None, Some(_)) => {
                return Err(OAuthError::invalid_request("code_challenge is missing"));
            }
            (None, None) if self.config.require_pkce => {
                return Err(OAuthError::invalid_request(
                    "code_challenge is required (PKCE, RFC 7636)",
                ));
            }
            (None, None) => None,
            (Some(challenge), method) => {
                // RFC 7636 §4.3: the method defaults to `plain`.
                let method = method.as_deref().unwrap_or("plain");
                match method {
                    "S256" => {}
                    "plain" if self.config.allow_plain_pkce => {}
                    "plain" => {
                        return Err(OAuthError::invalid_request(
                            "code_challenge_method plain is not allowed; use S256",
                        ));
                    }
                    _ => {
                        return Err(OAuthError::invalid_request("unknown code_challenge_method"));
                    }
                }
                if !is_pkce_value(challenge) {
                    return Err(OAuthError::invalid_request("malformed code_challenge"));
                }
                Some((challenge.clone(), method.to_owned()))
            }
        };
        Ok(ValidAuthorization {
            client,
            redirect_uri,
            redirect_uri_given: req.redirect_uri.is_some(),
            scopes,
            state: req.state.clone(),
            challenge,
        })
    }

    /// Issues a code for an approved request; the code is stored hashed and
    /// lives [`Config::code_lifetime`](crate::config::Config::code_lifetime).
    ///
    /// # Errors
    /// `invalid_scope` if none of the requested scopes is available to
    /// the user; `invalid_grant` if the user is disabled (a session opened
    /// before); 503 if the store fails.
    pub async fn issue_code(
        &self,
        auth: &ValidAuthorization<S>,
        user_id: i64,
    ) -> Result<String, OAuthError> {
        // A session opened before the user was disabled issues nothing.
        self.refuse_disabled(Some(user_id)).await?;
        let code = secret::generate()?;
        let lifetime = i64::try_from(self.config.code_lifetime.as_secs()).unwrap_or(300);
        let scopes = self
            .grantable(&auth.client, Some(user_id), auth.scopes)
            .await?;
        if scopes.is_empty() && !auth.scopes.is_empty() {
            // Only reserved scopes asked by a user who may not have them:
            // refused, as the client-credentials grant refuses them.
            return Err(OAuthError {
                description: "none of the requested scopes is available to this account".into(),
                ..OAuthError::invalid_scope()
            });
        }
        self.store
            .insert_code(CodeRecord {
                code_hash: SecretHash::of(&code),
                client_id: auth.client.client_id.clone(),
                user_id,
                redirect_uri: auth.redirect_uri.clone(),
                redirect_uri_given: auth.redirect_uri_given,
                scopes: scopes.to_string(),
                challenge: auth.challenge.as_ref().map(|(c, _)| c.clone()),
                challenge_method: auth.challenge.as_ref().map(|(_, m)| m.clone()),
                expires_at: now() + lifetime,
            })
            .await?;
        Ok(code)
    }
}
