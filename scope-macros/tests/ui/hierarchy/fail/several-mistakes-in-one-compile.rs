use scope_runtime::scope_hierarchy;

// Three independent mistakes: all three are reported by one build.
scope_hierarchy! {
    pub Api {
        read { statuses, statuses },
        write { statuses },
        follow = ["read:statuse", "write:status"],
    }
}

fn main() {}
