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

#[tokio::test]
async fn every_token_kind_and_malformed_headers_over_a_socket() {
    use scope_runtime::enforce::AnonymousAccess;

    let switch = AnonymousAccess::new(false);
    let app = Api::router(Enforcer::new(tokens()).anonymous_access(switch.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::new();
    let status =
        |method: reqwest::Method, path: &str, auth: Option<reqwest::header::HeaderValue>| {
            let mut request = client.request(method, format!("{base}{path}"));
            if let Some(auth) = auth {
                request = request.header("authorization", auth);
            }
            async move { request.send().await.expect("request").status().as_u16() }
        };
    let bearer = |t: &str| {
        Some(reqwest::header::HeaderValue::from_str(&format!("Bearer {t}")).expect("header"))
    };
    use reqwest::Method as M;

    // app tokens only
    assert_eq!(
        status(M::POST, "/api/v1/accounts", bearer("app-write")).await,
        200
    );
    assert_eq!(
        status(M::POST, "/api/v1/accounts", bearer("write")).await,
        403
    );
    // optional: anonymous passes, a sent token is checked
    assert_eq!(status(M::GET, "/api/v1/statuses/9", None).await, 200);
    assert_eq!(
        status(M::GET, "/api/v1/statuses/9", bearer("write")).await,
        403
    );
    // setting: follows the switch at run time
    assert_eq!(status(M::GET, "/api/v1/tracks/", None).await, 401);
    switch.set(true);
    assert_eq!(status(M::GET, "/api/v1/tracks/", None).await, 200);
    // resource rule
    assert_eq!(
        status(M::GET, "/api/v1/playlists/", bearer("read-playlists")).await,
        200
    );
    assert_eq!(
        status(M::POST, "/api/v1/playlists/", bearer("read-playlists")).await,
        403
    );
    assert_eq!(
        status(M::DELETE, "/api/v1/playlists/3/", bearer("write-playlists")).await,
        200
    );
    // legacy alias and parent scope
    assert_eq!(
        status(M::GET, "/api/v1/accounts/relationships", bearer("follow")).await,
        200
    );
    assert_eq!(
        status(M::GET, "/api/v1/accounts/relationships", bearer("read")).await,
        200
    );
    // malformed headers: clean 401s
    let raw = |b: &[u8]| Some(reqwest::header::HeaderValue::from_bytes(b).expect("header bytes"));
    assert_eq!(
        status(M::GET, "/api/v2/suggestions", raw(b"Bearer \xff\xfe")).await,
        401
    );
    assert_eq!(
        status(M::GET, "/api/v2/suggestions", raw(b"Bearer a b")).await,
        401
    );
    let long = format!("Bearer {}", "a".repeat(10 * 1024));
    assert_eq!(
        status(M::GET, "/api/v2/suggestions", raw(long.as_bytes())).await,
        401
    );
    assert_eq!(
        status(M::GET, "/api/v2/suggestions", raw(b"Basic dXNlcjpwYXNz")).await,
        401
    );

    server.abort();
}
