//! The streaming API over real sockets: an SSE stream receives the status
//! posted through the REST API and ends when its token is revoked; the
//! scopes of each channel are checked, app tokens refused; the WebSocket
//! takes subscriptions, each checked, and closes with a policy frame on a
//! revocation.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mastodon_pod::MastodonPod;
use pod_kit::testing::{Engine, TestApp, TestClient, TestPod};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

async fn pod(engine: Engine) -> Option<(TestPod, TestApp)> {
    let pod = TestPod::start_engine::<MastodonPod>(engine, |s| s).await?;
    let app = pod.register("read write follow profile").await;
    Some((pod, app))
}

/// `host:port` of the pod.
fn authority(pod: &TestPod) -> String {
    pod.base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

/// What identifies status `id` in an event: the end of its `uri` (a bare
/// `"id"` could be an account's).
fn status_uri(id: &str) -> String {
    format!("/statuses/{id}\"")
}

/// An open HTTP/1.1 response read as it arrives.
struct Open {
    socket: TcpStream,
    seen: String,
}

impl Open {
    async fn get(pod: &TestPod, path: &str, token: &str) -> Self {
        let authority = authority(pod);
        let mut socket = TcpStream::connect(&authority).await.expect("connect");
        let request = format!(
            "GET {path} HTTP/1.1\r\nhost: {authority}\r\nauthorization: Bearer {token}\r\n\
             accept: text/event-stream\r\nconnection: close\r\n\r\n"
        );
        socket.write_all(request.as_bytes()).await.expect("write");
        let mut open = Self {
            socket,
            seen: String::new(),
        };
        assert!(open.until("\r\n\r\n").await, "no head: {}", open.seen);
        open
    }

    /// Reads until `needle` arrives (true) or the connection ends (false),
    /// within 5 s.
    async fn until(&mut self, needle: &str) -> bool {
        let mut buf = [0u8; 4096];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !self.seen.contains(needle) {
            match tokio::time::timeout_at(deadline, self.socket.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return false,
                Ok(Ok(n)) => self.seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(_) => panic!("nothing within 5 s; so far: {}", self.seen),
            }
        }
        true
    }
}

async fn an_sse_stream_receives_posted_statuses_until_its_token_is_revoked(engine: Engine) {
    let Some((pod, app)) = pod(engine).await else {
        return;
    };
    let reader = pod.token(&app, "read:statuses").await;
    let writer = pod.token(&app, "write:statuses").await;
    let mut public = Open::get(&pod, "/api/v1/streaming/public", &reader).await;
    assert!(public.seen.starts_with("HTTP/1.1 200"), "{}", public.seen);
    assert!(
        public.seen.to_lowercase().contains("text/event-stream"),
        "{}",
        public.seen
    );
    let mut tag = Open::get(&pod, "/api/v1/streaming/hashtag?tag=RustLang", &reader).await;
    assert!(tag.seen.starts_with("HTTP/1.1 200"), "{}", tag.seen);

    let id = post_status(
        &pod,
        &writer,
        serde_json::json!({"status": "streamed #rustlang", "visibility": "public"}),
    )
    .await;
    assert!(public.until("event: update").await, "{}", public.seen);
    assert!(public.until("\n\n").await, "{}", public.seen);
    let data = public
        .seen
        .lines()
        .skip_while(|l| *l != "event: update")
        .find_map(|l| l.strip_prefix("data: "))
        .expect("data");
    let status: serde_json::Value = serde_json::from_str(data).expect("json");
    assert_eq!(status["id"], id.as_str());
    assert!(tag.until(&status_uri(&id)).await, "{}", tag.seen);

    // Deleted: a `delete` event with the id.
    let r = pod
        .call(
            "DELETE",
            &format!("/api/v1/statuses/{id}"),
            Some(&writer),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        public.until(&format!("event: delete\ndata: {id}")).await,
        "{}",
        public.seen
    );

    // Revoked: the stream ends.
    pod.revoke(&app, &reader).await;
    assert!(!public.until("never sent").await, "the stream ended");
}

async fn each_stream_checks_its_scopes_and_refuses_app_tokens(engine: Engine) {
    let Some((pod, app)) = pod(engine).await else {
        return;
    };
    let r = pod
        .call("GET", "/api/v1/streaming/health", None, None)
        .await;
    assert_eq!((r.status, r.text.as_str()), (200, "OK"));

    let notifications = pod.token(&app, "read:notifications").await;
    let r = pod
        .call(
            "GET",
            "/api/v1/streaming/public",
            Some(&notifications),
            None,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.body["error"].is_string(), "{}", r.text);

    let r = pod
        .call("GET", "/api/v1/streaming/public", None, None)
        .await;
    assert_eq!(r.status, 401, "{}", r.text);

    // Only the list's owner streams it.
    let r = pod
        .call(
            "GET",
            "/api/v1/streaming/list?list=999999",
            Some(&pod.token(&app, "read").await),
            None,
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);

    // An app token (client credentials) never gets a stream.
    let r = pod
        .http
        .post(pod.url("/oauth/token"))
        .basic_auth(&app.client_id, Some(&app.client_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "read")])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 200);
    let grant: serde_json::Value = r.json().await.expect("json");
    let app_token = grant["access_token"].as_str().expect("token");

    // Every channel, over SSE: a token without its scope gets 403, an app
    // token a refusal, no token 401, before anything is streamed (a list
    // of the reader's own, so that only the scope can refuse it).
    let owner = pod.token(&app, "read write").await;
    let r = pod
        .call(
            "POST",
            "/api/v1/lists",
            Some(&owner),
            Some(serde_json::json!({"title": "mine"})),
        )
        .await;
    let list = r.body["id"].as_str().expect("id").to_owned();
    let writer = pod.token(&app, "write").await;
    let list_path = format!("/api/v1/streaming/list?list={list}");
    let channels = [
        ("/api/v1/streaming/user", "read:statuses"),
        ("/api/v1/streaming/user/notification", "read:notifications"),
        ("/api/v1/streaming/public", "read:statuses"),
        ("/api/v1/streaming/public/local", "read:statuses"),
        ("/api/v1/streaming/public/remote", "read:statuses"),
        ("/api/v1/streaming/hashtag?tag=rust", "read:statuses"),
        ("/api/v1/streaming/hashtag/local?tag=rust", "read:statuses"),
        (list_path.as_str(), "read:statuses"),
        ("/api/v1/streaming/direct", "read:statuses"),
    ];
    for (path, scope) in channels {
        let r = pod.call("GET", path, Some(&writer), None).await;
        assert_eq!(r.status, 403, "{path} without {scope}: {}", r.text);
        let r = pod.call("GET", path, Some(app_token), None).await;
        assert!(
            (400..500).contains(&r.status) && r.status != 404,
            "{path} with an app token: {}: {}",
            r.status,
            r.text
        );
        let r = pod.call("GET", path, None, None).await;
        assert_eq!(r.status, 401, "{path} without a token: {}", r.text);
        // The scope alone opens it.
        let mut open = Open::get(&pod, path, &pod.token(&app, scope).await).await;
        assert!(
            open.seen.starts_with("HTTP/1.1 200"),
            "{path} with {scope}: {}",
            open.seen
        );
        let _ = open.socket.shutdown().await;
    }

    // Instances advertise the streaming URL.
    let r = pod.call("GET", "/api/v2/instance", None, None).await;
    let streaming = r.body["configuration"]["urls"]["streaming"]
        .as_str()
        .expect("streaming url");
    assert_eq!(streaming, format!("ws://{}", authority(&pod)));
    let r = pod.call("GET", "/api/v1/instance", None, None).await;
    assert_eq!(r.body["urls"]["streaming_api"], streaming);
}

type Client =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_text(client: &mut Client) -> serde_json::Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), client.next()).await {
            Ok(Some(Ok(tungstenite::Message::Text(text)))) => {
                return serde_json::from_str(&text).expect("json");
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("no message: {other:?}"),
        }
    }
}

/// Posts a status with `token` (200 asserted); its id.
async fn post_status(pod: &TestPod, token: &str, body: serde_json::Value) -> String {
    let r = pod
        .call("POST", "/api/v1/statuses", Some(token), Some(body))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["id"].as_str().expect("id").to_owned()
}

/// A WebSocket to the streaming API with `token` in the Authorization
/// header.
async fn connect_bearer(pod: &TestPod, token: &str) -> Client {
    let mut request = format!("ws://{}/api/v1/streaming", authority(pod))
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .expect("connect")
        .0
}

async fn send(client: &mut Client, message: serde_json::Value) {
    client
        .send(tungstenite::Message::text(message.to_string()))
        .await
        .expect("send");
}

async fn the_websocket_checks_each_subscription_and_closes_on_revocation(engine: Engine) {
    let Some((pod, app)) = pod(engine).await else {
        return;
    };
    let reader = pod.token(&app, "read:statuses").await;
    let writer = pod.token(&app, "write:statuses").await;
    let mut request = format!("ws://{}/api/v1/streaming", authority(&pod))
        .into_client_request()
        .expect("request");
    request
        .headers_mut()
        .insert("sec-websocket-protocol", reader.parse().expect("header"));
    let (mut client, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some(reader.as_str()),
        "the token is echoed as the protocol"
    );

    send(
        &mut client,
        serde_json::json!({"type": "subscribe", "stream": "user:notification"}),
    )
    .await;
    assert_eq!(next_text(&mut client).await["status"], 403);
    send(
        &mut client,
        serde_json::json!({"type": "subscribe", "stream": "hashtag"}),
    )
    .await;
    assert_eq!(next_text(&mut client).await["status"], 400, "no tag");

    // Every channel refuses a token without its scope, before its tag or
    // list is looked at.
    let mut unscoped = connect_bearer(&pod, &writer).await;
    for channel in [
        "user",
        "user:notification",
        "public",
        "public:local",
        "public:remote",
        "hashtag",
        "hashtag:local",
        "list",
        "direct",
    ] {
        send(
            &mut unscoped,
            serde_json::json!({"type": "subscribe", "stream": channel, "tag": "rust", "list": "1"}),
        )
        .await;
        let refused = next_text(&mut unscoped).await;
        assert_eq!(refused["status"], 403, "{channel}: {refused}");
    }
    send(
        &mut client,
        serde_json::json!({"type": "subscribe", "stream": "public"}),
    )
    .await;
    // Messages are handled in order: once this is answered, `public` is
    // subscribed.
    send(
        &mut client,
        serde_json::json!({"type": "subscribe", "stream": "nothing"}),
    )
    .await;
    assert_eq!(next_text(&mut client).await["status"], 400);

    let r = pod
        .call(
            "POST",
            "/api/v1/statuses",
            Some(&writer),
            Some(serde_json::json!({"status": "over the socket", "visibility": "public"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let event = next_text(&mut client).await;
    assert_eq!(event["stream"], serde_json::json!(["public"]));
    assert_eq!(event["event"], "update");
    let payload: serde_json::Value =
        serde_json::from_str(event["payload"].as_str().expect("a JSON string")).expect("json");
    assert_eq!(payload["id"], r.body["id"]);

    // The stream and the token in the URL, as browsers' clients send them.
    let url = format!(
        "ws://{}/api/v1/streaming?stream=hashtag&tag=Socket&access_token={reader}",
        authority(&pod)
    );
    let (mut by_query, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("connect with the query");
    // Messages are handled in order: the first subscription is in place
    // once this is answered.
    send(
        &mut by_query,
        serde_json::json!({"type": "subscribe", "stream": "nothing"}),
    )
    .await;
    assert_eq!(next_text(&mut by_query).await["status"], 400);
    let r = pod
        .call(
            "POST",
            "/api/v1/statuses",
            Some(&writer),
            Some(serde_json::json!({"status": "tagged #socket", "visibility": "public"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let event = next_text(&mut by_query).await;
    assert_eq!(event["stream"], serde_json::json!(["hashtag", "socket"]));
    // The first socket has it too (public).
    assert_eq!(next_text(&mut client).await["event"], "update");

    pod.revoke(&app, &reader).await;
    let close = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(message) = client.next().await {
            if let Ok(tungstenite::Message::Close(frame)) = message {
                return frame;
            }
        }
        None
    })
    .await
    .expect("closed within 5 s of the revocation")
    .expect("a close frame");
    assert_eq!(u16::from(close.code), 1008);
    assert!(!close.reason.is_empty());
}

/// A second user, `bob`, and a token of theirs with `scopes`.
async fn bob(pod: &TestPod, scopes: &str) -> (i64, String) {
    let client = TestClient::<MastodonPod>::new(pod.database(), &pod_kit::Settings::new(&pod.base));
    let bob = client.create_user("bob").await;
    (bob, client.user_token(bob, scopes).await)
}

async fn the_user_stream_has_home_statuses_and_notifications_and_blocked_accounts_are_hidden(
    engine: Engine,
) {
    let Some((pod, app)) = pod(engine).await else {
        return;
    };
    let (bob, bobs) = bob(&pod, "read write").await;
    let mine = pod.token(&app, "read write follow").await;
    let r = pod
        .call(
            "POST",
            &format!("/api/v1/accounts/{bob}/follow"),
            Some(&mine),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // A list of mine with bob; bob's list is not mine to stream.
    let r = pod
        .call(
            "POST",
            "/api/v1/lists",
            Some(&mine),
            Some(serde_json::json!({"title": "friends"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let list = r.body["id"].as_str().expect("id").to_owned();
    let r = pod
        .call(
            "POST",
            &format!("/api/v1/lists/{list}/accounts"),
            Some(&mine),
            Some(serde_json::json!({"account_ids": [bob.to_string()]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = pod
        .call(
            "POST",
            "/api/v1/lists",
            Some(&bobs),
            Some(serde_json::json!({"title": "bob's"})),
        )
        .await;
    let bobs_list = r.body["id"].as_str().expect("id").to_owned();
    let r = pod
        .call(
            "GET",
            &format!("/api/v1/streaming/list?list={bobs_list}"),
            Some(&mine),
            None,
        )
        .await;
    // Answered as a list that does not exist: which lists exist is not told.
    assert_eq!(r.status, 404, "{}", r.text);
    let mut listed = Open::get(&pod, &format!("/api/v1/streaming/list?list={list}"), &mine).await;
    assert!(listed.seen.starts_with("HTTP/1.1 200"), "{}", listed.seen);
    let mut direct = Open::get(&pod, "/api/v1/streaming/direct", &mine).await;

    let mut user = Open::get(&pod, "/api/v1/streaming/user", &mine).await;
    assert!(user.seen.starts_with("HTTP/1.1 200"), "{}", user.seen);
    // Without read:notifications, the user stream has no notifications.
    let statuses_only = pod.token(&app, "read:statuses").await;
    let mut home_only = Open::get(&pod, "/api/v1/streaming/user", &statuses_only).await;
    let mut public = Open::get(&pod, "/api/v1/streaming/public", &mine).await;

    let first = post_status(
        &pod,
        &bobs,
        serde_json::json!({
            "status": format!("hi @{}", pod_kit::testing::USER),
            "visibility": "public",
        }),
    )
    .await;
    assert!(user.until("event: notification").await, "{}", user.seen);
    assert!(user.until("event: update").await, "{}", user.seen);
    assert!(user.until(&status_uri(&first)).await, "{}", user.seen);
    assert!(home_only.until(&status_uri(&first)).await);
    assert!(public.until(&status_uri(&first)).await);
    assert!(listed.until(&status_uri(&first)).await);
    let secret = post_status(
        &pod,
        &bobs,
        serde_json::json!({
            "status": format!("psst @{}", pod_kit::testing::USER),
            "visibility": "direct",
        }),
    )
    .await;
    assert!(direct.until(&status_uri(&secret)).await);
    // As Mastodon sends it there: a conversation, with the other
    // participant, and only the direct status.
    assert_eq!(
        direct.seen.matches("event: conversation").count(),
        1,
        "a public status is not direct: {}",
        direct.seen
    );
    assert!(!direct.seen.contains("event: update"), "{}", direct.seen);
    assert!(
        direct.seen.contains(r#"\"unread\":true"#) || direct.seen.contains(r#""unread":true"#),
        "{}",
        direct.seen
    );
    assert!(direct.seen.contains("last_status"), "{}", direct.seen);

    // Blocked (after the public stream opened: a new stream hides bob).
    let r = pod
        .call(
            "POST",
            &format!("/api/v1/accounts/{bob}/block"),
            Some(&mine),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut hiding = Open::get(&pod, "/api/v1/streaming/public", &mine).await;
    let hidden = post_status(
        &pod,
        &bobs,
        serde_json::json!({"status": "hidden from the blocker", "visibility": "public"}),
    )
    .await;
    let own = post_status(
        &pod,
        &mine,
        serde_json::json!({"status": "my own", "visibility": "public"}),
    )
    .await;
    assert!(hiding.until(&status_uri(&own)).await);
    assert!(
        !hiding.seen.contains(&status_uri(&hidden)),
        "{}",
        hiding.seen
    );
    // The stream opened before the block hides bob as well: the relations
    // are read as they are when each event comes.
    assert!(public.until(&status_uri(&own)).await);
    assert!(
        !public.seen.contains(&status_uri(&hidden)),
        "{}",
        public.seen
    );

    // A muted account I follow stays out of my home stream, as it stays out
    // of GET /api/v1/timelines/home.
    let client = TestClient::<MastodonPod>::new(pod.database(), &pod_kit::Settings::new(&pod.base));
    let carol = client.create_user("carol").await;
    let carols = client.user_token(carol, "read write").await;
    for action in ["follow", "mute"] {
        let r = pod
            .call(
                "POST",
                &format!("/api/v1/accounts/{carol}/{action}"),
                Some(&mine),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{action}: {}", r.text);
    }
    let muted = post_status(
        &pod,
        &carols,
        serde_json::json!({"status": "muted", "visibility": "public"}),
    )
    .await;
    let again = post_status(
        &pod,
        &mine,
        serde_json::json!({"status": "mine again", "visibility": "public"}),
    )
    .await;
    assert!(user.until(&status_uri(&again)).await, "{}", user.seen);
    assert!(!user.seen.contains(&status_uri(&muted)), "{}", user.seen);
    let r = pod
        .call("GET", "/api/v1/timelines/home", Some(&mine), None)
        .await;
    assert!(
        !r.text.contains(&status_uri(&muted)),
        "REST agrees: {}",
        r.text
    );
    assert!(
        !home_only.seen.contains("event: notification"),
        "{}",
        home_only.seen
    );
}

/// A WebSocket holds at most 64 subscriptions (each a hub receiver); the
/// 65th is refused, and the socket goes on.
async fn subscriptions_per_socket_are_bounded(engine: Engine) {
    let Some((pod, app)) = pod(engine).await else {
        return;
    };
    let reader = pod.token(&app, "read:statuses").await;
    let mut client = connect_bearer(&pod, &reader).await;
    for n in 0..65 {
        send(
            &mut client,
            serde_json::json!({"type": "subscribe", "stream": "hashtag", "tag": format!("t{n}")}),
        )
        .await;
    }
    let refused = next_text(&mut client).await;
    assert_eq!(refused["status"], 429, "{refused}");
    // Unsubscribing one makes room again.
    send(
        &mut client,
        serde_json::json!({"type": "unsubscribe", "stream": "hashtag", "tag": "t0"}),
    )
    .await;
    send(
        &mut client,
        serde_json::json!({"type": "subscribe", "stream": "hashtag", "tag": "again"}),
    )
    .await;
    send(
        &mut client,
        serde_json::json!({"type": "subscribe", "stream": "hashtag", "tag": "over"}),
    )
    .await;
    assert_eq!(next_text(&mut client).await["status"], 429, "full again");

    // Messages are bounded too (each may cost a database query): past a
    // burst of 100, a 429 and the message is not handled.
    let mut client = {
        let mut request = format!("ws://{}/api/v1/streaming", authority(&pod))
            .into_client_request()
            .expect("request");
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {reader}").parse().expect("header"),
        );
        tokio_tungstenite::connect_async(request)
            .await
            .expect("connect")
            .0
    };
    // 130 at once: the burst, then refusals (a slow machine may earn a few
    // more in between, at 5 a second).
    for _ in 0..130 {
        send(
            &mut client,
            serde_json::json!({"type": "subscribe", "stream": "nope"}),
        )
        .await;
    }
    for n in 0..100 {
        assert_eq!(
            next_text(&mut client).await["status"],
            400,
            "message {n} is handled"
        );
    }
    let mut refused = None;
    for _ in 100..130 {
        let reply = next_text(&mut client).await;
        if reply["status"] == 429 {
            refused = Some(reply);
            break;
        }
    }
    let refused = refused.expect("a refusal past the burst");
    assert_eq!(refused["error"], "Too many messages", "{refused}");
}

/// A suspended (disabled) account's open stream ends, when the suspension
/// comes from another process's store handle (the operator's command line):
/// on PostgreSQL through the database's notice at once; on SQLite, which
/// has no notices, at the next periodic check once the token cache (1 s
/// here) has let the validation go.
async fn a_suspended_account_s_stream_ends(engine: Engine) {
    use oauth_server::primitives::Store;
    let Some(pod) = TestPod::start_engine::<MastodonPod>(engine, |mut s| {
        s.token_cache_ttl = Duration::from_secs(1);
        s
    })
    .await
    else {
        return;
    };
    let app = pod.register("read write follow profile").await;
    let reader = pod.token(&app, "read:statuses").await;
    let mut public = Open::get(&pod, "/api/v1/streaming/public", &reader).await;
    assert!(public.seen.starts_with("HTTP/1.1 200"), "{}", public.seen);
    let store = pod.database().store;
    let user = store
        .user_by_name(pod_kit::testing::USER)
        .await
        .expect("query")
        .expect("user")
        .id;
    assert!(store.set_disabled(user, true).await.expect("disable"));
    // Bounded: the notice (PostgreSQL), or the 5 s check plus the 1 s cache.
    let mut buf = [0u8; 4096];
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match public.socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the suspended account's stream ended");
    // And a new one is refused.
    let refused = pod
        .call(
            "GET",
            "/api/v1/accounts/verify_credentials",
            Some(&reader),
            None,
        )
        .await;
    assert_eq!(refused.status, 401, "{}", refused.text);
}

pod_kit::both_engines!(
    sqlite: Engine::on_sqlite,
    postgres: Engine::on_postgres;
    a_suspended_account_s_stream_ends,
    subscriptions_per_socket_are_bounded,
    an_sse_stream_receives_posted_statuses_until_its_token_is_revoked,
    each_stream_checks_its_scopes_and_refuses_app_tokens,
    the_websocket_checks_each_subscription_and_closes_on_revocation,
    the_user_stream_has_home_statuses_and_notifications_and_blocked_accounts_are_hidden,
);
