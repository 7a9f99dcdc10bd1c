use scope_runtime::{scope, scope_hierarchy};

scope_hierarchy! {
    pub Api {
        read { playlists, favorites },
        write { playlists, favorites },
    }
}

fn main() {
    let _ = scope!(Api, "write:playlist");
}
