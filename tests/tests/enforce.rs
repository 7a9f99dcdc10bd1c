//! The enforcement layer through `oneshot`: every token kind, combinator,
//! the resource rule, deny-by-default routing and the RFC 6750 error shapes.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode};
use common::{Api, Scope, tokens};
use scope_runtime::enforce::{AnonymousAccess, Enforcer, ErrorStyle};
use scope_runtime::route::{Access, Method, Requirement, RouteTable};
use scope_runtime::{Principal, TokenError};
use tower::ServiceExt;

fn app() -> Router {
    Api::router(Enforcer::new(tokens()))
}

struct Reply {
    status: StatusCode,
    challenge: Option<String>,
    body: String,
}

async fn send(app: Router, method: &str, path: &str, token: Option<&str>, body: &str) -> Reply {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .expect("request");
    reply(app.oneshot(request).await.expect("infallible")).await
}

async fn reply(response: axum::response::Response) -> Reply {
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    Reply {
        status,
        challenge,
        body: String::from_utf8(bytes.to_vec()).expect("utf-8"),
    }
}

/// (method, path, token, expected status) for every kind of route.
const MATRIX: &[(&str, &str, Option<&str>, u16)] = &[
    // token = optional: anonymous passes, a sent token is checked.
    ("GET", "/api/v1/statuses/1", None, 200),
    ("GET", "/api/v1/statuses/1", Some("read-statuses"), 200),
    ("GET", "/api/v1/statuses/1", Some("read"), 200),
    ("GET", "/api/v1/statuses/1", Some("write"), 403),
    ("GET", "/api/v1/statuses/1", Some("bogus"), 401),
    // any(..): either scope, or a parent.
    (
        "GET",
        "/api/v1/accounts/relationships",
        Some("read-follows"),
        200,
    ),
    (
        "GET",
        "/api/v1/accounts/relationships",
        Some("read-accounts"),
        200,
    ),
    ("GET", "/api/v1/accounts/relationships", Some("read"), 200),
    ("GET", "/api/v1/accounts/relationships", Some("follow"), 200),
    (
        "GET",
        "/api/v1/accounts/relationships",
        Some("read-statuses"),
        403,
    ),
    ("GET", "/api/v1/accounts/relationships", None, 401),
    // all(..): both scopes.
    ("GET", "/api/v2/suggestions", Some("read"), 200),
    ("GET", "/api/v2/suggestions", Some("read-accounts"), 403),
    ("GET", "/api/v2/suggestions", Some("read-follows"), 403),
    // token = app.
    ("POST", "/api/v1/accounts", Some("app-write"), 200),
    ("POST", "/api/v1/accounts", Some("write"), 403),
    ("POST", "/api/v1/accounts", Some("app-read"), 403),
    // public: no token needed, a bad one is not even looked at.
    ("GET", "/api/v1/instance", None, 200),
    ("GET", "/api/v1/instance", Some("bogus"), 200),
    // resource rule: GET = read:, POST/DELETE = write:.
    ("GET", "/api/v1/playlists/", Some("read-playlists"), 200),
    ("POST", "/api/v1/playlists/", Some("read-playlists"), 403),
    ("POST", "/api/v1/playlists/", Some("write-playlists"), 200),
    ("GET", "/api/v1/playlists/", Some("write-playlists"), 403),
    ("DELETE", "/api/v1/playlists/7/", Some("write"), 200),
    ("DELETE", "/api/v1/playlists/7/", Some("read"), 403),
    ("HEAD", "/api/v1/playlists/", Some("read-playlists"), 200),
    // token = required (the default), with the principal extracted.
    (
        "GET",
        "/api/v1/accounts/verify_credentials",
        Some("read"),
        200,
    ),
    (
        "GET",
        "/api/v1/accounts/verify_credentials",
        Some("app-read"),
        200,
    ),
    (
        "GET",
        "/api/v1/accounts/verify_credentials",
        Some("expired"),
        401,
    ),
    // token = setting, anonymous denied by default.
    ("GET", "/api/v1/tracks/", None, 401),
    ("GET", "/api/v1/tracks/", Some("read"), 200),
    // Routing itself: unknown paths and methods are not routes.
    ("GET", "/api/v1/unknown", Some("read"), 404),
    ("PUT", "/api/v1/playlists/", Some("write"), 405),
];

#[tokio::test]
async fn every_token_kind_combinator_and_rule() {
    let app = app();
    let mut failures = Vec::new();
    for (method, path, token, expected) in MATRIX {
        let got = send(app.clone(), method, path, *token, "").await.status;
        if got.as_u16() != *expected {
            failures.push(format!(
                "{method} {path} with {token:?}: got {got}, expected {expected}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn missing_token_gets_a_bare_challenge() {
    let r = send(app(), "GET", "/api/v1/accounts/relationships", None, "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.challenge.as_deref(), Some("Bearer"));
    let body: serde_json::Value = serde_json::from_str(&r.body).expect("json body");
    assert_eq!(body["error"], "invalid_token");
}

#[tokio::test]
async fn invalid_token_gets_invalid_token() {
    let r = send(
        app(),
        "GET",
        "/api/v1/accounts/relationships",
        Some("nope"),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.challenge.as_deref(),
        Some("Bearer error=\"invalid_token\", error_description=\"The access token is invalid\"")
    );
    assert_eq!(
        r.body,
        r#"{"error":"invalid_token","error_description":"The access token is invalid"}"#
    );
}

#[tokio::test]
async fn insufficient_scope_lists_what_would_satisfy_the_route() {
    let r = send(
        app(),
        "GET",
        "/api/v1/accounts/relationships",
        Some("read-statuses"),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let challenge = r.challenge.expect("challenge");
    assert!(
        challenge.starts_with("Bearer error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(
        challenge.ends_with("scope=\"read:follows read:accounts\""),
        "{challenge}"
    );
    let body: serde_json::Value = serde_json::from_str(&r.body).expect("json body");
    assert_eq!(body["error"], "insufficient_scope");
    assert_eq!(body["scope"], "read:follows read:accounts");
}

#[tokio::test]
async fn scope_is_checked_before_the_body_is_read() {
    // A malformed body with a token lacking the scope: 403, not a JSON error.
    let r = send(app(), "POST", "/api/v1/statuses", Some("read"), "{not json").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // With the scope, the handler's extractor runs and refuses the body.
    let r = send(
        app(),
        "POST",
        "/api/v1/statuses",
        Some("write"),
        "{not json",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = send(
        app(),
        "POST",
        "/api/v1/statuses",
        Some("write"),
        r#"{"status":"hi"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body, "alice posted \"hi\"");
}

#[tokio::test]
async fn user_routes_refuse_app_tokens() {
    let r = send(app(), "POST", "/api/v1/statuses", Some("app-write"), "{}").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.body
            .contains("This method requires an authenticated user")
    );
}

#[tokio::test]
async fn mastodon_error_style() {
    let app = Api::router(Enforcer::new(tokens()).error_style(ErrorStyle::Mastodon));
    let r = send(
        app.clone(),
        "GET",
        "/api/v2/suggestions",
        Some("read-accounts"),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.body,
        r#"{"error":"This action is outside the authorized scopes"}"#
    );
    let r = send(app.clone(), "GET", "/api/v2/suggestions", None, "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body, r#"{"error":"The access token is invalid"}"#);
    let r = send(app, "POST", "/api/v1/statuses", Some("app-write"), "{}").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.body,
        r#"{"error":"This method requires an authenticated user"}"#
    );
}

#[tokio::test]
async fn realm_is_part_of_every_challenge() {
    let app = Api::router(Enforcer::new(tokens()).realm("pod").expect("valid realm"));
    let r = send(app.clone(), "GET", "/api/v2/suggestions", None, "").await;
    assert_eq!(r.challenge.as_deref(), Some("Bearer realm=\"pod\""));
    assert!(Enforcer::new(tokens()).realm("a\"b").is_err());
    assert!(Enforcer::new(tokens()).realm("line\nbreak").is_err());
}

#[tokio::test]
async fn anonymous_access_follows_the_runtime_setting() {
    let switch = AnonymousAccess::new(false);
    let app = Api::router(Enforcer::new(tokens()).anonymous_access(switch.clone()));
    assert_eq!(
        send(app.clone(), "GET", "/api/v1/tracks/", None, "")
            .await
            .status,
        401
    );
    switch.set(true);
    assert_eq!(
        send(app.clone(), "GET", "/api/v1/tracks/", None, "")
            .await
            .status,
        200
    );
    // A sent token is still checked while anonymous access is allowed.
    assert_eq!(
        send(app.clone(), "GET", "/api/v1/tracks/", Some("write"), "")
            .await
            .status,
        403
    );
    assert_eq!(
        send(app.clone(), "GET", "/api/v1/tracks/", Some("bogus"), "")
            .await
            .status,
        401
    );
    switch.set(false);
    assert_eq!(
        send(app, "GET", "/api/v1/tracks/", None, "").await.status,
        401
    );
}

#[tokio::test]
async fn malformed_authorization_headers_are_clean_401s() {
    let cases: Vec<Vec<HeaderValue>> = vec![
        vec![HeaderValue::from_static("Bearer a b")],
        vec![
            HeaderValue::from_static("Bearer read"),
            HeaderValue::from_static("Bearer write"),
        ],
        vec![HeaderValue::from_bytes(b"Bearer \xc3\xa9t\xc3\xa9").expect("bytes")],
        vec![HeaderValue::from_str(&format!("Bearer {}", "x".repeat(10 * 1024))).expect("long")],
        vec![HeaderValue::from_static("Bearer")],
        vec![HeaderValue::from_static("Bearer   ")],
    ];
    for values in cases {
        let mut request = Request::get("/api/v1/accounts/relationships");
        for v in &values {
            request = request.header("authorization", v.clone());
        }
        let response = app()
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        let r = reply(response).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{values:?}");
        assert!(
            r.challenge.expect("challenge").contains("invalid_token"),
            "{values:?}"
        );
    }
    // Another scheme is no bearer credential: a bare challenge.
    let request = Request::get("/api/v1/accounts/relationships")
        .header("authorization", "Basic dXNlcjpwYXNz")
        .body(Body::empty())
        .expect("request");
    let r = reply(app().oneshot(request).await.expect("infallible")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.challenge.as_deref(), Some("Bearer"));
}

#[tokio::test]
async fn validator_outage_is_a_503_not_a_401() {
    let down = |_token: String| async {
        Err::<Principal<Scope>, _>(TokenError::Unavailable("db down".into()))
    };
    let app = Api::router(Enforcer::new(down));
    let r = send(app, "GET", "/api/v2/suggestions", Some("read"), "").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.challenge.is_none());
}

#[tokio::test]
async fn revoked_tokens_stop_working() {
    let tokens = tokens();
    let app = Api::router(Enforcer::new(tokens.clone()));
    assert_eq!(
        send(app.clone(), "GET", "/api/v2/suggestions", Some("read"), "")
            .await
            .status,
        200
    );
    assert!(tokens.revoke("read"));
    assert_eq!(
        send(app, "GET", "/api/v2/suggestions", Some("read"), "")
            .await
            .status,
        401
    );
}

#[test]
fn the_table_is_static_and_complete() {
    let routes = Api::ROUTES;
    assert_eq!(routes.len(), 11);
    let find = |m: Method, p: &str| {
        routes
            .iter()
            .find(|r| r.method() == m && r.path() == p)
            .unwrap_or_else(|| panic!("{m} {p}"))
    };
    let post = find(Method::Post, "/api/v1/statuses");
    assert_eq!(post.requirement(), Requirement::Scope(Scope::WriteStatuses));
    assert_eq!(post.access(), Access::User);
    assert_eq!(post.handler(), "post_status");
    assert_eq!(post.summary(), "Post a new status.");
    assert_eq!(
        find(Method::Get, "/api/v1/accounts/relationships").requirement(),
        Requirement::AnyOf(&[Scope::ReadFollows, Scope::ReadAccounts])
    );
    assert_eq!(
        find(Method::Get, "/api/v1/instance").access(),
        Access::Public
    );
    assert_eq!(
        find(Method::Get, "/api/v1/instance").requirement(),
        Requirement::None
    );
    assert_eq!(
        find(Method::Delete, "/api/v1/playlists/{id}/").requirement(),
        Requirement::Scope(Scope::WritePlaylists)
    );
    assert_eq!(
        find(Method::Get, "/api/v1/tracks/").access(),
        Access::Setting
    );
}

/// A validator with no synchronous answer: every request goes through the
/// awaited path of the layer.
fn async_only() -> Enforcer<Scope> {
    let tokens = tokens();
    Enforcer::new(move |token: String| {
        let tokens = tokens.clone();
        async move {
            tokio::task::yield_now().await;
            scope_runtime::TokenValidator::validate(
                &tokens,
                &scope_runtime::token::BearerToken::new(token),
            )
            .await
        }
    })
}

#[tokio::test]
async fn the_awaited_validation_path_allows_refuses_and_extracts() {
    let app = Api::router(async_only());
    let r = send(
        app.clone(),
        "GET",
        "/api/v1/accounts/verify_credentials",
        Some("read"),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, "alice");
    let r = send(
        app.clone(),
        "GET",
        "/api/v2/suggestions",
        Some("read-accounts"),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(
        app.clone(),
        "POST",
        "/api/v1/statuses",
        Some("write"),
        r#"{"status":"x"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = send(
        app.clone(),
        "GET",
        "/api/v1/statuses/1",
        Some("read-statuses"),
        "",
    )
    .await;
    assert_eq!(r.body, "status for app1");
    let r = send(app, "GET", "/api/v2/suggestions", Some("bogus"), "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn expired_tokens_are_refused_whatever_the_validator_says() {
    // A validator that forgets to check expiry.
    let careless = |_token: String| async {
        Ok::<_, TokenError>(
            Principal::<Scope>::user("alice", "app1", "read".parse().expect("scope"))
                .expires_at(std::time::SystemTime::now() - std::time::Duration::from_secs(3600)),
        )
    };
    let app = Api::router(Enforcer::new(careless));
    let r = send(app, "GET", "/api/v2/suggestions", Some("anything"), "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.challenge.expect("challenge").contains("invalid_token"));
}

mod extractor_style {
    //! A handler that takes `Principal<_>` on a route letting anonymous
    //! requests through is answered in the enforcer's style, not the
    //! default one.
    use super::*;
    use scope_runtime::enforce::AuthError;
    use scope_runtime::{requires_scope, scope_routes};

    #[requires_scope("read:statuses", token = optional)]
    async fn needs_principal(principal: Principal<Scope>) -> String {
        principal.client_id().to_owned()
    }

    scope_routes! { Optional<Scope> { GET "/optional" => needs_principal } }

    #[tokio::test]
    async fn a_missing_principal_is_refused_in_the_enforcers_style() {
        let enforcer = Enforcer::new(tokens()).error_style(ErrorStyle::Mastodon);
        let expected = reply(enforcer.reject(&AuthError::<Scope>::MissingToken)).await;
        let default_style =
            reply(Enforcer::new(tokens()).reject(&AuthError::<Scope>::MissingToken)).await;
        assert_ne!(expected.body, default_style.body, "the styles differ");

        let answer = send(Optional::router(enforcer), "GET", "/optional", None, "").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.body, expected.body);
        assert_eq!(answer.challenge, expected.challenge);
    }
}
