//! The route table's security in a [utoipa] document (feature `utoipa`).
//!
//! A server that documents its API with `#[utoipa::path]` already has an
//! OpenAPI document; [`ScopeSecurity`] adds what the table knows to it, so
//! no scope is written twice: the `oauth2` security scheme with every scope
//! of the hierarchy and its description, and each documented operation's
//! `security`, mapped exactly as [`openapi`](super::openapi) maps it (one
//! mapping for both): public routes get `[]`, optional-token routes `{}`
//! first, any-of rules one alternative per scope, all-of rules one
//! alternative holding every scope, scope-free token routes the scheme with
//! no scopes.
//!
//! Operations are matched by method and path, whatever the parameter names
//! (utoipa's `{id}` matches axum's `{id}`, `{status_id}` or `:id`); a `HEAD`
//! operation matches a `GET` route (axum answers `HEAD` on it). Operations
//! the table does not serve are left alone and reported, and so are the
//! table's routes the document lacks, so a test can fail on either:
//!
//! ```
//! use scope_runtime::docgen::utoipa::ScopeSecurity;
//! use scope_runtime::route::RouteTable;
//! use scope_runtime::{requires_scope, scope_hierarchy, scope_routes};
//! use utoipa::OpenApi;
//!
//! scope_hierarchy! {
//!     pub Scope {
//!         /// read all your account's data
//!         #[default]
//!         read {
//!             /// see all posts
//!             statuses,
//!         },
//!     }
//! }
//!
//! /// View a single status.
//! #[utoipa::path(get, path = "/api/v1/statuses/{id}", params(("id" = String, Path)),
//!     responses((status = 200, description = "The status")))]
//! #[requires_scope("read:statuses", token = optional)]
//! async fn show() {}
//!
//! scope_routes! { pub Api { GET "/api/v1/statuses/{id}" => show } }
//!
//! #[derive(OpenApi)]
//! #[openapi(paths(show))]
//! struct ApiDoc;
//!
//! let security = ScopeSecurity::new(Api::ROUTES, "/oauth/authorize", "/oauth/token");
//! let mut doc = ApiDoc::openapi();
//! let report = security.apply(&mut doc);
//! assert!(report.is_complete(), "{report:?}");
//!
//! let json = serde_json::to_value(&doc).unwrap();
//! assert_eq!(
//!     json["paths"]["/api/v1/statuses/{id}"]["get"]["security"],
//!     serde_json::json!([{}, { "oauth2": ["read:statuses"] }]),
//! );
//! let flows = &json["components"]["securitySchemes"]["oauth2"]["flows"];
//! assert_eq!(flows["authorizationCode"]["scopes"]["read:statuses"], "see all posts");
//! ```
//!
//! As a modifier it is a `const` (utoipa's `modifiers(&..)` takes a path);
//! [`Modify::modify`] discards the report, so check it in a test with
//! [`ScopeSecurity::apply`]:
//!
//! ```
//! # use scope_runtime::{requires_scope, scope_hierarchy, scope_routes};
//! # use scope_runtime::route::RouteTable;
//! # scope_hierarchy! { pub Scope { /// read all
//! #     read } }
//! # /// Read.
//! # #[utoipa::path(get, path = "/api/read", responses((status = 200, description = "ok")))]
//! # #[requires_scope("read")]
//! # async fn read() {}
//! # scope_routes! { pub Api { GET "/api/read" => read } }
//! use scope_runtime::docgen::utoipa::ScopeSecurity;
//! use utoipa::OpenApi;
//!
//! const SECURITY: ScopeSecurity<'static, Scope> =
//!     ScopeSecurity::new(Api::ROUTES, "/oauth/authorize", "/oauth/token");
//!
//! #[derive(OpenApi)]
//! #[openapi(paths(read), modifiers(&SECURITY))]
//! struct ApiDoc;
//!
//! let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
//! assert_eq!(doc["paths"]["/api/read"]["get"]["security"], serde_json::json!([{ "oauth2": ["read"] }]));
//! // What the modifier did not match, for a test to fail on:
//! assert!(SECURITY.apply(&mut ApiDoc::openapi()).is_complete());
//! ```

use std::collections::BTreeMap;

use ::utoipa::Modify;
use ::utoipa::openapi::path::{Operation, PathItem};
use ::utoipa::openapi::security::{
    AuthorizationCode, ClientCredentials, Flow, OAuth2, Scopes, SecurityRequirement, SecurityScheme,
};
use ::utoipa::openapi::{Components, OpenApi};

use super::check::normalize;
use super::openapi::{Alternative, SECURITY_SCHEME, scope_descriptions, security_alternatives};
use crate::route::{Method, Route};
use crate::scope::Scope;

/// Adds the table's `oauth2` scheme and each operation's security to a
/// utoipa [`OpenApi`]; a [`Modify`].
#[derive(Debug, Clone)]
pub struct ScopeSecurity<'a, S: 'static> {
    routes: &'a [Route<S>],
    scheme_name: &'a str,
    authorization_url: &'a str,
    token_url: &'a str,
}

/// An operation or a route, by method and path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Endpoint {
    /// The method, upper case.
    pub method: String,
    /// The path as its document or table writes it.
    pub path: String,
}

/// What [`ScopeSecurity::apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SecurityReport {
    /// Operations whose `security` was set from the table.
    pub secured: usize,
    /// Operations of the document the table does not serve (left alone).
    pub unmatched: Vec<Endpoint>,
    /// Routes of the table the document has no operation for.
    pub undocumented: Vec<Endpoint>,
}

impl SecurityReport {
    /// Whether document and table list the same endpoints.
    pub fn is_complete(&self) -> bool {
        self.unmatched.is_empty() && self.undocumented.is_empty()
    }
}

impl<'a, S: Scope> ScopeSecurity<'a, S> {
    /// The table's security, with the OAuth flows' endpoints; the scheme is
    /// named `oauth2`, as [`openapi`](super::openapi) names it. A `const fn`,
    /// so that a `const` can be named in `#[openapi(modifiers(&..))]`,
    /// which takes a path.
    pub const fn new(
        routes: &'a [Route<S>],
        authorization_url: &'a str,
        token_url: &'a str,
    ) -> Self {
        Self {
            routes,
            scheme_name: SECURITY_SCHEME,
            authorization_url,
            token_url,
        }
    }

    /// Names the security scheme `name` instead of `oauth2`.
    #[must_use]
    pub const fn scheme_name(mut self, name: &'a str) -> Self {
        self.scheme_name = name;
        self
    }

    /// The `oauth2` scheme: authorization-code and client-credentials flows
    /// (as in [`openapi`](super::openapi)), each with every scope and its
    /// description.
    pub fn scheme(&self) -> SecurityScheme {
        let scopes: Scopes = scope_descriptions::<S>().collect();
        SecurityScheme::OAuth2(OAuth2::new([
            Flow::AuthorizationCode(AuthorizationCode::new(
                self.authorization_url,
                self.token_url,
                scopes.clone(),
            )),
            Flow::ClientCredentials(ClientCredentials::new(self.token_url, scopes)),
        ]))
    }

    /// The security requirement of `route` in utoipa's types.
    pub fn requirement(&self, route: &Route<S>) -> Vec<SecurityRequirement> {
        security_alternatives(route)
            .into_iter()
            .map(|a| match a {
                Alternative::Anonymous => SecurityRequirement::default(),
                Alternative::Token(scopes) => SecurityRequirement::new(self.scheme_name, scopes),
            })
            .collect()
    }

    /// Adds the scheme to `api`'s components (replacing one of that name)
    /// and sets the `security` of every operation the table serves; returns
    /// what matched and what did not.
    pub fn apply(&self, api: &mut OpenApi) -> SecurityReport {
        api.components
            .get_or_insert_with(Components::new)
            .add_security_scheme(self.scheme_name, self.scheme());
        let mut table: BTreeMap<(Method, String), usize> = BTreeMap::new();
        for (i, route) in self.routes.iter().enumerate() {
            table
                .entry((route.method(), normalize(route.path())))
                .or_insert(i);
        }
        let mut documented = vec![false; self.routes.len()];
        let mut report = SecurityReport::default();
        for (path, item) in api.paths.paths.iter_mut() {
            let key = normalize(path);
            for (name, method, operation) in operations(item) {
                let found = method.and_then(|m| {
                    table.get(&(m, key.clone())).copied().or_else(|| {
                        // axum answers HEAD on every GET route.
                        (m == Method::Head)
                            .then(|| table.get(&(Method::Get, key.clone())).copied())
                            .flatten()
                    })
                });
                match found {
                    Some(i) => {
                        operation.security = Some(self.requirement(&self.routes[i]));
                        if self.routes[i].method() == method.unwrap_or(Method::Get) {
                            documented[i] = true;
                        }
                        report.secured += 1;
                    }
                    None => report.unmatched.push(Endpoint {
                        method: name.to_owned(),
                        path: path.clone(),
                    }),
                }
            }
        }
        report.undocumented = self
            .routes
            .iter()
            .zip(documented)
            .filter(|(_, documented)| !documented)
            .map(|(route, _)| Endpoint {
                method: route.method().as_str().to_owned(),
                path: route.path().to_owned(),
            })
            .collect();
        report.unmatched.sort();
        report
    }
}

/// The operations of a path item: the method's name, our [`Method`] (none
/// for `TRACE`, which no route serves) and the operation.
fn operations(item: &mut PathItem) -> Vec<(&'static str, Option<Method>, &mut Operation)> {
    [
        ("GET", Some(Method::Get), item.get.as_mut()),
        ("PUT", Some(Method::Put), item.put.as_mut()),
        ("POST", Some(Method::Post), item.post.as_mut()),
        ("DELETE", Some(Method::Delete), item.delete.as_mut()),
        ("OPTIONS", Some(Method::Options), item.options.as_mut()),
        ("HEAD", Some(Method::Head), item.head.as_mut()),
        ("PATCH", Some(Method::Patch), item.patch.as_mut()),
        ("TRACE", None, item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(name, method, op)| op.map(|op| (name, method, op)))
    .collect()
}

impl<S: Scope> Modify for ScopeSecurity<'_, S> {
    /// [`ScopeSecurity::apply`], its report discarded.
    fn modify(&self, openapi: &mut OpenApi) {
        let _ = self.apply(openapi);
    }
}
