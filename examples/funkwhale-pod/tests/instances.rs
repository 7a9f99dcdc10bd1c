//! Two `funkwhale-pod` processes behind an imaginary load balancer: one
//! PostgreSQL schema, one Redis, one public URL. A token issued through one
//! works on the other; a token revoked through one is refused by the other
//! within the stated bound, although the other had it cached; and the rate
//! limit is one budget across both.
//!
//! Needs `TEST_DATABASE_URL_PG` (else SKIPPED, unless `REQUIRE_POSTGRES=1`)
//! and, for the shared rate limit, `TEST_REDIS_URL` (else that part is
//! SKIPPED, unless `REQUIRE_REDIS=1`).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pod_kit::testing::{PASSWORD, PgSchema, PodClient, USER};

const BIN: &str = env!("CARGO_BIN_EXE_funkwhale-pod");

/// How soon a revocation through one instance must be refused by another
/// that has the token cached: PostgreSQL delivers the notice at commit
/// (milliseconds); the token cache's TTL (60 s) is far above this.
const REVOCATION_BOUND: Duration = Duration::from_secs(3);

/// A pod process, killed when dropped.
struct Instance {
    child: Child,
    client: PodClient,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `funkwhale-pod serve` on a free port with `args` and waits for
/// its banner; returns it with a client of its address.
fn start(database: &str, args: &[&str]) -> Instance {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--database", database])
        // One public URL for both, as behind a load balancer.
        .args(["--issuer", "http://pod.test"])
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn funkwhale-pod");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut addr = None;
    for line in lines.by_ref() {
        let line = line.expect("banner");
        if line.starts_with("database: ") {
            break;
        }
        // `listening on` names the public URL; this, the socket.
        if let Some(rest) = line.strip_prefix("address: ") {
            addr = Some(rest.trim().to_owned());
        }
    }
    let addr = addr.expect("the banner names the bound address");
    // Keep reading: the pod prints the rest of its banner.
    std::thread::spawn(move || lines.for_each(drop));
    Instance {
        child,
        client: PodClient::new(format!("http://{addr}")),
    }
}

fn create_user(database: &str) {
    let mut child = Command::new(BIN)
        .args([
            "create-user",
            USER,
            "--password-stdin",
            "--database",
            database,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn create-user");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .expect("password");
    let out = child.wait_with_output().expect("create-user");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `TEST_REDIS_URL` and a key prefix of this run's own, so that nothing
/// else using that Redis (another run, another test) shares its buckets;
/// `None` (after saying so) if there is no Redis to test against.
fn redis_for_this_test() -> Option<(String, String)> {
    let required = std::env::var("REQUIRE_REDIS").is_ok_and(|v| v == "1");
    let Some(url) = std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        assert!(!required, "REQUIRE_REDIS=1 but TEST_REDIS_URL is not set");
        println!("SKIPPED two_instances (shared rate limit): TEST_REDIS_URL is not set");
        return None;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let prefix = format!("test-instances-{}-{nanos}:", std::process::id());
    Some((url, prefix))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_tokens_revocations_and_rate_limits() {
    let Some(schema) = PgSchema::create("two_instances").await else {
        return;
    };
    let url = schema.url.clone();
    let redis = redis_for_this_test();
    let shared_limits = redis.is_some();
    let (a, b) = tokio::task::spawn_blocking(move || {
        create_user(&url);
        let mut args = vec!["--throttling-rates", "authenticated-retrieve=6/minute"];
        if let Some((url, prefix)) = &redis {
            args.extend([
                "--redis-url",
                url.as_str(),
                "--redis-prefix",
                prefix.as_str(),
            ]);
        }
        let a = start(&url, &args);
        let b = start(&url, &args);
        (a, b)
    })
    .await
    .expect("start the instances");
    let r = a.client.call("GET", "/api/v1/libraries/", None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Issued through A, honoured by B.
    let app = a.client.register("read write").await;
    let token = a.client.token(&app, "read write:playlists").await;
    let body = serde_json::json!({ "name": "shared", "privacy_level": "me" });
    let r = b
        .client
        .call("POST", "/api/v1/playlists/", Some(&token), Some(body))
        .await;
    assert_eq!(r.status, 201, "A's token on B: {}", r.text);
    let playlist = format!("/api/v1/playlists/{}/", r.body["id"]);

    // Cached on A, revoked through B: refused by A within the bound.
    let fresh = a.client.token(&app, "read").await;
    let r = a
        .client
        .call("GET", "/api/v1/playlists/", Some(&fresh), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    b.client.revoke(&app, &fresh).await;
    let revoked_at = Instant::now();
    loop {
        let r = a
            .client
            .call("GET", "/api/v1/playlists/", Some(&fresh), None)
            .await;
        if r.status == 401 {
            break;
        }
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(
            revoked_at.elapsed() < REVOCATION_BOUND,
            "A still honours a token revoked through B after {:?}",
            revoked_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "revoked through B, refused by A after {:?}",
        revoked_at.elapsed()
    );

    // One budget across both: 6 detail views a minute for this user.
    if shared_limits {
        let mut remaining = Vec::new();
        for (i, instance) in [&a, &b, &a, &b, &a, &b].into_iter().enumerate() {
            let r = instance
                .client
                .call("GET", &playlist, Some(&token), None)
                .await;
            assert_eq!(r.status, 200, "request {i}: {}", r.text);
            assert_eq!(
                r.headers["x-ratelimit-scope"], "authenticated-retrieve",
                "request {i}"
            );
            remaining.push(
                r.headers["x-ratelimit-remaining"]
                    .to_str()
                    .expect("header")
                    .to_owned(),
            );
        }
        // Counted once across both instances: 5, 4, ..., 0 (each counting
        // alone would answer 5, 5, 4, 4, 3, 3).
        assert_eq!(
            remaining,
            ["5", "4", "3", "2", "1", "0"],
            "one counter across A and B"
        );
        for instance in [&b, &a] {
            let r = instance
                .client
                .call("GET", &playlist, Some(&token), None)
                .await;
            assert_eq!(r.status, 429, "the 7th request, on either: {}", r.text);
            assert!(r.headers.contains_key("retry-after"));
        }
    }
    drop((a, b));
}
