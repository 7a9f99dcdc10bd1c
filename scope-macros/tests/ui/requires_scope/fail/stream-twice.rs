use scope_runtime::{requires_scope, scope_channels, scope_hierarchy};

scope_hierarchy! { pub Scope { #[default] read { statuses, notifications }, write { statuses } } }

scope_channels! { pub Channels: Scope { USER = "user" => "read:statuses", token = user; } }

#[requires_scope("read:statuses", stream = sse, stream = websocket)]
async fn user(_watch: scope_runtime::stream::Watch<Scope>) {}

fn main() {}
