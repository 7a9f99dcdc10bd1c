//! How a [`PgStore`](super::PgStore) uses its server: [`PgSettings`], the
//! pool and the session settings of every connection, and the way URLs
//! and targets are named in messages (never with the password).

use std::time::Duration;

use sqlx::PgConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// How long connecting to the server may take before
/// [`PgStore::connect`] gives up.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a query may wait for a connection of the pool (a busy pool, or
/// a server that went away) before it fails.
pub(super) const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// How a [`PgStore`](super::PgStore) uses its server; [`PgSettings::default`] is what
/// [`PgStore::connect`](super::PgStore::connect) uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PgSettings {
    /// Connections of this process's pool (16), plus one per token writer
    /// (two from 8 up, else one). Across all instances they must stay under
    /// the server's `max_connections`.
    pub max_connections: u32,
    /// The longest a statement may run (`statement_timeout`, 10 s): a
    /// request fails with 503 rather than wait on a stuck server. (A new
    /// token also waits for the batches queued before its own; when one of
    /// them fails, it is answered with that failure at once.)
    pub statement_timeout: Duration,
    /// The longest a statement may wait for a lock (`lock_timeout`, 5 s).
    pub lock_timeout: Duration,
}

impl Default for PgSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            statement_timeout: Duration::from_secs(10),
            lock_timeout: Duration::from_secs(5),
        }
    }
}

impl PgSettings {
    /// Sets [`PgSettings::max_connections`] (at least 2: a
    /// [`RevocationFeed`](super::RevocationFeed) holds one).
    #[must_use]
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(2);
        self
    }

    /// Sets [`PgSettings::statement_timeout`] (zero: none).
    #[must_use]
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// Sets [`PgSettings::lock_timeout`] (zero: none).
    #[must_use]
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }
}

/// A pool of `connections` with the store's acquire timeout and session
/// settings.
pub(super) fn pool_options(settings: PgSettings, connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_connect(move |conn, _| Box::pin(session_settings(conn, settings)))
}

/// The session settings the store's statements rely on, whatever the
/// server's defaults: `READ COMMITTED` (a statement that waited for a row
/// lock re-reads the row instead of failing with a serialization error),
/// durable commits (`synchronous_commit` is set to `on` where it is `off`;
/// any other setting is kept), and the timeouts of `settings`.
///
/// These are session settings: behind PgBouncer, use session pooling (in
/// transaction pooling a later transaction may run on a server connection
/// that never received them).
async fn session_settings(
    conn: &mut PgConnection,
    settings: PgSettings,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT set_config('default_transaction_isolation', 'read committed', false), \
         set_config('statement_timeout', $1, false), \
         set_config('lock_timeout', $2, false), \
         CASE WHEN current_setting('synchronous_commit') = 'off' \
             THEN set_config('synchronous_commit', 'on', false) END",
    )
    .bind(millis(settings.statement_timeout))
    .bind(millis(settings.lock_timeout))
    .execute(conn)
    .await?;
    Ok(())
}

/// `timeout` as PostgreSQL's setting: whole milliseconds, at least 1 unless
/// zero (none), at most `i32::MAX` (the setting's range).
fn millis(timeout: Duration) -> String {
    let ms = match timeout.as_millis() {
        0 if timeout.is_zero() => 0,
        0 => 1,
        ms => ms.min(i32::MAX as u128),
    };
    format!("{ms}ms")
}

/// `USER@HOST:PORT/DATABASE`, for messages (never the password).
pub(super) fn describe(options: &PgConnectOptions) -> String {
    format!(
        "{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or(options.get_username()),
    )
}

/// `url` with the password of its user information replaced by `***` and
/// its query dropped (it may carry `password=`). Everything before the last
/// `@` counts as user information, so a password holding `/`, `?`, `#` or
/// `@` unencoded is hidden too.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (userinfo, host_and_path) = match rest.rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let host_and_path = host_and_path.split(['?', '#']).next().unwrap_or_default();
    match userinfo.map(|info| (info, info.split_once(':'))) {
        Some((_, Some((user, _)))) => format!("{scheme}://{user}:***@{host_and_path}"),
        Some((info, None)) => format!("{scheme}://{info}@{host_and_path}"),
        None => format!("{scheme}://{host_and_path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://pod:hunter2@db.example:5432/pod"),
            "postgres://pod:***@db.example:5432/pod"
        );
        assert_eq!(
            redact("postgres://pod@db.example/pod"),
            "postgres://pod@db.example/pod"
        );
        assert_eq!(
            redact("postgres://db.example/p@d"),
            "postgres://db.example/p@d"
        );
        assert_eq!(redact("not a url"), "not a url");
        // Unencoded separators in the password, and a password in the query.
        for url in [
            "postgres://u:pa/ss@h/db",
            "postgres://u:pa?ss@h/db",
            "postgres://u:pa#ss@h/db",
            "postgres://u:p@ss@h/db",
        ] {
            assert_eq!(redact(url), "postgres://u:***@h/db", "{url}");
        }
        assert_eq!(
            redact("postgres://u@h/db?password=hunter2&sslmode=disable"),
            "postgres://u@h/db"
        );
    }
}
