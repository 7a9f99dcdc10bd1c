//! The open streams of an enforcer, and how revocations reach them.

use std::collections::HashMap;
use std::future::poll_fn;
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;

use tokio::sync::watch;

/// Open streams allowed on one token unless [`OpenStreams::per_token`]
/// says otherwise: a client multiplexes its channels over a few
/// connections; thousands on one token are an attack on the server's memory.
pub const DEFAULT_PER_TOKEN: usize = 64;

/// The streams an [`Enforcer`](crate::Enforcer) let open, by token digest,
/// so that a revocation ends them at once instead of at their next check.
///
/// Every enforcer has one ([`Enforcer::open_streams`](crate::Enforcer::open_streams));
/// call [`revoked`](Self::revoked) where the server learns that a token was
/// revoked (where it evicts the token from its cache), and
/// [`recheck_all`](Self::recheck_all) when something else may have changed
/// what tokens may do (a grant revoked, a user disabled or demoted, a
/// missed notice). Cheap to clone (one shared allocation).
#[derive(Clone)]
pub struct OpenStreams {
    inner: Arc<Registry>,
}

struct Registry {
    per_token: usize,
    tokens: Mutex<HashMap<[u8; 32], Slot>>,
    /// Bumped by `recheck_all`: every open stream checks its token again.
    all: watch::Sender<u64>,
}

/// The streams open on one token.
struct Slot {
    /// Bumped when the token is revoked.
    revoked: watch::Sender<u64>,
    streams: usize,
}

/// More streams are open on this token than [`OpenStreams::per_token`]
/// allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} streams are open on this token already")]
pub struct TooManyStreams(pub usize);

impl Default for OpenStreams {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for OpenStreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenStreams")
            .field("per_token", &self.inner.per_token)
            .field("tokens", &self.tokens())
            .finish()
    }
}

impl OpenStreams {
    /// A registry allowing [`DEFAULT_PER_TOKEN`] streams per token.
    pub fn new() -> Self {
        Self::per_token(DEFAULT_PER_TOKEN)
    }

    /// A registry allowing at most `limit` open streams per token (at least
    /// one).
    pub fn per_token(limit: usize) -> Self {
        Self {
            inner: Arc::new(Registry {
                per_token: limit.max(1),
                tokens: Mutex::new(HashMap::new()),
                all: watch::Sender::new(0),
            }),
        }
    }

    /// Ends, within moments, every stream open on the token whose SHA-256
    /// is `digest` (their next check finds it invalid; see
    /// [`BearerToken::digest`](crate::BearerToken::digest)).
    pub fn revoked(&self, digest: &[u8; 32]) {
        if let Some(slot) = self.lock().get(digest) {
            slot.revoked.send_modify(|generation| *generation += 1);
        }
    }

    /// Has every open stream check its token again now: what some tokens
    /// may do changed, and which is not known (a grant revoked, a user
    /// disabled or demoted, revocation notices missed).
    pub fn recheck_all(&self) {
        self.inner.all.send_modify(|generation| *generation += 1);
    }

    /// How many tokens have open streams.
    pub fn tokens(&self) -> usize {
        self.lock().len()
    }

    /// How many streams are open.
    pub fn streams(&self) -> usize {
        self.lock().values().map(|slot| slot.streams).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Slot>> {
        // The map stays consistent whatever panicked while holding it.
        self.inner
            .tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one more stream on `digest`.
    pub(crate) fn register(&self, digest: [u8; 32]) -> Result<Registration, TooManyStreams> {
        let mut tokens = self.lock();
        let slot = tokens.entry(digest).or_insert_with(|| Slot {
            revoked: watch::Sender::new(0),
            streams: 0,
        });
        if slot.streams >= self.inner.per_token {
            return Err(TooManyStreams(slot.streams));
        }
        slot.streams += 1;
        let mut revoked = slot.revoked.subscribe();
        revoked.mark_unchanged();
        drop(tokens);
        let mut all = self.inner.all.subscribe();
        all.mark_unchanged();
        Ok(Registration {
            streams: self.clone(),
            digest,
            revoked,
            all,
        })
    }
}

/// One open stream's place in [`OpenStreams`]; leaves it when dropped.
pub(crate) struct Registration {
    streams: OpenStreams,
    digest: [u8; 32],
    revoked: watch::Receiver<u64>,
    all: watch::Receiver<u64>,
}

impl Registration {
    /// Resolves when the token was revoked (`true`) or every stream was
    /// asked to check again (`false`), since the last call. Cancel-safe: a
    /// notice is marked seen only in the poll that reports it.
    pub(crate) async fn notified(&mut self) -> bool {
        let revoked = {
            let Self { revoked, all, .. } = self;
            let mut revoked = pin!(revoked.changed());
            let mut all = pin!(all.changed());
            poll_fn(|cx| {
                // The senders live as long as the registry entry this
                // holds, so neither future ends in an error while it exists.
                if revoked.as_mut().poll(cx).is_ready() {
                    Poll::Ready(true)
                } else if all.as_mut().poll(cx).is_ready() {
                    Poll::Ready(false)
                } else {
                    Poll::Pending
                }
            })
            .await
        };
        self.revoked.mark_unchanged();
        self.all.mark_unchanged();
        revoked
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut tokens = self.streams.lock();
        if let Some(slot) = tokens.get_mut(&self.digest) {
            slot.streams -= 1;
            if slot.streams == 0 {
                tokens.remove(&self.digest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_revocation_wakes_the_streams_of_its_token_only() {
        let streams = OpenStreams::per_token(2);
        let mut a = streams.register([1; 32]).unwrap();
        let mut b = streams.register([2; 32]).unwrap();
        assert_eq!(streams.streams(), 2);
        streams.revoked(&[1; 32]);
        // Sent before anyone waited: not lost.
        let revoked = tokio::time::timeout(Duration::from_secs(1), a.notified())
            .await
            .expect("the revoked token's stream is woken");
        assert!(revoked, "told it is its token");
        assert!(
            tokio::time::timeout(Duration::from_millis(50), b.notified())
                .await
                .is_err(),
            "another token's stream sleeps on"
        );
        streams.recheck_all();
        let revoked = tokio::time::timeout(Duration::from_secs(1), b.notified())
            .await
            .expect("recheck_all wakes every stream");
        assert!(!revoked, "told it is everyone");
        drop(a);
        drop(b);
        assert_eq!((streams.tokens(), streams.streams()), (0, 0));
    }

    #[test]
    fn streams_per_token_are_bounded() {
        let streams = OpenStreams::per_token(2);
        let first = streams.register([7; 32]).unwrap();
        let _second = streams.register([7; 32]).unwrap();
        assert_eq!(streams.register([7; 32]).err(), Some(TooManyStreams(2)));
        // Another token is not locked out.
        let _other = streams.register([8; 32]).unwrap();
        drop(first);
        assert!(streams.register([7; 32]).is_ok());
    }
}
