use scope_runtime::{scope, scope_hierarchy};

scope_hierarchy! {
    pub Api {
        read { playlists },
        write { playlists },
    }
}

fn main() {
    let _ = scope!(Api, "playlists");
}
