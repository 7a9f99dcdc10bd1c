use scope_runtime::scope_hierarchy;

scope_hierarchy! {
    pub Api {}
}

fn main() {}
