// A misspelt scope of a hierarchy declared in another crate gets the same
// message and suggestion as one of this crate's.
use scope_hierarchies::MastodonScope;
use scope_runtime::{requires_scope, scope};

#[requires_scope("write:statuss", hierarchy = scope_hierarchies::MastodonScope)]
async fn post() {}

const S: MastodonScope = scope!(MastodonScope, "read:notification");

fn main() {}
