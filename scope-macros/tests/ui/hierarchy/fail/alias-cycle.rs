use scope_runtime::scope_hierarchy;

scope_hierarchy! {
    pub Api {
        read { statuses },
        legacy = ["compat"],
        compat = ["legacy"],
    }
}

fn main() {}
