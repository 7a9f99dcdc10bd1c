//! Rates: `limit` requests per `duration`, one per throttling bucket, and
//! their `THROTTLING_RATES` syntax.

use std::collections::BTreeMap;
use std::time::Duration;

/// A rate: `limit` requests per `duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per window.
    pub limit: u32,
    /// The window, counted in whole seconds: at least one second and at
    /// most [`MAX_WINDOW`] (a longer duration counts as that).
    pub duration: Duration,
}

/// The longest window a bucket keeps: a year (365 days). A [`Rate`] with a
/// longer duration counts in windows of a year, in process as in Redis
/// (whose key expiry takes whole seconds).
pub const MAX_WINDOW: Duration = Duration::from_secs(365 * 86_400);

/// A malformed rate or `THROTTLING_RATES` entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid rate {entry:?}: {reason}")]
pub struct RateError {
    entry: String,
    reason: &'static str,
}

impl Rate {
    /// The length of this rate's windows in whole seconds: at least one,
    /// at most [`MAX_WINDOW`]. Every store counts in these.
    pub fn window_seconds(self) -> u64 {
        self.duration.as_secs().clamp(1, MAX_WINDOW.as_secs())
    }
}

impl std::str::FromStr for Rate {
    type Err = RateError;

    /// `N/PERIOD`, where the period is read from its first letter as
    /// Django REST framework does: `s`econd, `m`inute, `h`our, `d`ay
    /// (`10/hour`, `2/m`, `1000/day`).
    fn from_str(s: &str) -> Result<Self, RateError> {
        let err = |reason| RateError {
            entry: s.to_owned(),
            reason,
        };
        let (limit, period) = s.trim().split_once('/').ok_or(err("expected N/period"))?;
        let limit = limit
            .trim()
            .parse()
            .map_err(|_| err("the limit is not a whole number"))?;
        let seconds = match period.trim().chars().next() {
            Some('s') => 1,
            Some('m') => 60,
            Some('h') => 3600,
            Some('d') => 86_400,
            _ => return Err(err("the period must be second, minute, hour or day")),
        };
        Ok(Rate {
            limit,
            duration: Duration::from_secs(seconds),
        })
    }
}

/// The rate of each throttling bucket (Funkwhale calls it a scope), by
/// name. Funkwhale's defaults are [`Rates::funkwhale`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rates(pub(crate) BTreeMap<String, Rate>);

impl Rates {
    /// No bucket limited.
    pub fn empty() -> Self {
        Self(BTreeMap::new())
    }

    /// These rates with `overrides` applied, in Funkwhale's
    /// `THROTTLING_RATES` syntax: `bucket=rate,bucket=rate` (blank entries
    /// ignored; a bucket not in the defaults is added).
    ///
    /// # Errors
    /// [`RateError`] on an entry without `=`, with a malformed rate, or
    /// with a bucket name containing `:` (it would make the keys of a
    /// shared store ambiguous: see the
    /// [crate docs](crate#where-the-counters-live)).
    pub fn with_overrides(mut self, overrides: &str) -> Result<Self, RateError> {
        for entry in overrides
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let err = |reason| RateError {
                entry: entry.to_owned(),
                reason,
            };
            let (bucket, rate) = entry.split_once('=').ok_or(err("expected scope=rate"))?;
            let bucket = bucket.trim();
            if bucket.contains(':') {
                return Err(err("a scope name cannot contain ':'"));
            }
            self.0.insert(bucket.to_owned(), rate.parse()?);
        }
        Ok(self)
    }

    /// The rate of `bucket`.
    pub fn get(&self, bucket: &str) -> Option<Rate> {
        self.0.get(bucket).copied()
    }

    /// Every bucket and its rate, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Rate)> {
        self.0.iter().map(|(k, v)| (k.as_str(), *v))
    }
}
