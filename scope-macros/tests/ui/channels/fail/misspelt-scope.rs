use scope_runtime::{scope_channels, scope_hierarchy};

scope_hierarchy! { pub Scope { #[default] read { statuses, notifications } } }

scope_channels! {
    pub Channels: Scope {
        /// The home timeline.
        USER = "user" => "read:status", token = user;
    }
}

fn main() {}
