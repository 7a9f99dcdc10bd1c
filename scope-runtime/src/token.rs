//! Bearer-token validation: the [`TokenValidator`] trait the enforcement
//! layer calls, the [`Principal`] it produces, and an in-memory validator
//! for tests and examples. A bounded TTL cache for any validator lives in
//! [`cache`](crate::cache).
//!
//! ```
//! use scope_runtime::token::{BearerToken, InMemoryValidator, TokenValidator};
//! use scope_runtime::Principal;
//! use scope_runtime::{scope_hierarchy, ScopeSet};
//!
//! scope_hierarchy! { pub Api { read { statuses } } }
//!
//! # tokio_test_block_on(async {
//! let validator = InMemoryValidator::<Api>::new();
//! validator.insert("s3cret", Principal::user("42", "my-app", "read".parse().unwrap()));
//! let token = BearerToken::new("s3cret");
//! let principal = validator.validate(&token).await.unwrap();
//! assert_eq!(principal.user_id(), Some("42"));
//! validator.revoke("s3cret");
//! assert!(validator.validate(&token).await.is_err());
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use crate::scope::Scope;
use crate::set::ScopeSet;

/// A bearer token as a client presented it, with its SHA-256 computed at
/// most once however many layers look at it: the enforcement layer builds
/// one per request, and the [cache](crate::cache::CachedValidator) (keyed
/// by the digest) and a store that keeps token hashes (the OAuth server's)
/// share the same digest.
///
/// Its `Debug` never shows the token.
#[derive(Clone)]
pub struct BearerToken<'a> {
    token: Cow<'a, str>,
    digest: OnceLock<[u8; 32]>,
}

impl<'a> BearerToken<'a> {
    /// The token `token` (the credentials of `Authorization: Bearer`).
    pub fn new(token: impl Into<Cow<'a, str>>) -> Self {
        Self {
            token: token.into(),
            digest: OnceLock::new(),
        }
    }

    /// The token itself.
    pub fn as_str(&self) -> &str {
        &self.token
    }

    /// The SHA-256 of the token, computed on first use.
    pub fn digest(&self) -> &[u8; 32] {
        self.digest
            .get_or_init(|| Sha256::digest(self.token.as_bytes()).into())
    }

    /// The same token, owning its text (keeps a digest already computed).
    pub fn into_owned(self) -> BearerToken<'static> {
        BearerToken {
            token: Cow::Owned(self.token.into_owned()),
            digest: self.digest,
        }
    }
}

impl std::fmt::Debug for BearerToken<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerToken").finish_non_exhaustive()
    }
}

/// Who a valid token speaks for, and what it may do.
///
/// Cheap to clone (shared strings). The enforcement layer puts it in the
/// request extensions; handlers take it as an extractor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal<S: Scope> {
    user_id: Option<Arc<str>>,
    client_id: Arc<str>,
    scopes: ScopeSet<S>,
    expires_at: Option<SystemTime>,
}

impl<S: Scope> Principal<S> {
    /// A token issued to user `user_id` through client `client_id`.
    pub fn user(
        user_id: impl Into<Arc<str>>,
        client_id: impl Into<Arc<str>>,
        scopes: ScopeSet<S>,
    ) -> Self {
        Self {
            user_id: Some(user_id.into()),
            client_id: client_id.into(),
            scopes,
            expires_at: None,
        }
    }

    /// An app token (client credentials grant): no user.
    pub fn app(client_id: impl Into<Arc<str>>, scopes: ScopeSet<S>) -> Self {
        Self {
            user_id: None,
            client_id: client_id.into(),
            scopes,
            expires_at: None,
        }
    }

    /// Sets when the token expires; caches never keep it past that.
    #[must_use]
    pub fn expires_at(mut self, at: SystemTime) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// The user, for a user token.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// Whether this is a user token (as opposed to an app token).
    pub fn is_user(&self) -> bool {
        self.user_id.is_some()
    }

    /// The client (application) the token was issued to.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The scopes granted to the token, as granted (see
    /// [`ScopeSet::grants`] for what they imply).
    pub fn scopes(&self) -> ScopeSet<S> {
        self.scopes
    }

    /// When the token expires, if it does.
    pub fn expiry(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// Whether the token has expired: the one definition the validators
    /// and the enforcement layer (which refuses an expired principal
    /// whatever its validator answered) share.
    pub fn is_expired(&self) -> bool {
        self.expires_at.is_some_and(|at| at <= SystemTime::now())
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Unknown, expired, revoked or malformed: answered with 401
    /// `invalid_token`.
    #[error("the access token is invalid")]
    Invalid,
    /// The validator could not decide (its store is unreachable): answered
    /// with 503, never with a 401 that would make clients drop the token.
    #[error("token validation is unavailable: {0}")]
    Unavailable(String),
}

/// Turns a bearer token into a [`Principal`].
///
/// Implemented by the OAuth server's store-backed validator, by
/// [`InMemoryValidator`], by [`CachedValidator`](crate::cache::CachedValidator)
/// around any of them, and by closures `Fn(String) -> impl Future<Output =
/// Result<Principal<S>, TokenError>>`.
#[diagnostic::on_unimplemented(
    note = "implement `TokenValidator` or pass a closure `|token: String| async move {{ ... }}`"
)]
pub trait TokenValidator<S: Scope>: Send + Sync + 'static {
    /// Validates `token` (the credentials of `Authorization: Bearer`).
    ///
    /// A validator may leave the token's expiry to its caller: it reports
    /// it in [`Principal::expiry`], and the enforcement layer refuses an
    /// expired principal whatever the validator answered (the one place
    /// the request path checks expiry).
    ///
    /// # Errors
    /// [`TokenError::Invalid`] for a token that must be refused,
    /// [`TokenError::Unavailable`] when no answer can be given.
    fn validate(
        &self,
        token: &BearerToken<'_>,
    ) -> impl Future<Output = Result<Principal<S>, TokenError>> + Send;

    /// The answer for `token` if it is at hand without waiting (a cache
    /// hit, an in-memory map), or `None` to go through
    /// [`validate`](TokenValidator::validate). The enforcement layer tries
    /// this first, so a cached token costs no allocation and no task switch.
    ///
    /// The default answers `None`.
    fn validate_now(&self, token: &BearerToken<'_>) -> Option<Result<Principal<S>, TokenError>> {
        let _ = token;
        None
    }
}

impl<S, F, Fut> TokenValidator<S> for F
where
    S: Scope,
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Principal<S>, TokenError>> + Send,
{
    fn validate(
        &self,
        token: &BearerToken<'_>,
    ) -> impl Future<Output = Result<Principal<S>, TokenError>> + Send {
        self(token.as_str().to_owned())
    }
}

/// Tokens held in memory, for tests and examples.
///
/// Clones share the same tokens. Tokens are kept as given: this is not a
/// store for production secrets.
pub struct InMemoryValidator<S: Scope> {
    tokens: Arc<RwLock<HashMap<String, Principal<S>>>>,
}

/// Shows how many tokens it holds, never the tokens.
impl<S: Scope> std::fmt::Debug for InMemoryValidator<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.tokens.read().map_or(0, |t| t.len());
        f.debug_struct("InMemoryValidator")
            .field("tokens", &n)
            .finish()
    }
}

impl<S: Scope> Clone for InMemoryValidator<S> {
    fn clone(&self) -> Self {
        Self {
            tokens: Arc::clone(&self.tokens),
        }
    }
}

impl<S: Scope> Default for InMemoryValidator<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Scope> InMemoryValidator<S> {
    /// A validator that knows no token.
    pub fn new() -> Self {
        Self {
            tokens: Arc::default(),
        }
    }

    /// Makes `token` valid for `principal`.
    pub fn insert(&self, token: impl Into<String>, principal: Principal<S>) {
        self.write().insert(token.into(), principal);
    }

    /// Makes `token` invalid; returns whether it was known.
    pub fn revoke(&self, token: &str) -> bool {
        self.write().remove(token).is_some()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Principal<S>>> {
        // A poisoned lock only means a writer panicked; the map is intact.
        self.tokens.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl<S: Scope> InMemoryValidator<S> {
    fn lookup(&self, token: &str) -> Result<Principal<S>, TokenError> {
        let found = self
            .tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
            .cloned();
        match found {
            Some(p) if !p.is_expired() => Ok(p),
            _ => Err(TokenError::Invalid),
        }
    }
}

impl<S: Scope> TokenValidator<S> for InMemoryValidator<S> {
    fn validate(
        &self,
        token: &BearerToken<'_>,
    ) -> impl Future<Output = Result<Principal<S>, TokenError>> + Send {
        std::future::ready(self.lookup(token.as_str()))
    }

    fn validate_now(&self, token: &BearerToken<'_>) -> Option<Result<Principal<S>, TokenError>> {
        Some(self.lookup(token.as_str()))
    }
}
