//! Open streams under the enforcement of every route, over a real socket:
//! an SSE stream ends when its token is revoked (with and without a
//! notice), expires or loses its scope; channels chosen at run time are
//! checked before anything is sent; stream tokens may come in the query.

use std::convert::Infallible;
use std::time::{Duration, SystemTime};

use axum::extract::Query;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use scope_runtime::prelude::*;
use scope_runtime::stream::{ChannelTable, StreamKind, Watch};
use scope_runtime::token::InMemoryValidator;
use scope_runtime::{BearerToken, scope_channels};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

scope_hierarchy! {
    /// The test's scopes.
    pub Scope {
        #[default]
        read { statuses, notifications },
        write { statuses },
    }
}

scope_channels! {
    /// The test's channels.
    pub Channels: Scope {
        /// Statuses.
        STATUSES = "statuses" => "read:statuses", token = user;
        /// Notifications.
        NOTIFICATIONS = "notifications" => "read:notifications", token = user;
    }
}

/// Ticks every 20 ms.
fn ticks() -> impl futures_core::Stream<Item = Result<Event, Infallible>> {
    stream::unfold(0u64, |n| async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Some((
            Ok(Event::default().event("tick").data(n.to_string())),
            n + 1,
        ))
    })
}

/// The statuses channel.
#[requires_scope(stream = sse, channel = Channels::STATUSES)]
async fn statuses(
    watch: Watch<Scope>,
) -> Sse<impl futures_core::Stream<Item = Result<Event, Infallible>>> {
    Sse::new(watch.until(ticks()))
}

#[derive(serde::Deserialize)]
struct Pick {
    stream: String,
}

/// A channel chosen by the query.
#[requires_scope(authenticated, token = user, stream = sse, channels = Channels)]
async fn pick(mut watch: Watch<Scope>, Query(pick): Query<Pick>) -> Response {
    let Some(channel) = Channels::find(&pick.stream) else {
        return (axum::http::StatusCode::NOT_FOUND, "no such channel").into_response();
    };
    if let Err(refused) = watch.admit(channel) {
        return refused.response(Default::default(), None);
    }
    Sse::new(watch.until(ticks())).into_response()
}

/// Public statuses: anonymous streams have nothing to watch.
#[requires_scope("read:statuses", token = optional, stream = sse)]
async fn public(watch: Option<Watch<Scope>>) -> Response {
    match watch {
        Some(watch) => Sse::new(watch.until(ticks())).into_response(),
        None => Sse::new(ticks()).into_response(),
    }
}

/// Takes a Watch on a REST route: a server's mistake.
#[requires_scope("read:statuses")]
async fn misdeclared(_watch: Watch<Scope>) -> &'static str {
    "unreachable"
}

/// The statuses channel served from a `select!` loop that wakes every
/// 10 ms (a WebSocket handler's shape): `ended()` is dropped and called
/// again in every turn.
#[requires_scope(stream = sse, channel = Channels::STATUSES)]
async fn selecting(mut watch: Watch<Scope>) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Event, Infallible>>(16);
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_millis(10));
        let mut n = 0u64;
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    n += 1;
                    if tx.send(Ok(Event::default().event("tick").data(n.to_string()))).await.is_err() {
                        return;
                    }
                }
                _ = watch.ended() => return,
            }
        }
    });
    let events = stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) });
    Sse::new(events).into_response()
}

/// Echoes its query (as a handler that logs its URI would write it).
#[requires_scope("read:statuses", stream = sse)]
async fn query(_watch: Watch<Scope>, uri: axum::http::Uri) -> String {
    uri.query().unwrap_or_default().to_owned()
}

/// Not a stream.
#[requires_scope("read:statuses")]
async fn rest() -> &'static str {
    "ok"
}

scope_routes! {
    /// The test's routes.
    pub Api {
        GET "/streaming/statuses" => statuses,
        GET "/streaming" => pick,
        GET "/rest" => rest,
        GET "/streaming/public" => public,
        GET "/misdeclared" => misdeclared,
        GET "/streaming/select" => selecting,
        GET "/streaming/query" => query,
    }
}

struct Server {
    addr: std::net::SocketAddr,
    tokens: InMemoryValidator<Scope>,
    enforcer: Enforcer<Scope>,
}

async fn serve(recheck: Duration) -> Server {
    let tokens = InMemoryValidator::new();
    let enforcer = Enforcer::new(tokens.clone()).stream_recheck(recheck);
    let app = Api::router(enforcer.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("test io");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("test io") });
    Server {
        addr,
        tokens,
        enforcer,
    }
}

fn user(scopes: &str) -> Principal<Scope> {
    Principal::user("1", "app", scopes.parse().expect("scopes"))
}

/// An HTTP/1.1 GET on a fresh connection; the status line and what
/// arrives until the connection ends or `bound` passes (`ended`).
struct Reply {
    head: String,
    body: String,
    ended: bool,
}

async fn get(
    addr: std::net::SocketAddr,
    path: &str,
    token: Option<&str>,
    bound: Duration,
) -> Reply {
    let mut socket = TcpStream::connect(addr).await.expect("test io");
    let auth = token.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
    let request = format!("GET {path} HTTP/1.1\r\nhost: test\r\n{auth}connection: close\r\n\r\n");
    socket.write_all(request.as_bytes()).await.expect("test io");
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + bound;
    let ended = loop {
        match tokio::time::timeout_at(deadline, socket.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => bytes.extend_from_slice(&buf[..n]),
            Err(_) => break false,
        }
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Reply {
        head: head.to_owned(),
        body: body.to_owned(),
        ended,
    }
}

/// Opens a stream, waits for its first events, then does `act` and
/// returns whether the stream ended within `bound` of it (the stream must
/// have answered 200 with events either way).
async fn ends_after(
    server: &Server,
    path: &str,
    token: &str,
    act: impl FnOnce(),
    bound: Duration,
) -> bool {
    let addr = server.addr;
    let (path, token) = (path.to_owned(), token.to_owned());
    let lead = Duration::from_millis(150);
    let reader = tokio::spawn(async move { get(addr, &path, Some(&token), lead + bound).await });
    // Let the first events arrive.
    tokio::time::sleep(lead).await;
    act();
    let reply = reader.await.expect("reader");
    assert!(reply.head.starts_with("HTTP/1.1 200"), "{}", reply.head);
    assert!(
        reply.body.contains("event: tick"),
        "events flowed first: {}",
        reply.body
    );
    reply.ended
}

#[tokio::test]
async fn a_revocation_notice_ends_the_stream_at_once() {
    // No periodic check within the test: only the notice can end it.
    let server = serve(Duration::from_secs(3600)).await;
    server.tokens.insert("t", user("read"));
    let ended = ends_after(
        &server,
        "/streaming/statuses",
        "t",
        || {
            server.tokens.revoke("t");
            server
                .enforcer
                .open_streams()
                .revoked(BearerToken::new("t").digest());
        },
        Duration::from_secs(2),
    )
    .await;
    assert!(ended, "the stream ended within 2 s of the notice");
    assert_eq!(server.enforcer.open_streams().streams(), 0);
}

#[tokio::test]
async fn without_a_notice_the_periodic_check_ends_it() {
    let server = serve(Duration::from_millis(100)).await;
    server.tokens.insert("t", user("read"));
    let ended = ends_after(
        &server,
        "/streaming/statuses",
        "t",
        || {
            server.tokens.revoke("t");
        },
        Duration::from_secs(2),
    )
    .await;
    assert!(ended, "the stream ended within 2 s (checks every 100 ms)");
}

#[tokio::test]
async fn a_stream_ends_when_its_token_expires() {
    let server = serve(Duration::from_secs(3600)).await;
    let expiring = user("read").expires_at(SystemTime::now() + Duration::from_millis(600));
    server.tokens.insert("t", expiring);
    let ended = ends_after(
        &server,
        "/streaming/statuses",
        "t",
        || {},
        Duration::from_secs(3),
    )
    .await;
    assert!(ended, "the stream ended at the token's expiry");
}

#[tokio::test]
async fn a_stream_ends_when_its_token_loses_the_channel_scope() {
    let server = serve(Duration::from_secs(3600)).await;
    server
        .tokens
        .insert("t", user("read:statuses read:notifications"));
    let ended = ends_after(
        &server,
        "/streaming?stream=notifications",
        "t",
        || {
            // Same token, fewer scopes; then "something changed".
            server.tokens.insert("t", user("read:statuses"));
            server.enforcer.open_streams().recheck_all();
        },
        Duration::from_secs(2),
    )
    .await;
    assert!(ended, "the admitted channel is checked again");
    // A token keeping its scopes keeps its stream.
    server.tokens.insert("k", user("read"));
    let kept = ends_after(
        &server,
        "/streaming?stream=notifications",
        "k",
        || server.enforcer.open_streams().recheck_all(),
        Duration::from_millis(500),
    )
    .await;
    assert!(!kept, "a stream whose token still allows it stays open");
}

#[tokio::test]
async fn channels_are_checked_before_anything_is_sent() {
    let server = serve(Duration::from_secs(3600)).await;
    server.tokens.insert("reader", user("read:statuses"));
    server.tokens.insert(
        "app",
        Principal::app("app", "read".parse().expect("scopes")),
    );
    let short = Duration::from_millis(300);
    let refused = get(
        server.addr,
        "/streaming?stream=notifications",
        Some("reader"),
        short,
    )
    .await;
    assert!(refused.head.starts_with("HTTP/1.1 403"), "{}", refused.head);
    assert!(
        refused.head.contains("scope=\"read:notifications\""),
        "{}",
        refused.head
    );
    assert!(
        !refused.body.contains("event:"),
        "nothing of the channel was sent"
    );
    let allowed = get(
        server.addr,
        "/streaming?stream=statuses",
        Some("reader"),
        short,
    )
    .await;
    assert!(allowed.head.starts_with("HTTP/1.1 200"), "{}", allowed.head);
    assert!(allowed.body.contains("event: tick"));
    // Every channel here needs a user token.
    let app = get(server.addr, "/streaming/statuses", Some("app"), short).await;
    assert!(app.head.starts_with("HTTP/1.1 403"), "{}", app.head);
    let anonymous = get(server.addr, "/streaming/statuses", None, short).await;
    assert!(
        anonymous.head.starts_with("HTTP/1.1 401"),
        "{}",
        anonymous.head
    );
}

#[tokio::test]
async fn stream_routes_take_the_token_from_the_query_and_rest_routes_do_not() {
    let server = serve(Duration::from_secs(3600)).await;
    server.tokens.insert("q+t/", user("read"));
    let short = Duration::from_millis(300);
    let stream = get(
        server.addr,
        "/streaming/statuses?access_token=q%2Bt%2F",
        None,
        short,
    )
    .await;
    assert!(stream.head.starts_with("HTTP/1.1 200"), "{}", stream.head);
    // The handler never sees the token in its query.
    let echoed = get(
        server.addr,
        "/streaming/query?access_token=q%2Bt%2F&x=1",
        None,
        short,
    )
    .await;
    assert!(echoed.head.starts_with("HTTP/1.1 200"), "{}", echoed.head);
    assert!(echoed.body.contains("x=1"), "{}", echoed.body);
    assert!(!echoed.body.contains("access_token"), "{}", echoed.body);
    // Nor a stray one sent beside the Authorization header's.
    server.tokens.insert("header", user("read"));
    let beside = get(
        server.addr,
        "/streaming/query?access_token=stray&x=2",
        Some("header"),
        short,
    )
    .await;
    assert!(beside.head.starts_with("HTTP/1.1 200"), "{}", beside.head);
    assert!(beside.body.contains("x=2"), "{}", beside.body);
    assert!(!beside.body.contains("stray"), "{}", beside.body);
    let rest = get(server.addr, "/rest?access_token=q%2Bt%2F", None, short).await;
    assert!(rest.head.starts_with("HTTP/1.1 401"), "{}", rest.head);
    let twice = get(
        server.addr,
        "/streaming/statuses?access_token=a&access_token=b",
        None,
        short,
    )
    .await;
    assert!(twice.head.starts_with("HTTP/1.1 401"), "{}", twice.head);
    assert!(
        twice
            .head
            .contains("access_token parameter is not a single bearer token"),
        "refused as malformed, not as missing: {}",
        twice.head
    );
}

#[tokio::test]
async fn optional_streams_watch_only_tokens_and_rest_routes_get_no_watch() {
    let server = serve(Duration::from_secs(3600)).await;
    server.tokens.insert("t", user("read"));
    let short = Duration::from_millis(300);
    let anonymous = get(server.addr, "/streaming/public", None, short).await;
    assert!(
        anonymous.head.starts_with("HTTP/1.1 200"),
        "{}",
        anonymous.head
    );
    assert!(anonymous.body.contains("event: tick"));
    let ended = ends_after(
        &server,
        "/streaming/public",
        "t",
        || {
            server.tokens.revoke("t");
            server
                .enforcer
                .open_streams()
                .revoked(BearerToken::new("t").digest());
        },
        Duration::from_secs(2),
    )
    .await;
    assert!(ended, "a token sent to an optional stream is watched");
    server.tokens.insert("u", user("read"));
    let misdeclared = get(server.addr, "/misdeclared", Some("u"), short).await;
    assert!(
        misdeclared.head.starts_with("HTTP/1.1 500"),
        "{}",
        misdeclared.head
    );
}

#[tokio::test]
async fn a_notice_is_not_lost_when_ended_is_dropped_while_a_slow_check_runs() {
    let tokens = InMemoryValidator::<Scope>::new();
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let slow = {
        let (tokens, calls) = (tokens.clone(), calls.clone());
        move |token: String| {
            let (tokens, calls) = (tokens.clone(), calls.clone());
            async move {
                calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                // Five turns of the handler's loop per check.
                tokio::time::sleep(Duration::from_millis(50)).await;
                scope_runtime::TokenValidator::validate(&tokens, &BearerToken::new(token)).await
            }
        }
    };
    let enforcer = Enforcer::new(slow).stream_recheck(Duration::from_secs(3600));
    let app = Api::router(enforcer.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    tokens.insert("t", user("read"));
    let server = Server {
        addr,
        tokens: tokens.clone(),
        enforcer: enforcer.clone(),
    };
    let ended = ends_after(
        &server,
        "/streaming/select",
        "t",
        || {
            tokens.revoke("t");
            enforcer
                .open_streams()
                .revoked(BearerToken::new("t").digest());
        },
        Duration::from_secs(2),
    )
    .await;
    assert!(
        ended,
        "the notice ended the stream though ended() was dropped every 10 ms"
    );
    // The request's check, the watch's first, the notice's: not one per turn.
    let calls = calls.load(std::sync::atomic::Ordering::Relaxed);
    assert!(calls <= 4, "{calls} validations: checks were restarted");
}

#[tokio::test]
async fn streams_per_token_are_bounded() {
    let tokens = InMemoryValidator::new();
    let enforcer = Enforcer::new(tokens.clone())
        .with_open_streams(scope_runtime::stream::OpenStreams::per_token(1));
    let app = Api::router(enforcer.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("test io");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("test io") });
    tokens.insert("t", user("read"));
    tokens.insert("u", user("read"));
    let first = tokio::spawn(async move {
        get(
            addr,
            "/streaming/statuses",
            Some("t"),
            Duration::from_millis(800),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let short = Duration::from_millis(300);
    let second = get(addr, "/streaming/statuses", Some("t"), short).await;
    assert!(second.head.starts_with("HTTP/1.1 429"), "{}", second.head);
    let other = get(addr, "/streaming/statuses", Some("u"), short).await;
    assert!(
        other.head.starts_with("HTTP/1.1 200"),
        "another token is not locked out"
    );
    assert!(
        first
            .await
            .expect("test io")
            .head
            .starts_with("HTTP/1.1 200")
    );
}

#[test]
fn the_table_knows_its_streams_and_channels() {
    let routes = Api::ROUTES;
    assert_eq!(routes[0].stream(), Some(StreamKind::Sse));
    assert_eq!(routes[0].requirement().to_string(), "read:statuses");
    assert_eq!(routes[0].access(), scope_runtime::route::Access::User);
    assert_eq!(routes[0].channels()[0].name(), "statuses");
    assert_eq!(routes[1].channels().len(), Channels::CHANNELS.len());
    assert_eq!(routes[2].stream(), None);
    assert_eq!(routes[3].access(), scope_runtime::route::Access::Optional);
}

#[test]
fn the_docs_list_streams_and_their_channels() {
    let table = scope_runtime::docgen::endpoint_table(Api::ROUTES, "test");
    assert!(
        table.contains("### `GET /streaming` (Server-Sent Events)"),
        "{table}"
    );
    assert!(
        table.contains("| `notifications` | `read:notifications` | user token | Notifications. |"),
        "{table}"
    );
    let json = scope_runtime::docgen::json(Api::ROUTES);
    assert_eq!(json["routes"][0]["stream"], "sse");
    assert_eq!(json["routes"][1]["channels"][1]["name"], "notifications");
    assert!(json["routes"][2].get("stream").is_none());
}
