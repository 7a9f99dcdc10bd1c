//! The test harness: a real SQLite file (or a fresh PostgreSQL schema),
//! opened and migrated as the binary does, two users, tokens issued by the
//! pod's OAuth server, and the app the binary serves (`pod_kit::app`,
//! through `pod_kit::testing::TestClient`).
//!
//! [`both_engines!`] runs each test body on SQLite and, when
//! `TEST_DATABASE_URL_PG` is set, on PostgreSQL (`postgres::<test>`; it
//! prints `SKIPPED <test>` otherwise, and fails with `REQUIRE_POSTGRES=1`).

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use funkwhale_pod::FunkwhalePod;
use pod_kit::Settings;
use pod_kit::testing::{PgSchema, TestClient};
use scope_runtime::enforce::AnonymousAccess;
use serde_json::Value;
use sqlx::AnyPool;
use tempfile::TempDir;

/// The issuer the test pods are configured with.
pub const ISSUER: &str = "https://funkwhale.example";

pub struct Pod {
    pub client: TestClient<FunkwhalePod>,
    pub db: AnyPool,
    /// The app's "API authentication required" switch (on at start).
    pub anonymous: AnonymousAccess,
    pub alice: i64,
    pub bob: i64,
    /// Tokens by the names tests use for them.
    tokens: Mutex<HashMap<String, String>>,
    _dir: Option<TempDir>,
    // Last: dropped after the pools.
    _schema: Option<PgSchema>,
}

/// For each `async fn name(pod: Pod)` of the test file, the tests
/// `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        pod_kit::both_engines!(sqlite: Pod::new, postgres: Pod::postgres; $($name),*);
    };
}

pub struct Reply {
    pub status: StatusCode,
    pub json: Value,
    pub content_type: Option<String>,
    pub headers: axum::http::HeaderMap,
}

impl Pod {
    /// A fresh pod: users `alice` and `bob`; tokens `alice`, `bob` (read
    /// write), `alice-read` (read), `app` (client credentials, read write);
    /// anonymous access off (API authentication required).
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

    /// The pod over the database at `url`, opened and served as the binary
    /// does.
    pub async fn on(url: &str) -> Self {
        let database = pod_kit::open::<FunkwhalePod>(url).await.expect("open");
        let mut settings = Settings::new(ISSUER);
        settings.api_authentication_required = true;
        let client = TestClient::<FunkwhalePod>::new(database.clone(), &settings);
        let alice = client.create_user("alice").await;
        let bob = client.create_user("bob").await;
        let pod = Self {
            db: database.pool,
            anonymous: client.app.anonymous.clone(),
            client,
            alice,
            bob,
            tokens: Mutex::default(),
            _dir: None,
            _schema: None,
        };
        pod.token("alice", alice, "read write").await;
        pod.token("bob", bob, "read write").await;
        pod.token("alice-read", alice, "read").await;
        let app = pod.client.app_token("read write").await;
        pod.name("app", app);
        pod
    }

    /// Mints a token for `user` with `scopes`, used as `name`.
    pub async fn token(&self, name: &str, user: i64, scopes: &str) {
        let token = self.client.user_token(user, scopes).await;
        self.name(name, token);
    }

    /// Names `token`.
    pub fn name(&self, name: &str, token: String) {
        self.tokens
            .lock()
            .expect("tokens")
            .insert(name.to_owned(), token);
    }

    /// The token named `name`; any other string is sent as it is.
    pub fn secret(&self, name: &str) -> String {
        self.tokens
            .lock()
            .expect("tokens")
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_owned())
    }

    /// Sends a request; `token` is a name given to [`Pod::token`] (or a
    /// string sent as it is).
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
            request = request.header(
                header::AUTHORIZATION,
                format!("Bearer {}", self.secret(token)),
            );
        }
        if let Some(ct) = content_type {
            request = request.header(header::CONTENT_TYPE, ct);
        }
        self.request(request.body(body.into()).expect("request"))
            .await
    }

    /// Sends `request` as it is.
    pub async fn request(&self, request: Request<Body>) -> Reply {
        let response = self.client.oneshot(request).await;
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = headers
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
            headers,
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
