//! The enforcement layer over real HTTP: `reqwest` against `axum::serve` on
//! a loopback socket, with a cached validator and revocation.

mod common;

use std::time::Duration;

use common::{Api, tokens};
use scope_runtime::cache::CachedValidator;
use scope_runtime::enforce::Enforcer;
use scope_runtime::route::RouteTable;

#[tokio::test]
async fn over_a_real_socket() {
    let store = tokens();
    let cached = CachedValidator::new(store.clone(), Duration::from_secs(60), 1024);
    let app = Api::router(Enforcer::new(cached.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let client = reqwest::Client::new();
    let get = |path: &str, token: Option<&str>| {
        let mut request = client.get(format!("{base}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };

    let public = get("/api/v1/instance", None).await.expect("request");
    assert_eq!(public.status(), 200);
    assert_eq!(
        public.text().await.expect("body"),
        "{\"version\":\"4.3.0\"}"
    );

    let missing = get("/api/v2/suggestions", None).await.expect("request");
    assert_eq!(missing.status(), 401);
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");

    let narrow = get("/api/v2/suggestions", Some("read-accounts"))
        .await
        .expect("request");
    assert_eq!(narrow.status(), 403);
    assert!(
        narrow.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .contains("scope=\"read:accounts read:follows\"")
    );

    let me = get("/api/v1/accounts/verify_credentials", Some("read"))
        .await
        .expect("request");
    assert_eq!(me.status(), 200);
    assert_eq!(me.text().await.expect("body"), "alice");

    let post = client
        .post(format!("{base}/api/v1/statuses"))
        .bearer_auth("write")
        .header("content-type", "application/json")
        .body(r#"{"status":"hello"}"#)
        .send()
        .await
        .expect("request");
    assert_eq!(post.status(), 201);

    // Revocation: the store forgets the token, the cache is told to evict.
    assert_eq!(
        get("/api/v2/suggestions", Some("read"))
            .await
            .expect("request")
            .status(),
        200
    );
    store.revoke("read");
    assert_eq!(
        get("/api/v2/suggestions", Some("read"))
            .await
            .expect("request")
            .status(),
        200,
        "still cached"
    );
    assert!(cached.evict("read"));
    assert_eq!(
        get("/api/v2/suggestions", Some("read"))
            .await
            .expect("request")
            .status(),
        401
    );

    server.abort();
}
