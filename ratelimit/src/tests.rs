//! The limiter's unit tests: rates, windows, headers, sweeping, and the
//! Redis store's failure policy (a closed port, a silent server; a real
//! server when `TEST_REDIS_URL` is set).

use std::time::Duration;

#[cfg(feature = "redis")]
use crate::limiter::unix_now;
#[cfg(feature = "redis")]
use crate::store::{CounterErrorKind, RedisStore};
use crate::store::{CounterStore, MemoryStore};
use crate::{Decision, MAX_WINDOW, Rate, RateLimiter, Rates};

/// Counts in process: the in-process store answers at once.
async fn hit(limiter: &RateLimiter, bucket: &str, ident: &str, now: u64) -> Option<Decision> {
    limiter.count(bucket, ident, now).await.expect("in process")
}

#[test]
fn rates_parse_drf_periods() {
    assert_eq!(
        "10/hour".parse::<Rate>(),
        Ok(Rate {
            limit: 10,
            duration: Duration::from_secs(3600)
        })
    );
    assert_eq!(
        "2/m".parse::<Rate>().map(|r| r.duration),
        Ok(Duration::from_secs(60))
    );
    assert!("ten/hour".parse::<Rate>().is_err());
    assert!("10/fortnight".parse::<Rate>().is_err());
    assert!("10".parse::<Rate>().is_err());
    assert!(Rates::funkwhale().with_overrides("anonymous-list").is_err());
    // `a:b` + ident `c` and `a` + ident `b:c` would share a key in
    // Redis.
    let colon = Rates::empty().with_overrides("a:b=1/s").expect_err("colon");
    assert!(colon.to_string().contains("':'"), "{colon}");
    let rates = Rates::funkwhale()
        .with_overrides(" anonymous-list=10/hour , ,custom=1/s")
        .expect("valid");
    assert_eq!(rates.get("anonymous-list").map(|r| r.limit), Some(10));
    assert_eq!(rates.get("custom").map(|r| r.limit), Some(1));
    assert_eq!(
        rates.get("authenticated-destroy").map(|r| r.limit),
        Some(500)
    );
}

#[tokio::test]
async fn a_bucket_empties_then_refills_after_its_window() {
    let limiter = RateLimiter::new(Rates::empty().with_overrides("s=2/minute").expect("rate"));
    let first = hit(&limiter, "s", "a", 1000).await.expect("limited bucket");
    assert!(first.allowed);
    assert_eq!(first.remaining, 1);
    assert_eq!(first.reset_seconds, 60);
    assert!(hit(&limiter, "s", "a", 1010).await.expect("bucket").allowed);
    let refused = hit(&limiter, "s", "a", 1020).await.expect("bucket");
    assert!(!refused.allowed);
    assert_eq!(refused.remaining, 0);
    assert_eq!(refused.reset_seconds, 40);
    // Another client has its own bucket.
    assert!(hit(&limiter, "s", "b", 1020).await.expect("bucket").allowed);
    // The window is over.
    let later = hit(&limiter, "s", "a", 1060).await.expect("bucket");
    assert!(later.allowed);
    assert_eq!(later.remaining, 1);
    assert!(hit(&limiter, "unlimited", "a", 1060).await.is_none());
    let status = limiter.status("a", 1061).await.expect("in process");
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].remaining, 1);
}

/// A window longer than a year counts as a year (Redis' `EX` would
/// get a float, and refuse it, for a huge one).
#[tokio::test]
async fn huge_durations_are_clamped_to_a_year() {
    let year = MAX_WINDOW.as_secs();
    let mut rates = Rates::empty();
    for (name, duration) in [("huge", Duration::MAX), ("long", MAX_WINDOW * 3)] {
        let rate = Rate { limit: 1, duration };
        rates.0.insert(name.to_owned(), rate);
    }
    let limiter = RateLimiter::new(rates);
    for bucket in ["huge", "long"] {
        let first = hit(&limiter, bucket, "a", 1000).await.expect("limited");
        assert_eq!(first.reset_seconds, year, "{bucket}");
        assert_eq!(
            first.headers(1000)["x-ratelimit-duration"],
            &year.to_string()
        );
        assert!(
            !hit(&limiter, bucket, "a", 1000 + year - 1)
                .await
                .expect("limited")
                .allowed
        );
        assert!(
            hit(&limiter, bucket, "a", 1000 + year)
                .await
                .expect("limited")
                .allowed
        );
    }
}

#[tokio::test]
async fn headers_say_when_to_come_back() {
    let limiter = RateLimiter::new(Rates::empty().with_overrides("s=1/hour").expect("rate"));
    let _ = hit(&limiter, "s", "a", 100).await;
    let refused = hit(&limiter, "s", "a", 160).await.expect("bucket");
    let h = refused.headers(160);
    assert_eq!(h["x-ratelimit-scope"], "s");
    assert_eq!(h["x-ratelimit-limit"], "1");
    assert_eq!(h["x-ratelimit-remaining"], "0");
    assert_eq!(h["x-ratelimit-duration"], "3600");
    assert_eq!(h["x-ratelimit-reset"], "3700");
    assert_eq!(h["retry-after"], "3540");
}

#[test]
fn expired_windows_are_swept() {
    let store = MemoryStore::new();
    let rate = "5/second".parse::<Rate>().expect("rate");
    for i in 0..5000 {
        let _ = store.count_now("s", &i.to_string(), rate, 10);
    }
    // New clients arrive after those windows ended: the map is swept
    // when it doubles instead of holding every client ever seen.
    for i in 0..4000 {
        let _ = store.count_now("s", &format!("late{i}"), rate, 100);
    }
    assert!(store.len() <= 4000, "{}", store.len());
}

/// The limiter's one API (async) answers what the in-process store's
/// synchronous fast path (`count_now`, which the guard uses) answers.
#[tokio::test]
async fn count_and_status_agree_with_the_sync_fast_path() {
    let rates = Rates::empty().with_overrides("s=2/minute").expect("rate");
    let rate = rates.get("s").expect("s");
    let sync = MemoryStore::new();
    // The store's own async path, which the limiter skips when the fast
    // path answers: it must count alike.
    let awaited = MemoryStore::new();
    let counted = RateLimiter::new(rates.clone());
    for now in [1000, 1010, 1020, 1060] {
        let fast = sync.count_now("s", "a", rate, now);
        assert_eq!(
            counted.count("s", "a", now).await.expect("in process"),
            fast
        );
        assert_eq!(
            Some(
                CounterStore::count(&awaited, "s", "a", rate, now)
                    .await
                    .expect("in process")
            ),
            fast
        );
    }
    assert_eq!(counted.count("other", "a", 1060).await.expect("ok"), None);
    assert_eq!(
        counted.status("a", 1061).await.expect("in process"),
        sync.status("a", &rates, 1061).await.expect("in process")
    );
    assert_eq!(counted.store_failures(), 0);
    assert!(!counted.store().is_shared());
}

/// Redis down: no hang, no error to the caller of the guard, a
/// counted failure, then the backoff answers at once.
#[cfg(feature = "redis")]
#[tokio::test]
async fn a_store_on_a_closed_port_fails_fast_and_backs_off() {
    let store = RedisStore::new("redis://127.0.0.1:1/")
        .expect("url")
        .timeout(Duration::from_millis(200))
        // Far longer than the test: every later call is skipped.
        .backoff(Duration::from_secs(60));
    let limiter = RateLimiter::with_store(
        Rates::empty().with_overrides("s=1/minute").expect("rate"),
        store,
    );
    assert!(limiter.store().is_shared());
    let rate = limiter.rates().get("s").expect("s");
    assert_eq!(
        limiter.store().count_now("s", "a", rate, 1000),
        None,
        "no counters here"
    );
    let started = std::time::Instant::now();
    let first = limiter
        .count("s", "a", 1000)
        .await
        .expect_err("closed port");
    assert!(
        matches!(
            first.kind(),
            CounterErrorKind::Failed | CounterErrorKind::Timeout
        ),
        "{first:?}"
    );
    let second = limiter.count("s", "a", 1000).await.expect_err("backoff");
    assert_eq!(second.kind(), CounterErrorKind::Backoff);
    let status = limiter.status("a", 1000).await.expect_err("backoff");
    assert_eq!(status.kind(), CounterErrorKind::Backoff);
    // Generous: the point is that nothing hangs (the timeout is 200 ms).
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(limiter.store_failures(), 1, "one call made, and failed");
    assert_eq!(limiter.store_skips(), 2, "two not made");
    // An unlimited bucket never asks the store.
    assert_eq!(
        limiter.count("other", "a", 1000).await.expect("no rate"),
        None
    );
    assert_eq!((limiter.store_failures(), limiter.store_skips()), (1, 2));
}

/// A rate longer than a year counts in windows of a year in Redis too
/// (`EX` would get a float, which Redis refuses, and every count would
/// fail), as in process. Needs `TEST_REDIS_URL`; skipped without it
/// unless `REQUIRE_REDIS=1`.
#[cfg(feature = "redis")]
#[tokio::test]
async fn huge_durations_count_in_redis_as_in_process() {
    let url = match std::env::var("TEST_REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => {
            assert!(
                std::env::var("REQUIRE_REDIS").as_deref() != Ok("1"),
                "REQUIRE_REDIS=1 but TEST_REDIS_URL is not set"
            );
            println!("SKIPPED: TEST_REDIS_URL not set");
            return;
        }
    };
    let mut rates = Rates::empty();
    let huge = Rate {
        limit: 2,
        duration: Duration::MAX,
    };
    rates.0.insert("s".to_owned(), huge);
    let store = RedisStore::new(&url)
        .expect("url")
        .prefix(format!(
            "scope-ratelimit:huge:{}:{}:",
            std::process::id(),
            unix_now()
        ))
        .timeout(Duration::from_secs(5));
    let key = store.key("s", "x");
    let redis = RateLimiter::with_store(rates.clone(), store);
    let local = RateLimiter::new(rates);
    let year = MAX_WINDOW.as_secs();
    let t = unix_now();
    for at in [t, t + 1, t + 2, t + year - 1, t + year] {
        let counted = redis.count("s", "x", at).await.expect("redis answers");
        assert_eq!(
            counted,
            hit(&local, "s", "x", at).await,
            "at t + {}",
            at - t
        );
    }
    assert_eq!((redis.store_failures(), redis.store_skips()), (0, 0));
    // The key expires with its window, a year from now; then it goes.
    let client = redis::Client::open(url).expect("url");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let ttl: i64 = redis::cmd("TTL")
        .arg(&key)
        .query_async(&mut connection)
        .await
        .expect("TTL");
    assert!(
        (year.cast_signed() - 60..=year.cast_signed()).contains(&ttl),
        "{ttl}"
    );
    let deleted: i64 = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut connection)
        .await
        .expect("DEL");
    assert_eq!(deleted, 1);
}

/// After the backoff, one request probes the store (here: waits out
/// its timeout on a server that never answers); the others arriving
/// meanwhile are skipped, not made to wait.
#[cfg(feature = "redis")]
#[tokio::test]
async fn only_one_request_probes_after_the_backoff() {
    // Accepted by the kernel, never read.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let store = RedisStore::new(&format!("redis://127.0.0.1:{port}/"))
        .expect("url")
        .timeout(Duration::from_millis(500))
        .backoff(Duration::from_millis(50));
    let limiter = RateLimiter::with_store(
        Rates::empty().with_overrides("s=1/minute").expect("rate"),
        store,
    );
    let first = limiter.count("s", "a", 1000).await.expect_err("silent");
    assert_eq!(first.kind(), CounterErrorKind::Timeout);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // This runtime has one thread: every task runs up to its first
    // wait before the probe's can end.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.count("s", "a", 1000).await.map(|_| ()) })
        })
        .collect();
    let mut kinds = Vec::new();
    for task in tasks {
        kinds.push(task.await.expect("no panic").expect_err("silent").kind());
    }
    let probes = kinds
        .iter()
        .filter(|&&k| k == CounterErrorKind::Timeout)
        .count();
    let skipped = kinds
        .iter()
        .filter(|&&k| k == CounterErrorKind::Backoff)
        .count();
    assert_eq!((probes, skipped), (1, 7), "{kinds:?}");
    assert_eq!(limiter.store_failures(), 2);
    assert_eq!(limiter.store_skips(), 7);
    drop(silent);
}

/// The bucket of each method and route shape, as the table of the crate
/// docs gives it.
#[test]
fn buckets_follow_funkwhales_table() {
    use scope_runtime::route::{Method, RouteShape};

    use crate::funkwhale::Action;

    let cases = [
        (Method::Get, "/api/v1/tracks/", "list"),
        (Method::Head, "/api/v1/tracks", "list"),
        (Method::Post, "/api/v1/tracks/", "create"),
        (Method::Put, "/api/v1/tracks/", "wildcard"),
        (Method::Delete, "/api/v1/tracks/", "wildcard"),
        (Method::Get, "/api/v1/tracks/{id}/", "retrieve"),
        (Method::Put, "/api/v1/tracks/{id}", "update"),
        (Method::Patch, "/api/v1/tracks/{id}/", "update"),
        (Method::Delete, "/api/v1/tracks/{id}/", "destroy"),
        (Method::Post, "/api/v1/tracks/{id}/", "wildcard"),
        (Method::Get, "/api/v1/albums/{id}/tracks/", "wildcard"),
        (Method::Post, "/api/v1/favorites/tracks/remove/", "create"),
        (Method::Options, "/api/v1/tracks/", "wildcard"),
    ];
    for (method, path, action) in cases {
        let of = Action::of(method, RouteShape::of_path(path));
        assert_eq!(of.as_str(), action, "{method} {path}");
        assert_eq!(of.bucket(false), format!("anonymous-{action}"));
        assert_eq!(of.bucket(true), format!("authenticated-{action}"));
    }
}
