//! trybuild UI tests: every compile error the macros emit, pinned with its
//! `.stderr`, and declarations that must compile. Regenerate the `.stderr`
//! files with `TRYBUILD=overwrite cargo test -p scope-macros --test ui`.
//!
//! They live in this crate, not in `scope-tests`, because trybuild builds
//! its cases against every dependency and dev-dependency of the crate that
//! runs them: here that is `scope-runtime` and axum, not the OAuth server,
//! sqlx, reqwest and criterion a second time.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/hierarchy/fail/*.rs");
    t.compile_fail("tests/ui/scope/fail/*.rs");
    t.compile_fail("tests/ui/requires_scope/fail/*.rs");
    t.compile_fail("tests/ui/routes/fail/*.rs");
    t.compile_fail("tests/ui/channels/fail/*.rs");
    t.pass("tests/ui/hierarchy/pass/*.rs");
    t.pass("tests/ui/requires_scope/pass/*.rs");
    t.pass("tests/ui/routes/pass/*.rs");
    t.pass("tests/ui/channels/pass/*.rs");
}
