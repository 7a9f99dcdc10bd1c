//! The store-backed [`TokenValidator`]: what the enforcement layer of a pod
//! uses when the OAuth server runs in the same process. Wrap it in
//! [`CachedValidator`](scope_runtime::cache::CachedValidator) and evict on
//! revocation.

use std::time::{Duration, UNIX_EPOCH};

use scope_runtime::token::{BearerToken, Principal, TokenError, TokenValidator};
use scope_runtime::{Scope, ScopeSet};

use crate::flows::now;
use crate::policy::ScopePolicy;
use crate::primitives::Store;
use crate::secret::SecretHash;

/// Looks bearer tokens up by their [`SecretHash`] in a [`Store`], and
/// answers with what they may do now: a token that reaches a scope reserved
/// to administrators keeps it only while its user is one
/// ([`ScopePolicy`]), and a token of a disabled user
/// ([`UserRecord::disabled`](crate::primitives::UserRecord::disabled)) is
/// [`TokenError::Invalid`] while the user is. A user's token costs two
/// reads of the store (the token, then its user). Build it with
/// [`AuthServer::validator`](crate::flows::AuthServer::validator), which
/// passes the server's policy.
pub struct StoreValidator<St> {
    store: std::sync::Arc<St>,
    policy: ScopePolicy,
}

impl<St> Clone for StoreValidator<St> {
    fn clone(&self) -> Self {
        Self {
            store: std::sync::Arc::clone(&self.store),
            policy: self.policy.clone(),
        }
    }
}

impl<St> std::fmt::Debug for StoreValidator<St> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreValidator").finish_non_exhaustive()
    }
}

impl<St: Store> StoreValidator<St> {
    /// A validator reading `store`, answering with what `policy` lets
    /// each token do now. Usually [`AuthServer::validator`](crate::flows::AuthServer::validator),
    /// which passes the server's own policy: a validator with another
    /// policy than the server's would grant what the server refuses.
    pub fn new(store: std::sync::Arc<St>, policy: ScopePolicy) -> Self {
        Self { store, policy }
    }
}

impl<S: Scope, St: Store> TokenValidator<S> for StoreValidator<St> {
    async fn validate(&self, token: &BearerToken<'_>) -> Result<Principal<S>, TokenError> {
        // The digest the cache in front already computed: hashed once.
        let hash = SecretHash::of_bearer(token);
        let record = self
            .store
            .token_by_access(hash)
            .await
            .map_err(|e| TokenError::Unavailable(e.to_string()))?
            .ok_or(TokenError::Invalid)?;
        if record.revoked || record.expires_at.is_some_and(|e| e <= now()) {
            return Err(TokenError::Invalid);
        }
        // A disabled user's tokens are refused while the user is (they are
        // kept: enabled again, the user's unexpired tokens work again).
        let user = match record.user_id {
            Some(id) => self
                .store
                .user(id)
                .await
                .map_err(|e| TokenError::Unavailable(e.to_string()))?,
            None => None,
        };
        if user.as_ref().is_some_and(|u| u.disabled) {
            return Err(TokenError::Invalid);
        }
        // A demoted administrator's token loses the reserved scopes now.
        let scopes: ScopeSet<S> = self
            .policy
            .current(&*self.store, &record, user.as_ref())
            .await
            .map_err(|e| TokenError::Unavailable(e.to_string()))?;
        let principal = match record.user_id {
            Some(user) => Principal::user(user.to_string(), record.client_id, scopes),
            None => Principal::app(record.client_id, scopes),
        };
        Ok(
            match record.expires_at.and_then(|e| u64::try_from(e).ok()) {
                Some(at) => principal.expires_at(UNIX_EPOCH + Duration::from_secs(at)),
                None => principal,
            },
        )
    }
}
