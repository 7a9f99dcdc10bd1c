//! The route→scope table: what `#[requires_scope]` declares on a handler,
//! and what `scope_routes!` collects into a `const` table and a router.
//!
//! ```
//! use axum::http::StatusCode;
//! use scope_runtime::route::{Access, Method, RouteShape, RouteTable};
//! use scope_runtime::{requires_scope, scope_hierarchy, scope_routes};
//!
//! scope_hierarchy! {
//!     pub Scope {
//!         #[default]
//!         read { playlists },
//!         write { playlists },
//!     }
//! }
//!
//! /// List playlists.
//! #[requires_scope("read:playlists")]
//! async fn list() -> &'static str { "[]" }
//!
//! /// Create a playlist.
//! #[requires_scope("write:playlists", token = user)]
//! async fn create() -> StatusCode { StatusCode::CREATED }
//!
//! #[requires_scope(public)]
//! async fn health() -> &'static str { "ok" }
//!
//! scope_routes! {
//!     /// The playlist API.
//!     pub Api {
//!         GET  "/api/v1/playlists" => list,
//!         POST "/api/v1/playlists" => create,
//!         GET  "/health" => health,
//!     }
//! }
//!
//! // The table is a `const`: readable without starting a server.
//! let routes = Api::ROUTES;
//! assert_eq!(routes.len(), 3);
//! assert_eq!(routes[1].method(), Method::Post);
//! assert_eq!(routes[1].requirement().to_string(), "write:playlists");
//! assert_eq!(routes[1].access(), Access::User);
//! assert_eq!(routes[0].summary(), "List playlists.");
//! // The shape of each path is computed when the table is built.
//! const SHAPE: RouteShape = Api::ROUTES[0].shape();
//! assert_eq!(SHAPE, RouteShape::Collection);
//! ```

use core::fmt;

use axum::routing::MethodFilter;

use crate::enforce::Enforcer;
use crate::scope::Scope;
use crate::set::ScopeSet;
use crate::stream::{Channel, StreamKind};

/// An HTTP method a route can be declared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Method {
    /// `GET` (axum also answers `HEAD` on a `GET` route).
    Get,
    /// `HEAD`.
    Head,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
    /// `OPTIONS`.
    Options,
}

impl Method {
    /// The method's name, upper case.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Options => "OPTIONS",
        }
    }

    /// Parses an upper-case method name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "GET" => Self::Get,
            "HEAD" => Self::Head,
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "PATCH" => Self::Patch,
            "DELETE" => Self::Delete,
            "OPTIONS" => Self::Options,
            _ => return None,
        })
    }

    /// Whether the method only reads (`GET`, `HEAD`, `OPTIONS`): the
    /// resource rule maps these to the `read:` scope.
    pub const fn is_read(self) -> bool {
        matches!(self, Self::Get | Self::Head | Self::Options)
    }

    /// The axum method filter of this method.
    pub fn filter(self) -> MethodFilter {
        match self {
            Self::Get => MethodFilter::GET,
            Self::Head => MethodFilter::HEAD,
            Self::Post => MethodFilter::POST,
            Self::Put => MethodFilter::PUT,
            Self::Patch => MethodFilter::PATCH,
            Self::Delete => MethodFilter::DELETE,
            Self::Options => MethodFilter::OPTIONS,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The shape of a route's path, as Funkwhale's viewsets tell their actions
/// apart (a rate limiter picks a throttling bucket from it and the
/// method). Computed from the path once, in the `const` route table, never
/// per request.
///
/// ```
/// use scope_runtime::route::RouteShape;
///
/// const DETAIL: RouteShape = RouteShape::of_path("/api/v1/tracks/{id}/");
/// assert_eq!(DETAIL, RouteShape::Detail);
/// assert_eq!(RouteShape::of_path("/api/v1/tracks/"), RouteShape::Collection);
/// assert_eq!(RouteShape::of_path("/api/v1/albums/{id}/tracks/"), RouteShape::Action);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RouteShape {
    /// No `{param}` in the path: a collection (`/api/v1/tracks/`).
    Collection,
    /// The last segment is a `{param}`: one item (`/api/v1/tracks/{id}`).
    Detail,
    /// A `{param}` followed by fixed segments: a custom action on an item
    /// (`/api/v1/albums/{id}/tracks/`).
    Action,
}

impl RouteShape {
    /// The shape of `path` (axum syntax; trailing slashes ignored).
    pub const fn of_path(path: &str) -> Self {
        let bytes = path.as_bytes();
        let mut end = bytes.len();
        while end > 0 && bytes[end - 1] == b'/' {
            end -= 1;
        }
        // The start of the last segment, and whether any segment is a
        // parameter.
        let mut last = 0;
        let mut has_param = false;
        let mut i = 0;
        while i < end {
            match bytes[i] {
                b'/' => last = i + 1,
                b'{' => has_param = true,
                _ => {}
            }
            i += 1;
        }
        if !has_param {
            Self::Collection
        } else if last < end && bytes[last] == b'{' {
            Self::Detail
        } else {
            Self::Action
        }
    }
}

/// Who may call a route: the token kinds Mastodon documents, and
/// Funkwhale's anonymous policy.
///
/// | `token = ...` | Mastodon | Funkwhale `anonymous_policy` |
/// |---|---|---|
/// | `required` (default) | "user or app token" | `False` (deny) |
/// | `user` | "user token" | |
/// | `app` | "app token" (client credentials) | |
/// | `optional` | "public, scope checked if a token is sent" | `True` (allow) |
/// | `setting` | | `"setting"` (the pod decides at run time) |
/// | `public` (alone) | "public" | |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Access {
    /// Any valid token (a user's or an app's) carrying the required
    /// scopes: `token = required`, the default.
    Required,
    /// A token issued to a user (authorization code), not to an app alone.
    User,
    /// An app token (client credentials grant), not a user's.
    App,
    /// Anonymous requests pass; a token that is sent must be valid and
    /// carry the required scopes.
    Optional,
    /// [`Access::Optional`] while the pod allows anonymous access
    /// ([`AnonymousAccess`](crate::enforce::AnonymousAccess)), [`Access::Required`]
    /// otherwise.
    Setting,
    /// No token needed, and none is looked at.
    Public,
}

impl Access {
    /// The keyword of `#[requires_scope(token = ...)]`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::User => "user",
            Self::App => "app",
            Self::Optional => "optional",
            Self::Setting => "setting",
            Self::Public => "public",
        }
    }

    /// A human description, used in generated documentation.
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Required => "user or app token",
            Self::User => "user token",
            Self::App => "app token",
            Self::Optional => "public; scopes checked if a token is sent",
            Self::Setting => "public unless the pod requires authentication",
            Self::Public => "public",
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The scopes a route requires. The hierarchy applies: a requirement of
/// `read:statuses` is met by a token holding `read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement<S: 'static> {
    /// No scope (public routes).
    None,
    /// One scope.
    Scope(S),
    /// At least one of these.
    AnyOf(&'static [S]),
    /// Every one of these.
    AllOf(&'static [S]),
}

impl<S: Scope> Requirement<S> {
    /// Whether a token holding `granted` meets the requirement.
    #[inline]
    pub fn is_satisfied_by(&self, granted: &ScopeSet<S>) -> bool {
        match self {
            Self::None => true,
            Self::Scope(s) => granted.grants(*s),
            Self::AnyOf(list) => list.iter().any(|s| granted.grants(*s)),
            Self::AllOf(list) => list.iter().all(|s| granted.grants(*s)),
        }
    }

    /// The scopes named by the requirement.
    pub fn scopes(&self) -> &[S] {
        match self {
            Self::None => &[],
            Self::Scope(s) => core::slice::from_ref(s),
            Self::AnyOf(list) | Self::AllOf(list) => list,
        }
    }
}

/// `read:a`, `any(read:a, read:b)`, `all(read:a, read:b)` or `-`.
impl<S: Scope> fmt::Display for Requirement<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, name: &str, list: &[S]| {
            write!(f, "{name}(")?;
            for (i, s) in list.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(s.name())?;
            }
            f.write_str(")")
        };
        match self {
            Self::None => f.write_str("-"),
            Self::Scope(s) => f.write_str(s.name()),
            Self::AnyOf(l) => list(f, "any", l),
            Self::AllOf(l) => list(f, "all", l),
        }
    }
}

/// What a handler's `#[requires_scope]` declares: a fixed requirement, or
/// Funkwhale's resource rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeRule<S: 'static> {
    /// The same requirement for every method.
    Fixed(Requirement<S>),
    /// `resource = "playlists"`: `read:playlists` for `GET`, `HEAD` and
    /// `OPTIONS`, `write:playlists` for `POST`, `PUT`, `PATCH` and `DELETE`.
    Resource {
        /// The scope of reading methods.
        read: S,
        /// The scope of writing methods.
        write: S,
    },
}

impl<S: Copy> ScopeRule<S> {
    /// The requirement of this rule for `method`.
    pub const fn for_method(self, method: Method) -> Requirement<S> {
        match self {
            Self::Fixed(requirement) => requirement,
            Self::Resource { read, write } => {
                if method.is_read() {
                    Requirement::Scope(read)
                } else {
                    Requirement::Scope(write)
                }
            }
        }
    }
}

/// The declaration `#[requires_scope]` attaches to a handler.
#[derive(Debug, Clone, Copy)]
pub struct HandlerScope<S: 'static> {
    rule: ScopeRule<S>,
    access: Access,
    throttle: Option<&'static str>,
    summary: &'static str,
    stream: Option<StreamKind>,
    channels: &'static [Channel<S>],
}

impl<S: Copy> HandlerScope<S> {
    #[doc(hidden)]
    pub const fn __new(
        rule: ScopeRule<S>,
        access: Access,
        throttle: Option<&'static str>,
        summary: &'static str,
    ) -> Self {
        Self {
            rule,
            access,
            throttle,
            summary,
            stream: None,
            channels: &[],
        }
    }

    #[doc(hidden)]
    pub const fn __stream(mut self, kind: StreamKind, channels: &'static [Channel<S>]) -> Self {
        self.stream = Some(kind);
        self.channels = channels;
        self
    }

    #[doc(hidden)]
    pub const fn __channel(
        channel: &'static Channel<S>,
        kind: StreamKind,
        throttle: Option<&'static str>,
        summary: &'static str,
    ) -> Self {
        Self {
            rule: ScopeRule::Fixed(channel.requirement()),
            access: channel.access(),
            throttle,
            summary,
            stream: Some(kind),
            channels: core::slice::from_ref(channel),
        }
    }

    /// The kind of stream the handler serves (`stream = ..`), if any.
    pub const fn stream(&self) -> Option<StreamKind> {
        self.stream
    }

    /// The channels the handler's stream serves (`channel = ..` or
    /// `channels = ..`).
    pub const fn channels(&self) -> &'static [Channel<S>] {
        self.channels
    }

    /// The declared throttling bucket (`throttle = ".."`; Funkwhale calls
    /// it a scope), if any.
    pub const fn throttle(&self) -> Option<&'static str> {
        self.throttle
    }

    /// The declared rule.
    pub const fn rule(&self) -> ScopeRule<S> {
        self.rule
    }

    /// The declared token kind.
    pub const fn access(&self) -> Access {
        self.access
    }

    /// The first paragraph of the handler's doc comment.
    pub const fn summary(&self) -> &'static str {
        self.summary
    }
}

/// Implemented by the hidden item `#[requires_scope]` writes next to a
/// handler; `scope_routes!` reads it to build the table.
#[diagnostic::on_unimplemented(
    message = "the handler's scopes are not from the table's hierarchy `{S}`",
    note = "name the table's hierarchy in the handler's attribute: `#[requires_scope(\"..\", hierarchy = {S})]`"
)]
pub trait ScopedHandler<S: Scope> {
    /// The declaration. A handler with scopes implements this for its
    /// hierarchy only; a `public` handler for every hierarchy.
    const DECLARATION: HandlerScope<S>;
}

/// One row of the route→scope table.
#[derive(Debug, Clone, Copy)]
pub struct Route<S: 'static> {
    method: Method,
    path: &'static str,
    shape: RouteShape,
    handler: &'static str,
    requirement: Requirement<S>,
    access: Access,
    throttle: Option<&'static str>,
    summary: &'static str,
    stream: Option<StreamKind>,
    channels: &'static [Channel<S>],
}

impl<S: Copy> Route<S> {
    #[doc(hidden)]
    pub const fn __new(
        method: Method,
        path: &'static str,
        handler: &'static str,
        declaration: HandlerScope<S>,
    ) -> Self {
        Self {
            method,
            path,
            shape: RouteShape::of_path(path),
            handler,
            requirement: declaration.rule.for_method(method),
            access: declaration.access,
            throttle: declaration.throttle,
            summary: declaration.summary,
            stream: declaration.stream,
            channels: declaration.channels,
        }
    }

    /// The kind of stream the route serves (`stream = ..`), if any: its
    /// token may also come from the query (and, for WebSocket, the
    /// `Sec-WebSocket-Protocol` header), and its handler may take a
    /// [`Watch`](crate::stream::Watch).
    pub const fn stream(&self) -> Option<StreamKind> {
        self.stream
    }

    /// The channels the route's stream serves, as declared (`channel = ..`
    /// or `channels = ..`): each is checked when a client subscribes.
    pub const fn channels(&self) -> &'static [Channel<S>] {
        self.channels
    }

    /// The throttling bucket the handler declared (`throttle = "oauth-app"`;
    /// Funkwhale calls it a scope): a rate limiter counts the route in that
    /// bucket instead of one derived from its method and [shape](Self::shape).
    pub const fn throttle(&self) -> Option<&'static str> {
        self.throttle
    }

    /// The HTTP method.
    pub const fn method(&self) -> Method {
        self.method
    }

    /// The path, in axum syntax (`/api/v1/statuses/{id}`).
    pub const fn path(&self) -> &'static str {
        self.path
    }

    /// The shape of the path, computed when the table was built.
    pub const fn shape(&self) -> RouteShape {
        self.shape
    }

    /// The handler, as written in `scope_routes!` (`statuses::show`).
    pub const fn handler(&self) -> &'static str {
        self.handler
    }

    /// The scopes required for this method.
    pub const fn requirement(&self) -> Requirement<S> {
        self.requirement
    }

    /// Who may call the route.
    pub const fn access(&self) -> Access {
        self.access
    }

    /// The first paragraph of the handler's doc comment.
    pub const fn summary(&self) -> &'static str {
        self.summary
    }
}

/// A route table written by `scope_routes!`: the `const` rows and the
/// router that serves exactly those rows, each behind its enforcement.
pub trait RouteTable {
    /// The hierarchy of every handler in the table.
    type Scope: Scope;
    /// The axum state the handlers take.
    type State: Clone + Send + Sync + 'static;
    /// The rows, in declaration order.
    const ROUTES: &'static [Route<Self::Scope>];
    /// The router: one route per row, each wrapped in the enforcement layer
    /// of its row, so the table and the served routes cannot disagree.
    fn router(enforcer: Enforcer<Self::Scope>) -> axum::Router<Self::State>;
}
