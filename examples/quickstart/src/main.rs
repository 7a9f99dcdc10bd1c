//! Run with `cargo run -p quickstart` (then try the `curl` lines it prints).
//!
//! The smallest server built on scope-runtime: a scope hierarchy declared
//! once, handlers that say which scope they need, a route table that is
//! enforced and documented from the same declarations. Tokens live in
//! memory; the bundled OAuth server replaces them in the pods.

use std::process::ExitCode;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use scope_runtime::Principal;
use scope_runtime::docgen::{self, OpenApiInfo};
use scope_runtime::enforce::Enforcer;
use scope_runtime::route::RouteTable;
use scope_runtime::token::InMemoryValidator;
use scope_runtime::{ScopeSet, requires_scope, scope_hierarchy, scope_routes};
use serde_json::{Value, json};

scope_hierarchy! {
    /// The scopes of this API.
    pub Scope {
        /// Read-only access to all data
        #[default]
        read {
            /// Access playlists
            playlists,
            /// Access profile data
            profile,
        },
        /// Write access to all data
        write {
            /// Access playlists
            playlists,
            /// Access profile data
            profile,
        },
    }
}

/// The current user.
#[requires_scope("read:profile", token = user)]
async fn me(principal: Principal<Scope>) -> Json<Value> {
    Json(json!({ "username": principal.user_id(), "scopes": principal.scopes().to_string() }))
}

/// Playlists: `read:playlists` to list, `write:playlists` to create.
#[requires_scope(resource = "playlists")]
async fn playlists(principal: Principal<Scope>) -> (StatusCode, Json<Value>) {
    (
        StatusCode::OK,
        Json(json!({ "count": 0, "results": [], "client": principal.client_id() })),
    )
}

/// Server information.
#[requires_scope(public)]
async fn instance() -> Json<Value> {
    Json(json!({ "name": "quickstart", "version": env!("CARGO_PKG_VERSION") }))
}

scope_routes! {
    /// The quickstart API.
    pub Api {
        GET "/api/v1/users/me" => me,
        GET | POST "/api/v1/playlists/" => playlists,
        GET "/api/v1/instance" => instance,
    }
}

/// The router with demo tokens `reader` (read) and `writer` (read write).
fn app() -> Router {
    let tokens = InMemoryValidator::new();
    let scopes = |s: &str| ScopeSet::parse(s).unwrap_or_default();
    tokens.insert(
        "reader",
        Principal::user("alice", "demo-app", scopes("read")),
    );
    tokens.insert(
        "writer",
        Principal::user("alice", "demo-app", scopes("read write")),
    );
    Api::router(Enforcer::new(tokens))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("docs") {
        let info = OpenApiInfo {
            title: "quickstart".into(),
            ..OpenApiInfo::default()
        };
        return docgen::cli::run(Api::ROUTES, &info, args.into_iter().skip(1));
    }
    let addr = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e} (set LISTEN=host:port)");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on http://{addr}");
    println!("  curl http://{addr}/api/v1/instance");
    println!("  curl -H 'Authorization: Bearer reader' http://{addr}/api/v1/users/me");
    println!(
        "  curl -i -X POST -H 'Authorization: Bearer reader' http://{addr}/api/v1/playlists/   # 403"
    );
    println!("  curl -X POST -H 'Authorization: Bearer writer' http://{addr}/api/v1/playlists/");
    println!("route table:");
    for route in Api::ROUTES {
        println!(
            "  {:6} {:24} {}",
            route.method(),
            route.path(),
            route.requirement()
        );
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = axum::serve(listener, app())
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn status(method: &str, path: &str, token: &str) -> StatusCode {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        app().oneshot(request).await.expect("infallible").status()
    }

    /// The README's error examples are copied from this server's answers:
    /// every header (but `date`) and the body, as sent.
    #[tokio::test]
    async fn the_readme_error_examples_are_what_is_sent() {
        const README: &str = include_str!("../../../README.md");
        let cases = [
            ("GET", "/api/v1/users/me", None),
            ("GET", "/api/v1/users/me", Some("nobody")),
            ("POST", "/api/v1/playlists/", Some("reader")),
        ];
        for (method, path, token) in cases {
            let mut request = Request::builder().method(method).uri(path);
            if let Some(token) = token {
                request = request.header("authorization", format!("Bearer {token}"));
            }
            let response = app()
                .oneshot(request.body(Body::empty()).expect("request"))
                .await
                .expect("infallible");
            let mut shown = format!("  HTTP/1.1 {}\n", response.status());
            for (name, value) in response.headers() {
                let value = value.to_str().expect("ASCII header");
                shown.push_str(&format!("  {name}: {value}\n"));
            }
            let body = axum::body::to_bytes(response.into_body(), 1 << 16)
                .await
                .expect("body");
            shown.push_str(&format!("\n  {}\n", String::from_utf8_lossy(&body)));
            assert!(
                README.contains(&shown),
                "README lacks the answer to {method} {path}:\n{shown}"
            );
        }
    }

    #[tokio::test]
    async fn the_printed_curl_lines_behave_as_printed() {
        assert_eq!(
            status("GET", "/api/v1/instance", "none").await,
            StatusCode::OK
        );
        assert_eq!(
            status("GET", "/api/v1/users/me", "reader").await,
            StatusCode::OK
        );
        assert_eq!(
            status("POST", "/api/v1/playlists/", "reader").await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status("POST", "/api/v1/playlists/", "writer").await,
            StatusCode::OK
        );
        assert_eq!(
            status("GET", "/api/v1/users/me", "nobody").await,
            StatusCode::UNAUTHORIZED
        );
    }
}
