//! JWT access tokens (RFC 9068): the signing keys, their rotation, and the
//! JSON Web Key Set the server publishes.
//!
//! With [`Config::jwt_access_tokens`](crate::config::Config::jwt_access_tokens)
//! the token endpoint issues access tokens that a resource server can
//! validate on its own, with the public keys of `GET /.well-known/jwks.json`
//! (listed as `jwks_uri` in the RFC 8414 metadata) and no call to this
//! server per request: `scope_runtime::jwt::JwtValidator` does that.
//!
//! ```no_run
//! use oauth_server::config::Config;
//! use oauth_server::jwt::{KeySet, SigningKey};
//!
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // Every instance of the server loads the same key (PKCS#8 or SEC1 PEM):
//! // openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out jwt.pem
//! let keys = KeySet::new(SigningKey::from_pem_file("jwt.pem")?);
//! let config = Config::new("https://pod.example")
//!     .jwt_access_tokens(keys.clone())
//!     .jwt_audience("https://api.pod.example");
//! # let _ = config;
//!
//! // Later, rotation: new tokens are signed with the new key; tokens signed
//! // with the old one stay valid while the old key is published.
//! let old_kid = keys.rotate(SigningKey::generate()?);
//! // Once every token of the old key has expired (the access-token
//! // lifetime after the rotation), stop publishing it.
//! keys.retire(&old_kid);
//! # Ok(()) }
//! ```
//!
//! # The token
//!
//! Header `{"alg":"ES256","kid":…,"typ":"at+jwt"}`; claims `iss` (the
//! issuer), `sub` (the user id, or the client id for a client-credentials
//! token, RFC 9068 §2.2), `aud` (the configured audience, the issuer by
//! default), `client_id`, `scope`, `iat`, `exp` and `jti` (the id of the
//! token's record in the store). Refresh tokens stay opaque.
//!
//! # Revocation
//!
//! The store keeps a JWT access token like any other: as the
//! [`SecretHash`](crate::secret::SecretHash) of the whole token (so the
//! revoke and introspection endpoints and the in-process
//! [`StoreValidator`](crate::validator::StoreValidator) treat it like an
//! opaque token, with no second lookup path). Revocation therefore works
//! for every validator that asks the store or the introspection endpoint,
//! and **not** for a resource server validating the signature locally: to
//! it the token is valid until `exp`. Keep JWT lifetimes short
//! ([`Config::access_token_lifetime`](crate::config::Config::access_token_lifetime),
//! minutes rather than Mastodon's 10 hours; refresh tokens renew them), or
//! use introspection where a revocation must take effect at once.
//!
//! One cost of storing the hash of the whole token: the
//! [`SecretHash`](crate::secret::SecretHash) selector of a JWT is the start
//! of its header, the same for every token of a key, so JWT inserts land at
//! random places of the access-token index instead of its right edge.
//!
//! # Why ES256
//!
//! ECDSA P-256 with SHA-256 (RFC 7518 §3.4) is verified by every JOSE
//! library and by WebCrypto, so resource servers in any language can use
//! the JWKS; `p256` is pure Rust (no C or assembly toolchain, unlike
//! `ring` or `aws-lc-rs`). Signatures are deterministic (RFC 6979): signing
//! draws no randomness.

use std::sync::{Arc, RwLock};

use p256::ecdsa::VerifyingKey;
use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, LineEnding};
use scope_runtime::jwt::format::{self, Header, Jwk, JwkSet};
use serde::Serialize;
use serde_json::Value;

/// The wire format, shared with the verifier (`scope_runtime::jwt`): the
/// algorithm, the `typ` header, and the claims this server signs.
pub use scope_runtime::jwt::format::{ALGORITHM, AccessTokenClaims, TOKEN_TYPE};

/// Why a key could not be made, loaded or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The bytes or the PEM document are not a P-256 private key.
    #[error("not a P-256 private key: {0}")]
    Invalid(String),
    /// The key file could not be read.
    #[error("cannot read the key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// No randomness for a new key.
    #[error("the system random number generator failed: {0}")]
    Random(String),
    /// The claims are not a JSON object.
    #[error("the claims of a JWT must serialize to a JSON object: {0}")]
    Claims(String),
}

/// A P-256 private key and its key id.
///
/// The key id (`kid`) is the key's RFC 7638 JWK thumbprint unless
/// [`with_kid`](Self::with_kid) sets another: the same key loaded by two
/// instances of the server has the same id. `Debug` shows the id only.
#[derive(Clone)]
pub struct SigningKey {
    key: p256::ecdsa::SigningKey,
    kid: Arc<str>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key, from the operating system's generator.
    ///
    /// # Errors
    /// [`KeyError::Random`] if the generator fails.
    pub fn generate() -> Result<Self, KeyError> {
        // A 32-byte string is a valid scalar unless it is zero or at least
        // the group order: a chance of about 2^-128 each time.
        loop {
            let mut bytes = p256::elliptic_curve::zeroize::Zeroizing::new([0u8; 32]);
            getrandom::fill(bytes.as_mut()).map_err(|e| KeyError::Random(e.to_string()))?;
            if let Ok(key) = p256::ecdsa::SigningKey::from_slice(bytes.as_ref()) {
                return Ok(Self::from_key(key));
            }
        }
    }

    /// The key whose secret scalar is `bytes`: 32 bytes, big-endian.
    ///
    /// # Errors
    /// [`KeyError::Invalid`] for another length, zero, or a value not
    /// below the group order.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() != 32 {
            return Err(KeyError::Invalid(format!(
                "a P-256 secret scalar is 32 bytes, not {}",
                bytes.len()
            )));
        }
        p256::ecdsa::SigningKey::from_slice(bytes)
            .map(Self::from_key)
            .map_err(|_| {
                KeyError::Invalid("the scalar is zero or not below the group order".into())
            })
    }

    /// The key of a PEM document: PKCS#8 (`BEGIN PRIVATE KEY`, what
    /// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`
    /// writes) or SEC1 (`BEGIN EC PRIVATE KEY`, `openssl ecparam -genkey
    /// -name prime256v1`). Other blocks in the document (the `EC PARAMETERS`
    /// block `openssl ecparam` writes first without `-noout`, a certificate,
    /// comments) are skipped; the first private-key block is the key.
    ///
    /// # Errors
    /// [`KeyError::Invalid`] if it is neither, or a key of another curve.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let pkcs8 = pem_block(pem, "PRIVATE KEY");
        // Whichever comes first: both blocks are slices of `pem`.
        if let Some(block) = pem_block(pem, "EC PRIVATE KEY")
            .filter(|sec1| pkcs8.is_none_or(|pkcs8| sec1.as_ptr() < pkcs8.as_ptr()))
        {
            return p256::SecretKey::from_sec1_pem(block)
                .map(|k| Self::from_key(k.into()))
                .map_err(|_| KeyError::Invalid("malformed SEC1 PEM, or not a P-256 key".into()));
        }
        p256::ecdsa::SigningKey::from_pkcs8_pem(pkcs8.unwrap_or(pem))
            .map(Self::from_key)
            .map_err(|e| {
                KeyError::Invalid(format!(
                    "expected a PKCS#8 (BEGIN PRIVATE KEY) or SEC1 (BEGIN EC PRIVATE KEY) \
                     P-256 key: {e}"
                ))
            })
    }

    /// The key of a PEM file (see [`from_pem`](Self::from_pem)).
    ///
    /// # Errors
    /// [`KeyError::Io`] if the file cannot be read, else as
    /// [`from_pem`](Self::from_pem).
    pub fn from_pem_file(path: impl AsRef<std::path::Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let pem = p256::elliptic_curve::zeroize::Zeroizing::new(
            std::fs::read_to_string(path).map_err(|source| KeyError::Io {
                path: path.display().to_string(),
                source,
            })?,
        );
        Self::from_pem(&pem)
    }

    /// The key as a PKCS#8 PEM document, to keep a
    /// [generated](Self::generate) key for the next start. The key id is
    /// not part of it.
    ///
    /// # Errors
    /// [`KeyError::Invalid`] if encoding fails (it does not for a valid key).
    pub fn to_pem(&self) -> Result<p256::elliptic_curve::zeroize::Zeroizing<String>, KeyError> {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyError::Invalid(e.to_string()))
    }

    /// Uses `kid` as the key id instead of the thumbprint.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<Arc<str>>) -> Self {
        self.kid = kid.into();
        self
    }

    /// The key id, the `kid` of the tokens it signs and of its JWK.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK (RFC 7517, RFC 7518 §6.2), with its `kid`,
    /// `use: sig` and `alg: ES256`.
    pub fn public_jwk(&self) -> Value {
        Jwk::of(&*self.kid, self.key.verifying_key()).to_value()
    }

    fn from_key(key: p256::ecdsa::SigningKey) -> Self {
        // The thumbprint does not depend on the `kid` the JWK is given.
        let kid = Jwk::of("", key.verifying_key()).thumbprint().into();
        Self { key, kid }
    }
}

/// The first `-----BEGIN {label}-----` ... `-----END {label}-----` block of
/// a PEM document, boundaries included, or `None` if it has none.
fn pem_block<'a>(pem: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)?;
    let stop = start + pem[start..].find(&end)? + end.len();
    Some(&pem[start..stop])
}

/// The keys of the server: the one that signs new tokens, and older ones
/// still published so that the tokens they signed keep validating.
///
/// Clones share the keys: keep a clone to [`rotate`](Self::rotate) while
/// the server runs. `Debug` shows the key ids only.
#[derive(Clone)]
pub struct KeySet {
    keys: Arc<RwLock<Keys>>,
}

struct Keys {
    current: SigningKey,
    /// Retired from signing, still published; newest first.
    previous: Vec<(Arc<str>, VerifyingKey)>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = self.read();
        f.debug_struct("KeySet")
            .field("current", &keys.current.kid)
            .field(
                "previous",
                &keys.previous.iter().map(|(kid, _)| kid).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl KeySet {
    /// A key set signing with `current`.
    pub fn new(current: SigningKey) -> Self {
        Self {
            keys: Arc::new(RwLock::new(Keys {
                current,
                previous: Vec::new(),
            })),
        }
    }

    /// A key set with a new random key: fine for one process that may
    /// invalidate its JWTs when it restarts; load a key from a file
    /// otherwise.
    ///
    /// # Errors
    /// [`KeyError::Random`] if the generator fails.
    pub fn generate() -> Result<Self, KeyError> {
        SigningKey::generate().map(Self::new)
    }

    /// Signs new tokens with `next`; the key used so far stays published
    /// until [`retire`](Self::retire)d. Returns the id of that key.
    ///
    /// A resource server sees the new `kid` in the next token and fetches
    /// the JWKS again. Rotating to a key whose id is already published
    /// replaces the published one.
    pub fn rotate(&self, next: SigningKey) -> String {
        let mut keys = self.write();
        let old = std::mem::replace(&mut keys.current, next);
        let new_kid = Arc::clone(&keys.current.kid);
        keys.previous.retain(|(kid, _)| *kid != new_kid);
        if old.kid != new_kid {
            keys.previous
                .insert(0, (Arc::clone(&old.kid), *old.key.verifying_key()));
        }
        old.kid.to_string()
    }

    /// Stops publishing the previous key `kid`; the tokens it signed then
    /// fail validation once resource servers refetch the JWKS. Returns
    /// whether it was published. The current key cannot be retired:
    /// [`rotate`](Self::rotate) first.
    pub fn retire(&self, kid: &str) -> bool {
        let mut keys = self.write();
        let before = keys.previous.len();
        keys.previous.retain(|(k, _)| &**k != kid);
        keys.previous.len() != before
    }

    /// The id of the key that signs new tokens.
    pub fn current_kid(&self) -> String {
        self.read().current.kid.to_string()
    }

    /// The ids of every published key, the current one first.
    pub fn kids(&self) -> Vec<String> {
        let keys = self.read();
        std::iter::once(&keys.current.kid)
            .chain(keys.previous.iter().map(|(kid, _)| kid))
            .map(ToString::to_string)
            .collect()
    }

    /// The JSON Web Key Set (RFC 7517 §5) of every published public key,
    /// the current one first: the body of `GET /.well-known/jwks.json`.
    pub fn jwks(&self) -> Value {
        let keys = self.read();
        let current = &keys.current;
        let mut all = vec![Jwk::of(&*current.kid, current.key.verifying_key())];
        all.extend(keys.previous.iter().map(|(kid, key)| Jwk::of(&**kid, key)));
        JwkSet::new(all).to_value()
    }

    /// Signs `claims` with the current key as a JWS compact serialization
    /// with the header `{"alg":"ES256","kid":…,"typ":"at+jwt"}`. The token
    /// endpoint signs [`AccessTokenClaims`]; other claims (a test's, a
    /// migration's) are signed as given, unchecked.
    ///
    /// # Errors
    /// [`KeyError::Claims`] if `claims` does not serialize to a JSON object.
    pub fn sign(&self, claims: &impl Serialize) -> Result<String, KeyError> {
        let claims = serde_json::to_value(claims).map_err(|e| KeyError::Claims(e.to_string()))?;
        if !claims.is_object() {
            return Err(KeyError::Claims("not an object".into()));
        }
        let key = self.read().current.clone();
        Ok(format::sign(
            &key.key,
            &Header::access_token(&*key.kid),
            &claims,
        ))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Keys> {
        // A poisoned lock only means a writer panicked; every write leaves
        // the keys consistent.
        self.keys.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Keys> {
        self.keys.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use p256::ecdsa::Signature;
    use p256::ecdsa::signature::Verifier as _;

    use super::*;

    fn decode(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("json")
    }

    fn key_of(jwk: &Value) -> VerifyingKey {
        let jwk: Jwk = serde_json::from_value(jwk.clone()).expect("a jwk");
        jwk.verifying_key().expect("an ES256 key")
    }

    #[test]
    fn tokens_verify_with_the_published_key() {
        let keys = KeySet::generate().expect("key");
        let claims =
            AccessTokenClaims::new("https://as", "https://as", "app", None, "read", 1, 2, "j");
        let token = keys.sign(&claims).expect("signed");
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = decode(parts[0]);
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["kid"], keys.current_kid().as_str());
        let payload = decode(parts[1]);
        assert_eq!(payload["sub"], "app", "sub is the client without a user");
        assert_eq!(payload["client_id"], "app");
        assert_eq!(payload["exp"], 2);

        let jwks = keys.jwks();
        let jwk = &jwks["keys"][0];
        assert_eq!(jwk["kid"], header["kid"]);
        assert!(jwk.get("d").is_none(), "never the private key");
        let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).expect("b64"))
            .expect("64 bytes");
        let input = format!("{}.{}", parts[0], parts[1]);
        key_of(jwk)
            .verify(input.as_bytes(), &signature)
            .expect("valid signature");
        let tampered = format!("{}.{}x", parts[0], parts[1]);
        assert!(key_of(jwk).verify(tampered.as_bytes(), &signature).is_err());
    }

    #[test]
    fn rotation_keeps_the_old_key_published_until_retired() {
        let keys = KeySet::generate().expect("key");
        let first = keys.current_kid();
        let second = SigningKey::generate().expect("key");
        let second_kid = second.kid().to_owned();
        assert_eq!(keys.rotate(second), first);
        assert_eq!(keys.current_kid(), second_kid);
        assert_eq!(keys.kids(), [second_kid.clone(), first.clone()]);
        assert_eq!(keys.jwks()["keys"].as_array().map(Vec::len), Some(2));
        assert!(!keys.retire(&second_kid), "the current key stays");
        assert!(keys.retire(&first));
        assert!(!keys.retire(&first));
        assert_eq!(keys.kids(), [second_kid]);
    }

    #[test]
    fn keys_load_from_pem_and_bytes_with_a_stable_kid() {
        let key = SigningKey::generate().expect("key");
        let pem = key.to_pem().expect("pem");
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let loaded = SigningKey::from_pem(&pem).expect("pkcs8");
        assert_eq!(loaded.kid(), key.kid(), "the thumbprint is the kid");
        assert_eq!(loaded.public_jwk(), key.public_jwk());
        let bytes = key.key.to_bytes();
        assert_eq!(
            SigningKey::from_bytes(&bytes).expect("bytes").kid(),
            key.kid()
        );
        assert_eq!(key.clone().with_kid("k1").kid(), "k1");
        assert!(!format!("{key:?}").contains(&URL_SAFE_NO_PAD.encode(bytes)));

        assert!(matches!(
            SigningKey::from_bytes(&[0; 32]),
            Err(KeyError::Invalid(_))
        ));
        assert!(matches!(
            SigningKey::from_bytes(&[1; 31]),
            Err(KeyError::Invalid(_))
        ));
        assert!(matches!(
            SigningKey::from_pem("nope"),
            Err(KeyError::Invalid(_))
        ));
        assert!(matches!(
            SigningKey::from_pem(
                "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"
            ),
            Err(KeyError::Invalid(_))
        ));
        assert!(matches!(
            SigningKey::from_pem_file("/nonexistent/jwt.pem"),
            Err(KeyError::Io { .. })
        ));
    }

    #[test]
    fn sec1_pem_loads() {
        // `openssl ecparam -genkey -name prime256v1 -noout`
        let pem = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIJ7eFznKSlxmmsupnnnfFdIKeVhhaTZw6FzT5YzoSDKBoAoGCCqGSM49
AwEHoUQDQgAERmb2whyiQbyC06/fFYP3SWrcydlE8oIvR5IxiNwEKu+Cxm0B/2Vk
NdFYIdi3aCQcur9Q8s5kj9d42+aWwOjCpA==
-----END EC PRIVATE KEY-----
";
        let key = SigningKey::from_pem(pem).expect("sec1");
        assert_eq!(key.kid().len(), 43, "a SHA-256 thumbprint");
        // `openssl ec -pubout`'s x coordinate.
        assert_eq!(
            key.public_jwk()["x"],
            "Rmb2whyiQbyC06_fFYP3SWrcydlE8oIvR5IxiNwEKu8"
        );

        // Without `-noout`, openssl writes the curve's parameters first.
        let with_parameters = format!(
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{pem}"
        );
        let same = SigningKey::from_pem(&with_parameters).expect("parameters block skipped");
        assert_eq!(same.kid(), key.kid());
    }

    #[test]
    fn pkcs8_pem_loads_among_other_blocks() {
        let key = SigningKey::generate().expect("key");
        let pem = key.to_pem().expect("pem");
        let bundle = format!(
            "# jwt signing key, rotated 2026-11\n{}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            &*pem
        );
        let loaded = SigningKey::from_pem(&bundle).expect("pkcs8 block found");
        assert_eq!(loaded.kid(), key.kid());
        // Two keys: the first one is the key, whatever its format.
        let sec1 = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIJ7eFznKSlxmmsupnnnfFdIKeVhhaTZw6FzT5YzoSDKBoAoGCCqGSM49
AwEHoUQDQgAERmb2whyiQbyC06/fFYP3SWrcydlE8oIvR5IxiNwEKu+Cxm0B/2Vk
NdFYIdi3aCQcur9Q8s5kj9d42+aWwOjCpA==
-----END EC PRIVATE KEY-----
";
        let pkcs8_first = format!("{}{sec1}", &*pem);
        assert_eq!(
            SigningKey::from_pem(&pkcs8_first).expect("two keys").kid(),
            key.kid()
        );
        let sec1_first = format!("{sec1}{}", &*pem);
        assert_ne!(
            SigningKey::from_pem(&sec1_first).expect("two keys").kid(),
            key.kid()
        );
        // A certificate alone is no key.
        assert!(matches!(
            SigningKey::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            Err(KeyError::Invalid(_))
        ));
        // An unterminated block is no key either.
        assert!(matches!(
            SigningKey::from_pem(&pem[..pem.len() - 30]),
            Err(KeyError::Invalid(_))
        ));
    }

    #[test]
    fn claims_must_be_an_object() {
        let keys = KeySet::generate().expect("key");
        assert!(matches!(keys.sign(&"text"), Err(KeyError::Claims(_))));
    }
}
