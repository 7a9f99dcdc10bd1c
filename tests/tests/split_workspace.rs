//! One hierarchy for a server split over three crates (`tests/split`):
//! `split-auth` re-exports `scope_hierarchies::MastodonScope`, and the
//! handler crates `split-accounts` and `split-statuses` annotate against it
//! (one through the re-export, one by path), with compile-time checked
//! names. Their tables share one `Scope` type, so one enforcer and one
//! router serve both, and a principal from either is the same `User`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use scope_hierarchies::MastodonScope;
use scope_runtime::route::{Route, RouteTable};
use scope_runtime::token::InMemoryValidator;
use scope_runtime::{Enforcer, Principal, ScopeSet};
use split_accounts::AccountsApi;
use split_auth::AppState;
use split_statuses::StatusesApi;
use tower::ServiceExt;

fn scopes(s: &str) -> ScopeSet<MastodonScope> {
    ScopeSet::parse(s).expect("scopes")
}

fn app() -> axum::Router {
    let tokens = InMemoryValidator::new();
    tokens.insert("reader", Principal::user("1", "app", scopes("read")));
    tokens.insert(
        "statuses-only",
        Principal::user("2", "app", scopes("read:statuses")),
    );
    tokens.insert(
        "writer",
        Principal::user("3", "app", scopes("write:statuses write:accounts")),
    );
    tokens.insert("app-writer", Principal::app("app", scopes("write")));
    let enforcer = Enforcer::new(tokens);
    AccountsApi::router(enforcer.clone())
        .merge(StatusesApi::router(enforcer))
        .with_state(AppState { name: "split" })
}

async fn send(method: &str, uri: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = app()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ascii").to_owned())
        .unwrap_or_default();
    (status, challenge)
}

#[test]
fn the_crates_share_one_hierarchy_type() {
    // Both tables are of scope_hierarchies::MastodonScope: this compiles
    // only if split-auth's `Scope` is that very type.
    let accounts: &[Route<MastodonScope>] = AccountsApi::ROUTES;
    let statuses: &[Route<split_auth::Scope>] = StatusesApi::ROUTES;
    assert_eq!(accounts[0].requirement().to_string(), "read:accounts");
    assert_eq!(accounts[1].requirement().to_string(), "write:accounts");
    assert_eq!(statuses[0].requirement().to_string(), "write:statuses");
    assert_eq!(
        statuses[1].requirement().to_string(),
        "any(read:statuses, read:accounts)"
    );
    // Names checked at compile time in each crate, through the re-export
    // and by path.
    assert_eq!(split_auth::PROFILE, MastodonScope::Profile);
    assert_eq!(split_accounts::FOLLOW.name(), "write:follows");
    assert_eq!(split_statuses::MEDIA.name(), "write:media");
}

#[tokio::test]
async fn one_enforcer_serves_every_crates_routes() {
    // accounts: read covers read:accounts; read:statuses alone does not.
    assert_eq!(
        send("GET", "/api/v1/accounts/7", Some("reader")).await.0,
        StatusCode::OK
    );
    let (status, challenge) = send("GET", "/api/v1/accounts/7", Some("statuses-only")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        challenge.contains(r#"scope="read:accounts""#),
        "{challenge}"
    );
    assert_eq!(
        send("GET", "/api/v1/accounts/7", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    // A user token only on update_credentials.
    assert_eq!(
        send(
            "PATCH",
            "/api/v1/accounts/update_credentials",
            Some("writer")
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        send(
            "PATCH",
            "/api/v1/accounts/update_credentials",
            Some("app-writer")
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    // statuses: the same tokens, the same enforcer.
    assert_eq!(
        send("POST", "/api/v1/statuses", Some("writer")).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        send("POST", "/api/v1/statuses", Some("reader")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send("GET", "/api/v1/statuses/1/context", Some("statuses-only"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        send("GET", "/api/v1/statuses/1/context", None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        send("GET", "/api/v1/statuses/1/context", Some("writer"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}
