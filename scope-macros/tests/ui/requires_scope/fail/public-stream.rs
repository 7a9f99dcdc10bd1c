use scope_runtime::stream::Watch;
use scope_runtime::{requires_scope, scope_hierarchy};

scope_hierarchy! { pub Scope { read { statuses } } }

// A public route never reads a token: its Watch could never be had.
#[requires_scope(public, stream = sse)]
async fn events(_watch: Option<Watch<Scope>>) {}

fn main() {}
