use scope_runtime::scope_hierarchy;

scope_hierarchy! {
    pub Api {
        read { statuses, accounts, statuses },
    }
}

fn main() {}
