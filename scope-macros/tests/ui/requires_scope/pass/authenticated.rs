//! `authenticated`: any valid token, no scope, for every hierarchy (like
//! `public`); `throttle` names the route's rate-limit bucket.
use scope_runtime::route::{Access, Requirement, RouteTable};
use scope_runtime::{requires_scope, scope_hierarchy, scope_routes};

scope_hierarchy! { pub Scope { #[default] read { statuses }, write { statuses } } }

mod other {
    scope_runtime::scope_hierarchy! { pub Other { read } }
}

/// The app of the token.
#[requires_scope(authenticated)]
async fn verify() {}

#[requires_scope(authenticated, token = user, throttle = "oauth-token")]
async fn me() {}

#[requires_scope(public, throttle = "oauth-app")]
async fn register() {}

scope_routes! {
    pub Api {
        GET "/verify" => verify,
        GET "/me" => me,
        POST "/apps" => register,
    }
}

// Scope-free declarations hold for any hierarchy.
scope_routes! {
    pub OtherApi<other::Other> {
        GET "/verify" => verify,
    }
}

fn main() {
    assert_eq!(Api::ROUTES[0].requirement(), Requirement::None);
    assert_eq!(Api::ROUTES[0].access(), Access::Required);
    assert_eq!(Api::ROUTES[0].throttle(), None);
    assert_eq!(Api::ROUTES[1].access(), Access::User);
    assert_eq!(Api::ROUTES[1].throttle(), Some("oauth-token"));
    assert_eq!(Api::ROUTES[2].access(), Access::Public);
    assert_eq!(Api::ROUTES[2].throttle(), Some("oauth-app"));
    assert_eq!(OtherApi::ROUTES[0].access(), Access::Required);
}
