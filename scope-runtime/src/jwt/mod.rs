#![cfg_attr(
    not(feature = "jwt"),
    doc = "JWT access tokens (RFC 9068): their wire format, [`format`](mod@format). The validator needs the `jwt` cargo feature."
)]
#![cfg_attr(feature = "jwt", doc = include_str!("../docs/jwt.md"))]

#[cfg(feature = "jwt")]
use std::time::Duration;

pub mod format;
#[cfg(feature = "jwt")]
mod keys;
#[cfg(feature = "jwt")]
mod validator;

#[doc(inline)]
pub use self::format::ALGORITHM;
#[cfg(feature = "jwt")]
pub use self::keys::{Jwks, JwksError};
#[cfg(feature = "jwt")]
pub use self::validator::JwtValidator;
#[cfg(feature = "jwt")]
pub use crate::claims::DEFAULT_LEEWAY;

/// The `reqwest` this module uses, for [`reqwest::Url`] and
/// [`reqwest::Client`] without a dependency of your own.
#[cfg(feature = "jwt")]
pub use reqwest;

/// The `p256` whose keys [`format`](mod@format) signs and reads, so that a signer names
/// the same version.
pub use p256;

/// The least time between two fetches of the key set unless
/// [`JwtValidator::min_refetch_interval`] sets another.
#[cfg(feature = "jwt")]
pub const DEFAULT_MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// The age after which the key set is fetched again unless
/// [`JwtValidator::refresh_interval`] sets another.
#[cfg(feature = "jwt")]
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(600);

/// The request timeout unless [`JwtValidator::timeout`] sets another.
#[cfg(feature = "jwt")]
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

#[cfg(all(test, feature = "jwt"))]
mod tests;
