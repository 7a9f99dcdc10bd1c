//! [`SqliteStore`]: the embedded default. One file, WAL journal,
//! `synchronous = FULL` (a commit is on disk before its future completes, so
//! a token handed to a client survives a crash), migrations embedded and
//! applied at connect time, a busy timeout instead of "database is locked".
//!
//! Hashes ([`SecretHash`]) are 48-byte BLOBs: the secret's time-ordered
//! selector, then its SHA-256 (migration 0001's comment, which says 32
//! bytes, predates the selector; a migration's text cannot change). A
//! stored hash of another length reads as a [`StoreError::Backend`].

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Row, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::primitives::{
    ClientRecord, CodeRecord, NewClient, Redeemed, Rotated, Store, StoreError, Timestamp,
    TokenRecord, UserRecord,
};
use crate::secret::SecretHash;

/// The store's migrations. A pod keeps its own tables in the same file with
/// its own migrations (numbered from 100), so migrations this store does
/// not know are expected.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate::Migrator {
    ignore_missing: true,
    ..sqlx::migrate!("./migrations/sqlite")
};

/// A [`Store`] in one SQLite file.
///
/// New tokens go through a group-commit writer: concurrent inserts are
/// batched into one transaction, so one `fsync` makes a whole batch durable
/// and every caller is answered only after its batch committed.
///
/// Codes this store inserted are also kept in memory until their first
/// lookup or redemption, so the usual exchange reads nothing from the
/// database before its redemption.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: mpsc::Sender<Write>,
    fresh: Arc<FreshCodes>,
}

/// Authorization codes this process inserted and nothing has looked up or
/// redeemed yet: such a code is unspent, and its record never changes
/// (only `used` does, and only the group-commit writer sets it, through a
/// redemption, which takes the code out of here first). The first lookup
/// takes the code out, so every later one reads the database. At most
/// [`FRESH_CODES`] codes; when full, expired ones are dropped, and a new
/// code that still does not fit is only in the database.
///
/// If another process spends a code of this one (two servers on one
/// file), a lookup here can still call it unspent; the redemption then
/// finds it spent, revokes what it issued and refuses, as for a concurrent
/// replay.
#[derive(Default)]
struct FreshCodes(Mutex<Fresh>);

#[derive(Default)]
struct Fresh {
    codes: HashMap<SecretHash, CodeRecord>,
    /// When the full map was last swept of expired codes: at most once a
    /// second, so a full map costs inserts no scan.
    swept_at: i64,
}

/// Most codes kept in [`FreshCodes`] (about 300 bytes each).
const FRESH_CODES: usize = 1 << 16;

impl FreshCodes {
    fn lock(&self) -> MutexGuard<'_, Fresh> {
        // A poisoned lock only means a holder panicked between statements
        // that leave the map consistent.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn insert(&self, code: CodeRecord) {
        let mut fresh = self.lock();
        if fresh.codes.len() >= FRESH_CODES {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            if now > fresh.swept_at {
                fresh.swept_at = now;
                fresh.codes.retain(|_, c| c.expires_at > now);
            }
        }
        // When full, the code is only in the database: its exchange reads it.
        if fresh.codes.len() < FRESH_CODES {
            fresh.codes.insert(code.code_hash, code);
        }
    }

    fn take(&self, code_hash: &SecretHash) -> Option<CodeRecord> {
        self.lock().codes.remove(code_hash)
    }
}

impl std::fmt::Debug for FreshCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreshCodes")
            .field("len", &self.lock().codes.len())
            .finish()
    }
}

/// A write that goes through the group-commit writer.
#[derive(Debug)]
enum Write {
    /// Insert a new token.
    Token(Box<TokenRecord>, oneshot::Sender<Result<(), StoreError>>),
    /// Spend an authorization code and store its token.
    Redeem(
        SecretHash,
        Box<TokenRecord>,
        oneshot::Sender<Result<Redeemed, StoreError>>,
    ),
}

/// Largest batch of one commit.
const MAX_BATCH: usize = 512;

/// Runs the group-commit writer on a thread and a runtime of its own, so
/// that it serves callers on any runtime and outlives the one that opened
/// the store (a set-up runtime left idle, or shut down). SQLite connections
/// do their I/O on threads of their own, not on a runtime's reactor, so the
/// writer's connection is as usable there as anywhere. The thread ends
/// with the queue, once every clone of the store is dropped.
fn spawn_writer(conn: WriterConnection, queue: mpsc::Receiver<Write>) -> Result<(), StoreError> {
    super::spawn_on_own_runtime("sqlite-writer", move || group_commit(conn, queue))
}

/// Commits queued writes in batches until every sender is gone: one
/// transaction, one `fsync`, then every caller of the batch is answered.
async fn group_commit(mut conn: WriterConnection, mut queue: mpsc::Receiver<Write>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let result = commit_batch(&mut conn, &batch).await;
        if matches!(result, BatchResult::Failed(_)) && batch.len() > 1 {
            // One bad write must not fail its neighbours: commit each alone.
            tracing::warn!(
                size = batch.len(),
                "batch failed; committing its writes one by one"
            );
            for write in batch.drain(..) {
                let one = [write];
                let result = commit_batch(&mut conn, &one).await;
                answer(one, &result);
            }
        } else {
            answer(batch.drain(..), &result);
        }
    }
}

/// Answers every caller of a committed (or failed) batch. A caller that
/// gave up (request cancelled) is no error.
fn answer(writes: impl IntoIterator<Item = Write>, result: &BatchResult) {
    for (write, outcome) in writes.into_iter().zip(result.iter_outcomes()) {
        match (write, outcome) {
            (Write::Token(_, reply), Ok(_)) => {
                let _ = reply.send(Ok(()));
            }
            (Write::Redeem(_, _, reply), Ok(redeemed)) => {
                let _ = reply.send(Ok(redeemed.unwrap_or(Redeemed::Unknown)));
            }
            (Write::Token(_, reply), Err(e)) => {
                let _ = reply.send(Err(e));
            }
            (Write::Redeem(_, _, reply), Err(e)) => {
                let _ = reply.send(Err(e));
            }
        }
    }
}

/// What a batch produced: for each write, the redemption's outcome (if it
/// was one), or the batch's error for all of them.
enum BatchResult {
    Committed(Vec<Option<Redeemed>>),
    Failed(StoreError),
}

impl BatchResult {
    fn iter_outcomes(&self) -> Box<dyn Iterator<Item = Result<Option<Redeemed>, StoreError>> + '_> {
        match self {
            Self::Committed(v) => Box::new(v.iter().map(|c| Ok(*c))),
            Self::Failed(e) => Box::new(std::iter::repeat_with(move || Err(e.duplicate()))),
        }
    }
}

/// The writer's connection: its own for a database file, so that it never
/// waits behind readers for one of the pool's; the pool's one connection
/// for an in-memory database (a second connection would be another
/// database).
enum WriterConnection {
    /// The connection, and how to open a new one.
    Own(Option<SqliteConnection>, Box<SqliteConnectOptions>),
    Shared(SqlitePool),
}

async fn commit_batch(conn: &mut WriterConnection, batch: &[Write]) -> BatchResult {
    let result = match conn {
        WriterConnection::Own(slot, options) => {
            let own = match slot {
                Some(c) => Ok(c),
                None => match options.connect().await {
                    Ok(c) => Ok(slot.insert(c)),
                    Err(e) => Err(backend(e)),
                },
            };
            match own {
                Ok(c) => {
                    let result = try_commit_batch(c, batch).await;
                    // A failed batch must leave no transaction open, or
                    // every later batch would fail: if closing it fails
                    // too, drop the connection and open a new one next time.
                    if result.is_err() && !transaction_closed(c).await {
                        tracing::warn!("the writer's connection is reset after a failed batch");
                        *slot = None;
                    }
                    result
                }
                Err(e) => Err(e),
            }
        }
        WriterConnection::Shared(pool) => match pool.acquire().await {
            Ok(mut conn) => try_commit_batch(&mut conn, batch).await,
            Err(e) => Err(backend(e)),
        },
    };
    match result {
        Ok(v) => BatchResult::Committed(v),
        Err(e) => BatchResult::Failed(e),
    }
}

/// Refuses a database written before secrets had their selector: its
/// clients' and tokens' 32-byte digests can never match again (only the
/// digest was kept, so no migration can convert them), and serving it would
/// answer every one of those clients with an error.
async fn refuse_legacy_hashes(pool: &SqlitePool, url: &str) -> Result<(), StoreError> {
    let (clients, tokens): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM clients WHERE length(secret_hash) != 48), \
                (SELECT count(*) FROM tokens WHERE length(access_hash) != 48)",
    )
    .fetch_one(pool)
    .await
    .map_err(backend)?;
    if clients + tokens == 0 {
        return Ok(());
    }
    Err(StoreError::Backend(format!(
        "{url} holds {clients} apps and {tokens} tokens hashed by an earlier oauth-server \
         (32-byte digests, before secrets had a time-ordered selector); they can never match \
         again. Register those apps anew after deleting them \
         (DELETE FROM tokens WHERE length(access_hash) != 48; \
         DELETE FROM clients WHERE length(secret_hash) != 48), or start from a new database"
    )))
}

/// Whether `conn` is outside any transaction now (rolling back one that a
/// failed statement left open).
async fn transaction_closed(conn: &mut SqliteConnection) -> bool {
    match sqlx::query("ROLLBACK").execute(&mut *conn).await {
        Ok(_) => true,
        Err(e) => e.to_string().contains("no transaction is active"),
    }
}

async fn try_commit_batch(
    conn: &mut SqliteConnection,
    batch: &[Write],
) -> Result<Vec<Option<Redeemed>>, StoreError> {
    // Only new tokens: one INSERT statement is atomic by itself.
    if batch.iter().all(|w| matches!(w, Write::Token(..))) {
        let tokens: Vec<&TokenRecord> = batch
            .iter()
            .filter_map(|w| match w {
                Write::Token(t, _) => Some(&**t),
                Write::Redeem(..) => None,
            })
            .collect();
        insert_tokens(&mut *conn, &tokens).await?;
        return Ok(vec![None; batch.len()]);
    }
    let plan = RedeemPlan::new(batch);
    let mut script = plan.query(batch);
    // Each batch shape is a different script: do not cache them as
    // prepared statements.
    let rows = match script.build().persistent(false).fetch_all(&mut *conn).await {
        Ok(rows) => rows,
        Err(e) => {
            // The statements stopped at the failing one: end the
            // transaction they began (an error here only means none is
            // open).
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            return Err(backend(e));
        }
    };
    plan.outcomes(batch, &rows)
}

/// A batch with code redemptions, as one script: one round trip to the
/// connection's thread, one transaction, one `fsync`.
///
/// In batch order, the first redemption of a fresh code wins: its token is
/// stored and the code spent. Any other redemption of a known code is a
/// replay, which revokes every token the code issued, including one issued
/// in this very batch. Redemptions of unknown codes change nothing.
struct RedeemPlan {
    /// The distinct codes redeemed, in batch order.
    asked: Vec<SecretHash>,
    /// Codes redeemed more than once in this batch.
    repeated: Vec<SecretHash>,
    /// For each write, whether it goes into the INSERT: new tokens, and
    /// the first redemption of each code.
    first: Vec<bool>,
}

/// Row tags of the script's results.
const SPENT_BEFORE: i64 = 0;
const ISSUED: i64 = 1;

impl RedeemPlan {
    fn new(batch: &[Write]) -> Self {
        let mut asked: Vec<SecretHash> = Vec::new();
        let mut repeated: Vec<SecretHash> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let first = batch
            .iter()
            .map(|w| match w {
                Write::Token(..) => true,
                Write::Redeem(hash, ..) => {
                    if seen.insert(*hash) {
                        asked.push(*hash);
                        true
                    } else {
                        if !repeated.contains(hash) {
                            repeated.push(*hash);
                        }
                        false
                    }
                }
            })
            .collect();
        Self {
            asked,
            repeated,
            first,
        }
    }

    /// The script:
    /// 1. which of the codes were spent before this batch (replays);
    /// 2. insert the new tokens, and each redemption's token if its code
    ///    is unspent, returning the access hashes stored;
    /// 3. revoke what replayed codes issued: codes spent before, and codes
    ///    redeemed more than once in this batch (after 2, so that a token
    ///    issued a moment ago is revoked too);
    /// 4. spend the codes.
    fn query<'q>(&self, batch: &'q [Write]) -> sqlx::QueryBuilder<'q, sqlx::Sqlite> {
        let mut b = sqlx::QueryBuilder::<sqlx::Sqlite>::new("BEGIN IMMEDIATE; ");
        b.push(format_args!(
            "SELECT {SPENT_BEFORE} AS tag, code_hash AS hash FROM codes WHERE used = 1 AND code_hash IN ("
        ));
        push_hashes(&mut b, &self.asked);
        b.push(
            "); INSERT INTO tokens (id, access_hash, refresh_hash, client_id, user_id, scopes, created_at, expires_at, family, code_hash, revoked) \
             SELECT column1, column2, column3, column4, column5, column6, column7, column8, column9, column10, column11 FROM (",
        );
        let rows = batch.iter().zip(&self.first).filter(|(_, first)| **first);
        b.push_values(rows, |mut row, (w, _)| {
            let (t, redeems) = match w {
                Write::Token(t, _) => (&**t, None),
                Write::Redeem(hash, t, _) => (&**t, Some(hash.as_bytes().to_vec())),
            };
            push_token(&mut row, t);
            row.push_bind(redeems);
        });
        b.push(format_args!(
            ") WHERE column12 IS NULL OR EXISTS (SELECT 1 FROM codes WHERE code_hash = column12 AND used = 0) \
             RETURNING {ISSUED} AS tag, access_hash AS hash; \
             UPDATE tokens SET revoked = 1 WHERE revoked = 0 AND code_hash IN \
             (SELECT code_hash FROM codes WHERE code_hash IN ("
        ));
        push_hashes(&mut b, &self.asked);
        b.push(") AND (used = 1");
        if !self.repeated.is_empty() {
            b.push(" OR code_hash IN (");
            push_hashes(&mut b, &self.repeated);
            b.push(")");
        }
        b.push(")); UPDATE codes SET used = 1 WHERE used = 0 AND code_hash IN (");
        push_hashes(&mut b, &self.asked);
        b.push("); COMMIT");
        b
    }

    /// Each write's outcome from the script's rows.
    fn outcomes(
        &self,
        batch: &[Write],
        rows: &[SqliteRow],
    ) -> Result<Vec<Option<Redeemed>>, StoreError> {
        let mut spent_before = Vec::new();
        let mut stored = std::collections::HashSet::new();
        for row in rows {
            let tag: i64 = row.try_get("tag").map_err(backend)?;
            let hash = hash_from(row, "hash")?;
            if tag == ISSUED {
                stored.insert(hash);
            } else {
                spent_before.push(hash);
            }
        }
        let mut issued = Vec::new();
        Ok(batch
            .iter()
            .zip(&self.first)
            .map(|(w, first)| match w {
                Write::Token(..) => None,
                Write::Redeem(hash, t, _) => Some(if *first && stored.contains(&t.access_hash) {
                    issued.push(*hash);
                    Redeemed::Issued
                } else if spent_before.contains(hash) || issued.contains(hash) {
                    Redeemed::Replayed
                } else {
                    Redeemed::Unknown
                }),
            })
            .collect())
    }
}

/// Binds `hashes` as `?, ?, ...`.
fn push_hashes(b: &mut sqlx::QueryBuilder<'_, sqlx::Sqlite>, hashes: &[SecretHash]) {
    let mut list = b.separated(", ");
    for h in hashes {
        list.push_bind(h.as_bytes().to_vec());
    }
}

/// Binds a token's columns in the order of `insert_tokens`.
fn push_token(
    row: &mut sqlx::query_builder::Separated<'_, '_, sqlx::Sqlite, &str>,
    t: &TokenRecord,
) {
    row.push_bind(t.id.clone())
        .push_bind(t.access_hash.as_bytes().to_vec())
        .push_bind(t.refresh_hash.as_ref().map(|h| h.as_bytes().to_vec()))
        .push_bind(t.client_id.clone())
        .push_bind(t.user_id)
        .push_bind(t.scopes.clone())
        .push_bind(t.created_at)
        .push_bind(t.expires_at)
        .push_bind(t.family.clone())
        .push_bind(t.code_hash.as_ref().map(|h| h.as_bytes().to_vec()))
        .push_bind(t.revoked);
}

/// One multi-row INSERT (11 parameters a row, well under SQLite's
/// 32766-parameter limit at `MAX_BATCH` rows).
async fn insert_tokens<'e, E>(executor: E, tokens: &[&TokenRecord]) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    let mut builder = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "INSERT INTO tokens (id, access_hash, refresh_hash, client_id, user_id, scopes, created_at, expires_at, family, code_hash, revoked) ",
    );
    builder.push_values(tokens, |mut row, t| push_token(&mut row, t));
    builder.build().execute(executor).await.map_err(backend)?;
    Ok(())
}

fn backend(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        return StoreError::Conflict(db.message().to_owned());
    }
    StoreError::Backend(e.to_string())
}

super::record_decoders!(SqliteRow);

impl SqliteStore {
    /// Opens (creating if missing) the database at `url`
    /// (`sqlite://pod.db`, `sqlite::memory:`), and applies the embedded
    /// migrations.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with the reason: a malformed URL, a file that
    /// cannot be created or opened, a failed migration.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::Backend(format!(
                "invalid SQLite URL {url:?}: expected sqlite://PATH or sqlite::memory:"
            )));
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid SQLite URL {url:?}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Keep the indexes in memory (64 MiB page cache per connection)
            // and read through mmap. Stored hashes start with their
            // secret's time-ordered selector, so inserts touch the right
            // edge of each index, not random pages.
            .pragma("cache_size", "-65536")
            .pragma("mmap_size", "268435456")
            // Checkpoint less often: a page changed by many commits is then
            // copied into the database once.
            .pragma("wal_autocheckpoint", "10000");
        // An in-memory database exists per connection: keep exactly one.
        let memory = url.contains(":memory:");
        let mut pool_options = SqlitePoolOptions::new().max_connections(if memory { 1 } else { 4 });
        if memory {
            // The database lives as long as its one connection: never let
            // the pool close it for idleness or age.
            pool_options = pool_options
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        }
        let pool = pool_options
            .connect_with(options.clone())
            .await
            .map_err(|e| StoreError::Backend(format!("cannot open {url}: {e}")))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migration failed: {e}")))?;
        refuse_legacy_hashes(&pool, url).await?;
        let conn = if memory {
            WriterConnection::Shared(pool.clone())
        } else {
            WriterConnection::Own(
                Some(
                    options
                        .clone()
                        .connect()
                        .await
                        .map_err(|e| StoreError::Backend(format!("cannot open {url}: {e}")))?,
                ),
                Box::new(options),
            )
        };
        let (writer, queue) = mpsc::channel(4 * MAX_BATCH);
        spawn_writer(conn, queue)?;
        Ok(Self {
            pool,
            writer,
            fresh: Arc::default(),
        })
    }

    /// The connection pool, for operators' tools.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

impl Store for SqliteStore {
    async fn create_client(&self, c: NewClient) -> Result<ClientRecord, StoreError> {
        let row = sqlx::query(
            "INSERT INTO clients (client_id, secret_hash, name, redirect_uris, scopes, website, owner, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(&c.client_id)
        .bind(c.secret_hash.as_bytes().as_slice())
        .bind(&c.name)
        .bind(c.redirect_uris.join("\n"))
        .bind(&c.scopes)
        .bind(&c.website)
        .bind(c.owner)
        .bind(c.created_at)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        client_from(&row)
    }

    async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        sqlx::query("SELECT * FROM clients WHERE client_id = ?")
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(client_from)
            .transpose()
    }

    async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        admin: bool,
    ) -> Result<UserRecord, StoreError> {
        let row = sqlx::query(
            "INSERT INTO users (username, password_hash, admin) VALUES (?, ?, ?) RETURNING *",
        )
        .bind(username)
        .bind(password_hash)
        .bind(admin)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        user_from(&row)
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        sqlx::query("SELECT * FROM users WHERE username = ?")
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    async fn user(&self, id: i64) -> Result<Option<UserRecord>, StoreError> {
        sqlx::query("SELECT * FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    async fn insert_code(&self, code: CodeRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO codes (code_hash, client_id, user_id, redirect_uri, redirect_uri_given, scopes, challenge, challenge_method, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(code.code_hash.as_bytes().as_slice())
        .bind(&code.client_id)
        .bind(code.user_id)
        .bind(&code.redirect_uri)
        .bind(code.redirect_uri_given)
        .bind(&code.scopes)
        .bind(&code.challenge)
        .bind(&code.challenge_method)
        .bind(code.expires_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        // Nobody knows the code before this returns: nothing can have
        // looked it up yet.
        self.fresh.insert(code);
        Ok(())
    }

    async fn code(&self, code_hash: SecretHash) -> Result<Option<(CodeRecord, bool)>, StoreError> {
        if let Some(code) = self.fresh.take(&code_hash) {
            return Ok(Some((code, false)));
        }
        let row = sqlx::query("SELECT * FROM codes WHERE code_hash = ?")
            .bind(code_hash.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        match row {
            Some(row) => {
                let used: bool = row.try_get("used").map_err(backend)?;
                Ok(Some((code_from(&row)?, used)))
            }
            None => Ok(None),
        }
    }

    async fn redeem_code(
        &self,
        code_hash: SecretHash,
        token: TokenRecord,
    ) -> Result<Redeemed, StoreError> {
        self.fresh.take(&code_hash);
        let (reply, done) = oneshot::channel();
        self.writer
            .send(Write::Redeem(code_hash, Box::new(token), reply))
            .await
            .map_err(|_| StoreError::Backend("the writer stopped".into()))?;
        done.await
            .map_err(|_| StoreError::Backend("the writer stopped".into()))?
    }

    async fn insert_token(&self, t: TokenRecord) -> Result<(), StoreError> {
        let (reply, done) = oneshot::channel();
        self.writer
            .send(Write::Token(Box::new(t), reply))
            .await
            .map_err(|_| StoreError::Backend("the token writer stopped".into()))?;
        done.await
            .map_err(|_| StoreError::Backend("the token writer stopped".into()))?
    }

    async fn token_by_access(&self, hash: SecretHash) -> Result<Option<TokenRecord>, StoreError> {
        sqlx::query("SELECT * FROM tokens WHERE access_hash = ?")
            .bind(hash.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(token_from)
            .transpose()
    }

    async fn token_by_refresh(&self, hash: SecretHash) -> Result<Option<TokenRecord>, StoreError> {
        sqlx::query("SELECT * FROM tokens WHERE refresh_hash = ?")
            .bind(hash.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(token_from)
            .transpose()
    }

    async fn rotate_refresh(
        &self,
        old_refresh: SecretHash,
        new: TokenRecord,
    ) -> Result<Rotated, StoreError> {
        let key = old_refresh.as_bytes().as_slice();
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let revoked =
            sqlx::query("UPDATE tokens SET revoked = 1 WHERE refresh_hash = ? AND revoked = 0")
                .bind(key)
                .execute(&mut *tx)
                .await
                .map_err(backend)?
                .rows_affected();
        if revoked == 0 {
            let family: Option<String> =
                sqlx::query_scalar("SELECT family FROM tokens WHERE refresh_hash = ?")
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?;
            tx.rollback().await.map_err(backend)?;
            return Ok(match family {
                Some(family) => Rotated::Reused { family },
                None => Rotated::Unknown,
            });
        }
        insert_tokens(&mut *tx, &[&new]).await?;
        tx.commit().await.map_err(backend)?;
        Ok(Rotated::Done)
    }

    async fn revoke_token(&self, id: &str) -> Result<bool, StoreError> {
        Ok(
            sqlx::query("UPDATE tokens SET revoked = 1 WHERE id = ? AND revoked = 0")
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(backend)?
                .rows_affected()
                > 0,
        )
    }

    async fn revoke_family(&self, family: &str) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("UPDATE tokens SET revoked = 1 WHERE family = ? AND revoked = 0")
                .bind(family)
                .execute(&self.pool)
                .await
                .map_err(backend)?
                .rows_affected(),
        )
    }

    async fn revoke_by_code(&self, code_hash: SecretHash) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("UPDATE tokens SET revoked = 1 WHERE code_hash = ? AND revoked = 0")
                .bind(code_hash.as_bytes().as_slice())
                .execute(&self.pool)
                .await
                .map_err(backend)?
                .rows_affected(),
        )
    }

    async fn set_admin(&self, user_id: i64, admin: bool) -> Result<bool, StoreError> {
        Ok(sqlx::query("UPDATE users SET admin = ? WHERE id = ?")
            .bind(admin)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?
            .rows_affected()
            > 0)
    }

    async fn create_session(
        &self,
        key: SecretHash,
        user_id: i64,
        now: Timestamp,
        expires_at: Timestamp,
        max_per_user: u32,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query(
            "INSERT INTO sessions (key_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        )
        .bind(key.as_bytes().as_slice())
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query(
            "DELETE FROM sessions WHERE user_id = ?1 AND key_hash NOT IN \
             (SELECT key_hash FROM sessions WHERE user_id = ?1 \
              ORDER BY key_hash = ?2 DESC, created_at DESC LIMIT ?3)",
        )
        .bind(user_id)
        .bind(key.as_bytes().as_slice())
        .bind(i64::from(max_per_user))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn session(&self, key: SecretHash, now: Timestamp) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar("SELECT user_id FROM sessions WHERE key_hash = ? AND expires_at > ?")
            .bind(key.as_bytes().as_slice())
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)
    }

    async fn delete_session(&self, key: SecretHash) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE key_hash = ?")
            .bind(key.as_bytes().as_slice())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn login_failures(&self, key: [u8; 32], since: Timestamp) -> Result<u32, StoreError> {
        let n: Option<i64> = sqlx::query_scalar(
            "SELECT failures FROM login_failures WHERE key = ? AND window_start > ?",
        )
        .bind(key.as_slice())
        .bind(since)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(n.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    async fn record_login_failure(
        &self,
        key: [u8; 32],
        now: Timestamp,
        window: i64,
    ) -> Result<u32, StoreError> {
        let ended = now.saturating_sub(window);
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query("DELETE FROM login_failures WHERE window_start <= ?")
            .bind(ended)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let n: i64 = sqlx::query_scalar(
            "INSERT INTO login_failures (key, failures, window_start) VALUES (?1, 1, ?2) \
             ON CONFLICT (key) DO UPDATE SET failures = MIN(failures, 1000000) + 1 RETURNING failures",
        )
        .bind(key.as_slice())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn clear_login_failures(&self, key: [u8; 32]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE key = ?")
            .bind(key.as_slice())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
