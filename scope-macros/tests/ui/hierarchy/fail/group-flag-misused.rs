use scope_runtime::scope_hierarchy;

scope_hierarchy! {
    pub Api {
        read { statuses },
        #[group(hidden)]
        admin { read },
        #[group]
        #[group]
        moderation { read },
    }
}

fn main() {}
