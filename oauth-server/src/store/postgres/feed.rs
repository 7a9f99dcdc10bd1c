//! [`RevocationFeed`]: the revocations committed on the database, as
//! `LISTEN` receives the notices the store's revoking statements send
//! (`notify_revoked!`).

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;

use super::backend;
use crate::primitives::StoreError;

/// What a [`RevocationFeed`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationNotice {
    /// The access token with this SHA-256 was revoked (or replaced by a
    /// refresh): drop it from validation caches.
    AccessToken([u8; 32]),
    /// What this user's tokens may do changed (an administrator demoted, a
    /// user disabled or enabled): drop their cached validations (or every
    /// cached validation, if the cache cannot tell whose), and check their
    /// open streams again.
    User(i64),
    /// What some user's tokens may do changed, whose is not said (a notice
    /// of an earlier version): drop every cached validation.
    GrantsChanged,
    /// Notices may have been lost (the listening connection dropped, or
    /// cannot be re-established yet): drop every cached validation.
    Missed,
    /// The feed listens again after notices were lost: drop every cached
    /// validation, and have open streams check their tokens again (the
    /// database answers again).
    Resumed,
}

/// The revocations committed on a database, as `LISTEN` on
/// [`REVOCATION_CHANNEL`](super::REVOCATION_CHANNEL) receives them: how several instances of a
/// resource server on one database keep their validation caches honest.
///
/// Every revocation in [`PgStore`](super::PgStore) (an access token, a grant family, the
/// tokens of a replayed code, the token a refresh replaced) sends one
/// notice per token when it commits, whichever process made it: the
/// operator's command line included. A notice reaches the other processes
/// within milliseconds; if the connection drops, the feed reports
/// [`RevocationNotice::Missed`] and reconnects, keeps reporting it about
/// once a second for as long as the server cannot be reached, and reports
/// [`RevocationNotice::Resumed`] once it listens again.
///
/// ```no_run
/// # async fn run(store: oauth_server::store::PgStore) -> Result<(), oauth_server::primitives::StoreError> {
/// # fn evict(_: &[u8; 32]) {}
/// # fn clear() {}
/// use oauth_server::store::RevocationNotice;
///
/// let mut feed = store.revocations().await?;
/// tokio::spawn(async move {
///     loop {
///         match feed.recv().await {
///             // e.g. `CachedValidator::evict_digest`
///             RevocationNotice::AccessToken(digest) => evict(&digest),
///             // e.g. `CachedValidator::clear`
///             _ => clear(),
///         }
///     }
/// });
/// # Ok(()) }
/// ```
pub struct RevocationFeed {
    pub(super) pool: PgPool,
    pub(super) channel: String,
    /// `None` after the connection was lost, until `LISTEN` succeeds again.
    pub(super) listener: Option<PgListener>,
}

impl std::fmt::Debug for RevocationFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationFeed")
            .field("channel", &self.channel)
            .field("listening", &self.listener.is_some())
            .finish_non_exhaustive()
    }
}

/// A listener on `channel`, on a connection of `pool`.
pub(super) async fn listen(pool: &PgPool, channel: &str) -> Result<PgListener, StoreError> {
    let mut listener = PgListener::connect_with(pool).await.map_err(backend)?;
    listener.listen(channel).await.map_err(backend)?;
    Ok(listener)
}

/// How long [`RevocationFeed::recv`] waits before it reports
/// [`RevocationNotice::Missed`] again while the server is unreachable.
const FEED_RETRY: Duration = Duration::from_secs(1);

impl RevocationFeed {
    /// The next notice. Cancel-safe: a notice is not lost when the future
    /// is dropped.
    ///
    /// After a lost connection the feed listens again on a new one, itself
    /// (not through sqlx's silent reconnection), and reports
    /// [`RevocationNotice::Resumed`] once `LISTEN` has succeeded, so that
    /// nothing revoked while it was deaf stays cached; while it cannot
    /// listen, it reports `Missed` about once a second.
    pub async fn recv(&mut self) -> RevocationNotice {
        loop {
            let Some(listener) = self.listener.as_mut() else {
                match listen(&self.pool, &self.channel).await {
                    Ok(listener) => {
                        self.listener = Some(listener);
                        return RevocationNotice::Resumed;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "revocation feed: cannot listen");
                        tokio::time::sleep(FEED_RETRY).await;
                    }
                }
                return RevocationNotice::Missed;
            };
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    if let Some(digest) = parse_digest(notification.payload()) {
                        return RevocationNotice::AccessToken(digest);
                    }
                    if let Some(user) = notification
                        .payload()
                        .strip_prefix("grants:")
                        .and_then(|id| id.parse().ok())
                    {
                        return RevocationNotice::User(user);
                    }
                    if notification.payload() == "grants" {
                        return RevocationNotice::GrantsChanged;
                    }
                    tracing::debug!(
                        payload = notification.payload(),
                        "unknown revocation notice"
                    );
                }
                // The connection was lost: listen again on a new one.
                Ok(None) => {
                    self.listener = None;
                    return RevocationNotice::Missed;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "revocation feed: connection failed");
                    self.listener = None;
                    tokio::time::sleep(FEED_RETRY).await;
                    return RevocationNotice::Missed;
                }
            }
        }
    }
}

/// 64 hex digits as 32 bytes.
fn parse_digest(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let digit = |c: u8| (c as char).to_digit(16);
        *byte = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::parse_digest;

    #[test]
    fn digests_parse_from_hex() {
        let hex = "00ff10ab".repeat(8);
        let digest = parse_digest(&hex).expect("64 hex digits");
        assert_eq!(&digest[..4], &[0x00, 0xff, 0x10, 0xab]);
        assert_eq!(parse_digest(&hex.to_uppercase()), Some(digest));
        assert_eq!(parse_digest(&hex[..62]), None);
        assert_eq!(parse_digest(&format!("{}zz", &hex[..62])), None);
        assert_eq!(parse_digest(&format!("{}é", &hex[..62])), None);
    }
}
