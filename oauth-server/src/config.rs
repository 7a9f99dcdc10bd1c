//! Settings of the authorization server.

use std::time::Duration;

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

    /// Issues refresh tokens with authorization-code grants, or not.
    #[must_use]
    pub fn refresh_tokens(mut self, yes: bool) -> Self {
        self.refresh_tokens = yes;
        self
    }
}
