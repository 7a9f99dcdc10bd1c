//! The servers `bench/load.sh` drives: the same handler on two ports, bare
//! axum on the first, behind `scope_routes!` enforcement with a cached
//! validator on the second.
//!
//! `load-target BARE_ADDR PROTECTED_ADDR TOKEN`

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use scope_runtime::cache::CachedValidator;
use scope_runtime::enforce::Enforcer;
use scope_runtime::route::RouteTable;
use scope_runtime::token::{InMemoryValidator, Principal};
use scope_runtime::{requires_scope, scope_hierarchy, scope_routes};

scope_hierarchy! {
    /// Load-test scopes.
    pub Scope { #[default] read { statuses }, write { statuses } }
}

async fn bare() -> &'static str {
    "{\"id\":\"1\",\"content\":\"hello\"}"
}

/// The same handler, declared.
#[requires_scope("read:statuses")]
async fn protected() -> &'static str {
    "{\"id\":\"1\",\"content\":\"hello\"}"
}

scope_routes! {
    /// The protected route.
    pub Api { GET "/api/v1/statuses/{id}" => protected }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(bare_addr), Some(protected_addr), Some(token)) =
        (args.next(), args.next(), args.next())
    else {
        eprintln!("usage: load-target BARE_ADDR PROTECTED_ADDR TOKEN");
        std::process::exit(2);
    };
    let tokens = InMemoryValidator::new();
    tokens.insert(token, Principal::user("1", "bench", "read".parse()?));
    let validator = CachedValidator::new(tokens, Duration::from_secs(300), 10_000);

    let bare_app = Router::new().route("/api/v1/statuses/{id}", get(bare));
    let protected_app = Api::router(Enforcer::new(validator));
    let bare_listener = tokio::net::TcpListener::bind(&bare_addr).await?;
    let protected_listener = tokio::net::TcpListener::bind(&protected_addr).await?;
    println!("bare on {bare_addr}, protected on {protected_addr}");
    tokio::select! {
        r = axum::serve(bare_listener, bare_app) => r?,
        r = axum::serve(protected_listener, protected_app) => r?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
