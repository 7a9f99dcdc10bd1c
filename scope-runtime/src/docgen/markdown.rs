//! Markdown: the scope matrix (each scope, then its endpoints) and the
//! per-endpoint table.

use std::fmt::Write as _;

use crate::route::{Access, Requirement, Route};
use crate::scope::Scope;

fn scope_line<S: Scope>(out: &mut String, depth: usize, scope: S) {
    let info = scope.info();
    let indent = "  ".repeat(depth);
    let _ = write!(out, "{indent}- `{}`", info.name());
    if let Some(d) = info.deprecated() {
        match d.since() {
            Some(since) => {
                let _ = write!(out, " (deprecated since {since})");
            }
            None => out.push_str(" (deprecated)"),
        }
    }
    if !info.description().is_empty() {
        let _ = write!(out, ": {}", info.description());
    }
    out.push('\n');
}

/// `GET|HEAD /path`, merging the methods of rows that share a path and a
/// requirement.
fn endpoint_lines<S: Scope>(routes: &[Route<S>], scope: S) -> Vec<String> {
    let mut lines: Vec<(String, Vec<&'static str>, Requirement<S>)> = Vec::new();
    for route in routes
        .iter()
        .filter(|r| r.requirement().scopes().contains(&scope))
    {
        match lines
            .iter_mut()
            .find(|(path, _, req)| path == route.path() && *req == route.requirement())
        {
            Some((_, methods, _)) => methods.push(route.method().as_str()),
            None => lines.push((
                route.path().to_owned(),
                vec![route.method().as_str()],
                route.requirement(),
            )),
        }
    }
    lines
        .into_iter()
        .map(|(path, methods, req)| {
            let mut line = format!("`{} {path}`", methods.join("|"));
            match req {
                Requirement::AnyOf(l) if l.len() > 1 => {
                    let _ = write!(line, " (any of: {})", names(l));
                }
                Requirement::AllOf(l) if l.len() > 1 => {
                    let _ = write!(line, " (all of: {})", names(l));
                }
                _ => {}
            }
            line
        })
        .collect()
}

fn names<S: Scope>(list: &[S]) -> String {
    list.iter()
        .map(|s| format!("`{}`", s.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn subtree<S: Scope>(out: &mut String, routes: &[Route<S>], scope: S, depth: usize) {
    scope_line(out, depth, scope);
    let indent = "  ".repeat(depth + 1);
    for line in endpoint_lines(routes, scope) {
        let _ = writeln!(out, "{indent}- {line}");
    }
    let expands = scope.info().expands_to();
    if !expands.is_empty() {
        let _ = writeln!(out, "{indent}- grants {}", names(expands));
    }
    for child in S::ALL.iter().filter(|c| c.info().parent() == Some(scope)) {
        subtree(out, routes, *child, depth + 1);
    }
}

/// The scope matrix in the shape of Mastodon's "OAuth details": every scope
/// of the hierarchy as a nested list, each followed by the endpoints that
/// require it; aliases list what they grant; then the endpoints that need
/// no scope.
pub fn markdown_matrix<S: Scope>(routes: &[Route<S>], title: &str) -> String {
    let mut out = format!(
        "# OAuth scopes: {title}\n\n\
         Generated from the code by `scope_runtime::docgen`; do not edit.\n\
         A scope grants every scope nested below it.\n\n"
    );
    for scope in S::ALL.iter().filter(|s| s.info().parent().is_none()) {
        subtree(&mut out, routes, *scope, 0);
    }
    let public: Vec<&Route<S>> = routes
        .iter()
        .filter(|r| matches!(r.requirement(), Requirement::None))
        .collect();
    if !public.is_empty() {
        out.push_str("\n## Endpoints without a scope\n\n");
        for route in public {
            let _ = writeln!(
                out,
                "- `{} {}` ({})",
                route.method(),
                route.path(),
                route.access().describe()
            );
        }
    }
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// One row per endpoint: method, path, scopes, token kind, handler and the
/// handler's doc summary.
pub fn endpoint_table<S: Scope>(routes: &[Route<S>], title: &str) -> String {
    let mut out = format!(
        "# Endpoints: {title}\n\n\
         Generated from the code by `scope_runtime::docgen`; do not edit.\n\n\
         | Method | Path | Scopes | Token | Handler | Summary |\n\
         |---|---|---|---|---|---|\n"
    );
    for route in routes {
        let scopes = scopes_cell(route.requirement());
        let token = match route.access() {
            Access::Public => "public",
            other => other.describe(),
        };
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | `{}` | {} |",
            route.method(),
            route.path(),
            cell(&scopes),
            token,
            route.handler(),
            cell(route.summary()),
        );
    }
    streams(&mut out, routes);
    out
}

/// A requirement in a table cell: `read:a`, any of .., all of .., or `-`.
fn scopes_cell<S: Scope>(requirement: Requirement<S>) -> String {
    match requirement {
        Requirement::None => "-".to_owned(),
        Requirement::Scope(s) => format!("`{}`", s.name()),
        Requirement::AnyOf(l) => format!("any of {}", names(l)),
        Requirement::AllOf(l) => format!("all of {}", names(l)),
    }
}

/// The stream routes and the channels each serves, with what a channel
/// needs (checked when a client subscribes).
fn streams<S: Scope>(out: &mut String, routes: &[Route<S>]) {
    let streams: Vec<&Route<S>> = routes.iter().filter(|r| r.stream().is_some()).collect();
    if streams.is_empty() {
        return;
    }
    out.push_str(
        "\n## Streams\n\n\
         A stream is checked like any request when it opens, then again while it is open: \
         it ends when its token is revoked, expires or loses the scopes below. Its token may \
         also come in an `access_token` query parameter (and, for WebSocket, as the \
         `Sec-WebSocket-Protocol` header).\n",
    );
    for route in streams {
        let kind = route.stream().map_or("", |k| k.describe());
        let _ = writeln!(
            out,
            "\n### `{} {}` ({kind})\n",
            route.method(),
            route.path()
        );
        if route.channels().is_empty() {
            continue;
        }
        out.push_str("| Channel | Scopes | Token | Summary |\n|---|---|---|---|\n");
        for channel in route.channels() {
            let scopes = scopes_cell(channel.requirement());
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                channel.name(),
                cell(&scopes),
                channel.access().describe(),
                cell(channel.summary()),
            );
        }
    }
}
