use scope_runtime::{scope_channels, scope_hierarchy};

scope_hierarchy! { pub Scope { #[default] read { statuses } } }

scope_channels! {
    pub Channels: Scope {
        USER = "user" => public;
    }
}

fn main() {}
