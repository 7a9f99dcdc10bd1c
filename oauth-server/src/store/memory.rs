//! [`MemoryStore`]: everything in a mutex-protected map, for tests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::primitives::{
    ClientRecord, CodeRecord, NewClient, Redeemed, Rotated, Store, StoreError, Timestamp,
    TokenRecord, UserRecord,
};
use crate::secret::SecretHash;

#[derive(Default)]
struct Inner {
    clients: Vec<ClientRecord>,
    users: Vec<UserRecord>,
    codes: HashMap<SecretHash, (CodeRecord, bool)>,
    tokens: Vec<TokenRecord>,
    /// key -> (user, created, expires)
    sessions: HashMap<SecretHash, (i64, Timestamp, Timestamp)>,
    /// key -> (failures, window start)
    login_failures: HashMap<[u8; 32], (u32, Timestamp)>,
}

/// A [`Store`] in memory. Clones share the data; nothing survives the
/// process.
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means a holder panicked between statements
        // that leave the maps consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Store for MemoryStore {
    async fn create_client(&self, c: NewClient) -> Result<ClientRecord, StoreError> {
        let mut inner = self.lock();
        if inner.clients.iter().any(|x| x.client_id == c.client_id) {
            return Err(StoreError::Conflict(format!("client {}", c.client_id)));
        }
        let record = ClientRecord {
            id: inner.clients.len() as i64 + 1,
            client_id: c.client_id,
            secret_hash: c.secret_hash,
            name: c.name,
            redirect_uris: c.redirect_uris,
            scopes: c.scopes,
            website: c.website,
            owner: c.owner,
            created_at: c.created_at,
        };
        inner.clients.push(record.clone());
        Ok(record)
    }

    async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        Ok(self
            .lock()
            .clients
            .iter()
            .find(|c| c.client_id == client_id)
            .cloned())
    }

    async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        admin: bool,
    ) -> Result<UserRecord, StoreError> {
        let mut inner = self.lock();
        if inner.users.iter().any(|u| u.username == username) {
            return Err(StoreError::Conflict(format!("user {username}")));
        }
        let user = UserRecord {
            id: inner.users.len() as i64 + 1,
            username: username.to_owned(),
            password_hash: password_hash.to_owned(),
            admin,
            disabled: false,
        };
        inner.users.push(user.clone());
        Ok(user)
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(self
            .lock()
            .users
            .iter()
            .find(|u| u.username == username)
            .cloned())
    }

    async fn user(&self, id: i64) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.lock().users.iter().find(|u| u.id == id).cloned())
    }

    async fn insert_code(&self, code: CodeRecord) -> Result<(), StoreError> {
        self.lock().codes.insert(code.code_hash, (code, false));
        Ok(())
    }

    async fn code(&self, code_hash: SecretHash) -> Result<Option<(CodeRecord, bool)>, StoreError> {
        Ok(self.lock().codes.get(&code_hash).cloned())
    }

    async fn redeem_code(
        &self,
        code_hash: SecretHash,
        token: TokenRecord,
    ) -> Result<Redeemed, StoreError> {
        let mut inner = self.lock();
        let Some((_, used)) = inner.codes.get_mut(&code_hash) else {
            return Ok(Redeemed::Unknown);
        };
        if *used {
            for t in inner
                .tokens
                .iter_mut()
                .filter(|t| t.code_hash == Some(code_hash))
            {
                t.revoked = true;
            }
            return Ok(Redeemed::Replayed);
        }
        *used = true;
        inner.tokens.push(token);
        Ok(Redeemed::Issued)
    }

    async fn insert_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        self.lock().tokens.push(token);
        Ok(())
    }

    async fn token_by_access(&self, hash: SecretHash) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self
            .lock()
            .tokens
            .iter()
            .find(|t| t.access_hash == hash)
            .cloned())
    }

    async fn token_by_refresh(&self, hash: SecretHash) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self
            .lock()
            .tokens
            .iter()
            .find(|t| t.refresh_hash == Some(hash))
            .cloned())
    }

    async fn rotate_refresh(
        &self,
        old_refresh: SecretHash,
        new: TokenRecord,
    ) -> Result<Rotated, StoreError> {
        let mut inner = self.lock();
        let Some(old) = inner
            .tokens
            .iter_mut()
            .find(|t| t.refresh_hash == Some(old_refresh))
        else {
            return Ok(Rotated::Unknown);
        };
        if old.revoked {
            return Ok(Rotated::Reused {
                family: old.family.clone(),
            });
        }
        old.revoked = true;
        inner.tokens.push(new);
        Ok(Rotated::Done)
    }

    async fn revoke_token(&self, id: &str) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        Ok(match inner.tokens.iter_mut().find(|t| t.id == id) {
            Some(t) if !t.revoked => {
                t.revoked = true;
                true
            }
            _ => false,
        })
    }

    async fn revoke_family(&self, family: &str) -> Result<u64, StoreError> {
        let mut n = 0;
        for t in self
            .lock()
            .tokens
            .iter_mut()
            .filter(|t| t.family == family && !t.revoked)
        {
            t.revoked = true;
            n += 1;
        }
        Ok(n)
    }

    async fn revoke_by_code(&self, code_hash: SecretHash) -> Result<u64, StoreError> {
        let mut n = 0;
        for t in self
            .lock()
            .tokens
            .iter_mut()
            .filter(|t| t.code_hash == Some(code_hash) && !t.revoked)
        {
            t.revoked = true;
            n += 1;
        }
        Ok(n)
    }

    async fn set_admin(&self, user_id: i64, admin: bool) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        Ok(match inner.users.iter_mut().find(|u| u.id == user_id) {
            Some(user) => {
                user.admin = admin;
                true
            }
            None => false,
        })
    }

    async fn set_disabled(&self, user_id: i64, disabled: bool) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        Ok(match inner.users.iter_mut().find(|u| u.id == user_id) {
            Some(user) => {
                user.disabled = disabled;
                true
            }
            None => false,
        })
    }

    async fn create_session(
        &self,
        key: SecretHash,
        user_id: i64,
        now: Timestamp,
        expires_at: Timestamp,
        max_per_user: u32,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.sessions.retain(|_, (_, _, until)| *until > now);
        inner.sessions.insert(key, (user_id, now, expires_at));
        let mut mine: Vec<(Timestamp, SecretHash)> = inner
            .sessions
            .iter()
            .filter(|(_, (user, _, _))| *user == user_id)
            .map(|(k, (_, created, _))| (*created, *k))
            .collect();
        if mine.len() > max_per_user as usize {
            // The new one stays (whatever the clocks say), then the newest.
            mine.sort_by(|a, b| (b.1 == key).cmp(&(a.1 == key)).then_with(|| b.0.cmp(&a.0)));
            for (_, old) in mine.into_iter().skip(max_per_user as usize) {
                inner.sessions.remove(&old);
            }
        }
        Ok(())
    }

    async fn session(&self, key: SecretHash, now: Timestamp) -> Result<Option<i64>, StoreError> {
        Ok(self
            .lock()
            .sessions
            .get(&key)
            .filter(|(_, _, until)| *until > now)
            .map(|(user, _, _)| *user))
    }

    async fn delete_session(&self, key: SecretHash) -> Result<(), StoreError> {
        self.lock().sessions.remove(&key);
        Ok(())
    }

    async fn login_failures(&self, key: [u8; 32], since: Timestamp) -> Result<u32, StoreError> {
        Ok(self
            .lock()
            .login_failures
            .get(&key)
            .filter(|(_, start)| *start > since)
            .map_or(0, |(n, _)| *n))
    }

    async fn record_login_failure(
        &self,
        key: [u8; 32],
        now: Timestamp,
        window: i64,
    ) -> Result<u32, StoreError> {
        let mut inner = self.lock();
        let ended = now.saturating_sub(window);
        inner.login_failures.retain(|_, (_, start)| *start > ended);
        let entry = inner.login_failures.entry(key).or_insert((0, now));
        entry.0 = entry.0.saturating_add(1);
        Ok(entry.0)
    }

    async fn clear_login_failures(&self, key: [u8; 32]) -> Result<(), StoreError> {
        self.lock().login_failures.remove(&key);
        Ok(())
    }
}
