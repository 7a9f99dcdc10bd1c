use scope_runtime::{scope, scope_hierarchy};

scope_hierarchy! {
    pub Api {
        read { statuses },
    }
}

fn main() {
    let _ = scope!(Api, 'r');
}
