//! The storage primitive: records and the [`Store`] trait, "the smallest
//! independent unit of policy" the flows need. Implemented by
//! [`MemoryStore`](crate::store::MemoryStore) and
//! [`SqliteStore`](crate::store::SqliteStore); a PostgreSQL store is a third
//! implementation of the same trait.
//!
//! Secrets never reach a store: records carry [`SecretHash`]es. Scopes are
//! stored as canonical scope strings, so a store is independent of the
//! hierarchy.

use std::future::Future;

use crate::secret::SecretHash;

/// Seconds since the Unix epoch.
pub type Timestamp = i64;

/// A registered client application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    /// Numeric id (Mastodon's `id`).
    pub id: i64,
    /// The public `client_id`.
    pub client_id: String,
    /// Hash of the `client_secret` ([`SecretHash`]).
    pub secret_hash: SecretHash,
    /// `client_name`.
    pub name: String,
    /// Registered redirect URIs, matched exactly.
    pub redirect_uris: Vec<String>,
    /// The scopes the client may ask for (canonical scope string).
    pub scopes: String,
    /// `website`.
    pub website: Option<String>,
    /// For a personal application, the user who created it.
    pub owner: Option<i64>,
    /// Registration time.
    pub created_at: Timestamp,
}

/// What registering a client needs.
#[derive(Debug, Clone)]
pub struct NewClient {
    /// The public `client_id`.
    pub client_id: String,
    /// Hash of the `client_secret` ([`SecretHash`]).
    pub secret_hash: SecretHash,
    /// `client_name`.
    pub name: String,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Canonical scope string.
    pub scopes: String,
    /// `website`.
    pub website: Option<String>,
    /// For a personal application, its user.
    pub owner: Option<i64>,
    /// Registration time.
    pub created_at: Timestamp,
}

/// A user who can log in on the consent page.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Numeric id.
    pub id: i64,
    /// Login name, unique.
    pub username: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Whether the user administers the pod.
    pub admin: bool,
    /// Whether the user is disabled (suspended): then they cannot log in,
    /// their grants are neither exchanged nor refreshed, and their tokens
    /// are refused at every validation. See [`Store::set_disabled`].
    pub disabled: bool,
}

/// The password hash redacted.
impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("admin", &self.admin)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// An authorization code, stored hashed until exchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    /// Hash of the code ([`SecretHash`]).
    pub code_hash: SecretHash,
    /// The client it was issued to.
    pub client_id: String,
    /// The user who consented.
    pub user_id: i64,
    /// The redirect URI of the authorization request.
    pub redirect_uri: String,
    /// Whether the authorization request carried `redirect_uri`: then the
    /// token request must repeat it, identical (RFC 6749 §4.1.3).
    pub redirect_uri_given: bool,
    /// Granted scopes (canonical).
    pub scopes: String,
    /// PKCE `code_challenge`, if sent.
    pub challenge: Option<String>,
    /// PKCE `code_challenge_method` (`S256` or `plain`).
    pub challenge_method: Option<String>,
    /// Expiry.
    pub expires_at: Timestamp,
}

/// An issued access token (and its refresh token, if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Public identifier of the grant (RFC 9068 `jti`), random.
    pub id: String,
    /// Hash of the access token ([`SecretHash`]).
    pub access_hash: SecretHash,
    /// Hash of the refresh token ([`SecretHash`]).
    pub refresh_hash: Option<SecretHash>,
    /// The client.
    pub client_id: String,
    /// The user, or `None` for a client-credentials token.
    pub user_id: Option<i64>,
    /// Granted scopes (canonical).
    pub scopes: String,
    /// Issue time.
    pub created_at: Timestamp,
    /// Expiry of the access token, if it expires.
    pub expires_at: Option<Timestamp>,
    /// The refresh-token family: every token rotated from one grant shares it.
    pub family: String,
    /// The authorization code the family was issued from.
    pub code_hash: Option<SecretHash>,
    /// Whether the token was revoked.
    pub revoked: bool,
}

/// The result of [`Store::redeem_code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redeemed {
    /// First use: the code is spent and the token stored, atomically.
    Issued,
    /// The code was spent already: a replay. Every token issued from the
    /// code is now revoked, and the new token was not stored.
    Replayed,
    /// No such code.
    Unknown,
}

/// The result of [`Store::rotate_refresh`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotated {
    /// The old refresh token was current; the new token is stored.
    Done,
    /// The old refresh token had been used or revoked: reuse.
    Reused {
        /// The family to revoke.
        family: String,
    },
    /// No such refresh token.
    Unknown,
}

/// A store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A unique value (username, client id) exists already.
    #[error("{0} already exists")]
    Conflict(String),
    /// The backend refused a value it cannot store (a NUL character in a
    /// PostgreSQL `TEXT`, a number out of range): the request is at fault,
    /// not the store.
    #[error("cannot store the value: {0}")]
    Invalid(String),
    /// The backend failed (I/O, database).
    #[error("storage failed: {0}")]
    Backend(String),
}

impl StoreError {
    /// A copy of this error (for answering every caller of a failed batch).
    pub fn duplicate(&self) -> Self {
        match self {
            Self::Conflict(m) => Self::Conflict(m.clone()),
            Self::Invalid(m) => Self::Invalid(m.clone()),
            Self::Backend(m) => Self::Backend(m.clone()),
        }
    }
}

/// Persistence of clients, users, codes and tokens. Every write is durable
/// when its future completes.
pub trait Store: Send + Sync + 'static {
    /// Registers a client.
    fn create_client(
        &self,
        client: NewClient,
    ) -> impl Future<Output = Result<ClientRecord, StoreError>> + Send;
    /// The client with this `client_id`.
    fn client(
        &self,
        client_id: &str,
    ) -> impl Future<Output = Result<Option<ClientRecord>, StoreError>> + Send;
    /// Creates a user; [`StoreError::Conflict`] if the name is taken.
    fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        admin: bool,
    ) -> impl Future<Output = Result<UserRecord, StoreError>> + Send;
    /// The user with this name.
    fn user_by_name(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<Option<UserRecord>, StoreError>> + Send;
    /// The user with this id.
    fn user(&self, id: i64) -> impl Future<Output = Result<Option<UserRecord>, StoreError>> + Send;
    /// Stores a new authorization code.
    fn insert_code(&self, code: CodeRecord) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The code with this hash, and whether it was spent.
    fn code(
        &self,
        code_hash: SecretHash,
    ) -> impl Future<Output = Result<Option<(CodeRecord, bool)>, StoreError>> + Send;
    /// Spends a code and stores the token issued for it, atomically: of
    /// concurrent redemptions exactly one gets [`Redeemed::Issued`]; a
    /// redemption of a spent code revokes what the code issued, including a
    /// token stored in the same instant.
    fn redeem_code(
        &self,
        code_hash: SecretHash,
        token: TokenRecord,
    ) -> impl Future<Output = Result<Redeemed, StoreError>> + Send;
    /// Stores a new token.
    fn insert_token(
        &self,
        token: TokenRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The token whose access token hashes to `hash`.
    fn token_by_access(
        &self,
        hash: SecretHash,
    ) -> impl Future<Output = Result<Option<TokenRecord>, StoreError>> + Send;
    /// The token whose refresh token hashes to `hash`.
    fn token_by_refresh(
        &self,
        hash: SecretHash,
    ) -> impl Future<Output = Result<Option<TokenRecord>, StoreError>> + Send;
    /// Atomically: if `old_refresh` belongs to a live token, revoke that
    /// token and store `new`; otherwise report reuse.
    fn rotate_refresh(
        &self,
        old_refresh: SecretHash,
        new: TokenRecord,
    ) -> impl Future<Output = Result<Rotated, StoreError>> + Send;
    /// Revokes one token by id; returns whether it was live.
    fn revoke_token(&self, id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Revokes every token of a refresh family; returns how many were live.
    fn revoke_family(&self, family: &str) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Revokes every token issued from an authorization code.
    fn revoke_by_code(
        &self,
        code_hash: SecretHash,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Sets whether a user is an administrator; `false` if there is no
    /// such user. Tokens are not touched: what a token may do is decided
    /// again at each validation (see [`ScopePolicy`](crate::policy::ScopePolicy)),
    /// and a store shared by several processes tells the others to drop
    /// their cached validations (PostgreSQL: a notice).
    fn set_admin(
        &self,
        user_id: i64,
        admin: bool,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Disables (suspends) a user or enables them again; `false` if there
    /// is no such user. Like [`Store::set_admin`], tokens are not touched:
    /// a disabled user's tokens are refused at each validation while the
    /// user is disabled, and their unexpired ones work again once enabled
    /// (disabling is not revocation). A store shared by several processes
    /// tells the others to drop their cached validations (PostgreSQL: a
    /// notice).
    fn set_disabled(
        &self,
        user_id: i64,
        disabled: bool,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Stores the consent-page session `key` (the hash of its cookie) of
    /// `user_id`, live until `expires_at`; drops expired sessions and keeps
    /// at most `max_per_user` of the user's, the newest.
    fn create_session(
        &self,
        key: SecretHash,
        user_id: i64,
        now: Timestamp,
        expires_at: Timestamp,
        max_per_user: u32,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The user of the session `key`, if it is live at `now`.
    fn session(
        &self,
        key: SecretHash,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;
    /// Ends the session `key`.
    fn delete_session(
        &self,
        key: SecretHash,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The failed logins counted under `key` in a window that started
    /// after `since` (0 if none).
    fn login_failures(
        &self,
        key: [u8; 32],
        since: Timestamp,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;
    /// Counts one failed login under `key` at `now` and returns the count
    /// of its window; a window that started `window` seconds ago or more
    /// starts again. Rows of ended windows are dropped.
    fn record_login_failure(
        &self,
        key: [u8; 32],
        now: Timestamp,
        window: i64,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;
    /// Forgets the failures under `key` (a successful login).
    fn clear_login_failures(
        &self,
        key: [u8; 32],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
