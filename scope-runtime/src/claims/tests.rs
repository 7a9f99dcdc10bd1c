use serde_json::json;

use super::*;

crate::scope_hierarchy! { pub Api { read { statuses, accounts }, write { statuses } } }

const BOTH: [Profile; 2] = [Profile::Introspection, Profile::AccessToken];

fn expected() -> Expected<'static> {
    Expected {
        issuer: Some("https://as.example"),
        audience: Some("https://api.example"),
        skew: DEFAULT_LEEWAY,
        grace: Duration::ZERO,
    }
}

fn now() -> f64 {
    seconds(SystemTime::now())
}

fn base() -> Value {
    json!({
        "iss": "https://as.example", "aud": "https://api.example", "sub": "42",
        "client_id": "app", "scope": "read:statuses write other:scope",
        "iat": now() as i64, "exp": now() as i64 + 600,
    })
}

fn read(profile: Profile, claims: &Value) -> Result<Principal<Api>, Refused> {
    let map = claims.as_object().expect("an object");
    Claims::new(map, profile).principal(&expected(), SystemTime::now())
}

fn with(change: impl FnOnce(&mut Map<String, Value>)) -> Value {
    let mut claims = base();
    change(claims.as_object_mut().expect("an object"));
    claims
}

#[test]
fn known_scopes_drop_the_others() {
    let scopes: ScopeSet<Api> = known_scopes(" read:statuses  admin:write other write ");
    assert_eq!(scopes, "read:statuses write".parse().expect("scopes"));
    assert!(known_scopes::<Api>("").is_empty());
}

#[test]
fn the_same_claims_mean_the_same_principal_to_both() {
    for profile in BOTH {
        let p = read(profile, &base()).expect("valid");
        assert_eq!(p.user_id(), Some("42"), "{profile:?}");
        assert_eq!(p.client_id(), "app");
        assert_eq!(p.scopes(), "read:statuses write".parse().expect("scopes"));
        // RFC 9068 §2.2: the client as its own subject is an app token; an
        // introspected `sub` is a user whatever it holds (RFC 7662 has no
        // such rule).
        let app = read(
            profile,
            &with(|c| drop(c.insert("sub".into(), json!("app")))),
        );
        assert_eq!(
            app.expect("valid").is_user(),
            profile == Profile::Introspection,
            "{profile:?}"
        );
        let many = with(|c| drop(c.insert("aud".into(), json!(["x", "https://api.example"]))));
        assert!(read(profile, &many).is_ok(), "{profile:?}");
    }
}

#[test]
fn iss_aud_and_dates_are_checked_by_both() {
    let t = now() as i64;
    for profile in BOTH {
        for (why, claims) in [
            (
                "iss",
                with(|c| drop(c.insert("iss".into(), json!("https://evil.example")))),
            ),
            ("no iss", with(|c| drop(c.remove("iss")))),
            (
                "aud",
                with(|c| drop(c.insert("aud".into(), json!("https://other.example")))),
            ),
            (
                "auds",
                with(|c| drop(c.insert("aud".into(), json!(["a", "b"])))),
            ),
            ("no aud", with(|c| drop(c.remove("aud")))),
            (
                "expired",
                with(|c| drop(c.insert("exp".into(), json!(t - 1)))),
            ),
            (
                "expired long ago",
                with(|c| drop(c.insert("exp".into(), json!(-5)))),
            ),
            (
                "huge exp",
                with(|c| drop(c.insert("exp".into(), json!(1e300)))),
            ),
        ] {
            assert_eq!(
                read(profile, &claims),
                Err(Refused::Invalid),
                "{profile:?}: {why}"
            );
        }
        // `nbf` and `iat` in the future: an access token is not valid yet;
        // an introspection answer does not read them (the server decided
        // `active` with its own clock).
        for (why, claims) in [
            (
                "nbf",
                with(|c| drop(c.insert("nbf".into(), json!(t + 120)))),
            ),
            (
                "iat",
                with(|c| drop(c.insert("iat".into(), json!(t + 120)))),
            ),
            (
                "iat text",
                with(|c| drop(c.insert("iat".into(), json!("now")))),
            ),
        ] {
            let answer = read(profile, &claims);
            match profile {
                Profile::AccessToken => assert!(answer.is_err(), "{why}"),
                Profile::Introspection => assert!(answer.is_ok(), "{why}: {answer:?}"),
            }
        }
        // Within the skew.
        let soon = with(|c| drop(c.insert("nbf".into(), json!(t + 5))));
        assert!(read(profile, &soon).is_ok(), "{profile:?}");
        let fractional = with(|c| drop(c.insert("exp".into(), json!(now() + 600.5))));
        assert!(read(profile, &fractional).is_ok(), "{profile:?}");
    }
}

#[test]
fn wrong_types_are_malformed_for_both() {
    for profile in BOTH {
        for (why, claims) in [
            (
                "aud number",
                with(|c| drop(c.insert("aud".into(), json!(7)))),
            ),
            (
                "exp text",
                with(|c| drop(c.insert("exp".into(), json!("soon")))),
            ),
            (
                "client_id",
                with(|c| drop(c.insert("client_id".into(), json!(7)))),
            ),
            ("no client_id", with(|c| drop(c.remove("client_id")))),
            (
                "scope",
                with(|c| drop(c.insert("scope".into(), json!(["read"])))),
            ),
            ("sub", with(|c| drop(c.insert("sub".into(), json!(42))))),
        ] {
            assert!(
                matches!(read(profile, &claims), Err(Refused::Malformed(_))),
                "{profile:?}: {why}"
            );
        }
    }
}

#[test]
fn what_only_an_access_token_requires() {
    let no_exp = with(|c| drop(c.remove("exp")));
    let no_sub = with(|c| drop(c.remove("sub")));
    let null_nbf = with(|c| drop(c.insert("nbf".into(), Value::Null)));
    for claims in [&no_exp, &no_sub, &null_nbf] {
        assert!(matches!(
            read(Profile::AccessToken, claims),
            Err(Refused::Malformed(_))
        ));
    }
    let p = read(Profile::Introspection, &no_exp).expect("exp is optional");
    assert_eq!(p.expiry(), None);
    assert!(
        !read(Profile::Introspection, &no_sub)
            .expect("sub too")
            .is_user()
    );
    assert!(read(Profile::Introspection, &null_nbf).is_ok());
    let username = with(|c| {
        c.remove("sub");
        c.insert("username".into(), json!("alice"));
    });
    let p = read(Profile::Introspection, &username).expect("username");
    assert_eq!(p.user_id(), Some("alice"));
}

#[test]
fn the_grace_extends_the_expiry() {
    let t = now() as i64;
    let claims = with(|c| drop(c.insert("exp".into(), json!(t - 5))));
    let map = claims.as_object().expect("object");
    let mut lenient = expected();
    lenient.grace = Duration::from_secs(30);
    let p: Principal<Api> = Claims::new(map, Profile::AccessToken)
        .principal(&lenient, SystemTime::now())
        .expect("within the grace");
    assert_eq!(
        p.expiry(),
        Some(UNIX_EPOCH + Duration::from_secs((t + 25) as u64))
    );
}
