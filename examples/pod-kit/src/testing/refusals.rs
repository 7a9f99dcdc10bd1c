//! Real refusals of a database engine, for the pods' tests of how their
//! errors answer them.

use sqlx::AnyPool;

/// The errors an engine raises (through `Any`, as the handlers see them)
/// for a foreign-key, unique, not-null and check violation, a syntax error
/// and, on PostgreSQL, a data exception.
#[derive(Debug)]
pub struct Refusals {
    /// A child row naming a parent that does not exist.
    pub foreign_key: sqlx::Error,
    /// A second row with the same primary key.
    pub unique: sqlx::Error,
    /// A NULL in a `NOT NULL` column.
    pub not_null: sqlx::Error,
    /// A value its `CHECK` refuses.
    pub check: sqlx::Error,
    /// `SELEKT 1`.
    pub syntax: sqlx::Error,
    /// PostgreSQL only (SQLite computes on): a data exception (SQLSTATE
    /// class 22), 22003, an integer out of range.
    pub out_of_range: Option<sqlx::Error>,
}

async fn refused(db: &AnyPool, sql: &str) -> sqlx::Error {
    sqlx::query(sql).execute(db).await.expect_err(sql)
}

/// The [`Refusals`] of the database at `url` (an empty SQLite file or
/// PostgreSQL schema: it creates two tables there).
pub async fn refusals(url: &str) -> Refusals {
    sqlx::any::install_default_drivers();
    let db = AnyPool::connect(url).await.expect("connect");
    for ddl in [
        "CREATE TABLE parents (id BIGINT PRIMARY KEY)",
        "CREATE TABLE children (id BIGINT PRIMARY KEY, \
         parent_id BIGINT NOT NULL REFERENCES parents(id), n BIGINT CHECK (n > 0))",
        "INSERT INTO parents (id) VALUES (1)",
    ] {
        sqlx::query(ddl).execute(&db).await.expect(ddl);
    }
    let out_of_range = if url.starts_with("postgres") {
        Some(refused(&db, "SELECT CAST(9223372036854775807 AS BIGINT) + 1").await)
    } else {
        None
    };
    let refusals = Refusals {
        foreign_key: refused(&db, "INSERT INTO children (id, parent_id) VALUES (1, 99)").await,
        unique: refused(&db, "INSERT INTO parents (id) VALUES (1)").await,
        not_null: refused(&db, "INSERT INTO children (id) VALUES (2)").await,
        check: refused(
            &db,
            "INSERT INTO children (id, parent_id, n) VALUES (3, 1, 0)",
        )
        .await,
        syntax: refused(&db, "SELEKT 1").await,
        out_of_range,
    };
    db.close().await;
    refusals
}
