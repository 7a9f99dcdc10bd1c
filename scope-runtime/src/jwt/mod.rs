//! [`JwtValidator`]: validates JWT access tokens (RFC 9068) locally, with
//! the authorization server's public keys (a JSON Web Key Set, RFC 7517).
//! Needs the `jwt` cargo feature.
//!
//! This is the validator of a resource server that neither shares the
//! authorization server's store nor asks it about each token: the key set
//! is fetched from the server's `jwks_uri` once and cached, and every token
//! is then checked in this process (signature, `typ`, `iss`, `aud`, `exp`,
//! `nbf`), with no network round trip. Tokens signed with a key this
//! validator does not know yet (the server rotated its key) make it fetch
//! the key set again, at most once per
//! [`min_refetch_interval`](JwtValidator::min_refetch_interval).
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use scope_runtime::enforce::Enforcer;
//! use scope_runtime::jwt::JwtValidator;
//! use scope_runtime::scope_hierarchy;
//!
//! scope_hierarchy! { pub Api { read { statuses } } }
//!
//! let validator = JwtValidator::<Api>::new(
//!     // The `jwks_uri` of the server's RFC 8414 metadata.
//!     "https://auth.example/.well-known/jwks.json".parse()?,
//!     // Its `issuer`, exactly.
//!     "https://auth.example",
//! )
//! // The server's `Config::jwt_audience` (by default its issuer).
//! .audience("https://api.example")
//! .timeout(Duration::from_secs(2));
//! let enforcer = Enforcer::new(validator);
//! # let _ = enforcer;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A validator can also be given its keys once, without HTTP
//! ([`JwtValidator::with_jwks`]):
//!
//! ```
//! use scope_runtime::jwt::{Jwks, JwtValidator};
//! use scope_runtime::token::{TokenError, TokenValidator};
//! use scope_runtime::scope_hierarchy;
//!
//! scope_hierarchy! { pub Api { read { statuses } } }
//!
//! let jwks = Jwks::from_json(br#"{"keys": []}"#)?;
//! let validator = JwtValidator::<Api>::with_jwks(jwks, "https://auth.example");
//! // Decided at once: the enforcement layer does not even await a future.
//! assert_eq!(validator.validate_now("not.a.jwt"), Some(Err(TokenError::Invalid)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is checked
//!
//! | check | refused with |
//! |---|---|
//! | three base64url parts (a JWS; a JWE or anything else is refused) | [`TokenError::Invalid`] (401) |
//! | header `alg` is `ES256`: `none`, `HS256` and every other algorithm are refused | [`TokenError::Invalid`] |
//! | header `typ` is `at+jwt` or `application/at+jwt`, in any case (RFC 9068 §4) | [`TokenError::Invalid`] |
//! | no `crit` header (no extension is understood) | [`TokenError::Invalid`] |
//! | the signature, with the key of the header's `kid` (a token without `kid` only when the set has one key) | [`TokenError::Invalid`] |
//! | `iss` equals the configured issuer exactly | [`TokenError::Invalid`] |
//! | `aud` (a string or an array) contains the configured audience | [`TokenError::Invalid`] |
//! | `exp` is present and not past, `nbf` and `iat` are not in the future, each with [`leeway`](JwtValidator::leeway) | [`TokenError::Invalid`] |
//! | `sub` and `client_id` are strings, `scope` (if any) a string | [`TokenError::Invalid`] |
//! | the key set cannot be fetched (network error, timeout, an HTTP error, a malformed set) when it is needed | [`TokenError::Unavailable`] (503) |
//!
//! The [`Principal`]: `scope` as the scopes, `client_id` as the client,
//! `sub` as the user, except that a token whose `sub` equals its
//! `client_id` is an app token (RFC 9068 §2.2: a client-credentials token
//! names the client as its subject), `exp` plus the leeway as the expiry. Scopes the
//! hierarchy `S` does not know are **dropped**, as the introspection
//! validator does: the principal only ever gets less than the
//! authorization server granted.
//!
//! # Key set cache
//!
//! - The set is fetched on the first token (or by
//!   [`load_keys`](JwtValidator::load_keys) at start-up) and is then used for
//!   every token whose `kid` it holds, with no request.
//! - A `kid` it does not hold (a rotated key) makes it fetch the set again,
//!   once per [`min_refetch_interval`](JwtValidator::min_refetch_interval)
//!   at most: a flood of tokens with made-up key ids costs one request per
//!   interval. Concurrent refetches are coalesced into one request. A `kid`
//!   still unknown after a refetch is a 401. A `kid` unknown while the
//!   refetch is held back by the interval is a 503 (a key published in the
//!   meantime must not log its users out: clients retry a 503, they drop
//!   a token on a 401), as it is while the set cannot be fetched.
//! - Once the set is older than
//!   [`refresh_interval`](JwtValidator::refresh_interval) it is fetched
//!   again, so that keys the server retired stop validating. If that
//!   refresh fails, the keys at hand are used on (and the refresh retried
//!   after `min_refetch_interval`): an outage of the authorization server
//!   does not stop a resource server that has its keys.
//!
//! Malformed tokens and tokens with another `alg` or `typ` are refused
//! before any key lookup: they never cause a request.
//!
//! # Revocation
//!
//! A JWT is valid until its `exp` for this validator: revoking it at the
//! authorization server changes nothing here. Keep access-token lifetimes
//! short (minutes), or validate with introspection (feature
//! `introspection`) where a revocation must take effect at once. Removing
//! a signing key from the server's key set invalidates every token it
//! signed after at most `refresh_interval`.
//!
//! # Transport
//!
//! As for introspection: `reqwest` 0.12 without TLS (enable a TLS feature
//! of `reqwest` in your crate for an `https` `jwks_uri`, or pass a client
//! with [`client`](JwtValidator::client)); no redirects; the response is
//! read up to 64 KiB. Tokens never appear in error messages.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::{Map, Value};

use crate::scope::Scope;
use crate::set::ScopeSet;
use crate::token::{Principal, TokenError, TokenValidator};

/// The `reqwest` this module uses, for [`reqwest::Url`] and
/// [`reqwest::Client`] without a dependency of your own.
pub use reqwest;

/// The only algorithm accepted: ECDSA P-256 with SHA-256 (RFC 7518 §3.4),
/// what the bundled `oauth-server` signs with.
pub const ALGORITHM: &str = "ES256";

/// Clock skew tolerated on `exp`, `nbf` and `iat` unless
/// [`JwtValidator::leeway`] sets another.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// The least time between two fetches of the key set unless
/// [`JwtValidator::min_refetch_interval`] sets another.
pub const DEFAULT_MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// The age after which the key set is fetched again unless
/// [`JwtValidator::refresh_interval`] sets another.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(600);

/// The request timeout unless [`JwtValidator::timeout`] sets another.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Longer tokens are refused unread (the enforcement layer reads at most
/// 4 KiB of credentials anyway).
const MAX_TOKEN: usize = 16 * 1024;

/// Why a JSON Web Key Set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed JSON Web Key Set: {0}")]
pub struct JwksError(String);

/// The ES256 public keys of a JSON Web Key Set (RFC 7517 §5), by `kid`.
///
/// Keys of other types, curves or algorithms, keys whose `use` is not
/// `sig`, and malformed P-256 keys are skipped: a set may hold keys for
/// other purposes. `Debug` shows the key ids.
#[derive(Clone, Default)]
pub struct Jwks {
    keys: Vec<(Option<Arc<str>>, VerifyingKey)>,
}

impl fmt::Debug for Jwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwks")
            .field(
                "kids",
                &self.keys.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Jwks {
    /// Reads a key set from its JSON text.
    ///
    /// # Errors
    /// [`JwksError`] if it is not JSON or has no `keys` array.
    pub fn from_json(json: &[u8]) -> Result<Self, JwksError> {
        let value: Value =
            serde_json::from_slice(json).map_err(|e| JwksError(format!("not JSON: {e}")))?;
        Self::from_value(&value)
    }

    /// Reads a key set from its JSON value.
    ///
    /// # Errors
    /// [`JwksError`] if it has no `keys` array.
    pub fn from_value(value: &Value) -> Result<Self, JwksError> {
        let Some(keys) = value.get("keys").and_then(Value::as_array) else {
            return Err(JwksError("no `keys` array".into()));
        };
        Ok(Self {
            keys: keys.iter().filter_map(es256_key).collect(),
        })
    }

    /// The number of ES256 keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether it holds no ES256 key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key ids, in the order of the set (`None` for a key without one).
    pub fn kids(&self) -> impl Iterator<Item = Option<&str>> {
        self.keys.iter().map(|(kid, _)| kid.as_deref())
    }

    /// The key for a token's `kid`; a token without one may use the only
    /// key of a set of one.
    fn find(&self, kid: Option<&str>) -> Option<&VerifyingKey> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|(k, _)| k.as_deref() == Some(kid))
                .map(|(_, key)| key),
            None => match self.keys.as_slice() {
                [(_, only)] => Some(only),
                _ => None,
            },
        }
    }
}

/// A JWK as a P-256 verification key, if it is one.
fn es256_key(jwk: &Value) -> Option<(Option<Arc<str>>, VerifyingKey)> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    if text("kty") != Some("EC") || text("crv") != Some("P-256") {
        return None;
    }
    if text("use").is_some_and(|u| u != "sig") || text("alg").is_some_and(|a| a != ALGORITHM) {
        return None;
    }
    let coordinate = |name: &str| {
        URL_SAFE_NO_PAD
            .decode(text(name)?)
            .ok()
            .filter(|c| c.len() == 32)
    };
    let mut sec1 = Vec::with_capacity(65);
    sec1.push(4); // uncompressed point
    sec1.extend(coordinate("x")?);
    sec1.extend(coordinate("y")?);
    let key = VerifyingKey::from_sec1_bytes(&sec1).ok()?;
    Some((text("kid").map(Arc::from), key))
}

/// The key set at hand.
struct Loaded {
    jwks: Jwks,
    /// 0 before the first fetch; bumped by each fetch.
    generation: u64,
    /// When it was fetched; `None` for a static set.
    fetched_at: Option<Instant>,
}

/// The outcome of the last fetch, behind the lock that coalesces fetches.
#[derive(Default)]
struct LastFetch {
    /// When it ended (a cancelled fetch leaves no trace).
    at: Option<Instant>,
    /// Its error, if it failed.
    error: Option<String>,
}

struct State {
    loaded: RwLock<Arc<Loaded>>,
    fetch: tokio::sync::Mutex<LastFetch>,
}

/// Where the key set comes from, for a validator that fetches it.
#[derive(Clone)]
struct Remote {
    url: reqwest::Url,
    /// The URL for messages: without a password it may carry.
    shown: Arc<str>,
    http: reqwest::Client,
    timeout: Duration,
    min_refetch_interval: Duration,
    refresh_interval: Duration,
}

/// A [`TokenValidator`] checking JWT access tokens (RFC 9068) against a
/// cached JSON Web Key Set.
///
/// Clones share the key set, its cache and the HTTP client. See the
/// [module documentation](self) for what is checked and when the key set
/// is fetched.
pub struct JwtValidator<S: Scope> {
    issuer: Arc<str>,
    audience: Arc<str>,
    leeway: Duration,
    /// `None` for a static key set.
    remote: Option<Remote>,
    state: Arc<State>,
    _scope: PhantomData<fn() -> S>,
}

impl<S: Scope> Clone for JwtValidator<S> {
    fn clone(&self) -> Self {
        Self {
            issuer: Arc::clone(&self.issuer),
            audience: Arc::clone(&self.audience),
            leeway: self.leeway,
            remote: self.remote.clone(),
            state: Arc::clone(&self.state),
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
            .field("jwks_uri", &self.remote.as_ref().map(|r| &r.shown))
            .field("jwks", &self.loaded().jwks)
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
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            // Building fails only when the TLS backend cannot initialize;
            // `Client::new` then fails the same way, loudly.
            .unwrap_or_else(|_| reqwest::Client::new());
        let mut shown = jwks_uri.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        let remote = Remote {
            shown: shown.as_str().into(),
            url: jwks_uri,
            http,
            timeout: DEFAULT_TIMEOUT,
            min_refetch_interval: DEFAULT_MIN_REFETCH_INTERVAL,
            refresh_interval: DEFAULT_REFRESH_INTERVAL,
        };
        Self::build(issuer.into(), Some(remote), Jwks::default(), 0)
    }

    /// A validator with a fixed key set: no HTTP, ever; a token whose
    /// `kid` is not in `jwks` is invalid.
    pub fn with_jwks(jwks: Jwks, issuer: impl Into<Arc<str>>) -> Self {
        Self::build(issuer.into(), None, jwks, 1)
    }

    fn build(issuer: Arc<str>, remote: Option<Remote>, jwks: Jwks, generation: u64) -> Self {
        Self {
            audience: Arc::clone(&issuer),
            issuer,
            leeway: DEFAULT_LEEWAY,
            remote,
            state: Arc::new(State {
                loaded: RwLock::new(Arc::new(Loaded {
                    jwks,
                    generation,
                    fetched_at: None,
                })),
                fetch: tokio::sync::Mutex::default(),
            }),
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
        if let Some(remote) = &mut self.remote {
            remote.timeout = timeout;
        }
        self
    }

    /// Fetches the key set at most once per `interval` (default
    /// [`DEFAULT_MIN_REFETCH_INTERVAL`]), however many tokens with unknown
    /// key ids arrive. No effect on a static key set.
    #[must_use]
    pub fn min_refetch_interval(mut self, interval: Duration) -> Self {
        if let Some(remote) = &mut self.remote {
            remote.min_refetch_interval = interval;
        }
        self
    }

    /// Fetches the key set again once it is older than `interval` (default
    /// [`DEFAULT_REFRESH_INTERVAL`]): the longest a retired key keeps
    /// validating here. No effect on a static key set.
    #[must_use]
    pub fn refresh_interval(mut self, interval: Duration) -> Self {
        if let Some(remote) = &mut self.remote {
            remote.refresh_interval = interval;
        }
        self
    }

    /// Fetches the key set with `client` (TLS settings, a proxy). The
    /// [`timeout`](Self::timeout) still applies to each request. No effect
    /// on a static key set.
    #[must_use]
    pub fn client(mut self, client: reqwest::Client) -> Self {
        if let Some(remote) = &mut self.remote {
            remote.http = client;
        }
        self
    }

    /// The URL of the key set; `None` for a static one.
    pub fn jwks_uri(&self) -> Option<&reqwest::Url> {
        self.remote.as_ref().map(|r| &r.url)
    }

    /// The key set at hand (empty before the first fetch).
    pub fn jwks(&self) -> Jwks {
        self.loaded().jwks.clone()
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
        let Some(remote) = &self.remote else {
            return Ok(());
        };
        let mut last = self.state.fetch.lock().await;
        self.fetch_locked(remote, &mut last).await.map(drop)
    }

    fn loaded(&self) -> Arc<Loaded> {
        // A poisoned lock only means a writer panicked; the `Arc` swap
        // is atomic.
        Arc::clone(&self.state.loaded.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Whether the key set must be fetched before it can answer: never
    /// fetched, or older than the refresh interval.
    fn needs_fetch(&self, loaded: &Loaded) -> bool {
        self.remote.as_ref().is_some_and(|remote| {
            loaded.generation == 0
                || loaded
                    .fetched_at
                    .is_some_and(|at| at.elapsed() >= remote.refresh_interval)
        })
    }

    /// A fetch unless another task fetched since `seen` was read or the
    /// last fetch ended less than `min_refetch_interval` ago: then the key
    /// set at hand, or the last fetch's error.
    async fn refetch(&self, remote: &Remote, seen: u64) -> Result<Arc<Loaded>, TokenError> {
        let mut last = self.state.fetch.lock().await;
        self.refetch_locked(remote, &mut last, seen).await
    }

    async fn refetch_locked(
        &self,
        remote: &Remote,
        last: &mut LastFetch,
        seen: u64,
    ) -> Result<Arc<Loaded>, TokenError> {
        let current = self.loaded();
        if current.generation != seen {
            // Coalesced: someone fetched while this task waited.
            return Ok(current);
        }
        if last
            .at
            .is_some_and(|at| at.elapsed() < remote.min_refetch_interval)
        {
            return match &last.error {
                Some(error) => Err(TokenError::Unavailable(error.clone())),
                None => Ok(current),
            };
        }
        self.fetch_locked(remote, last).await
    }

    /// Fetches and installs the key set; the caller holds the fetch lock.
    async fn fetch_locked(
        &self,
        remote: &Remote,
        last: &mut LastFetch,
    ) -> Result<Arc<Loaded>, TokenError> {
        // Stamped before the fetch: a request cancelled mid-fetch (a client
        // that hangs up) still counts against the refetch interval.
        last.at = Some(Instant::now());
        let fetched = fetch(remote).await;
        last.at = Some(Instant::now());
        match fetched {
            Ok(jwks) => {
                last.error = None;
                let mut slot = self.state.loaded.write().unwrap_or_else(|e| e.into_inner());
                let loaded = Arc::new(Loaded {
                    jwks,
                    generation: slot.generation + 1,
                    fetched_at: Some(Instant::now()),
                });
                *slot = Arc::clone(&loaded);
                Ok(loaded)
            }
            Err(e) => {
                if let TokenError::Unavailable(message) = &e {
                    last.error = Some(message.clone());
                }
                Err(e)
            }
        }
    }

    /// Validates `token`, fetching the key set if it must.
    async fn check(&self, token: &str) -> Result<Principal<S>, TokenError> {
        let jws = Jws::parse(token)?;
        let mut loaded = self.loaded();
        let arrived = loaded.generation;
        if let Some(remote) = &self.remote
            && self.needs_fetch(&loaded)
        {
            if loaded.generation == 0 {
                loaded = self.refetch(remote, 0).await?;
            } else if let Ok(mut last) = self.state.fetch.try_lock() {
                // Stale keys are still keys: if the refresh fails, or
                // another task is at it, use them.
                if let Ok(fresh) = self
                    .refetch_locked(remote, &mut last, loaded.generation)
                    .await
                {
                    loaded = fresh;
                }
            }
        }
        if let Some(key) = loaded.jwks.find(jws.kid.as_deref()) {
            return self.verify(&jws, key);
        }
        let Some(remote) = &self.remote else {
            return Err(TokenError::Invalid);
        };
        // An unknown key: perhaps the server rotated.
        let loaded = self.refetch(remote, loaded.generation).await?;
        match loaded.jwks.find(jws.kid.as_deref()) {
            Some(key) => self.verify(&jws, key),
            // The set was fetched after this token came in, and the key is
            // not in it: no such key.
            None if loaded.generation != arrived => Err(TokenError::Invalid),
            // The refetch was skipped (the last fetch is too recent): the
            // key may be one the server published since. A 401 would make
            // clients drop a good token; a 503 makes them retry.
            None => Err(TokenError::Unavailable(format!(
                "no key {:?} in the key set fetched less than {} s ago; \
                 it is fetched again after that",
                jws.kid.as_deref().unwrap_or(""),
                remote.min_refetch_interval.as_secs()
            ))),
        }
    }

    /// The signature, then the claims.
    fn verify(&self, jws: &Jws<'_>, key: &VerifyingKey) -> Result<Principal<S>, TokenError> {
        key.verify(jws.signing_input.as_bytes(), &jws.signature)
            .map_err(|_| TokenError::Invalid)?;
        let claims: Map<String, Value> = URL_SAFE_NO_PAD
            .decode(jws.payload)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or(TokenError::Invalid)?;
        principal_from(
            &claims,
            &self.issuer,
            &self.audience,
            self.leeway,
            SystemTime::now(),
        )
    }
}

/// A compact JWS whose header passed the checks that need no key.
struct Jws<'t> {
    kid: Option<String>,
    /// `header.payload`, what the signature covers.
    signing_input: &'t str,
    payload: &'t str,
    signature: Signature,
}

impl<'t> Jws<'t> {
    fn parse(token: &'t str) -> Result<Self, TokenError> {
        if token.len() > MAX_TOKEN {
            return Err(TokenError::Invalid);
        }
        let (signing_input, signature) = token.rsplit_once('.').ok_or(TokenError::Invalid)?;
        let (header, payload) = signing_input.split_once('.').ok_or(TokenError::Invalid)?;
        if payload.contains('.') {
            // Five parts: a JWE, or garbage.
            return Err(TokenError::Invalid);
        }
        let header: Map<String, Value> = URL_SAFE_NO_PAD
            .decode(header)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or(TokenError::Invalid)?;
        // Only ES256: never `none`, never an HMAC keyed with a public key.
        if header.get("alg").and_then(Value::as_str) != Some(ALGORITHM) {
            return Err(TokenError::Invalid);
        }
        // RFC 9068 §4; media types are case-insensitive (RFC 7515 §4.1.9).
        let typ = header.get("typ").and_then(Value::as_str);
        if !typ.is_some_and(|t| {
            t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
        }) {
            return Err(TokenError::Invalid);
        }
        // RFC 7515 §4.1.11: extensions this code does not understand.
        if header.contains_key("crit") {
            return Err(TokenError::Invalid);
        }
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(TokenError::Invalid),
        };
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .ok()
            .and_then(|bytes| Signature::from_slice(&bytes).ok())
            .ok_or(TokenError::Invalid)?;
        Ok(Self {
            kid,
            signing_input,
            payload,
            signature,
        })
    }
}

/// Seconds since the epoch as a float (NumericDate may be fractional).
fn seconds(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Reads verified claims (see the table of the module documentation).
fn principal_from<S: Scope>(
    claims: &Map<String, Value>,
    issuer: &str,
    audience: &str,
    leeway: Duration,
    now: SystemTime,
) -> Result<Principal<S>, TokenError> {
    let text = |name: &str| match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(TokenError::Invalid),
    };
    let date = |name: &str| match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n.as_f64().map(Some).ok_or(TokenError::Invalid),
        Some(_) => Err(TokenError::Invalid),
    };
    if text("iss")? != Some(issuer) {
        return Err(TokenError::Invalid);
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(audience)),
        _ => false,
    };
    if !audience_ok {
        return Err(TokenError::Invalid);
    }
    let now = seconds(now);
    let leeway = leeway.as_secs_f64();
    let exp = date("exp")?.ok_or(TokenError::Invalid)?;
    if now >= exp + leeway {
        return Err(TokenError::Invalid);
    }
    if date("nbf")?.is_some_and(|nbf| nbf > now + leeway)
        || date("iat")?.is_some_and(|iat| iat > now + leeway)
    {
        return Err(TokenError::Invalid);
    }
    let sub = text("sub")?.ok_or(TokenError::Invalid)?;
    let client_id = text("client_id")?.ok_or(TokenError::Invalid)?;
    let scope = text("scope")?.unwrap_or_default();
    // Scopes `S` does not know are dropped (see the module documentation).
    let scopes = ScopeSet::<S>::parse(scope).unwrap_or_else(|_| {
        scope
            .split_ascii_whitespace()
            .filter_map(S::from_name)
            .collect()
    });
    // RFC 9068 §2.2: without a resource owner, the subject is the client.
    let principal = if sub == client_id {
        Principal::app(client_id, scopes)
    } else {
        Principal::user(sub, client_id, scopes)
    };
    // `exp` plus the leeway: the enforcement layer and the cache refuse a
    // principal past its expiry, and must agree with the check above.
    let expiry = Duration::try_from_secs_f64((exp + leeway).max(0.0))
        .ok()
        .and_then(|d| UNIX_EPOCH.checked_add(d))
        .unwrap_or(UNIX_EPOCH);
    Ok(principal.expires_at(expiry))
}

/// Fetches and reads the key set.
async fn fetch(remote: &Remote) -> Result<Jwks, TokenError> {
    let response = remote
        .http
        .get(remote.url.clone())
        .header(
            reqwest::header::ACCEPT,
            "application/jwk-set+json, application/json",
        )
        .timeout(remote.timeout)
        .send()
        .await
        .map_err(|e| unavailable(&remote.shown, &e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(TokenError::Unavailable(format!(
            "the JWKS endpoint {} answered HTTP {status}",
            remote.shown
        )));
    }
    let body = crate::fetch::read_limited(response)
        .await
        .map_err(|e| unavailable(&remote.shown, &e))?
        .ok_or_else(|| {
            TokenError::Unavailable(format!(
                "the JWKS of {} is larger than {} bytes",
                remote.shown,
                crate::fetch::MAX_RESPONSE
            ))
        })?;
    Jwks::from_json(&body)
        .map_err(|e| TokenError::Unavailable(format!("the JWKS of {}: {e}", remote.shown)))
}

/// A transport error of a request to `endpoint`.
fn unavailable(endpoint: &str, e: &reqwest::Error) -> TokenError {
    crate::fetch::unavailable(&format!("fetching the JWKS at {endpoint}"), e)
}

impl<S: Scope> TokenValidator<S> for JwtValidator<S> {
    fn validate(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<Principal<S>, TokenError>> + Send {
        self.check(token)
    }

    /// Answers at once unless the key set must be fetched: a malformed
    /// token, or a token whose key is at hand (fresh), needs no network.
    fn validate_now(&self, token: &str) -> Option<Result<Principal<S>, TokenError>> {
        let jws = match Jws::parse(token) {
            Ok(jws) => jws,
            Err(e) => return Some(Err(e)),
        };
        let loaded = self.loaded();
        if self.needs_fetch(&loaded) {
            return None;
        }
        match loaded.jwks.find(jws.kid.as_deref()) {
            Some(key) => Some(self.verify(&jws, key)),
            None if self.remote.is_none() => Some(Err(TokenError::Invalid)),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer as _;
    use serde_json::json;

    use super::*;

    crate::scope_hierarchy! { pub Api { read { statuses, accounts }, write { statuses } } }

    const ISSUER: &str = "https://as.example";

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_slice(&[seed; 32]).expect("scalar")
    }

    fn jwk(kid: &str, key: &SigningKey) -> Value {
        let point = key.verifying_key().to_encoded_point(false);
        json!({
            "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")),
            "y": URL_SAFE_NO_PAD.encode(point.y().expect("y")),
        })
    }

    fn sign(key: &SigningKey, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature: Signature = key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }

    fn now() -> f64 {
        seconds(SystemTime::now())
    }

    fn claims() -> Value {
        json!({
            "iss": ISSUER, "aud": ISSUER, "sub": "42", "client_id": "app",
            "scope": "read:statuses write other:scope", "iat": now() as i64,
            "exp": now() as i64 + 600, "jti": "j1",
        })
    }

    fn header() -> Value {
        json!({ "alg": "ES256", "typ": "at+jwt", "kid": "k1" })
    }

    fn validator() -> JwtValidator<Api> {
        let jwks = Jwks::from_value(&json!({ "keys": [jwk("k1", &key(1))] })).expect("jwks");
        JwtValidator::with_jwks(jwks, ISSUER)
    }

    fn check(token: &str) -> Result<Principal<Api>, TokenError> {
        let answer = validator()
            .validate_now(token)
            .expect("static keys answer at once");
        let again = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(validator().validate(token));
        assert_eq!(answer, again, "validate_now and validate agree");
        answer
    }

    fn with(change: impl FnOnce(&mut Value)) -> String {
        let mut c = claims();
        change(&mut c);
        sign(&key(1), &header(), &c)
    }

    #[test]
    fn a_valid_token_is_its_principal() {
        let p = check(&sign(&key(1), &header(), &claims())).expect("valid");
        assert_eq!(p.user_id(), Some("42"));
        assert_eq!(p.client_id(), "app");
        assert_eq!(p.scopes(), "read:statuses write".parse().expect("scopes"));
        assert!(p.expiry().is_some_and(|at| at > SystemTime::now()));

        let app = check(&with(|c| c["sub"] = json!("app"))).expect("valid");
        assert!(!app.is_user(), "sub = client_id is an app token");
        let aud = check(&with(|c| c["aud"] = json!(["other", ISSUER]))).expect("valid");
        assert_eq!(aud.client_id(), "app");
    }

    #[test]
    fn claims_are_checked() {
        let t = now() as i64;
        for (why, token) in [
            ("issuer", with(|c| c["iss"] = json!("https://evil.example"))),
            (
                "no issuer",
                with(|c| drop(c.as_object_mut().map(|o| o.remove("iss")))),
            ),
            (
                "audience",
                with(|c| c["aud"] = json!("https://other.example")),
            ),
            ("audiences", with(|c| c["aud"] = json!(["a", "b"]))),
            ("expired", with(|c| c["exp"] = json!(t - 31))),
            (
                "no exp",
                with(|c| drop(c.as_object_mut().map(|o| o.remove("exp")))),
            ),
            ("exp text", with(|c| c["exp"] = json!("soon"))),
            ("nbf", with(|c| c["nbf"] = json!(t + 120))),
            ("iat", with(|c| c["iat"] = json!(t + 120))),
            (
                "no sub",
                with(|c| drop(c.as_object_mut().map(|o| o.remove("sub")))),
            ),
            ("client_id", with(|c| c["client_id"] = json!(7))),
            ("scope", with(|c| c["scope"] = json!(["read"]))),
        ] {
            assert_eq!(check(&token), Err(TokenError::Invalid), "{why}");
        }
        // Within the leeway, and the principal lives as long.
        let late = check(&with(|c| c["exp"] = json!(t - 5))).expect("within the leeway");
        assert!(late.expiry().is_some_and(|at| at > SystemTime::now()));
        assert!(check(&with(|c| c["nbf"] = json!(t + 5))).is_ok());
    }

    #[test]
    fn headers_and_signatures_are_checked() {
        let c = claims();
        let valid = sign(&key(1), &header(), &c);
        for typ in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/AT+JWT",
        ] {
            let h = json!({ "alg": "ES256", "typ": typ, "kid": "k1" });
            assert!(check(&sign(&key(1), &h, &c)).is_ok(), "{typ}");
        }
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD
                .encode(json!({ "alg": "none", "typ": "at+jwt", "kid": "k1" }).to_string()),
            URL_SAFE_NO_PAD.encode(c.to_string())
        );
        let (input, signature) = valid.rsplit_once('.').expect("jws");
        let (header_part, _) = input.split_once('.').expect("jws");
        let tampered_claims = format!(
            "{header_part}.{}.{signature}",
            URL_SAFE_NO_PAD.encode(json!({ "scope": "read write" }).to_string())
        );
        let mut flipped = signature.to_owned().into_bytes();
        flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
        let flipped = format!("{input}.{}", String::from_utf8(flipped).expect("ascii"));
        for (why, token) in [
            ("alg none", unsigned),
            ("claims changed", tampered_claims),
            ("signature changed", flipped),
            ("other key", sign(&key(2), &header(), &c)),
            (
                "unknown kid",
                sign(
                    &key(1),
                    &json!({ "alg": "ES256", "typ": "at+jwt", "kid": "k9" }),
                    &c,
                ),
            ),
            (
                "HS256",
                sign(
                    &key(1),
                    &json!({ "alg": "HS256", "typ": "at+jwt", "kid": "k1" }),
                    &c,
                ),
            ),
            (
                "es256",
                sign(
                    &key(1),
                    &json!({ "alg": "es256", "typ": "at+jwt", "kid": "k1" }),
                    &c,
                ),
            ),
            (
                "typ JWT",
                sign(
                    &key(1),
                    &json!({ "alg": "ES256", "typ": "JWT", "kid": "k1" }),
                    &c,
                ),
            ),
            (
                "no typ",
                sign(&key(1), &json!({ "alg": "ES256", "kid": "k1" }), &c),
            ),
            (
                "crit",
                sign(
                    &key(1),
                    &json!({ "alg": "ES256", "typ": "at+jwt", "kid": "k1", "crit": ["exp"] }),
                    &c,
                ),
            ),
            (
                "kid number",
                sign(
                    &key(1),
                    &json!({ "alg": "ES256", "typ": "at+jwt", "kid": 1 }),
                    &c,
                ),
            ),
            ("padding", format!("{valid}=")),
            ("five parts", format!("{valid}.x.y")),
            ("two parts", input.to_owned()),
            ("empty", String::new()),
            (
                "opaque",
                "0123456789abcdefYW4gZXhhbXBsZSBvZiAzMiByYW5kb20gYnl0ZXMhISE".into(),
            ),
        ] {
            assert_eq!(check(&token), Err(TokenError::Invalid), "{why}");
        }
    }

    #[test]
    fn a_token_without_kid_uses_the_only_key() {
        let h = json!({ "alg": "ES256", "typ": "at+jwt" });
        assert!(check(&sign(&key(1), &h, &claims())).is_ok());
        let two = Jwks::from_value(&json!({ "keys": [jwk("k1", &key(1)), jwk("k2", &key(2))] }))
            .expect("jwks");
        let v = JwtValidator::<Api>::with_jwks(two, ISSUER);
        assert_eq!(
            v.validate_now(&sign(&key(1), &h, &claims())),
            Some(Err(TokenError::Invalid))
        );
        assert!(matches!(
            v.validate_now(&sign(
                &key(2),
                &json!({ "alg": "ES256", "typ": "at+jwt", "kid": "k2" }),
                &claims()
            )),
            Some(Ok(_))
        ));
    }

    #[test]
    fn key_sets_keep_es256_signing_keys_only() {
        let mut other_curve = jwk("c", &key(3));
        other_curve["crv"] = json!("P-384");
        let mut encryption = jwk("e", &key(4));
        encryption["use"] = json!("enc");
        let mut bad_point = jwk("p", &key(5));
        bad_point["y"] = bad_point["x"].clone();
        let jwks = Jwks::from_value(&json!({ "keys": [
            jwk("k1", &key(1)),
            { "kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB" },
            { "kty": "oct", "kid": "h", "k": "c2VjcmV0" },
            other_curve, encryption, bad_point,
            "not an object",
        ] }))
        .expect("jwks");
        assert_eq!(jwks.kids().collect::<Vec<_>>(), [Some("k1")]);
        assert!(Jwks::from_json(b"[]").is_err());
        assert!(Jwks::from_json(b"{\"keys\": {}}").is_err());
        assert!(Jwks::from_json(b"nope").is_err());
        assert!(
            Jwks::from_json(b"{\"keys\": []}")
                .expect("empty")
                .is_empty()
        );
    }

    #[tokio::test]
    async fn an_unreachable_key_set_is_unavailable_but_garbage_is_invalid() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let v = JwtValidator::<Api>::new(
            format!("http://{addr}/jwks.json").parse().expect("url"),
            ISSUER,
        );
        let token = sign(&key(1), &header(), &claims());
        assert_eq!(v.validate_now(&token), None, "the keys must be fetched");
        let Err(TokenError::Unavailable(message)) = v.validate(&token).await else {
            panic!("a connection error is Unavailable");
        };
        assert!(message.contains(&addr.to_string()), "{message}");
        assert!(!message.contains(&token), "{message}");
        // Within the refetch interval: the same answer, no new attempt.
        assert!(matches!(
            v.validate(&token).await,
            Err(TokenError::Unavailable(_))
        ));
        assert_eq!(v.validate_now("garbage"), Some(Err(TokenError::Invalid)));
        assert_eq!(v.validate("garbage").await, Err(TokenError::Invalid));
    }
}
