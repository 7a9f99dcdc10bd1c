use scope_runtime::{requires_scope, scope_hierarchy};

scope_hierarchy! { pub Scope { #[default] read { statuses, accounts }, write { statuses } } }

#[requires_scope("read:statuses", token = any)]
async fn show() {}

fn main() {}
