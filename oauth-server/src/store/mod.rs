//! Implementations of [`Store`](crate::primitives::Store): in memory for
//! tests, SQLite as the embedded default, PostgreSQL for pods that run
//! several processes on one database.
//!
//! The two SQL stores share one SQL layer (`sql/`: the statements that are
//! the same text on both engines, the row decoders, and the engine
//! differences named in one place) and one group-commit engine
//! (`group_commit.rs`), each store providing only its sink. What remains
//! in `sqlite/` and `postgres/` is where the engines really differ.

mod group_commit;
mod memory;
mod postgres;
mod sql;
mod sqlite;

pub use self::memory::MemoryStore;
/// `url` with its password replaced by `***` and its query (which may
/// carry `password=`) dropped, for messages and banners.
pub use self::postgres::redact as redact_url;
pub use self::postgres::{
    PgSettings, PgStore, REVOCATION_CHANNEL, RevocationFeed, RevocationNotice,
};
pub use self::sqlite::SqliteStore;
