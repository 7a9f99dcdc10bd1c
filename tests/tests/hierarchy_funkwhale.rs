//! The Funkwhale hierarchy against `tests/data/funkwhale-scopes.txt`: every
//! scope, description and implication of the research table.

use scope_runtime::{Scope, ScopeSet};
use scope_tests::funkwhale::FunkwhaleScope as F;
use scope_tests::reference::ScopeTable;

fn table() -> ScopeTable {
    ScopeTable::parse(include_str!("../data/funkwhale-scopes.txt"))
}

fn set(s: &str) -> ScopeSet<F> {
    ScopeSet::parse(s).expect("valid scope string")
}

#[test]
fn every_scope_of_the_table_is_declared_with_its_metadata() {
    let table = table();
    for row in &table.rows {
        let scope = F::from_name(&row.name).unwrap_or_else(|| panic!("{} is missing", row.name));
        assert_eq!(
            scope.info().description(),
            row.description,
            "description of {}",
            row.name
        );
        assert!(scope.info().deprecated().is_none());
    }
    assert_eq!(F::ALL.len(), table.rows.len());
    assert_eq!(F::ALL.len(), 2 + 2 * 24, "read, write and 24 children each");
}

#[test]
fn every_implication_matches_the_table() {
    let table = table();
    for granted in F::ALL {
        for required in F::ALL {
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
fn read_expands_to_its_24_children_and_nothing_else() {
    let read = set("read").closure();
    assert_eq!(read.len(), 25);
    assert!(
        read.iter()
            .all(|s| s.name() == "read" || s.name().starts_with("read:"))
    );
    assert!(read.contains(F::ReadInstanceSettings));
    assert!(!read.contains(F::WritePlaylists));
}

#[test]
fn instance_is_a_group_under_read_and_write() {
    assert_eq!(F::GROUPS, ["read:instance", "write:instance"]);
    assert!(F::from_name("read:instance").is_none());
    assert_eq!(F::ReadInstanceSettings.info().parent(), Some(F::Read));
    assert_eq!(F::WriteInstanceNotes.info().parent(), Some(F::Write));
}

#[test]
fn resource_scopes_are_independent_leaves() {
    let token = set("read:playlists write:favorites");
    assert!(token.grants(F::ReadPlaylists));
    assert!(!token.grants(F::WritePlaylists));
    assert!(!token.grants(F::Read));
    assert!(token.grants(F::WriteFavorites));
    assert!(
        !token.grants(F::ReadFavorites),
        "write does not imply read in Funkwhale"
    );
}

#[test]
fn default_scope_is_read() {
    assert_eq!(ScopeSet::<F>::parse_requested("").unwrap(), set("read"));
}
