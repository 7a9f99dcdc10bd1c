//! Settings of the authorization server.

use std::time::Duration;

use crate::jwt::KeySet;
use crate::policy::ScopePolicy;

/// How the server issues and checks grants. `Default` follows Mastodon and
/// Funkwhale: 10-hour access tokens (`ACCESS_TOKEN_EXPIRE_SECONDS=36000`),
/// rotating refresh tokens, 5-minute codes, PKCE verified when a challenge
/// was sent, `S256` only.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The public base URL, e.g. `https://pod.example` (the RFC 8414 issuer).
    pub issuer: String,
    /// Lifetime of access tokens.
    pub access_token_lifetime: Duration,
    /// Lifetime of authorization codes.
    pub code_lifetime: Duration,
    /// Whether authorization-code grants also get a refresh token.
    pub refresh_tokens: bool,
    /// Refuse authorization requests without a PKCE challenge.
    pub require_pkce: bool,
    /// Accept `code_challenge_method=plain` (RFC 7636 allows it; RFC 9700
    /// advises against it).
    pub allow_plain_pkce: bool,
    /// Scope-name prefixes granted only to administrators: a non-admin
    /// user's grant never includes them (Mastodon's `admin:`; Funkwhale's
    /// `read:instance:` and `write:instance:` need staff permissions).
    pub admin_scope_prefixes: Vec<String>,
    /// Clients (resource servers) allowed to introspect any token; other
    /// clients may introspect only their own tokens (RFC 7662 §4).
    pub resource_servers: Vec<String>,
    /// Issue access tokens as JWTs (RFC 9068) signed with these keys
    /// instead of opaque secrets; see [`Config::jwt_access_tokens`].
    pub jwt_keys: Option<KeySet>,
    /// The `aud` claim of JWT access tokens; `None` for the issuer.
    pub jwt_audience: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            issuer: "http://127.0.0.1:8080".into(),
            access_token_lifetime: Duration::from_secs(36_000),
            code_lifetime: Duration::from_secs(300),
            refresh_tokens: true,
            require_pkce: false,
            allow_plain_pkce: false,
            admin_scope_prefixes: vec!["admin:".into()],
            resource_servers: Vec::new(),
            jwt_keys: None,
            jwt_audience: None,
        }
    }
}

impl Config {
    /// Settings for `issuer` with the defaults.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into().trim_end_matches('/').to_owned(),
            ..Self::default()
        }
    }

    /// Sets the access-token lifetime.
    #[must_use]
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_token_lifetime = lifetime;
        self
    }

    /// Requires PKCE from every client.
    #[must_use]
    pub fn require_pkce(mut self, yes: bool) -> Self {
        self.require_pkce = yes;
        self
    }

    /// Accepts the `plain` PKCE method.
    #[must_use]
    pub fn allow_plain_pkce(mut self, yes: bool) -> Self {
        self.allow_plain_pkce = yes;
        self
    }

    /// Sets the scope-name prefixes reserved to administrators.
    #[must_use]
    pub fn admin_scope_prefixes(
        mut self,
        prefixes: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.admin_scope_prefixes = prefixes.into_iter().map(Into::into).collect();
        self
    }

    /// Lets these client ids introspect every token.
    #[must_use]
    pub fn resource_servers(
        mut self,
        clients: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.resource_servers = clients.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the lifetime of authorization codes.
    #[must_use]
    pub fn code_lifetime(mut self, lifetime: Duration) -> Self {
        self.code_lifetime = lifetime;
        self
    }

    /// Issues access tokens as JWTs (RFC 9068) signed with `keys` (ES256,
    /// `kid` in the header), and publishes the public keys at
    /// `GET /.well-known/jwks.json` (the `jwks_uri` of the RFC 8414
    /// metadata). Keep a clone of `keys` to rotate them while the server
    /// runs; see [`jwt`](crate::jwt) for the token's claims.
    ///
    /// Refresh tokens stay opaque. The store keeps each JWT hashed like an
    /// opaque token, so revocation, introspection and the
    /// [`StoreValidator`](crate::validator::StoreValidator) work as before;
    /// a resource server validating the signature alone accepts a revoked
    /// token until its `exp`: shorten
    /// [`access_token_lifetime`](Self::access_token_lifetime) accordingly.
    #[must_use]
    pub fn jwt_access_tokens(mut self, keys: KeySet) -> Self {
        self.jwt_keys = Some(keys);
        self
    }

    /// Sets the `aud` claim of JWT access tokens: the resource server's
    /// identifier, which its validator checks (default: the issuer).
    #[must_use]
    pub fn jwt_audience(mut self, audience: impl Into<String>) -> Self {
        self.jwt_audience = Some(audience.into());
        self
    }

    /// The scopes reserved to administrators, as a [`ScopePolicy`].
    pub fn scope_policy(&self) -> ScopePolicy {
        ScopePolicy::new(self.admin_scope_prefixes.iter().cloned())
    }

    /// The `aud` claim of JWT access tokens: the configured audience, or
    /// the issuer.
    pub fn access_token_audience(&self) -> &str {
        self.jwt_audience.as_deref().unwrap_or(&self.issuer)
    }

    /// Issues refresh tokens with authorization-code grants, or not.
    #[must_use]
    pub fn refresh_tokens(mut self, yes: bool) -> Self {
        self.refresh_tokens = yes;
        self
    }
}
