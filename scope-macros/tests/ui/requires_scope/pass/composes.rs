//! The attribute leaves the handler alone: it composes with other
//! attributes, keeps its signature and visibility, and works in modules with
//! an explicit hierarchy.
use scope_runtime::route::{Access, RouteTable};
use scope_runtime::{requires_scope, scope_hierarchy, scope_routes};

mod scopes {
    scope_runtime::scope_hierarchy! {
        pub MastodonScope { #[default] read { statuses }, write { statuses } }
    }
}

scope_hierarchy! { pub Scope { read { x } } }

mod handlers {
    use super::scopes::MastodonScope;
    use scope_runtime::requires_scope;

    /// Shows a status.
    ///
    /// Longer text that is not part of the summary.
    #[requires_scope("read:statuses", hierarchy = MastodonScope, token = optional)]
    #[allow(clippy::unused_async)]
    #[inline]
    pub async fn show(axum::extract::Path(id): axum::extract::Path<u64>) -> String {
        id.to_string()
    }

    #[allow(unused_variables)]
    #[requires_scope(public)]
    pub async fn health() -> &'static str {
        "ok"
    }
}

// Handlers can still be called directly.
#[requires_scope("read:x")]
async fn direct() -> u8 {
    7
}

scope_routes! {
    pub Api<scopes::MastodonScope> {
        GET "/statuses/{id}" => handlers::show,
        GET | HEAD "/health" => handlers::health,
    }
}

fn main() {
    assert_eq!(Api::ROUTES[0].summary(), "Shows a status.");
    assert_eq!(Api::ROUTES[0].access(), Access::Optional);
    assert_eq!(Api::ROUTES[0].handler(), "handlers::show");
    assert_eq!(Api::ROUTES[2].access(), Access::Public);
    let _ = direct();
}
