//! A WebSocket stream under the enforcement of every route, with a real
//! client (tokio-tungstenite): the token as `Sec-WebSocket-Protocol` (what
//! browsers can send), echoed in the handshake; channels chosen by
//! `subscribe` messages, each checked before anything of it is sent; a
//! revocation ends the socket with a close frame.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use scope_runtime::prelude::*;
use scope_runtime::stream::{ChannelTable, Watch};
use scope_runtime::token::InMemoryValidator;
use scope_runtime::{BearerToken, scope_channels};
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

scope_hierarchy! {
    /// The test's scopes.
    pub Scope {
        #[default]
        read { statuses, notifications },
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

/// The socket: `{"type":"subscribe","stream":..}` admits a channel and
/// answers `{"event":"subscribed",..}`, or an error event for a channel
/// the token may not read.
#[requires_scope(authenticated, token = user, stream = websocket, channels = Channels)]
async fn socket(watch: Watch<Scope>, upgrade: WebSocketUpgrade) -> Response {
    let upgrade = match watch.selected_protocol() {
        Some(protocol) => upgrade.protocols([protocol.to_owned()]),
        None => upgrade,
    };
    upgrade.on_upgrade(move |socket| serve(watch, socket))
}

async fn serve(mut watch: Watch<Scope>, mut socket: WebSocket) {
    loop {
        tokio::select! {
            // The end first: nothing more is sent once the stream must end.
            biased;
            ended = watch.ended() => {
                let frame = CloseFrame { code: close_code::POLICY, reason: ended.reason().into() };
                // Bounded: a peer that does not read gets its connection dropped.
                let close = socket.send(Message::Close(Some(frame)));
                let _ = tokio::time::timeout(std::time::Duration::from_secs(1), close).await;
                return;
            }
            message = socket.recv() => {
                let Some(Ok(Message::Text(text))) = message else { return };
                let request: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                let name = request["stream"].as_str().unwrap_or_default();
                let reply = match Channels::find(name) {
                    None => serde_json::json!({"error": "Unknown stream type", "status": 400}),
                    Some(channel) => match watch.admit(channel) {
                        Ok(()) => serde_json::json!({"event": "subscribed", "stream": [name]}),
                        Err(refused) => serde_json::json!({
                            "error": "Access token does not have the required scopes",
                            "status": refused.status(Default::default()).as_u16(),
                        }),
                    },
                };
                // A send to a peer that stopped reading must not keep the
                // stream past its end: race it against the check.
                let send = socket.send(Message::Text(reply.to_string().into()));
                tokio::select! {
                    biased;
                    _ = watch.ended() => return,
                    sent = send => if sent.is_err() { return },
                }
            }
        }
    }
}

scope_routes! {
    /// The test's routes.
    pub Api {
        GET "/streaming" => socket,
    }
}

type Client =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(
    addr: std::net::SocketAddr,
    protocol: &str,
) -> Result<(Client, Option<String>), tungstenite::Error> {
    let mut request = format!("ws://{addr}/streaming").into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocol.parse().expect("header"));
    let (client, response) = tokio_tungstenite::connect_async(request).await?;
    let echoed = response
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok((client, echoed))
}

async fn ask(client: &mut Client, stream: &str) -> serde_json::Value {
    let request = serde_json::json!({"type": "subscribe", "stream": stream}).to_string();
    client
        .send(tungstenite::Message::text(request))
        .await
        .expect("send");
    match tokio::time::timeout(Duration::from_secs(5), client.next()).await {
        Ok(Some(Ok(tungstenite::Message::Text(text)))) => {
            serde_json::from_str(&text).expect("json")
        }
        other => panic!("no answer: {other:?}"),
    }
}

#[tokio::test]
async fn subscriptions_are_checked_and_a_revocation_closes_the_socket() {
    let tokens = InMemoryValidator::new();
    tokens.insert(
        "reader",
        Principal::user("1", "app", "read:statuses".parse().expect("scopes")),
    );
    tokens.insert(
        "app",
        Principal::app("app", "read".parse().expect("scopes")),
    );
    // No periodic check within the test: only the notice can end it.
    let enforcer = Enforcer::new(tokens.clone()).stream_recheck(Duration::from_secs(3600));
    let app = Api::router(enforcer.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });

    // An app token, and an unknown token, never get a socket.
    for refused in ["app", "nope"] {
        match connect(addr, refused).await {
            Err(tungstenite::Error::Http(response)) => {
                assert!(
                    response.status().is_client_error(),
                    "{refused}: {}",
                    response.status()
                )
            }
            other => panic!("{refused}: {:?}", other.map(|(_, p)| p)),
        }
    }

    let (mut client, echoed) = connect(addr, "reader").await.expect("connect");
    assert_eq!(echoed.as_deref(), Some("reader"), "the protocol is echoed");
    let ok = ask(&mut client, "statuses").await;
    assert_eq!(ok["event"], "subscribed");
    let refused = ask(&mut client, "notifications").await;
    assert_eq!(refused["status"], 403, "{refused}");
    assert_eq!(ask(&mut client, "nothing").await["status"], 400);

    tokens.revoke("reader");
    enforcer
        .open_streams()
        .revoked(BearerToken::new("reader").digest());
    let close = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(message) = client.next().await {
            if let Ok(tungstenite::Message::Close(frame)) = message {
                return frame;
            }
        }
        None
    })
    .await
    .expect("closed within 2 s of the notice")
    .expect("a close frame");
    assert_eq!(u16::from(close.code), close_code::POLICY);
    assert_eq!(close.reason.as_str(), "The access token was revoked");
    assert_eq!(enforcer.open_streams().streams(), 0);
}
