use scope_runtime::scope_hierarchy;

scope_hierarchy! {
    pub Api {
        read { statuses },
        #[deprecated(since = 3)]
        follow = ["read"],
    }
}

fn main() {}
