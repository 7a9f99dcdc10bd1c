use scope_runtime::scope_hierarchy;

scope_hierarchy! {
    pub Api {
        read { statuses },
        #[deprecated(since = "3.5.0", since = "3.6.0")]
        follow = ["read"],
    }
}

fn main() {}
