//! Password logins (the consent page, personal applications) and their
//! limits, built so that a stranger can neither guess a password quickly
//! nor lock its owner out:
//!
//! - **Failures count per account and address.** A failed login counts
//!   under the SHA-256 of (lower-cased username, client address): at most
//!   [`PER_ACCOUNT`] failures per [`WINDOW`] from one address, so guessing
//!   from elsewhere never blocks the owner's own address. An address also
//!   has at most [`PER_ADDRESS`] failures per window over all usernames.
//!   Only hashes are kept (32 bytes a key, whatever the username's size),
//!   in the [`Store`], so the limits hold across instances; rows of ended
//!   windows are dropped as new failures come.
//! - **Every check counts, against its own keys only.** A failure is
//!   counted once argon2 has said the password is wrong; a check that
//!   started runs to its end and is counted even if the client closed the
//!   connection (it cost argon2 time all the same), so abandoning attempts
//!   neither dodges the limits nor costs the owner anything: it counts
//!   under the abandoner's (account, address). An attempt dropped while it
//!   waits for argon2 counts nothing and frees its place at once. Attempts
//!   in flight count towards the limits, so concurrent guesses cannot slip
//!   past them (per process: with N instances, at most N times the limit
//!   run at once).
//! - **argon2's cost is bounded.** At most [`CHECKS_AT_ONCE`] passwords are
//!   checked at once (argon2id takes ~19 MiB and a core each), the permit
//!   travels with the check so an abandoned request cannot add to them,
//!   and at most [`MAX_WAITING`] wait: the rest are told to come back
//!   (503) rather than queue without end. One address has at most
//!   [`PER_ADDRESS_AT_ONCE`] attempts in flight (the rest get 429), so
//!   filling the queue takes many addresses, not a few.
//!
//! - **A disabled user cannot log in.** The right password of a disabled
//!   user is answered and counted as a wrong one (whether the account
//!   exists, or the password was right, is not told), after the same
//!   argon2 check.
//!
//! The address is [`client_ip`](scope_runtime::client_ip::client_ip)'s:
//! behind a reverse proxy, name it in a
//! [`TrustedProxies`](scope_runtime::client_ip::TrustedProxies), or every
//! client shares the proxy's address and its limits. Without any address
//! failures count per account only. The argon2 bound and the in-flight
//! counts are per router ([`router_with`](super::router_with)): serve one.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use http::StatusCode;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::flows::{AuthServer, OAuthError, now};
use crate::primitives::Store;
use crate::secret;
use scope_runtime::Scope;

/// The window of the failure counts, in seconds.
pub(crate) const WINDOW: i64 = 300;
/// Failures per account and address per window.
pub(crate) const PER_ACCOUNT: u32 = 5;
/// Failures per address per window, all usernames together.
pub(crate) const PER_ADDRESS: u32 = 30;
/// Attempts one address may have in flight at once (waiting or running):
/// a few addresses cannot fill the argon2 queue for everyone.
pub(crate) const PER_ADDRESS_AT_ONCE: u32 = 2;
/// Password checks running at once.
pub(crate) const CHECKS_AT_ONCE: usize = 2;
/// Password checks waiting for a place at most.
pub(crate) const MAX_WAITING: usize = 32;
/// Keys with attempts in flight tracked at most (each is 40 bytes).
const MAX_IN_FLIGHT_KEYS: usize = 10_000;

/// The refusal after too many failures.
const FAILURES: &str = "Too many failed logins; wait a few minutes.";
/// The refusal of a third attempt at once from one address.
const AT_ONCE: &str = "Too many logins at once from your address; try again in a moment.";

/// How a login attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The user of these credentials.
    Success(i64),
    /// Wrong username or password, or the right password of a disabled
    /// user (counted and answered alike, so that nothing tells them apart).
    Wrong,
    /// Refused (429) with this message: too many failures for this
    /// account or address, or too many attempts at once from the address.
    TooMany(&'static str),
}

/// The limits of one process: attempts in flight and the argon2 queue.
/// The failure counts themselves are in the store.
pub(crate) struct Logins {
    in_flight: Mutex<HashMap<[u8; 32], u32>>,
    checks: Arc<Semaphore>,
    waiting: AtomicUsize,
}

impl Default for Logins {
    fn default() -> Self {
        Self {
            in_flight: Mutex::default(),
            checks: Arc::new(Semaphore::new(CHECKS_AT_ONCE)),
            waiting: AtomicUsize::new(0),
        }
    }
}

fn key(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in parts {
        // Length-prefixed: no two part lists hash alike.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// Marks keys as having an attempt in flight until dropped.
struct InFlight {
    logins: Arc<Logins>,
    keys: Vec<[u8; 32]>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut map = self.logins.lock();
        for key in &self.keys {
            if let Some(n) = map.get_mut(key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(key);
                }
            }
        }
    }
}

/// A place in the argon2 queue until dropped.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Logs once per process that logins arrive without a client address.
fn warn_no_address() {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            "logins arrive without a client address (serve with \
             into_make_service_with_connect_info::<SocketAddr>()): \
             failures count per account only"
        );
    });
}

impl Logins {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], u32>> {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks `username` and `password` from `addr` within the limits.
    ///
    /// Without an address (no `ConnectInfo`) failures count per account
    /// only: one shared per-address counter would let anyone lock out
    /// everyone.
    ///
    /// # Errors
    /// 503 if the store fails or too many checks are waiting already.
    pub(crate) async fn attempt<S: Scope, St: Store>(
        self: &Arc<Self>,
        server: &AuthServer<S, St>,
        addr: Option<IpAddr>,
        username: &str,
        password: &str,
    ) -> Result<Outcome, OAuthError> {
        let (account, address) = match addr {
            Some(a) => {
                let a = a.to_string();
                let account = key(&[
                    b"login-account",
                    username.to_lowercase().as_bytes(),
                    a.as_bytes(),
                ]);
                (account, Some(key(&[b"login-address", a.as_bytes()])))
            }
            None => {
                warn_no_address();
                let account = key(&[b"login-account", username.to_lowercase().as_bytes()]);
                (account, None)
            }
        };
        let keys: Vec<[u8; 32]> = std::iter::once(account).chain(address).collect();
        // Take a place in flight before reading the counts: of two
        // concurrent attempts, the later one sees the earlier either in
        // flight or in the store, never in neither.
        let (in_flight, running) = {
            let mut map = self.lock();
            if map.len() + keys.len() > MAX_IN_FLIGHT_KEYS {
                return Err(OAuthError::unavailable());
            }
            if address.is_some_and(|a| map.get(&a).is_some_and(|n| *n >= PER_ADDRESS_AT_ONCE)) {
                return Ok(Outcome::TooMany(AT_ONCE));
            }
            let running: Vec<u32> = keys
                .iter()
                .map(|k| {
                    let n = map.entry(*k).or_insert(0);
                    let before = *n;
                    *n += 1;
                    before
                })
                .collect();
            let guard = InFlight {
                logins: Arc::clone(self),
                keys: keys.clone(),
            };
            (guard, running)
        };
        let store = server.store();
        let since = now().saturating_sub(WINDOW);
        for ((k, before), limit) in keys.iter().zip(&running).zip([PER_ACCOUNT, PER_ADDRESS]) {
            if store
                .login_failures(*k, since)
                .await?
                .saturating_add(*before)
                >= limit
            {
                return Ok(Outcome::TooMany(FAILURES));
            }
        }
        let user = store.user_by_name(username).await?;
        // Verify against a fixed hash for unknown users too: same cost, no
        // username oracle.
        const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$Qmxl8V6Qm4fAhdZIEJMuxaBrdLn2gzsQ5yAbs8a8Rj8";
        let hash = user
            .as_ref()
            .map_or(DUMMY.to_owned(), |u| u.password_hash.clone());
        let password = password.to_owned();
        let permit = {
            if self.waiting.fetch_add(1, Ordering::Relaxed) >= MAX_WAITING {
                self.waiting.fetch_sub(1, Ordering::Relaxed);
                return Err(OAuthError {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    ..OAuthError::unavailable()
                });
            }
            let _waiting = Waiting(&self.waiting);
            Arc::clone(&self.checks)
                .acquire_owned()
                .await
                .map_err(|_| OAuthError::unavailable())?
        };
        // From here the check runs to its end in a task of its own, and its
        // outcome is recorded, even if this request is dropped: an
        // abandoned attempt costs argon2 time, so it counts as any other
        // (against its own account and address only). Abandoned while
        // waiting above, it cost nothing and counted nothing.
        let server = server.clone();
        let check = tokio::spawn(async move {
            let _in_flight = in_flight;
            let ok = tokio::task::spawn_blocking(move || {
                let _permit = permit;
                secret::verify_password(&password, &hash)
            })
            .await
            .unwrap_or(false);
            let store = server.store();
            match user.filter(|u| ok && !u.disabled) {
                Some(user) => {
                    store.clear_login_failures(account).await?;
                    Ok(Outcome::Success(user.id))
                }
                // A disabled user's right password is a failure like any
                // other, counted alike: were it answered alike but not
                // counted, the counter would tell a right guess from a
                // wrong one.
                None => {
                    let now = now();
                    for k in &keys {
                        store.record_login_failure(*k, now, WINDOW).await?;
                    }
                    tracing::info!("failed login");
                    Ok(Outcome::Wrong)
                }
            }
        });
        check
            .await
            .unwrap_or_else(|_| Err(OAuthError::unavailable()))
    }
}
