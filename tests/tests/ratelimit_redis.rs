//! The rate limiter over Redis: two limiters (standing for two instances
//! of a server) over one Redis share their buckets, answer what the
//! in-process limiter answers for the same sequence, roll their windows
//! over, let requests through quickly when Redis is down or silent, and
//! replace a connection that hangs.
//!
//! Timing: the machine running these may be loaded, so the tests assert
//! what happened (kinds of errors, exact failure and skip counts) rather
//! than how fast, and keep only generous time bounds where speed is the
//! point. Tests that need several requests within one second of the clock
//! retry once if they straddled a second.
//!
//! The tests that need a server read its URL from `TEST_REDIS_URL`
//! (`redis://127.0.0.1:6379/`); without it they print `SKIPPED` and pass,
//! unless `REQUIRE_REDIS=1`. Each test uses keys of its own prefix, which
//! expire with their windows. The tests of a Redis that is down need no
//! server and always run.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use common::{Api, Scope, tokens};
use scope_ratelimit::store::{CounterErrorKind, RedisStore};
use scope_ratelimit::{Decision, RateLimiter, Rates};
use scope_runtime::TokenValidator;
use scope_runtime::enforce::Enforcer;
use scope_runtime::route::RouteTable;
use tower::ServiceExt;

/// Whether the Redis tests must run (`REQUIRE_REDIS=1`).
fn redis_required() -> bool {
    std::env::var("REQUIRE_REDIS").is_ok_and(|v| v == "1")
}

/// The URL of `TEST_REDIS_URL` if its server answers; `None` (after
/// printing why) if there is none to test against and `REQUIRE_REDIS` is
/// not `1`.
async fn redis_url(test: &str) -> Option<String> {
    let url = match std::env::var("TEST_REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => {
            assert!(
                !redis_required(),
                "{test}: REQUIRE_REDIS=1 but TEST_REDIS_URL is not set"
            );
            println!("SKIPPED {test}: TEST_REDIS_URL not set");
            return None;
        }
    };
    let probe = RateLimiter::with_store(
        rates("probe=1/second"),
        RedisStore::new(&url)
            .expect("TEST_REDIS_URL is a Redis URL")
            .prefix(prefix("probe"))
            .timeout(Duration::from_secs(5)),
    );
    if let Err(e) = probe.status("probe", now()).await {
        let why = std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| s.to_string());
        assert!(
            !redis_required(),
            "{test}: REQUIRE_REDIS=1 but the server of TEST_REDIS_URL is unreachable: {why}"
        );
        println!("SKIPPED {test}: the server of TEST_REDIS_URL is unreachable: {why}");
        return None;
    }
    Some(url)
}

/// A key prefix no other test (nor another run) uses.
fn prefix(test: &str) -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "scope-tests:{test}:{}:{nanos:x}:{}:",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

fn rates(overrides: &str) -> Rates {
    Rates::empty()
        .with_overrides(overrides)
        .expect("valid rates")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A limiter over the Redis of `url`, keys under `prefix`. The timeout is
/// generous: on a loaded CI machine a short one would fail open and hide
/// what is tested (each test also checks that nothing failed).
fn shared(url: &str, prefix: &str, rates: Rates) -> RateLimiter {
    let store = RedisStore::new(url)
        .expect("TEST_REDIS_URL is a Redis URL")
        .prefix(prefix)
        .timeout(Duration::from_secs(2));
    RateLimiter::with_store(rates, store)
}

/// Sleeps until just after the next second starts, so that a few quick
/// requests fall in one second of the clock (the limiter's unit).
async fn start_of_a_second() {
    let into = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_millis());
    tokio::time::sleep(Duration::from_millis(u64::from(1000 - into) + 20)).await;
}

/// Runs `block` from the start of a second and returns its output if it
/// ended within that second of the clock; runs it once more (from the
/// next second) if it straddled one. `block` must start afresh each time
/// (new limiters, a new prefix).
async fn within_one_second<T, F: Future<Output = T>>(mut block: impl FnMut() -> F) -> T {
    for _ in 0..2 {
        start_of_a_second().await;
        let second = now();
        let output = block().await;
        if now() == second {
            return output;
        }
        println!("the block straddled a second; once more");
    }
    panic!("the block straddled a second twice: the machine is too slow for this test");
}

fn app(limiter: &RateLimiter) -> Router {
    Api::router(Enforcer::new(tokens()).guard(limiter.clone()))
}

/// The same API with a validator that never answers at once, so that the
/// enforcement layer takes its waiting path before the guard.
fn app_with_async_validator(limiter: &RateLimiter) -> Router {
    let tokens = tokens();
    let validator = move |token: String| {
        let tokens = tokens.clone();
        async move {
            TokenValidator::<Scope>::validate(
                &tokens,
                &scope_runtime::token::BearerToken::new(token),
            )
            .await
        }
    };
    Api::router(Enforcer::new(validator).guard(limiter.clone()))
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

async fn get(app: &Router, path: &str, token: Option<&str>) -> Reply {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request.body(Body::empty()).expect("request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).expect("utf-8"),
    }
}

/// The `X-RateLimit-*` and `Retry-After` headers of a reply.
fn limit_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("x-ratelimit-") || *name == "retry-after")
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                value.to_str().expect("ascii").to_owned(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

#[tokio::test]
async fn two_limiters_share_a_bucket_and_answer_as_in_process() {
    let test = "two_limiters_share_a_bucket_and_answer_as_in_process";
    let Some(url) = redis_url(test).await else {
        return;
    };
    let prefix = prefix(test);
    let rates = rates("s=3/minute");
    let a = shared(&url, &prefix, rates.clone());
    let b = shared(&url, &prefix, rates.clone());
    let local = RateLimiter::new(rates);
    let t = now();
    // (instance, seconds after t): three allowed across both instances,
    // then refused on either, until the window of 60 s ends.
    let sequence = [
        (&a, 0, true),
        (&b, 1, true),
        (&a, 2, true),
        (&b, 3, false),
        (&a, 4, false),
        (&b, 59, false),
        (&a, 60, true),
        (&b, 61, true),
    ];
    for (step, (limiter, after, allowed)) in sequence.into_iter().enumerate() {
        let at = t + after;
        let shared = limiter
            .count("s", "user:1", at)
            .await
            .expect("redis answers")
            .expect("s is limited");
        let expected = local
            .count("s", "user:1", at)
            .await
            .expect("in process")
            .expect("s is limited");
        assert_eq!(shared, expected, "step {step}");
        assert_eq!(shared.allowed, allowed, "step {step}");
        assert_eq!(shared.headers(at), expected.headers(at), "step {step}");
    }
    // Another client, another bucket; an unlimited bucket name, no bucket.
    let other = b.count("s", "user:2", t + 61).await.expect("redis answers");
    assert_eq!(other.map(|d| d.remaining), Some(2));
    assert_eq!(a.count("free", "user:1", t).await.expect("no rate"), None);
    assert_eq!(a.store_failures() + b.store_failures(), 0);
}

#[tokio::test]
async fn status_reads_the_shared_buckets() {
    let test = "status_reads_the_shared_buckets";
    let Some(url) = redis_url(test).await else {
        return;
    };
    let prefix = prefix(test);
    let rates =
        rates("anonymous-list=5/minute,anonymous-create=1/hour,authenticated-list=9/minute");
    let a = shared(&url, &prefix, rates.clone());
    let b = shared(&url, &prefix, rates.clone());
    let local = RateLimiter::new(rates);
    let t = now();
    for (limiter, bucket, after) in [
        (&a, "anonymous-list", 0),
        (&b, "anonymous-list", 3),
        (&a, "anonymous-create", 5),
        (&b, "anonymous-create", 6),
    ] {
        limiter
            .count(bucket, "10.0.0.1", t + after)
            .await
            .expect("redis answers");
        local
            .count(bucket, "10.0.0.1", t + after)
            .await
            .expect("in process");
    }
    for at in [t + 10, t + 70] {
        let seen: Vec<Decision> = b.status("10.0.0.1", at).await.expect("redis answers");
        let expected = local.status("10.0.0.1", at).await.expect("in process");
        assert_eq!(seen, expected, "at t + {}", at - t);
    }
    let seen = a.status("10.0.0.1", t + 10).await.expect("redis answers");
    let list = seen
        .iter()
        .find(|d| d.bucket == "anonymous-list")
        .expect("listed");
    assert_eq!((list.remaining, list.reset_seconds), (3, 50));
    // Nothing is counted in this process: the store has no answer at once.
    let list_rate = a.rates().get("anonymous-list").expect("limited");
    assert_eq!(
        a.store()
            .count_now("anonymous-list", "10.0.0.1", list_rate, t + 10),
        None
    );
    assert_eq!(a.store_failures() + b.store_failures(), 0);
}

#[tokio::test]
async fn windows_roll_over() {
    let test = "windows_roll_over";
    let Some(url) = redis_url(test).await else {
        return;
    };
    let prefix = prefix(test);
    let a = shared(&url, &prefix, rates("s=2/second"));
    let b = shared(&url, &prefix, rates("s=2/second"));
    // With the time given.
    let t = now();
    let allowed = |d: Option<Decision>| d.expect("limited").allowed;
    assert!(allowed(a.count("s", "x", t).await.expect("redis")));
    assert!(allowed(b.count("s", "x", t).await.expect("redis")));
    assert!(!allowed(a.count("s", "x", t).await.expect("redis")));
    let next = b
        .count("s", "x", t + 1)
        .await
        .expect("redis")
        .expect("limited");
    assert!(next.allowed);
    assert_eq!((next.remaining, next.reset_seconds), (1, 1));
    // On the clock, through the guard: the key expires with its window.
    let path = "/api/v1/statuses/1";
    let (la, lb, app_b, replies) = within_one_second(|| {
        let prefix = self::prefix(test);
        let la = shared(&url, &prefix, rates("authenticated-retrieve=2/second"));
        let lb = shared(&url, &prefix, rates("authenticated-retrieve=2/second"));
        let (app_a, app_b) = (app(&la), app(&lb));
        async move {
            let replies = [
                get(&app_a, path, Some("read")).await,
                get(&app_b, path, Some("read")).await,
                get(&app_a, path, Some("read")).await,
            ];
            (la, lb, app_b, replies)
        }
    })
    .await;
    let [first, second, refused] = replies;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers["retry-after"], "1");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = get(&app_b, path, Some("read")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.headers["x-ratelimit-remaining"], "1");
    let failures = [&a, &b, &la, &lb].map(|l| (l.store_failures(), l.store_skips()));
    assert_eq!(failures, [(0, 0); 4]);
}

/// Two routers, each with its own enforcer and limiter over one Redis:
/// requests on either count against one bucket, through both paths of
/// the enforcement layer (the validator answering at once or later).
#[tokio::test]
async fn two_routers_share_a_bucket() {
    let test = "two_routers_share_a_bucket";
    let Some(url) = redis_url(test).await else {
        return;
    };
    let prefix = prefix(test);
    let rates = rates("authenticated-retrieve=3/minute,anonymous-retrieve=1/minute");
    let a = shared(&url, &prefix, rates.clone());
    let b = shared(&url, &prefix, rates.clone());
    let (app_a, app_b) = (app(&a), app_with_async_validator(&b));
    let path = "/api/v1/statuses/1";
    for (app, remaining) in [(&app_a, "2"), (&app_b, "1"), (&app_a, "0")] {
        let ok = get(app, path, Some("read")).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        assert_eq!(ok.body, "status for app1");
        assert_eq!(ok.headers["x-ratelimit-scope"], "authenticated-retrieve");
        assert_eq!(ok.headers["x-ratelimit-limit"], "3");
        assert_eq!(ok.headers["x-ratelimit-remaining"], remaining);
    }
    for app in [&app_b, &app_a] {
        let refused = get(app, path, Some("read")).await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.headers["content-type"], "application/json");
        assert_eq!(refused.headers["x-ratelimit-remaining"], "0");
        let wait: u64 = refused.headers["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!((1..=60).contains(&wait), "{wait}");
        let body: serde_json::Value = serde_json::from_str(&refused.body).expect("json");
        assert_eq!(
            body["detail"],
            format!("Request was throttled. Expected available in {wait} seconds.")
        );
    }
    // A token of the same user counts against the same bucket; anonymous
    // requests (all `unknown` here, without ConnectInfo) have their own.
    assert_eq!(
        get(&app_b, path, Some("readwrite")).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(get(&app_b, path, None).await.status, StatusCode::OK);
    assert_eq!(
        get(&app_a, path, None).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Refusals of authorization are not counted: a 403 stays a 403.
    assert_eq!(
        get(&app_a, path, Some("write")).await.status,
        StatusCode::FORBIDDEN
    );
    // A bucket without a rate is not limited (and not sent to Redis).
    let free = get(&app_a, "/api/v1/accounts/verify_credentials", Some("read")).await;
    assert_eq!(free.status, StatusCode::OK);
    assert!(limit_headers(&free.headers).is_empty());
    assert_eq!(a.store_failures() + b.store_failures(), 0);
}

/// The same requests to a router over Redis and to one over the
/// in-process limiter get the same headers.
#[tokio::test]
async fn headers_match_the_in_process_limiter() {
    let test = "headers_match_the_in_process_limiter";
    let Some(url) = redis_url(test).await else {
        return;
    };
    let rates = rates("authenticated-retrieve=2/minute,authenticated-list=5/hour");
    let paths = [
        "/api/v1/statuses/1",
        "/api/v1/statuses/2",
        "/api/v1/statuses/3",
        "/api/v1/playlists/",
        "/api/v1/statuses/4",
    ];
    // Both routers read the clock: their headers agree only if all the
    // requests fall in one second.
    let (redis, replies) = within_one_second(|| {
        let redis = shared(&url, &prefix(test), rates.clone());
        let (over_redis, in_process) = (app(&redis), app(&RateLimiter::new(rates.clone())));
        async move {
            let mut replies = Vec::new();
            for path in paths {
                let token = if path.contains("playlists") {
                    "read-playlists"
                } else {
                    "read"
                };
                replies.push((
                    path,
                    get(&over_redis, path, Some(token)).await,
                    get(&in_process, path, Some(token)).await,
                ));
            }
            (redis, replies)
        }
    })
    .await;
    for (path, r, l) in replies {
        assert_eq!((r.status, &r.body), (l.status, &l.body), "{path}");
        assert!(!limit_headers(&r.headers).is_empty(), "{path}");
        assert_eq!(
            limit_headers(&r.headers),
            limit_headers(&l.headers),
            "{path}"
        );
    }
    assert_eq!((redis.store_failures(), redis.store_skips()), (0, 0));
}

/// A port that nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Redis down (nothing listens) or silent (a socket that never answers):
/// every request passes within the timeout, without rate-limit headers,
/// and the failures are counted. Needs no Redis.
#[tokio::test]
async fn redis_down_or_silent_fails_open_quickly() {
    // Accepted by the kernel, never read: the client's commands get no
    // answer.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let silent_port = silent.local_addr().expect("addr").port();
    for (what, port) in [("down", closed_port()), ("silent", silent_port)] {
        // No backoff: each request asks (and waits for) the store.
        let store = RedisStore::new(&format!("redis://127.0.0.1:{port}/"))
            .expect("url")
            .timeout(Duration::from_millis(100))
            .backoff(Duration::ZERO);
        let limiter = RateLimiter::with_store(rates("authenticated-retrieve=1/hour"), store);
        let app = app(&limiter);
        for _ in 0..3 {
            let started = Instant::now();
            let r = get(&app, "/api/v1/statuses/1", Some("read")).await;
            let took = started.elapsed();
            assert_eq!(r.status, StatusCode::OK, "{what}: {}", r.body);
            assert!(limit_headers(&r.headers).is_empty(), "{what}");
            // Generous (the timeout is 100 ms): the point is that
            // nothing hangs.
            assert!(took < Duration::from_secs(2), "{what}: {took:?}");
        }
        assert_eq!(limiter.store_failures(), 3, "{what}");
        assert_eq!(limiter.store_skips(), 0, "{what}");
    }
    drop(silent);
}

/// After a failure the store is left alone for its backoff: the requests
/// meanwhile pass at once instead of each waiting out the timeout.
#[tokio::test]
async fn the_backoff_spares_requests_the_timeout() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let store = RedisStore::new(&format!("redis://127.0.0.1:{port}/"))
        .expect("url")
        .timeout(Duration::from_millis(200))
        // Far longer than the test.
        .backoff(Duration::from_secs(60));
    let limiter = RateLimiter::with_store(rates("authenticated-retrieve=1/hour"), store);
    let app = app(&limiter);
    let started = Instant::now();
    assert_eq!(
        get(&app, "/api/v1/statuses/1", Some("read")).await.status,
        StatusCode::OK
    );
    // A timer never fires early, however loaded the machine.
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "the first one waits out the timeout"
    );
    assert_eq!((limiter.store_failures(), limiter.store_skips()), (1, 0));
    let started = Instant::now();
    for _ in 0..20 {
        let r = get(&app, "/api/v1/statuses/1", Some("read")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(limit_headers(&r.headers).is_empty());
    }
    // What shows that none waited: they were skipped, not failed.
    assert_eq!((limiter.store_failures(), limiter.store_skips()), (1, 20));
    let kind = limiter
        .count("authenticated-retrieve", "user:1", now())
        .await
        .expect_err("in its backoff")
        .kind();
    assert_eq!(kind, CounterErrorKind::Backoff);
    // Generous (20 waits would take 4 s): the point is the time saved.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    drop(silent);
}

/// A TCP proxy that counts the connections it accepts and can freeze the
/// open ones: they stay open, but nothing goes through them any more, as
/// with a server (or a route) that hangs without closing anything. New
/// connections go through.
struct Proxy {
    port: u16,
    accepted: Arc<AtomicU64>,
    open: Arc<Mutex<Vec<Arc<AtomicBool>>>>,
}

impl Proxy {
    async fn start(target: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let accepted = Arc::new(AtomicU64::new(0));
        let open = Arc::new(Mutex::new(Vec::new()));
        let (counter, connections) = (Arc::clone(&accepted), Arc::clone(&open));
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let frozen = Arc::new(AtomicBool::new(false));
                connections
                    .lock()
                    .expect("not poisoned")
                    .push(Arc::clone(&frozen));
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    tokio::join!(
                        pump(client_read, server_write, Arc::clone(&frozen)),
                        pump(server_read, client_write, frozen),
                    );
                });
            }
        });
        Self {
            port,
            accepted,
            open,
        }
    }

    fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Freezes every connection open now.
    fn freeze(&self) {
        for frozen in self.open.lock().expect("not poisoned").iter() {
            frozen.store(true, Ordering::SeqCst);
        }
    }
}

/// Copies `from` to `to` until either ends; once `frozen`, holds both open
/// and forwards nothing.
async fn pump(
    from: tokio::net::tcp::OwnedReadHalf,
    to: tokio::net::tcp::OwnedWriteHalf,
    frozen: Arc<AtomicBool>,
) {
    let mut buffer = vec![0; 16 * 1024];
    loop {
        if from.readable().await.is_err() {
            return;
        }
        let read = match from.try_read(&mut buffer) {
            Ok(0) => return,
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return,
        };
        if frozen.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        let mut sent = 0;
        while sent < read {
            if to.writable().await.is_err() {
                return;
            }
            match to.try_write(&buffer[sent..read]) {
                Ok(written) => sent += written,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
    }
}

/// The `host:port` of a `redis://` URL and the URL with another
/// `host:port`; `None` for another scheme (a Unix socket, TLS).
fn split_redis_url(url: &str) -> Option<(String, impl Fn(&str) -> String)> {
    let rest = url.strip_prefix("redis://")?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (user, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (format!("{user}@"), host),
        None => (String::new(), authority),
    };
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:6379")
    };
    let path = path.to_owned();
    Some((host, move |other: &str| {
        format!("redis://{user}{other}/{path}")
    }))
}

/// A connection that hangs for good (no answer, no RST, no FIN) costs one
/// timeout: it is dropped, and after the backoff the store connects anew
/// and counts again.
#[tokio::test]
async fn a_hung_connection_is_replaced_after_a_timeout() {
    let test = "a_hung_connection_is_replaced_after_a_timeout";
    let Some(url) = redis_url(test).await else {
        return;
    };
    let Some((target, with_host)) = split_redis_url(&url) else {
        assert!(!redis_required(), "{test}: TEST_REDIS_URL is not redis://");
        println!("SKIPPED {test}: TEST_REDIS_URL is not redis://");
        return;
    };
    let proxy = Proxy::start(target).await;
    let store = RedisStore::new(&with_host(&format!("127.0.0.1:{}", proxy.port)))
        .expect("a Redis URL")
        .prefix(prefix(test))
        .timeout(Duration::from_secs(2))
        .backoff(Duration::from_millis(100));
    let limiter = RateLimiter::with_store(rates("s=100/hour"), store);
    let t = now();
    let count = || async {
        limiter
            .count("s", "x", t)
            .await
            .map(|d| d.expect("limited").remaining)
    };
    assert_eq!(count().await.expect("redis answers"), 99);
    assert_eq!(proxy.accepted(), 1);
    proxy.freeze();
    let hung = count().await.expect_err("frozen");
    assert_eq!(hung.kind(), CounterErrorKind::Timeout);
    assert_eq!((limiter.store_failures(), limiter.store_skips()), (1, 0));
    // Past the backoff, the probe connects anew; the frozen request never
    // reached Redis.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count().await.expect("a new connection"), 98);
    assert_eq!(proxy.accepted(), 2);
    // Healthy again, on that connection.
    assert_eq!(count().await.expect("redis answers"), 97);
    assert_eq!(proxy.accepted(), 2);
    assert_eq!((limiter.store_failures(), limiter.store_skips()), (1, 0));
}
