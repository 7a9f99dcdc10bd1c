//! The test harness: a real SQLite file (or a fresh PostgreSQL schema), the
//! oauth tables, the pod's migrations, two users, tokens in memory, and the
//! real router.
//!
//! [`both_engines!`] runs each test body on SQLite and, when
//! `TEST_DATABASE_URL_PG` is set, on PostgreSQL (`postgres::<test>`; it
//! prints `SKIPPED <test>` otherwise, and fails with `REQUIRE_POSTGRES=1`).

#![allow(dead_code, unreachable_pub)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use funkwhale_pod::{Api, AppState, FunkwhalePod, Scope};
use oauth_server::primitives::Store;
use pod_kit::testing::PgSchema;
use scope_runtime::ScopeSet;
use scope_runtime::enforce::{AnonymousAccess, Enforcer};
use scope_runtime::route::RouteTable;
use scope_runtime::token::{InMemoryValidator, Principal};
use serde_json::Value;
use sqlx::AnyPool;
use tempfile::TempDir;
use tower::ServiceExt;

pub struct Pod {
    pub app: Router,
    pub db: AnyPool,
    pub tokens: InMemoryValidator<Scope>,
    pub anonymous: AnonymousAccess,
    pub alice: i64,
    pub bob: i64,
    _dir: Option<TempDir>,
    // Last: dropped after the pools.
    _schema: Option<PgSchema>,
}

/// For each `async fn name(pod: Pod)` of the test file, the tests
/// `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::Pod::new().await).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                if let Some(pod) = super::Pod::postgres(stringify!($name)).await {
                    super::$name(pod).await;
                }
            })*
        }
    };
}

pub struct Reply {
    pub status: StatusCode,
    pub json: Value,
    pub content_type: Option<String>,
}

impl Pod {
    /// A fresh pod: users `alice` and `bob`; tokens `alice`, `bob` (read
    /// write), `alice-read` (read), `app` (client credentials, read write).
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}/pod.db", dir.path().display());
        let mut pod = Self::on(&url).await;
        pod._dir = Some(dir);
        pod
    }

    /// The pod in a fresh schema of `TEST_DATABASE_URL_PG`; `None` if the
    /// test is to be skipped.
    pub async fn postgres(test: &str) -> Option<Self> {
        let schema = PgSchema::create(test).await?;
        let mut pod = Self::on(&schema.url).await;
        pod._schema = Some(schema);
        Some(pod)
    }

    /// The pod over the database at `url`, opened as the binary does.
    pub async fn on(url: &str) -> Self {
        let database = pod_kit::open::<FunkwhalePod>(url).await.expect("open");
        let store = database.store;
        let hash = oauth_server::secret::hash_password("pw-123456").expect("hash");
        let alice = store
            .create_user("alice", &hash, false)
            .await
            .expect("alice")
            .id;
        let bob = store
            .create_user("bob", &hash, false)
            .await
            .expect("bob")
            .id;
        let tokens = InMemoryValidator::new();
        let scopes = |s: &str| ScopeSet::parse(s).expect("scopes");
        tokens.insert(
            "alice",
            Principal::user(alice.to_string(), "app", scopes("read write")),
        );
        tokens.insert(
            "bob",
            Principal::user(bob.to_string(), "app", scopes("read write")),
        );
        tokens.insert(
            "alice-read",
            Principal::user(alice.to_string(), "app", scopes("read")),
        );
        tokens.insert("app", Principal::app("app", scopes("read write")));
        let anonymous = AnonymousAccess::new(false);
        let db = database.pool;
        let state = AppState::new(db.clone()).with_anonymous_access(anonymous.clone());
        let enforcer = Enforcer::new(tokens.clone()).anonymous_access(anonymous.clone());
        let app = Api::router(enforcer).with_state(state);
        Self {
            app,
            db,
            tokens,
            anonymous,
            alice,
            bob,
            _dir: None,
            _schema: None,
        }
    }

    /// Adds a token for `user` with `scopes`.
    pub fn token(&self, token: &str, user: i64, scopes: &str) {
        self.tokens.insert(
            token,
            Principal::user(
                user.to_string(),
                "app",
                ScopeSet::parse(scopes).expect("scopes"),
            ),
        );
    }

    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<Body>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(ct) = content_type {
            request = request.header(header::CONTENT_TYPE, ct);
        }
        let response = self
            .app
            .clone()
            .oneshot(request.body(body.into()).expect("request"))
            .await
            .expect("infallible");
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            json,
            content_type,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.raw("GET", path, token, None, Body::empty()).await
    }

    pub async fn send(&self, method: &str, path: &str, token: &str, body: Value) -> Reply {
        self.raw(
            method,
            path,
            Some(token),
            Some("application/json"),
            body.to_string(),
        )
        .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.raw("DELETE", path, Some(token), None, Body::empty())
            .await
    }
}

/// Asserts the status, printing the body on failure.
#[track_caller]
pub fn expect(reply: &Reply, status: u16) -> &Value {
    assert_eq!(
        reply.status.as_u16(),
        status,
        "unexpected status, body: {}",
        reply.json
    );
    &reply.json
}
