//! SQLite's side of group commit: the [`Sink`] that writes a batch of new
//! tokens and code redemptions, as one multi-row `INSERT` or, when the
//! batch redeems codes, as one script (one round trip to the connection's
//! thread, one transaction, one `fsync`).

use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{ConnectOptions, Row, Sqlite, SqliteConnection, SqlitePool};

use super::statements::hash_from;
use crate::primitives::{Redeemed, StoreError, TokenRecord};
use crate::secret::SecretHash;
use crate::store::group_commit::{Failure, Sink};
use crate::store::sql::engine::store_error;
use crate::store::sql::token_columns;

/// A write that goes through the group-commit writer.
#[derive(Debug)]
pub(super) enum Write {
    /// Insert a new token.
    Token(Box<TokenRecord>),
    /// Spend an authorization code and store its token.
    Redeem(SecretHash, Box<TokenRecord>),
}

/// The writer's connection: its own for a database file, so that it never
/// waits behind readers for one of the pool's; the pool's one connection
/// for an in-memory database (a second connection would be another
/// database).
pub(super) enum WriterConnection {
    /// The connection, and how to open a new one.
    Own(Option<SqliteConnection>, Box<SqliteConnectOptions>),
    /// The pool's connection.
    Shared(SqlitePool),
}

/// The sink of SQLite's writer: one, since SQLite has one writer at a time.
/// SQLite connections do their I/O on threads of their own, not on a
/// runtime's reactor, so the writer's connection is as usable on the
/// writer's runtime as anywhere.
pub(super) struct SqliteSink(pub(super) WriterConnection);

impl Sink for SqliteSink {
    type Write = Write;
    /// The redemption's outcome, if the write was one.
    type Done = Option<Redeemed>;

    async fn write(&mut self, batch: &[Write]) -> Result<Vec<Option<Redeemed>>, Failure> {
        match &mut self.0 {
            WriterConnection::Own(slot, options) => {
                let c = match slot {
                    Some(c) => c,
                    None => slot.insert(options.connect().await.map_err(Failure::of::<Sqlite>)?),
                };
                let result = try_commit_batch(c, batch).await;
                // A failed batch must leave no transaction open, or every
                // later batch would fail: if closing it fails too, drop the
                // connection and open a new one next time.
                if result.is_err() && !transaction_closed(c).await {
                    tracing::warn!("the writer's connection is reset after a failed batch");
                    *slot = None;
                }
                result
            }
            WriterConnection::Shared(pool) => {
                let mut conn = pool.acquire().await.map_err(Failure::of::<Sqlite>)?;
                try_commit_batch(&mut conn, batch).await
            }
        }
    }
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
) -> Result<Vec<Option<Redeemed>>, Failure> {
    // Only new tokens: one INSERT statement is atomic by itself.
    if batch.iter().all(|w| matches!(w, Write::Token(..))) {
        let tokens: Vec<&TokenRecord> = batch
            .iter()
            .filter_map(|w| match w {
                Write::Token(t) => Some(&**t),
                Write::Redeem(..) => None,
            })
            .collect();
        insert_tokens(&mut *conn, &tokens)
            .await
            .map_err(Failure::of::<Sqlite>)?;
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
            return Err(Failure::of::<Sqlite>(e));
        }
    };
    Ok(plan.outcomes(batch, &rows)?)
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
            concat!(
                "); INSERT INTO tokens (",
                token_columns!(),
                ") SELECT column1, column2, column3, column4, column5, column6, column7, column8, column9, column10, column11 FROM ("
            ),
        );
        let rows = batch.iter().zip(&self.first).filter(|(_, first)| **first);
        b.push_values(rows, |mut row, (w, _)| {
            let (t, redeems) = match w {
                Write::Token(t) => (&**t, None),
                Write::Redeem(hash, t) => (&**t, Some(hash.as_bytes().to_vec())),
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
            let tag: i64 = row.try_get("tag").map_err(store_error::<Sqlite>)?;
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
                Write::Redeem(hash, t) => Some(if *first && stored.contains(&t.access_hash) {
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
async fn insert_tokens<'e, E>(executor: E, tokens: &[&TokenRecord]) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    let mut builder = sqlx::QueryBuilder::<sqlx::Sqlite>::new(concat!(
        "INSERT INTO tokens (",
        token_columns!(),
        ") "
    ));
    builder.push_values(tokens, |mut row, t| push_token(&mut row, t));
    builder.build().execute(executor).await?;
    Ok(())
}
