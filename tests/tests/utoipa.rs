//! `docgen::utoipa::ScopeSecurity` on a real utoipa document: handlers
//! annotated with `#[utoipa::path]` and `#[requires_scope]`, the document
//! from `#[derive(OpenApi)]`, the table's security added by the modifier.

use scope_runtime::docgen::utoipa::{Endpoint, ScopeSecurity};
use scope_runtime::docgen::{self, OpenApiInfo};
use scope_runtime::route::RouteTable;
use scope_runtime::{requires_scope, scope_hierarchy, scope_routes};
use serde_json::{Value, json};
use utoipa::OpenApi;

scope_hierarchy! {
    /// The scopes of this test.
    pub Scope {
        /// read all your account's data
        #[default]
        read {
            /// see accounts information
            accounts,
            /// see your follows
            follows,
            /// see all posts
            statuses,
        },
        /// modify all your account's data
        write {
            /// publish posts
            statuses,
        },
    }
}

/// Instance information.
#[utoipa::path(get, path = "/api/v1/instance", responses((status = 200, description = "The instance")))]
#[requires_scope(public)]
async fn instance() -> &'static str {
    "{}"
}

/// Post a new status.
#[utoipa::path(post, path = "/api/v1/statuses", responses((status = 200, description = "The status")))]
#[requires_scope("write:statuses", token = user)]
async fn post_status() -> &'static str {
    "{}"
}

/// Relationships with other accounts.
#[utoipa::path(get, path = "/api/v1/accounts/relationships", responses((status = 200, description = "The relationships")))]
#[requires_scope(any("read:follows", "read:accounts"))]
async fn relationships() -> &'static str {
    "[]"
}

/// Follow suggestions.
#[utoipa::path(get, path = "/api/v2/suggestions", responses((status = 200, description = "The suggestions")))]
#[requires_scope(all("read:accounts", "read:follows"))]
async fn suggestions() -> &'static str {
    "[]"
}

/// View a single status (utoipa's `{id}`, the table's `{status_id}`).
#[utoipa::path(get, path = "/api/v1/statuses/{id}", params(("id" = String, Path)), responses((status = 200, description = "The status")))]
#[requires_scope("read:statuses", token = optional)]
async fn show_status() -> &'static str {
    "{}"
}

/// The current account.
#[utoipa::path(get, path = "/api/v1/accounts/verify_credentials", responses((status = 200, description = "The account")))]
#[requires_scope(authenticated)]
async fn me() -> &'static str {
    "{}"
}

/// Documented, but not in the table (a server would route it with plain
/// axum; here only its documentation matters).
#[allow(dead_code)]
#[utoipa::path(get, path = "/api/v1/health", responses((status = 200, description = "Healthy")))]
async fn health() -> &'static str {
    "ok"
}

/// In the table, but not documented.
#[requires_scope("read:accounts")]
async fn lookup() -> &'static str {
    "{}"
}

scope_routes! {
    /// The table: every handler above but `health`, and `lookup`.
    pub Api {
        GET "/api/v1/instance" => instance,
        POST "/api/v1/statuses" => post_status,
        GET "/api/v1/accounts/relationships" => relationships,
        GET "/api/v2/suggestions" => suggestions,
        GET "/api/v1/statuses/{status_id}" => show_status,
        GET "/api/v1/accounts/verify_credentials" => me,
        GET "/api/v1/accounts/lookup" => lookup,
    }
}

/// The modifier: a `const`, since `modifiers(&..)` takes a path.
const SECURITY: ScopeSecurity<'static, Scope> = ScopeSecurity::new(
    Api::ROUTES,
    "https://auth.example/oauth/authorize",
    "https://auth.example/oauth/token",
);

#[derive(OpenApi)]
#[openapi(
    paths(instance, post_status, relationships, suggestions, show_status, me, health),
    modifiers(&SECURITY)
)]
struct ApiDoc;

fn security(doc: &Value, method: &str, path: &str) -> Value {
    doc["paths"][path][method]["security"].clone()
}

#[test]
fn modifier_sets_each_operations_security_as_our_openapi_does() {
    let doc = serde_json::to_value(ApiDoc::openapi()).expect("serializable");
    // public: no requirement at all (`[]` overrides any global one).
    assert_eq!(security(&doc, "get", "/api/v1/instance"), json!([]));
    // one scope, user token.
    assert_eq!(
        security(&doc, "post", "/api/v1/statuses"),
        json!([{ "oauth2": ["write:statuses"] }])
    );
    // any of: one alternative per scope.
    assert_eq!(
        security(&doc, "get", "/api/v1/accounts/relationships"),
        json!([{ "oauth2": ["read:follows"] }, { "oauth2": ["read:accounts"] }])
    );
    // all of: one alternative holding both.
    assert_eq!(
        security(&doc, "get", "/api/v2/suggestions"),
        json!([{ "oauth2": ["read:accounts", "read:follows"] }])
    );
    // optional token: anonymous first, then the scope; parameter names differ.
    assert_eq!(
        security(&doc, "get", "/api/v1/statuses/{id}"),
        json!([{}, { "oauth2": ["read:statuses"] }])
    );
    // a valid token, no scope.
    assert_eq!(
        security(&doc, "get", "/api/v1/accounts/verify_credentials"),
        json!([{ "oauth2": [] }])
    );
    // not in the table: left alone.
    assert_eq!(doc["paths"]["/api/v1/health"]["get"].get("security"), None);

    // The same requirements as our own OpenAPI output, route by route.
    let ours = docgen::openapi(Api::ROUTES, &OpenApiInfo::default());
    for route in Api::ROUTES.iter().filter(|r| r.handler() != "lookup") {
        let path = if route.handler() == "show_status" {
            "/api/v1/statuses/{id}"
        } else {
            route.path()
        };
        let method = route.method().as_str().to_ascii_lowercase();
        assert_eq!(
            security(&doc, &method, path),
            ours["paths"][route.path()][&method]["security"],
            "{method} {path}"
        );
    }
}

#[test]
fn modifier_adds_the_oauth2_scheme_with_descriptions() {
    let doc = serde_json::to_value(ApiDoc::openapi()).expect("serializable");
    let scheme = &doc["components"]["securitySchemes"]["oauth2"];
    assert_eq!(scheme["type"], "oauth2");
    let code = &scheme["flows"]["authorizationCode"];
    assert_eq!(
        code["authorizationUrl"],
        "https://auth.example/oauth/authorize"
    );
    assert_eq!(code["tokenUrl"], "https://auth.example/oauth/token");
    assert_eq!(
        scheme["flows"]["clientCredentials"]["tokenUrl"],
        "https://auth.example/oauth/token"
    );
    let scopes = code["scopes"].as_object().expect("scopes");
    assert_eq!(scopes.len(), 6, "{scopes:?}");
    assert_eq!(scopes["read"], "read all your account's data");
    assert_eq!(scopes["read:follows"], "see your follows");
    assert_eq!(scopes["write:statuses"], "publish posts");
    // The same scheme as our own OpenAPI output names and fills it.
    let ours = docgen::openapi(
        Api::ROUTES,
        &OpenApiInfo {
            authorization_url: "https://auth.example/oauth/authorize".into(),
            token_url: "https://auth.example/oauth/token".into(),
            ..OpenApiInfo::default()
        },
    );
    assert_eq!(
        scheme["flows"],
        ours["components"]["securitySchemes"]["oauth2"]["flows"]
    );
}

#[test]
fn apply_reports_what_does_not_match() {
    let mut doc = ApiDoc::openapi();
    let report =
        ScopeSecurity::new(Api::ROUTES, "/oauth/authorize", "/oauth/token").apply(&mut doc);
    assert!(!report.is_complete());
    assert_eq!(report.secured, 6);
    let endpoint = |method: &str, path: &str| Endpoint {
        method: method.into(),
        path: path.into(),
    };
    assert_eq!(report.unmatched, [endpoint("GET", "/api/v1/health")]);
    assert_eq!(
        report.undocumented,
        [endpoint("GET", "/api/v1/accounts/lookup")]
    );
}

#[test]
fn scheme_name_is_configurable() {
    let mut doc = ApiDoc::openapi();
    ScopeSecurity::new(Api::ROUTES, "/oauth/authorize", "/oauth/token")
        .scheme_name("mastodon")
        .apply(&mut doc);
    let doc = serde_json::to_value(doc).expect("serializable");
    assert_eq!(
        doc["components"]["securitySchemes"]["mastodon"]["type"],
        "oauth2"
    );
    assert_eq!(
        security(&doc, "post", "/api/v1/statuses"),
        json!([{ "mastodon": ["write:statuses"] }])
    );
    assert_eq!(
        security(&doc, "get", "/api/v1/statuses/{id}"),
        json!([{}, { "mastodon": ["read:statuses"] }])
    );
}
