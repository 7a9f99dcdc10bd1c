//! Scopes named like the generated items do not clash with them, and the
//! runtime crate may be renamed in Cargo.toml (`$crate` is passed along).
use scope_runtime::{scope, scope_hierarchy, Scope, ScopeSet};

scope_hierarchy! {
    pub Api {
        bits, name, index, info, from_name, ALL, INFO, DEFAULT, GROUPS, HIERARCHY, IMPLIES,
        granted_by { x },
    }
}

fn main() {
    assert_eq!(<Api as Scope>::ALL.len(), 13);
    assert_eq!(scope!(Api, "bits").name(), "bits");
    assert_eq!(Api::Bits.index(), 0);
    assert_eq!(Api::ALL.to_string(), "ALL");
    let set: ScopeSet<Api> = "granted_by".parse().unwrap();
    assert!(set.grants(scope!(Api, "granted_by:x")));
}
