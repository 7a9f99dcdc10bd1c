//! Status handlers of the three-crate server, annotated against
//! `scope_hierarchies::MastodonScope` by path, without the re-export.

use scope_hierarchies::MastodonScope;
use scope_runtime::{Principal, requires_scope, scope, scope_routes};
use split_auth::AppState;

/// Post a status.
#[requires_scope("write:statuses", token = user, hierarchy = scope_hierarchies::MastodonScope)]
pub async fn create(who: Principal<MastodonScope>) -> (axum::http::StatusCode, String) {
    // The principal is split-auth's `User`: one type across the crates.
    let who: split_auth::User = who;
    (axum::http::StatusCode::CREATED, split_auth::describe(&who))
}

/// A status's context.
#[requires_scope(any("read:statuses", "read:accounts"), token = optional, hierarchy = MastodonScope)]
pub async fn context(who: Option<Principal<MastodonScope>>) -> String {
    who.map_or_else(|| "anonymous".to_owned(), |w| split_auth::describe(&w))
}

/// A scope this crate names at compile time, by path.
pub const MEDIA: MastodonScope = scope!(scope_hierarchies::MastodonScope, "write:media");

scope_routes! {
    /// The statuses crate's routes.
    pub StatusesApi<MastodonScope, AppState> {
        POST "/api/v1/statuses" => create,
        GET "/api/v1/statuses/{id}/context" => context,
    }
}
