//! Scope parsing and the satisfies-check, typed `ScopeSet` next to the naive
//! `HashSet<String>` representation other OAuth libraries use, in one run.
//!
//! `cargo bench -p scope-tests --bench scopes`

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use scope_runtime::ScopeSet;
use scope_tests::mastodon::MastodonScope;
use scope_tests::reference::NaiveScopes;

const REQUEST: &str = "read:statuses read:accounts write:statuses write:media follow push";

fn aliases() -> HashMap<&'static str, Vec<&'static str>> {
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

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    g.bench_function("ScopeSet", |b| {
        b.iter(|| ScopeSet::<MastodonScope>::parse(black_box(REQUEST)))
    });
    g.bench_function("HashSet<String>", |b| {
        b.iter(|| NaiveScopes::parse(black_box(REQUEST)))
    });
    g.finish();
}

fn satisfies(c: &mut Criterion) {
    let typed: ScopeSet<MastodonScope> = REQUEST.parse().expect("valid");
    let naive = NaiveScopes::parse(REQUEST);
    let aliases = aliases();
    let mut g = c.benchmark_group("satisfies");
    // `write:follows` is granted only through the `follow` alias: the
    // slowest path of the naive model, one AND for the typed one.
    g.bench_function("ScopeSet/via-alias", |b| {
        b.iter(|| black_box(&typed).grants(black_box(MastodonScope::WriteFollows)))
    });
    g.bench_function("HashSet<String>/via-alias", |b| {
        b.iter(|| black_box(&naive).grants(black_box("write:follows"), &aliases))
    });
    // `read:statuses` is in the set itself: one hash lookup for the naive
    // model.
    g.bench_function("ScopeSet/direct", |b| {
        b.iter(|| black_box(&typed).grants(black_box(MastodonScope::ReadStatuses)))
    });
    g.bench_function("HashSet<String>/direct", |b| {
        b.iter(|| black_box(&naive).grants(black_box("read:statuses"), &aliases))
    });
    g.finish();
}

criterion_group!(benches, parse, satisfies);
criterion_main!(benches);
