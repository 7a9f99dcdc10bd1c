//! The authorization codes a [`SqliteStore`](super::SqliteStore) inserted
//! and nothing has looked up yet, kept in memory so that the usual exchange
//! reads nothing from the database before its redemption.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::primitives::CodeRecord;
use crate::secret::SecretHash;

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
pub(super) struct FreshCodes(Mutex<Fresh>);

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

    pub(super) fn insert(&self, code: CodeRecord) {
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

    pub(super) fn take(&self, code_hash: &SecretHash) -> Option<CodeRecord> {
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
