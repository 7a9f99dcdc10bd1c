//! The shared auth crate of a server split over three crates
//! (`split-auth`, `split-accounts`, `split-statuses`): the one hierarchy
//! every handler crate annotates against, the state and the principal.
//!
//! The hierarchy is declared once, in `scope-hierarchies`; re-exporting it
//! re-exports its compile-time lookup too, so `#[requires_scope]` and
//! `scope!` check names in every crate that imports it from here.

pub use scope_hierarchies::MastodonScope as Scope;

/// Who a handler serves: one type for every crate of the server.
pub type User = scope_runtime::Principal<Scope>;

/// The server's state, shared by the handler crates' routers.
#[derive(Clone, Debug, Default)]
pub struct AppState {
    /// The instance's name.
    pub name: &'static str,
}

/// A scope named at compile time in this crate, through the re-export.
pub const PROFILE: Scope = scope_runtime::scope!(Scope, "profile");

/// A principal's description, the same for every handler crate.
pub fn describe(user: &User) -> String {
    format!(
        "{} via {} with {}",
        user.user_id().unwrap_or("-"),
        user.client_id(),
        user.scopes()
    )
}
