//! A hierarchy declared in another crate (`scope_hierarchies`), used with
//! compile-time checked names from this one: imported, by path, and
//! re-exported under another name.

use scope_hierarchies::MastodonScope;
use scope_runtime::{Principal, requires_scope, scope, scope_routes};

mod shared {
    // A shared auth crate's re-export: the type and its lookup macro go together.
    pub use scope_hierarchies::MastodonScope as Scope;
}

/// Imported.
#[requires_scope("read:statuses", hierarchy = MastodonScope)]
async fn imported(_who: Principal<MastodonScope>) {}

/// By path, without an import.
#[requires_scope(any("write:statuses", "write:media"), token = user, hierarchy = scope_hierarchies::MastodonScope)]
async fn by_path() {}

use shared::Scope;

/// Under the default name `Scope`, re-exported.
#[requires_scope("read:accounts")]
async fn renamed(_who: Principal<Scope>) {}

const FOLLOW: MastodonScope = scope!(MastodonScope, "write:follows");
const PROFILE: Scope = scope!(scope_hierarchies::MastodonScope, "profile");

scope_routes! {
    pub Api<MastodonScope> {
        GET "/a" => imported,
        POST "/b" => by_path,
        GET "/c" => renamed,
    }
}

fn main() {
    use scope_runtime::route::RouteTable;
    assert_eq!(Api::ROUTES[2].requirement().to_string(), "read:accounts");
    assert_eq!(FOLLOW.name(), "write:follows");
    assert_eq!(PROFILE, MastodonScope::Profile);
}
