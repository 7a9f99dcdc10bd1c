use scope_runtime::scope_hierarchy;

scope_hierarchy! {
    pub Api {
        #[default(true)]
        read { statuses },
    }
}

fn main() {}
