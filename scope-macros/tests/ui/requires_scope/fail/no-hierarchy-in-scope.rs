use scope_runtime::{requires_scope, scope_hierarchy};

scope_hierarchy! { pub Api { read { statuses } } }

// No hierarchy named `Scope` here, and none given.
#[requires_scope("read:statuses")]
async fn show() {}

fn main() {}
