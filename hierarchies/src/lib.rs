//! The current Mastodon and Funkwhale OAuth scope hierarchies, declared
//! once from the research tables (copied into `tests/data/`), for the
//! operator binary of `oauth-server` and the workspace tests.
//!
//! Both are `pub`, so their compile-time lookup comes with them: a crate
//! that depends on this one names their scopes in `scope!` and
//! `#[requires_scope]` with the same checks and messages, by importing the
//! type (`use scope_hierarchies::MastodonScope;`), by path
//! (`hierarchy = scope_hierarchies::MastodonScope`) or through a re-export
//! (`pub use scope_hierarchies::MastodonScope as Scope;` in a crate shared by
//! a server's handler crates):
//!
//! ```
//! use scope_hierarchies::MastodonScope;
//! use scope_runtime::{requires_scope, scope};
//!
//! #[requires_scope("write:statuses", token = user, hierarchy = MastodonScope)]
//! async fn post_status() {}
//!
//! const FOLLOW: MastodonScope = scope!(MastodonScope, "write:follows");
//! assert_eq!(FOLLOW.name(), "write:follows");
//! ```
//!
//! `mastodon_scopes!` and `funkwhale_scopes!` declare a copy of a tree as a
//! new type of the caller's (the example pods do, to own their `Scope`).

pub mod funkwhale;
pub mod mastodon;

pub use funkwhale::FunkwhaleScope;
pub use mastodon::MastodonScope;

#[doc(hidden)]
pub mod __private {
    pub use scope_runtime;
}
