//! Test helpers. [`TestClient`]: the app a pod's binary serves
//! ([`crate::app`]) driven in this process with `oneshot`, with tokens
//! minted by the OAuth server's own flows. [`TestPod`]: a pod on a loopback
//! socket over a fresh SQLite file or a database of the caller's (a
//! PostgreSQL schema of its own: [`PgSchema`]), a user, and the whole OAuth
//! dance done as a client would (the consent page walked with `reqwest`,
//! the code exchanged by the `oauth2` crate). Test code: panics with a
//! message on anything unexpected.
//!
//! PostgreSQL tests run against `TEST_DATABASE_URL_PG` (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`), each in a fresh schema;
//! without it they print `SKIPPED <test>` and pass, unless
//! `REQUIRE_POSTGRES=1`.
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::collections::HashMap;
use std::net::SocketAddr;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use oauth_server::flows::{AppRegistration, AuthServer, OOB, TokenRequest};
use oauth_server::primitives::Store;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl,
    TokenResponse, TokenUrl,
};
use sqlx::{AnyPool, Connection};
use tower::ServiceExt;

use crate::{App, Database, Pod, PodStore, Settings};

pub const USER: &str = "alice";
pub const PASSWORD: &str = "correct horse battery staple";
pub const REDIRECT: &str = "https://app.example/callback";

/// A client of a pod at `base` (in this process or another), acting as
/// user [`USER`] on its consent page.
#[derive(Debug, Clone)]
pub struct PodClient {
    pub base: String,
    pub http: reqwest::Client,
}

/// A pod serving on 127.0.0.1 with user [`USER`]; its [`PodClient`]
/// methods are at hand through `Deref`.
pub struct TestPod {
    pub client: PodClient,
    pub user_id: i64,
    /// The OAuth store.
    pub store: PodStore,
    /// The pool of the pod's tables.
    pub pool: AnyPool,
    task: tokio::task::JoinHandle<()>,
    _dir: Option<tempfile::TempDir>,
    // Last: dropped after the pools above.
    _schema: Option<PgSchema>,
}

impl Drop for TestPod {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A registered application.
#[derive(Debug, Clone)]
pub struct TestApp {
    pub client_id: String,
    pub client_secret: String,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: serde_json::Value,
    pub text: String,
}

impl TestPod {
    /// Starts pod `P` over a fresh SQLite file, its settings adjusted by
    /// `settings`.
    pub async fn start<P: Pod>(settings: impl FnOnce(Settings) -> Settings) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("pod.db").display());
        let mut pod = Self::start_on::<P>(&url, settings).await;
        pod._dir = Some(dir);
        pod
    }

    /// Starts pod `P` over the database at `url` (migrated if needed), its
    /// settings adjusted by `settings`. Several pods may run on one
    /// database: user [`USER`] is created by the first and found by the
    /// others.
    pub async fn start_on<P: Pod>(url: &str, settings: impl FnOnce(Settings) -> Settings) -> Self {
        let db = crate::open::<P>(url).await.expect("open the pod database");
        let user_id = match db.store.user_by_name(USER).await.expect("user") {
            Some(user) => user.id,
            None => {
                let hash = oauth_server::secret::hash_password(PASSWORD).expect("hash");
                match db.store.create_user(USER, &hash, false).await {
                    Ok(user) => user.id,
                    // Another pod created it in the meantime.
                    Err(_) => {
                        db.store
                            .user_by_name(USER)
                            .await
                            .expect("user")
                            .expect("user created by another pod")
                            .id
                    }
                }
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let store = db.store.clone();
        let pool = db.pool.clone();
        let App { router, .. } = crate::app::<P>(db, &settings(Settings::new(&base)));
        let task = tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<SocketAddr>();
            let _ = axum::serve(listener, service).await;
        });
        Self {
            client: PodClient::new(base),
            user_id,
            store,
            pool,
            task,
            _dir: None,
            _schema: None,
        }
    }

    /// Starts pod `P` in a fresh schema of `TEST_DATABASE_URL_PG`, dropped
    /// with the pod; `None` (the test is skipped) as [`PgSchema::create`].
    pub async fn start_pg<P: Pod>(
        test: &str,
        settings: impl FnOnce(Settings) -> Settings,
    ) -> Option<Self> {
        let schema = PgSchema::create(test).await?;
        let mut pod = Self::start_on::<P>(&schema.url, settings).await;
        pod._schema = Some(schema);
        Some(pod)
    }

    /// The database of this pod, as [`crate::open`] returns it.
    pub fn database(&self) -> Database {
        Database {
            store: self.store.clone(),
            pool: self.pool.clone(),
            backend: match self.store {
                PodStore::Postgres(_) => crate::Backend::Postgres,
                _ => crate::Backend::Sqlite,
            },
        }
    }
}

impl std::ops::Deref for TestPod {
    type Target = PodClient;

    fn deref(&self) -> &PodClient {
        &self.client
    }
}

impl PodClient {
    /// A client of the pod at `base` (`http://HOST:PORT`); redirects are
    /// not followed (the consent page's are read).
    pub fn new(base: impl Into<String>) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            base: base.into(),
            http,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Registers an app allowed `scopes` through Mastodon's `POST /api/v1/apps`.
    pub async fn register(&self, scopes: &str) -> TestApp {
        let r = self
            .http
            .post(self.url("/api/v1/apps"))
            .form(&[
                ("client_name", "e2e"),
                ("redirect_uris", REDIRECT),
                ("scopes", scopes),
            ])
            .send()
            .await
            .expect("register");
        assert_eq!(r.status(), 200, "app registration");
        let v: serde_json::Value = r.json().await.expect("json");
        TestApp {
            client_id: v["client_id"].as_str().expect("client_id").to_owned(),
            client_secret: v["client_secret"].as_str().expect("secret").to_owned(),
        }
    }

    /// Logs in as [`USER`], consents to `scopes` for `app` (with PKCE), and
    /// exchanges the code with the `oauth2` crate; returns the access token.
    pub async fn token(&self, app: &TestApp, scopes: &str) -> String {
        let client = BasicClient::new(ClientId::new(app.client_id.clone()))
            .set_client_secret(ClientSecret::new(app.client_secret.clone()))
            .set_auth_uri(AuthUrl::new(self.url("/oauth/authorize")).expect("url"))
            .set_token_uri(TokenUrl::new(self.url("/oauth/token")).expect("url"))
            .set_redirect_uri(RedirectUrl::new(REDIRECT.to_owned()).expect("url"));
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(
                scopes
                    .split_whitespace()
                    .map(|s| oauth2::Scope::new(s.to_owned())),
            )
            .set_pkce_challenge(challenge)
            .url();
        let page = self.http.get(url.as_str()).send().await.expect("authorize");
        assert_eq!(page.status(), 200, "consent page");
        let cookie = page
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("session cookie")
            .to_owned();
        let html = page.text().await.expect("html");
        let mut fields = hidden_fields(&html);
        fields.insert("username".into(), USER.into());
        fields.insert("password".into(), PASSWORD.into());
        fields.insert("decision".into(), "approve".into());
        let r = self
            .http
            .post(self.url("/oauth/authorize"))
            .header("cookie", cookie)
            .form(&fields)
            .send()
            .await
            .expect("consent");
        assert_eq!(r.status(), 303, "consent redirect");
        let location = r.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned();
        assert_eq!(
            query_param(&location, "state").as_deref(),
            Some(state.secret().as_str())
        );
        let code = query_param(&location, "code").expect("code");
        let token = client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .await
            .expect("code exchange");
        token.access_token().secret().clone()
    }

    /// Revokes `token` (RFC 7009) as `app`.
    pub async fn revoke(&self, app: &TestApp, token: &str) {
        let r = self
            .http
            .post(self.url("/oauth/revoke"))
            .basic_auth(&app.client_id, Some(&app.client_secret))
            .form(&[("token", token)])
            .send()
            .await
            .expect("revoke");
        assert_eq!(r.status(), 200, "revoke");
    }

    /// Sends `method path` with `token` (if any) and a JSON `body` (if any).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut r = self.http.request(method, self.url(path));
        if let Some(token) = token {
            r = r.bearer_auth(token);
        }
        if let Some(body) = body {
            r = r.json(&body);
        }
        let r = r.send().await.expect("request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }
}

/// The address requests of a [`TestClient`] come from, as `ConnectInfo`
/// (what the binary's `into_make_service_with_connect_info` adds).
pub const CLIENT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40_000);

/// Pod `P` as its binary serves it: the [`App`] of [`crate::app`] (the API
/// table behind the pod's enforcer, error style, rate limiter, trailing
/// slash handling, the OAuth endpoints, the token cache and its revocation
/// wiring), driven in this process with `tower::ServiceExt::oneshot`.
///
/// Tokens are real: [`TestClient::user_token`] and
/// [`TestClient::app_token`] mint them with the OAuth server's flows over
/// the pod's store (a personal application, as Funkwhale's
/// `/settings/applications/new` issues, and a client-credentials grant),
/// under the pod's OAuth configuration: the scope policy applies, they are
/// stored hashed, and the pod validates them as any other. Minting does not
/// go through HTTP, so the OAuth endpoints' rate limits are not spent.
pub struct TestClient<P: Pod> {
    /// What the binary serves; `app.anonymous` is the switch of
    /// `token = setting` routes ("API authentication required").
    pub app: App,
    /// The database (the OAuth store and the pool of the pod's tables).
    pub database: Database,
    oauth: AuthServer<P::Scope, PodStore>,
}

/// A token and the application it was issued to (whose credentials can
/// revoke it).
#[derive(Debug, Clone)]
pub struct Grant {
    /// The access token.
    pub token: String,
    /// Its application.
    pub app: TestApp,
}

impl<P: Pod> TestClient<P> {
    /// The app [`crate::app`] assembles over `database` with `settings`.
    /// Call it inside a Tokio runtime.
    pub fn new(database: Database, settings: &Settings) -> Self {
        let oauth = AuthServer::new(database.store.clone(), crate::oauth_config::<P>(settings));
        let app = crate::app::<P>(database.clone(), settings);
        Self {
            app,
            database,
            oauth,
        }
    }

    /// Creates user `name` (password [`PASSWORD`], not an administrator);
    /// returns its id.
    pub async fn create_user(&self, name: &str) -> i64 {
        let hash = oauth_server::secret::hash_password(PASSWORD).expect("hash");
        self.database
            .store
            .create_user(name, &hash, false)
            .await
            .expect("create user")
            .id
    }

    /// A token of `user` with `scopes`, from a personal application of the
    /// user's registered for exactly those scopes.
    pub async fn user_grant(&self, user: i64, scopes: &str) -> Grant {
        let (app, issued) = self
            .oauth
            .personal_token(user, registration(scopes))
            .await
            .expect("personal token");
        Grant {
            token: issued.access_token,
            app: TestApp {
                client_id: app.record.client_id,
                client_secret: app.client_secret,
            },
        }
    }

    /// A token of `user` with `scopes` (see [`TestClient::user_grant`]).
    pub async fn user_token(&self, user: i64, scopes: &str) -> String {
        self.user_grant(user, scopes).await.token
    }

    /// A client-credentials token with `scopes` (no user), from an
    /// application registered for them.
    pub async fn app_grant(&self, scopes: &str) -> Grant {
        let app = self
            .oauth
            .register_app(registration(scopes), None)
            .await
            .expect("register app");
        let request = TokenRequest {
            grant_type: Some("client_credentials".into()),
            scope: Some(scopes.to_owned()),
            ..TokenRequest::default()
        };
        let issued = self
            .oauth
            .token(&app.record, &request)
            .await
            .expect("client credentials");
        Grant {
            token: issued.access_token,
            app: TestApp {
                client_id: app.record.client_id,
                client_secret: app.client_secret,
            },
        }
    }

    /// A client-credentials token with `scopes` (see
    /// [`TestClient::app_grant`]).
    pub async fn app_token(&self, scopes: &str) -> String {
        self.app_grant(scopes).await.token
    }

    /// Revokes `grant` through the pod's `POST /oauth/revoke` (RFC 7009),
    /// so the pod's revocation wiring runs as in production.
    pub async fn revoke(&self, grant: &Grant) {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("token", &grant.token)
            .append_pair("client_id", &grant.app.client_id)
            .append_pair("client_secret", &grant.app.client_secret)
            .finish();
        let request = Request::post("/oauth/revoke")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        let reply = self.read(request).await;
        assert_eq!(reply.status, 200, "revoke: {}", reply.text);
    }

    /// Sends `request` to the app, from [`CLIENT_ADDR`] unless the request
    /// carries a `ConnectInfo` already.
    pub async fn oneshot(&self, mut request: Request<Body>) -> Response<Body> {
        if request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_none()
        {
            request.extensions_mut().insert(ConnectInfo(CLIENT_ADDR));
        }
        self.app
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible")
    }

    /// Sends `request` and reads the response whole.
    pub async fn read(&self, request: Request<Body>) -> Reply {
        let response = self.oneshot(request).await;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    /// Sends `method path` with `token` (if any) and a JSON `body` (if any).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        self.read(request.body(body).expect("request")).await
    }
}

/// A registration for `scopes` (out-of-band redirect).
fn registration(scopes: &str) -> AppRegistration {
    AppRegistration {
        client_name: "test".into(),
        redirect_uris: vec![OOB.into()],
        scopes: Some(scopes.to_owned()),
        website: None,
    }
}

/// Whether PostgreSQL tests must run (`REQUIRE_POSTGRES=1`) rather than be
/// skipped when there is no server.
pub fn postgres_required() -> bool {
    std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// A fresh schema in the database of `TEST_DATABASE_URL_PG`, dropped (with
/// everything in it) when this value is. Drop it after the pods using it.
pub struct PgSchema {
    /// `TEST_DATABASE_URL_PG` with this schema as its `search_path`: the
    /// OAuth store and the pod's pool both land in it.
    pub url: String,
    admin_url: String,
    schema: String,
}

impl PgSchema {
    /// A fresh schema for `test`; `None` (after printing `SKIPPED <test>`)
    /// if `TEST_DATABASE_URL_PG` is unset or its server unreachable and
    /// `REQUIRE_POSTGRES` is not `1`.
    pub async fn create(test: &str) -> Option<Self> {
        let admin_url = match std::env::var("TEST_DATABASE_URL_PG") {
            Ok(url) if !url.trim().is_empty() => url,
            _ => {
                assert!(
                    !postgres_required(),
                    "{test}: REQUIRE_POSTGRES=1 but TEST_DATABASE_URL_PG is not set"
                );
                println!("SKIPPED {test}: TEST_DATABASE_URL_PG is not set");
                return None;
            }
        };
        let connected = tokio::time::timeout(
            Duration::from_secs(5),
            sqlx::PgConnection::connect(&admin_url),
        )
        .await;
        let mut admin = match connected {
            Ok(Ok(conn)) => conn,
            failed => {
                let why = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => "no answer within 5 s".to_owned(),
                };
                assert!(
                    !postgres_required(),
                    "{test}: REQUIRE_POSTGRES=1 but the server of TEST_DATABASE_URL_PG is unreachable: {why}"
                );
                println!(
                    "SKIPPED {test}: the server of TEST_DATABASE_URL_PG is unreachable: {why}"
                );
                return None;
            }
        };
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name: String = test
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(24)
            .collect::<String>()
            .to_ascii_lowercase();
        let schema = format!(
            "pod_{name}_{}_{}_{nanos:x}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
            .execute(&mut admin)
            .await
            .expect("create schema");
        let _ = admin.close().await;
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}");
        Some(Self {
            url,
            admin_url,
            schema,
        })
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let schema = self.schema.clone();
        // Drop is synchronous: a thread with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("cannot drop schema {}", self.schema);
        }
    }
}

/// The hidden inputs of the page's form.
pub fn hidden_fields(html: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for part in html.split("<input type=\"hidden\" ").skip(1) {
        let attr = |name: &str| {
            part.split(&format!("{name}=\""))
                .nth(1)?
                .split('"')
                .next()
                .map(|s| {
                    s.replace("&quot;", "\"")
                        .replace("&#39;", "'")
                        .replace("&lt;", "<")
                        .replace("&gt;", ">")
                        .replace("&amp;", "&")
                })
        };
        if let (Some(n), Some(v)) = (attr("name"), attr("value")) {
            out.insert(n, v);
        }
    }
    out
}

/// The value of query parameter `name` in `url`.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
