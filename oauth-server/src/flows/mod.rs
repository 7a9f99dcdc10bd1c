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
use crate::policy::ScopePolicy;
use crate::primitives::{ClientRecord, Store, Timestamp};
use crate::secret::SecretHash;
use crate::validator::StoreValidator;
use scope_runtime::{Scope, ScopeSet};

/// The authorization server's logic over a store, for hierarchy `S`.
/// Cheap to clone.
pub struct AuthServer<S: Scope, St: Store> {
    store: Arc<St>,
    config: Arc<Config>,
    /// Registered clients, read on every token request; clients are never
    /// changed after registration, so entries never go stale.
    clients: Arc<Mutex<ClientCache>>,
    /// Called after every revocation (see [`AuthServer::on_revoke`]).
    on_revoke: Option<RevokeHook>,
    /// The scopes reserved to administrators.
    policy: ScopePolicy,
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
    /// kept, of this user (`None`: an app's grant).
    #[non_exhaustive]
    Grant {
        /// The grant's user.
        user: Option<i64>,
    },
    /// The access token with this SHA-256 (the one a refresh replaced;
    /// evict it with `CachedValidator::evict_digest`).
    AccessTokenDigest([u8; 32]),
    /// What this user's tokens may do changed (an administrator was
    /// demoted or promoted, the user disabled or enabled): drop their
    /// cached validations.
    User(i64),
}

/// Clients kept in memory at most.
const CLIENT_CACHE: usize = 10_000;
/// Bytes of clients kept in memory at most (a registration may hold 16
/// redirect URIs of 2,000 characters).
const CLIENT_CACHE_BYTES: usize = 4 << 20;

/// The clients read recently, and about how many bytes they hold.
#[derive(Default)]
struct ClientCache {
    entries: HashMap<String, ClientRecord>,
    bytes: usize,
}

/// About what a cached client holds in memory.
fn client_size(c: &ClientRecord) -> usize {
    std::mem::size_of::<ClientRecord>()
        + 2 * c.client_id.len()
        + c.name.len()
        + c.scopes.len()
        + c.website.as_ref().map_or(0, String::len)
        + c.redirect_uris.iter().map(|u| u.len() + 24).sum::<usize>()
}

impl<S: Scope, St: Store> Clone for AuthServer<S, St> {
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
            config: Arc::clone(&self.config),
            clients: Arc::clone(&self.clients),
            on_revoke: self.on_revoke.clone(),
            policy: self.policy.clone(),
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
    /// A server over `store` with `config`. An admin-scope prefix of the
    /// configuration that names no scope of `S` (a typo would reserve
    /// nothing) is logged as a warning.
    pub fn new(store: St, config: Config) -> Self {
        let policy = config.scope_policy();
        for prefix in policy.unmatched_prefixes::<S>() {
            tracing::warn!(
                prefix,
                "admin-scope prefix matches no scope of the hierarchy"
            );
        }
        Self {
            store: Arc::new(store),
            policy,
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

    /// The store, shared (for a [`StoreValidator`]).
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
        if let Some(cached) = self.cached_client(client_id) {
            return Ok(Some(cached));
        }
        let client = self.store.client(client_id).await?;
        if let Some(c) = &client {
            self.remember(c);
        }
        Ok(client)
    }

    fn cached_client(&self, client_id: &str) -> Option<ClientRecord> {
        self.clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entries
            .get(client_id)
            .cloned()
    }

    /// Keeps `client` in memory; the cache is emptied when it holds
    /// [`CLIENT_CACHE`] clients or [`CLIENT_CACHE_BYTES`] of them.
    fn remember(&self, client: &ClientRecord) {
        let size = client_size(client);
        let mut cache = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if cache.entries.len() >= CLIENT_CACHE || cache.bytes + size > CLIENT_CACHE_BYTES {
            cache.entries.clear();
            cache.bytes = 0;
        }
        if cache
            .entries
            .insert(client.client_id.clone(), client.clone())
            .is_none()
        {
            cache.bytes += size;
        }
    }

    /// What a grant of `scopes` to `client` (for `user_id`, or the app
    /// itself) may carry: token ∩ app ∩ what the user may have (see
    /// [`ScopePolicy`]). The user is looked up
    /// only when the grant reaches a reserved scope.
    ///
    /// # Errors
    /// 503 if the store fails.
    pub async fn grantable(
        &self,
        client: &ClientRecord,
        user_id: Option<i64>,
        scopes: ScopeSet<S>,
    ) -> Result<ScopeSet<S>, OAuthError> {
        let policy = &self.policy;
        let admin = match user_id {
            Some(id) if policy.reaches_reserved(scopes) => {
                self.store.user(id).await?.is_some_and(|u| u.admin)
            }
            _ => false,
        };
        let app = ScopeSet::<S>::parse(&client.scopes).unwrap_or_default();
        Ok(policy.effective(scopes, Some(app), admin))
    }

    /// `invalid_grant` if `user_id` names a disabled user: nothing is
    /// issued to one (no code, no token, no refresh). An unknown user is
    /// left to the caller's own checks.
    pub(crate) async fn refuse_disabled(&self, user_id: Option<i64>) -> Result<(), OAuthError> {
        let Some(id) = user_id else {
            return Ok(());
        };
        match self.store.user(id).await? {
            Some(user) if user.disabled => {
                tracing::info!(user_id = id, "grant of a disabled user refused");
                Err(OAuthError::invalid_grant())
            }
            _ => Ok(()),
        }
    }

    /// A [`StoreValidator`] over this server's store and scope policy: what
    /// an enforcer in the same process validates tokens with.
    pub fn validator(&self) -> StoreValidator<St> {
        StoreValidator::new(self.store_arc(), self.policy.clone())
    }

    /// Makes `user_id` an administrator or not, and drops the cached
    /// validations of this process (the revocation hook, with
    /// [`Revocation::User`]) and, on PostgreSQL, of every instance: the
    /// reserved scopes of a demoted administrator's tokens stop working at
    /// once. `false` if there is no such user.
    ///
    /// # Errors
    /// 503 if the store fails.
    pub async fn set_admin(&self, user_id: i64, admin: bool) -> Result<bool, OAuthError> {
        let changed = self.store.set_admin(user_id, admin).await?;
        if changed {
            self.revoked(Revocation::User(user_id));
        }
        Ok(changed)
    }

    /// Disables (suspends) `user_id` or enables them again, and drops the
    /// cached validations of this process (the revocation hook, with
    /// [`Revocation::User`]) and, on PostgreSQL, of every instance: a
    /// disabled user's tokens stop working at once. While disabled, the
    /// user cannot log in, and their authorization codes and refresh
    /// tokens are refused (`invalid_grant`). Disabling revokes nothing:
    /// enabling the user again makes their unexpired tokens work again.
    /// `false` if there is no such user.
    ///
    /// # Errors
    /// 503 if the store fails.
    pub async fn set_disabled(&self, user_id: i64, disabled: bool) -> Result<bool, OAuthError> {
        let changed = self.store.set_disabled(user_id, disabled).await?;
        if changed {
            self.revoked(Revocation::User(user_id));
        }
        Ok(changed)
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
        // A failed authentication loads nothing into the cache: only a
        // client that proved it knows its secret is remembered.
        let (client, cached) = match self.cached_client(client_id) {
            Some(c) => (Some(c), true),
            None => (self.store.client(client_id).await?, false),
        };
        // Hash even for an unknown client, so timing does not tell.
        let presented = SecretHash::of(secret.unwrap_or_default());
        match client {
            Some(c) if secret.is_some() && c.secret_hash.matches_hash(&presented) => {
                if !cached {
                    self.remember(&c);
                }
                Ok(c)
            }
            _ => Err(OAuthError::invalid_client()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{AppRegistration, AuthServer};
    use crate::config::Config;
    use crate::store::MemoryStore;
    use scope_runtime::scope_hierarchy;

    scope_hierarchy! { pub Scope { #[default] read } }

    /// A failed client authentication loads nothing into the cache; a
    /// successful one does.
    #[tokio::test]
    async fn only_authenticated_clients_are_cached() {
        let server = AuthServer::<Scope, _>::new(MemoryStore::new(), Config::default());
        let app = server
            .register_app(
                AppRegistration {
                    client_name: "app".into(),
                    redirect_uris: vec![super::OOB.into()],
                    scopes: None,
                    website: None,
                },
                None,
            )
            .await
            .expect("register");
        let id = &app.record.client_id;
        let cached = |s: &AuthServer<Scope, MemoryStore>| {
            s.clients
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entries
                .len()
        };
        assert!(server.authenticate_client(id, Some("wrong")).await.is_err());
        assert!(server.authenticate_client(id, None).await.is_err());
        assert_eq!(cached(&server), 0);
        server
            .authenticate_client(id, Some(&app.client_secret))
            .await
            .expect("authenticated");
        assert_eq!(cached(&server), 1);
        // A cached client still needs its secret.
        assert!(server.authenticate_client(id, Some("wrong")).await.is_err());
    }
}
