//! Secrets: generation, hashing at rest, constant-time comparison, and
//! passwords.
//!
//! # Selector and verifier
//!
//! A secret (token, authorization code, client secret) is 59 characters:
//!
//! ```text
//! 18a2f0c93b7e4d21 YW4gZXhhbXBsZSBvZiAzMiByYW5kb20gYnl0ZXMhISE
//! \-- selector --/ \--------------- verifier ----------------/
//!  16 hex digits    43 base64url characters: 32 random bytes
//! ```
//!
//! (written here with a space between the two; a secret has none)
//!
//! The **selector** is the time of issue, nanoseconds since the epoch in
//! lower-case hex, strictly increasing within the process. It is not secret
//! and carries none of the secret's 256 random bits; it is there for the
//! store: a key that starts with it grows with time, so every index insert
//! lands at the right edge of its B-tree and a group commit dirties a few
//! pages instead of one random page per key and index. The **verifier** is
//! 32 bytes from the OS generator; with the rest of the secret it is only
//! ever stored hashed.
//!
//! At rest a secret is its [`SecretHash`]: the selector in clear, then the
//! SHA-256 of the whole secret. A fast hash is the right tool for 256
//! random bits; the hash is compared in constant time. User passwords are
//! low-entropy and get argon2id ([`hash_password`]).

use std::sync::atomic::{AtomicU64, Ordering};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Failure of the operating system's random number generator.
#[derive(Debug, thiserror::Error)]
#[error("the system random number generator failed: {0}")]
pub struct RandomError(getrandom::Error);

/// Length of a secret's selector: 16 hex digits of the time of issue.
pub const SELECTOR_LEN: usize = 16;

/// Length of a secret made by [`generate`]: the selector, then 32 random
/// bytes in base64url (43 characters).
pub const SECRET_LEN: usize = SELECTOR_LEN + 43;

/// The last time stamp handed out, so that two in the same nanosecond (or
/// after the clock stepped back) still increase.
static LAST_NANOS: AtomicU64 = AtomicU64::new(0);

/// Nanoseconds since the epoch, strictly increasing within the process.
fn ordered_nanos() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let previous = LAST_NANOS
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(now.max(last.saturating_add(1)))
        })
        // The closure always returns `Some`.
        .unwrap_or_else(|last| last);
    now.max(previous.saturating_add(1))
}

/// A new secret: a 16-hex-digit time-ordered selector (not secret), then
/// 32 bytes from the OS generator in base64url without padding; 59
/// characters in all, valid as an RFC 6750 token68. See the module
/// documentation for why it starts with a time stamp.
///
/// # Errors
/// [`RandomError`] if the OS generator fails.
pub fn generate() -> Result<String, RandomError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(RandomError)?;
    let mut out = String::with_capacity(SECRET_LEN);
    out.push_str(&format!("{:016x}", ordered_nanos()));
    URL_SAFE_NO_PAD.encode_string(bytes, &mut out);
    Ok(out)
}

/// A new identifier that is unique and increases with time: 16 hex digits
/// of nanoseconds since the epoch (strictly increasing within the process),
/// then 16 random hex digits. Not a secret; its order keeps index inserts at
/// the end of the B-tree.
///
/// # Errors
/// [`RandomError`] if the OS generator fails.
pub fn ordered_id() -> Result<String, RandomError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(RandomError)?;
    Ok(format!(
        "{:016x}{:016x}",
        ordered_nanos(),
        u64::from_be_bytes(bytes)
    ))
}

/// What the store keeps instead of a secret: the secret's first
/// [`SELECTOR_LEN`] bytes (its time-ordered selector, zero-padded if the
/// secret is shorter), then the SHA-256 of the whole secret; 48 bytes.
///
/// The selector is a time stamp, not part of the secret's 256 random bits,
/// so keeping it in clear gives nothing away; it makes the stored key grow
/// with time, so every insert into an index over it lands at the right
/// edge of the B-tree. The random part is only ever stored hashed. Any
/// string has a hash (a secret presented by a client may be any garbage);
/// it just matches nothing. Equality is constant-time over all 48 bytes.
#[derive(Clone, Copy, Eq)]
pub struct SecretHash([u8; SecretHash::LEN]);

impl PartialEq for SecretHash {
    fn eq(&self, other: &Self) -> bool {
        self.matches_hash(other)
    }
}

// Consistent with `PartialEq`: equal hashes hash equally.
impl std::hash::Hash for SecretHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl SecretHash {
    /// Length in bytes: the selector, then the SHA-256 digest.
    pub const LEN: usize = SELECTOR_LEN + 32;

    /// The hash of `secret`.
    pub fn of(secret: &str) -> Self {
        Self::with_digest(secret, &Sha256::digest(secret.as_bytes()).into())
    }

    /// The hash of a presented bearer token, from the SHA-256 its
    /// [`BearerToken`](scope_runtime::BearerToken) already computed (once
    /// per request, shared with the validation cache): the same value as
    /// [`of`](Self::of) its text.
    pub fn of_bearer(token: &scope_runtime::BearerToken<'_>) -> Self {
        Self::with_digest(token.as_str(), token.digest())
    }

    /// `secret`'s selector with `digest`, which must be `secret`'s SHA-256
    /// (private: only [`of`](Self::of) and [`of_bearer`](Self::of_bearer)
    /// pair them).
    fn with_digest(secret: &str, digest: &[u8; 32]) -> Self {
        let mut out = [0u8; Self::LEN];
        let bytes = secret.as_bytes();
        let selector = &bytes[..bytes.len().min(SELECTOR_LEN)];
        out[..selector.len()].copy_from_slice(selector);
        out[SELECTOR_LEN..].copy_from_slice(digest);
        Self(out)
    }

    /// The SHA-256 of the secret: the hash without its selector.
    pub fn digest(&self) -> &[u8; 32] {
        self.0[SELECTOR_LEN..]
            .try_into()
            .expect("a SecretHash is its selector then 32 bytes")
    }

    /// Whether `secret` hashes to this value, compared in constant time.
    pub fn matches(&self, secret: &str) -> bool {
        self.matches_hash(&Self::of(secret))
    }

    /// Whether two hashes are equal, compared in constant time.
    pub fn matches_hash(&self, other: &SecretHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }

    /// Lower-case hex (96 digits).
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses [`SecretHash::to_hex`]'s output.
    pub fn from_hex(hex: &str) -> Option<Self> {
        if hex.len() != 2 * Self::LEN || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut out = [0u8; Self::LEN];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(out))
    }

    /// The stored form: selector, then digest.
    pub fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    /// A hash read back from storage.
    pub fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes)
    }

    /// A hash read back from storage, or `None` if `bytes` is not
    /// [`SecretHash::LEN`] long.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }
}

/// Never prints the hash either: a hash of a token is still worth keeping
/// out of logs.
impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// No randomness for the salt.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// argon2 refused the input.
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// The argon2id PHC string of `password`, with a random salt.
///
/// # Errors
/// [`PasswordError`] if no salt can be drawn or argon2 fails.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(RandomError)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `hash` (false for a malformed
/// hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_a_selector_then_random_token68() {
        let a = generate().expect("random");
        let b = generate().expect("random");
        assert_ne!(a, b);
        assert_eq!(a.len(), SECRET_LEN);
        assert_eq!(SECRET_LEN, 59);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        let (selector, random) = a.split_at(SELECTOR_LEN);
        assert!(
            selector
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(random).expect("base64url").len(), 32);
    }

    #[test]
    fn selectors_strictly_increase_even_in_one_nanosecond() {
        let secrets: Vec<String> = (0..10_000).map(|_| generate().expect("random")).collect();
        assert!(
            secrets
                .windows(2)
                .all(|w| w[0][..SELECTOR_LEN] < w[1][..SELECTOR_LEN])
        );
        // So do their stored hashes: inserts go to the end of an index.
        assert!(
            secrets
                .windows(2)
                .all(|w| SecretHash::of(&w[0]).as_bytes() < SecretHash::of(&w[1]).as_bytes())
        );
    }

    #[test]
    fn ordered_ids_increase() {
        let a = ordered_id().expect("random");
        let b = ordered_id().expect("random");
        std::thread::sleep(std::time::Duration::from_millis(1));
        let c = ordered_id().expect("random");
        assert!(a < b && b < c);
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn hashes_keep_the_selector_and_digest_the_whole_secret() {
        let s = generate().expect("random");
        let h = SecretHash::of(&s);
        assert_eq!(&h.as_bytes()[..SELECTOR_LEN], &s.as_bytes()[..SELECTOR_LEN]);
        assert_eq!(
            h.as_bytes()[SELECTOR_LEN..],
            Sha256::digest(s.as_bytes())[..]
        );
        // The same selector with another random part is another hash.
        let mut other = s.clone();
        other.replace_range(SECRET_LEN - 1.., if s.ends_with('A') { "B" } else { "A" });
        assert_ne!(SecretHash::of(&other), h);
        assert!(!h.matches(&other));
    }

    #[test]
    fn any_input_hashes_without_panicking() {
        for s in [
            "",
            "x",
            "短い",
            "0123456789abcde",
            "0123456789abcdef",
            "é".repeat(40).as_str(),
        ] {
            let h = SecretHash::of(s);
            assert!(h.matches(s));
            let n = s.len().min(SELECTOR_LEN);
            assert_eq!(&h.as_bytes()[..n], &s.as_bytes()[..n]);
            assert!(h.as_bytes()[n..SELECTOR_LEN].iter().all(|&b| b == 0));
        }
        assert_ne!(SecretHash::of(""), SecretHash::of("\0"));
    }

    #[test]
    fn a_known_digest_gives_the_same_hash() {
        let s = generate().expect("random");
        let token = scope_runtime::token::BearerToken::new(s.as_str());
        assert_eq!(
            SecretHash::with_digest(&s, token.digest()),
            SecretHash::of(&s)
        );
    }

    #[test]
    fn hashes_round_trip_and_compare() {
        let h = SecretHash::of("s3cret");
        assert!(h.matches("s3cret"));
        assert!(!h.matches("s3creT"));
        assert_eq!(h.to_hex().len(), 96);
        assert_eq!(SecretHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(SecretHash::from_hex("zz"), None);
        assert_eq!(SecretHash::from_hex(&"00".repeat(32)), None);
        assert_eq!(SecretHash::from_slice(h.as_bytes()), Some(h));
        assert_eq!(SecretHash::from_slice(&[0; 32]), None);
        assert_eq!(SecretHash::from_bytes(*h.as_bytes()), h);
        assert_eq!(format!("{h:?}"), "SecretHash(..)");
    }

    #[test]
    fn passwords_use_argon2id() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }
}
