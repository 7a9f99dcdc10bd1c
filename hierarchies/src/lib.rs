//! The current Mastodon and Funkwhale OAuth scope hierarchies, declared
//! once from the research tables (copied into `tests/data/`), for the
//! operator binary of `oauth-server` and the workspace tests.
//!
//! Compile-time scope names (`scope!`, `#[requires_scope]`) work only in the
//! crate that declares a hierarchy, so a pod that annotates handlers declares
//! its own; these are for code that needs the types at run time.

pub mod funkwhale;
pub mod mastodon;

pub use funkwhale::FunkwhaleScope;
pub use mastodon::MastodonScope;

#[doc(hidden)]
pub mod __private {
    pub use scope_runtime;
}
