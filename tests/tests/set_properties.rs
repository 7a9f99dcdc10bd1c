//! Property tests of the set algebra on both real hierarchies: round trips,
//! closure laws, and agreement with the naive `HashSet<String>` reference.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use scope_runtime::{Scope, ScopeSet};
use scope_tests::funkwhale::FunkwhaleScope;
use scope_tests::mastodon::MastodonScope;
use scope_tests::reference::NaiveScopes;

// More than 64 scopes: sets span two words.
scope_runtime::scope_hierarchy! {
    /// A hierarchy of 93 scopes.
    pub Wide {
        #[default]
        a { x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15, x16, x17, x18, x19,
            x20, x21, x22, x23, x24, x25, x26, x27, x28, x29 },
        b { x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15, x16, x17, x18, x19,
            x20, x21, x22, x23, x24, x25, x26, x27, x28, x29 },
        c { x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15, x16, x17, x18, x19,
            x20, x21, x22, x23, x24, x25, x26, x27, x28, x29 },
        every_c = ["c"],
    }
}

/// Any subset of the hierarchy's scopes.
fn any_set<S: Scope>() -> impl Strategy<Value = ScopeSet<S>> {
    proptest::collection::vec(any::<bool>(), S::ALL.len()).prop_map(|picks| {
        S::ALL
            .iter()
            .zip(picks)
            .filter(|(_, p)| *p)
            .map(|(s, _)| *s)
            .collect()
    })
}

fn names<S: Scope>(set: &ScopeSet<S>) -> HashSet<String> {
    set.iter().map(|s| s.name().to_owned()).collect()
}

/// The aliases as the documentation states them, independent of the macro.
fn mastodon_aliases() -> HashMap<&'static str, Vec<&'static str>> {
    HashMap::from([(
        "follow",
        vec![
            "read:blocks",
            "read:follows",
            "read:mutes",
            "write:blocks",
            "write:follows",
            "write:mutes",
        ],
    )])
}

fn laws<S: Scope>(a: ScopeSet<S>, b: ScopeSet<S>, aliases: &HashMap<&str, Vec<&str>>) {
    // Display / parse round trips, the empty set included.
    assert_eq!(ScopeSet::<S>::parse(&a.to_string()), Ok(a));
    assert_eq!(a.to_string().parse::<ScopeSet<S>>(), Ok(a));
    let requested = ScopeSet::<S>::parse_requested(&a.to_string()).expect("known scopes");
    assert_eq!(
        requested,
        if a.is_empty() {
            ScopeSet::default_scopes()
        } else {
            a
        }
    );

    // Closure: extensive, idempotent, monotone.
    let ca = a.closure();
    assert!(a.is_subset(&ca));
    assert_eq!(ca.closure(), ca);
    let meet = a.intersection(b);
    assert!(meet.closure().is_subset(&ca));
    assert!(ca.is_subset(&a.union(b).closure()));

    // `grants` is membership in the closure, and agrees with the naive model.
    let naive = NaiveScopes { granted: names(&a) };
    for required in S::ALL {
        let typed = a.grants(*required);
        assert_eq!(typed, ca.contains(*required), "{required}");
        assert_eq!(
            typed,
            naive.grants(required.name(), aliases),
            "{a} grants {required}?"
        );
    }
    assert_eq!(a.grants_all(&b), b.is_subset(&ca));
    assert_eq!(a.grants_any(&b), !b.is_disjoint(&ca));

    // Set algebra agrees with HashSet's.
    let (na, nb) = (names(&a), names(&b));
    assert_eq!(names(&(a | b)), &na | &nb);
    assert_eq!(names(&(a & b)), &na & &nb);
    assert_eq!(names(&(a - b)), &na - &nb);
    assert_eq!(a.is_subset(&b), na.is_subset(&nb));
    assert_eq!(a.is_disjoint(&b), na.is_disjoint(&nb));
    assert_eq!(a.len(), na.len());
    assert_eq!(a.iter().len(), na.len());
}

proptest! {
    #[test]
    fn mastodon_laws(a in any_set::<MastodonScope>(), b in any_set::<MastodonScope>()) {
        laws(a, b, &mastodon_aliases());
    }

    #[test]
    fn funkwhale_laws(a in any_set::<FunkwhaleScope>(), b in any_set::<FunkwhaleScope>()) {
        laws(a, b, &HashMap::new());
    }

    #[test]
    fn multi_word_laws(a in any_set::<Wide>(), b in any_set::<Wide>()) {
        assert!(Wide::ALL.len() > 64);
        laws(a, b, &HashMap::from([("every_c", vec!["c"])]));
    }

    /// Order, repetition and extra whitespace do not change the parsed set.
    #[test]
    fn parse_is_insensitive_to_order_repetition_and_spacing(
        a in any_set::<MastodonScope>(),
        seps in proptest::collection::vec(prop_oneof![Just(" "), Just("  "), Just("\t")], 1..8),
    ) {
        let mut tokens: Vec<&str> = a.iter().map(|s| s.name()).collect();
        tokens.reverse();
        tokens.extend(a.iter().map(|s| s.name()));
        let mut text = String::from(" ");
        for (i, t) in tokens.iter().enumerate() {
            text.push_str(t);
            text.push_str(seps[i % seps.len()]);
        }
        prop_assert_eq!(ScopeSet::<MastodonScope>::parse(&text), Ok(a));
    }

    /// An unknown token anywhere is reported by name.
    #[test]
    fn unknown_tokens_are_named(a in any_set::<FunkwhaleScope>(), bogus in "[a-z:]{1,12}x") {
        let text = format!("{a} {bogus}");
        let err = ScopeSet::<FunkwhaleScope>::parse_requested(&text).unwrap_err();
        prop_assert_eq!(err.token(), bogus.as_str());
        prop_assert!(err.to_string().contains(&bogus));
    }
}
