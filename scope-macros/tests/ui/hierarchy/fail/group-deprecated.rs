use scope_runtime::scope_hierarchy;

scope_hierarchy! {
    pub Api {
        #[group]
        #[deprecated(since = "2.0")]
        admin { read, write },
    }
}

fn main() {}
