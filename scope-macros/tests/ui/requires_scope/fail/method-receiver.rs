use scope_runtime::{requires_scope, scope_hierarchy};

scope_hierarchy! { pub Scope { read { statuses } } }

struct Handlers;

impl Handlers {
    #[requires_scope("read:statuses")]
    async fn show(&self) {}
}

fn main() {}
