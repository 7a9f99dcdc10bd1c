//! Implementations of [`Store`](crate::primitives::Store): in memory for
//! tests, SQLite as the embedded default.

mod memory;
mod sqlite;

pub use self::memory::MemoryStore;
pub use self::sqlite::SqliteStore;
