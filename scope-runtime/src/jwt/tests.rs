use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{Value, json};

use super::*;
use crate::claims::seconds;
use crate::token::{BearerToken, Principal, TokenError, TokenValidator};

crate::scope_hierarchy! { pub Api { read { statuses, accounts }, write { statuses } } }

const ISSUER: &str = "https://as.example";

fn key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).expect("scalar")
}

fn jwk(kid: &str, key: &SigningKey) -> Value {
    let point = key.verifying_key().to_encoded_point(false);
    json!({
        "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
        "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")),
        "y": URL_SAFE_NO_PAD.encode(point.y().expect("y")),
    })
}

fn sign(key: &SigningKey, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fn now() -> f64 {
    seconds(SystemTime::now())
}

fn claims() -> Value {
    json!({
        "iss": ISSUER, "aud": ISSUER, "sub": "42", "client_id": "app",
        "scope": "read:statuses write other:scope", "iat": now() as i64,
        "exp": now() as i64 + 600, "jti": "j1",
    })
}

fn header() -> Value {
    json!({ "alg": "ES256", "typ": "at+jwt", "kid": "k1" })
}

fn validator() -> JwtValidator<Api> {
    let jwks = Jwks::from_value(&json!({ "keys": [jwk("k1", &key(1))] })).expect("jwks");
    JwtValidator::with_jwks(jwks, ISSUER)
}

fn check(token: &str) -> Result<Principal<Api>, TokenError> {
    let answer = validator()
        .validate_now(&BearerToken::new(token))
        .expect("static keys answer at once");
    let again = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(validator().validate(&BearerToken::new(token)));
    assert_eq!(answer, again, "validate_now and validate agree");
    answer
}

fn with(change: impl FnOnce(&mut Value)) -> String {
    let mut c = claims();
    change(&mut c);
    sign(&key(1), &header(), &c)
}

#[test]
fn a_valid_token_is_its_principal() {
    let p = check(&sign(&key(1), &header(), &claims())).expect("valid");
    assert_eq!(p.user_id(), Some("42"));
    assert_eq!(p.client_id(), "app");
    assert_eq!(p.scopes(), "read:statuses write".parse().expect("scopes"));
    assert!(p.expiry().is_some_and(|at| at > SystemTime::now()));

    let app = check(&with(|c| c["sub"] = json!("app"))).expect("valid");
    assert!(!app.is_user(), "sub = client_id is an app token");
    let aud = check(&with(|c| c["aud"] = json!(["other", ISSUER]))).expect("valid");
    assert_eq!(aud.client_id(), "app");
}

#[test]
fn claims_are_checked() {
    let t = now() as i64;
    for (why, token) in [
        ("issuer", with(|c| c["iss"] = json!("https://evil.example"))),
        (
            "no issuer",
            with(|c| drop(c.as_object_mut().map(|o| o.remove("iss")))),
        ),
        (
            "audience",
            with(|c| c["aud"] = json!("https://other.example")),
        ),
        ("audiences", with(|c| c["aud"] = json!(["a", "b"]))),
        ("expired", with(|c| c["exp"] = json!(t - 31))),
        (
            "no exp",
            with(|c| drop(c.as_object_mut().map(|o| o.remove("exp")))),
        ),
        ("exp text", with(|c| c["exp"] = json!("soon"))),
        ("nbf", with(|c| c["nbf"] = json!(t + 120))),
        ("iat", with(|c| c["iat"] = json!(t + 120))),
        (
            "no sub",
            with(|c| drop(c.as_object_mut().map(|o| o.remove("sub")))),
        ),
        ("client_id", with(|c| c["client_id"] = json!(7))),
        ("scope", with(|c| c["scope"] = json!(["read"]))),
    ] {
        assert_eq!(check(&token), Err(TokenError::Invalid), "{why}");
    }
    // Within the leeway, and the principal lives as long.
    let late = check(&with(|c| c["exp"] = json!(t - 5))).expect("within the leeway");
    assert!(late.expiry().is_some_and(|at| at > SystemTime::now()));
    assert!(check(&with(|c| c["nbf"] = json!(t + 5))).is_ok());
}

#[test]
fn headers_and_signatures_are_checked() {
    let c = claims();
    let valid = sign(&key(1), &header(), &c);
    for typ in [
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "Application/AT+JWT",
    ] {
        let h = json!({ "alg": "ES256", "typ": typ, "kid": "k1" });
        assert!(check(&sign(&key(1), &h, &c)).is_ok(), "{typ}");
    }
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({ "alg": "none", "typ": "at+jwt", "kid": "k1" }).to_string()),
        URL_SAFE_NO_PAD.encode(c.to_string())
    );
    let (input, signature) = valid.rsplit_once('.').expect("jws");
    let (header_part, _) = input.split_once('.').expect("jws");
    let tampered_claims = format!(
        "{header_part}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(json!({ "scope": "read write" }).to_string())
    );
    let mut flipped = signature.to_owned().into_bytes();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    let flipped = format!("{input}.{}", String::from_utf8(flipped).expect("ascii"));
    for (why, token) in [
        ("alg none", unsigned),
        ("claims changed", tampered_claims),
        ("signature changed", flipped),
        ("other key", sign(&key(2), &header(), &c)),
        (
            "unknown kid",
            sign(
                &key(1),
                &json!({ "alg": "ES256", "typ": "at+jwt", "kid": "k9" }),
                &c,
            ),
        ),
        (
            "HS256",
            sign(
                &key(1),
                &json!({ "alg": "HS256", "typ": "at+jwt", "kid": "k1" }),
                &c,
            ),
        ),
        (
            "es256",
            sign(
                &key(1),
                &json!({ "alg": "es256", "typ": "at+jwt", "kid": "k1" }),
                &c,
            ),
        ),
        (
            "typ JWT",
            sign(
                &key(1),
                &json!({ "alg": "ES256", "typ": "JWT", "kid": "k1" }),
                &c,
            ),
        ),
        (
            "no typ",
            sign(&key(1), &json!({ "alg": "ES256", "kid": "k1" }), &c),
        ),
        (
            "crit",
            sign(
                &key(1),
                &json!({ "alg": "ES256", "typ": "at+jwt", "kid": "k1", "crit": ["exp"] }),
                &c,
            ),
        ),
        (
            "kid number",
            sign(
                &key(1),
                &json!({ "alg": "ES256", "typ": "at+jwt", "kid": 1 }),
                &c,
            ),
        ),
        ("padding", format!("{valid}=")),
        ("five parts", format!("{valid}.x.y")),
        ("two parts", input.to_owned()),
        ("empty", String::new()),
        (
            "opaque",
            "0123456789abcdefYW4gZXhhbXBsZSBvZiAzMiByYW5kb20gYnl0ZXMhISE".into(),
        ),
    ] {
        assert_eq!(check(&token), Err(TokenError::Invalid), "{why}");
    }
}

#[test]
fn a_token_without_kid_uses_the_only_key() {
    let h = json!({ "alg": "ES256", "typ": "at+jwt" });
    assert!(check(&sign(&key(1), &h, &claims())).is_ok());
    let two = Jwks::from_value(&json!({ "keys": [jwk("k1", &key(1)), jwk("k2", &key(2))] }))
        .expect("jwks");
    let v = JwtValidator::<Api>::with_jwks(two, ISSUER);
    assert_eq!(
        v.validate_now(&BearerToken::new(sign(&key(1), &h, &claims()))),
        Some(Err(TokenError::Invalid))
    );
    assert!(matches!(
        v.validate_now(&BearerToken::new(sign(
            &key(2),
            &json!({ "alg": "ES256", "typ": "at+jwt", "kid": "k2" }),
            &claims()
        ))),
        Some(Ok(_))
    ));
}

#[test]
fn key_sets_keep_es256_signing_keys_only() {
    let mut other_curve = jwk("c", &key(3));
    other_curve["crv"] = json!("P-384");
    let mut encryption = jwk("e", &key(4));
    encryption["use"] = json!("enc");
    let mut bad_point = jwk("p", &key(5));
    bad_point["y"] = bad_point["x"].clone();
    let jwks = Jwks::from_value(&json!({ "keys": [
        jwk("k1", &key(1)),
        { "kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB" },
        { "kty": "oct", "kid": "h", "k": "c2VjcmV0" },
        other_curve, encryption, bad_point,
        "not an object",
    ] }))
    .expect("jwks");
    assert_eq!(jwks.kids().collect::<Vec<_>>(), [Some("k1")]);
    assert!(Jwks::from_json(b"[]").is_err());
    assert!(Jwks::from_json(b"{\"keys\": {}}").is_err());
    assert!(Jwks::from_json(b"nope").is_err());
    assert!(
        Jwks::from_json(b"{\"keys\": []}")
            .expect("empty")
            .is_empty()
    );
}

#[tokio::test]
async fn an_unreachable_key_set_is_unavailable_but_garbage_is_invalid() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let v = JwtValidator::<Api>::new(
        format!("http://{addr}/jwks.json").parse().expect("url"),
        ISSUER,
    );
    let token = sign(&key(1), &header(), &claims());
    assert_eq!(
        v.validate_now(&BearerToken::new(&token)),
        None,
        "the keys must be fetched"
    );
    let Err(TokenError::Unavailable(message)) = v.validate(&BearerToken::new(&token)).await else {
        panic!("a connection error is Unavailable");
    };
    assert!(message.contains(&addr.to_string()), "{message}");
    assert!(!message.contains(&token), "{message}");
    // Within the refetch interval: the same answer, no new attempt.
    assert!(matches!(
        v.validate(&BearerToken::new(&token)).await,
        Err(TokenError::Unavailable(_))
    ));
    assert_eq!(
        v.validate_now(&BearerToken::new("garbage")),
        Some(Err(TokenError::Invalid))
    );
    assert_eq!(
        v.validate(&BearerToken::new("garbage")).await,
        Err(TokenError::Invalid)
    );
}

#[test]
fn what_the_signer_writes_the_validator_reads() {
    let t = now() as i64;
    let claims = format::AccessTokenClaims::new(
        ISSUER,
        ISSUER,
        "app",
        Some("42".into()),
        "read:statuses other:scope",
        t,
        t + 600,
        "j1",
    );
    let claims = serde_json::to_value(&claims).expect("claims");
    let token = format::sign(&key(1), &format::Header::access_token("k1"), &claims);
    let p = check(&token).expect("valid");
    assert_eq!(p.user_id(), Some("42"));
    assert_eq!(p.scopes(), "read:statuses".parse().expect("scopes"));
    let app = format::AccessTokenClaims::new(ISSUER, ISSUER, "app", None, "read", t, t + 600, "j2");
    let app = serde_json::to_value(&app).expect("claims");
    let token = format::sign(&key(1), &format::Header::access_token("k1"), &app);
    assert!(!check(&token).expect("valid").is_user());
}
