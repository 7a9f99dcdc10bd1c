//! Every feature of the declaration syntax in one place.
use scope_runtime::{scope, scope_hierarchy, Scope, ScopeSet};

mod scopes {
    use scope_runtime::scope_hierarchy;

    scope_hierarchy! {
        /// Outer docs and attributes go to the enum.
        #[allow(dead_code)]
        pub(crate) enum Deep {
            /// Level one
            #[default]
            a {
                /// Level two
                b {
                    /// Level three
                    c {
                        /// Level four
                        d,
                    },
                },
                #[group]
                g {
                    #[group]
                    h { leaf },
                },
            },
            /// Keywords and raw identifiers are fine scope names.
            r#type { r#move, async },
            /// An alias may name a group: it grants the group's members.
            all_leaves = ["a:g"],
            #[deprecated]
            old = ["a:b:c:d"],
            #[deprecated = "use a"]
            older = ["old"],
        }
    }
}

// Several hierarchies in one crate, and one in the crate root.
scope_hierarchy! {
    pub Other { read { x }, write { x } }
}

use scopes::Deep;

const NEEDED: Deep = scope!(scopes::Deep, "a:b:c:d");

fn main() {
    assert_eq!(NEEDED.name(), "a:b:c:d");
    assert_eq!(scope!(Deep, "a:g:h:leaf"), Deep::AGHLeaf);
    assert_eq!(scope!(Deep, "type:move"), Deep::TypeMove);
    assert_eq!(scope!(Deep, "type:async").to_string(), "type:async");
    assert_eq!(Deep::GROUPS, ["a:g", "a:g:h"]);
    assert_eq!(Deep::AGHLeaf.info().parent(), Some(Deep::A));
    let all: ScopeSet<Deep> = "all_leaves".parse().unwrap();
    assert!(all.grants(Deep::AGHLeaf));
    let older: ScopeSet<Deep> = "older".parse().unwrap();
    assert!(older.grants(NEEDED));
    assert!(ScopeSet::<Deep>::parse_requested("").unwrap().grants(NEEDED));
    assert!(scope!(Other, "write:x") != scope!(Other, "read:x"));
}
