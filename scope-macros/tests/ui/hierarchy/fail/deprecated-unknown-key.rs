use scope_runtime::scope_hierarchy;

scope_hierarchy! {
    pub Api {
        read { statuses },
        #[deprecated(since = "3.5.0", reason = "use read")]
        follow = ["read"],
    }
}

fn main() {}
