//! The scope documentation checked in under `docs/scopes/` is what the code
//! generates, and the code agrees with the research matrix
//! (`tests/data/funkwhale-endpoint-scopes.txt`) on every route it serves,
//! but for the differences explained in `docs/scopes/README.md`.
//!
//! `UPDATE_SNAPSHOTS=1 cargo test -p funkwhale-pod --test docs` rewrites
//! the generated files (or run `funkwhale-pod docs examples/funkwhale-pod/docs/scopes`).

use std::path::PathBuf;

use funkwhale_pod::{Api, FunkwhalePod};
use pod_kit::Pod as _;
use scope_runtime::docgen::{self, CheckOptions};
use scope_runtime::route::RouteTable;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/scopes")
}

#[test]
fn checked_in_docs_match_the_code() {
    let info = FunkwhalePod::openapi_info();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        docgen::write_all(&dir(), Api::ROUTES, &info).expect("write docs");
    }
    let stale = docgen::stale_files(&dir(), Api::ROUTES, &info);
    assert!(
        stale.is_empty(),
        "stale scope docs {stale:?}: run UPDATE_SNAPSHOTS=1 cargo test -p funkwhale-pod --test docs"
    );
}

#[test]
fn the_research_matrix_agrees_with_the_code() {
    let tsv = include_str!("data/funkwhale-endpoint-scopes.txt");
    let report = docgen::check(
        tsv,
        Api::ROUTES,
        &CheckOptions::new().implemented_only(true),
    );
    let found: Vec<String> = report
        .disagreements
        .iter()
        .map(ToString::to_string)
        .collect();
    println!("{report}");
    assert!(report.compared >= 70, "{report}");
    assert_eq!(found, EXPLAINED, "{report}");
}

/// Each one explained in docs/scopes/README.md.
const EXPLAINED: &[&str] = &[
    // Funkwhale checks only that a user is logged in on the mutations
    // viewset (no `required_scope`); the pod asks for the edits family.
    "GET /api/v1/mutations/: matrix requires -, code requires read:edits",
    "DELETE /api/v1/mutations/{uuid}/: matrix requires -, code requires write:edits",
    "GET /api/v1/mutations/{uuid}/: matrix requires -, code requires read:edits",
    "POST /api/v1/mutations/{uuid}/approve/: matrix requires -, code requires write:edits",
    "POST /api/v1/mutations/{uuid}/reject/: matrix requires -, code requires write:edits",
];
