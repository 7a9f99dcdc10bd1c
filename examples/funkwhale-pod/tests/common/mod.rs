//! The test harness: a real SQLite file, the oauth tables, the pod's
//! migrations, two users, tokens in memory, and the real router.

#![allow(dead_code, unreachable_pub)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use funkwhale_pod::{Api, AppState, Scope, migrator};
use oauth_server::primitives::Store;
use oauth_server::store::SqliteStore;
use scope_runtime::ScopeSet;
use scope_runtime::enforce::{AnonymousAccess, Enforcer};
use scope_runtime::route::RouteTable;
use scope_runtime::token::{InMemoryValidator, Principal};
use serde_json::Value;
use sqlx::SqlitePool;
use tempfile::TempDir;
use tower::ServiceExt;

pub struct Pod {
    _dir: TempDir,
    pub app: Router,
    pub db: SqlitePool,
    pub tokens: InMemoryValidator<Scope>,
    pub anonymous: AnonymousAccess,
    pub alice: i64,
    pub bob: i64,
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
        let store = SqliteStore::connect(&url).await.expect("store");
        migrator().run(store.pool()).await.expect("migrations");
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
        let db = store.pool().clone();
        let state = AppState::new(db.clone()).with_anonymous_access(anonymous.clone());
        let enforcer = Enforcer::new(tokens.clone()).anonymous_access(anonymous.clone());
        let app = Api::router(enforcer).with_state(state);
        Self {
            _dir: dir,
            app,
            db,
            tokens,
            anonymous,
            alice,
            bob,
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
