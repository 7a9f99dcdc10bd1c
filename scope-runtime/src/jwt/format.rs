//! The wire format of JWT access tokens, shared by the signer
//! (`oauth-server`'s `jwt` module) and the verifier (`JwtValidator`,
//! feature `jwt`): the JOSE header, the RFC 9068 claims, the JWK of an
//! ES256 key and the key set, and the compact serialization. Needs the
//! `jwt-format` cargo feature (serde, p256 and base64; no HTTP), which
//! `jwt` turns on.
//!
//! This module only writes and takes apart the format: checking a
//! token's signature and claims, and fetching a key set, is the
//! validator's.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// The JWS algorithm of every token, the only one accepted: ECDSA P-256
/// with SHA-256 (RFC 7518 §3.4).
pub const ALGORITHM: &str = "ES256";

/// The `typ` header of an RFC 9068 access token.
pub const TOKEN_TYPE: &str = "at+jwt";

/// The JOSE header of a token (RFC 7515 §4).
///
/// Written as `{"alg":"ES256","kid":…,"typ":"at+jwt"}`. Read, a member
/// this type does not name is ignored, and a named one of the wrong type
/// (a `null` included) is an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Header {
    /// The algorithm: [`ALGORITHM`].
    pub alg: String,
    /// The id of the signing key.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub kid: Option<String>,
    /// The media type: [`TOKEN_TYPE`].
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub typ: Option<String>,
    /// Extensions the recipient must understand (RFC 7515 §4.1.11):
    /// never written; the verifier refuses a token that has any.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub crit: Option<Value>,
}

impl Header {
    /// The header of an access token signed with the key `kid`.
    pub fn access_token(kid: impl Into<String>) -> Self {
        Self {
            alg: ALGORITHM.into(),
            kid: Some(kid.into()),
            typ: Some(TOKEN_TYPE.into()),
            crit: None,
        }
    }

    /// Whether `typ` says an RFC 9068 access token: `at+jwt` or
    /// `application/at+jwt`, in any case (media types are case-insensitive,
    /// RFC 7515 §4.1.9).
    pub fn is_access_token(&self) -> bool {
        self.typ.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case(TOKEN_TYPE) || t.eq_ignore_ascii_case("application/at+jwt")
        })
    }
}

/// A member that is there must have its type: `null` is not "absent".
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// The claims of a JWT access token (RFC 9068 §2.2), as the bundled
/// `oauth-server` issues them. The validator reads them (and the claims
/// of other issuers: an `aud` array, fractional dates) with the
/// introspection validator's reader, `scope_runtime::claims`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AccessTokenClaims {
    /// The issuer.
    pub iss: String,
    /// The user id, or the client id for a token without a user.
    pub sub: String,
    /// The audience.
    pub aud: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// Issue time, Unix seconds.
    pub iat: i64,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// The id of the token's record in the store.
    pub jti: String,
}

impl AccessTokenClaims {
    /// The claims of a token; `sub` is `user_id`, or `client_id` when
    /// there is no user (RFC 9068 §2.2).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        iss: impl Into<String>,
        aud: impl Into<String>,
        client_id: impl Into<String>,
        user_id: Option<String>,
        scope: impl Into<String>,
        iat: i64,
        exp: i64,
        jti: impl Into<String>,
    ) -> Self {
        let client_id = client_id.into();
        Self {
            iss: iss.into(),
            sub: user_id.unwrap_or_else(|| client_id.clone()),
            aud: aud.into(),
            client_id,
            scope: scope.into(),
            iat,
            exp,
            jti: jti.into(),
        }
    }
}

/// The JWK of an EC P-256 public key (RFC 7517, RFC 7518 §6.2).
///
/// Written with its `kid`, `use: sig` and `alg: ES256`. Read, a JWK that
/// is not one (another `kty`, a member of the wrong type) fails to
/// deserialize; [`verifying_key`](Self::verifying_key) then refuses other
/// curves, uses and algorithms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Jwk {
    /// The key type: `EC`.
    pub kty: String,
    /// The curve: `P-256`.
    pub crv: String,
    /// The x coordinate, 32 bytes in base64url.
    pub x: String,
    /// The y coordinate, 32 bytes in base64url.
    pub y: String,
    /// The key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// What the key is for: `sig`.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// The algorithm it is used with: [`ALGORITHM`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
}

impl Jwk {
    /// The signing JWK of `key`, with `kid`.
    pub fn of(kid: impl Into<String>, key: &VerifyingKey) -> Self {
        let point = key.to_encoded_point(false);
        // An uncompressed point of a valid key always has both coordinates.
        let coordinate = |c: Option<&_>| c.map(|c| URL_SAFE_NO_PAD.encode(c));
        Self {
            kty: "EC".into(),
            crv: "P-256".into(),
            x: coordinate(point.x()).unwrap_or_default(),
            y: coordinate(point.y()).unwrap_or_default(),
            kid: Some(kid.into()),
            use_: Some("sig".into()),
            alg: Some(ALGORITHM.into()),
        }
    }

    /// The P-256 verification key, if this is an ES256 signing key: `EC`,
    /// `P-256`, `use` (if any) `sig`, `alg` (if any) `ES256`, and a point
    /// of the curve.
    pub fn verifying_key(&self) -> Option<VerifyingKey> {
        if self.kty != "EC" || self.crv != "P-256" {
            return None;
        }
        if self.use_.as_deref().is_some_and(|u| u != "sig")
            || self.alg.as_deref().is_some_and(|a| a != ALGORITHM)
        {
            return None;
        }
        let coordinate = |c: &str| URL_SAFE_NO_PAD.decode(c).ok().filter(|c| c.len() == 32);
        let mut sec1 = Vec::with_capacity(65);
        sec1.push(4); // uncompressed point
        sec1.extend(coordinate(&self.x)?);
        sec1.extend(coordinate(&self.y)?);
        VerifyingKey::from_sec1_bytes(&sec1).ok()
    }

    /// The RFC 7638 thumbprint: the SHA-256 of the required members in
    /// lexicographic order, without whitespace, in base64url.
    pub fn thumbprint(&self) -> String {
        let canonical = format!(
            r#"{{"crv":"{}","kty":"{}","x":"{}","y":"{}"}}"#,
            self.crv, self.kty, self.x, self.y
        );
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// The JWK as a JSON value.
    pub fn to_value(&self) -> Value {
        // Strings only: serializing cannot fail.
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// A JSON Web Key Set (RFC 7517 §5) as written: `{"keys": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    /// The set of `keys`.
    pub fn new(keys: Vec<Jwk>) -> Self {
        Self { keys }
    }

    /// The set as a JSON value.
    pub fn to_value(&self) -> Value {
        // Strings only: serializing cannot fail.
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// Signs `claims` (a JSON object) under `header` with `key`: the JWS
/// compact serialization (RFC 7515 §7.1), the signature as R || S, 64
/// bytes (RFC 7518 §3.4), not DER. Signatures are deterministic (RFC
/// 6979).
pub fn sign(key: &SigningKey, header: &Header, claims: &Value) -> String {
    // A struct of strings: serializing cannot fail.
    let header = serde_json::to_string(header).unwrap_or_default();
    let mut jws = URL_SAFE_NO_PAD.encode(header);
    jws.push('.');
    URL_SAFE_NO_PAD.encode_string(claims.to_string(), &mut jws);
    let signature: Signature = key.sign(jws.as_bytes());
    jws.push('.');
    URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut jws);
    jws
}

/// A compact JWS taken apart, nothing checked but its shape: private to
/// the crate, so that nothing reads claims whose signature the validator
/// has not checked.
#[cfg(feature = "jwt")]
#[derive(Debug, Clone)]
pub(crate) struct Jws<'t> {
    /// The header.
    pub(crate) header: Header,
    /// `header.payload`, what the signature covers.
    pub(crate) signing_input: &'t str,
    /// The payload, base64url.
    pub(crate) payload: &'t str,
    /// The signature.
    pub(crate) signature: Signature,
}

#[cfg(feature = "jwt")]
impl<'t> Jws<'t> {
    /// Splits `token` into its three base64url parts and reads its header
    /// and signature; `None` unless it has exactly three parts (a JWE has
    /// five), a header of [`Header`]'s shape and a 64-byte signature.
    pub(crate) fn parse(token: &'t str) -> Option<Self> {
        let (signing_input, signature) = token.rsplit_once('.')?;
        let (header, payload) = signing_input.split_once('.')?;
        if payload.contains('.') {
            return None;
        }
        let header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
        let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).ok()?).ok()?;
        Some(Self {
            header,
            signing_input,
            payload,
            signature,
        })
    }

    /// The payload as a JSON object, `None` if it is not one (unverified:
    /// only the validator calls it, after the signature).
    pub(crate) fn unverified_claims(&self) -> Option<serde_json::Map<String, Value>> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(self.payload).ok()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_is_written_as_before_and_read_strictly() {
        let written = serde_json::to_string(&Header::access_token("k1")).expect("json");
        assert_eq!(written, r#"{"alg":"ES256","kid":"k1","typ":"at+jwt"}"#);
        let read = |json: &str| serde_json::from_str::<Header>(json).ok();
        assert!(read(r#"{"alg":"ES256","typ":"at+jwt","x":1}"#).is_some());
        assert!(read(r#"{"alg":"ES256","typ":"at+jwt","kid":null}"#).is_none());
        assert!(read(r#"{"alg":"ES256","typ":"at+jwt","kid":1}"#).is_none());
        assert!(read(r#"{"typ":"at+jwt"}"#).is_none());
        let crit = read(r#"{"alg":"ES256","typ":"at+jwt","crit":null}"#);
        assert!(
            crit.is_some_and(|h| h.crit.is_some()),
            "a null crit is there"
        );
    }

    #[test]
    fn a_jwk_round_trips() {
        let key = SigningKey::from_slice(&[7; 32]).expect("scalar");
        let jwk = Jwk::of("k", key.verifying_key());
        let value = jwk.to_value();
        assert_eq!(value["use"], "sig");
        assert_eq!(value["alg"], ALGORITHM);
        let read: Jwk = serde_json::from_value(value).expect("a jwk");
        assert_eq!(read.verifying_key(), Some(*key.verifying_key()));
        assert_eq!(read.thumbprint().len(), 43);
    }

    #[cfg(feature = "jwt")]
    #[test]
    fn a_signed_token_parses() {
        let key = SigningKey::from_slice(&[7; 32]).expect("scalar");
        let token = sign(
            &key,
            &Header::access_token("k"),
            &serde_json::json!({"a": 1}),
        );
        let jws = Jws::parse(&token).expect("a jws");
        assert!(jws.header.is_access_token());
        assert_eq!(jws.unverified_claims().expect("claims")["a"], 1);
        use p256::ecdsa::signature::Verifier as _;
        key.verifying_key()
            .verify(jws.signing_input.as_bytes(), &jws.signature)
            .expect("verifies");
        assert!(Jws::parse(&format!("{token}.x.y")).is_none());
    }
}
