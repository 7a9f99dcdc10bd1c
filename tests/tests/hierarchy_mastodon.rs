//! The Mastodon hierarchy against `tests/data/mastodon-scopes.txt`: every
//! scope, description, deprecation and implication of the research table.

use scope_runtime::{Scope, ScopeSet};
use scope_tests::mastodon::MastodonScope as M;
use scope_tests::reference::ScopeTable;

fn table() -> ScopeTable {
    ScopeTable::parse(include_str!("../data/mastodon-scopes.txt"))
}

fn set(s: &str) -> ScopeSet<M> {
    ScopeSet::parse(s).expect("valid scope string")
}

#[test]
fn every_current_scope_of_the_table_is_declared_with_its_metadata() {
    let table = table();
    for row in &table.rows {
        let parsed = M::from_name(&row.name);
        if row.is_removed() {
            assert_eq!(parsed, None, "{} was removed and must not parse", row.name);
            continue;
        }
        let scope = parsed.unwrap_or_else(|| panic!("{} is missing", row.name));
        let info = scope.info();
        assert_eq!(info.name(), row.name);
        assert_eq!(
            info.description(),
            row.description,
            "description of {}",
            row.name
        );
        assert_eq!(
            info.deprecated().is_some(),
            row.is_deprecated(),
            "deprecation of {}",
            row.name
        );
    }
    let current = table.rows.iter().filter(|r| !r.is_removed()).count();
    assert_eq!(
        M::ALL.len(),
        current,
        "the hierarchy declares exactly the table's scopes"
    );
}

#[test]
fn every_implication_matches_the_table() {
    let table = table();
    for granted in M::ALL {
        for required in M::ALL {
            let expected = table.grantors(required.name()).contains(granted.name());
            assert_eq!(
                ScopeSet::from(*granted).grants(*required),
                expected,
                "{granted} grants {required}?"
            );
        }
    }
}

#[test]
fn follow_grants_exactly_its_six() {
    #[allow(deprecated)]
    let follow = ScopeSet::from(M::Follow);
    let expected =
        set("follow read:blocks read:follows read:mutes write:blocks write:follows write:mutes");
    assert_eq!(follow.closure(), expected);
    assert!(!follow.grants(M::Read));
    assert!(!follow.grants(M::ReadStatuses));
}

#[test]
fn read_grants_every_read_scope_and_nothing_else() {
    let read = set("read").closure();
    for scope in M::ALL {
        let name = scope.name();
        assert_eq!(
            read.contains(*scope),
            name == "read" || name.starts_with("read:"),
            "{name}"
        );
    }
}

#[test]
fn admin_is_a_group_not_a_scope() {
    assert!(M::from_name("admin").is_none());
    assert_eq!(
        ScopeSet::<M>::parse_requested("admin").unwrap_err().token(),
        "admin"
    );
    assert_eq!(M::GROUPS, ["admin"]);
    assert!(set("admin:read").grants(M::AdminReadAccounts));
    assert!(set("admin:read").grants(M::AdminReadCanonicalEmailBlocks));
    assert!(!set("admin:read").grants(M::AdminWriteAccounts));
    assert!(!set("read").grants(M::AdminReadAccounts));
    assert_eq!(M::AdminReadAccounts.info().parent(), Some(M::AdminRead));
    assert_eq!(M::AdminRead.info().parent(), None);
}

#[test]
fn default_scope_is_read() {
    assert_eq!(ScopeSet::<M>::default_scopes(), set("read"));
    assert_eq!(ScopeSet::<M>::parse_requested("").unwrap(), set("read"));
    assert_eq!(ScopeSet::<M>::parse_requested("  ").unwrap(), set("read"));
    assert!(M::Read.info().is_default());
}

#[test]
fn legacy_request_of_the_documented_flow_parses() {
    // "scope=read write follow" from the documented authorization flow.
    let granted: ScopeSet<M> = "read write follow".parse().unwrap();
    assert_eq!(granted.to_string(), "read write follow");
    assert_eq!(
        granted.deprecated().map(|s| s.name()).collect::<Vec<_>>(),
        ["follow"]
    );
    // `follow` adds nothing that `read write` does not already grant.
    assert_eq!(
        granted.closure(),
        set("read write").closure().union(set("follow"))
    );
}

#[test]
fn deprecation_metadata_is_kept() {
    #[allow(deprecated)]
    let follow = M::Follow.info();
    let d = follow.deprecated().expect("follow is deprecated");
    assert_eq!(d.since(), Some("3.5.0"));
    assert!(d.note().is_some_and(|n| n.contains("write:follows")));
    #[allow(deprecated)]
    let expands: Vec<&str> = follow.expands_to().iter().map(|s| s.name()).collect();
    assert_eq!(
        expands,
        [
            "read:blocks",
            "read:follows",
            "read:mutes",
            "write:blocks",
            "write:follows",
            "write:mutes"
        ]
    );
}
