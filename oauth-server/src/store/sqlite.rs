//! [`SqliteStore`]: the embedded default. One file, WAL journal,
//! `synchronous = FULL` (a commit is on disk before its future completes, so
//! a token handed to a client survives a crash), migrations embedded and
//! applied at connect time, a busy timeout instead of "database is locked".

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::primitives::{
    ClientRecord, CodeRecord, NewClient, Redeemed, Rotated, Store, StoreError, TokenRecord,
    UserRecord,
};
use crate::secret::SecretHash;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A [`Store`] in one SQLite file.
///
/// New tokens go through a group-commit writer: concurrent inserts are
/// batched into one transaction, so one `fsync` makes a whole batch durable
/// and every caller is answered only after its batch committed.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: mpsc::Sender<Write>,
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

/// Commits queued writes in batches until every sender is gone: one
/// transaction, one `fsync`, then every caller of the batch is answered.
async fn group_commit(pool: SqlitePool, mut queue: mpsc::Receiver<Write>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let result = commit_batch(&pool, &batch).await;
        if matches!(result, BatchResult::Failed(_)) && batch.len() > 1 {
            // One bad write must not fail its neighbours: commit each alone.
            tracing::warn!(
                size = batch.len(),
                "batch failed; committing its writes one by one"
            );
            for write in batch.drain(..) {
                let one = [write];
                let result = commit_batch(&pool, &one).await;
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

async fn commit_batch(pool: &SqlitePool, batch: &[Write]) -> BatchResult {
    match try_commit_batch(pool, batch).await {
        Ok(v) => BatchResult::Committed(v),
        Err(e) => BatchResult::Failed(e),
    }
}

async fn try_commit_batch(
    pool: &SqlitePool,
    batch: &[Write],
) -> Result<Vec<Option<Redeemed>>, StoreError> {
    // Only new tokens: one INSERT statement is atomic by itself, and saves
    // the BEGIN and COMMIT round trips to the connection's thread.
    if batch.iter().all(|w| matches!(w, Write::Token(..))) {
        let tokens: Vec<&TokenRecord> = batch
            .iter()
            .filter_map(|w| match w {
                Write::Token(t, _) => Some(&**t),
                Write::Redeem(..) => None,
            })
            .collect();
        insert_tokens(pool, &tokens).await?;
        return Ok(vec![None; batch.len()]);
    }
    let mut tx = pool.begin().await.map_err(backend)?;
    // All redemptions of the batch in two statements: spend every fresh
    // code at once, then tell spent codes from unknown ones.
    let asked: Vec<SecretHash> = batch
        .iter()
        .filter_map(|w| match w {
            Write::Redeem(hash, ..) => Some(*hash),
            Write::Token(..) => None,
        })
        .collect();
    let fresh = spend_codes(&mut tx, &asked).await?;
    let known = if fresh.len() == asked.len() {
        fresh.clone()
    } else {
        existing_codes(&mut tx, &asked).await?
    };
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut tokens: Vec<TokenRecord> = Vec::new();
    let mut replayed: Vec<SecretHash> = Vec::new();
    let mut issued: Vec<SecretHash> = Vec::new();
    for write in batch {
        outcomes.push(match write {
            Write::Token(t, _) => {
                tokens.push((**t).clone());
                None
            }
            Write::Redeem(hash, t, _) => {
                // The first redemption of a fresh code in batch order wins;
                // any other is a replay.
                let outcome = if fresh.contains(hash) && !issued.contains(hash) {
                    issued.push(*hash);
                    tokens.push((**t).clone());
                    Redeemed::Issued
                } else if known.contains(hash) {
                    replayed.push(*hash);
                    Redeemed::Replayed
                } else {
                    Redeemed::Unknown
                };
                Some(outcome)
            }
        });
    }
    if !replayed.is_empty() {
        revoke_codes(&mut tx, &replayed).await?;
    }
    // A replay in this batch also revokes a token its code issued in this
    // very batch.
    for t in &mut tokens {
        if t.code_hash.is_some_and(|h| replayed.contains(&h)) {
            t.revoked = true;
        }
    }
    if !tokens.is_empty() {
        let refs: Vec<&TokenRecord> = tokens.iter().collect();
        insert_tokens(&mut *tx, &refs).await?;
    }
    tx.commit().await.map_err(backend)?;
    Ok(outcomes)
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
    builder.push_values(tokens, |mut row, t| {
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
    });
    builder.build().execute(executor).await.map_err(backend)?;
    Ok(())
}

/// `?, ?, ?` for `n` parameters.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Runs `sql`, whose `{in}` stands for the list `?, ?, ...` bound to
/// `hashes`, and returns its rows.
async fn with_hashes(
    tx: &mut sqlx::SqliteConnection,
    sql: &str,
    hashes: &[SecretHash],
) -> Result<Vec<SqliteRow>, StoreError> {
    if hashes.is_empty() {
        return Ok(Vec::new());
    }
    let sql = sql.replace("{in}", &placeholders(hashes.len()));
    let mut query = sqlx::query(&sql);
    for h in hashes {
        query = query.bind(h.as_bytes().as_slice());
    }
    query.fetch_all(&mut *tx).await.map_err(backend)
}

/// Marks every unspent code of `hashes` spent; returns those it spent.
async fn spend_codes(
    tx: &mut sqlx::SqliteConnection,
    hashes: &[SecretHash],
) -> Result<Vec<SecretHash>, StoreError> {
    let sql =
        "UPDATE codes SET used = 1 WHERE used = 0 AND code_hash IN ({in}) RETURNING code_hash";
    let rows = with_hashes(tx, sql, hashes).await?;
    rows.iter().map(|r| hash_from(r, "code_hash")).collect()
}

/// The codes of `hashes` that exist, spent or not.
async fn existing_codes(
    tx: &mut sqlx::SqliteConnection,
    hashes: &[SecretHash],
) -> Result<Vec<SecretHash>, StoreError> {
    let sql = "SELECT code_hash FROM codes WHERE code_hash IN ({in})";
    let rows = with_hashes(tx, sql, hashes).await?;
    rows.iter().map(|r| hash_from(r, "code_hash")).collect()
}

/// Revokes every token issued from the codes of `hashes`.
async fn revoke_codes(
    tx: &mut sqlx::SqliteConnection,
    hashes: &[SecretHash],
) -> Result<(), StoreError> {
    let sql = "UPDATE tokens SET revoked = 1 WHERE revoked = 0 AND code_hash IN ({in})";
    with_hashes(tx, sql, hashes).await.map(drop)
}

fn backend(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        return StoreError::Conflict(db.message().to_owned());
    }
    StoreError::Backend(e.to_string())
}

fn hash_from(row: &SqliteRow, column: &str) -> Result<SecretHash, StoreError> {
    let bytes: Vec<u8> = row.try_get(column).map_err(backend)?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| StoreError::Backend(format!("{column} is not a SHA-256 digest")))?;
    Ok(SecretHash::from_bytes(bytes))
}

fn opt_hash_from(row: &SqliteRow, column: &str) -> Result<Option<SecretHash>, StoreError> {
    let bytes: Option<Vec<u8>> = row.try_get(column).map_err(backend)?;
    bytes
        .map(|b| {
            b.try_into()
                .map(SecretHash::from_bytes)
                .map_err(|_| StoreError::Backend(format!("{column} is not a SHA-256 digest")))
        })
        .transpose()
}

fn client_from(row: &SqliteRow) -> Result<ClientRecord, StoreError> {
    let uris: String = row.try_get("redirect_uris").map_err(backend)?;
    Ok(ClientRecord {
        id: row.try_get("id").map_err(backend)?,
        client_id: row.try_get("client_id").map_err(backend)?,
        secret_hash: hash_from(row, "secret_hash")?,
        name: row.try_get("name").map_err(backend)?,
        redirect_uris: uris.lines().map(str::to_owned).collect(),
        scopes: row.try_get("scopes").map_err(backend)?,
        website: row.try_get("website").map_err(backend)?,
        owner: row.try_get("owner").map_err(backend)?,
        created_at: row.try_get("created_at").map_err(backend)?,
    })
}

fn user_from(row: &SqliteRow) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        id: row.try_get("id").map_err(backend)?,
        username: row.try_get("username").map_err(backend)?,
        password_hash: row.try_get("password_hash").map_err(backend)?,
        admin: row.try_get("admin").map_err(backend)?,
    })
}

fn code_from(row: &SqliteRow) -> Result<CodeRecord, StoreError> {
    Ok(CodeRecord {
        code_hash: hash_from(row, "code_hash")?,
        client_id: row.try_get("client_id").map_err(backend)?,
        user_id: row.try_get("user_id").map_err(backend)?,
        redirect_uri: row.try_get("redirect_uri").map_err(backend)?,
        scopes: row.try_get("scopes").map_err(backend)?,
        challenge: row.try_get("challenge").map_err(backend)?,
        challenge_method: row.try_get("challenge_method").map_err(backend)?,
        expires_at: row.try_get("expires_at").map_err(backend)?,
    })
}

fn token_from(row: &SqliteRow) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        id: row.try_get("id").map_err(backend)?,
        access_hash: hash_from(row, "access_hash")?,
        refresh_hash: opt_hash_from(row, "refresh_hash")?,
        client_id: row.try_get("client_id").map_err(backend)?,
        user_id: row.try_get("user_id").map_err(backend)?,
        scopes: row.try_get("scopes").map_err(backend)?,
        created_at: row.try_get("created_at").map_err(backend)?,
        expires_at: row.try_get("expires_at").map_err(backend)?,
        family: row.try_get("family").map_err(backend)?,
        code_hash: opt_hash_from(row, "code_hash")?,
        revoked: row.try_get("revoked").map_err(backend)?,
    })
}

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
            // Token hashes are random keys: keep the indexes in memory
            // (64 MiB page cache per connection) and read through mmap.
            .pragma("cache_size", "-65536")
            .pragma("mmap_size", "268435456")
            // Checkpoint less often: a page changed by many commits is then
            // copied into the database once.
            .pragma("wal_autocheckpoint", "10000");
        // An in-memory database exists per connection: keep exactly one.
        let max = if url.contains(":memory:") { 1 } else { 4 };
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Backend(format!("cannot open {url}: {e}")))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migration failed: {e}")))?;
        let (writer, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(group_commit(pool.clone(), queue));
        Ok(Self { pool, writer })
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
            "INSERT INTO codes (code_hash, client_id, user_id, redirect_uri, scopes, challenge, challenge_method, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(code.code_hash.as_bytes().as_slice())
        .bind(&code.client_id)
        .bind(code.user_id)
        .bind(&code.redirect_uri)
        .bind(&code.scopes)
        .bind(&code.challenge)
        .bind(&code.challenge_method)
        .bind(code.expires_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn code(&self, code_hash: SecretHash) -> Result<Option<(CodeRecord, bool)>, StoreError> {
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
}
