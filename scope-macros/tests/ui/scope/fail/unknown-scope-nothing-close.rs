use scope_runtime::{scope, scope_hierarchy};

scope_hierarchy! {
    pub Api {
        read { playlists },
        write { playlists },
        push,
    }
}

fn main() {
    let _ = scope!(Api, "zzz");
}
