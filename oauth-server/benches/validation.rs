//! Validation latency against the size of the store: the same
//! `StoreValidator` (no cache) looks up random tokens among 1,000, then
//! among 1,000,000 stored tokens, on SQLite and (when
//! `TEST_DATABASE_URL_PG` names a database) on PostgreSQL, in a fresh
//! schema. Prints p50, p99 and mean per lookup and the ratio of the means;
//! it must stay near 1 (an index lookup, not a scan).
//!
//! `cargo bench -p oauth-server --bench validation [-- ITERATIONS]`

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oauth_server::policy::ScopePolicy;
use oauth_server::primitives::Store;
use oauth_server::secret::{self, SecretHash};
use oauth_server::store::{PgStore, SqliteStore};
use oauth_server::validator::StoreValidator;
use scope_hierarchies::MastodonScope;
use scope_runtime::token::{BearerToken, TokenValidator};
use sqlx::{Connection, QueryBuilder};

const SMALL: usize = 1_000;
const LARGE: usize = 1_000_000;

/// Rows per multi-row `INSERT` (SQLite allows 32,766 parameters).
const BATCH: usize = 2_500;

/// `n` fresh access tokens (as the server mints them).
fn mint(n: usize) -> Vec<String> {
    (0..n)
        .map(|_| secret::generate().expect("randomness"))
        .collect()
}

/// Inserts `tokens` (ids from `first`) into `tokens` through `executor`'s
/// dialect: `$n` placeholders work on both engines.
macro_rules! insert_all {
    ($db:ty, $pool:expr, $tokens:expr, $first:expr) => {{
        let mut tx = $pool.begin().await.expect("begin");
        for (chunk_no, chunk) in $tokens.chunks(BATCH).enumerate() {
            let mut q: QueryBuilder<'_, $db> = QueryBuilder::new(
                "INSERT INTO tokens (id, access_hash, client_id, user_id, scopes, created_at, expires_at, family, revoked) ",
            );
            q.push_values(chunk.iter().enumerate(), |mut row, (i, token)| {
                let id = format!("t{}", $first + chunk_no * BATCH + i);
                row.push_bind(id.clone())
                    .push_bind(SecretHash::of(token).as_bytes().to_vec())
                    .push_bind("bench")
                    .push_bind(1_i64)
                    .push_bind("read write:statuses")
                    .push_bind(1_700_000_000_i64)
                    .push_bind(4_000_000_000_i64)
                    .push_bind(id)
                    .push_bind(false);
            });
            q.build().execute(&mut *tx).await.expect("insert");
        }
        tx.commit().await.expect("commit");
    }};
}

struct Figures {
    p50: Duration,
    p99: Duration,
    mean: Duration,
}

/// Validates `iterations` tokens drawn from `tokens`, one at a time.
async fn measure<St: Store>(
    validator: &StoreValidator<St>,
    tokens: &[String],
    iterations: usize,
) -> Figures {
    // A fixed-seed xorshift: the same draw on both engines.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        usize::try_from(x % tokens.len() as u64).expect("index")
    };
    for _ in 0..iterations / 10 {
        let token = &tokens[next()];
        TokenValidator::<MastodonScope>::validate(validator, &BearerToken::new(token))
            .await
            .expect("valid");
    }
    let mut samples = Vec::with_capacity(iterations);
    let started = Instant::now();
    for _ in 0..iterations {
        let token = &tokens[next()];
        let t = Instant::now();
        TokenValidator::<MastodonScope>::validate(validator, &BearerToken::new(token))
            .await
            .expect("valid");
        samples.push(t.elapsed());
    }
    let total = started.elapsed();
    samples.sort_unstable();
    Figures {
        p50: samples[samples.len() / 2],
        p99: samples[samples.len() * 99 / 100],
        mean: total / u32::try_from(iterations).expect("iterations"),
    }
}

fn report(engine: &str, small: &Figures, large: &Figures) {
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    for (n, f) in [(SMALL, small), (LARGE, large)] {
        println!(
            "{engine:<10} {n:>9} tokens: p50 {:>6.1} µs  p99 {:>6.1} µs  mean {:>6.1} µs",
            us(f.p50),
            us(f.p99),
            us(f.mean)
        );
    }
    println!(
        "{engine:<10} mean at {LARGE} / mean at {SMALL}: {:.2}",
        large.mean.as_secs_f64() / small.mean.as_secs_f64()
    );
}

async fn sqlite(iterations: usize, all: &[String]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = SqliteStore::connect(&url).await.expect("sqlite");
    insert_all!(sqlx::Sqlite, store.pool(), all[..SMALL], 0);
    let validator = StoreValidator::new(Arc::new(store.clone()), ScopePolicy::default());
    let small = measure(&validator, &all[..SMALL], iterations).await;
    insert_all!(sqlx::Sqlite, store.pool(), all[SMALL..], SMALL);
    sqlx::query("ANALYZE")
        .execute(store.pool())
        .await
        .expect("analyze");
    let large = measure(&validator, all, iterations).await;
    report("sqlite", &small, &large);
}

async fn postgres(iterations: usize, all: &[String]) {
    let Ok(url) = std::env::var("TEST_DATABASE_URL_PG") else {
        println!("postgres: SKIPPED (TEST_DATABASE_URL_PG is not set)");
        return;
    };
    let schema = format!("bench_validation_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&url).await.expect("postgres");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await
        .expect("schema");
    let options = sqlx::postgres::PgConnectOptions::from_str(&url)
        .expect("url")
        .options([("search_path", &schema)]);
    let store = PgStore::connect_with(options).await.expect("store");
    insert_all!(sqlx::Postgres, store.pool(), all[..SMALL], 0);
    sqlx::query("ANALYZE tokens")
        .execute(store.pool())
        .await
        .expect("analyze");
    let validator = StoreValidator::new(Arc::new(store.clone()), ScopePolicy::default());
    let small = measure(&validator, &all[..SMALL], iterations).await;
    insert_all!(sqlx::Postgres, store.pool(), all[SMALL..], SMALL);
    sqlx::query("ANALYZE tokens")
        .execute(store.pool())
        .await
        .expect("analyze");
    let large = measure(&validator, all, iterations).await;
    report("postgres", &small, &large);
    store.pool().close().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut admin)
        .await
        .expect("drop");
}

fn main() {
    let iterations = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let all = mint(LARGE);
    runtime.block_on(async {
        sqlite(iterations, &all).await;
        postgres(iterations, &all).await;
    });
}
