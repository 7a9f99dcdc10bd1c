//! Secrets: generation, hashing at rest, constant-time comparison, and
//! passwords.
//!
//! Tokens, authorization codes and client secrets are 256 random bits, so a
//! fast hash is the right tool: they are stored only as their SHA-256
//! ([`SecretHash`]) and compared in constant time. User passwords are
//! low-entropy and get argon2id ([`hash_password`]).

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

/// A new random secret: 32 bytes from the OS generator, base64url without
/// padding (43 characters, valid as an RFC 6750 token68).
///
/// # Errors
/// [`RandomError`] if the OS generator fails.
pub fn generate() -> Result<String, RandomError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(RandomError)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// A new identifier that is unique and increases with time: 16 hex digits
/// of nanoseconds since the epoch, then 16 random hex digits. Not a secret;
/// its order keeps index inserts at the end of the B-tree.
///
/// # Errors
/// [`RandomError`] if the OS generator fails.
pub fn ordered_id() -> Result<String, RandomError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(RandomError)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Ok(format!(
        "{:016x}{:016x}",
        nanos as u64,
        u64::from_be_bytes(bytes)
    ))
}

/// The SHA-256 of a secret: what the store keeps instead of the secret.
/// Equality is constant-time.
#[derive(Clone, Copy, Eq)]
pub struct SecretHash([u8; 32]);

impl PartialEq for SecretHash {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

// Consistent with `PartialEq`: equal digests hash equally.
impl std::hash::Hash for SecretHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl SecretHash {
    /// The hash of `secret`.
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    /// Whether `secret` hashes to this value, compared in constant time.
    pub fn matches(&self, secret: &str) -> bool {
        self.matches_hash(&Self::of(secret))
    }

    /// Whether two digests are equal, compared in constant time.
    pub fn matches_hash(&self, other: &SecretHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }

    /// Lower-case hex, as stored.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses [`SecretHash::to_hex`]'s output.
    pub fn from_hex(hex: &str) -> Option<Self> {
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(out))
    }

    /// The raw digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A digest read back from storage.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
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
    fn secrets_are_random_token68() {
        let a = generate().expect("random");
        let b = generate().expect("random");
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn ordered_ids_increase() {
        let a = ordered_id().expect("random");
        std::thread::sleep(std::time::Duration::from_millis(1));
        let b = ordered_id().expect("random");
        assert!(a < b);
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn hashes_round_trip_and_compare() {
        let h = SecretHash::of("s3cret");
        assert!(h.matches("s3cret"));
        assert!(!h.matches("s3creT"));
        assert_eq!(SecretHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(SecretHash::from_hex("zz"), None);
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
