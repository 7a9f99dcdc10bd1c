//! The pod's router over a real SQLite file, driven with `oneshot`; each
//! test also runs on PostgreSQL (`postgres::<test>`, a fresh schema of
//! `TEST_DATABASE_URL_PG`; `SKIPPED` without it, a failure with
//! `REQUIRE_POSTGRES=1`).

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use mastodon_pod::{Api, MastodonPod, seed_demo};
use pod_kit::Settings;
use pod_kit::testing::{PgSchema, TestClient};
use scope_runtime::route::RouteTable;
use serde_json::{Value, json};
use sqlx::AnyPool;
use tempfile::TempDir;

/// The issuer the test pods are configured with.
const ISSUER: &str = "https://pod.example";

struct Pod {
    client: TestClient<MastodonPod>,
    db: AnyPool,
    _dir: Option<TempDir>,
    // Last: dropped after the pools.
    _schema: Option<PgSchema>,
}

/// For each `async fn name(pod: Pod)`, the tests `sqlite::name` and
/// `postgres::name`.
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        pod_kit::both_engines!(sqlite: Pod::new, postgres: Pod::postgres; $($name),*);
    };
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    fn link(&self) -> String {
        self.headers
            .get("link")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
}

enum Payload {
    None,
    Json(Value),
    Form(&'static str),
    Raw(&'static str, Vec<u8>),
}

impl Pod {
    async fn new() -> Self {
        let dir = TempDir::new().unwrap();
        let url = format!("sqlite://{}/pod.db", dir.path().display());
        let mut pod = Self::on(&url).await;
        pod._dir = Some(dir);
        pod
    }

    /// The pod in a fresh PostgreSQL schema; `None`: skip the test.
    async fn postgres(test: &str) -> Option<Self> {
        let schema = PgSchema::create(test).await?;
        let mut pod = Self::on(&schema.url).await;
        pod._schema = Some(schema);
        Some(pod)
    }

    /// The pod over the database at `url`, opened and served as the binary
    /// does (`pod_kit::app`).
    async fn on(url: &str) -> Self {
        let database = pod_kit::open::<MastodonPod>(url).await.unwrap();
        let client = TestClient::new(database.clone(), &Settings::new(ISSUER));
        Self {
            client,
            db: database.pool,
            _dir: None,
            _schema: None,
        }
    }

    async fn user(&self, name: &str) -> i64 {
        self.client.create_user(name).await
    }

    /// A user and a token with `read write follow` for it.
    async fn account(&self, name: &str) -> (i64, String) {
        let id = self.user(name).await;
        let token = self.token(id, "read write follow").await;
        (id, token)
    }

    /// A token of `user` with `scopes`, issued by the pod's OAuth server.
    async fn token(&self, user: i64, scopes: &str) -> String {
        self.client.user_token(user, scopes).await
    }

    async fn send(&self, method: &str, uri: &str, token: Option<&str>, payload: Payload) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "pod.example");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let body = match payload {
            Payload::None => Body::empty(),
            Payload::Json(v) => {
                req = req.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            Payload::Form(f) => {
                req = req.header("content-type", "application/x-www-form-urlencoded");
                Body::from(f)
            }
            Payload::Raw(ct, bytes) => {
                req = req.header("content-type", ct);
                Body::from(bytes)
            }
        };
        let res = self.client.oneshot(req.body(body).unwrap()).await;
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, uri: &str, token: &str) -> Reply {
        self.send("GET", uri, Some(token), Payload::None).await
    }

    async fn post(&self, uri: &str, token: &str, body: Value) -> Reply {
        self.send("POST", uri, Some(token), Payload::Json(body))
            .await
    }

    async fn status(&self, token: &str, text: &str, visibility: &str) -> String {
        let r = self
            .post(
                "/api/v1/statuses",
                token,
                json!({ "status": text, "visibility": visibility }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn verify_credentials_accepts_profile_read_and_read_accounts_only(pod: Pod) {
    let alice = pod.user("alice").await;
    for scopes in ["profile", "read", "read:accounts"] {
        let token = pod.token(alice, scopes).await;
        let r = pod.get("/api/v1/accounts/verify_credentials", &token).await;
        assert_eq!(r.status, StatusCode::OK, "{scopes}");
        assert_eq!(r.body["id"], alice.to_string());
        assert_eq!(r.body["username"], "alice");
        assert_eq!(r.body["acct"], "alice");
        assert_eq!(r.body["source"]["privacy"], "public");
        assert!(r.body["created_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(r.body["url"], "https://pod.example/@alice");
    }
    for scopes in ["write", "read:statuses", "follow"] {
        let token = pod.token(alice, scopes).await;
        let r = pod.get("/api/v1/accounts/verify_credentials", &token).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{scopes}");
    }
    let r = pod
        .send(
            "GET",
            "/api/v1/accounts/verify_credentials",
            None,
            Payload::None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // An app token (client credentials) is not a user.
    let app = pod.client.app_token("read").await;
    let r = pod.get("/api/v1/accounts/verify_credentials", &app).await;
    // Mastodon answers 422 there.
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
}

/// The tests drive the app the binary serves (`pod_kit::app`): Mastodon's
/// error bodies, the optional trailing slash, the rate limiter, and the
/// revocation wiring. A hand-assembled router would miss one of them.
async fn the_router_is_the_one_the_binary_serves(pod: Pod) {
    let alice = pod.user("alice").await;
    let grant = pod.client.user_grant(alice, "read").await;
    let me = pod
        .get("/api/v1/accounts/verify_credentials", &grant.token)
        .await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    assert_eq!(me.headers["x-ratelimit-scope"], "authenticated-list");
    // Rails routes `/path/` as `/path` (Mastodon.py asks for `/api/v1/instance/`).
    let slash = pod
        .get("/api/v1/accounts/verify_credentials/", &grant.token)
        .await;
    assert_eq!(slash.status, StatusCode::OK, "{:?}", slash.body);
    assert_eq!(slash.body["id"], alice.to_string());
    // Mastodon's error bodies: `{"error": "..."}` and nothing else.
    let refused = pod
        .send(
            "GET",
            "/api/v1/accounts/verify_credentials",
            None,
            Payload::None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let error = refused.body.as_object().expect("a JSON object");
    assert_eq!(error.len(), 1, "{error:?}");
    assert!(error["error"].is_string(), "{error:?}");
    assert!(refused.headers.contains_key("www-authenticate"));
    // A token revoked through the OAuth endpoint is refused at once,
    // though the token cache holds it (60 s TTL).
    pod.client.revoke(&grant).await;
    let revoked = pod
        .get("/api/v1/accounts/verify_credentials", &grant.token)
        .await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        revoked.body,
        json!({ "error": "The access token is invalid" })
    );
}

async fn update_credentials_by_patch_form_and_legacy_put_json(pod: Pod) {
    let (_, token) = pod.account("alice").await;
    let r = pod
        .send(
            "PATCH",
            "/api/v1/accounts/update_credentials",
            Some(&token),
            Payload::Form(
                "display_name=Alice+A.&note=Hi+%3Cthere%3E&locked=true&source[privacy]=unlisted",
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["display_name"], "Alice A.");
    assert_eq!(r.body["note"], "<p>Hi &lt;there&gt;</p>");
    assert_eq!(r.body["source"]["note"], "Hi <there>");
    assert_eq!(r.body["locked"], true);
    assert_eq!(r.body["source"]["privacy"], "unlisted");
    let r = pod
        .send(
            "PUT",
            "/api/v1/accounts/verify_credentials",
            Some(&token),
            Payload::Json(json!({ "display_name": "Al", "source": { "sensitive": true } })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["display_name"], "Al");
    assert_eq!(r.body["source"]["sensitive"], true);
    // Posting defaults to the account's privacy.
    let r = pod
        .post("/api/v1/statuses", &token, json!({ "status": "hi" }))
        .await;
    assert_eq!(r.body["visibility"], "unlisted");
    // Bad input.
    let long = "x".repeat(31);
    let r = pod
        .send(
            "PATCH",
            "/api/v1/accounts/update_credentials",
            Some(&token),
            Payload::Json(json!({ "display_name": long })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["error"]
            .as_str()
            .unwrap()
            .starts_with("Validation failed")
    );
    let r = pod
        .send(
            "PATCH",
            "/api/v1/accounts/update_credentials",
            Some(&token),
            Payload::Json(json!({ "locked": "maybe" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // read does not grant write:accounts.
    let reader = pod.token(1, "read").await;
    let r = pod
        .send(
            "PATCH",
            "/api/v1/accounts/update_credentials",
            Some(&reader),
            Payload::Json(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn statuses_create_read_delete_and_errors(pod: Pod) {
    let (alice, token) = pod.account("alice").await;
    let (_, bob) = pod.account("bob").await;
    let r = pod
        .send(
            "POST",
            "/api/v1/statuses",
            Some(&token),
            Payload::Form(
                "status=Hello+%40bob+%23Rust+https%3A%2F%2Fexample.org&spoiler_text=cw&language=en",
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["account"]["id"], alice.to_string());
    assert_eq!(r.body["visibility"], "public");
    assert_eq!(r.body["sensitive"], true);
    assert_eq!(r.body["spoiler_text"], "cw");
    assert_eq!(r.body["mentions"][0]["username"], "bob");
    assert_eq!(r.body["tags"][0]["name"], "rust");
    let content = r.body["content"].as_str().unwrap();
    assert!(content.contains("class=\"u-url mention\""), "{content}");
    assert!(
        content.contains("href=\"https://example.org\""),
        "{content}"
    );
    assert_eq!(r.body["favourited"], false);
    assert!(r.body.get("text").is_none());

    let r = pod.get(&format!("/api/v1/statuses/{id}"), &bob).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["id"], id.as_str());
    // Anonymous reads of public statuses (token optional).
    let r = pod
        .send(
            "GET",
            &format!("/api/v1/statuses/{id}"),
            None,
            Payload::None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.get("favourited").is_none());
    // The mention notified bob.
    let r = pod.get("/api/v1/notifications", &bob).await;
    assert_eq!(r.body[0]["type"], "mention");
    assert_eq!(r.body[0]["status"]["id"], id.as_str());
    // Card of the link.
    let r = pod.get(&format!("/api/v1/statuses/{id}/card"), &bob).await;
    assert_eq!(r.body["url"], "https://example.org");

    // Only the author deletes; the answer carries the source text.
    let r = pod
        .send(
            "DELETE",
            &format!("/api/v1/statuses/{id}"),
            Some(&bob),
            Payload::None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = pod
        .send(
            "DELETE",
            &format!("/api/v1/statuses/{id}"),
            Some(&token),
            Payload::None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["text"].as_str().unwrap().starts_with("Hello @bob"));
    let r = pod.get(&format!("/api/v1/statuses/{id}"), &token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body, json!({ "error": "Record not found" }));

    // Bad input.
    let r = pod
        .post("/api/v1/statuses", &token, json!({ "status": "  " }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.body,
        json!({ "error": "Validation failed: Text can't be blank" })
    );
    let r = pod
        .post(
            "/api/v1/statuses",
            &token,
            json!({ "status": "x".repeat(501) }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = pod
        .post(
            "/api/v1/statuses",
            &token,
            json!({ "status": "x", "visibility": "everyone" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = pod
        .post("/api/v1/statuses", &token, json!({ "status": ["x"] }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = pod
        .send(
            "POST",
            "/api/v1/statuses",
            Some(&token),
            Payload::Raw("application/json", b"{\"status\": ".to_vec()),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["error"].is_string());
    let r = pod
        .send(
            "POST",
            "/api/v1/statuses",
            Some(&token),
            Payload::Raw("application/json", b"[1, 2]".to_vec()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = pod
        .post(
            "/api/v1/statuses",
            &token,
            json!({ "status": "x", "in_reply_to_id": "999" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    for path in [
        "/api/v1/statuses/abc",
        "/api/v1/statuses/-1",
        "/api/v1/statuses/99999999999999999999",
    ] {
        let r = pod.get(path, &token).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    // write:statuses is needed to post.
    let reader = pod.token(alice, "read").await;
    let r = pod
        .post("/api/v1/statuses", &reader, json!({ "status": "x" }))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn private_and_direct_statuses_are_hidden_from_others(pod: Pod) {
    let (_, alice) = pod.account("alice").await;
    let (bob_id, bob) = pod.account("bob").await;
    let (_, carol) = pod.account("carol").await;
    let private = pod.status(&alice, "followers only", "private").await;
    let direct = pod.status(&alice, "psst @carol", "direct").await;
    let uri = |id: &str| format!("/api/v1/statuses/{id}");
    assert_eq!(
        pod.get(&uri(&private), &bob).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        pod.get(&uri(&direct), &bob).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(pod.get(&uri(&direct), &carol).await.status, StatusCode::OK);
    let r = pod.send("GET", &uri(&private), None, Payload::None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Carol's direct timeline has it, bob's does not.
    assert_eq!(
        ids(&pod.get("/api/v1/timelines/direct", &carol).await.body),
        vec![direct.clone()]
    );
    assert!(ids(&pod.get("/api/v1/timelines/direct", &bob).await.body).is_empty());
    // A follower sees the private status.
    let alice_id = pod
        .get("/api/v1/accounts/verify_credentials", &alice)
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    pod.post(
        &format!("/api/v1/accounts/{alice_id}/follow"),
        &bob,
        json!({}),
    )
    .await;
    assert_eq!(pod.get(&uri(&private), &bob).await.status, StatusCode::OK);
    // Private statuses cannot be boosted.
    let r = pod
        .post(&format!("{}/reblog", uri(&private)), &bob, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let _ = bob_id;
}

async fn follow_unfollow_round_trip_and_locked_accounts(pod: Pod) {
    let (alice, a) = pod.account("alice").await;
    let (bob, b) = pod.account("bob").await;
    let r = pod
        .post(
            &format!("/api/v1/accounts/{bob}/follow"),
            &a,
            json!({ "reblogs": false }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["id"], bob.to_string());
    assert_eq!(r.body["following"], true);
    assert_eq!(r.body["showing_reblogs"], false);
    let r = pod
        .get(
            &format!("/api/v1/accounts/relationships?id[]={bob}&id[]=999&id[]=x"),
            &a,
        )
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    assert_eq!(r.body[0]["following"], true);
    let r = pod
        .get(&format!("/api/v1/accounts/relationships?id={alice}"), &b)
        .await;
    assert_eq!(r.body[0]["followed_by"], true);
    // Counts, lists, notification.
    let r = pod.get(&format!("/api/v1/accounts/{bob}"), &a).await;
    assert_eq!(r.body["followers_count"], 1);
    let r = pod
        .get(&format!("/api/v1/accounts/{bob}/followers"), &a)
        .await;
    assert_eq!(ids(&r.body), vec![alice.to_string()]);
    let r = pod
        .get(&format!("/api/v1/accounts/{alice}/following"), &a)
        .await;
    assert_eq!(ids(&r.body), vec![bob.to_string()]);
    let r = pod.get("/api/v1/notifications", &b).await;
    assert_eq!(r.body[0]["type"], "follow");
    assert_eq!(r.body[0]["account"]["id"], alice.to_string());
    // Home timeline of a follower has the statuses.
    let s = pod.status(&b, "bob speaks", "public").await;
    assert_eq!(
        ids(&pod.get("/api/v1/timelines/home", &a).await.body),
        vec![s.clone()]
    );
    // Unfollow.
    let r = pod
        .post(&format!("/api/v1/accounts/{bob}/unfollow"), &a, json!({}))
        .await;
    assert_eq!(r.body["following"], false);
    assert!(ids(&pod.get("/api/v1/timelines/home", &a).await.body).is_empty());
    let r = pod
        .get(&format!("/api/v1/accounts/{bob}/followers"), &a)
        .await;
    assert!(ids(&r.body).is_empty());
    // Errors.
    let r = pod.post("/api/v1/accounts/999/follow", &a, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = pod
        .post(&format!("/api/v1/accounts/{alice}/follow"), &a, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // A locked account gets requests.
    pod.send(
        "PATCH",
        "/api/v1/accounts/update_credentials",
        Some(&b),
        Payload::Json(json!({ "locked": true })),
    )
    .await;
    let r = pod
        .post(&format!("/api/v1/accounts/{bob}/follow"), &a, json!({}))
        .await;
    assert_eq!(r.body["following"], false);
    assert_eq!(r.body["requested"], true);
    let r = pod.get("/api/v1/follow_requests", &b).await;
    assert_eq!(ids(&r.body), vec![alice.to_string()]);
    let r = pod
        .post(
            &format!("/api/v1/follow_requests/{alice}/authorize"),
            &b,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["followed_by"], true);
    assert!(ids(&pod.get("/api/v1/follow_requests", &b).await.body).is_empty());
    let r = pod
        .post(
            &format!("/api/v1/follow_requests/{alice}/reject"),
            &b,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The follow scope grants write:follows (legacy).
    let legacy = pod.token(alice, "follow").await;
    let r = pod
        .post(
            &format!("/api/v1/accounts/{bob}/unfollow"),
            &legacy,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // Remote follow: local names work, remote ones are refused.
    let r = pod
        .post("/api/v1/follows", &a, json!({ "uri": "bob@pod.example" }))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["id"], bob.to_string());
    let r = pod
        .post(
            "/api/v1/follows",
            &a,
            json!({ "uri": "someone@elsewhere.example" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"].is_string());
}

async fn block_hides_statuses_and_mute_hides_from_timelines(pod: Pod) {
    let (alice, a) = pod.account("alice").await;
    let (bob, b) = pod.account("bob").await;
    pod.post(&format!("/api/v1/accounts/{bob}/follow"), &a, json!({}))
        .await;
    let s = pod.status(&b, "hello", "public").await;
    assert_eq!(
        ids(&pod.get("/api/v1/timelines/home", &a).await.body),
        vec![s.clone()]
    );
    assert_eq!(
        ids(&pod.get("/api/v1/timelines/public", &a).await.body),
        vec![s.clone()]
    );

    let r = pod
        .post(&format!("/api/v1/accounts/{bob}/block"), &a, json!({}))
        .await;
    assert_eq!(r.body["blocking"], true);
    assert_eq!(r.body["following"], false, "blocking unfollows");
    assert!(ids(&pod.get("/api/v1/timelines/home", &a).await.body).is_empty());
    assert!(ids(&pod.get("/api/v1/timelines/public", &a).await.body).is_empty());
    assert_eq!(
        ids(&pod.get("/api/v1/blocks", &a).await.body),
        vec![bob.to_string()]
    );
    // Anonymous readers still see it.
    let r = pod
        .send("GET", "/api/v1/timelines/public", None, Payload::None)
        .await;
    assert_eq!(ids(&r.body), vec![s.clone()]);
    // The blocked account cannot follow back, nor see the blocker's posts.
    let mine = pod.status(&a, "alice speaks", "public").await;
    let r = pod.get(&format!("/api/v1/statuses/{mine}"), &b).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = pod
        .post(&format!("/api/v1/accounts/{alice}/follow"), &b, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = pod
        .get(&format!("/api/v1/accounts/relationships?id[]={alice}"), &b)
        .await;
    assert_eq!(r.body[0]["blocked_by"], true);

    let r = pod
        .post(&format!("/api/v1/accounts/{bob}/unblock"), &a, json!({}))
        .await;
    assert_eq!(r.body["blocking"], false);
    assert_eq!(
        ids(&pod.get("/api/v1/timelines/public", &a).await.body).len(),
        2
    );

    // Mutes hide from timelines and notifications.
    let r = pod
        .post(
            &format!("/api/v1/accounts/{bob}/mute"),
            &a,
            json!({ "notifications": true }),
        )
        .await;
    assert_eq!(r.body["muting"], true);
    assert_eq!(r.body["muting_notifications"], true);
    assert_eq!(
        ids(&pod.get("/api/v1/timelines/public", &a).await.body),
        vec![mine.clone()]
    );
    assert_eq!(
        ids(&pod.get("/api/v1/mutes", &a).await.body),
        vec![bob.to_string()]
    );
    pod.post(&format!("/api/v1/statuses/{mine}/favourite"), &b, json!({}))
        .await;
    assert!(ids(&pod.get("/api/v1/notifications", &a).await.body).is_empty());
    let r = pod
        .post(&format!("/api/v1/accounts/{bob}/unmute"), &a, json!({}))
        .await;
    assert_eq!(r.body["muting"], false);
    // Scopes: read:blocks for the list, write:blocks to block.
    let reader = pod.token(alice, "read:blocks").await;
    assert_eq!(
        pod.get("/api/v1/blocks", &reader).await.status,
        StatusCode::OK
    );
    let r = pod
        .post(&format!("/api/v1/accounts/{bob}/block"), &reader, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = pod
        .post(
            &format!("/api/v1/accounts/{bob}/mute"),
            &a,
            json!({ "duration": "soon" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn favourites_boosts_and_who(pod: Pod) {
    let (alice, a) = pod.account("alice").await;
    let (bob, b) = pod.account("bob").await;
    let s = pod.status(&b, "like me", "public").await;
    let r = pod
        .post(&format!("/api/v1/statuses/{s}/favourite"), &a, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["favourited"], true);
    assert_eq!(r.body["favourites_count"], 1);
    // Twice is the same.
    let r = pod
        .post(&format!("/api/v1/statuses/{s}/favourite"), &a, json!({}))
        .await;
    assert_eq!(r.body["favourites_count"], 1);
    assert_eq!(
        ids(&pod.get("/api/v1/favourites", &a).await.body),
        vec![s.clone()]
    );
    let r = pod
        .get(&format!("/api/v1/statuses/{s}/favourited_by"), &b)
        .await;
    assert_eq!(ids(&r.body), vec![alice.to_string()]);
    let r = pod.get("/api/v1/notifications?types[]=favourite", &b).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    assert_eq!(r.body[0]["type"], "favourite");
    let r = pod
        .get("/api/v1/notifications?exclude_types[]=favourite", &b)
        .await;
    assert!(r.body.as_array().unwrap().is_empty());

    // Boost.
    let r = pod
        .post(&format!("/api/v1/statuses/{s}/reblog"), &a, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["reblog"]["id"], s.as_str());
    assert_eq!(r.body["reblog"]["reblogged"], true);
    let boost = r.body["id"].as_str().unwrap().to_owned();
    let r = pod
        .get(&format!("/api/v1/statuses/{s}/reblogged_by"), &b)
        .await;
    assert_eq!(ids(&r.body), vec![alice.to_string()]);
    let r = pod
        .get(&format!("/api/v1/accounts/{alice}/statuses"), &b)
        .await;
    assert_eq!(ids(&r.body), vec![boost.clone()]);
    let r = pod
        .get(
            &format!("/api/v1/accounts/{alice}/statuses?exclude_reblogs=true"),
            &b,
        )
        .await;
    assert!(ids(&r.body).is_empty());
    let r = pod
        .post(&format!("/api/v1/statuses/{s}/unreblog"), &a, json!({}))
        .await;
    assert_eq!(r.body["id"], s.as_str());
    assert_eq!(r.body["reblogged"], false);
    assert_eq!(r.body["reblogs_count"], 0);

    // Unfavourite.
    let r = pod
        .post(&format!("/api/v1/statuses/{s}/unfavourite"), &a, json!({}))
        .await;
    assert_eq!(r.body["favourited"], false);
    assert!(ids(&pod.get("/api/v1/favourites", &a).await.body).is_empty());
    // Scopes: read:favourites for the list, write:favourites to favourite.
    let reader = pod.token(alice, "read:favourites").await;
    assert_eq!(
        pod.get("/api/v1/favourites", &reader).await.status,
        StatusCode::OK
    );
    let r = pod
        .post(
            &format!("/api/v1/statuses/{s}/favourite"),
            &reader,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // favourited_by follows the source: read:accounts, not read:statuses.
    let statuses_only = pod.token(alice, "read:statuses").await;
    let r = pod
        .get(
            &format!("/api/v1/statuses/{s}/favourited_by"),
            &statuses_only,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = pod
        .send(
            "GET",
            &format!("/api/v1/statuses/{s}/favourited_by"),
            None,
            Payload::None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let _ = bob;
}

async fn pagination_link_headers_and_bad_params(pod: Pod) {
    let (alice, a) = pod.account("alice").await;
    let mut all = Vec::new();
    for n in 0..5 {
        all.push(pod.status(&a, &format!("status {n}"), "public").await);
    }
    all.reverse();
    let r = pod
        .get(&format!("/api/v1/accounts/{alice}/statuses?limit=2"), &a)
        .await;
    assert_eq!(ids(&r.body), all[..2].to_vec());
    let link = r.link();
    assert!(link.contains(&format!("max_id={}", all[1])), "{link}");
    assert!(link.contains("rel=\"next\""), "{link}");
    assert!(link.contains(&format!("min_id={}", all[0])), "{link}");
    assert!(link.contains("limit=2"), "{link}");
    assert!(
        link.starts_with("<https://pod.example/api/v1/accounts/"),
        "{link}"
    );
    let r = pod
        .get(
            &format!(
                "/api/v1/accounts/{alice}/statuses?limit=2&max_id={}",
                all[1]
            ),
            &a,
        )
        .await;
    assert_eq!(ids(&r.body), all[2..4].to_vec());
    let r = pod
        .get(
            &format!(
                "/api/v1/accounts/{alice}/statuses?limit=2&min_id={}",
                all[4]
            ),
            &a,
        )
        .await;
    assert_eq!(
        ids(&r.body),
        all[2..4].to_vec(),
        "min_id pages just after, newest first"
    );
    let r = pod
        .get(
            &format!("/api/v1/accounts/{alice}/statuses?since_id={}", all[2]),
            &a,
        )
        .await;
    assert_eq!(ids(&r.body), all[..2].to_vec());
    // A short page has no next link.
    let r = pod
        .get(&format!("/api/v1/accounts/{alice}/statuses"), &a)
        .await;
    assert_eq!(ids(&r.body).len(), 5);
    assert!(!r.link().contains("next"));
    // Limits are clamped; garbage is a 400 with a JSON error.
    let r = pod.get("/api/v1/timelines/public?limit=1000", &a).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = pod.get("/api/v1/timelines/public?limit=0", &a).await;
    assert_eq!(ids(&r.body).len(), 1);
    for q in ["limit=abc", "max_id=abc", "since_id=1e5", "min_id=%00"] {
        let r = pod.get(&format!("/api/v1/timelines/public?{q}"), &a).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
        assert!(r.body["error"].is_string(), "{q}");
    }
    // Empty pages have no Link header.
    let r = pod
        .get(&format!("/api/v1/timelines/public?min_id={}", all[0]), &a)
        .await;
    assert!(ids(&r.body).is_empty());
    assert!(r.headers.get("link").is_none());
}

async fn lists_crud_members_and_timeline(pod: Pod) {
    let (_, a) = pod.account("alice").await;
    let (bob, b) = pod.account("bob").await;
    let (carol, c) = pod.account("carol").await;
    let r = pod
        .post("/api/v1/lists", &a, json!({ "title": "Friends" }))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["title"], "Friends");
    assert_eq!(r.body["replies_policy"], "list");
    let list = r.body["id"].as_str().unwrap().to_owned();
    let r = pod
        .send(
            "PUT",
            &format!("/api/v1/lists/{list}"),
            Some(&a),
            Payload::Form("title=Pals&replies_policy=followed"),
        )
        .await;
    assert_eq!(r.body["title"], "Pals");
    assert_eq!(r.body["replies_policy"], "followed");
    assert_eq!(
        ids(&pod.get("/api/v1/lists", &a).await.body),
        vec![list.clone()]
    );
    // Members must be followed.
    let r = pod
        .post(
            &format!("/api/v1/lists/{list}/accounts"),
            &a,
            json!({ "account_ids": [bob.to_string()] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    pod.post(&format!("/api/v1/accounts/{bob}/follow"), &a, json!({}))
        .await;
    pod.post(&format!("/api/v1/accounts/{carol}/follow"), &a, json!({}))
        .await;
    let r = pod
        .send(
            "POST",
            &format!("/api/v1/lists/{list}/accounts"),
            Some(&a),
            Payload::Form(Box::leak(format!("account_ids[]={bob}").into_boxed_str())),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = pod.get(&format!("/api/v1/lists/{list}/accounts"), &a).await;
    assert_eq!(ids(&r.body), vec![bob.to_string()]);
    let r = pod.get(&format!("/api/v1/accounts/{bob}/lists"), &a).await;
    assert_eq!(ids(&r.body), vec![list.clone()]);
    let sb = pod.status(&b, "from bob", "public").await;
    pod.status(&c, "from carol", "public").await;
    let r = pod.get(&format!("/api/v1/timelines/list/{list}"), &a).await;
    assert_eq!(ids(&r.body), vec![sb]);
    // Another user's list is not found.
    assert_eq!(
        pod.get(&format!("/api/v1/lists/{list}"), &b).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        pod.get(&format!("/api/v1/timelines/list/{list}"), &b)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Remove the member, then the list.
    let r = pod
        .send(
            "DELETE",
            &format!("/api/v1/lists/{list}/accounts?account_ids[]={bob}"),
            Some(&a),
            Payload::None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        ids(&pod
            .get(&format!("/api/v1/lists/{list}/accounts"), &a)
            .await
            .body)
        .is_empty()
    );
    let r = pod
        .send(
            "DELETE",
            &format!("/api/v1/lists/{list}"),
            Some(&a),
            Payload::None,
        )
        .await;
    assert_eq!(r.body, json!({}));
    assert_eq!(
        pod.get(&format!("/api/v1/lists/{list}"), &a).await.status,
        StatusCode::NOT_FOUND
    );
    // Bad input and scopes.
    let r = pod.post("/api/v1/lists", &a, json!({})).await;
    assert_eq!(
        r.body,
        json!({ "error": "Validation failed: Title can't be blank" })
    );
    let r = pod
        .post(
            "/api/v1/lists",
            &a,
            json!({ "title": "x", "replies_policy": "all" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The list timeline needs read:lists (source), not read:statuses (old docs).
    let statuses_only = pod.token(1, "read:statuses").await;
    let r = pod.get("/api/v1/timelines/list/1", &statuses_only).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn filters_crud(pod: Pod) {
    let (_, a) = pod.account("alice").await;
    let (_, b) = pod.account("bob").await;
    let r = pod
        .send(
            "POST",
            "/api/v1/filters",
            Some(&a),
            Payload::Form(
                "phrase=spoilers&context[]=home&context[]=public&expires_in=3600&whole_word=false",
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["phrase"], "spoilers");
    assert_eq!(r.body["context"], json!(["home", "public"]));
    assert_eq!(r.body["whole_word"], false);
    assert!(r.body["expires_at"].is_string());
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = pod
        .send(
            "PUT",
            &format!("/api/v1/filters/{id}"),
            Some(&a),
            Payload::Json(json!({ "phrase": "leaks", "context": ["thread"], "expires_in": "" })),
        )
        .await;
    assert_eq!(r.body["phrase"], "leaks");
    assert_eq!(r.body["context"], json!(["thread"]));
    assert!(r.body["expires_at"].is_null());
    assert_eq!(
        ids(&pod.get("/api/v1/filters", &a).await.body),
        vec![id.clone()]
    );
    assert_eq!(
        pod.get(&format!("/api/v1/filters/{id}"), &b).await.status,
        StatusCode::NOT_FOUND
    );
    let r = pod
        .post(
            "/api/v1/filters",
            &a,
            json!({ "phrase": "x", "context": ["everywhere"] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = pod
        .post("/api/v1/filters", &a, json!({ "phrase": "x" }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = pod
        .post(
            "/api/v1/filters",
            &a,
            json!({ "phrase": "x", "context": ["home"], "expires_in": -5 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = pod
        .send(
            "DELETE",
            &format!("/api/v1/filters/{id}"),
            Some(&a),
            Payload::None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        pod.get(&format!("/api/v1/filters/{id}"), &a).await.status,
        StatusCode::NOT_FOUND
    );
    let reader = pod.token(1, "read:filters").await;
    assert_eq!(
        pod.get("/api/v1/filters", &reader).await.status,
        StatusCode::OK
    );
    let r = pod.post("/api/v1/filters", &reader, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn notifications_get_dismiss_clear(pod: Pod) {
    let (alice, a) = pod.account("alice").await;
    let (bob, b) = pod.account("bob").await;
    pod.post(&format!("/api/v1/accounts/{alice}/follow"), &b, json!({}))
        .await;
    pod.status(&b, "hi @alice", "public").await;
    let r = pod.get("/api/v1/notifications", &a).await;
    let list = ids(&r.body);
    assert_eq!(list.len(), 2);
    assert_eq!(r.body[0]["type"], "mention");
    assert_eq!(r.body[1]["type"], "follow");
    // Only unknown names: nothing for `types[]`, everything for `exclude_types[]`.
    let r = pod.get("/api/v1/notifications?types[]=bogus", &a).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(ids(&r.body).is_empty());
    let r = pod
        .get("/api/v1/notifications?exclude_types[]=bogus", &a)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(ids(&r.body), list);
    let r = pod
        .get("/api/v1/notifications?types[]=bogus&types[]=follow", &a)
        .await;
    assert_eq!(ids(&r.body), vec![list[1].clone()]);
    let r = pod
        .get(
            &format!("/api/v1/notifications?account_id={bob}&limit=1"),
            &a,
        )
        .await;
    assert_eq!(ids(&r.body), vec![list[0].clone()]);
    let r = pod
        .get(&format!("/api/v1/notifications/{}", list[1]), &a)
        .await;
    assert_eq!(r.body["account"]["id"], bob.to_string());
    assert_eq!(
        pod.get(&format!("/api/v1/notifications/{}", list[1]), &b)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = pod
        .post(
            &format!("/api/v1/notifications/{}/dismiss", list[1]),
            &a,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        ids(&pod.get("/api/v1/notifications", &a).await.body),
        vec![list[0].clone()]
    );
    let r = pod
        .post(
            &format!("/api/v1/notifications/{}/dismiss", list[1]),
            &a,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    pod.post("/api/v1/notifications/clear", &a, json!({})).await;
    assert!(ids(&pod.get("/api/v1/notifications", &a).await.body).is_empty());
    let reader = pod.token(alice, "read:notifications").await;
    let r = pod
        .post("/api/v1/notifications/clear", &reader, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn reports_file_and_list(pod: Pod) {
    let (alice, a) = pod.account("alice").await;
    let (bob, b) = pod.account("bob").await;
    let s = pod.status(&b, "spam spam", "public").await;
    let r = pod
        .post("/api/v1/reports", &a, json!({ "account_id": bob.to_string(), "status_ids": [s], "comment": "spam", "category": "spam" }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["target_account"]["id"], bob.to_string());
    assert_eq!(r.body["status_ids"], json!([s]));
    assert_eq!(r.body["category"], "spam");
    let r = pod.get("/api/v1/reports", &a).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    assert!(
        pod.get("/api/v1/reports", &b)
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
    let r = pod
        .post("/api/v1/reports", &a, json!({ "account_id": "999" }))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = pod
        .post(
            "/api/v1/reports",
            &a,
            json!({ "account_id": alice.to_string() }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = pod
        .post(
            "/api/v1/reports",
            &a,
            json!({ "account_id": bob, "category": "rude" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mine = pod.status(&a, "mine", "public").await;
    let r = pod
        .post(
            "/api/v1/reports",
            &a,
            json!({ "account_id": bob, "status_ids": [mine] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // read grants the deprecated read:reports; write:reports is needed to file.
    let reader = pod.token(alice, "read").await;
    assert_eq!(
        pod.get("/api/v1/reports", &reader).await.status,
        StatusCode::OK
    );
    let r = pod
        .post("/api/v1/reports", &reader, json!({ "account_id": bob }))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn media_upload_update_attach(pod: Pod) {
    let (alice, a) = pod.account("alice").await;
    let (_, b) = pod.account("bob").await;
    let boundary = "XyZ";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nA cat\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cat.png\"\r\nContent-Type: image/png\r\n\r\nPNG-bytes\r\n\
         --{boundary}--\r\n"
    );
    let r = pod
        .send(
            "POST",
            "/api/v1/media",
            Some(&a),
            Payload::Raw(
                "multipart/form-data; boundary=XyZ",
                body.clone().into_bytes(),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["type"], "image");
    assert_eq!(r.body["description"], "A cat");
    let media = r.body["id"].as_str().unwrap().to_owned();
    let url = r.body["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("https://pod.example")
        .to_owned();
    let r = pod
        .send(
            "PUT",
            &format!("/api/v1/media/{media}"),
            Some(&a),
            Payload::Json(json!({ "description": "A black cat", "focus": "0.5,-0.25" })),
        )
        .await;
    assert_eq!(r.body["description"], "A black cat");
    assert_eq!(r.body["meta"]["focus"]["x"], 0.5);
    let r = pod
        .send(
            "PUT",
            &format!("/api/v1/media/{media}"),
            Some(&b),
            Payload::Json(json!({ "description": "mine" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = pod
        .send(
            "PUT",
            &format!("/api/v1/media/{media}"),
            Some(&a),
            Payload::Json(json!({ "focus": "2,2" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Attach to a status (no text needed).
    let r = pod
        .post("/api/v1/statuses", &a, json!({ "media_ids": [media] }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["media_attachments"][0]["id"], media.as_str());
    let r = pod
        .get(
            &format!("/api/v1/accounts/{alice}/statuses?only_media=true"),
            &a,
        )
        .await;
    assert_eq!(ids(&r.body).len(), 1);
    // Attached media can no longer be edited nor attached again.
    let r = pod
        .send(
            "PUT",
            &format!("/api/v1/media/{media}"),
            Some(&a),
            Payload::Json(json!({ "description": "x" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = pod
        .post("/api/v1/statuses", &a, json!({ "media_ids": [media] }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Media attaches once: listed twice, or by two racing posts.
    let r = pod
        .send(
            "POST",
            "/api/v1/media",
            Some(&a),
            Payload::Raw(
                "multipart/form-data; boundary=XyZ",
                body.clone().into_bytes(),
            ),
        )
        .await;
    let other = r.body["id"].as_str().unwrap().to_owned();
    let r = pod
        .post(
            "/api/v1/statuses",
            &a,
            json!({ "status": "twice", "media_ids": [other, other] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let post = |text: &'static str| {
        pod.post(
            "/api/v1/statuses",
            &a,
            json!({ "status": text, "media_ids": [other] }),
        )
    };
    let (one, two) = tokio::join!(post("one"), post("two"));
    let mut statuses = [one.status, two.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY],
        "{:?} {:?}",
        one.body,
        two.body
    );
    // The file is served.
    let res = pod
        .client
        .oneshot(Request::builder().uri(&url).body(Body::empty()).unwrap())
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    // A raw body upload.
    let r = pod
        .send(
            "POST",
            "/api/v1/media?description=raw",
            Some(&a),
            Payload::Raw("image/jpeg", vec![0xff, 0xd8, 0xff]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["meta"]["original"]["filesize"], 3);
    assert_eq!(r.body["description"], "raw");
    // No file, a wrong type, a broken multipart body.
    let r = pod
        .post("/api/v1/media", &a, json!({ "description": "nothing" }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = pod
        .send(
            "POST",
            "/api/v1/media",
            Some(&a),
            Payload::Raw("text/plain", b"hello".to_vec()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = pod
        .send(
            "POST",
            "/api/v1/media",
            Some(&a),
            Payload::Raw(
                "multipart/form-data; boundary=XyZ",
                b"--XyZ\r\ngarbage".to_vec(),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = pod
        .send(
            "POST",
            "/api/v1/media",
            Some(&a),
            Payload::Raw("multipart/form-data", b"x".to_vec()),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // write:media is needed.
    let reader = pod.token(alice, "read write:statuses").await;
    let r = pod.post("/api/v1/media", &reader, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// A multipart upload of one small PNG.
const UPLOAD: &str = "--XyZ\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nA cat\r\n\
     --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cat.png\"\r\nContent-Type: image/png\r\n\r\nPNG-bytes\r\n\
     --XyZ--\r\n";

/// `UPLOAD` as a streamed body that records whether anything polled it.
fn probed_upload(read: Arc<AtomicBool>) -> Body {
    let mut chunks = vec![axum::body::Bytes::from_static(UPLOAD.as_bytes())].into_iter();
    Body::from_stream(futures_util::stream::poll_fn(move |_| {
        read.store(true, Ordering::SeqCst);
        Poll::Ready(chunks.next().map(Ok::<_, std::io::Error>))
    }))
}

/// The enforcement layer answers before the upload's body is read: no
/// token is 401 and a token without `write:media` 403, the multipart
/// parser never polled; with the scope the same body is read and stored.
async fn uploads_are_refused_before_their_body_is_read(pod: Pod) {
    let (alice, a) = pod.account("alice").await;
    let reader = pod.token(alice, "read write:statuses").await;
    for (token, status) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(reader.as_str()), StatusCode::FORBIDDEN),
        (Some(a.as_str()), StatusCode::OK),
    ] {
        for path in ["/api/v1/media", "/api/v2/media"] {
            let read = Arc::new(AtomicBool::new(false));
            let mut req = Request::builder()
                .method("POST")
                .uri(path)
                .header("host", "pod.example")
                .header("content-type", "multipart/form-data; boundary=XyZ");
            if let Some(t) = token {
                req = req.header("authorization", format!("Bearer {t}"));
            }
            let res = pod
                .client
                .oneshot(req.body(probed_upload(Arc::clone(&read))).unwrap())
                .await;
            assert_eq!(res.status(), status, "{path} {token:?}");
            assert_eq!(
                read.load(Ordering::SeqCst),
                status == StatusCode::OK,
                "{path}: the body is read only once the token is accepted"
            );
        }
    }
}

/// A multipart body keeps the pod's limits: 16 MiB in all (413, as any
/// other body), Rack's 4096 parts (400), and a malformed part is a 400;
/// each answered as `{"error": ...}`.
async fn multipart_uploads_keep_the_body_limits(pod: Pod) {
    let (_, a) = pod.account("alice").await;
    let upload = |body: Vec<u8>| {
        pod.send(
            "POST",
            "/api/v1/media",
            Some(&a),
            Payload::Raw("multipart/form-data; boundary=XyZ", body),
        )
    };
    // A file just under the limit is taken whole.
    let head = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.png\"\r\nContent-Type: image/png\r\n\r\n";
    let tail = "\r\n--XyZ--\r\n";
    let size = 16 * 1024 * 1024 - head.len() - tail.len();
    let big = |size: usize| [head.as_bytes(), &vec![b'x'; size], tail.as_bytes()].concat();
    let r = upload(big(size)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["meta"]["original"]["filesize"], size);
    let r = upload(big(size + 1)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", r.body);
    assert_eq!(r.body, json!({ "error": "Request body too large" }));
    // Parts: 4096 are read, one more is refused.
    let parts = |n: usize| {
        let mut body = String::new();
        for i in 0..n {
            body.push_str(&format!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"p{i}\"\r\n\r\nx\r\n"
            ));
        }
        body.push_str("--XyZ--\r\n");
        body.into_bytes()
    };
    let r = upload(parts(4096)).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no file: {:?}",
        r.body
    );
    let r = upload(parts(4097)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(
        r.body,
        json!({ "error": "Too many parts in the multipart body (at most 4096)" })
    );
    // An empty body, a part cut short, and no boundary. (An empty
    // multipart body is malformed, as Rack has it: it has no closing
    // boundary.)
    let r = upload(Vec::new()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.body, json!({ "error": "Malformed multipart body" }));
    let r = upload(UPLOAD.as_bytes()[..UPLOAD.len() - 12].to_vec()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.body, json!({ "error": "Malformed multipart body" }));
    let r = pod
        .send(
            "POST",
            "/api/v1/media",
            Some(&a),
            Payload::Raw("multipart/form-data", UPLOAD.as_bytes().to_vec()),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(
        r.body,
        json!({ "error": "multipart body without a boundary" })
    );
    // Text fields of a multipart body are parameters of any endpoint.
    let r = pod
        .send(
            "POST",
            "/api/v1/statuses",
            Some(&a),
            Payload::Raw(
                "multipart/form-data; boundary=XyZ",
                b"--XyZ\r\nContent-Disposition: form-data; name=\"status\"\r\n\r\nfrom a form\r\n--XyZ--\r\n".to_vec(),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(r.body["content"].as_str().unwrap().contains("from a form"));
}

async fn search_lookup_domain_blocks_context_pins_and_status_mutes(pod: Pod) {
    let (alice, a) = pod.account("alice").await;
    let (bob, b) = pod.account("bob").await;
    let root = pod.status(&a, "A #Topic to discuss", "public").await;
    let reply = pod
        .post(
            "/api/v1/statuses",
            &b,
            json!({ "status": "@alice agreed", "in_reply_to_id": root }),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = pod
        .get(&format!("/api/v1/statuses/{reply}/context"), &a)
        .await;
    assert_eq!(ids(&r.body["ancestors"]), vec![root.clone()]);
    let r = pod
        .get(&format!("/api/v1/statuses/{root}/context"), &a)
        .await;
    assert_eq!(ids(&r.body["descendants"]), vec![reply.clone()]);
    assert_eq!(
        pod.get(&format!("/api/v1/statuses/{root}"), &a).await.body["replies_count"],
        1
    );

    // Search.
    let r = pod.get("/api/v2/search?q=topic", &a).await;
    assert_eq!(ids(&r.body["statuses"]), vec![root.clone()]);
    assert_eq!(r.body["hashtags"][0]["name"], "topic");
    let r = pod.get("/api/v2/search?q=bo&type=accounts", &a).await;
    assert_eq!(ids(&r.body["accounts"]), vec![bob.to_string()]);
    assert!(r.body["statuses"].as_array().unwrap().is_empty());
    let r = pod.get("/api/v1/search?q=%23top", &a).await;
    assert_eq!(r.body["hashtags"], json!(["topic"]));
    let r = pod.get("/api/v1/accounts/search?q=ali", &b).await;
    assert_eq!(ids(&r.body), vec![alice.to_string()]);
    assert_eq!(
        pod.get("/api/v2/search", &a).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        pod.get("/api/v2/search?q=x&type=songs", &a).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        pod.get("/api/v2/search?q=x&limit=many", &a).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let r = pod
        .send("GET", "/api/v2/search?q=alice", None, Payload::None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = pod
        .send("GET", "/api/v1/search?q=alice", None, Payload::None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let search_only = pod.token(alice, "read:search").await;
    assert_eq!(
        pod.get("/api/v1/search?q=a", &search_only).await.status,
        StatusCode::OK
    );
    assert_eq!(
        pod.get("/api/v1/accounts/search?q=a", &search_only)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Lookup.
    let r = pod
        .send(
            "GET",
            "/api/v1/accounts/lookup?acct=@bob@pod.example",
            None,
            Payload::None,
        )
        .await;
    assert_eq!(r.body["id"], bob.to_string());
    let r = pod
        .get("/api/v1/accounts/lookup?acct=bob@elsewhere.example", &a)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Domain blocks (form and query parameters).
    let r = pod
        .send(
            "POST",
            "/api/v1/domain_blocks",
            Some(&a),
            Payload::Form("domain=Spam.Example"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    pod.send(
        "POST",
        "/api/v1/domain_blocks?domain=other.example",
        Some(&a),
        Payload::None,
    )
    .await;
    let r = pod.get("/api/v1/domain_blocks", &a).await;
    assert_eq!(r.body, json!(["other.example", "spam.example"]));
    pod.send(
        "DELETE",
        "/api/v1/domain_blocks?domain=other.example",
        Some(&a),
        Payload::None,
    )
    .await;
    assert_eq!(
        pod.get("/api/v1/domain_blocks", &a).await.body,
        json!(["spam.example"])
    );
    let r = pod
        .send(
            "POST",
            "/api/v1/domain_blocks",
            Some(&a),
            Payload::Form("domain=not a domain"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = pod
        .send("POST", "/api/v1/domain_blocks", Some(&a), Payload::None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Pins.
    let r = pod
        .post(&format!("/api/v1/statuses/{root}/pin"), &a, json!({}))
        .await;
    assert_eq!(r.body["pinned"], true);
    let r = pod
        .get(
            &format!("/api/v1/accounts/{alice}/statuses?pinned=true"),
            &b,
        )
        .await;
    assert_eq!(ids(&r.body), vec![root.clone()]);
    let r = pod
        .post(&format!("/api/v1/statuses/{reply}/pin"), &a, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = pod
        .post(&format!("/api/v1/statuses/{root}/unpin"), &a, json!({}))
        .await;
    assert_eq!(r.body["pinned"], false);

    // Conversation mutes.
    let r = pod
        .post(&format!("/api/v1/statuses/{root}/mute"), &a, json!({}))
        .await;
    assert_eq!(r.body["muted"], true);
    let r = pod
        .post(&format!("/api/v1/statuses/{root}/unmute"), &a, json!({}))
        .await;
    assert_eq!(r.body["muted"], false);
    let mutes_only = pod.token(alice, "write:blocks").await;
    let r = pod
        .post(
            &format!("/api/v1/statuses/{root}/mute"),
            &mutes_only,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn instance_and_public_routes_need_no_token(pod: Pod) {
    pod.user("alice").await;
    let r = pod
        .send("GET", "/api/v1/instance", None, Payload::None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["uri"], "pod.example");
    assert!(
        r.body["version"]
            .as_str()
            .unwrap()
            .starts_with("4.3.0 (compatible; mastodon-pod ")
    );
    assert_eq!(r.body["stats"]["user_count"], 1);
    assert_eq!(r.body["configuration"]["statuses"]["max_characters"], 500);
    let r = pod
        .send("GET", "/api/v2/instance", None, Payload::None)
        .await;
    assert_eq!(r.body["domain"], "pod.example");
    assert!(r.body["configuration"]["media_attachments"]["supported_mime_types"].is_array());
    let r = pod
        .send("GET", "/api/v1/timelines/public", None, Payload::None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // A token sent to an optional route is checked.
    let r = pod
        .send(
            "GET",
            "/api/v1/timelines/public",
            Some("bogus"),
            Payload::None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let wrong = pod.token(1, "write").await;
    let r = pod
        .send(
            "GET",
            "/api/v1/timelines/public",
            Some(&wrong),
            Payload::None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = pod
        .send("GET", "/api/v1/timelines/home", None, Payload::None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn seed_demo_is_idempotent_and_fills_every_list(pod: Pod) {
    let (alice, a) = pod.account("alice").await;
    seed_demo(&pod.db, alice).await.unwrap();
    seed_demo(&pod.db, alice).await.unwrap();
    let statuses: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM statuses")
        .fetch_one(&pod.db)
        .await
        .unwrap();
    assert_eq!(statuses, 3);
    for path in [
        "/api/v1/timelines/home",
        "/api/v1/timelines/public",
        "/api/v1/favourites",
        "/api/v1/lists",
        "/api/v1/filters",
        "/api/v1/notifications",
        "/api/v1/domain_blocks",
    ] {
        let r = pod.get(path, &a).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(!r.body.as_array().unwrap().is_empty(), "{path}");
    }
    let r = pod
        .get(
            &format!("/api/v1/accounts/{alice}/statuses?pinned=true"),
            &a,
        )
        .await;
    assert_eq!(ids(&r.body).len(), 1);
    let lists = pod.get("/api/v1/lists", &a).await.body;
    let list = lists[0]["id"].as_str().unwrap();
    let r = pod.get(&format!("/api/v1/timelines/list/{list}"), &a).await;
    assert!(!ids(&r.body).is_empty());
}

/// Every endpoint of the documented matrix is routed (`:id` as `{id}`),
/// and the scopes of the routes are those of the current source (TSV).
#[test]
fn every_documented_endpoint_is_routed_with_the_source_scope() {
    let matrix = include_str!("data/mastodon-oauth-details-scope-matrix.txt");
    let tsv = include_str!("data/mastodon-endpoint-scopes.txt");
    let routed = |method: &str, path: &str| {
        Api::ROUTES
            .iter()
            .find(|r| r.method().as_str() == method && r.path() == path)
    };
    let mut checked = 0;
    for line in matrix.lines() {
        let line = line.trim();
        let Some((methods, path)) = line.split_once(" /api/") else {
            continue;
        };
        let path = format!("/api/{}", path.trim()).replace(":id", "{id}");
        for method in methods.trim_start_matches('•').split('|') {
            let method = method.trim();
            let found = routed(method, &path).or_else(|| {
                (path == "/api/v1/accounts/verify_credentials" && method == "PUT")
                    .then(|| routed("PATCH", "/api/v1/accounts/update_credentials"))
                    .flatten()
            });
            let route = found.unwrap_or_else(|| panic!("{method} {path} is not routed"));
            checked += 1;
            // The source's any-of list, when the source routes it.
            let source_path = path.replace("{id}", ":id");
            let row = tsv.lines().find(|l| {
                let mut f = l.split('\t');
                let m = f.next();
                let p = f.next().map(|p| {
                    p.replace(":status_id", ":id")
                        .replace(":account_id", ":id")
                        .replace(":list_id", ":id")
                });
                m == Some(method) && p.as_deref() == Some(source_path.as_str())
            });
            if let Some(row) = row {
                let listed: Vec<&str> = row
                    .split('\t')
                    .nth(2)
                    .unwrap()
                    .split('|')
                    .map(str::trim)
                    .collect();
                for scope in route.requirement().scopes() {
                    assert!(
                        listed.contains(&scope.to_string().as_str()),
                        "{method} {path}: {scope} not in {listed:?}"
                    );
                }
            }
        }
    }
    assert_eq!(checked, 66, "method-path pairs of the documented matrix");
}

/// Input PostgreSQL refuses where SQLite stores it (a NUL in text) or
/// cannot hold (integers past i64) is a 4xx on both engines, never a 500.
async fn input_postgres_refuses_is_a_4xx_on_both_engines(pod: Pod) {
    let (_, a) = pod.account("alice").await;
    let r = pod
        .post("/api/v1/statuses", &a, json!({ "status": "nul\u{0}byte" }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let r = pod
        .send(
            "PATCH",
            "/api/v1/accounts/update_credentials",
            Some(&a),
            Payload::Form("display_name=a%00b"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    for path in [
        "/api/v1/accounts/search?q=a%00",
        "/api/v2/search?q=%00",
        "/api/v1/accounts/lookup?acct=x%00",
    ] {
        let r = pod.get(path, &a).await;
        assert!(
            r.status.is_client_error(),
            "{path}: {} {:?}",
            r.status,
            r.body
        );
    }
    for path in [
        "/api/v1/statuses/92233720368547758070",
        "/api/v1/accounts/92233720368547758070",
        "/api/v1/timelines/home?max_id=92233720368547758070",
        "/api/v1/timelines/home?limit=92233720368547758070",
    ] {
        let r = pod.get(path, &a).await;
        assert!(
            r.status.is_client_error(),
            "{path}: {} {:?}",
            r.status,
            r.body
        );
    }
    let r = pod
        .post(
            "/api/v1/filters",
            &a,
            json!({ "phrase": "x", "context": ["home"], "expires_in": i64::MAX }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
}

/// Every URL in a response starts with the configured issuer: a client
/// naming another host in `Host`, `X-Forwarded-Host` or
/// `X-Forwarded-Proto` (which a pod cannot tell from a proxy's) changes
/// nothing, in bodies or in `Link` headers.
async fn urls_come_from_the_issuer_not_from_request_headers(pod: Pod) {
    let (alice, a) = pod.account("alice").await;
    let (_, b) = pod.account("bob").await;
    let status = pod.status(&b, "hi @alice see #news", "public").await;
    pod.status(&a, "another", "public").await;
    pod.status(&a, "and another", "public").await;
    let evil = |method: &str, uri: &str, token: Option<&str>| {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "evil.example")
            .header("x-forwarded-host", "evil.example")
            .header("x-forwarded-proto", "http");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        request.body(Body::empty()).unwrap()
    };
    let paths = [
        "/api/v1/instance".to_owned(),
        "/api/v2/instance".to_owned(),
        "/api/v1/accounts/verify_credentials".to_owned(),
        format!("/api/v1/accounts/{alice}"),
        format!("/api/v1/accounts/{alice}/statuses?limit=1"),
        format!("/api/v1/statuses/{status}"),
        "/api/v1/timelines/home?limit=1".to_owned(),
    ];
    for path in &paths {
        let r = pod.client.read(evil("GET", path, Some(&a))).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert!(!r.text.contains("evil.example"), "{path}: {}", r.text);
        for (name, value) in &r.headers {
            let value = value.to_str().unwrap_or_default();
            assert!(!value.contains("evil.example"), "{path}: {name}: {value}");
        }
        let mut urls = Vec::new();
        collect_urls(&r.body, &mut urls);
        for url in &urls {
            // The streaming API's host, and the project's own page.
            let fixed = ["wss://pod.example", "https://example.invalid/scope-matrix"];
            assert!(
                url.starts_with("https://pod.example/") || fixed.contains(&url.as_str()),
                "{path}: {url}"
            );
        }
        assert!(!urls.is_empty(), "{path}");
        if path.contains("limit=1") {
            assert!(
                r.headers["link"]
                    .to_str()
                    .unwrap()
                    .contains("<https://pod.example/api/v1/")
            );
        }
    }
    let instance = pod.client.read(evil("GET", "/api/v1/instance", None)).await;
    assert_eq!(instance.body["uri"], "pod.example");
    assert_eq!(instance.body["urls"]["streaming_api"], "wss://pod.example");
    let v2 = pod.client.read(evil("GET", "/api/v2/instance", None)).await;
    assert_eq!(v2.body["domain"], "pod.example");
    let status = pod
        .client
        .read(evil("GET", &format!("/api/v1/statuses/{status}"), Some(&a)))
        .await;
    assert_eq!(
        status.body["url"].as_str().unwrap().split('/').nth(2),
        Some("pod.example")
    );
    let content = status.body["content"].as_str().unwrap();
    assert!(
        content.contains("href=\"https://pod.example/@alice\""),
        "{content}"
    );
    assert!(
        content.contains("href=\"https://pod.example/tags/news\""),
        "{content}"
    );
    assert_eq!(
        status.body["mentions"][0]["url"],
        "https://pod.example/@alice"
    );
}

/// The string values of `v` that look like URLs (`scheme://`).
fn collect_urls(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.contains("://") && !s.contains(' ') => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|x| collect_urls(x, out)),
        Value::Object(map) => map.values().for_each(|x| collect_urls(x, out)),
        _ => {}
    }
}

/// Reporting with a status the reporter cannot see answers as for a status
/// that does not exist (404 `Record not found`), and files nothing: the
/// endpoint does not tell hidden statuses from missing ones.
async fn reports_answer_alike_for_hidden_and_missing_statuses(pod: Pod) {
    let (_, a) = pod.account("alice").await;
    let (bob, b) = pod.account("bob").await;
    let private = pod.status(&b, "followers only", "private").await;
    let direct = pod.status(&b, "to nobody", "direct").await;
    let public = pod.status(&b, "public", "public").await;
    let missing = (public.parse::<i64>().unwrap() + 1000).to_string();
    let report = |status: &str| {
        pod.post(
            "/api/v1/reports",
            &a,
            json!({ "account_id": bob.to_string(), "status_ids": [status] }),
        )
    };
    let absent = report(&missing).await;
    assert_eq!(absent.status, StatusCode::NOT_FOUND);
    assert_eq!(absent.body, json!({ "error": "Record not found" }));
    for hidden in [&private, &direct] {
        let r = report(hidden).await;
        assert_eq!(r.status, absent.status, "{hidden}: {:?}", r.body);
        assert_eq!(r.body, absent.body, "{hidden}");
    }
    assert!(
        pod.get("/api/v1/reports", &a)
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The author sees them: not every 404 here is a hidden status.
    assert_eq!(
        pod.get(&format!("/api/v1/statuses/{private}"), &b)
            .await
            .status,
        StatusCode::OK
    );
    let r = report(&public).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["status_ids"], json!([public]));
}

both_engines!(
    reports_answer_alike_for_hidden_and_missing_statuses,
    urls_come_from_the_issuer_not_from_request_headers,
    the_router_is_the_one_the_binary_serves,
    input_postgres_refuses_is_a_4xx_on_both_engines,
    verify_credentials_accepts_profile_read_and_read_accounts_only,
    update_credentials_by_patch_form_and_legacy_put_json,
    statuses_create_read_delete_and_errors,
    private_and_direct_statuses_are_hidden_from_others,
    follow_unfollow_round_trip_and_locked_accounts,
    block_hides_statuses_and_mute_hides_from_timelines,
    favourites_boosts_and_who,
    pagination_link_headers_and_bad_params,
    lists_crud_members_and_timeline,
    filters_crud,
    notifications_get_dismiss_clear,
    reports_file_and_list,
    media_upload_update_attach,
    uploads_are_refused_before_their_body_is_read,
    multipart_uploads_keep_the_body_limits,
    search_lookup_domain_blocks_context_pins_and_status_mutes,
    instance_and_public_routes_need_no_token,
    seed_demo_is_idempotent_and_fills_every_list,
);
