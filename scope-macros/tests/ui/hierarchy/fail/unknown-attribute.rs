use scope_runtime::scope_hierarchy;

scope_hierarchy! {
    pub Api {
        #[defualt]
        read { statuses },
    }
}

fn main() {}
