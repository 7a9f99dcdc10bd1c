//! `IntrospectionValidator` (RFC 7662) behind `CachedValidator`, enforcing
//! the test API of `common` over a socket: against a real `oauth-server`
//! on a loopback socket, and against a scripted endpoint for the answers a
//! well-behaved server does not give (5xx, malformed JSON, slowness,
//! foreign scopes).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::served::{Served, counting, registration, serve};
use common::{Api, Scope as TestScope};
use oauth_server::config::Config;
use oauth_server::flows::{AuthServer, RegisteredApp};
use oauth_server::primitives::Store;
use oauth_server::store::MemoryStore;
use scope_runtime::cache::CachedValidator;
use scope_runtime::enforce::Enforcer;
// The reqwest 0.12 the validator uses (it has `form`).
use scope_runtime::introspect::{IntrospectionValidator, reqwest};
use scope_runtime::route::RouteTable;
use scope_runtime::token::{BearerToken, TokenError, TokenValidator};

type Cached = CachedValidator<TestScope, IntrospectionValidator<TestScope>>;

/// A running `oauth-server` for the test hierarchy, with a resource server
/// allowed to introspect, an app (`read write`), and a user token.
struct Auth {
    served: Served,
    resource_server: RegisteredApp,
    app: RegisteredApp,
    user_id: i64,
    user_token: String,
    introspections: Arc<AtomicUsize>,
    http: reqwest::Client,
}

impl Auth {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let store = MemoryStore::new();
        // Client ids are generated: register first, then configure the
        // server that serves (the store is shared).
        let setup = AuthServer::<TestScope, _>::new(store.clone(), Config::new(base.clone()));
        let resource_server = setup
            .register_app(registration("resource server", "read"), None)
            .await
            .expect("resource server");
        let app = setup
            .register_app(registration("app1", "read write"), None)
            .await
            .expect("app");
        let server = AuthServer::<TestScope, _>::new(
            store,
            Config::new(base.clone()).resource_servers([resource_server.record.client_id.clone()]),
        );
        let user = server
            .store()
            .create_user("alice", "not a password hash", false)
            .await
            .expect("user");
        let (_, issued) = server
            .personal_token(user.id, registration("alice's app", "read write"))
            .await
            .expect("user token");

        let (router, introspections) = counting(
            oauth_server::http::router(server.clone()),
            "/oauth/introspect",
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            served: Served { base, task },
            resource_server,
            app,
            user_id: user.id,
            user_token: issued.access_token,
            introspections,
            http: reqwest::Client::new(),
        }
    }

    fn endpoint(&self) -> reqwest::Url {
        format!("{}/oauth/introspect", self.served.base)
            .parse()
            .expect("url")
    }

    /// The validator of the configured resource server.
    fn validator(&self) -> IntrospectionValidator<TestScope> {
        self.validator_as(
            &self.resource_server.record.client_id,
            &self.resource_server.client_secret,
        )
    }

    fn validator_as(&self, client_id: &str, secret: &str) -> IntrospectionValidator<TestScope> {
        IntrospectionValidator::new(self.endpoint(), client_id, secret)
    }

    fn introspections(&self) -> usize {
        self.introspections.load(Ordering::SeqCst)
    }

    /// A client-credentials token of `app1`.
    async fn app_token(&self, scope: &str) -> String {
        let r = self
            .http
            .post(format!("{}/oauth/token", self.served.base))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &self.app.record.client_id),
                ("client_secret", &self.app.client_secret),
                ("scope", scope),
            ])
            .send()
            .await
            .expect("token request");
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.expect("json");
        v["access_token"].as_str().expect("access_token").to_owned()
    }

    /// Revokes a token of `app1` (RFC 7009).
    async fn revoke(&self, token: &str) {
        let r = self
            .http
            .post(format!("{}/oauth/revoke", self.served.base))
            .basic_auth(&self.app.record.client_id, Some(&self.app.client_secret))
            .form(&[("token", token)])
            .send()
            .await
            .expect("revoke");
        assert_eq!(r.status(), 200);
    }
}

/// The test API enforced with `validator`, on a socket.
async fn api<V>(validator: V) -> Served
where
    V: TokenValidator<TestScope>,
{
    serve(Api::router(Enforcer::new(validator))).await
}

fn cached(validator: IntrospectionValidator<TestScope>, ttl: Duration) -> Cached {
    CachedValidator::new(validator, ttl, 1024)
}

async fn call(method: reqwest::Method, served: &Served, path: &str, token: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .request(method, format!("{}{path}", served.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, r.text().await.expect("body"))
}

async fn get(served: &Served, path: &str, token: &str) -> u16 {
    call(reqwest::Method::GET, served, path, token).await.0
}

/// `read:accounts` and `read:follows`; any token kind.
const SUGGESTIONS: &str = "/api/v2/suggestions";
/// `write:accounts`, app tokens only.
const REGISTER: &str = "/api/v1/accounts";
/// `read:accounts`; answers the user id.
const ME: &str = "/api/v1/accounts/verify_credentials";

#[tokio::test]
async fn valid_tokens_pass_and_scopes_are_enforced() {
    let auth = Auth::start().await;
    let api = api(cached(auth.validator(), Duration::from_secs(60))).await;

    let read = auth.app_token("read").await;
    assert_eq!(get(&api, SUGGESTIONS, &read).await, 200);
    assert_eq!(get(&api, ME, &read).await, 200);
    // Without write:accounts.
    let (status, _) = call(reqwest::Method::POST, &api, REGISTER, &read).await;
    assert_eq!(status, 403);

    let write = auth.app_token("write").await;
    assert_eq!(get(&api, SUGGESTIONS, &write).await, 403);
    let (status, _) = call(reqwest::Method::POST, &api, REGISTER, &write).await;
    assert_eq!(status, 200);

    // A user token: `sub` is the user id, and it is not an app token.
    let (status, body) = call(reqwest::Method::GET, &api, ME, &auth.user_token).await;
    assert_eq!((status, body), (200, auth.user_id.to_string()));
    let (status, _) = call(reqwest::Method::POST, &api, REGISTER, &auth.user_token).await;
    assert_eq!(status, 403, "app tokens only");

    assert_eq!(get(&api, SUGGESTIONS, "no-such-token").await, 401);
}

#[tokio::test]
async fn the_principal_comes_from_the_answer() {
    let auth = Auth::start().await;
    let validator = auth.validator();
    let p = validator
        .validate(&BearerToken::new(&auth.user_token))
        .await
        .expect("valid");
    assert_eq!(p.user_id(), Some(auth.user_id.to_string().as_str()));
    assert_eq!(p.scopes(), "read write".parse().expect("scopes"));
    assert!(p.expiry().is_some(), "exp is read");

    let app = validator
        .validate(&BearerToken::new(&auth.app_token("read").await))
        .await
        .expect("valid");
    assert!(!app.is_user());
    assert_eq!(app.client_id(), auth.app.record.client_id);
    assert_eq!(app.scopes(), "read".parse().expect("scopes"));
}

#[tokio::test]
async fn a_second_request_within_the_ttl_does_not_ask_again() {
    let auth = Auth::start().await;
    let api = api(cached(auth.validator(), Duration::from_secs(60))).await;
    let token = auth.app_token("read").await;

    let before = auth.introspections();
    assert_eq!(get(&api, SUGGESTIONS, &token).await, 200);
    assert_eq!(auth.introspections(), before + 1);
    assert_eq!(get(&api, SUGGESTIONS, &token).await, 200);
    assert_eq!(get(&api, ME, &token).await, 200);
    assert_eq!(auth.introspections(), before + 1, "answered from the cache");

    // Refusals are not cached.
    assert_eq!(get(&api, SUGGESTIONS, "bogus").await, 401);
    assert_eq!(get(&api, SUGGESTIONS, "bogus").await, 401);
    assert_eq!(auth.introspections(), before + 3);
}

#[tokio::test]
async fn a_cached_token_survives_the_authorization_server_going_down() {
    let auth = Auth::start().await;
    // A new connection per request: once the server task is gone, nothing
    // answers on its port.
    let unpooled = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let api = api(cached(
        auth.validator().client(unpooled),
        Duration::from_secs(60),
    ))
    .await;
    let token = auth.app_token("read").await;
    let other = auth.app_token("read").await;
    assert_eq!(get(&api, SUGGESTIONS, &token).await, 200);
    drop(auth);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(get(&api, SUGGESTIONS, &token).await, 200, "within the TTL");
    assert_eq!(get(&api, SUGGESTIONS, &other).await, 503, "not cached");
}

#[tokio::test]
async fn a_revoked_token_is_refused_once_its_entry_expires() {
    let auth = Auth::start().await;
    let ttl = Duration::from_millis(800);
    let api = api(cached(auth.validator(), ttl)).await;
    let token = auth.app_token("read").await;

    assert_eq!(get(&api, SUGGESTIONS, &token).await, 200);
    let cached_at = Instant::now();
    auth.revoke(&token).await;
    if cached_at.elapsed() < ttl / 2 {
        // The revocation latency: the cache still answers.
        assert_eq!(get(&api, SUGGESTIONS, &token).await, 200, "still cached");
    }
    tokio::time::sleep(ttl.saturating_sub(cached_at.elapsed()) + Duration::from_millis(100)).await;
    assert_eq!(get(&api, SUGGESTIONS, &token).await, 401);
}

#[tokio::test]
async fn eviction_makes_a_revocation_immediate() {
    let auth = Auth::start().await;
    let validator = cached(auth.validator(), Duration::from_secs(3600));
    let api = api(validator.clone()).await;
    let token = auth.app_token("read").await;

    assert_eq!(get(&api, SUGGESTIONS, &token).await, 200);
    auth.revoke(&token).await;
    assert_eq!(get(&api, SUGGESTIONS, &token).await, 200, "cached");
    assert!(validator.evict(&token));
    assert_eq!(get(&api, SUGGESTIONS, &token).await, 401);
}

#[tokio::test]
async fn wrong_resource_server_credentials_are_503_not_401() {
    let auth = Auth::start().await;
    let token = auth.app_token("read").await;
    let client_id = auth.resource_server.record.client_id.clone();

    for validator in [
        auth.validator_as(&client_id, "wrong secret"),
        auth.validator_as("no-such-client", "secret"),
    ] {
        let api = api(cached(validator.clone(), Duration::from_secs(60))).await;
        assert_eq!(get(&api, SUGGESTIONS, &token).await, 503);
        assert_eq!(get(&api, ME, &auth.user_token).await, 503);

        let Err(TokenError::Unavailable(message)) =
            validator.validate(&BearerToken::new(&token)).await
        else {
            panic!("refused credentials must be Unavailable");
        };
        assert!(message.contains("credentials"), "{message}");
        assert!(!message.contains(&token), "never the token: {message}");
        assert!(!message.contains("wrong secret"), "never the secret");
    }
}

/// RFC 7662 §4: a client that is not a configured resource server learns
/// about its own tokens only; other tokens look inactive (hence 401). The
/// validator cannot tell this from a revoked token: the resource server
/// must be listed in `Config::resource_servers`.
#[tokio::test]
async fn a_client_not_listed_as_resource_server_only_sees_its_own_tokens() {
    let auth = Auth::start().await;
    let validator = auth.validator_as(&auth.app.record.client_id, &auth.app.client_secret);
    let api = api(cached(validator, Duration::from_secs(60))).await;
    assert_eq!(
        get(&api, SUGGESTIONS, &auth.app_token("read").await).await,
        200
    );
    assert_eq!(get(&api, ME, &auth.user_token).await, 401);
}

#[tokio::test]
async fn an_unreachable_server_is_503() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let endpoint: reqwest::Url = format!("http://{addr}/oauth/introspect")
        .parse()
        .expect("url");
    let validator = IntrospectionValidator::<TestScope>::new(endpoint, "rs", "secret");
    let api = api(cached(validator.clone(), Duration::from_secs(60))).await;
    assert_eq!(get(&api, SUGGESTIONS, "some-token").await, 503);

    let Err(TokenError::Unavailable(message)) =
        validator.validate(&BearerToken::new("some-token")).await
    else {
        panic!("a connection error must be Unavailable");
    };
    assert!(message.contains(&addr.to_string()), "{message}");
    assert!(!message.contains("some-token"), "{message}");
}

/// An introspection endpoint that answers what the test says, and records
/// what it was sent.
#[derive(Clone, Default)]
struct Script {
    answer: Arc<Mutex<(u16, String, Duration)>>,
    seen: Arc<Mutex<Vec<(HeaderMap, String)>>>,
}

impl Script {
    fn answer(&self, status: u16, body: &str) {
        self.answer_after(status, body, Duration::ZERO);
    }

    fn answer_after(&self, status: u16, body: &str, delay: Duration) {
        *self.answer.lock().expect("lock") = (status, body.to_owned(), delay);
    }
}

async fn scripted(
    State(script): State<Script>,
    headers: HeaderMap,
    body: String,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    script.seen.lock().expect("lock").push((headers, body));
    let (status, body, delay) = script.answer.lock().expect("lock").clone();
    tokio::time::sleep(delay).await;
    let status = StatusCode::from_u16(status).expect("status");
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/json"),
    );
    if status.is_redirection() {
        response.headers_mut().insert(
            "location",
            axum::http::HeaderValue::from_static("/elsewhere"),
        );
    }
    response
}

async fn script() -> (Script, Served, IntrospectionValidator<TestScope>) {
    let script = Script::default();
    let served = serve(
        axum::Router::new()
            .route("/introspect", axum::routing::post(scripted))
            .with_state(script.clone()),
    )
    .await;
    let endpoint = format!("{}/introspect", served.base).parse().expect("url");
    let validator = IntrospectionValidator::new(endpoint, "rs", "s3cr%t");
    (script, served, validator)
}

#[tokio::test]
async fn the_request_is_rfc_7662() {
    let (script, _endpoint, validator) = script().await;
    script.answer(200, r#"{"active":false}"#);
    assert_eq!(
        validator.validate(&BearerToken::new("a+b/c=d&e")).await,
        Err(TokenError::Invalid)
    );
    let seen = script.seen.lock().expect("lock");
    let (headers, body) = &seen[0];
    // base64("rs:s3cr%t")
    assert_eq!(headers["authorization"], "Basic cnM6czNjciV0");
    assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
    assert_eq!(body, "token=a%2Bb%2Fc%3Dd%26e&token_type_hint=access_token");
}

#[tokio::test]
async fn server_errors_malformed_answers_and_timeouts_are_503() {
    let (script, _endpoint, validator) = script().await;
    let api = api(cached(
        validator.timeout(Duration::from_millis(300)),
        Duration::from_secs(60),
    ))
    .await;
    let cases = [
        (500, r#"{"active":true,"client_id":"c","scope":"read"}"#),
        (502, ""),
        (400, r#"{"error":"invalid_request"}"#),
        (302, ""),
        (200, "not json"),
        (200, r#"{"active":"yes"}"#),
        (200, r#"{"active":true,"scope":"read"}"#),
        (200, r#"["active"]"#),
    ];
    for (i, (status, body)) in cases.into_iter().enumerate() {
        script.answer(status, body);
        assert_eq!(
            get(&api, SUGGESTIONS, &format!("token-{i}")).await,
            503,
            "{status} {body}"
        );
    }

    script.answer_after(
        200,
        r#"{"active":true,"client_id":"c","scope":"read"}"#,
        Duration::from_secs(3),
    );
    let started = Instant::now();
    assert_eq!(get(&api, SUGGESTIONS, "slow").await, 503);
    assert!(started.elapsed() < Duration::from_secs(2), "timed out");
}

#[tokio::test]
async fn unknown_scopes_are_dropped_and_refresh_tokens_refused() {
    let (script, _endpoint, validator) = script().await;
    let api = api(cached(validator, Duration::from_secs(60))).await;

    script.answer(
        200,
        r#"{"active":true,"client_id":"c","sub":"7","scope":"read:accounts other:scope read:follows"}"#,
    );
    assert_eq!(get(&api, SUGGESTIONS, "mixed").await, 200);
    let (status, body) = call(reqwest::Method::GET, &api, ME, "mixed").await;
    assert_eq!((status, body.as_str()), (200, "7"));

    script.answer(
        200,
        r#"{"active":true,"client_id":"c","scope":"other:scope"}"#,
    );
    assert_eq!(get(&api, SUGGESTIONS, "foreign-only").await, 403);

    script.answer(
        200,
        r#"{"active":true,"client_id":"c","username":"bob","scope":"read"}"#,
    );
    let (status, body) = call(reqwest::Method::GET, &api, ME, "by-username").await;
    assert_eq!((status, body.as_str()), (200, "bob"));

    script.answer(
        200,
        r#"{"active":true,"client_id":"c","scope":"read","token_type":"refresh_token"}"#,
    );
    assert_eq!(get(&api, SUGGESTIONS, "refresh").await, 401);

    script.answer(
        200,
        r#"{"active":true,"client_id":"c","scope":"read","exp":1000}"#,
    );
    assert_eq!(get(&api, SUGGESTIONS, "expired").await, 401);

    script.answer(200, r#"{"active":false}"#);
    assert_eq!(get(&api, SUGGESTIONS, "inactive").await, 401);
}
