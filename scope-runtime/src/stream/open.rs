//! The open streams of an enforcer, and how revocations reach them.

use std::collections::HashMap;
use std::future::poll_fn;
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;

use tokio::sync::watch;

/// Open streams allowed on one token unless [`OpenStreams::with_limits`]
/// says otherwise: a client multiplexes its channels over a few
/// connections; thousands on one token are an attack on the server's memory.
pub const DEFAULT_PER_TOKEN: usize = 64;

/// Open streams allowed for one user, over all their tokens, unless
/// [`OpenStreams::with_limits`] says otherwise: tokens cost a user nothing
/// (one consent each), so a bound per token alone does not bound a user.
pub const DEFAULT_PER_USER: usize = 256;

/// The streams an [`Enforcer`](crate::Enforcer) let open, by token digest
/// and by user, so that a revocation ends them at once instead of at their
/// next check.
///
/// Every enforcer has one ([`Enforcer::open_streams`](crate::Enforcer::open_streams)).
/// Call [`revoked`](Self::revoked) where the server learns that a token was
/// revoked (where it evicts the token from its cache): its streams end at
/// once, without asking the validator. Call
/// [`recheck_user`](Self::recheck_user) when what one user's tokens may do
/// changed (a grant revoked, the user disabled or demoted), and
/// [`recheck_all`](Self::recheck_all) only when it is not known whose (it
/// wakes every stream). Cheap to clone (one shared allocation).
#[derive(Clone)]
pub struct OpenStreams {
    inner: Arc<Registry>,
}

struct Registry {
    per_token: usize,
    per_user: usize,
    maps: Mutex<Maps>,
    /// Bumped by `recheck_all`: every open stream checks its token again.
    all: watch::Sender<u64>,
}

#[derive(Default)]
struct Maps {
    tokens: HashMap<[u8; 32], Slot>,
    users: HashMap<Arc<str>, Slot>,
}

/// The streams open on one token, or for one user.
struct Slot {
    /// Bumped when the token is revoked, or the user's tokens must be
    /// checked again.
    notice: watch::Sender<u64>,
    streams: usize,
}

impl Slot {
    fn new() -> Self {
        Self {
            notice: watch::Sender::new(0),
            streams: 0,
        }
    }
}

/// More streams are open than [`OpenStreams::with_limits`] allows: 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TooManyStreams {
    /// On this token.
    #[error("{0} streams are open on this token already")]
    Token(usize),
    /// For this token's user, over all their tokens.
    #[error("{0} streams are open for this user already")]
    User(usize),
}

/// What woke a stream's [`Registration`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notice {
    /// Its token was revoked: the stream ends, whatever a validator says.
    Revoked,
    /// Its user's tokens, or everyone's, must be checked again.
    Recheck,
}

impl Default for OpenStreams {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for OpenStreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenStreams")
            .field("per_token", &self.inner.per_token)
            .field("per_user", &self.inner.per_user)
            .field("tokens", &self.tokens())
            .field("users", &self.users())
            .finish()
    }
}

impl OpenStreams {
    /// A registry allowing [`DEFAULT_PER_TOKEN`] streams per token and
    /// [`DEFAULT_PER_USER`] per user.
    pub fn new() -> Self {
        Self::with_limits(DEFAULT_PER_TOKEN, DEFAULT_PER_USER)
    }

    /// A registry allowing at most `limit` open streams per token (at least
    /// one), and [`DEFAULT_PER_USER`] per user.
    pub fn per_token(limit: usize) -> Self {
        Self::with_limits(limit, DEFAULT_PER_USER)
    }

    /// A registry allowing at most `per_token` open streams per token and
    /// `per_user` per user (each at least one). App tokens have no user:
    /// only their token's bound applies.
    pub fn with_limits(per_token: usize, per_user: usize) -> Self {
        Self {
            inner: Arc::new(Registry {
                per_token: per_token.max(1),
                per_user: per_user.max(1),
                maps: Mutex::new(Maps::default()),
                all: watch::Sender::new(0),
            }),
        }
    }

    /// Ends, at once, every stream open on the token whose SHA-256 is
    /// `digest` (see [`BearerToken::digest`](crate::BearerToken::digest)):
    /// the notice itself ends them, so this holds whatever the validator
    /// (or its cache) still answers.
    pub fn revoked(&self, digest: &[u8; 32]) {
        if let Some(slot) = self.lock().tokens.get(digest) {
            slot.notice.send_modify(|generation| *generation += 1);
        }
    }

    /// Has every open stream of user `user_id` check its token again now:
    /// what their tokens may do changed (a grant revoked, the user
    /// disabled or demoted). Evict the user's cached validations first, or
    /// the check may answer from the cache.
    pub fn recheck_user(&self, user_id: &str) {
        if let Some(slot) = self.lock().users.get(user_id) {
            slot.notice.send_modify(|generation| *generation += 1);
        }
    }

    /// Has every open stream check its token again now: what some tokens
    /// may do changed, and whose is not known. Each stream's check is a
    /// validation: prefer [`recheck_user`](Self::recheck_user).
    pub fn recheck_all(&self) {
        self.inner.all.send_modify(|generation| *generation += 1);
    }

    /// How many tokens have open streams.
    pub fn tokens(&self) -> usize {
        self.lock().tokens.len()
    }

    /// How many users have open streams.
    pub fn users(&self) -> usize {
        self.lock().users.len()
    }

    /// How many streams are open.
    pub fn streams(&self) -> usize {
        self.lock().tokens.values().map(|slot| slot.streams).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Maps> {
        // The maps stay consistent whatever panicked while holding them.
        self.inner
            .maps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one more stream on `digest`, of `user` if the token has one.
    pub(crate) fn register(
        &self,
        digest: [u8; 32],
        user: Option<&str>,
    ) -> Result<Registration, TooManyStreams> {
        let mut maps = self.lock();
        let Maps { tokens, users } = &mut *maps;
        let on_token = tokens.get(&digest).map_or(0, |slot| slot.streams);
        if on_token >= self.inner.per_token {
            return Err(TooManyStreams::Token(on_token));
        }
        let user: Option<Arc<str>> = user.map(Arc::from);
        let user_notice = match &user {
            Some(user) => {
                let slot = users.entry(user.clone()).or_insert_with(Slot::new);
                if slot.streams >= self.inner.per_user {
                    return Err(TooManyStreams::User(slot.streams));
                }
                slot.streams += 1;
                Some(slot.notice.subscribe())
            }
            None => None,
        };
        let slot = tokens.entry(digest).or_insert_with(Slot::new);
        slot.streams += 1;
        let revoked = slot.notice.subscribe();
        drop(maps);
        Ok(Registration {
            streams: self.clone(),
            digest,
            user,
            revoked,
            user_notice,
            all: self.inner.all.subscribe(),
        })
    }
}

/// One open stream's place in [`OpenStreams`]; leaves it when dropped.
pub(crate) struct Registration {
    streams: OpenStreams,
    digest: [u8; 32],
    user: Option<Arc<str>>,
    revoked: watch::Receiver<u64>,
    user_notice: Option<watch::Receiver<u64>>,
    all: watch::Receiver<u64>,
}

impl Registration {
    /// Resolves with the first notice since the last call: the token
    /// revoked, or its user's (or every) stream asked to check again.
    /// Cancel-safe: a notice is marked seen only by the poll that reports
    /// it (`changed` marks its own receiver), so one that arrives while
    /// another is reported waits for the next call.
    pub(crate) async fn notified(&mut self) -> Notice {
        let Self {
            revoked,
            user_notice,
            all,
            ..
        } = self;
        let mut revoked = pin!(revoked.changed());
        let mut user = pin!(async {
            match user_notice {
                Some(rx) => rx.changed().await,
                None => std::future::pending().await,
            }
        });
        let mut all = pin!(all.changed());
        poll_fn(|cx| {
            // The senders live as long as the registry entries this holds,
            // so none of these futures ends in an error while it exists.
            if revoked.as_mut().poll(cx).is_ready() {
                Poll::Ready(Notice::Revoked)
            } else if user.as_mut().poll(cx).is_ready() || all.as_mut().poll(cx).is_ready() {
                Poll::Ready(Notice::Recheck)
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut maps = self.streams.lock();
        if let Some(slot) = maps.tokens.get_mut(&self.digest) {
            slot.streams -= 1;
            if slot.streams == 0 {
                maps.tokens.remove(&self.digest);
            }
        }
        if let Some(user) = &self.user
            && let Some(slot) = maps.users.get_mut(user)
        {
            slot.streams -= 1;
            if slot.streams == 0 {
                maps.users.remove(user);
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
        let mut a = streams.register([1; 32], Some("1")).unwrap();
        let mut b = streams.register([2; 32], Some("2")).unwrap();
        assert_eq!(streams.streams(), 2);
        streams.revoked(&[1; 32]);
        // Sent before anyone waited: not lost.
        let notice = tokio::time::timeout(Duration::from_secs(1), a.notified())
            .await
            .expect("the revoked token's stream is woken");
        assert_eq!(notice, Notice::Revoked, "told it is its token");
        assert!(
            tokio::time::timeout(Duration::from_millis(50), b.notified())
                .await
                .is_err(),
            "another token's stream sleeps on"
        );
        // A user's recheck wakes that user's streams only.
        streams.recheck_user("2");
        let notice = tokio::time::timeout(Duration::from_secs(1), b.notified())
            .await
            .expect("the user's stream is woken");
        assert_eq!(notice, Notice::Recheck);
        assert!(
            tokio::time::timeout(Duration::from_millis(50), a.notified())
                .await
                .is_err(),
            "another user's stream sleeps on"
        );
        streams.recheck_all();
        let notice = tokio::time::timeout(Duration::from_secs(1), b.notified())
            .await
            .expect("recheck_all wakes every stream");
        assert_eq!(notice, Notice::Recheck, "told it is everyone");
        // Two notices before a call: the revocation first, and the recheck
        // is still there for the next call (reporting one does not mark the
        // other seen).
        streams.recheck_all();
        streams.revoked(&[1; 32]);
        assert_eq!(a.notified().await, Notice::Revoked);
        let second = tokio::time::timeout(Duration::from_secs(1), a.notified())
            .await
            .expect("the recheck is not lost");
        assert_eq!(second, Notice::Recheck);
        drop(a);
        drop(b);
        assert_eq!(
            (streams.tokens(), streams.users(), streams.streams()),
            (0, 0, 0)
        );
    }

    #[test]
    fn streams_per_token_are_bounded() {
        let streams = OpenStreams::per_token(2);
        let first = streams.register([7; 32], None).unwrap();
        let _second = streams.register([7; 32], None).unwrap();
        assert_eq!(
            streams.register([7; 32], None).err(),
            Some(TooManyStreams::Token(2))
        );
        // Another token is not locked out.
        let _other = streams.register([8; 32], None).unwrap();
        drop(first);
        assert!(streams.register([7; 32], None).is_ok());
    }

    #[test]
    fn streams_per_user_are_bounded_over_their_tokens() {
        let streams = OpenStreams::with_limits(2, 3);
        let _a = streams.register([1; 32], Some("alice")).unwrap();
        let _b = streams.register([1; 32], Some("alice")).unwrap();
        let c = streams.register([2; 32], Some("alice")).unwrap();
        // A fourth token does not get alice past her bound.
        assert_eq!(
            streams.register([3; 32], Some("alice")).err(),
            Some(TooManyStreams::User(3))
        );
        // A refused stream counts nowhere.
        assert_eq!(streams.streams(), 3);
        // Another user is not locked out.
        let _bob = streams.register([4; 32], Some("bob")).unwrap();
        drop(c);
        assert!(streams.register([3; 32], Some("alice")).is_ok());
    }
}
