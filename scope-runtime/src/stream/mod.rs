//! Long-lived streams under the same enforcement as every other route.
//!
//! A Server-Sent Events or WebSocket route is declared like any other, with
//! `stream = sse` or `stream = websocket` added
//! (`#[requires_scope("read:statuses", token = user, stream = sse)]`). The
//! enforcer checks its request as it checks every request; a stream route
//! also accepts the token where browsers' `EventSource` and `WebSocket`
//! can put it (an `access_token` query parameter, and for WebSocket the
//! `Sec-WebSocket-Protocol` header), after the `Authorization` header,
//! the order Mastodon's streaming server reads them in.
//!
//! What a REST route checks once, a stream must keep true while it is open:
//! its handler takes a [`Watch`], whose [`ended`](Watch::ended) resolves
//! when the stream has to end: the token was revoked, expired, or stopped
//! validating (its user disabled), or it no longer carries the scopes of
//! the route and of the channels the stream serves. [`OpenStreams`] is how
//! revocations reach open streams at once; without a notice, a stream is
//! checked again every [`Enforcer::stream_recheck`](crate::Enforcer::stream_recheck)
//! interval (through the validator, so through its cache).
//!
//! A stream whose channel is chosen at run time (a WebSocket `subscribe`
//! message, a query parameter) declares its channels once with
//! [`scope_channels!`](crate::scope_channels): each channel's scopes are
//! checked at compile time like a route's, listed in the generated docs,
//! and checked with [`Watch::admit`] before anything of the channel is
//! sent. A route that serves one channel takes the channel's declaration
//! (`#[requires_scope(stream = sse, channel = Channels::USER)]`), so it is
//! written once.
//!
//! ```
//! use axum::response::sse::{Event, Sse};
//! use scope_runtime::prelude::*;
//! use scope_runtime::stream::Watch;
//! use scope_runtime::{scope_channels, scope_hierarchy};
//!
//! scope_hierarchy! { pub Scope { #[default] read { statuses, notifications } } }
//!
//! scope_channels! {
//!     /// The channels of the streaming API.
//!     pub Channels: Scope {
//!         /// The home timeline.
//!         USER = "user" => "read:statuses", token = user;
//!         /// Notifications only.
//!         NOTIFICATIONS = "user:notification" => "read:notifications", token = user;
//!     }
//! }
//!
//! /// Events of the home timeline.
//! #[requires_scope(stream = sse, channel = Channels::USER)]
//! async fn user(watch: Watch<Scope>) -> Sse<impl futures_core::Stream<Item = Result<Event, std::convert::Infallible>>> {
//!     // The events would come from the server's fan-out; this one sends one.
//!     let events = futures_util::stream::once(async {
//!         Ok(Event::default().event("update").data("{}"))
//!     });
//!     // The stream ends when its token stops allowing it.
//!     Sse::new(watch.until(events))
//! }
//!
//! scope_routes! { pub Api { GET "/api/v1/streaming/user" => user } }
//! # let _ = Api::ROUTES;
//! ```

mod open;
pub(crate) mod watch;

use core::fmt;

#[doc(inline)]
pub use self::open::{DEFAULT_PER_TOKEN, DEFAULT_PER_USER, OpenStreams, TooManyStreams};
#[doc(inline)]
pub use self::watch::{Ended, Until, Watch, WatchRejection};
use crate::route::{Access, Requirement};
use crate::scope::Scope;

/// What kind of stream a route serves (`#[requires_scope(stream = ..)]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamKind {
    /// Server-Sent Events (`text/event-stream`): the token may also come in
    /// an `access_token` query parameter.
    Sse,
    /// WebSocket: the token may also come in an `access_token` query
    /// parameter or as the `Sec-WebSocket-Protocol` header.
    WebSocket,
}

impl StreamKind {
    /// The keyword of `#[requires_scope(stream = ..)]`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sse => "sse",
            Self::WebSocket => "websocket",
        }
    }

    /// A human description, used in generated documentation.
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Sse => "Server-Sent Events",
            Self::WebSocket => "WebSocket",
        }
    }
}

impl fmt::Display for StreamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A channel of a stream, chosen at run time: its name, the scopes and the
/// token kind it needs. Declared with [`scope_channels!`](crate::scope_channels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channel<S: 'static> {
    name: &'static str,
    requirement: Requirement<S>,
    access: Access,
    summary: &'static str,
}

impl<S: Copy> Channel<S> {
    #[doc(hidden)]
    pub const fn __new(
        name: &'static str,
        requirement: Requirement<S>,
        access: Access,
        summary: &'static str,
    ) -> Self {
        Self {
            name,
            requirement,
            access,
            summary,
        }
    }

    /// The channel's name, as clients spell it (`user:notification`).
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The scopes the channel needs.
    pub const fn requirement(&self) -> Requirement<S> {
        self.requirement
    }

    /// Who may subscribe.
    pub const fn access(&self) -> Access {
        self.access
    }

    /// The first paragraph of the channel's doc comment.
    pub const fn summary(&self) -> &'static str {
        self.summary
    }
}

/// A set of channels written by [`scope_channels!`](crate::scope_channels).
pub trait ChannelTable {
    /// The hierarchy of the channels' scopes.
    type Scope: Scope;
    /// The channels, in declaration order.
    const CHANNELS: &'static [Channel<Self::Scope>];

    /// The channel called `name`, if any.
    fn find(name: &str) -> Option<&'static Channel<Self::Scope>> {
        Self::CHANNELS.iter().find(|c| c.name == name)
    }
}

#[doc = include_str!("../docs/scope_channels.md")]
#[macro_export]
macro_rules! scope_channels {
    (
        $(#[$meta:meta])*
        $vis:vis $name:ident : $($hierarchy:ident)::+ { $($body:tt)* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        $vis struct $name;

        impl $crate::stream::ChannelTable for $name {
            type Scope = $($hierarchy)::+;
            const CHANNELS: &'static [$crate::stream::Channel<$($hierarchy)::+>] = Self::__CHANNELS;
        }

        $crate::__scope_channels! { [$vis] $name [$($hierarchy)::+] $($body)* }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __scope_channels {
    (
        [$vis:vis] $name:ident $hierarchy:tt
        $(
            $(#[doc = $doc:literal])*
            $channel:ident = $channel_name:literal => $rule:tt $(($($list:literal),* $(,)?))?
                $(, token = $token:ident)? ;
        )*
    ) => {
        impl $name {
            $(
                $(#[doc = $doc])*
                $vis const $channel: $crate::stream::Channel<<$name as $crate::stream::ChannelTable>::Scope> =
                    $crate::stream::Channel::__new(
                        $channel_name,
                        $crate::__scope_channel_rule!($hierarchy $rule $(($($list),*))?),
                        $crate::__scope_channel_access!($($token)?),
                        $crate::__private::summary(&[$($doc),*]),
                    );
            )*

            #[doc(hidden)]
            const __CHANNELS: &'static [$crate::stream::Channel<<$name as $crate::stream::ChannelTable>::Scope>] =
                &[$(Self::$channel),*];
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __scope_channel_rule {
    ($h:tt authenticated) => {
        $crate::route::Requirement::None
    };
    ($h:tt any($($lit:literal),+)) => {
        $crate::route::Requirement::AnyOf(&[$($crate::__scope_channel_scope!($h $lit)),+])
    };
    ($h:tt all($($lit:literal),+)) => {
        $crate::route::Requirement::AllOf(&[$($crate::__scope_channel_scope!($h $lit)),+])
    };
    ($h:tt $lit:literal) => {
        $crate::route::Requirement::Scope($crate::__scope_channel_scope!($h $lit))
    };
    ($h:tt $other:tt $($rest:tt)*) => {
        ::core::compile_error!(concat!(
            "a channel needs a scope string, `any(\"..\", ..)`, `all(\"..\", ..)` or `authenticated`; found `",
            stringify!($other $($rest)*), "`"
        ))
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __scope_channel_scope {
    ([$($h:tt)*] $lit:literal) => {
        $crate::scope!($($h)*, $lit)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __scope_channel_access {
    () => {
        $crate::route::Access::Required
    };
    (required) => {
        $crate::route::Access::Required
    };
    (user) => {
        $crate::route::Access::User
    };
    (app) => {
        $crate::route::Access::App
    };
    ($other:ident) => {
        ::core::compile_error!(concat!(
            "unknown token kind `", stringify!($other),
            "` for a channel; expected `required`, `user` or `app` (a channel is served on an open stream, which has a token)"
        ))
    };
}
