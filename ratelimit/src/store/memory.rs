//! [`MemoryStore`]: the counters in this process.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{CounterStore, StoreFuture};
use crate::limiter::Decision;
use crate::rate::{Rate, Rates};

/// Counters in this process: each instance counts on its own. Expired
/// windows are swept when the map has doubled since the last sweep, so
/// memory stays bounded by the clients active within the longest window.
/// Answers at once ([`CounterStore::count_now`]) and never fails.
pub struct MemoryStore {
    windows: Mutex<Windows>,
}

/// The windows, by (bucket, ident).
struct Windows {
    map: HashMap<(String, String), Window>,
    sweep_at: usize,
}

struct Window {
    started: u64,
    count: u32,
    duration: u64,
}

impl Windows {
    fn hit(&mut self, bucket: &str, ident: &str, rate: Rate, now: u64) -> Decision {
        let duration = rate.window_seconds();
        if self.map.len() >= self.sweep_at {
            self.map
                .retain(|_, w| now < w.started.saturating_add(w.duration));
            self.sweep_at = (self.map.len() * 2).max(1024);
        }
        let window = self
            .map
            .entry((bucket.to_owned(), ident.to_owned()))
            .or_insert(Window {
                started: now,
                count: 0,
                duration,
            });
        if now >= window.started.saturating_add(window.duration) {
            *window = Window {
                started: now,
                count: 0,
                duration,
            };
        }
        let allowed = window.count < rate.limit;
        if allowed {
            window.count += 1;
        }
        Decision::counted(bucket, rate, window.started, window.count, allowed, now)
    }

    fn status(&self, ident: &str, rates: &Rates, now: u64) -> Vec<Decision> {
        rates
            .iter()
            .map(|(bucket, rate)| {
                let window = self
                    .map
                    .get(&(bucket.to_owned(), ident.to_owned()))
                    .map(|w| (w.started, w.count));
                Decision::current(bucket, rate, window, now)
            })
            .collect()
    }
}

impl MemoryStore {
    /// No counters yet.
    pub fn new() -> Self {
        Self {
            windows: Mutex::new(Windows {
                map: HashMap::new(),
                sweep_at: 1024,
            }),
        }
    }

    fn windows(&self) -> MutexGuard<'_, Windows> {
        // A poisoned lock only means another request panicked mid-update;
        // the counters are still consistent enough to rate-limit with.
        self.windows.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many windows are held (live or not yet swept).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.windows().map.len()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemoryStore")
    }
}

impl CounterStore for MemoryStore {
    fn count_now(&self, bucket: &str, ident: &str, rate: Rate, now: u64) -> Option<Decision> {
        Some(self.windows().hit(bucket, ident, rate, now))
    }

    fn count<'a>(
        &'a self,
        bucket: &'a str,
        ident: &'a str,
        rate: Rate,
        now: u64,
    ) -> StoreFuture<'a, Decision> {
        let decision = self.windows().hit(bucket, ident, rate, now);
        Box::pin(std::future::ready(Ok(decision)))
    }

    fn status<'a>(
        &'a self,
        ident: &'a str,
        rates: &'a Rates,
        now: u64,
    ) -> StoreFuture<'a, Vec<Decision>> {
        let status = self.windows().status(ident, rates, now);
        Box::pin(std::future::ready(Ok(status)))
    }

    fn is_shared(&self) -> bool {
        false
    }
}
