use scope_runtime::{scope, scope_hierarchy};

scope_hierarchy! {
    pub Api {
        read { statuses },
        #[group]
        admin { read { accounts }, write { accounts } },
    }
}

fn main() {
    let _ = scope!(Api, "admin");
}
