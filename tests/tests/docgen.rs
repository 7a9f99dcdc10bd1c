//! Generated documentation: snapshots of every file for the test API, the
//! shape of the OpenAPI document, and the check mode on both input formats.
//!
//! Regenerate the snapshots with `UPDATE_SNAPSHOTS=1 cargo test -p scope-tests --test docgen`.

mod common;

use std::path::Path;

use common::Api;
use scope_runtime::docgen::{self, CheckOptions, DisagreementKind, OpenApiInfo};
use scope_runtime::route::RouteTable;

fn info() -> OpenApiInfo {
    OpenApiInfo {
        title: "Test API".into(),
        ..OpenApiInfo::default()
    }
}

#[test]
fn snapshots_match() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        docgen::write_all(&dir, Api::ROUTES, &info()).expect("write snapshots");
    }
    let stale = docgen::stale_files(&dir, Api::ROUTES, &info());
    assert!(
        stale.is_empty(),
        "generated docs differ from {stale:?}; rerun with UPDATE_SNAPSHOTS=1 and review the diff"
    );
}

#[test]
fn openapi_carries_scopes_and_security() {
    let doc = docgen::openapi(Api::ROUTES, &info());
    assert_eq!(doc["openapi"], "3.1.0");
    let flows = &doc["components"]["securitySchemes"]["oauth2"]["flows"];
    assert_eq!(
        flows["authorizationCode"]["scopes"]["read:statuses"],
        "see all posts"
    );
    let paths = &doc["paths"];
    assert_eq!(
        paths["/api/v1/statuses"]["post"]["security"],
        serde_json::json!([{ "oauth2": ["write:statuses"] }])
    );
    // any-of: alternatives; optional token: `{}` first.
    assert_eq!(
        paths["/api/v1/accounts/relationships"]["get"]["security"],
        serde_json::json!([{ "oauth2": ["read:follows"] }, { "oauth2": ["read:accounts"] }])
    );
    assert_eq!(
        paths["/api/v1/statuses/{id}"]["get"]["security"],
        serde_json::json!([{}, { "oauth2": ["read:statuses"] }])
    );
    assert_eq!(
        paths["/api/v1/instance"]["get"]["security"],
        serde_json::json!([])
    );
    assert_eq!(
        paths["/api/v1/statuses/{id}"]["get"]["parameters"][0]["name"],
        "id"
    );
    assert_eq!(
        paths["/api/v1/statuses"]["post"]["summary"],
        "Post a new status."
    );
}

#[test]
fn check_reads_tab_separated_matrices() {
    let published = "\
#METHOD\tpath\tscope(s)\ttoken kind
GET\t/api/v1/statuses/:id\tread | read:statuses\tpublic (scope checked if a token is sent)
GET\t/api/v1/accounts/relationships\tread | read:follows\tuser
GET\t/api/v1/instance\t-\tuser
POST\t/api/v1/statuses\twrite | write:statuse\tuser
GET\t/api/v1/not_implemented\tread\tuser
";
    let report = docgen::check(published, Api::ROUTES, &CheckOptions::new());
    let found: Vec<(String, String, DisagreementKind)> = report
        .disagreements
        .iter()
        .map(|d| (d.method.clone(), d.path.clone(), d.kind.clone()))
        .collect();
    let has = |method: &str, path: &str, kind: DisagreementKind| {
        assert!(
            found.contains(&(method.into(), path.into(), kind.clone())),
            "missing {method} {path} {kind:?} in\n{report}"
        );
    };
    has(
        "GET",
        "/api/v1/accounts/relationships",
        DisagreementKind::Scopes {
            published: "read | read:follows".into(),
            code: "any(read:follows, read:accounts)".into(),
        },
    );
    has(
        "GET",
        "/api/v1/instance",
        DisagreementKind::TokenKind {
            published: "user".into(),
            code: "public".into(),
        },
    );
    has(
        "POST",
        "/api/v1/statuses",
        DisagreementKind::UnknownScope("write:statuse".into()),
    );
    has(
        "GET",
        "/api/v1/not_implemented",
        DisagreementKind::OnlyPublished,
    );
    has("GET", "/api/v2/suggestions", DisagreementKind::OnlyInCode);
    assert_eq!(report.compared, 4);
    // The matching row (`read | read:statuses` = `read:statuses`) is not reported.
    assert!(
        !found.iter().any(|(_, p, _)| p == "/api/v1/statuses/:id"),
        "{report}"
    );

    let quiet = docgen::check(
        published,
        Api::ROUTES,
        &CheckOptions::new().implemented_only(true),
    );
    assert!(
        !quiet
            .disagreements
            .iter()
            .any(|d| d.kind == DisagreementKind::OnlyPublished)
    );
}

#[test]
fn check_reads_nested_markdown_lists() {
    // The shape of Mastodon's "OAuth details" page.
    let published = "\
The API is divided up into access scopes:

  • read
    • read:statuses
      • GET /api/v1/statuses/:id
    • read:follows
      • GET /api/v1/accounts/relationships
    • read:accounts
      • GET /api/v1/accounts/relationships
      • GET /api/v1/accounts/verify_credentials
  • write
    • write:statuses
      • POST /api/v1/statuses
";
    let report = docgen::check(
        published,
        Api::ROUTES,
        &CheckOptions::new().implemented_only(true),
    );
    assert_eq!(report.compared, 4);
    assert!(
        report
            .disagreements
            .iter()
            .all(|d| d.kind == DisagreementKind::OnlyInCode),
        "{report}"
    );
}

#[test]
fn the_generated_matrix_checks_clean_against_the_code() {
    let matrix = docgen::markdown_matrix(Api::ROUTES, "Test API");
    let report = docgen::check(&matrix, Api::ROUTES, &CheckOptions::new());
    assert!(report.is_clean(), "{report}\n{matrix}");
    assert_eq!(report.compared, Api::ROUTES.len());
}

#[test]
fn openapi_operation_ids_are_unique() {
    // `playlists` serves GET, POST and DELETE.
    let doc = docgen::openapi(Api::ROUTES, &info());
    let mut ids = std::collections::HashSet::new();
    for item in doc["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("path item").values() {
            let id = op["operationId"].as_str().expect("operationId");
            assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
        }
    }
    assert_eq!(ids.len(), Api::ROUTES.len());
}

#[test]
fn check_follows_the_nesting_of_markdown_lists() {
    // `/api/v1/accounts/verify_credentials` sits under `read`, not under
    // the `read:statuses` item listed before it.
    let published = "\
- read
  - read:statuses
    - GET /api/v1/statuses/:id
  - GET /api/v1/accounts/verify_credentials
";
    let report = docgen::check(
        published,
        Api::ROUTES,
        &CheckOptions::new().implemented_only(true),
    );
    let wrong: Vec<_> = report
        .disagreements
        .iter()
        .filter(|d| d.kind != DisagreementKind::OnlyInCode)
        .collect();
    assert_eq!(wrong.len(), 1, "{report}");
    assert_eq!(wrong[0].path, "/api/v1/accounts/verify_credentials");
    assert_eq!(
        wrong[0].kind,
        DisagreementKind::Scopes {
            published: "read".into(),
            code: "read:accounts".into()
        }
    );
}

#[test]
fn check_accepts_head_rows_for_get_routes() {
    let published = "HEAD\t/api/v1/instance\t-\tpublic\n";
    let report = docgen::check(
        published,
        Api::ROUTES,
        &CheckOptions::new().implemented_only(true),
    );
    assert_eq!(report.compared, 1);
    assert!(
        !report
            .disagreements
            .iter()
            .any(|d| d.kind == DisagreementKind::OnlyPublished),
        "{report}"
    );
}

/// A handler generic over its store, routed once per store type: the
/// table names it `instance::<Memory>`, which is no identifier.
mod generic {
    use scope_runtime::{requires_scope, scope_routes};

    use crate::common::Scope;

    pub(crate) trait Store: Send + Sync + 'static {
        const NAME: &'static str;
    }
    pub(crate) struct Memory;
    impl Store for Memory {
        const NAME: &'static str = "memory";
    }
    pub(crate) struct Sqlite;
    impl Store for Sqlite {
        const NAME: &'static str = "sqlite";
    }

    /// The instance, from one store.
    #[requires_scope("read:accounts", hierarchy = Scope)]
    pub(crate) async fn get_instance<St: Store>() -> &'static str {
        St::NAME
    }

    scope_routes! {
        /// One generic handler under two stores, and twice under one.
        pub Generic {
            GET "/memory/instance" => get_instance::<Memory>,
            GET "/sqlite/instance" => get_instance::<Sqlite>,
            GET "/sqlite/instance/again" => get_instance::<Sqlite>,
        }
    }
}

#[test]
fn operation_ids_are_unique_identifiers() {
    use generic::Generic;
    assert_eq!(Generic::ROUTES[0].handler(), "get_instance::<Memory>");
    let doc = docgen::openapi(Generic::ROUTES, &info());
    let id = |path: &str| doc["paths"][path]["get"]["operationId"].clone();
    assert_eq!(id("/memory/instance"), "get_get_instance_Memory");
    assert_eq!(id("/sqlite/instance"), "get_get_instance_Sqlite");
    assert_eq!(id("/sqlite/instance/again"), "get_get_instance_Sqlite_2");

    // Every operationId of every table is an identifier, none repeated.
    let mut ids = Vec::new();
    for doc in [doc.clone(), docgen::openapi(Api::ROUTES, &info())] {
        for item in doc["paths"].as_object().expect("paths").values() {
            for op in item.as_object().expect("path item").values() {
                let id = op["operationId"].as_str().expect("operationId").to_owned();
                let mut chars = id.chars();
                assert!(
                    chars
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{id} is not an identifier"
                );
                ids.push(id);
            }
        }
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "repeated operationIds");
}
