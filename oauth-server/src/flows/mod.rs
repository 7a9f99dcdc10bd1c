//! The grant logic, independent of axum: app registration, the
//! authorization-code flow with PKCE, refresh rotation, client credentials,
//! revocation and introspection. [`http`](crate::http) is a thin layer of
//! routes over [`AuthServer`].

mod apps;
mod authorize;
mod error;
mod token;

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

pub use self::apps::{AppRegistration, OOB, RegisteredApp};
pub use self::authorize::{AuthorizeRequest, ValidAuthorization};
pub use self::error::OAuthError;
pub use self::token::{Introspection, IssuedToken, TokenRequest};
use crate::config::Config;
use crate::primitives::{ClientRecord, Store, Timestamp};
use crate::secret::SecretHash;
use scope_runtime::{Scope, ScopeSet};

/// The authorization server's logic over a store, for hierarchy `S`.
/// Cheap to clone.
pub struct AuthServer<S: Scope, St: Store> {
    store: Arc<St>,
    config: Arc<Config>,
    /// Registered clients, read on every token request; clients are never
    /// changed after registration, so entries never go stale.
    clients: Arc<Mutex<HashMap<String, ClientRecord>>>,
    /// Called after every revocation (see [`AuthServer::on_revoke`]).
    on_revoke: Option<RevokeHook>,
    _scope: PhantomData<fn() -> S>,
}

/// A callback run after tokens are revoked.
pub type RevokeHook = Arc<dyn Fn(Revocation<'_>) + Send + Sync>;

/// What a revocation ended, for [`AuthServer::on_revoke`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revocation<'a> {
    /// This one access token (the revoke endpoint, given it).
    AccessToken(&'a str),
    /// A whole grant: every access token of a family (a revoked or reused
    /// refresh token, a replayed code), whose values the server never
    /// kept.
    Grant,
}

/// Clients kept in memory at most.
const CLIENT_CACHE: usize = 10_000;

impl<S: Scope, St: Store> Clone for AuthServer<S, St> {
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
            config: Arc::clone(&self.config),
            clients: Arc::clone(&self.clients),
            on_revoke: self.on_revoke.clone(),
            _scope: PhantomData,
        }
    }
}

impl<S: Scope, St: Store> std::fmt::Debug for AuthServer<S, St> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthServer")
            .field("hierarchy", &S::HIERARCHY)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

pub(crate) fn now() -> Timestamp {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl<S: Scope, St: Store> AuthServer<S, St> {
    /// A server over `store` with `config`.
    pub fn new(store: St, config: Config) -> Self {
        Self {
            store: Arc::new(store),
            config: Arc::new(config),
            clients: Arc::default(),
            on_revoke: None,
            _scope: PhantomData,
        }
    }

    /// Calls `hook` after tokens are revoked, whatever the cause: the
    /// revoke endpoint, a reused refresh token, a replayed code; not when
    /// the token was revoked already. A pod evicts the token from its
    /// validation cache there (or empties it for a whole grant), so a
    /// revoked token stops working at once in this process.
    #[must_use]
    pub fn on_revoke(mut self, hook: RevokeHook) -> Self {
        self.on_revoke = Some(hook);
        self
    }

    /// Runs the revocation hook.
    pub(crate) fn revoked(&self, what: Revocation<'_>) {
        if let Some(hook) = &self.on_revoke {
            hook(what);
        }
    }

    /// The store.
    pub fn store(&self) -> &St {
        &self.store
    }

    /// The store, shared (for a [`StoreValidator`](crate::validator::StoreValidator)).
    pub fn store_arc(&self) -> Arc<St> {
        Arc::clone(&self.store)
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The client with this id, from memory when it was seen before.
    ///
    /// # Errors
    /// 503 if the store fails.
    pub async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, OAuthError> {
        let cached = self
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(client_id)
            .cloned();
        if cached.is_some() {
            return Ok(cached);
        }
        let client = self.store.client(client_id).await?;
        if let Some(c) = &client {
            let mut cache = self.clients.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() >= CLIENT_CACHE {
                cache.clear();
            }
            cache.insert(c.client_id.clone(), c.clone());
        }
        Ok(client)
    }

    /// `scopes` without those reserved to administrators, unless `user_id`
    /// is one (see [`Config::admin_scope_prefixes`]).
    ///
    /// # Errors
    /// 503 if the store fails.
    pub async fn grantable_for(
        &self,
        user_id: i64,
        scopes: ScopeSet<S>,
    ) -> Result<ScopeSet<S>, OAuthError> {
        let admin = self.store.user(user_id).await?.is_some_and(|u| u.admin);
        if admin {
            return Ok(scopes);
        }
        let reserved = |name: &str| {
            self.config
                .admin_scope_prefixes
                .iter()
                .any(|p| name.starts_with(p.as_str()))
        };
        Ok(scopes.iter().filter(|s| !reserved(s.name())).collect())
    }

    /// Authenticates a client by id and secret (HTTP Basic or form fields,
    /// RFC 6749 §2.3.1); the secret is compared in constant time against its
    /// stored hash.
    ///
    /// # Errors
    /// 401 `invalid_client` for an unknown client or a wrong or missing
    /// secret, without telling which.
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        secret: Option<&str>,
    ) -> Result<ClientRecord, OAuthError> {
        let client = self.client(client_id).await?;
        // Hash even for an unknown client, so timing does not tell.
        let presented = SecretHash::of(secret.unwrap_or_default());
        match client {
            Some(c) if secret.is_some() && c.secret_hash.matches_hash(&presented) => Ok(c),
            _ => Err(OAuthError::invalid_client()),
        }
    }
}
