//! OpenAPI 3.1 with an `oauth2` security scheme whose scopes carry their
//! descriptions, and each operation's security requirement.

use serde_json::{Map, Value, json};

use crate::route::{Access, Requirement, Route};
use crate::scope::Scope;

/// The document-level settings of [`openapi`].
#[derive(Debug, Clone)]
pub struct OpenApiInfo {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// The authorization endpoint of the OAuth flows.
    pub authorization_url: String,
    /// The token endpoint of the OAuth flows.
    pub token_url: String,
}

impl Default for OpenApiInfo {
    fn default() -> Self {
        Self {
            title: "API".into(),
            version: "0.1.0".into(),
            authorization_url: "/oauth/authorize".into(),
            token_url: "/oauth/token".into(),
        }
    }
}

/// The name of the security scheme in [`openapi`]'s output (and the
/// default of the `utoipa` integration).
pub const SECURITY_SCHEME: &str = "oauth2";

/// One alternative of an OpenAPI security requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Alternative {
    /// `{}`: no credentials (an optional-token route's anonymous call).
    Anonymous,
    /// `{"oauth2": [scopes]}`: a token holding all of these (none: any
    /// valid token).
    Token(Vec<&'static str>),
}

/// The OpenAPI security requirement of a route: alternatives are separate
/// objects (OR), all-of scopes share one; `{}` allows anonymous requests;
/// a public route has none (`[]`). The one mapping from the table to
/// OpenAPI security, used by [`openapi`] and by the `utoipa` integration.
pub(crate) fn security_alternatives<S: Scope>(route: &Route<S>) -> Vec<Alternative> {
    let mut alternatives: Vec<Alternative> = match route.requirement() {
        Requirement::None => vec![],
        Requirement::Scope(s) => vec![Alternative::Token(vec![s.name()])],
        Requirement::AnyOf(l) => l
            .iter()
            .map(|s| Alternative::Token(vec![s.name()]))
            .collect(),
        Requirement::AllOf(l) => vec![Alternative::Token(l.iter().map(|s| s.name()).collect())],
    };
    match route.access() {
        Access::Public => return vec![],
        Access::Optional | Access::Setting => alternatives.insert(0, Alternative::Anonymous),
        _ => {}
    }
    if alternatives.is_empty() {
        alternatives.push(Alternative::Token(vec![]));
    }
    alternatives
}

/// Every scope of the hierarchy with its description, in declaration
/// order: the scopes of the `oauth2` scheme's flows.
pub(crate) fn scope_descriptions<S: Scope>() -> impl Iterator<Item = (&'static str, &'static str)> {
    S::ALL.iter().map(|s| (s.name(), s.info().description()))
}

fn security<S: Scope>(route: &Route<S>) -> Value {
    security_alternatives(route)
        .into_iter()
        .map(|a| match a {
            Alternative::Anonymous => json!({}),
            Alternative::Token(scopes) => json!({ SECURITY_SCHEME: scopes }),
        })
        .collect()
}

/// The operationId of a route: `{method}_{handler}` made an identifier
/// (`[A-Za-z_][A-Za-z0-9_]*`): every run of other characters (`::`, the
/// `<..>` of a generic handler, a path) becomes one `_`, and a trailing one
/// is dropped (`get_instance::<Memory>` -> `get_instance_Memory`).
fn operation_id<S: Scope>(route: &Route<S>) -> String {
    let mut id = route.method().as_str().to_ascii_lowercase();
    id.push('_');
    for c in route.handler().chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            id.push(c);
        } else if !id.ends_with('_') {
            id.push('_');
        }
    }
    id.truncate(id.trim_end_matches('_').len());
    id
}

/// The operationIds of `routes`, in order: [`operation_id`], and where two
/// routes would share one (one handler under two paths, or two generic
/// instances that differ only in punctuation), `_2`, `_3`... in table order.
fn operation_ids<S: Scope>(routes: &[Route<S>]) -> Vec<String> {
    let mut taken = std::collections::BTreeSet::new();
    routes
        .iter()
        .map(|route| {
            let base = operation_id(route);
            let mut id = base.clone();
            let mut n = 1;
            while !taken.insert(id.clone()) {
                n += 1;
                id = format!("{base}_{n}");
            }
            id
        })
        .collect()
}

/// An OpenAPI 3.1 document of the table.
pub fn openapi<S: Scope>(routes: &[Route<S>], info: &OpenApiInfo) -> Value {
    let scopes: Map<String, Value> = scope_descriptions::<S>()
        .map(|(name, description)| (name.to_owned(), Value::from(description)))
        .collect();
    let ids = operation_ids(routes);
    let mut paths = Map::new();
    for (path, rows) in super::by_path(routes) {
        let mut item = Map::new();
        for route in rows {
            let index = routes
                .iter()
                .position(|r| std::ptr::eq(r, route))
                .unwrap_or_default();
            let mut responses = Map::new();
            responses.insert("200".into(), json!({ "description": "Success" }));
            if route.access() != Access::Public {
                responses.insert(
                    "401".into(),
                    json!({ "description": "Missing, invalid, expired or revoked token" }),
                );
                if route.requirement() != Requirement::None {
                    responses.insert(
                        "403".into(),
                        json!({ "description": "The token lacks the required scope" }),
                    );
                }
            }
            let mut operation = json!({
                // An identifier, unique in the document.
                "operationId": ids[index],
                "security": security(route),
                "responses": responses,
                "x-token-kind": route.access().as_str(),
            });
            if !route.summary().is_empty() {
                operation["summary"] = route.summary().into();
            }
            if let Some(kind) = route.stream() {
                operation["x-stream"] = kind.as_str().into();
                let channels: Vec<Value> = route
                    .channels()
                    .iter()
                    .map(|c| {
                        json!({
                            "name": c.name(),
                            "scopes": c.requirement().scopes().iter().map(|s| s.name()).collect::<Vec<_>>(),
                            "x-token-kind": c.access().as_str(),
                        })
                    })
                    .collect();
                if !channels.is_empty() {
                    operation["x-channels"] = channels.into();
                }
            }
            let parameters: Vec<Value> = path
                .split('/')
                .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                // axum's catch-all `{*rest}` is the parameter `rest`.
                .map(|name| name.trim_start_matches('*'))
                .map(|name| {
                    json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } })
                })
                .collect();
            if !parameters.is_empty() {
                operation["parameters"] = parameters.into();
            }
            item.insert(route.method().as_str().to_ascii_lowercase(), operation);
        }
        paths.insert(path.to_owned(), Value::Object(item));
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": info.title, "version": info.version },
        "paths": paths,
        "components": {
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "oauth2",
                    "flows": {
                        "authorizationCode": {
                            "authorizationUrl": info.authorization_url,
                            "tokenUrl": info.token_url,
                            "scopes": scopes,
                        },
                        "clientCredentials": {
                            "tokenUrl": info.token_url,
                            "scopes": scopes,
                        },
                    },
                },
            },
        },
    })
}
