//! Shared fixtures of the workspace tests and benchmarks: the full current
//! Mastodon and Funkwhale scope hierarchies, declared with
//! `scope_hierarchy!` from the research files copied into `tests/data/`.

pub use scope_hierarchies::{funkwhale, mastodon};

pub mod reference;

/// The README's Rust examples, compiled and run as doctests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
