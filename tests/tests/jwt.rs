//! JWT access tokens (RFC 9068): the real `oauth-server` issuing them on a
//! loopback socket, and `JwtValidator` enforcing the test API of `common`
//! with the server's JWKS; the store and introspection validators behind
//! the same enforcement checks; key rotation and JWKS outages.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::served::{REDIRECT, Served, counting, registration, serve};
use common::{Api, Scope as TestScope};
use oauth_server::config::Config;
use oauth_server::flows::{AuthServer, AuthorizeRequest, RegisteredApp};
use oauth_server::jwt::{KeySet, SigningKey};
use oauth_server::primitives::Store;
use oauth_server::store::MemoryStore;
use scope_runtime::enforce::Enforcer;
use scope_runtime::introspect::IntrospectionValidator;
// The reqwest 0.12 the validators use (it has `form`).
use scope_runtime::jwt::{Jwks, JwtValidator, reqwest};
use scope_runtime::route::RouteTable;
use scope_runtime::token::{BearerToken, TokenError, TokenValidator};
use serde_json::{Value, json};

/// A running `oauth-server` issuing JWT access tokens for the test
/// hierarchy: a resource server allowed to introspect, an app
/// (`read write`), a user, and a count of JWKS requests.
struct Auth {
    served: Served,
    server: AuthServer<TestScope, MemoryStore>,
    keys: KeySet,
    resource_server: RegisteredApp,
    app: RegisteredApp,
    user_id: i64,
    jwks_requests: Arc<AtomicUsize>,
    http: reqwest::Client,
}

impl Auth {
    async fn start() -> Self {
        Self::start_with(|config| config).await
    }

    /// A server whose settings `configure` changes (JWT tokens are on).
    async fn start_with(configure: impl FnOnce(Config) -> Config) -> Self {
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
        let keys = KeySet::generate().expect("key");
        let config = Config::new(base.clone())
            .resource_servers([resource_server.record.client_id.clone()])
            .jwt_access_tokens(keys.clone());
        let server = AuthServer::<TestScope, _>::new(store, configure(config));
        let user = server
            .store()
            .create_user("alice", "not a password hash", false)
            .await
            .expect("user");

        let (router, jwks_requests) = counting(
            oauth_server::http::router(server.clone()),
            "/.well-known/jwks.json",
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            served: Served { base, task },
            server,
            keys,
            resource_server,
            app,
            user_id: user.id,
            jwks_requests,
            http: reqwest::Client::new(),
        }
    }

    fn issuer(&self) -> &str {
        &self.served.base
    }

    fn jwks_uri(&self) -> reqwest::Url {
        format!("{}/.well-known/jwks.json", self.served.base)
            .parse()
            .expect("url")
    }

    /// A JWT validator of this server, the audience its issuer.
    fn validator(&self) -> JwtValidator<TestScope> {
        JwtValidator::new(self.jwks_uri(), self.issuer())
    }

    fn jwks_requests(&self) -> usize {
        self.jwks_requests.load(Ordering::SeqCst)
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Value {
        let r = self
            .http
            .post(format!("{}/oauth/token", self.served.base))
            .basic_auth(&self.app.record.client_id, Some(&self.app.client_secret))
            .form(form)
            .send()
            .await
            .expect("token request");
        assert_eq!(r.status(), 200);
        r.json().await.expect("json")
    }

    /// A client-credentials token of `app1`.
    async fn app_token(&self, scope: &str) -> String {
        let v = self
            .token_request(&[("grant_type", "client_credentials"), ("scope", scope)])
            .await;
        v["access_token"].as_str().expect("access_token").to_owned()
    }

    /// The authorization-code flow for alice (consent given): the access
    /// token and the refresh token.
    async fn user_tokens(&self, scope: &str) -> (String, String) {
        let request = AuthorizeRequest {
            response_type: Some("code".into()),
            client_id: Some(self.app.record.client_id.clone()),
            redirect_uri: Some(REDIRECT.into()),
            scope: Some(scope.into()),
            ..AuthorizeRequest::default()
        };
        let valid = self
            .server
            .check_authorize(&request)
            .await
            .expect("valid request");
        let code = self
            .server
            .issue_code(&valid, self.user_id)
            .await
            .expect("code");
        let v = self
            .token_request(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ])
            .await;
        (
            v["access_token"].as_str().expect("access_token").to_owned(),
            v["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_owned(),
        )
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

    /// Valid claims for `app1`, to sign with changes.
    fn claims(&self) -> Value {
        let now = now();
        json!({
            "iss": self.issuer(), "aud": self.issuer(),
            "sub": self.app.record.client_id, "client_id": self.app.record.client_id,
            "scope": "read", "iat": now, "exp": now + 600, "jti": "crafted",
        })
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).expect("seconds"))
}

fn decode(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("json")
}

/// The header and the claims of a JWT.
fn open(jwt: &str) -> (Value, Value) {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWS: {jwt}");
    (decode(parts[0]), decode(parts[1]))
}

/// The test API enforced with `validator`, on a socket.
async fn api<V>(validator: V) -> Served
where
    V: TokenValidator<TestScope>,
{
    serve(Api::router(Enforcer::new(validator))).await
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

async fn post(served: &Served, path: &str, token: &str) -> u16 {
    call(reqwest::Method::POST, served, path, token).await.0
}

/// `read:accounts` and `read:follows`; any token kind.
const SUGGESTIONS: &str = "/api/v2/suggestions";
/// `write:accounts`, app tokens only.
const REGISTER: &str = "/api/v1/accounts";
/// `read:accounts`; answers the user id.
const ME: &str = "/api/v1/accounts/verify_credentials";

/// A client that opens a new connection per request: once a server task
/// is gone, nothing answers on its port.
fn unpooled() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client")
}

#[tokio::test]
async fn the_server_issues_rfc_9068_tokens_and_publishes_its_keys() {
    let auth = Auth::start().await;

    let metadata: Value = auth
        .http
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            auth.issuer()
        ))
        .send()
        .await
        .expect("metadata")
        .json()
        .await
        .expect("json");
    assert_eq!(metadata["jwks_uri"], auth.jwks_uri().as_str());

    let r = auth.http.get(auth.jwks_uri()).send().await.expect("jwks");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/jwk-set+json");
    let jwks: Value = r.json().await.expect("json");
    let key = &jwks["keys"][0];
    assert_eq!(key["kid"], auth.keys.current_kid().as_str());
    assert_eq!(
        (&key["kty"], &key["crv"], &key["alg"]),
        (&json!("EC"), &json!("P-256"), &json!("ES256"))
    );
    assert!(key.get("d").is_none(), "never the private key");

    let token = auth.app_token("read").await;
    let (header, claims) = open(&token);
    assert_eq!(
        header,
        json!({ "alg": "ES256", "typ": "at+jwt", "kid": auth.keys.current_kid() })
    );
    let client_id = auth.app.record.client_id.as_str();
    assert_eq!(claims["iss"], auth.issuer());
    assert_eq!(
        claims["aud"],
        auth.issuer(),
        "the audience defaults to the issuer"
    );
    assert_eq!(
        claims["sub"], client_id,
        "client credentials: the client is the subject"
    );
    assert_eq!(claims["client_id"], client_id);
    assert_eq!(claims["scope"], "read");
    let (iat, exp) = (
        claims["iat"].as_i64().expect("iat"),
        claims["exp"].as_i64().expect("exp"),
    );
    assert_eq!(exp - iat, 36_000);
    assert!((iat - now()).abs() < 5);

    // The store knows the token: introspection reports the same `jti`.
    let introspection: Value = auth
        .http
        .post(format!("{}/oauth/introspect", auth.issuer()))
        .basic_auth(&auth.app.record.client_id, Some(&auth.app.client_secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .expect("introspect")
        .json()
        .await
        .expect("json");
    assert_eq!(introspection["active"], true);
    assert_eq!(introspection["jti"], claims["jti"]);

    // The authorization-code flow: the user is the subject; the refresh
    // token stays opaque, and refreshing gives a new JWT.
    let (access, refresh) = auth.user_tokens("read:accounts write").await;
    let (_, claims) = open(&access);
    assert_eq!(claims["sub"], auth.user_id.to_string());
    assert_eq!(claims["client_id"], client_id);
    assert_eq!(claims["scope"], "read:accounts write");
    assert!(!refresh.contains('.'), "an opaque refresh token: {refresh}");
    let refreshed = auth
        .token_request(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    let (_, again) = open(refreshed["access_token"].as_str().expect("access_token"));
    assert_eq!(again["sub"], auth.user_id.to_string());
    assert_ne!(again["jti"], claims["jti"]);
}

#[tokio::test]
async fn a_server_without_jwt_has_no_jwks() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = AuthServer::<TestScope, _>::new(MemoryStore::new(), Config::new(base.clone()));
    let router: axum::Router = oauth_server::http::router(server.clone());
    let _served = Served {
        base: base.clone(),
        task: tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        }),
    };
    let http = reqwest::Client::new();
    let metadata: Value = http
        .get(format!("{base}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .expect("metadata")
        .json()
        .await
        .expect("json");
    assert!(metadata.get("jwks_uri").is_none(), "{metadata}");
    let r = http
        .get(format!("{base}/.well-known/jwks.json"))
        .send()
        .await
        .expect("jwks");
    assert_eq!(r.status(), 404);

    let (_, issued) = server
        .personal_token(
            server
                .store()
                .create_user("bob", "x", false)
                .await
                .expect("user")
                .id,
            registration("bob's app", "read"),
        )
        .await
        .expect("token");
    assert!(!issued.access_token.contains('.'), "opaque");
}

#[tokio::test]
async fn valid_tokens_pass_and_scopes_are_enforced_locally() {
    let auth = Auth::start().await;
    let enforced = api(auth.validator()).await;

    let read = auth.app_token("read").await;
    assert_eq!(get(&enforced, SUGGESTIONS, &read).await, 200);
    assert_eq!(get(&enforced, ME, &read).await, 200);
    assert_eq!(
        post(&enforced, REGISTER, &read).await,
        403,
        "no write:accounts"
    );

    let write = auth.app_token("write").await;
    assert_eq!(get(&enforced, SUGGESTIONS, &write).await, 403);
    assert_eq!(post(&enforced, REGISTER, &write).await, 200);

    let (user, _) = auth.user_tokens("read write").await;
    let (status, body) = call(reqwest::Method::GET, &enforced, ME, &user).await;
    assert_eq!((status, body), (200, auth.user_id.to_string()));
    assert_eq!(
        post(&enforced, REGISTER, &user).await,
        403,
        "app tokens only"
    );

    let (_, body) = call(reqwest::Method::GET, &enforced, ME, &read).await;
    assert_eq!(body, "app", "sub = client_id is an app token");

    // One fetch of the key set for all of it; refused tokens fetch nothing.
    assert_eq!(auth.jwks_requests(), 1);
    assert_eq!(get(&enforced, SUGGESTIONS, "no-such-token").await, 401);
    assert_eq!(get(&enforced, SUGGESTIONS, "a.b.c").await, 401);
    assert_eq!(auth.jwks_requests(), 1);
}

/// The same decisions whichever way a token is validated: in the server's
/// process (the store), by RFC 7662 introspection, or locally (the JWT).
#[tokio::test]
async fn every_validator_enforces_the_same() {
    let auth = Auth::start().await;
    let read = auth.app_token("read").await;
    let write = auth.app_token("write").await;
    let (user, _) = auth.user_tokens("read:accounts read:follows").await;
    let user_id = auth.user_id.to_string();
    let cases: [(reqwest::Method, &str, &str, u16, Option<&str>); 9] = [
        (reqwest::Method::GET, SUGGESTIONS, &read, 200, None),
        (reqwest::Method::GET, ME, &read, 200, Some("app")),
        (reqwest::Method::POST, REGISTER, &read, 403, None),
        (reqwest::Method::GET, SUGGESTIONS, &write, 403, None),
        (reqwest::Method::POST, REGISTER, &write, 200, None),
        (reqwest::Method::GET, SUGGESTIONS, &user, 200, None),
        (reqwest::Method::GET, ME, &user, 200, Some(&user_id)),
        (reqwest::Method::POST, REGISTER, &user, 403, None),
        (reqwest::Method::GET, SUGGESTIONS, "not-a-token", 401, None),
    ];
    let apis = [
        ("store", api(auth.server.validator()).await),
        (
            "introspection",
            api(IntrospectionValidator::<TestScope>::new(
                format!("{}/oauth/introspect", auth.issuer())
                    .parse()
                    .expect("url"),
                auth.resource_server.record.client_id.clone(),
                auth.resource_server.client_secret.clone(),
            ))
            .await,
        ),
        ("jwt", api(auth.validator()).await),
    ];
    for (name, api) in &apis {
        for (method, path, token, status, body) in &cases {
            let (got, text) = call(method.clone(), api, path, token).await;
            assert_eq!(got, *status, "{name}: {method} {path}");
            if let Some(body) = body {
                assert_eq!(text, *body, "{name}: {method} {path}");
            }
        }
    }
}

/// Revocation reaches the validators that ask the server, not the one that
/// checks the signature: a JWT stays valid there until `exp`.
#[tokio::test]
async fn a_revoked_jwt_is_refused_by_the_store_and_introspection_only() {
    let auth = Auth::start().await;
    let store = auth.server.validator();
    let introspection = IntrospectionValidator::<TestScope>::new(
        format!("{}/oauth/introspect", auth.issuer())
            .parse()
            .expect("url"),
        auth.resource_server.record.client_id.clone(),
        auth.resource_server.client_secret.clone(),
    );
    let jwt = auth.validator();
    let token = auth.app_token("read").await;
    assert!(
        TokenValidator::<TestScope>::validate(&store, &BearerToken::new(&token))
            .await
            .is_ok()
    );
    assert!(
        introspection
            .validate(&BearerToken::new(&token))
            .await
            .is_ok()
    );
    assert!(jwt.validate(&BearerToken::new(&token)).await.is_ok());

    auth.revoke(&token).await;
    assert_eq!(
        TokenValidator::<TestScope>::validate(&store, &BearerToken::new(&token)).await,
        Err(TokenError::Invalid)
    );
    assert_eq!(
        introspection.validate(&BearerToken::new(&token)).await,
        Err(TokenError::Invalid)
    );
    assert!(
        jwt.validate(&BearerToken::new(&token)).await.is_ok(),
        "valid until exp"
    );
}

#[tokio::test]
async fn expired_foreign_and_forged_tokens_are_401() {
    let auth = Auth::start().await;
    let enforced = api(auth.validator()).await;
    let token = auth.app_token("read").await;
    assert_eq!(get(&enforced, SUGGESTIONS, &token).await, 200);

    let sign = |change: &dyn Fn(&mut Value)| {
        let mut claims = auth.claims();
        change(&mut claims);
        auth.keys.sign(&claims).expect("signed")
    };
    assert_eq!(
        get(&enforced, SUGGESTIONS, &sign(&|_| {})).await,
        200,
        "the crafted baseline passes"
    );
    let now = now();
    let late = sign(&|c| c["exp"] = json!(now - 5));
    assert_eq!(
        get(&enforced, SUGGESTIONS, &late).await,
        200,
        "within the leeway"
    );
    for (why, forged) in [
        ("expired", sign(&|c| c["exp"] = json!(now - 120))),
        (
            "wrong issuer",
            sign(&|c| c["iss"] = json!("https://evil.example")),
        ),
        (
            "wrong audience",
            sign(&|c| c["aud"] = json!("https://other.example")),
        ),
        ("not yet valid", sign(&|c| c["nbf"] = json!(now + 600))),
    ] {
        assert_eq!(get(&enforced, SUGGESTIONS, &forged).await, 401, "{why}");
    }

    // A valid signature over other claims.
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = decode(parts[1]);
    claims["scope"] = json!("read write");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    assert_eq!(
        get(&enforced, SUGGESTIONS, &tampered).await,
        401,
        "tampered claims"
    );

    // `alg: none`, and HS256 "signed" with the public key.
    let header = |alg: &str| {
        URL_SAFE_NO_PAD.encode(
            json!({ "alg": alg, "typ": "at+jwt", "kid": auth.keys.current_kid() }).to_string(),
        )
    };
    let unsigned = format!("{}.{}.", header("none"), parts[1]);
    assert_eq!(
        get(&enforced, SUGGESTIONS, &unsigned).await,
        401,
        "alg none"
    );
    let hs256 = format!("{}.{}.{}", header("HS256"), parts[1], parts[2]);
    assert_eq!(get(&enforced, SUGGESTIONS, &hs256).await, 401, "HS256");
    // RFC 9068 §4: a JWT that is not an access token (an ID token).
    let id_token = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(
            json!({ "alg": "ES256", "typ": "JWT", "kid": auth.keys.current_kid() }).to_string()
        ),
        parts[1],
        parts[2]
    );
    assert_eq!(get(&enforced, SUGGESTIONS, &id_token).await, 401, "typ JWT");

    // A validator expecting another audience refuses the server's tokens.
    let elsewhere = api(auth.validator().audience("https://api.example")).await;
    assert_eq!(get(&elsewhere, SUGGESTIONS, &token).await, 401);
}

#[tokio::test]
async fn the_audience_is_configurable() {
    let auth = Auth::start_with(|c| c.jwt_audience("https://api.example")).await;
    let token = auth.app_token("read").await;
    assert_eq!(open(&token).1["aud"], "https://api.example");
    let default = api(auth.validator()).await;
    assert_eq!(get(&default, SUGGESTIONS, &token).await, 401);
    let configured = api(auth.validator().audience("https://api.example")).await;
    assert_eq!(get(&configured, SUGGESTIONS, &token).await, 200);
}

#[tokio::test]
async fn a_token_expires_with_its_lifetime() {
    let auth = Auth::start_with(|c| c.access_token_lifetime(Duration::from_secs(2))).await;
    let enforced = api(auth.validator().leeway(Duration::ZERO)).await;
    let token = auth.app_token("read").await;
    assert_eq!(get(&enforced, SUGGESTIONS, &token).await, 200);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(get(&enforced, SUGGESTIONS, &token).await, 401);
}

#[tokio::test]
async fn an_unknown_kid_is_refetched_at_most_once_per_interval() {
    let auth = Auth::start().await;
    let interval = Duration::from_millis(600);
    let enforced = api(auth.validator().min_refetch_interval(interval)).await;
    assert_eq!(
        get(&enforced, SUGGESTIONS, &auth.app_token("read").await).await,
        200
    );
    assert_eq!(auth.jwks_requests(), 1);

    // Signed with a key the server does not publish.
    let stranger = KeySet::generate().expect("key");
    let forged = stranger.sign(&auth.claims()).expect("signed");
    tokio::time::sleep(interval + Duration::from_millis(50)).await;
    assert_eq!(get(&enforced, SUGGESTIONS, &forged).await, 401);
    assert_eq!(auth.jwks_requests(), 2, "refetched for the unknown kid");
    // Within the interval the key set is not fetched again, and the key
    // might be one published since: 503, a retry, not a 401 that would make
    // a client drop its token.
    for _ in 0..5 {
        assert_eq!(get(&enforced, SUGGESTIONS, &forged).await, 503);
    }
    assert_eq!(auth.jwks_requests(), 2, "rate-limited");
    tokio::time::sleep(interval + Duration::from_millis(50)).await;
    assert_eq!(get(&enforced, SUGGESTIONS, &forged).await, 401);
    assert_eq!(auth.jwks_requests(), 3, "once the interval has passed");

    // A rotation right after a fetch: the new key's tokens are retried
    // (503) until the interval has passed, then accepted.
    auth.keys.rotate(SigningKey::generate().expect("key"));
    let rotated = auth.app_token("read").await;
    assert_eq!(get(&enforced, SUGGESTIONS, &rotated).await, 503);
    tokio::time::sleep(interval + Duration::from_millis(50)).await;
    assert_eq!(get(&enforced, SUGGESTIONS, &rotated).await, 200);
    assert_eq!(auth.jwks_requests(), 4);
}

#[tokio::test]
async fn key_rotation() {
    let auth = Auth::start().await;
    let validator = auth
        .validator()
        // Any refetch is allowed: the counts below come from the cache
        // and the coalescing alone.
        .min_refetch_interval(Duration::ZERO)
        .refresh_interval(Duration::from_secs(3600));
    let enforced = api(validator.clone()).await;
    let old = auth.app_token("read").await;
    assert_eq!(get(&enforced, SUGGESTIONS, &old).await, 200);
    assert_eq!(auth.jwks_requests(), 1);

    let old_kid = auth.keys.rotate(SigningKey::generate().expect("key"));
    let new = auth.app_token("read").await;
    assert_ne!(open(&new).0["kid"], open(&old).0["kid"]);
    // Many requests with the new key at once: one refetch.
    let presented = BearerToken::new(&new);
    let results = futures_join(16, || validator.validate(&presented)).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(auth.jwks_requests(), 2, "concurrent refetches coalesced");
    assert_eq!(get(&enforced, SUGGESTIONS, &new).await, 200);
    assert_eq!(
        get(&enforced, SUGGESTIONS, &old).await,
        200,
        "the old key is still published"
    );
    assert_eq!(auth.jwks_requests(), 2);

    // Retired: the old key's tokens fail once the set is refreshed.
    let refreshing = api(auth
        .validator()
        .refresh_interval(Duration::from_secs(1))
        .min_refetch_interval(Duration::from_millis(500)))
    .await;
    assert_eq!(get(&refreshing, SUGGESTIONS, &new).await, 200);
    assert_eq!(get(&refreshing, SUGGESTIONS, &old).await, 200);
    let before = auth.jwks_requests();
    assert!(auth.keys.retire(&old_kid));
    assert_eq!(
        get(&refreshing, SUGGESTIONS, &old).await,
        200,
        "until the refresh"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get(&refreshing, SUGGESTIONS, &old).await, 401);
    assert_eq!(get(&refreshing, SUGGESTIONS, &new).await, 200);
    assert_eq!(
        auth.jwks_requests(),
        before + 1,
        "one refresh; the refetch for the retired kid is rate-limited"
    );
    // The long-lived validator still has the old key.
    assert_eq!(
        get(&enforced, SUGGESTIONS, &old).await,
        200,
        "until its next refresh"
    );
}

/// Runs `n` copies of a future at once.
async fn futures_join<F, T>(n: usize, make: impl Fn() -> F) -> Vec<T>
where
    F: std::future::Future<Output = T>,
{
    let mut futures: Vec<_> = (0..n).map(|_| Box::pin(make())).collect();
    let mut results: Vec<Option<T>> = (0..n).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, result) in futures.iter_mut().zip(results.iter_mut()) {
            if result.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *result = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

#[tokio::test]
async fn validation_stays_local_when_the_server_goes_down() {
    let auth = Auth::start().await;
    let validator = auth
        .validator()
        .client(unpooled())
        .min_refetch_interval(Duration::ZERO);
    let enforced = api(validator.clone()).await;
    let token = auth.app_token("read").await;
    assert_eq!(get(&enforced, SUGGESTIONS, &token).await, 200);
    let stranger = KeySet::generate()
        .expect("key")
        .sign(&auth.claims())
        .expect("signed");
    drop(auth);
    tokio::time::sleep(Duration::from_millis(50)).await;

    assert_eq!(
        get(&enforced, SUGGESTIONS, &token).await,
        200,
        "the key is at hand"
    );
    assert_eq!(
        get(&enforced, SUGGESTIONS, &stranger).await,
        503,
        "an unknown key cannot be fetched"
    );
    assert_eq!(get(&enforced, SUGGESTIONS, "garbage").await, 401);
    let Err(TokenError::Unavailable(message)) =
        validator.validate(&BearerToken::new(&stranger)).await
    else {
        panic!("a JWKS outage is Unavailable");
    };
    assert!(message.contains("JWKS"), "{message}");
    assert!(!message.contains(&stranger), "never the token: {message}");
}

#[tokio::test]
async fn a_jwks_server_down_from_the_start_is_503() {
    let auth = Auth::start().await;
    let token = auth.app_token("read").await;
    let jwks_uri = auth.jwks_uri();
    let issuer = auth.issuer().to_owned();
    drop(auth);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let validator = JwtValidator::<TestScope>::new(jwks_uri, issuer).client(unpooled());
    assert!(matches!(
        validator.load_keys().await,
        Err(TokenError::Unavailable(_))
    ));
    let enforced = api(validator).await;
    assert_eq!(get(&enforced, SUGGESTIONS, &token).await, 503);
    assert_eq!(get(&enforced, SUGGESTIONS, "not-a-jwt").await, 401);
}

#[tokio::test]
async fn broken_key_sets_are_503_until_fixed() {
    let auth = Auth::start().await;
    let token = auth.app_token("read").await;
    let answer = Arc::new(Mutex::new((500u16, String::new())));
    let shared = Arc::clone(&answer);
    let endpoint = serve(axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let (status, body) = shared.lock().expect("lock").clone();
            async move {
                (
                    axum::http::StatusCode::from_u16(status).expect("status"),
                    body,
                )
            }
        }),
    ))
    .await;
    let validator = JwtValidator::<TestScope>::new(
        format!("{}/jwks", endpoint.base).parse().expect("url"),
        auth.issuer(),
    )
    .min_refetch_interval(Duration::ZERO);
    let enforced = api(validator).await;
    for (status, body) in [
        (500, auth.keys.jwks().to_string()),
        (404, String::new()),
        (200, "not json".into()),
        (200, r#"{"keys": "none"}"#.into()),
        (200, "x".repeat(70_000)),
    ] {
        *answer.lock().expect("lock") = (status, body);
        assert_eq!(get(&enforced, SUGGESTIONS, &token).await, 503, "{status}");
    }
    *answer.lock().expect("lock") = (200, r#"{"keys": []}"#.into());
    assert_eq!(
        get(&enforced, SUGGESTIONS, &token).await,
        401,
        "no such key"
    );
    *answer.lock().expect("lock") = (200, auth.keys.jwks().to_string());
    assert_eq!(get(&enforced, SUGGESTIONS, &token).await, 200);
}

#[tokio::test]
async fn a_static_key_set_needs_no_http() {
    let auth = Auth::start().await;
    let jwks = Jwks::from_value(&auth.keys.jwks()).expect("jwks");
    let validator = JwtValidator::<TestScope>::with_jwks(jwks, auth.issuer());
    let (user, _) = auth.user_tokens("read").await;
    let principal = validator
        .validate_now(&BearerToken::new(&user))
        .expect("answered at once")
        .expect("valid");
    assert_eq!(principal.user_id(), Some(auth.user_id.to_string().as_str()));
    assert_eq!(principal.client_id(), auth.app.record.client_id);
    assert_eq!(principal.scopes(), "read".parse().expect("scopes"));

    auth.keys.rotate(SigningKey::generate().expect("key"));
    let new = auth.app_token("read").await;
    assert_eq!(
        validator.validate(&BearerToken::new(&new)).await,
        Err(TokenError::Invalid)
    );
    assert_eq!(auth.jwks_requests(), 0);
}

/// Keys come only from the configured URL: a client of the caller's that
/// follows redirects does not make the validator take a key set from
/// wherever a redirect leads (introspection refuses the same).
#[tokio::test]
async fn a_redirected_jwks_is_refused() {
    let auth = Auth::start().await;
    let token = auth.app_token("read").await;
    let target = auth.jwks_uri().to_string();
    let redirecting = serve(axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let target = target.clone();
            async move { axum::response::Redirect::temporary(&target) }
        }),
    ))
    .await;
    let follows = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .expect("client");
    let uri = format!("{}/jwks", redirecting.base).parse().expect("url");
    let validator = JwtValidator::<TestScope>::new(uri, auth.issuer()).client(follows);
    let Err(TokenError::Unavailable(message)) = validator.load_keys().await else {
        panic!("a redirected key set must not load");
    };
    assert!(message.contains("redirected"), "{message}");
    let enforced = api(validator).await;
    assert_eq!(get(&enforced, SUGGESTIONS, &token).await, 503);
}
