//! Per-request overhead of enforcement: the same handler through a `oneshot`
//! with and without the layers (bearer parse, cached validation, scope
//! check), in one run.
//!
//! `cargo bench -p scope-tests --bench enforce`

use std::hint::black_box;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use scope_runtime::Principal;
use scope_runtime::cache::CachedValidator;
use scope_runtime::enforce::Enforcer;
use scope_runtime::route::RouteTable;
use scope_runtime::token::InMemoryValidator;
use scope_runtime::{requires_scope, scope_hierarchy, scope_routes};
use tower::ServiceExt;

scope_hierarchy! {
    /// Benchmark scopes.
    pub Scope { #[default] read { statuses, accounts }, write { statuses } }
}

async fn bare() -> &'static str {
    "{}"
}

/// The same handler, declared.
#[requires_scope("read:statuses")]
async fn protected() -> &'static str {
    "{}"
}

scope_routes! {
    /// The protected route.
    pub Api { GET "/api/v1/statuses/{id}" => protected }
}

const TOKEN: &str = "bench-token-0123456789abcdefghijklmnopqrstuvwxyz";

fn request(token: bool) -> Request<Body> {
    let mut r = Request::get("/api/v1/statuses/1");
    if token {
        r = r.header("authorization", format!("Bearer {TOKEN}"));
    }
    r.body(Body::empty()).expect("request")
}

fn overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let tokens = InMemoryValidator::new();
    tokens.insert(
        TOKEN,
        Principal::user("1", "app", "read".parse().expect("scope")),
    );
    let cached = CachedValidator::new(tokens, Duration::from_secs(300), 10_000);
    let protected = Api::router(Enforcer::new(cached));
    let bare: Router = Router::new().route("/api/v1/statuses/{id}", get(bare));

    // Measure successes only: both answer 200 to the benchmarked request.
    for app in [&bare, &protected] {
        let status = rt
            .block_on(app.clone().oneshot(request(true)))
            .expect("infallible")
            .status();
        assert_eq!(status, 200);
    }

    let mut g = c.benchmark_group("request");
    g.bench_function("bare", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(bare.clone().oneshot(request(true)).await) })
    });
    g.bench_function("enforced (cached token)", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(protected.clone().oneshot(request(true)).await) })
    });
    g.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
