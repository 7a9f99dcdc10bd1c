//! What a database refusal says of its cause, the same on both engines:
//! the pods answer the client's input with their 4xx and the server's
//! failures with a 500, each in its own shape.

/// The cause of a failed statement, as the pods answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// A foreign-key violation: a race the handler's checks lost (the
    /// row referenced was deleted meanwhile).
    MissingReference,
    /// A unique violation: the same row was inserted meanwhile.
    Duplicate,
    /// A data exception (SQLSTATE class 22): input PostgreSQL refuses
    /// where SQLite stores it (a NUL character in text, 22021) or an
    /// integer out of range (22003). The handlers check their input first:
    /// this is the net under them.
    BadValue,
    /// Anything else (not-null and check violations, which the handlers'
    /// checks rule out, a lost connection): the server's failure.
    Server,
}

impl Cause {
    /// Whether the client's input (or its race with another client)
    /// caused it, rather than the server.
    pub fn is_input(self) -> bool {
        !matches!(self, Self::Server)
    }
}

/// The cause of `e`.
pub fn cause(e: &sqlx::Error) -> Cause {
    let sqlx::Error::Database(db) = e else {
        return Cause::Server;
    };
    match db.kind() {
        sqlx::error::ErrorKind::ForeignKeyViolation => Cause::MissingReference,
        sqlx::error::ErrorKind::UniqueViolation => Cause::Duplicate,
        // SQLSTATE classes are PostgreSQL's; SQLite's codes are numbers
        // (its "22" is SQLITE_NOLFS, a server failure).
        _ if db
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .is_some()
            && db.code().is_some_and(|code| code.starts_with("22")) =>
        {
            Cause::BadValue
        }
        _ => Cause::Server,
    }
}
