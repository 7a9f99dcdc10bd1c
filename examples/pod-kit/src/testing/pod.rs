//! [`TestPod`]: a pod on a loopback socket, and [`PodClient`], the OAuth
//! client that talks to it over HTTP.

use std::net::SocketAddr;

use oauth_server::primitives::Store;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl,
    TokenResponse, TokenUrl,
};
use sqlx::AnyPool;

use super::{PASSWORD, PgSchema, REDIRECT, USER, hidden_fields, query_param};
use crate::{App, Database, Pod, PodStore, Settings};

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

/// The database a test's pod runs on.
#[derive(Debug, Clone, Copy)]
pub enum Engine {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh PostgreSQL schema, named after the test.
    Postgres(&'static str),
}

impl Engine {
    /// [`Engine::Sqlite`], for [`both_engines!`](crate::both_engines).
    pub async fn on_sqlite() -> Self {
        Self::Sqlite
    }

    /// [`Engine::Postgres`] named after `test`, for
    /// [`both_engines!`](crate::both_engines) (the pod skips the test if
    /// there is no PostgreSQL: [`TestPod::start_engine`]).
    pub async fn on_postgres(test: &'static str) -> Option<Self> {
        Some(Self::Postgres(test))
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

impl Reply {
    /// A reply of `status` and `headers` whose body reads `text` (`body`:
    /// that text as JSON, or null).
    pub(super) fn new(status: u16, headers: reqwest::header::HeaderMap, text: String) -> Self {
        let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        Self {
            status,
            headers,
            body,
            text,
        }
    }
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

    /// Starts pod `P` on `engine`; `None` (skip the test) as
    /// [`TestPod::start_pg`].
    pub async fn start_engine<P: Pod>(
        engine: Engine,
        settings: impl FnOnce(Settings) -> Settings,
    ) -> Option<Self> {
        match engine {
            Engine::Sqlite => Some(Self::start::<P>(settings).await),
            Engine::Postgres(test) => Self::start_pg::<P>(test, settings).await,
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
        Reply::new(status, headers, text)
    }
}
