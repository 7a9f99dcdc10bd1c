use axum::extract::State;
use scope_runtime::{requires_scope, scope_hierarchy, scope_routes};

scope_hierarchy! { pub Scope { read } }

#[derive(Clone)]
struct AppState;

#[requires_scope("read")]
async fn instance(State(_state): State<AppState>) {}

// The table does not name the state its handler needs.
scope_routes! {
    pub Api {
        GET "/api/v1/instance" => instance,
    }
}

fn main() {}
