use scope_runtime::scope_hierarchy;

scope_hierarchy! {
    pub Api {
        read { blocks, follows },
        write { blocks, follows },
        follow = ["read:blocks", "write:follow"],
    }
}

fn main() {}
