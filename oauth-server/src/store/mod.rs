//! Implementations of [`Store`](crate::primitives::Store): in memory for
//! tests, SQLite as the embedded default, PostgreSQL for pods that run
//! several processes on one database.

mod memory;
mod postgres;
mod sqlite;

pub use self::memory::MemoryStore;
pub use self::postgres::PgStore;
pub use self::sqlite::SqliteStore;
