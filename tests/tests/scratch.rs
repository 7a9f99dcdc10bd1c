use scope_runtime::{scope, scope_hierarchy, Scope, ScopeSet};
use scope_tests::mastodon::MastodonScope;

mod inner {
    scope_runtime::scope_hierarchy! { pub Api { read { statuses }, #[group] admin { read { x } } } }
}

#[test]
fn smoke() {
    let s = scope!(inner::Api, "read:statuses");
    let set: ScopeSet<MastodonScope> = "follow".parse().unwrap();
    assert!(set.grants(MastodonScope::WriteFollows));
    println!("{:?} {}", s, set.closure());
    println!("{:?}", ScopeSet::<MastodonScope>::parse("admin"));
    println!("{}", MastodonScope::ALL.len());
}
