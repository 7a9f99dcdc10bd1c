#![deny(deprecated)]
use scope_runtime::{scope, scope_hierarchy};

scope_hierarchy! {
    pub Api {
        read { blocks },
        #[deprecated(since = "3.5.0", note = "request read:blocks instead")]
        follow = ["read:blocks"],
    }
}

fn main() {
    let _ = scope!(Api, "follow");
}
