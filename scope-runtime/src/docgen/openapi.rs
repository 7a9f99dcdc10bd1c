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

/// The OpenAPI security requirement of a route: alternatives are separate
/// objects (OR), all-of scopes share one; `{}` allows anonymous requests.
fn security<S: Scope>(route: &Route<S>) -> Value {
    let one = |scopes: Vec<&str>| json!({ "oauth2": scopes });
    let mut alternatives: Vec<Value> = match route.requirement() {
        Requirement::None => vec![],
        Requirement::Scope(s) => vec![one(vec![s.name()])],
        Requirement::AnyOf(l) => l.iter().map(|s| one(vec![s.name()])).collect(),
        Requirement::AllOf(l) => vec![one(l.iter().map(|s| s.name()).collect())],
    };
    match route.access() {
        Access::Public => return json!([]),
        Access::Optional | Access::Setting => alternatives.insert(0, json!({})),
        _ => {}
    }
    if alternatives.is_empty() {
        alternatives.push(one(vec![]));
    }
    Value::Array(alternatives)
}

/// An OpenAPI 3.1 document of the table.
pub fn openapi<S: Scope>(routes: &[Route<S>], info: &OpenApiInfo) -> Value {
    let scopes: Map<String, Value> = S::ALL
        .iter()
        .map(|s| (s.name().to_owned(), Value::from(s.info().description())))
        .collect();
    let mut paths = Map::new();
    for (path, rows) in super::by_path(routes) {
        let mut item = Map::new();
        for route in rows {
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
                // Unique even when one handler serves several methods.
                "operationId": format!(
                    "{}_{}",
                    route.method().as_str().to_ascii_lowercase(),
                    route.handler().replace("::", "_")
                ),
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
                "oauth2": {
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
