//! Generic handlers are routed with their arguments; `#[cfg]` on a handler
//! applies to its declaration too.
use scope_runtime::route::RouteTable;
use scope_runtime::{requires_scope, scope_hierarchy, scope_routes};

scope_hierarchy! { pub Scope { #[default] read { statuses } } }

pub trait Backend: Send + Sync + 'static {
    const NAME: &'static str;
}

pub struct Memory;

impl Backend for Memory {
    const NAME: &'static str = "memory";
}

/// Shows a status.
#[requires_scope("read:statuses")]
async fn show<B: Backend>() -> &'static str {
    B::NAME
}

#[requires_scope("read:statuses")]
#[cfg(any())]
async fn compiled_out() {}

/// Catch-all.
#[requires_scope(public)]
async fn rest() {}

scope_routes! {
    pub Api {
        GET "/statuses/{id}" => show::<Memory>,
        GET "/files/{*path}" => rest,
    }
}

fn main() {
    assert_eq!(Api::ROUTES[0].handler(), "show::<Memory>");
    let _router: axum::Router = Api::router(scope_runtime::enforce::Enforcer::new(
        scope_runtime::token::InMemoryValidator::new(),
    ));
}
