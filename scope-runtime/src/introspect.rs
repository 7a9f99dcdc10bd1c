//! [`IntrospectionValidator`]: validates bearer tokens by asking the
//! authorization server (OAuth 2.0 Token Introspection, RFC 7662). Needs the
//! `introspection` cargo feature.
//!
//! This is the validator of a resource server that does not share the
//! authorization server's store. Every call of
//! [`validate`](TokenValidator::validate) is one HTTP round trip, so it is
//! meant to be wrapped in a [`CachedValidator`](crate::cache::CachedValidator):
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use scope_runtime::cache::CachedValidator;
//! use scope_runtime::enforce::Enforcer;
//! use scope_runtime::introspect::IntrospectionValidator;
//! use scope_runtime::scope_hierarchy;
//!
//! scope_hierarchy! { pub Api { read { statuses } } }
//!
//! let introspection = IntrospectionValidator::<Api>::new(
//!     "https://auth.example/oauth/introspect".parse()?,
//!     "resource-server-client-id",
//!     "resource-server-secret",
//! )
//! .timeout(Duration::from_secs(2));
//! // Revocation takes effect here after at most 60 s.
//! let cached = CachedValidator::new(introspection, Duration::from_secs(60), 10_000);
//! let enforcer = Enforcer::new(cached);
//! # let _ = enforcer;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Revocation latency
//!
//! The cache answers for a token without asking the authorization server
//! until its entry expires, so a token revoked at the authorization server
//! keeps working here for **at most the cache's TTL** (and never past the
//! token's own `exp`). Choose the TTL as the revocation delay you accept;
//! if this process learns about revocations (a webhook, a message bus), call
//! [`CachedValidator::evict`](crate::cache::CachedValidator::evict) to make
//! them immediate. Refusals and errors are never cached: an invalid token
//! costs one introspection request per use.
//!
//! # What the answer means
//!
//! | answer of the endpoint | result |
//! |---|---|
//! | 200, `"active": false` | [`TokenError::Invalid`] (401) |
//! | 200, `"active": true`, marked as another kind of token: a `token_type` other than `Bearer`/`access_token`, a `typ` of `Refresh`/`Offline` (Keycloak), a `token_use` other than `access` (Cognito) | [`TokenError::Invalid`] |
//! | 200, `"active": true`, an `iss` other than [`issuer`](IntrospectionValidator::issuer) or an `aud` without [`audience`](IntrospectionValidator::audience), when set | [`TokenError::Invalid`] |
//! | 200, `"active": true`, `exp` in the past | [`TokenError::Invalid`] |
//! | 200, `"active": true` | a [`Principal`]: `scope`, `client_id`, `sub` (else `username`) as the user id, no user means an app token, `exp` as the expiry; `nbf` and `iat` are not read (`active` is the server's verdict, by its clock) |
//! | 200 with a body that is not an introspection response, or without `client_id` | [`TokenError::Unavailable`] (503) |
//! | 401 or 403: the resource server's credentials were refused | [`TokenError::Unavailable`], never `Invalid`: a configuration error must not log users out |
//! | any other status (5xx, 4xx, a redirect, even one a caller-supplied client followed), a network error, the timeout | [`TokenError::Unavailable`] |
//!
//! The claims are read as the JWT validator reads its own
//! ([`claims`](crate::claims)): scopes of the answer that the hierarchy
//! `S` does not know (the authorization server may serve other APIs too,
//! or be newer) are **dropped** ([`known_scopes`](crate::claims::known_scopes)):
//! the principal gets the scopes it can be checked against, which only
//! ever grants less than the authorization server did. Refusing the token
//! instead would log out every user whose grant contains one foreign
//! scope. A `null` member counts as absent.
//!
//! The resource server must be allowed to introspect every client's tokens
//! (for the bundled `oauth-server`: listed in `Config::resource_servers`).
//! RFC 7662 §4 lets an authorization server answer `active: false` to a
//! caller that may not learn about a token; that answer cannot be told
//! apart from a revoked token, so a resource server missing from that list
//! sees every other client's token as invalid.
//!
//! # Transport
//!
//! The token is sent in the form body (`token=...&token_type_hint=access_token`,
//! HTTP Basic for the resource server), never in the URL, and never
//! appears in an error message or in `Debug` output; neither does the
//! client secret. This crate builds `reqwest` without default features,
//! so without TLS: for an `https` endpoint enable a TLS feature of
//! `reqwest` 0.12 in your own crate (`features = ["rustls-tls"]`), or pass
//! a [`reqwest::Client`] of your own with
//! [`client`](IntrospectionValidator::client). The default client does not
//! follow redirects (a redirected POST would lose its body).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::claims::{Claims, DEFAULT_LEEWAY, Expected, Profile, Refused};
use crate::fetch::Endpoint;
use crate::scope::Scope;
use crate::token::{BearerToken, Principal, TokenError, TokenValidator};

/// The `reqwest` this module uses, for [`reqwest::Url`] and
/// [`reqwest::Client`] without a dependency of your own.
pub use reqwest;

/// The request timeout unless [`IntrospectionValidator::timeout`] sets
/// another.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// A [`TokenValidator`] asking an RFC 7662 introspection endpoint.
///
/// Clones share the HTTP client (and its connection pool). See the
/// [module documentation](self) for what each answer means, and wrap it in
/// a [`CachedValidator`](crate::cache::CachedValidator).
pub struct IntrospectionValidator<S: Scope> {
    endpoint: Endpoint,
    client_id: Arc<str>,
    client_secret: Arc<str>,
    timeout: Duration,
    http: reqwest::Client,
    expect: Arc<Expect>,
    _scope: PhantomData<fn() -> S>,
}

/// What an answer must also say, when set.
#[derive(Debug, Default, Clone)]
struct Expect {
    /// One of the answer's `aud` values.
    audience: Option<String>,
    /// The answer's `iss`.
    issuer: Option<String>,
}

impl<S: Scope> Clone for IntrospectionValidator<S> {
    fn clone(&self) -> Self {
        Self {
            endpoint: self.endpoint.clone(),
            client_id: Arc::clone(&self.client_id),
            client_secret: Arc::clone(&self.client_secret),
            timeout: self.timeout,
            http: self.http.clone(),
            expect: Arc::clone(&self.expect),
            _scope: PhantomData,
        }
    }
}

/// Shows the endpoint, the client id and the timeout; never the secret.
impl<S: Scope> fmt::Debug for IntrospectionValidator<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionValidator")
            .field("endpoint", &self.endpoint)
            .field("client_id", &self.client_id)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<S: Scope> IntrospectionValidator<S> {
    /// A validator asking `endpoint` (the authorization server's
    /// `/oauth/introspect`), authenticated with HTTP Basic as the resource
    /// server's client `client_id` with `client_secret`.
    ///
    /// Requests time out after [`DEFAULT_TIMEOUT`]; the HTTP client is
    /// built here without redirects (see [`client`](Self::client)).
    pub fn new(
        endpoint: reqwest::Url,
        client_id: impl Into<Arc<str>>,
        client_secret: impl Into<Arc<str>>,
    ) -> Self {
        Self {
            endpoint: Endpoint::new(endpoint, "the introspection endpoint"),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            timeout: DEFAULT_TIMEOUT,
            http: crate::fetch::client(),
            expect: Arc::default(),
            _scope: PhantomData,
        }
    }

    /// Gives up on a request after `timeout` (the whole exchange, body
    /// included): the token is then answered with
    /// [`TokenError::Unavailable`].
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends the requests with `client` (a shared connection pool, TLS
    /// settings, a proxy). The [`timeout`](Self::timeout) of this validator
    /// still applies to each request. Build it with
    /// `redirect(Policy::none())`: a client that follows a 307 or 308 sends
    /// the token to the redirect's target before this validator can refuse
    /// the answer.
    #[must_use]
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.http = client;
        self
    }

    /// Accepts only tokens meant for `audience`: an active answer whose
    /// `aud` (a string or an array) does not hold it, or has none, is
    /// [`TokenError::Invalid`]. Unset (the default), `aud` is not checked:
    /// set it when the authorization server issues tokens for several
    /// resource servers.
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.expect).audience = Some(audience.into());
        self
    }

    /// Accepts only tokens of `issuer`: an active answer whose `iss` is
    /// another, or missing, is [`TokenError::Invalid`]. Unset (the
    /// default), `iss` is not checked.
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.expect).issuer = Some(issuer.into());
        self
    }

    /// The introspection endpoint.
    pub fn endpoint(&self) -> &reqwest::Url {
        self.endpoint.url()
    }

    /// Asks the endpoint about `token`.
    async fn introspect(&self, token: &str) -> Result<Principal<S>, TokenError> {
        let response = self
            .http
            .post(self.endpoint.url().clone())
            .basic_auth(&*self.client_id, Some(&*self.client_secret))
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| self.endpoint.unavailable(&e))?;
        self.endpoint.answered_here(&response)?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(TokenError::Unavailable(format!(
                "the introspection endpoint {} refused the resource server's credentials \
                 (HTTP {status}): check the client id and secret of client {:?} and that \
                 the authorization server lets it introspect tokens",
                self.endpoint.shown(),
                self.client_id,
            )));
        }
        if !status.is_success() {
            return Err(self.endpoint.status(status));
        }
        let body = self.endpoint.body(response).await?;
        let answer: Value = serde_json::from_slice(&body).map_err(|e| {
            TokenError::Unavailable(format!(
                "the introspection response of {} is not JSON: {e}",
                self.endpoint.shown()
            ))
        })?;
        principal_from(&answer, &self.expect, SystemTime::now())
    }
}

/// Whether `answered` is `endpoint`, credentials aside (`reqwest` moves
/// those of the URL into the `Authorization` header).
fn malformed(what: &str) -> TokenError {
    TokenError::Unavailable(format!("malformed introspection response: {what}"))
}

/// Reads an RFC 7662 response (see the table of the module documentation).
fn principal_from<S: Scope>(
    answer: &Value,
    expect: &Expect,
    now: SystemTime,
) -> Result<Principal<S>, TokenError> {
    let Some(fields) = answer.as_object() else {
        return Err(malformed("not a JSON object"));
    };
    match fields.get("active") {
        Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) => return Err(TokenError::Invalid),
        _ => return Err(malformed("`active` is not a boolean")),
    }
    let claims = Claims::new(fields, Profile::Introspection);
    let text = |name: &str| claims.text(name).map_err(refused);
    // A refresh token (the bundled server introspects those too) is not a
    // bearer credential for the API.
    // Servers mark them differently: RFC 7662's `token_type`, Keycloak's
    // `typ` (`Refresh`, `Offline`), Cognito's `token_use` (`access`, `id`).
    if let Some(kind) = text("token_type")?
        && !kind.eq_ignore_ascii_case("bearer")
        && !kind.eq_ignore_ascii_case("access_token")
    {
        return Err(TokenError::Invalid);
    }
    if let Some(kind) = text("typ")?
        && (kind.eq_ignore_ascii_case("refresh") || kind.eq_ignore_ascii_case("offline"))
    {
        return Err(TokenError::Invalid);
    }
    if let Some(kind) = text("token_use")?
        && !kind.eq_ignore_ascii_case("access")
    {
        return Err(TokenError::Invalid);
    }
    let expected = Expected {
        issuer: expect.issuer.as_deref(),
        audience: expect.audience.as_deref(),
        skew: DEFAULT_LEEWAY,
        // The authorization server said `active`: its `exp` is the end.
        grace: Duration::ZERO,
    };
    claims.principal(&expected, now).map_err(refused)
}

/// A refusal of the claims reader, as this validator answers it: an
/// answer that does not say what it should is the server's fault.
fn refused(refused: Refused) -> TokenError {
    match refused {
        Refused::Invalid => TokenError::Invalid,
        Refused::Malformed(what) => malformed(&what),
    }
}

impl<S: Scope> TokenValidator<S> for IntrospectionValidator<S> {
    fn validate(
        &self,
        token: &BearerToken<'_>,
    ) -> impl Future<Output = Result<Principal<S>, TokenError>> + Send {
        self.introspect(token.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use serde_json::json;

    use super::*;
    use crate::fetch::same_resource;

    crate::scope_hierarchy! { pub Api { read { statuses, accounts }, write { statuses } } }

    fn read(answer: Value) -> Result<Principal<Api>, TokenError> {
        principal_from(&answer, &Expect::default(), SystemTime::now())
    }

    fn later() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs()
            + 3600
    }

    #[test]
    fn inactive_is_invalid() {
        assert_eq!(read(json!({ "active": false })), Err(TokenError::Invalid));
    }

    #[test]
    fn a_user_token() {
        let exp = later();
        let p = read(json!({
            "active": true, "scope": "read:statuses write", "client_id": "app",
            "sub": "42", "username": "alice", "token_type": "Bearer", "exp": exp,
        }))
        .expect("active");
        assert_eq!(p.user_id(), Some("42"));
        assert_eq!(p.client_id(), "app");
        assert_eq!(p.scopes(), "read:statuses write".parse().expect("scopes"));
        assert_eq!(p.expiry(), Some(UNIX_EPOCH + Duration::from_secs(exp)));
    }

    #[test]
    fn username_when_no_sub_and_app_when_neither() {
        let p = read(json!({ "active": true, "client_id": "app", "username": "alice" }));
        assert_eq!(p.expect("active").user_id(), Some("alice"));
        let p = read(json!({ "active": true, "client_id": "app", "scope": "read" }));
        let p = p.expect("active");
        assert!(!p.is_user());
        assert_eq!(p.expiry(), None);
    }

    #[test]
    fn unknown_scopes_are_dropped() {
        let p = read(json!({
            "active": true, "client_id": "app", "scope": "read:statuses admin:write other",
        }))
        .expect("active");
        assert_eq!(p.scopes(), "read:statuses".parse().expect("scopes"));
    }

    #[test]
    fn refresh_tokens_and_expired_tokens_are_invalid() {
        let refresh = json!({ "active": true, "client_id": "app", "token_type": "refresh_token" });
        assert_eq!(read(refresh), Err(TokenError::Invalid));
        let expired = json!({ "active": true, "client_id": "app", "exp": 1_000 });
        assert_eq!(read(expired), Err(TokenError::Invalid));
        // Other servers' markers.
        for refresh in [
            json!({ "active": true, "client_id": "app", "typ": "Refresh" }),
            json!({ "active": true, "client_id": "app", "typ": "Offline" }),
            json!({ "active": true, "client_id": "app", "token_use": "id" }),
            json!({ "active": true, "client_id": "app", "token_use": "refresh" }),
        ] {
            assert_eq!(read(refresh.clone()), Err(TokenError::Invalid), "{refresh}");
        }
        let keycloak = json!({ "active": true, "client_id": "app", "typ": "Bearer" });
        assert!(read(keycloak).is_ok());
        let cognito = json!({ "active": true, "client_id": "app", "token_use": "access" });
        assert!(read(cognito).is_ok());
    }

    #[test]
    fn a_redirect_is_told_from_the_endpoint() {
        let url = |s: &str| reqwest::Url::parse(s).expect("url");
        let endpoint = url("https://rs:secret@auth.example/oauth/introspect");
        assert!(same_resource(
            &url("https://auth.example:443/oauth/introspect"),
            &endpoint
        ));
        assert!(!same_resource(
            &url("https://auth.example/login"),
            &endpoint
        ));
        assert!(!same_resource(
            &url("https://evil.example/oauth/introspect"),
            &endpoint
        ));
        assert!(!same_resource(
            &url("http://auth.example/oauth/introspect"),
            &endpoint
        ));
    }

    #[test]
    fn audience_and_issuer_are_checked_when_set() {
        let expect = Expect {
            audience: Some("https://api.example".into()),
            issuer: Some("https://auth.example".into()),
        };
        let check = |answer: Value| principal_from::<Api>(&answer, &expect, SystemTime::now());
        let good = json!({
            "active": true, "client_id": "app",
            "iss": "https://auth.example", "aud": ["other", "https://api.example"],
        });
        assert!(check(good).is_ok());
        let single = json!({
            "active": true, "client_id": "app",
            "iss": "https://auth.example", "aud": "https://api.example",
        });
        assert!(check(single).is_ok());
        for wrong in [
            json!({ "active": true, "client_id": "app", "iss": "https://auth.example", "aud": "other" }),
            json!({ "active": true, "client_id": "app", "iss": "https://auth.example" }),
            json!({ "active": true, "client_id": "app", "iss": "https://evil.example", "aud": "https://api.example" }),
            json!({ "active": true, "client_id": "app", "aud": "https://api.example" }),
        ] {
            assert_eq!(check(wrong.clone()), Err(TokenError::Invalid), "{wrong}");
        }
        // Unset, neither is looked at.
        assert!(read(json!({ "active": true, "client_id": "app", "aud": "other" })).is_ok());
    }

    #[test]
    fn malformed_answers_are_unavailable() {
        for answer in [
            json!([]),
            json!({}),
            json!({ "active": "true", "client_id": "app" }),
            json!({ "active": true }),
            json!({ "active": true, "client_id": 7 }),
            json!({ "active": true, "client_id": "app", "exp": "soon" }),
            json!({ "active": true, "client_id": "app", "scope": ["read"] }),
        ] {
            assert!(
                matches!(read(answer.clone()), Err(TokenError::Unavailable(_))),
                "{answer}"
            );
        }
    }

    #[test]
    fn the_servers_answer_decides_dates_and_subjects() {
        // `active` is the server's verdict, by its clock: `nbf` and `iat`
        // are not read, and `sub` is the user's whatever it holds.
        let soon = later() - 3600 + 120;
        for early in [
            json!({ "active": true, "client_id": "app", "nbf": soon }),
            json!({ "active": true, "client_id": "app", "iat": soon }),
            json!({ "active": true, "client_id": "app", "iat": "now" }),
        ] {
            assert!(read(early.clone()).is_ok(), "{early}");
        }
        let client = json!({ "active": true, "client_id": "app", "sub": "app" });
        assert!(
            read(client).expect("active").is_user(),
            "RFC 7662: no §2.2 rule"
        );
        let nulls = json!({ "active": true, "client_id": "app", "sub": null, "exp": null });
        assert!(read(nulls).is_ok(), "null is absent in an answer");
    }

    #[test]
    fn debug_hides_the_secret() {
        let v = IntrospectionValidator::<Api>::new(
            "http://127.0.0.1:1/oauth/introspect".parse().expect("url"),
            "rs",
            "hunter2",
        );
        let shown = format!("{v:?}");
        assert!(
            shown.contains("rs") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}
