//! Documentation generated from the route→scope table, so code and docs
//! cannot drift: a Markdown scope matrix in the shape of Mastodon's
//! ([`markdown_matrix`]), a per-endpoint table ([`endpoint_table`]), JSON
//! ([`json`]) and OpenAPI 3.1 ([`openapi`]); [`check`] compares a published
//! matrix with the code; [`cli`] wires it into a downstream binary.
//!
//! ```
//! use scope_runtime::docgen;
//! use scope_runtime::route::RouteTable;
//! use scope_runtime::{requires_scope, scope_hierarchy, scope_routes};
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
//! #[requires_scope("read:statuses", token = optional)]
//! async fn show() {}
//!
//! scope_routes! { pub Api { GET "/api/v1/statuses/{id}" => show } }
//!
//! let matrix = docgen::markdown_matrix(Api::ROUTES, "Example");
//! assert!(matrix.contains("  - `read:statuses`: see all posts\n    - `GET /api/v1/statuses/{id}`\n"));
//! let report = docgen::check(
//!     "GET\t/api/v1/statuses/:id\tread | read:statuses\tpublic (scope checked if a token is sent)\n",
//!     Api::ROUTES,
//!     &docgen::CheckOptions::default(),
//! );
//! assert!(report.is_clean(), "{report}");
//! ```

mod check;
pub mod cli;
mod json;
mod markdown;
mod openapi;

use std::io;
use std::path::{Path, PathBuf};

pub use self::check::{CheckOptions, CheckReport, Disagreement, DisagreementKind, check};
pub use self::json::json;
pub use self::markdown::{endpoint_table, markdown_matrix};
pub use self::openapi::{OpenApiInfo, openapi};
use crate::route::Route;
use crate::scope::Scope;

/// The files [`write_all`] writes, relative to its directory.
pub const FILES: [&str; 4] = [
    "scope-matrix.md",
    "endpoints.md",
    "scopes.json",
    "openapi.json",
];

/// The contents of every generated file, as `(file name, contents)`.
pub fn render_all<S: Scope>(
    routes: &[Route<S>],
    info: &OpenApiInfo,
) -> Vec<(&'static str, String)> {
    let pretty = |v: serde_json::Value| {
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    };
    vec![
        (FILES[0], markdown_matrix(routes, &info.title)),
        (FILES[1], endpoint_table(routes, &info.title)),
        (FILES[2], pretty(json(routes))),
        (FILES[3], pretty(openapi(routes, info))),
    ]
}

/// Writes every generated file into `dir` (created if missing).
///
/// # Errors
/// The I/O error of creating `dir` or writing a file.
pub fn write_all<S: Scope>(
    dir: &Path,
    routes: &[Route<S>],
    info: &OpenApiInfo,
) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    render_all(routes, info)
        .into_iter()
        .map(|(name, contents)| {
            let path = dir.join(name);
            std::fs::write(&path, contents)?;
            Ok(path)
        })
        .collect()
}

/// The generated files in `dir` that differ from what the code generates
/// now (missing files included): empty when the checked-in docs are fresh.
pub fn stale_files<S: Scope>(dir: &Path, routes: &[Route<S>], info: &OpenApiInfo) -> Vec<PathBuf> {
    render_all(routes, info)
        .into_iter()
        .filter(|(name, contents)| {
            std::fs::read_to_string(dir.join(name)).ok().as_deref() != Some(contents)
        })
        .map(|(name, _)| dir.join(name))
        .collect()
}

/// Routes sharing a path, in table order: `(path, rows)`.
fn by_path<'a, S: Scope>(routes: &'a [Route<S>]) -> Vec<(&'static str, Vec<&'a Route<S>>)> {
    let mut out: Vec<(&'static str, Vec<&'a Route<S>>)> = Vec::new();
    for route in routes {
        match out.iter_mut().find(|(p, _)| *p == route.path()) {
            Some((_, rows)) => rows.push(route),
            None => out.push((route.path(), vec![route])),
        }
    }
    out
}
