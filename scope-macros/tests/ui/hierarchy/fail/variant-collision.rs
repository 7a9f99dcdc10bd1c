use scope_runtime::scope_hierarchy;

scope_hierarchy! {
    pub Api {
        read { email_blocks, email { blocks } },
    }
}

fn main() {}
