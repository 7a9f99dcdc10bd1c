//! The table and the hierarchy as JSON, for tools.

use serde_json::{Value, json};

use crate::route::{Requirement, Route};
use crate::scope::Scope;

/// Requirement as JSON: `null`, `{"scope": ..}`, `{"any_of": [..]}` or
/// `{"all_of": [..]}`.
pub(crate) fn requirement<S: Scope>(r: Requirement<S>) -> Value {
    let names = |l: &[S]| l.iter().map(|s| s.name()).collect::<Vec<_>>();
    match r {
        Requirement::None => Value::Null,
        Requirement::Scope(s) => json!({ "scope": s.name() }),
        Requirement::AnyOf(l) => json!({ "any_of": names(l) }),
        Requirement::AllOf(l) => json!({ "all_of": names(l) }),
    }
}

/// `{"hierarchy", "scopes": [...], "groups": [...], "routes": [...]}`.
pub fn json<S: Scope>(routes: &[Route<S>]) -> Value {
    let scopes: Vec<Value> = S::ALL
        .iter()
        .map(|s| {
            let info = s.info();
            json!({
                "name": info.name(),
                "description": info.description(),
                "parent": info.parent().map(|p| p.name()),
                "default": info.is_default(),
                "grants": s.implied().iter().map(|g| g.name()).collect::<Vec<_>>(),
                "expands_to": info.expands_to().iter().map(|g| g.name()).collect::<Vec<_>>(),
                "deprecated": info.deprecated().map(|d| json!({ "since": d.since(), "note": d.note() })),
            })
        })
        .collect();
    let routes: Vec<Value> = routes
        .iter()
        .map(|r| {
            let mut row = json!({
                "method": r.method().as_str(),
                "path": r.path(),
                "requirement": requirement(r.requirement()),
                "token": r.access().as_str(),
                "handler": r.handler(),
                "summary": r.summary(),
            });
            if let Some(kind) = r.stream() {
                row["stream"] = kind.as_str().into();
                row["channels"] = r
                    .channels()
                    .iter()
                    .map(|c| {
                        json!({
                            "name": c.name(),
                            "requirement": requirement(c.requirement()),
                            "token": c.access().as_str(),
                            "summary": c.summary(),
                        })
                    })
                    .collect::<Vec<_>>()
                    .into();
            }
            row
        })
        .collect();
    json!({
        "hierarchy": S::HIERARCHY,
        "scopes": scopes,
        "groups": S::GROUPS,
        "routes": routes,
    })
}
