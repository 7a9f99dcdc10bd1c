//! A small API covering every token kind, combinator and the resource
//! rule, shared by the enforcement, HTTP and docs tests.
#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, SystemTime};

pub mod served;

use axum::Json;
use axum::http::StatusCode;
use scope_runtime::token::InMemoryValidator;
use scope_runtime::{Principal, requires_scope, scope_hierarchy, scope_routes};

scope_hierarchy! {
    /// The test API's scopes.
    pub Scope {
        /// read all your account's data
        #[default]
        read {
            /// see accounts information
            accounts,
            /// see your follows
            follows,
            /// see your blocks
            blocks,
            /// see all posts
            statuses,
            /// Access playlists
            playlists,
            /// Access libraries
            libraries,
        },
        /// modify all your account's data
        write {
            /// modify your profile
            accounts,
            /// follow people
            follows,
            /// block accounts
            blocks,
            /// publish posts
            statuses,
            /// Access playlists
            playlists,
        },
        /// modify account relationships
        #[deprecated(since = "3.5.0", note = "use read:follows and write:follows")]
        follow = ["read:follows", "write:follows", "read:blocks", "write:blocks"],
    }
}

/// View a single status.
#[requires_scope("read:statuses", token = optional)]
pub async fn show_status(principal: Option<Principal<Scope>>) -> String {
    match principal {
        Some(p) => format!("status for {}", p.client_id()),
        None => "status for anonymous".into(),
    }
}

/// Post a new status.
///
/// The body is JSON; it is read only after the scope check passed.
#[requires_scope("write:statuses", token = user)]
pub async fn post_status(
    who: Principal<Scope>,
    Json(body): Json<serde_json::Value>,
) -> (StatusCode, String) {
    (
        StatusCode::CREATED,
        format!(
            "{} posted {}",
            who.user_id().unwrap_or_default(),
            body["status"]
        ),
    )
}

/// Relationships with other accounts.
#[requires_scope(any("read:follows", "read:accounts"))]
pub async fn relationships() -> &'static str {
    "[]"
}

/// Follow suggestions.
#[requires_scope(all("read:accounts", "read:follows"))]
pub async fn suggestions() -> &'static str {
    "[]"
}

/// Register an account (app token only).
#[requires_scope("write:accounts", token = app)]
pub async fn register() -> StatusCode {
    StatusCode::OK
}

/// The instance.
#[requires_scope(public)]
pub async fn instance() -> &'static str {
    "{\"version\":\"4.3.0\"}"
}

/// Playlists.
#[requires_scope(resource = "playlists")]
pub async fn playlists() -> &'static str {
    "playlists"
}

/// Tracks of the libraries.
#[requires_scope("read:libraries", token = setting)]
pub async fn tracks() -> &'static str {
    "tracks"
}

/// The current account.
#[requires_scope("read:accounts")]
pub async fn me(principal: Principal<Scope>) -> String {
    principal.user_id().unwrap_or("app").to_owned()
}

scope_routes! {
    /// The test API.
    pub Api {
        GET "/api/v1/statuses/{id}" => show_status,
        POST "/api/v1/statuses" => post_status,
        GET "/api/v1/accounts/relationships" => relationships,
        GET "/api/v2/suggestions" => suggestions,
        POST "/api/v1/accounts" => register,
        GET "/api/v1/instance" => instance,
        GET | POST "/api/v1/playlists/" => playlists,
        DELETE "/api/v1/playlists/{id}/" => playlists,
        GET "/api/v1/tracks/" => tracks,
        GET "/api/v1/accounts/verify_credentials" => me,
    }
}

fn set(s: &str) -> scope_runtime::ScopeSet<Scope> {
    s.parse().expect("valid scopes")
}

/// Tokens named after what they hold.
pub fn tokens() -> InMemoryValidator<Scope> {
    let v = InMemoryValidator::new();
    v.insert("read", Principal::user("alice", "app1", set("read")));
    v.insert("write", Principal::user("alice", "app1", set("write")));
    v.insert(
        "readwrite",
        Principal::user("alice", "app1", set("read write")),
    );
    v.insert(
        "read-statuses",
        Principal::user("alice", "app1", set("read:statuses")),
    );
    v.insert(
        "read-accounts",
        Principal::user("alice", "app1", set("read:accounts")),
    );
    v.insert(
        "read-follows",
        Principal::user("alice", "app1", set("read:follows")),
    );
    v.insert(
        "read-playlists",
        Principal::user("alice", "app1", set("read:playlists")),
    );
    v.insert(
        "write-playlists",
        Principal::user("alice", "app1", set("write:playlists")),
    );
    v.insert("follow", Principal::user("alice", "app1", set("follow")));
    v.insert("app-write", Principal::app("app1", set("write")));
    v.insert("app-read", Principal::app("app1", set("read")));
    v.insert(
        "expired",
        Principal::user("alice", "app1", set("read write"))
            .expires_at(SystemTime::now() - Duration::from_secs(1)),
    );
    v
}
