//! Typed OAuth scope hierarchies, and their enforcement on axum routes.
//!
//! - **Scopes**: [`scope_hierarchy!`] declares a tree; [`Scope`],
//!   [`ScopeSet`] (module [`set`]) and [`scope!`] use it.
//! - **Routes**: [`requires_scope`] declares a handler's requirement,
//!   [`scope_routes!`] builds the route table ([`RouteTable`], module
//!   [`route`]) and its router.
//! - **Tokens**: [`TokenValidator`] turns a [`token::BearerToken`] into a
//!   [`Principal`]; [`cache::CachedValidator`] remembers answers; the
//!   `introspection` and `jwt` features add remote validators.
//! - **Enforcement**: [`Enforcer`] (module [`enforce`]) checks every
//!   request of the table before its handler, answers RFC 6750 errors, and
//!   runs a [`guard::Guard`] (a rate limiter, for instance) after
//!   authorization.
//! - **Streams**: SSE and WebSocket routes are declared the same way
//!   (`stream = sse`); their channels with [`scope_channels!`]; a
//!   [`stream::Watch`] ends an open stream when its token stops allowing it.
//! - **Docs**: [`docgen`] renders the table as a scope matrix and OpenAPI.
//!
//! A handler file needs [`prelude`]: `use scope_runtime::prelude::*;`.
//!
//! Declare a scope tree once with [`scope_hierarchy!`]; get a scope enum, a
//! fixed-size [`ScopeSet`], RFC 6749 scope-string parsing, per-scope
//! metadata, and compile-time checked scope names through [`scope!`]. The
//! implications of the tree (a parent grants its children, an alias grants
//! what it lists) are computed by the macro, never per request.
//!
//! ```
//! use scope_runtime::{scope, scope_hierarchy, Scope, ScopeSet};
//!
//! scope_hierarchy! {
//!     /// Funkwhale-style scopes.
//!     pub MusicScope {
//!         /// Read-only access to all data
//!         #[default]
//!         read {
//!             /// Access playlists
//!             playlists,
//!             /// Access favorites
//!             favorites,
//!         },
//!         /// Write access to all data
//!         write { playlists, favorites },
//!     }
//! }
//!
//! let needed = scope!(MusicScope, "write:playlists");
//! let token: ScopeSet<MusicScope> = "read write".parse()?;
//! assert!(token.grants(needed));
//! assert_eq!(needed.info().parent(), Some(MusicScope::Write));
//! # Ok::<(), scope_runtime::ParseScopeError>(())
//! ```
//!
//! A misspelt name is a compile error on the literal:
//!
//! ```compile_fail
//! # use scope_runtime::{scope, scope_hierarchy};
//! # scope_hierarchy! { pub MusicScope { read { playlists }, write { playlists } } }
//! let needed = scope!(MusicScope, "write:playlist");
//! ```
//!
//! ```text
//! error: unknown scope "write:playlist" in MusicScope; did you mean "write:playlists"?
//!   |
//!   |     let needed = scope!(MusicScope, "write:playlist");
//!   |                                     ^^^^^^^^^^^^^^^^
//! ```
//!
//! See [`scope_hierarchy!`] for the declaration syntax.
//!
//! # Cargo features
//!
//! - `introspection` (off by default): `introspect::IntrospectionValidator`,
//!   a [`TokenValidator`] asking an authorization server's RFC 7662
//!   introspection endpoint over HTTP (adds `reqwest`). Wrap it in
//!   [`cache::CachedValidator`]: a revoked token then works for at most the
//!   cache's TTL.
//! - `jwt` (off by default): `jwt::JwtValidator`, a [`TokenValidator`]
//!   checking RFC 9068 JWT access tokens locally against the authorization
//!   server's JWKS, fetched over HTTP and cached (adds `reqwest`, `p256`,
//!   `base64`, `serde`).
//! - `jwt-format` (off by default; part of `jwt`): `jwt::format`, the wire
//!   format of those tokens (header, claims, JWK), for a signer such as
//!   `oauth-server` that needs no HTTP client.

mod bits;
pub mod cache;
pub mod claims;
pub mod client_ip;
pub mod docgen;
pub mod enforce;
pub mod extract;
#[cfg(any(feature = "introspection", feature = "jwt"))]
mod fetch;
pub mod guard;
#[cfg(feature = "introspection")]
pub mod introspect;
#[cfg(feature = "jwt-format")]
pub mod jwt;
pub mod route;
pub mod scope;
pub mod set;
pub mod stream;
pub mod token;

#[doc(inline)]
pub use crate::enforce::Enforcer;
#[doc(inline)]
pub use crate::route::RouteTable;
#[doc(inline)]
pub use crate::scope::{Deprecation, Scope, ScopeInfo};
#[doc(inline)]
pub use crate::set::ParseScopeError;
#[doc(inline)]
pub use crate::set::ScopeSet;
#[doc(inline)]
pub use crate::token::{BearerToken, Principal, TokenError, TokenValidator};

#[doc = include_str!("docs/scope_hierarchy.md")]
#[macro_export]
macro_rules! scope_hierarchy {
    ($($input:tt)*) => {
        $crate::__private::scope_hierarchy! { [$crate] $($input)* }
    };
}

#[doc = include_str!("docs/requires_scope.md")]
pub use scope_macros::requires_scope;

#[doc = include_str!("docs/scope_routes.md")]
#[macro_export]
macro_rules! scope_routes {
    ($($input:tt)*) => {
        $crate::__private::scope_routes! { [$crate] $($input)* }
    };
}

/// Names one scope of a hierarchy by its string, checked at compile time.
///
/// `scope!(Hierarchy, "name")` evaluates to the enum variant, usable in
/// `const` items. An unknown name is a compile error on the literal that
/// suggests the closest names; a grouping node (Mastodon's `admin`) is
/// refused with the scopes it groups.
///
/// ```
/// use scope_runtime::{scope, scope_hierarchy};
///
/// scope_hierarchy! { pub Api { read { statuses }, write { statuses } } }
///
/// const NEEDED: Api = scope!(Api, "read:statuses");
/// assert_eq!(NEEDED, Api::ReadStatuses);
/// ```
///
/// The hierarchy is named by the path of its type (`crate::scopes::Api`):
/// the declaration also defines a hidden macro of the same name, which this
/// macro calls.
#[macro_export]
macro_rules! scope {
    ($($hierarchy:ident)::+ , $name:literal $(,)?) => {
        $($hierarchy)::+ ! { @resolve [$($hierarchy)::+] $name }
    };
    (:: $($hierarchy:ident)::+ , $name:literal $(,)?) => {
        :: $($hierarchy)::+ ! { @resolve [:: $($hierarchy)::+] $name }
    };
}

/// What a file of handlers needs: `use scope_runtime::prelude::*;`.
///
/// The macros ([`requires_scope`], [`scope_routes!`], [`scope!`],
/// [`scope_hierarchy!`]), the [`Principal`] handlers take, the
/// [`Scope`] and [`ScopeSet`] they reason with, and the [`Enforcer`] and
/// [`RouteTable`] that serve them.
pub mod prelude {
    #[doc(no_inline)]
    pub use crate::{
        Enforcer, Principal, RouteTable, Scope, ScopeSet, requires_scope, scope, scope_hierarchy,
        scope_routes,
    };
}

#[doc(hidden)]
pub mod __private {
    //! Items used by generated code. Not public API.
    pub use axum;
    pub use scope_macros::{__resolve_scope, scope_hierarchy, scope_routes};

    /// The summary of a `scope_channels!` channel: its first doc line.
    pub const fn summary(lines: &[&'static str]) -> &'static str {
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i].trim_ascii();
            if !line.is_empty() {
                return line;
            }
            i += 1;
        }
        ""
    }

    /// Seals [`Scope`](crate::Scope): implemented by `scope_hierarchy!` only,
    /// whose tables the set operations rely on.
    pub trait Sealed {}

    /// A handler a route table of state `S` can serve: `scope_routes!`
    /// asserts it of each handler, on the handler's name, so that a
    /// handler whose extractors need another state (or that is not a
    /// handler) is reported there with the fix, not inside the macro.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be served by a route table whose state is `{S}`",
        label = "routed here, by a table of state `{S}`",
        note = "a table whose handlers take `State<AppState>` names that state: \
                `scope_routes! {{ pub Api<Scope, AppState> {{ .. }} }}`; \
                `Api::router(enforcer)` is then an `axum::Router<AppState>` \
                (give it the state with `.with_state(state)`)",
        note = "otherwise, one of its arguments is not an extractor, or the body \
                extractor is not the last one: `#[axum::debug_handler]` on the \
                handler says which"
    )]
    pub trait RoutedWith<T, S> {}

    impl<H: axum::handler::Handler<T, S>, T, S> RoutedWith<T, S> for H {}

    /// Asserts [`RoutedWith`] of `handler`.
    pub const fn routed_with<H: RoutedWith<T, S>, T, S>(_handler: &H) {}
}
