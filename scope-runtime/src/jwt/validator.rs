//! [`JwtValidator`]: a token's header, signature and claims checked with
//! the keys of the [`KeyCache`].

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use p256::ecdsa::VerifyingKey;
use p256::ecdsa::signature::Verifier as _;

use super::format::{ALGORITHM, Jws};
use super::keys::{Jwks, KeyCache, Remote};
use super::{
    DEFAULT_LEEWAY, DEFAULT_MIN_REFETCH_INTERVAL, DEFAULT_REFRESH_INTERVAL, DEFAULT_TIMEOUT,
};
use crate::claims::{Claims, Expected, Profile};
use crate::fetch::Endpoint;
use crate::scope::Scope;
use crate::token::{BearerToken, Principal, TokenError, TokenValidator};

/// Longer tokens are refused unread (the enforcement layer reads at most
/// 4 KiB of credentials anyway).
const MAX_TOKEN: usize = 16 * 1024;

/// A [`TokenValidator`] checking JWT access tokens (RFC 9068) against a
/// cached JSON Web Key Set.
///
/// Clones share the key set, its cache and the HTTP client. See the
/// [module documentation](super) for what is checked and when the key set
/// is fetched.
pub struct JwtValidator<S: Scope> {
    issuer: Arc<str>,
    audience: Arc<str>,
    leeway: Duration,
    keys: KeyCache,
    _scope: PhantomData<fn() -> S>,
}

impl<S: Scope> Clone for JwtValidator<S> {
    fn clone(&self) -> Self {
        Self {
            issuer: Arc::clone(&self.issuer),
            audience: Arc::clone(&self.audience),
            leeway: self.leeway,
            keys: self.keys.clone(),
            _scope: PhantomData,
        }
    }
}

/// Shows the issuer, the audience, the key set's URL and key ids.
impl<S: Scope> fmt::Debug for JwtValidator<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtValidator")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("jwks_uri", &self.keys.remote.as_ref().map(|r| &r.endpoint))
            .field("jwks", &self.keys.jwks())
            .finish_non_exhaustive()
    }
}

impl<S: Scope> JwtValidator<S> {
    /// A validator of tokens issued by `issuer` (the `iss` claim, compared
    /// exactly: the authorization server's RFC 8414 `issuer`), with the key
    /// set at `jwks_uri`, fetched on the first token. The audience is the
    /// issuer until [`audience`](Self::audience) sets another.
    ///
    /// The HTTP client is built here without redirects (see
    /// [`client`](Self::client)).
    pub fn new(jwks_uri: reqwest::Url, issuer: impl Into<Arc<str>>) -> Self {
        let remote = Remote {
            endpoint: Endpoint::new(jwks_uri, "the JWKS endpoint"),
            http: crate::fetch::client(),
            timeout: DEFAULT_TIMEOUT,
            min_refetch_interval: DEFAULT_MIN_REFETCH_INTERVAL,
            refresh_interval: DEFAULT_REFRESH_INTERVAL,
        };
        Self::build(issuer.into(), KeyCache::new(Some(remote), Jwks::default()))
    }

    /// A validator with a fixed key set: no HTTP, ever; a token whose
    /// `kid` is not in `jwks` is invalid.
    pub fn with_jwks(jwks: Jwks, issuer: impl Into<Arc<str>>) -> Self {
        Self::build(issuer.into(), KeyCache::new(None, jwks))
    }

    fn build(issuer: Arc<str>, keys: KeyCache) -> Self {
        Self {
            audience: Arc::clone(&issuer),
            issuer,
            leeway: DEFAULT_LEEWAY,
            keys,
            _scope: PhantomData,
        }
    }

    /// Accepts tokens whose `aud` is (or contains) `audience`, instead of
    /// the issuer.
    #[must_use]
    pub fn audience(mut self, audience: impl Into<Arc<str>>) -> Self {
        self.audience = audience.into();
        self
    }

    /// Tolerates this much clock skew on `exp`, `nbf` and `iat`
    /// (default [`DEFAULT_LEEWAY`]).
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Gives up on a fetch of the key set after `timeout` (default
    /// [`DEFAULT_TIMEOUT`]). No effect on a static key set.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        if let Some(remote) = &mut self.keys.remote {
            remote.timeout = timeout;
        }
        self
    }

    /// Fetches the key set at most once per `interval` (default
    /// [`DEFAULT_MIN_REFETCH_INTERVAL`]), however many tokens with unknown
    /// key ids arrive. No effect on a static key set.
    #[must_use]
    pub fn min_refetch_interval(mut self, interval: Duration) -> Self {
        if let Some(remote) = &mut self.keys.remote {
            remote.min_refetch_interval = interval;
        }
        self
    }

    /// Fetches the key set again once it is older than `interval` (default
    /// [`DEFAULT_REFRESH_INTERVAL`]): the longest a retired key keeps
    /// validating here. No effect on a static key set.
    #[must_use]
    pub fn refresh_interval(mut self, interval: Duration) -> Self {
        if let Some(remote) = &mut self.keys.remote {
            remote.refresh_interval = interval;
        }
        self
    }

    /// Fetches the key set with `client` (TLS settings, a proxy). The
    /// [`timeout`](Self::timeout) still applies to each request. No effect
    /// on a static key set.
    #[must_use]
    pub fn client(mut self, client: reqwest::Client) -> Self {
        if let Some(remote) = &mut self.keys.remote {
            remote.http = client;
        }
        self
    }

    /// The URL of the key set; `None` for a static one.
    pub fn jwks_uri(&self) -> Option<&reqwest::Url> {
        self.keys.remote.as_ref().map(|r| r.endpoint.url())
    }

    /// The key set at hand (empty before the first fetch).
    pub fn jwks(&self) -> Jwks {
        self.keys.jwks()
    }

    /// Fetches the key set now, for a resource server that wants its keys
    /// (and to fail) at start-up rather than on the first token. Waits for
    /// a fetch already under way instead of starting another; not limited
    /// by [`min_refetch_interval`](Self::min_refetch_interval).
    ///
    /// # Errors
    /// [`TokenError::Unavailable`] if the key set cannot be fetched. A
    /// static key set is never fetched: `Ok` at once.
    pub async fn load_keys(&self) -> Result<(), TokenError> {
        self.keys.load().await
    }

    /// Validates `token`, fetching the key set if it must.
    async fn check(&self, token: &str) -> Result<Principal<S>, TokenError> {
        let jws = parse(token)?;
        let key = self.keys.key(jws.header.kid.as_deref()).await?;
        self.verify(&jws, &key)
    }

    /// The signature, then the claims.
    fn verify(&self, jws: &Jws<'_>, key: &VerifyingKey) -> Result<Principal<S>, TokenError> {
        key.verify(jws.signing_input.as_bytes(), &jws.signature)
            .map_err(|_| TokenError::Invalid)?;
        let claims = jws.unverified_claims().ok_or(TokenError::Invalid)?;
        let expected = Expected {
            issuer: Some(&self.issuer),
            audience: Some(&self.audience),
            skew: self.leeway,
            grace: self.leeway,
        };
        // A signed token that says something malformed is no token.
        Claims::new(&claims, Profile::AccessToken)
            .principal(&expected, SystemTime::now())
            .map_err(|_| TokenError::Invalid)
    }
}

/// A compact JWS whose header passes the checks that need no key: never
/// a request for a token that no key could validate.
pub(super) fn parse(token: &str) -> Result<Jws<'_>, TokenError> {
    if token.len() > MAX_TOKEN {
        return Err(TokenError::Invalid);
    }
    let jws = Jws::parse(token).ok_or(TokenError::Invalid)?;
    let header = &jws.header;
    // Only ES256: never `none`, never an HMAC keyed with a public key.
    // RFC 9068 §4 for `typ`; RFC 7515 §4.1.11 for `crit`: extensions this
    // code does not understand.
    if header.alg != ALGORITHM || !header.is_access_token() || header.crit.is_some() {
        return Err(TokenError::Invalid);
    }
    Ok(jws)
}

impl<S: Scope> TokenValidator<S> for JwtValidator<S> {
    fn validate(
        &self,
        token: &BearerToken<'_>,
    ) -> impl Future<Output = Result<Principal<S>, TokenError>> + Send {
        self.check(token.as_str())
    }

    /// Answers at once unless the key set must be fetched: a malformed
    /// token, or a token whose key is at hand (fresh), needs no network.
    fn validate_now(&self, token: &BearerToken<'_>) -> Option<Result<Principal<S>, TokenError>> {
        let jws = match parse(token.as_str()) {
            Ok(jws) => jws,
            Err(e) => return Some(Err(e)),
        };
        Some(
            self.keys
                .key_now(jws.header.kid.as_deref())?
                .and_then(|key| self.verify(&jws, &key)),
        )
    }
}
