use scope_runtime::{requires_scope, scope_hierarchy};

scope_hierarchy! { pub Scope { read { statuses } } }

#[requires_scope("read:statuses", crate = scope_runtime, crate = scope_runtime)]
async fn show() {}

fn main() {}
