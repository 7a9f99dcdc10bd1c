//! End to end over real sockets: the pod as `funkwhale-pod serve` runs it
//! (SQLite file, bundled OAuth server, token cache, rate limiter), tokens
//! obtained by logging in and consenting, the code exchanged by the
//! `oauth2` crate. Each test runs on SQLite (`sqlite::<test>`) and on
//! PostgreSQL (`postgres::<test>`, a fresh schema of `TEST_DATABASE_URL_PG`;
//! `SKIPPED` without it), plus two pods sharing one PostgreSQL database.

use funkwhale_pod::FunkwhalePod;
use pod_kit::Settings;
use pod_kit::testing::{Engine, PgSchema, TestPod};

/// The pod on `engine`; `None`: skip the test (no PostgreSQL).
async fn start(engine: Engine, settings: impl FnOnce(Settings) -> Settings) -> Option<TestPod> {
    TestPod::start_engine::<FunkwhalePod>(engine, settings).await
}

/// Scope family, a GET endpoint of it.
const FAMILIES: &[(&str, &str)] = &[
    ("profile", "/api/v1/users/me/"),
    ("libraries", "/api/v1/libraries/"),
    ("edits", "/api/v1/mutations/"),
    ("favorites", "/api/v1/favorites/tracks/"),
    ("listenings", "/api/v1/history/listenings/"),
    ("follows", "/api/v1/federation/follows/library/"),
    ("notifications", "/api/v1/federation/inbox/"),
    ("filters", "/api/v1/moderation/content-filters/"),
    ("playlists", "/api/v1/playlists/"),
    ("radios", "/api/v1/radios/radios/"),
];

async fn every_scope_family_with_its_scope_a_narrower_one_the_parent_and_none(engine: Engine) {
    // Anonymous reads refused, as on a pod that requires authentication.
    let Some(pod) = start(engine, |mut s| {
        s.api_authentication_required = true;
        s
    })
    .await
    else {
        return;
    };
    let app = pod.register("read write").await;
    let parent = pod.token(&app, "read").await;
    for (family, path) in FAMILIES {
        let scoped = pod.token(&app, &format!("read:{family}")).await;
        let r = pod.call("GET", path, Some(&scoped), None).await;
        assert_eq!(r.status, 200, "read:{family} on {path}: {}", r.text);
        assert!(r.body.is_object(), "{path} answers JSON");

        let r = pod.call("GET", path, Some(&parent), None).await;
        assert_eq!(r.status, 200, "read on {path}");

        // A token for another family is too narrow.
        let other = if *family == "radios" {
            "read:playlists"
        } else {
            "read:radios"
        };
        let narrow = pod.token(&app, other).await;
        let r = pod.call("GET", path, Some(&narrow), None).await;
        assert_eq!(r.status, 403, "{other} on {path}");
        assert_eq!(r.body["error"], "insufficient_scope");
        let challenge = r.headers["www-authenticate"].to_str().expect("ascii");
        assert!(
            challenge.contains(&format!("scope=\"read:{family}\"")),
            "{challenge}"
        );

        let r = pod.call("GET", path, None, None).await;
        assert_eq!(r.status, 401, "no token on {path}");
    }
}

async fn writes_need_the_write_scope_and_persist(engine: Engine) {
    let Some(pod) = start(engine, |s| s).await else {
        return;
    };
    let app = pod.register("read write").await;
    let reader = pod.token(&app, "read").await;
    let writer = pod.token(&app, "write:playlists read:playlists").await;
    let body = serde_json::json!({ "name": "road trip", "privacy_level": "me" });

    let r = pod
        .call(
            "POST",
            "/api/v1/playlists/",
            Some(&reader),
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["error"], "insufficient_scope");

    let r = pod
        .call("POST", "/api/v1/playlists/", Some(&writer), Some(body))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_i64().expect("id");
    let r = pod
        .call(
            "GET",
            &format!("/api/v1/playlists/{id}/"),
            Some(&writer),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["name"], "road trip");
    // Private: anonymous callers do not see it.
    let r = pod
        .call("GET", &format!("/api/v1/playlists/{id}/"), None, None)
        .await;
    assert_eq!(r.status, 404);
}

async fn a_revoked_token_stops_working_at_once(engine: Engine) {
    let Some(pod) = start(engine, |s| s).await else {
        return;
    };
    let app = pod.register("read").await;
    let token = pod.token(&app, "read").await;
    // Cached by the first call...
    let r = pod
        .call("GET", "/api/v1/users/me/", Some(&token), None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["username"], pod_kit::testing::USER);
    // ...and still refused right after the revocation.
    pod.revoke(&app, &token).await;
    let r = pod
        .call("GET", "/api/v1/users/me/", Some(&token), None)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"], "invalid_token");
}

async fn anonymous_reads_follow_the_setting(engine: Engine) {
    let Some(open) = start(engine, |s| s).await else {
        return;
    };
    let r = open.call("GET", "/api/v1/playlists/", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["count"], 0);
    let r = open
        .call("GET", "/api/v1/instance/settings/", None, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Writes always need a token.
    let r = open.call("POST", "/api/v1/playlists/", None, None).await;
    assert_eq!(r.status, 401);
}

async fn rate_limits_answer_429_with_funkwhale_headers(engine: Engine) {
    let Some(pod) = start(engine, |s| {
        s.throttling(true, Some("authenticated-list=2/minute"))
            .expect("valid rates")
    })
    .await
    else {
        return;
    };
    let app = pod.register("read").await;
    let token = pod.token(&app, "read").await;
    let first = pod
        .call("GET", "/api/v1/playlists/", Some(&token), None)
        .await;
    assert_eq!(first.status, 200);
    assert_eq!(first.headers["x-ratelimit-scope"], "authenticated-list");
    assert_eq!(first.headers["x-ratelimit-limit"], "2");
    assert_eq!(first.headers["x-ratelimit-remaining"], "1");
    assert_eq!(first.headers["x-ratelimit-duration"], "60");
    let second = pod
        .call("GET", "/api/v1/playlists/", Some(&token), None)
        .await;
    assert_eq!(second.status, 200);
    let third = pod
        .call("GET", "/api/v1/playlists/", Some(&token), None)
        .await;
    assert_eq!(third.status, 429);
    assert_eq!(third.headers["x-ratelimit-remaining"], "0");
    let retry: u64 = third.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(
        third.body["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("Request was throttled")),
        "{}",
        third.text
    );
    // Another bucket (detail view) is untouched, and anonymous callers
    // count apart.
    let r = pod
        .call("GET", "/api/v1/playlists/999/", Some(&token), None)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.headers["x-ratelimit-scope"], "authenticated-retrieve");
    let r = pod
        .call("GET", "/api/v1/playlists/999/tracks/", Some(&token), None)
        .await;
    assert_eq!(r.headers["x-ratelimit-scope"], "authenticated-wildcard");
    let r = pod.call("GET", "/api/v1/playlists/", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["x-ratelimit-scope"], "anonymous-list");
    let r = pod.call("GET", "/api/v1/rate-limit/", None, None).await;
    assert_eq!(r.body["enabled"], true);
}

pod_kit::both_engines!(
    sqlite: Engine::on_sqlite,
    postgres: Engine::on_postgres;
    every_scope_family_with_its_scope_a_narrower_one_the_parent_and_none,
    writes_need_the_write_scope_and_persist,
    a_revoked_token_stops_working_at_once,
    anonymous_reads_follow_the_setting,
    rate_limits_answer_429_with_funkwhale_headers,
);

/// Two pods on one PostgreSQL database, as two processes behind a load
/// balancer: they start (and migrate, and seed) at the same time, a token
/// one issues works on the other, data one writes the other serves, and a
/// token one revokes the other refuses (once its cache has not seen it).
#[tokio::test]
async fn postgres_two_pods_share_one_database() {
    let Some(schema) = PgSchema::create("two_pods_share_one_database").await else {
        return;
    };
    let (a, b) = tokio::join!(
        TestPod::start_on::<FunkwhalePod>(&schema.url, |s| s),
        TestPod::start_on::<FunkwhalePod>(&schema.url, |s| s),
    );
    assert_eq!(a.user_id, b.user_id, "one user table");
    let (db_a, db_b) = (a.database(), b.database());
    let (seed_a, seed_b) = tokio::join!(
        pod_kit::seed_demo::<FunkwhalePod>(&db_a),
        pod_kit::seed_demo::<FunkwhalePod>(&db_b),
    );
    let demo = seed_a.expect("seed on a");
    assert_eq!(demo, seed_b.expect("seed on b"), "one demo user");

    let app = a.register("read write").await;
    let token = a.token(&app, "read write:playlists").await;
    let body = serde_json::json!({ "name": "shared", "privacy_level": "me" });
    let r = b
        .call("POST", "/api/v1/playlists/", Some(&token), Some(body))
        .await;
    assert_eq!(r.status, 201, "a's token on b: {}", r.text);
    let id = r.body["id"].as_i64().expect("id");
    let r = a
        .call(
            "GET",
            &format!("/api/v1/playlists/{id}/"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "b's write on a");
    assert_eq!(r.body["name"], "shared");
    // The demo data exists once, whichever pod seeded it.
    let r = a.call("GET", "/api/v1/libraries/?q=Demo", None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);

    let fresh = a.token(&app, "read").await;
    b.revoke(&app, &fresh).await;
    let r = a.call("GET", "/api/v1/users/me/", Some(&fresh), None).await;
    assert_eq!(r.status, 401, "revoked on b, refused on a");
    drop((a, b));
}

/// `--jwt-key`: the pod issues RFC 9068 JWTs and publishes their key; it
/// validates them itself against the store, so a revocation is immediate
/// here (resource servers validating locally wait for `exp`).
#[tokio::test]
async fn jwt_access_tokens_work_and_revoke_at_once() {
    let keys = oauth_server::jwt::KeySet::generate().expect("key");
    let kid = keys.kids().remove(0);
    let pod = TestPod::start::<FunkwhalePod>(|mut s| {
        s.jwt_keys = Some(keys);
        s
    })
    .await;
    let app = pod.register("read").await;
    let token = pod.token(&app, "read").await;
    assert_eq!(token.split('.').count(), 3, "a JWS: {token}");
    let r = pod
        .call("GET", "/api/v1/users/me/", Some(&token), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let jwks = pod.call("GET", "/.well-known/jwks.json", None, None).await;
    assert_eq!(jwks.status, 200);
    assert_eq!(jwks.body["keys"][0]["kid"], kid.as_str());
    let meta = pod
        .call("GET", "/.well-known/oauth-authorization-server", None, None)
        .await;
    assert_eq!(
        meta.body["jwks_uri"],
        format!("{}/.well-known/jwks.json", pod.base).as_str()
    );
    pod.revoke(&app, &token).await;
    let r = pod
        .call("GET", "/api/v1/users/me/", Some(&token), None)
        .await;
    assert_eq!(r.status, 401, "revoked: {}", r.text);
}

/// Behind the reverse proxies the operator names (`--trusted-proxies`),
/// the per-address limits count the client their `X-Forwarded-For` names,
/// so that clients behind one proxy do not share one bucket and a stranger
/// cannot lock the owner out through it; anyone else's `X-Forwarded-For`
/// is ignored.
#[tokio::test]
async fn behind_a_trusted_proxy_limits_count_the_forwarded_client() {
    use pod_kit::testing::{PASSWORD, REDIRECT, USER, hidden_fields};
    let pod = TestPod::start::<FunkwhalePod>(|mut s| {
        s.trusted_proxies = "127.0.0.1".parse().expect("proxies");
        s
    })
    .await;
    let from = |ip: &str| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .local_address(ip.parse::<std::net::IpAddr>().expect("ip"))
            .build()
            .expect("client")
    };
    let register = |http: reqwest::Client, forwarded: &'static str| {
        let url = pod.url("/api/v1/apps");
        async move {
            http.post(url)
                .header("x-forwarded-for", forwarded)
                .form(&[
                    ("client_name", "c"),
                    ("redirect_uris", REDIRECT),
                    ("scopes", "read"),
                ])
                .send()
                .await
                .expect("register")
        }
    };
    let proxy = from("127.0.0.1");
    // Funkwhale's oauth-app rate: 10 an hour per client.
    for _ in 0..10 {
        assert_eq!(register(proxy.clone(), "203.0.113.1").await.status(), 200);
    }
    assert_eq!(register(proxy.clone(), "203.0.113.1").await.status(), 429);
    // A forged entry left of the proxy's changes nothing.
    assert_eq!(
        register(proxy.clone(), "198.51.100.7, 203.0.113.1")
            .await
            .status(),
        429
    );
    let r = register(proxy.clone(), "203.0.113.2").await;
    assert_eq!(r.status(), 200, "another client behind the proxy");
    let app: serde_json::Value = r.json().await.expect("json");
    // An untrusted peer's header is ignored: it counts under its own address.
    let direct = from("127.0.0.2");
    for i in 0..10 {
        let forged: &'static str = ["192.0.2.1", "192.0.2.2"][i % 2];
        assert_eq!(register(direct.clone(), forged).await.status(), 200);
    }
    assert_eq!(register(direct.clone(), "192.0.2.3").await.status(), 429);

    // Logins: a stranger's failures through the proxy do not lock the owner
    // out through it.
    let login = |forwarded: &'static str, password: &'static str| {
        let proxy = proxy.clone();
        let client_id = app["client_id"].as_str().expect("id").to_owned();
        let authorize = pod.url(&format!(
            "/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=read",
            REDIRECT
        ));
        let post = pod.url("/oauth/authorize");
        async move {
            let page = proxy
                .get(authorize)
                .header("x-forwarded-for", forwarded)
                .send()
                .await
                .expect("page");
            let cookie = page.headers()["set-cookie"]
                .to_str()
                .expect("cookie")
                .split(';')
                .next()
                .expect("cookie")
                .to_owned();
            let mut fields = hidden_fields(&page.text().await.expect("html"));
            fields.insert("username".into(), USER.into());
            fields.insert("password".into(), password.into());
            fields.insert("decision".into(), "approve".into());
            proxy
                .post(post)
                .header("x-forwarded-for", forwarded)
                .header("cookie", cookie)
                .form(&fields)
                .send()
                .await
                .expect("login")
                .status()
                .as_u16()
        }
    };
    let mut stranger = Vec::new();
    for _ in 0..6 {
        stranger.push(login("203.0.113.66", "wrong").await);
    }
    assert_eq!(stranger, [401, 401, 401, 401, 401, 429]);
    assert_eq!(
        login("203.0.113.2", PASSWORD).await,
        303,
        "the owner logs in"
    );
}
