//! The verifier's keys: [`Jwks`], the ES256 keys of a key set, and the
//! cache that fetches it, refreshes it and refetches it on an unknown
//! `kid` (see "Key set cache" in the [module documentation](super)).

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use p256::ecdsa::VerifyingKey;
use serde::Deserialize as _;
use serde_json::Value;

use super::format::Jwk;
use crate::fetch::Endpoint;
use crate::token::TokenError;

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
        let es256 = |jwk: &Value| {
            let jwk = Jwk::deserialize(jwk).ok()?;
            Some((jwk.kid.as_deref().map(Arc::from), jwk.verifying_key()?))
        };
        Ok(Self {
            keys: keys.iter().filter_map(es256).collect(),
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
    fn find(&self, kid: Option<&str>) -> Option<VerifyingKey> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|(k, _)| k.as_deref() == Some(kid))
                .map(|(_, key)| *key),
            None => match self.keys.as_slice() {
                [(_, only)] => Some(*only),
                _ => None,
            },
        }
    }
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
pub(super) struct Remote {
    pub(super) endpoint: Endpoint,
    pub(super) http: reqwest::Client,
    pub(super) timeout: Duration,
    pub(super) min_refetch_interval: Duration,
    pub(super) refresh_interval: Duration,
}

/// The key set of a validator, fixed or fetched. Clones share it.
#[derive(Clone)]
pub(super) struct KeyCache {
    /// `None` for a static key set.
    pub(super) remote: Option<Remote>,
    state: Arc<State>,
}

impl KeyCache {
    /// A cache of the set of `remote`, fetched on first use; or, without
    /// one, of `jwks` for ever.
    pub(super) fn new(remote: Option<Remote>, jwks: Jwks) -> Self {
        let generation = if remote.is_some() { 0 } else { 1 };
        Self {
            remote,
            state: Arc::new(State {
                loaded: RwLock::new(Arc::new(Loaded {
                    jwks,
                    generation,
                    fetched_at: None,
                })),
                fetch: tokio::sync::Mutex::default(),
            }),
        }
    }

    /// The key set at hand (empty before the first fetch).
    pub(super) fn jwks(&self) -> Jwks {
        self.loaded().jwks.clone()
    }

    fn loaded(&self) -> Arc<Loaded> {
        // A poisoned lock only means a writer panicked; the `Arc` swap
        // is atomic.
        Arc::clone(&self.state.loaded.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// The key for `kid` if it can be told without a fetch: `Some(Err)`
    /// for a static set without it, `None` when the set must be fetched
    /// (never fetched, stale, or no such key in it yet).
    pub(super) fn key_now(&self, kid: Option<&str>) -> Option<Result<VerifyingKey, TokenError>> {
        let loaded = self.loaded();
        if self.needs_fetch(&loaded) {
            return None;
        }
        match loaded.jwks.find(kid) {
            Some(key) => Some(Ok(key)),
            None if self.remote.is_none() => Some(Err(TokenError::Invalid)),
            None => None,
        }
    }

    /// The key for `kid`, fetching the set if it must.
    pub(super) async fn key(&self, kid: Option<&str>) -> Result<VerifyingKey, TokenError> {
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
        if let Some(key) = loaded.jwks.find(kid) {
            return Ok(key);
        }
        let Some(remote) = &self.remote else {
            return Err(TokenError::Invalid);
        };
        // An unknown key: perhaps the server rotated.
        let loaded = self.refetch(remote, loaded.generation).await?;
        match loaded.jwks.find(kid) {
            Some(key) => Ok(key),
            // The set was fetched after this token came in, and the key is
            // not in it: no such key.
            None if loaded.generation != arrived => Err(TokenError::Invalid),
            // The refetch was skipped (the last fetch is too recent): the
            // key may be one the server published since. A 401 would make
            // clients drop a good token; a 503 makes them retry.
            None => Err(TokenError::Unavailable(format!(
                "no key {:?} in the key set fetched less than {} s ago; \
                 it is fetched again after that",
                kid.unwrap_or(""),
                remote.min_refetch_interval.as_secs()
            ))),
        }
    }

    /// Fetches the key set now (see `JwtValidator::load_keys`).
    pub(super) async fn load(&self) -> Result<(), TokenError> {
        let Some(remote) = &self.remote else {
            return Ok(());
        };
        let mut last = self.state.fetch.lock().await;
        self.fetch_locked(remote, &mut last).await.map(drop)
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
}

/// Fetches and reads the key set.
async fn fetch(remote: &Remote) -> Result<Jwks, TokenError> {
    let endpoint = &remote.endpoint;
    let response = remote
        .http
        .get(endpoint.url().clone())
        .header(
            reqwest::header::ACCEPT,
            "application/jwk-set+json, application/json",
        )
        .timeout(remote.timeout)
        .send()
        .await
        .map_err(|e| endpoint.unavailable(&e))?;
    // Keys only from the configured URL, whatever client the caller gave.
    endpoint.answered_here(&response)?;
    let status = response.status();
    if !status.is_success() {
        return Err(endpoint.status(status));
    }
    let body = endpoint.body(response).await?;
    Jwks::from_json(&body)
        .map_err(|e| TokenError::Unavailable(format!("the JWKS of {}: {e}", endpoint.shown())))
}
