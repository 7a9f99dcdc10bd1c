use scope_runtime::{requires_scope, scope_hierarchy, scope_routes};

scope_hierarchy! { pub Scope { #[default] read { statuses }, write { statuses } } }

#[requires_scope("read:statuses")]
async fn show() {}

scope_routes! {
    pub Api {
        GET "/statuses" => show,
        GET "/statuses" => show,
    }
}

fn main() {}
