//! [`CachedValidator`]: a bounded cache with a TTL in front of any
//! [`TokenValidator`], with eviction for revocation.
//!
//! Entries are keyed by the SHA-256 of the token, so the cache does not keep
//! bearer tokens in memory. Only successful validations are cached; an entry
//! never outlives its TTL nor the token's own expiry.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::scope::Scope;
use crate::token::{BearerToken, Principal, TokenError, TokenValidator};

/// The SHA-256 of a token ([`BearerToken::digest`], computed once per
/// request and shared with the validator behind the cache).
type Key = [u8; 32];

struct Entry<S: Scope> {
    principal: Principal<S>,
    until: Instant,
}

struct Inner<S: Scope> {
    entries: HashMap<Key, Entry<S>>,
    /// Insertion order, for evicting the oldest entry when full. May hold
    /// keys already removed; they are skipped.
    order: VecDeque<Key>,
    /// Bumped by every eviction: a validation that started before an
    /// eviction must not put its (possibly revoked) token back.
    generation: u64,
}

/// A [`TokenValidator`] that remembers successful validations of `inner`
/// for at most `ttl`, holding at most `capacity` tokens.
///
/// Clones share the cache. Call [`CachedValidator::evict`] when a token is
/// revoked so that it is refused at once rather than when its entry expires.
pub struct CachedValidator<S: Scope, V> {
    inner: Arc<V>,
    cache: Arc<Mutex<Inner<S>>>,
    ttl: Duration,
    capacity: usize,
}

impl<S: Scope, V> Clone for CachedValidator<S, V> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            cache: Arc::clone(&self.cache),
            ttl: self.ttl,
            capacity: self.capacity,
        }
    }
}

impl<S: Scope, V> std::fmt::Debug for CachedValidator<S, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedValidator")
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl<S: Scope, V> CachedValidator<S, V> {
    /// Caches `inner` for `ttl`, up to `capacity` tokens (at least one).
    pub fn new(inner: V, ttl: Duration, capacity: usize) -> Self {
        Self {
            inner: Arc::new(inner),
            cache: Arc::new(Mutex::new(Inner {
                entries: HashMap::new(),
                order: VecDeque::new(),
                generation: 0,
            })),
            ttl,
            capacity: capacity.max(1),
        }
    }

    /// The wrapped validator.
    pub fn get_ref(&self) -> &V {
        &self.inner
    }

    /// Forgets `token`; returns whether it was cached.
    pub fn evict(&self, token: &str) -> bool {
        self.evict_digest(BearerToken::new(token).digest())
    }

    /// Forgets the token whose SHA-256 is `digest` (what a store that keeps
    /// only hashes can name, e.g. in a revocation notice from another
    /// process); returns whether it was cached.
    pub fn evict_digest(&self, digest: &[u8; 32]) -> bool {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.remove(digest).is_some()
    }

    /// Forgets every token.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.clear();
        inner.order.clear();
    }

    /// The number of cached tokens.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no token is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<S>> {
        // A poisoned lock only means a holder panicked; the map is intact.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached principal of `key`, or the generation to store the
    /// answer of the inner validator with: one lock either way.
    fn lookup(&self, key: &Key, now: Instant) -> Result<Principal<S>, u64> {
        let mut inner = self.lock();
        match inner.entries.get(key) {
            Some(e) if e.until > now => Ok(e.principal.clone()),
            Some(_) => {
                inner.entries.remove(key);
                Err(inner.generation)
            }
            None => Err(inner.generation),
        }
    }

    /// Caches `principal` unless an eviction happened since `generation`
    /// was read (the validation may have raced a revocation).
    fn store(&self, key: Key, principal: &Principal<S>, now: Instant, generation: u64) {
        let mut until = now
            .checked_add(self.ttl)
            .unwrap_or(now + Duration::from_secs(86_400 * 365));
        if let Some(expiry) = principal.expiry() {
            let left = expiry
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO);
            if let Some(at) = now.checked_add(left) {
                until = until.min(at);
            }
        }
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        // Full: drop the oldest entries still present (O(1) amortized).
        while inner.entries.len() >= self.capacity {
            match inner.order.pop_front() {
                Some(old) => {
                    inner.entries.remove(&old);
                }
                None => break,
            }
        }
        if inner.order.len() >= self.capacity * 2 {
            // Compact the order queue of keys that are gone.
            let Inner { entries, order, .. } = &mut *inner;
            order.retain(|k| entries.contains_key(k));
        }
        if inner
            .entries
            .insert(
                key,
                Entry {
                    principal: principal.clone(),
                    until,
                },
            )
            .is_none()
        {
            inner.order.push_back(key);
        }
    }
}

/// On a miss, the enforcement layer asks [`validate_now`](TokenValidator::validate_now)
/// (one lock) and then, if the inner validator has to wait,
/// [`validate`](TokenValidator::validate) (one lock to look again, one to
/// store): the token is hashed once, by its [`BearerToken`].
impl<S: Scope, V: TokenValidator<S>> TokenValidator<S> for CachedValidator<S, V> {
    fn validate(
        &self,
        token: &BearerToken<'_>,
    ) -> impl Future<Output = Result<Principal<S>, TokenError>> + Send {
        let now = Instant::now();
        let looked_up = self.lookup(token.digest(), now);
        async move {
            let generation = match looked_up {
                Ok(principal) => return Ok(principal),
                Err(generation) => generation,
            };
            let principal = self.inner.validate(token).await?;
            self.store(*token.digest(), &principal, now, generation);
            Ok(principal)
        }
    }

    fn validate_now(&self, token: &BearerToken<'_>) -> Option<Result<Principal<S>, TokenError>> {
        let now = Instant::now();
        let generation = match self.lookup(token.digest(), now) {
            Ok(hit) => return Some(Ok(hit)),
            Err(generation) => generation,
        };
        let answer = self.inner.validate_now(token)?;
        if let Ok(principal) = &answer {
            self.store(*token.digest(), principal, now, generation);
        }
        Some(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::InMemoryValidator;

    crate::scope_hierarchy! { pub Api { read { statuses } } }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    fn principal() -> Principal<Api> {
        Principal::user("1", "app", "read".parse().expect("scope"))
    }

    #[test]
    fn caches_until_evicted() {
        let store = InMemoryValidator::new();
        store.insert("t", principal());
        let cached = CachedValidator::new(store.clone(), Duration::from_secs(60), 10);
        block_on(async {
            assert!(cached.validate(&BearerToken::new("t")).await.is_ok());
            store.revoke("t");
            // Still cached: the store is not asked again.
            assert!(cached.validate(&BearerToken::new("t")).await.is_ok());
            assert!(cached.evict("t"));
            assert_eq!(
                cached.validate(&BearerToken::new("t")).await,
                Err(TokenError::Invalid)
            );
        });
    }

    #[test]
    fn entries_expire_after_ttl() {
        let store = InMemoryValidator::new();
        store.insert("t", principal());
        let cached = CachedValidator::new(store.clone(), Duration::ZERO, 10);
        block_on(async {
            assert!(cached.validate(&BearerToken::new("t")).await.is_ok());
            store.revoke("t");
            assert_eq!(
                cached.validate(&BearerToken::new("t")).await,
                Err(TokenError::Invalid)
            );
        });
    }

    #[test]
    fn never_outlives_the_token() {
        let store = InMemoryValidator::new();
        let soon = SystemTime::now() + Duration::from_millis(50);
        store.insert("t", principal().expires_at(soon));
        let cached = CachedValidator::new(store, Duration::from_secs(3600), 10);
        block_on(async {
            assert!(cached.validate(&BearerToken::new("t")).await.is_ok());
            std::thread::sleep(Duration::from_millis(80));
            assert_eq!(
                cached.validate(&BearerToken::new("t")).await,
                Err(TokenError::Invalid)
            );
        });
    }

    #[test]
    fn an_eviction_during_validation_is_not_undone() {
        // A validator that is slow: revocation (evict) lands while it runs.
        let cached = CachedValidator::new(
            |_token: String| async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok(principal())
            },
            Duration::from_secs(60),
            10,
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let token = BearerToken::new("t");
            let validation = cached.validate(&token);
            let eviction = async {
                tokio::time::sleep(Duration::from_millis(10)).await;
                cached.evict("t");
            };
            let (answer, ()) = tokio::join!(validation, eviction);
            assert!(answer.is_ok());
        });
        assert!(cached.is_empty(), "the revoked token must not be cached");
    }

    #[test]
    fn huge_ttls_do_not_overflow() {
        let store = InMemoryValidator::new();
        store.insert("t", principal());
        let cached = CachedValidator::new(store, Duration::MAX, 10);
        block_on(async { assert!(cached.validate(&BearerToken::new("t")).await.is_ok()) });
    }

    #[test]
    fn stays_bounded() {
        let store = InMemoryValidator::new();
        for i in 0..100 {
            store.insert(format!("t{i}"), principal());
        }
        let cached = CachedValidator::new(store, Duration::from_secs(60), 8);
        block_on(async {
            for i in 0..100 {
                assert!(
                    cached
                        .validate(&BearerToken::new(format!("t{i}")))
                        .await
                        .is_ok()
                );
                assert!(cached.len() <= 8);
            }
        });
        assert_eq!(cached.len(), 8);
    }
}
