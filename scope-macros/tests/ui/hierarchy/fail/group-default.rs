use scope_runtime::scope_hierarchy;

scope_hierarchy! {
    pub Api {
        #[group]
        #[default]
        admin { read, write },
    }
}

fn main() {}
