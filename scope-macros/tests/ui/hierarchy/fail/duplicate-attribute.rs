use scope_runtime::scope_hierarchy;

scope_hierarchy! {
    pub Api {
        #[default]
        #[default]
        read { statuses },
        #[deprecated]
        #[deprecated = "twice"]
        follow = ["read"],
    }
}

fn main() {}
