use scope_runtime::scope_hierarchy;

scope_hierarchy! {
    pub Api {
        read { statuses },
        #[deprecated = 350]
        follow = ["read"],
    }
}

fn main() {}
