use scope_runtime::scope_hierarchy;

scope_hierarchy! {
    pub Api {
        #[doc(hidden)]
        read { statuses },
    }
}

fn main() {}
