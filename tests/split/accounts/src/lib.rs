//! Account handlers of the three-crate server, annotated against the
//! hierarchy re-exported by `split-auth` under the default name `Scope`.

use axum::extract::{Path, State};
use scope_runtime::{requires_scope, scope, scope_routes};
use split_auth::{AppState, Scope, User};

/// An account.
#[requires_scope("read:accounts")]
pub async fn show(Path(id): Path<u64>, State(state): State<AppState>, who: User) -> String {
    format!(
        "account {id} on {} for {}",
        state.name,
        split_auth::describe(&who)
    )
}

/// Update the caller's profile.
#[requires_scope("write:accounts", token = user)]
pub async fn update_credentials(who: User) -> String {
    split_auth::describe(&who)
}

/// A scope this crate names at compile time.
pub const FOLLOW: Scope = scope!(Scope, "write:follows");

scope_routes! {
    /// The accounts crate's routes.
    pub AccountsApi<Scope, AppState> {
        GET "/api/v1/accounts/{id}" => show,
        PATCH "/api/v1/accounts/update_credentials" => update_credentials,
    }
}
