//! Stream routes: one channel each, and a table chosen at run time.
use scope_runtime::prelude::*;
use scope_runtime::stream::{ChannelTable, StreamKind, Watch};
use scope_runtime::scope_channels;

scope_hierarchy! { pub Scope { #[default] read { statuses, notifications }, write { statuses } } }

scope_channels! {
    /// Channels.
    pub Channels: Scope {
        /// Home.
        USER = "user" => "read:statuses", token = user;
        /// Either.
        EITHER = "either" => any("read:statuses", "read:notifications");
        /// Both.
        BOTH = "both" => all("read:statuses", "read:notifications"), token = app;
        /// Any token.
        ANY = "any" => authenticated;
    }
}

#[requires_scope(stream = sse, channel = Channels::USER)]
async fn user(_watch: Watch<Scope>) {}

#[requires_scope(authenticated, token = user, stream = websocket, channels = Channels)]
async fn socket(_watch: Watch<Scope>) {}

#[requires_scope("read:statuses", token = optional, stream = sse)]
async fn public(_watch: Option<Watch<Scope>>) {}

scope_routes! {
    pub Api {
        GET "/user" => user,
        GET "/socket" => socket,
        GET "/public" => public,
    }
}

fn main() {
    assert_eq!(Api::ROUTES[0].stream(), Some(StreamKind::Sse));
    assert_eq!(Api::ROUTES[1].stream(), Some(StreamKind::WebSocket));
    assert_eq!(Api::ROUTES[1].channels().len(), Channels::CHANNELS.len());
    assert_eq!(Channels::BOTH.access(), scope_runtime::route::Access::App);
    let _: Router = Api::router(Enforcer::new(scope_runtime::token::InMemoryValidator::new()));
}
use axum::Router;
