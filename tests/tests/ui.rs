//! trybuild UI tests: every compile error the macros emit, pinned with its
//! `.stderr`, and declarations that must compile. Regenerate the `.stderr`
//! files with `TRYBUILD=overwrite cargo test -p scope-tests --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/hierarchy/fail/*.rs");
    t.compile_fail("ui/scope/fail/*.rs");
    t.compile_fail("ui/requires_scope/fail/*.rs");
    t.compile_fail("ui/routes/fail/*.rs");
    t.pass("ui/hierarchy/pass/*.rs");
    t.pass("ui/requires_scope/pass/*.rs");
    t.pass("ui/routes/pass/*.rs");
}
