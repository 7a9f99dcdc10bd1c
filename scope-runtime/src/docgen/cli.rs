//! A ready-made command line for a downstream binary:
//!
//! ```text
//! <binary> docs write [DIR]        write the generated files (default docs/scopes)
//! <binary> docs check-fresh [DIR]  exit 1 if the files in DIR are out of date
//! <binary> docs check FILE [--scope-column N] [--token-column N|none] [--implemented-only]
//!                                  compare a published matrix with the code
//! ```
//!
//! ```no_run
//! # use scope_runtime::{docgen, route::RouteTable, scope_hierarchy, scope_routes};
//! # scope_hierarchy! { pub Scope { read } }
//! # scope_routes! { pub Api {} }
//! fn main() -> std::process::ExitCode {
//!     // e.g. `cargo run -p my-api -- docs check published.tsv`
//!     let args = std::env::args().skip(2); // skip the binary and "docs"
//!     docgen::cli::run(Api::ROUTES, &docgen::OpenApiInfo::default(), args)
//! }
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use super::{CheckOptions, OpenApiInfo};
use crate::route::Route;
use crate::scope::Scope;

/// The usage text.
pub const USAGE: &str = "usage:
  docs write [DIR]         write scope-matrix.md, endpoints.md, scopes.json, openapi.json (DIR: docs/scopes)
  docs check-fresh [DIR]   fail if the files in DIR differ from what the code generates
  docs check FILE [--scope-column N] [--token-column N|none] [--implemented-only]
                           list every disagreement between a published matrix and the code";

/// Runs the `docs` subcommand on `args` (the words after `docs`), printing
/// to stdout/stderr. Exit code 0 on success, 1 on disagreement or stale
/// files, 2 on a usage or I/O error.
pub fn run<S: Scope>(
    routes: &[Route<S>],
    info: &OpenApiInfo,
    args: impl IntoIterator<Item = String>,
) -> ExitCode {
    let args: Vec<String> = args.into_iter().collect();
    let dir = |i: usize| PathBuf::from(args.get(i).map_or("docs/scopes", String::as_str));
    match args.first().map(String::as_str) {
        Some("write") => match super::write_all(&dir(1), routes, info) {
            Ok(files) => {
                for f in files {
                    println!("wrote {}", f.display());
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", dir(1).display());
                ExitCode::from(2)
            }
        },
        Some("check-fresh") => {
            let stale = super::stale_files(&dir(1), routes, info);
            if stale.is_empty() {
                println!("{} is up to date", dir(1).display());
                ExitCode::SUCCESS
            } else {
                for f in stale {
                    eprintln!("stale: {}", f.display());
                }
                eprintln!("regenerate with `docs write {}`", dir(1).display());
                ExitCode::FAILURE
            }
        }
        Some("check") => {
            let Some(file) = args.get(1) else {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            };
            let mut options = CheckOptions::new();
            let mut rest = args[2..].iter();
            while let Some(flag) = rest.next() {
                match flag.as_str() {
                    "--implemented-only" => options = options.implemented_only(true),
                    "--scope-column" => match rest.next().and_then(|n| n.parse().ok()) {
                        Some(n) => options = options.scope_column(n),
                        None => {
                            eprintln!("error: --scope-column takes a number\n{USAGE}");
                            return ExitCode::from(2);
                        }
                    },
                    "--token-column" => match rest.next().map(String::as_str) {
                        Some("none") => options = options.token_column(None),
                        Some(n) if n.parse::<usize>().is_ok() => {
                            options = options.token_column(n.parse().ok())
                        }
                        _ => {
                            eprintln!("error: --token-column takes a number or `none`\n{USAGE}");
                            return ExitCode::from(2);
                        }
                    },
                    other => {
                        eprintln!("error: unknown option {other}\n{USAGE}");
                        return ExitCode::from(2);
                    }
                }
            }
            let text = match std::fs::read_to_string(file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: cannot read {file}: {e}");
                    return ExitCode::from(2);
                }
            };
            let report = super::check(&text, routes, &options);
            print!("{report}");
            if report.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
