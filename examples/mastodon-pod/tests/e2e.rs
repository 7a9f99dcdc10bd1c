//! End to end over real sockets: the pod as `mastodon-pod serve` runs it
//! (SQLite file, bundled OAuth server, token cache), tokens obtained by
//! logging in and consenting, the code exchanged by the `oauth2` crate.
//! Each test runs on SQLite (`sqlite::<test>`) and on PostgreSQL
//! (`postgres::<test>`, a fresh schema of `TEST_DATABASE_URL_PG`;
//! `SKIPPED` without it).

use mastodon_pod::MastodonPod;
use oauth_server::primitives::Store as _;
use pod_kit::testing::{Engine, TestApp, TestPod};

/// Scope family, a GET endpoint of it that needs a user token.
const FAMILIES: &[(&str, &str)] = &[
    ("accounts", "/api/v1/accounts/search?q=alice"),
    ("blocks", "/api/v1/blocks"),
    ("favourites", "/api/v1/favourites"),
    ("filters", "/api/v1/filters"),
    ("follows", "/api/v1/follow_requests"),
    ("lists", "/api/v1/lists"),
    ("mutes", "/api/v1/mutes"),
    ("notifications", "/api/v1/notifications"),
    ("search", "/api/v1/search?q=alice"),
    ("statuses", "/api/v1/timelines/home"),
];

/// The pod on `engine` and an app; `None`: skip the test (no PostgreSQL).
async fn pod(engine: Engine) -> Option<(TestPod, TestApp)> {
    let pod = TestPod::start_engine::<MastodonPod>(engine, |s| s).await?;
    let app = pod.register("read write follow profile").await;
    Some((pod, app))
}

async fn every_scope_family_with_its_scope_a_narrower_one_the_parent_and_none(engine: Engine) {
    let Some((pod, app)) = pod(engine).await else {
        return;
    };
    let parent = pod.token(&app, "read").await;
    for (family, path) in FAMILIES {
        let scoped = pod.token(&app, &format!("read:{family}")).await;
        let r = pod.call("GET", path, Some(&scoped), None).await;
        assert_eq!(r.status, 200, "read:{family} on {path}: {}", r.text);

        let r = pod.call("GET", path, Some(&parent), None).await;
        assert_eq!(r.status, 200, "read on {path}");

        let other = if *family == "lists" {
            "read:mutes"
        } else {
            "read:lists"
        };
        let narrow = pod.token(&app, other).await;
        let r = pod.call("GET", path, Some(&narrow), None).await;
        // Mastodon answers a missing scope with 403 and {"error": ...}.
        assert_eq!(r.status, 403, "{other} on {path}");
        assert!(r.body["error"].is_string(), "{}", r.text);
        let challenge = r.headers["www-authenticate"].to_str().expect("ascii");
        assert!(challenge.contains("insufficient_scope"), "{challenge}");

        let r = pod.call("GET", path, None, None).await;
        assert_eq!(r.status, 401, "no token on {path}");
        assert_eq!(r.body["error"], "The access token is invalid");
    }
}

async fn verify_credentials_answers_profile_read_and_read_accounts(engine: Engine) {
    let Some((pod, app)) = pod(engine).await else {
        return;
    };
    for scope in ["profile", "read", "read:accounts"] {
        let token = pod.token(&app, scope).await;
        let r = pod
            .call(
                "GET",
                "/api/v1/accounts/verify_credentials",
                Some(&token),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{scope}: {}", r.text);
        assert_eq!(r.body["username"], pod_kit::testing::USER);
        assert_eq!(r.body["id"], pod.user_id.to_string());
    }
    let token = pod.token(&app, "write").await;
    let r = pod
        .call(
            "GET",
            "/api/v1/accounts/verify_credentials",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, 403);
}

async fn the_legacy_follow_scope_grants_blocks_follows_and_mutes_only(engine: Engine) {
    let Some((pod, app)) = pod(engine).await else {
        return;
    };
    let hash = oauth_server::secret::hash_password("bob's password").expect("hash");
    let bob = pod
        .store
        .create_user("bob", &hash, false)
        .await
        .expect("bob")
        .id;
    let follow = pod.token(&app, "follow").await;
    for path in ["/api/v1/blocks", "/api/v1/mutes", "/api/v1/follow_requests"] {
        let r = pod.call("GET", path, Some(&follow), None).await;
        assert_eq!(r.status, 200, "follow on {path}: {}", r.text);
    }
    let r = pod
        .call(
            "POST",
            &format!("/api/v1/accounts/{bob}/follow"),
            Some(&follow),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["following"], true);
    let r = pod
        .call("GET", "/api/v1/timelines/home", Some(&follow), None)
        .await;
    assert_eq!(r.status, 403);
    let r = pod
        .call(
            "GET",
            &format!("/api/v1/accounts/{bob}/followers"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body[0]["username"], pod_kit::testing::USER);
}

async fn writes_need_the_write_scope_and_persist(engine: Engine) {
    let Some((pod, app)) = pod(engine).await else {
        return;
    };
    let reader = pod.token(&app, "read").await;
    let writer = pod.token(&app, "write:statuses read:statuses").await;
    let body = serde_json::json!({ "status": "hello from the e2e test" });
    let r = pod
        .call(
            "POST",
            "/api/v1/statuses",
            Some(&reader),
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = pod
        .call("POST", "/api/v1/statuses", Some(&writer), Some(body))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.body["id"].as_str().expect("string id").to_owned();
    // Public: anyone may read it.
    let r = pod
        .call("GET", &format!("/api/v1/statuses/{id}"), None, None)
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.body["content"]
            .as_str()
            .is_some_and(|c| c.contains("hello from the e2e test")),
        "{}",
        r.text
    );
    let r = pod
        .call("GET", "/api/v1/timelines/home", Some(&writer), None)
        .await;
    assert_eq!(r.body[0]["id"], id.as_str());
}

async fn a_revoked_token_stops_working_at_once(engine: Engine) {
    let Some((pod, app)) = pod(engine).await else {
        return;
    };
    let token = pod.token(&app, "read").await;
    let r = pod
        .call(
            "GET",
            "/api/v1/accounts/verify_credentials",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    pod.revoke(&app, &token).await;
    let r = pod
        .call(
            "GET",
            "/api/v1/accounts/verify_credentials",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, 401);
}

async fn clients_find_the_instance_and_its_version(engine: Engine) {
    let Some((pod, _)) = pod(engine).await else {
        return;
    };
    // Rails serves `/path/` as `/path`; Mastodon.py asks for `/api/v1/instance/`.
    for path in ["/api/v1/instance", "/api/v2/instance", "/api/v1/instance/"] {
        let r = pod.call("GET", path, None, None).await;
        assert_eq!(r.status, 200, "{path}");
        let version = r.body["version"].as_str().expect("version");
        // Client libraries parse the leading Mastodon version.
        assert!(
            version
                .split(' ')
                .next()
                .is_some_and(|v| v.split('.').count() == 3),
            "{version}"
        );
    }
}

async fn hostile_input_is_refused_and_the_pod_stays_up(engine: Engine) {
    let Some((pod, app)) = pod(engine).await else {
        return;
    };
    // Rails-style keys nested 30,000 deep: kept flat, never recursed into.
    let deep = format!("a{}=1", "[]".repeat(30_000));
    let r = pod
        .call(
            "GET",
            &format!("/api/v1/timelines/public?{deep}"),
            None,
            None,
        )
        .await;
    assert!(r.status < 500, "{}", r.status);
    let r = pod.call("GET", "/api/v1/instance", None, None).await;
    assert_eq!(r.status, 200, "the pod is still up");

    // SVG would run script on the pod's origin when served back.
    let token = pod.token(&app, "write:media").await;
    let upload = |name: &'static str, mime: &'static str, bytes: &'static [u8]| {
        let pod = &pod;
        let token = token.clone();
        async move {
            let mut body = Vec::new();
            body.extend_from_slice(
                format!(
                    "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                     Content-Type: {mime}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n--XyZ--\r\n");
            pod.http
                .post(pod.url("/api/v1/media"))
                .bearer_auth(&token)
                .header("content-type", "multipart/form-data; boundary=XyZ")
                .body(body)
                .send()
                .await
                .expect("upload")
        }
    };
    let r = upload(
        "x.svg",
        "image/svg+xml",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    )
    .await;
    assert_eq!(r.status(), 422);

    // A PNG not attached to any status is not served to anyone.
    let r = upload("x.png", "image/png", &[0x89, b'P', b'N', b'G']).await;
    assert_eq!(r.status(), 200);
    let id: serde_json::Value = r.json().await.expect("json");
    let id = id["id"].as_str().expect("id").to_owned();
    let r = pod
        .call(
            "GET",
            &format!("/system/media_attachments/{id}"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 404);
}

pod_kit::both_engines!(
    sqlite: Engine::on_sqlite,
    postgres: Engine::on_postgres;
    every_scope_family_with_its_scope_a_narrower_one_the_parent_and_none,
    verify_credentials_answers_profile_read_and_read_accounts,
    the_legacy_follow_scope_grants_blocks_follows_and_mutes_only,
    writes_need_the_write_scope_and_persist,
    a_revoked_token_stops_working_at_once,
    clients_find_the_instance_and_its_version,
    hostile_input_is_refused_and_the_pod_stays_up,
);
