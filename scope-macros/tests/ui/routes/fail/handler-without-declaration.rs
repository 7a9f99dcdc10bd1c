use scope_runtime::{requires_scope, scope_hierarchy, scope_routes};

scope_hierarchy! { pub Scope { #[default] read { statuses }, write { statuses } } }

#[requires_scope("read:statuses")]
async fn show() {}

async fn undeclared() {}

scope_routes! {
    pub Api {
        GET "/statuses" => show,
        POST "/statuses" => undeclared,
    }
}

fn main() {}
