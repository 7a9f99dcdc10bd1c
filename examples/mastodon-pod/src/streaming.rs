//! The streaming API: Server-Sent Events per channel and one WebSocket
//! with `subscribe` messages, each channel under the scopes Mastodon's
//! streaming server checks, each stream ended when its token stops
//! allowing it (revoked, expired, its user disabled).
//!
//! Events fan out through the [`Hub`]: one bounded broadcast channel per
//! stream key (`timeline:public`, `timeline:<account>`, ...), created when
//! a stream opens and dropped when nobody listens any more.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use futures_util::stream::{AbortHandle, Abortable, BoxStream, SelectAll, abortable};
use scope_runtime::stream::{Channel, ChannelTable, Ended, Watch};
use scope_runtime::{requires_scope, scope_channels};
use sqlx::AnyPool;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::time::Instant;

use crate::Scope;
use crate::support::{ApiError, Ctx, parse_id};

scope_channels! {
    /// The channels of the streaming API, with the scopes Mastodon's
    /// streaming server checks for each.
    pub(crate) Channels: Scope {
        /// The home timeline (and notifications, with `read:notifications`).
        USER = "user" => "read:statuses", token = user;
        /// The user's notifications.
        USER_NOTIFICATION = "user:notification" => "read:notifications", token = user;
        /// Public statuses.
        PUBLIC = "public" => "read:statuses", token = user;
        /// Public statuses of this server.
        PUBLIC_LOCAL = "public:local" => "read:statuses", token = user;
        /// Public statuses of other servers.
        PUBLIC_REMOTE = "public:remote" => "read:statuses", token = user;
        /// Public statuses with a hashtag.
        HASHTAG = "hashtag" => "read:statuses", token = user;
        /// Public statuses of this server with a hashtag.
        HASHTAG_LOCAL = "hashtag:local" => "read:statuses", token = user;
        /// The statuses of a list of the user.
        LIST = "list" => "read:statuses", token = user;
        /// Direct conversations of the user.
        DIRECT = "direct" => "read:statuses", token = user;
    }
}

/// How many events a public timeline's key holds for a slow subscriber.
/// tokio's broadcast channel allocates every slot up front (~96 bytes
/// each), so the other keys hold fewer.
const CAPACITY: usize = 256;

/// How many events any other key (an account's home, notifications and
/// direct messages, a list, a hashtag) holds for a slow subscriber.
const PERSONAL_CAPACITY: usize = 32;

/// The longest hashtag a stream follows (Mastodon's tags are at most a few
/// dozen characters); a longer one is a 400.
const MAX_TAG: usize = 128;

/// Subscriptions one WebSocket may hold at once (Mastodon sets none; a
/// client subscribes to a handful of timelines and tags).
const MAX_SUBSCRIPTIONS: usize = 64;

/// The WebSocket's read buffer. tungstenite zero-fills its whole read
/// buffer (128 KiB by default) on every read, so each socket would keep
/// that much resident; a client sends only small `subscribe` messages,
/// and a larger frame grows the buffer up to [`MAX_MESSAGE`].
const READ_BUFFER: usize = 256;

/// The largest message a client may send (default: 64 MiB, which one
/// socket could make the pod hold); Mastodon's messages are a few
/// hundred bytes.
const MAX_MESSAGE: usize = 64 * 1024;

/// Bytes queued for a socket that does not read before sends fail
/// (default: unbounded).
const MAX_WRITE_BUFFER: usize = 1024 * 1024;

/// One event of a stream, as Mastodon's streaming API names it
/// (`update`, `delete`, `notification`, `status.update`).
#[derive(Clone, Debug)]
pub(crate) struct StreamEvent {
    pub(crate) event: &'static str,
    pub(crate) payload: Arc<str>,
    /// `payload` as a JSON string (quoted, escaped), for WebSocket
    /// messages: escaped once per event, not once per subscriber.
    quoted: Arc<str>,
    /// The account the event is about, for subscribers that hide it.
    pub(crate) author: Option<i64>,
}

impl StreamEvent {
    /// The event `event` carrying `payload` (an entity's JSON, or an id).
    pub(crate) fn new(event: &'static str, payload: String, author: Option<i64>) -> Self {
        // A string always serializes; the fallback is never taken.
        let quoted = serde_json::to_string(&payload).unwrap_or_else(|_| "\"\"".into());
        StreamEvent {
            event,
            payload: payload.into(),
            quoted: quoted.into(),
            author,
        }
    }

    /// The WebSocket message of this event for the subscription `stream`
    /// (its JSON array, as [`stream_json`] writes it), as Mastodon sends it:
    /// `{"stream":[..],"event":"update","payload":"<the entity's JSON>"}`.
    fn message(&self, stream: &str) -> String {
        format!(
            "{{\"stream\":{stream},\"event\":\"{}\",\"payload\":{}}}",
            self.event, self.quoted
        )
    }
}

/// A subscription's `stream` as a JSON array.
fn stream_json(stream: &[String]) -> String {
    serde_json::Value::from(stream.to_vec()).to_string()
}

/// The fan-out: a bounded broadcast channel per stream key, created
/// lazily, dropped when it has no receivers.
#[derive(Clone, Debug, Default)]
pub(crate) struct Hub {
    keys: Arc<Mutex<Keys>>,
    relations: Arc<Relations>,
}

/// When accounts' blocks and mutes changed, for the public and hashtag
/// streams that hide what their viewer would not see: a global epoch read
/// on every event (one atomic load), and a generation per account looked
/// up only when the epoch moved.
#[derive(Debug, Default)]
struct Relations {
    epoch: std::sync::atomic::AtomicU64,
    generations: Mutex<HashMap<i64, u64>>,
}

#[derive(Debug, Default)]
struct Keys {
    senders: HashMap<String, broadcast::Sender<StreamEvent>>,
    /// The number of keys after the last sweep of unheard ones.
    swept: usize,
}

impl Hub {
    /// Listens to `key`.
    pub(crate) fn subscribe(&self, key: &str) -> broadcast::Receiver<StreamEvent> {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        // Keys nobody listens to are dropped when published to; those never
        // published to again go in a sweep each time the map doubles
        // (amortised: a subscription does not scan every key).
        if keys.senders.len() >= 2 * keys.swept.max(64) {
            keys.senders.retain(|_, tx| tx.receiver_count() > 0);
            keys.swept = keys.senders.len();
        }
        // The public timelines are few and busy; every other key (one per
        // account, list and hashtag, which clients choose) holds fewer.
        let capacity = if key.starts_with("timeline:public") {
            CAPACITY
        } else {
            PERSONAL_CAPACITY
        };
        keys.senders
            .entry(key.to_owned())
            .or_insert_with(|| broadcast::channel(capacity).0)
            .subscribe()
    }

    /// Sends `event` to whoever listens to `key` (nobody: nothing happens).
    pub(crate) fn publish(&self, key: &str, event: StreamEvent) {
        // The sender is cloned out so that waking its receivers (10,000 on
        // a public timeline) does not hold the hub's lock.
        let tx = {
            let keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
            match keys.senders.get(key) {
                Some(tx) => tx.clone(),
                None => return,
            }
        };
        if tx.send(event).is_err() {
            let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
            if keys
                .senders
                .get(key)
                .is_some_and(|tx| tx.receiver_count() == 0)
            {
                keys.senders.remove(key);
            }
        }
    }

    /// Whether anyone listens to `key`.
    pub(crate) fn has(&self, key: &str) -> bool {
        let keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        keys.senders
            .get(key)
            .is_some_and(|tx| tx.receiver_count() > 0)
    }

    /// Says that the blocks or mutes of `accounts` (made by or against
    /// them) changed: their filtered streams read them again before their
    /// next event.
    pub(crate) fn relations_changed(&self, accounts: &[i64]) {
        let mut generations = self
            .relations
            .generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for account in accounts {
            *generations.entry(*account).or_default() += 1;
        }
        self.relations
            .epoch
            .fetch_add(1, std::sync::atomic::Ordering::Release);
    }

    fn relations_epoch(&self) -> u64 {
        self.relations
            .epoch
            .load(std::sync::atomic::Ordering::Acquire)
    }

    fn relations_generation(&self, account: i64) -> u64 {
        let generations = self
            .relations
            .generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        generations.get(&account).copied().unwrap_or(0)
    }

    /// Sends the same event to each of `keys`.
    pub(crate) fn publish_all(&self, keys: &[String], event: &StreamEvent) {
        for key in keys {
            self.publish(key, event.clone());
        }
    }
}

/// The events of a receiver; a lagging receiver skips what it missed.
fn events(rx: broadcast::Receiver<StreamEvent>) -> BoxStream<'static, StreamEvent> {
    futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(event) => return Some((event, rx)),
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .boxed()
}

/// The accounts the viewer blocks or mutes, or who block the viewer:
/// hidden from public and hashtag streams.
async fn hidden(db: &AnyPool, me: i64) -> Result<HashSet<i64>, ApiError> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT target_account_id FROM blocks WHERE account_id = $1 \
         UNION SELECT target_account_id FROM mutes WHERE account_id = $1 \
         UNION SELECT account_id FROM blocks WHERE target_account_id = $1",
    )
    .bind(me)
    .fetch_all(db)
    .await?;
    Ok(ids.into_iter().collect())
}

/// What a channel subscription listens to.
struct Target {
    keys: Vec<String>,
    /// The `stream` of WebSocket messages (`["hashtag", "rust"]`).
    stream: Vec<String>,
    /// Whether blocked and muted accounts are hidden.
    filtered: bool,
}

/// The keys of `channel` for `me`, its `tag` or `list` checked.
async fn resolve(
    db: &AnyPool,
    me: i64,
    channel: &Channel<Scope>,
    tag: Option<&str>,
    list: Option<&str>,
    notifications: bool,
) -> Result<Target, ApiError> {
    let name = channel.name();
    let mut stream = vec![name.to_owned()];
    let mut filtered = false;
    let keys = match name {
        "user" => {
            let mut keys = vec![format!("timeline:{me}")];
            if notifications {
                keys.push(format!("timeline:{me}:notifications"));
            }
            keys
        }
        "user:notification" => vec![format!("timeline:{me}:notifications")],
        "public" | "public:local" | "public:remote" => {
            filtered = true;
            vec![format!("timeline:{name}")]
        }
        "hashtag" | "hashtag:local" => {
            let tag = tag
                .map(|t| t.trim_start_matches('#').to_lowercase())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| ApiError::bad_request("No tag for stream provided"))?;
            if tag.len() > MAX_TAG {
                return Err(ApiError::bad_request("Tag too long"));
            }
            filtered = true;
            stream.push(tag.clone());
            let local = if name == "hashtag:local" {
                ":local"
            } else {
                ""
            };
            vec![format!("timeline:hashtag:{tag}{local}")]
        }
        "list" => {
            let id = list
                .and_then(parse_id)
                .ok_or_else(|| ApiError::bad_request("No list for stream provided"))?;
            // Another's list is answered as one that does not exist (as
            // Mastodon's streaming server does): which lists exist is not told.
            let mine: Option<i64> =
                sqlx::query_scalar("SELECT id FROM lists WHERE id = $1 AND account_id = $2")
                    .bind(id)
                    .bind(me)
                    .fetch_optional(db)
                    .await?;
            if mine.is_none() {
                return Err(ApiError::not_found());
            }
            stream.push(id.to_string());
            vec![format!("timeline:list:{id}")]
        }
        "direct" => vec![format!("timeline:direct:{me}")],
        // A channel added to `Channels` without its keys here streams
        // nothing rather than something else.
        _ => return Err(ApiError::bad_request("Unknown stream type")),
    };
    Ok(Target {
        keys,
        stream,
        filtered,
    })
}

/// The events of `target`. Public and hashtag streams leave out the
/// accounts their viewer blocks or mutes, or who block the viewer, as the
/// relations are when each event comes (personal keys get only what their
/// owner would see: `statuses::stream_keys` filters when publishing).
async fn target_events(
    hub: &Hub,
    db: &AnyPool,
    me: i64,
    target: &Target,
) -> Result<BoxStream<'static, StreamEvent>, ApiError> {
    // One key (most channels): its receiver alone, without a select.
    let merged = match &target.keys[..] {
        [key] => events(hub.subscribe(key)),
        keys => {
            futures_util::stream::select_all(keys.iter().map(|k| events(hub.subscribe(k)))).boxed()
        }
    };
    if !target.filtered {
        return Ok(merged);
    }
    let state = Filtered {
        epoch: hub.relations_epoch(),
        generation: hub.relations_generation(me),
        hidden: hidden(db, me).await?,
        events: merged,
        hub: hub.clone(),
        db: db.clone(),
        me,
    };
    Ok(futures_util::stream::unfold(state, |mut state| async move {
        loop {
            let event = state.events.next().await?;
            state.refresh().await;
            if event.author.is_none_or(|a| !state.hidden.contains(&a)) {
                return Some((event, state));
            }
        }
    })
    .boxed())
}

/// A filtered subscription's view of its viewer's relations.
struct Filtered {
    events: BoxStream<'static, StreamEvent>,
    hidden: HashSet<i64>,
    /// The hub's relations epoch and the viewer's generation when
    /// `hidden` was read.
    epoch: u64,
    generation: u64,
    hub: Hub,
    db: AnyPool,
    me: i64,
}

impl Filtered {
    /// Reads the hidden accounts again if the viewer's relations changed
    /// (a database that cannot answer keeps the last set).
    async fn refresh(&mut self) {
        let epoch = self.hub.relations_epoch();
        if epoch == self.epoch {
            return;
        }
        let generation = self.hub.relations_generation(self.me);
        if generation == self.generation {
            self.epoch = epoch;
            return;
        }
        // The epoch is recorded only once the set is read: a failed read
        // is tried again at the next event.
        if let Ok(hidden) = hidden(&self.db, self.me).await {
            self.hidden = hidden;
            self.generation = generation;
            self.epoch = epoch;
        }
    }
}

/// An SSE stream of `channel`, until the token stops allowing it.
async fn sse(
    ctx: Ctx,
    watch: Watch<Scope>,
    channel: &Channel<Scope>,
) -> Result<Response, ApiError> {
    let me = ctx.me()?;
    let notifications = watch.permits(&Channels::USER_NOTIFICATION).is_ok();
    let tag = ctx.query.text("tag")?;
    let list = ctx.query.text("list")?;
    let target = resolve(
        &ctx.db,
        me,
        channel,
        tag.as_deref(),
        list.as_deref(),
        notifications,
    )
    .await?;
    let events = target_events(&ctx.hub, &ctx.db, me, &target)
        .await?
        .map(|e| Ok::<_, Infallible>(Event::default().event(e.event).data(&*e.payload)));
    Ok(Sse::new(watch.until(events))
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// Whether the streaming API is up: `OK`.
#[requires_scope(public)]
pub(crate) async fn health() -> &'static str {
    "OK"
}

/// The home timeline, with notifications when the token may read them.
#[requires_scope(stream = sse, channel = Channels::USER)]
pub(crate) async fn user(ctx: Ctx, watch: Watch<Scope>) -> Result<Response, ApiError> {
    sse(ctx, watch, &Channels::USER).await
}

/// The user's notifications.
#[requires_scope(stream = sse, channel = Channels::USER_NOTIFICATION)]
pub(crate) async fn user_notification(ctx: Ctx, watch: Watch<Scope>) -> Result<Response, ApiError> {
    sse(ctx, watch, &Channels::USER_NOTIFICATION).await
}

/// Public statuses.
#[requires_scope(stream = sse, channel = Channels::PUBLIC)]
pub(crate) async fn public(ctx: Ctx, watch: Watch<Scope>) -> Result<Response, ApiError> {
    sse(ctx, watch, &Channels::PUBLIC).await
}

/// Public statuses of this server.
#[requires_scope(stream = sse, channel = Channels::PUBLIC_LOCAL)]
pub(crate) async fn public_local(ctx: Ctx, watch: Watch<Scope>) -> Result<Response, ApiError> {
    sse(ctx, watch, &Channels::PUBLIC_LOCAL).await
}

/// Public statuses of other servers (this pod does not federate: none).
#[requires_scope(stream = sse, channel = Channels::PUBLIC_REMOTE)]
pub(crate) async fn public_remote(ctx: Ctx, watch: Watch<Scope>) -> Result<Response, ApiError> {
    sse(ctx, watch, &Channels::PUBLIC_REMOTE).await
}

/// Public statuses with the hashtag `tag`.
#[requires_scope(stream = sse, channel = Channels::HASHTAG)]
pub(crate) async fn hashtag(ctx: Ctx, watch: Watch<Scope>) -> Result<Response, ApiError> {
    sse(ctx, watch, &Channels::HASHTAG).await
}

/// Public statuses of this server with the hashtag `tag`.
#[requires_scope(stream = sse, channel = Channels::HASHTAG_LOCAL)]
pub(crate) async fn hashtag_local(ctx: Ctx, watch: Watch<Scope>) -> Result<Response, ApiError> {
    sse(ctx, watch, &Channels::HASHTAG_LOCAL).await
}

/// The statuses of the list `list` (only its owner's).
#[requires_scope(stream = sse, channel = Channels::LIST)]
pub(crate) async fn list(ctx: Ctx, watch: Watch<Scope>) -> Result<Response, ApiError> {
    sse(ctx, watch, &Channels::LIST).await
}

/// Direct conversations.
#[requires_scope(stream = sse, channel = Channels::DIRECT)]
pub(crate) async fn direct(ctx: Ctx, watch: Watch<Scope>) -> Result<Response, ApiError> {
    sse(ctx, watch, &Channels::DIRECT).await
}

/// One WebSocket for every channel: `{"type":"subscribe","stream":..}`
/// (with `tag` or `list`) and `unsubscribe`, each subscription checked
/// against the token's scopes before anything of it is sent.
#[requires_scope(authenticated, token = user, stream = websocket, channels = Channels)]
pub(crate) async fn websocket(
    ctx: Ctx,
    watch: Watch<Scope>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let me = ctx.me()?;
    let upgrade = upgrade
        .read_buffer_size(READ_BUFFER)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .max_write_buffer_size(MAX_WRITE_BUFFER);
    let upgrade = match watch.selected_protocol() {
        Some(protocol) => upgrade.protocols([protocol.to_owned()]),
        None => upgrade,
    };
    // `?stream=public` (with `tag` or `list`): a first subscription.
    let first = match ctx.query.text("stream")? {
        Some(stream) => Some(
            serde_json::json!({
                "type": "subscribe",
                "stream": stream,
                "tag": ctx.query.text("tag")?,
                "list": ctx.query.text("list")?,
            })
            .to_string(),
        ),
        None => None,
    };
    let socket = Socket {
        hub: ctx.hub.clone(),
        db: ctx.db.clone(),
        me,
        subscriptions: HashMap::new(),
        events: SelectAll::new(),
    };
    Ok(upgrade.on_upgrade(move |ws| socket.serve(watch, ws, first)))
}

/// A subscription's events, each with the subscription's `stream`.
type Subscribed = Abortable<BoxStream<'static, (Arc<str>, StreamEvent)>>;

/// A WebSocket's subscriptions, served by the socket's own task: one
/// stream of events each, no task or queue of their own (an open socket
/// costs what its subscriptions' broadcast receivers do).
struct Socket {
    hub: Hub,
    db: AnyPool,
    me: i64,
    /// By the subscription's `stream` (joined): its channel, and the
    /// handle that ends its events.
    subscriptions: HashMap<String, (&'static Channel<Scope>, AbortHandle)>,
    /// The events of every subscription.
    events: SelectAll<Subscribed>,
}

fn error(message: &str, status: StatusCode) -> serde_json::Value {
    serde_json::json!({"error": message, "status": status.as_u16()})
}

/// How long one message may take to reach a socket that does not read
/// before the socket is dropped: a peer that stopped reading holds nothing
/// (its task, its registration, its receivers) for longer.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the pod pings an idle socket (Mastodon: every 30 s); a socket
/// that answered nothing since the last ping is closed.
const PING_EVERY: Duration = Duration::from_secs(30);

/// Sends `message`, unless the stream must end first or the peer does not
/// take it within [`SEND_TIMEOUT`]; `Err` when the socket is done with
/// (the close frame, if any, already sent).
async fn deliver(ws: &mut WebSocket, watch: &mut Watch<Scope>, message: Message) -> Result<(), ()> {
    tokio::select! {
        biased;
        // The check is polled while a send waits on a peer that does not
        // read: a revoked token's socket is dropped then, without a close
        // frame it could not take.
        _ = watch.ended() => Err(()),
        sent = tokio::time::timeout(SEND_TIMEOUT, ws.send(message)) => match sent {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        },
    }
}

/// Client messages one socket may send: a burst of [`MESSAGE_BURST`], then
/// one every [`MESSAGE_EVERY`] (a token bucket).
struct Allowance {
    tokens: f64,
    at: Instant,
}

/// Messages a socket may send at once (room for a client that subscribes
/// to all [`MAX_SUBSCRIPTIONS`] at once, and more).
const MESSAGE_BURST: f64 = 100.0;

/// How often a socket earns another message.
const MESSAGE_EVERY: Duration = Duration::from_millis(200);

impl Allowance {
    fn new() -> Self {
        Self {
            tokens: MESSAGE_BURST,
            at: Instant::now(),
        }
    }

    /// Whether one more message is allowed now (and counts it).
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let earned = now.duration_since(self.at).as_secs_f64() / MESSAGE_EVERY.as_secs_f64();
        self.tokens = (self.tokens + earned).min(MESSAGE_BURST);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Closes `ws` with a policy-violation frame saying why `ended`, within a
/// second (a peer that does not read gets its connection dropped).
async fn close(ws: &mut WebSocket, ended: Ended) {
    let frame = CloseFrame {
        code: close_code::POLICY,
        reason: ended.reason().into(),
    };
    let _ =
        tokio::time::timeout(Duration::from_secs(1), ws.send(Message::Close(Some(frame)))).await;
}

impl Socket {
    async fn serve(mut self, mut watch: Watch<Scope>, mut ws: WebSocket, first: Option<String>) {
        // `handle` is boxed: its state (a database query) exists only while
        // a message is handled, not in every idle socket's task.
        if let Some(first) = first
            && let Some(reply) = Box::pin(self.handle(&mut watch, &first)).await
            && deliver(&mut ws, &mut watch, Message::Text(reply.to_string().into()))
                .await
                .is_err()
        {
            return;
        }
        let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
        // A loop held up (slow sends) pings late, not twice in a row: the
        // second would find the first's pong not yet heard.
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut heard = true;
        let mut allowance = Allowance::new();
        loop {
            tokio::select! {
                // The end first: a stream that must end sends nothing more,
                // however many events are ready.
                biased;
                ended = watch.ended() => {
                    close(&mut ws, ended).await;
                    return;
                }
                message = ws.recv() => {
                    heard = true;
                    let text = match message {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                        Some(Ok(_)) => continue,
                    };
                    // Each message may cost database queries: a socket
                    // sends a bounded number (the HTTP rate limits do not
                    // see them).
                    if !allowance.take() {
                        let refusal = error("Too many messages", StatusCode::TOO_MANY_REQUESTS);
                        if deliver(&mut ws, &mut watch, Message::Text(refusal.to_string().into()))
                            .await
                            .is_err()
                        {
                            return;
                        }
                        continue;
                    }
                    if let Some(reply) = Box::pin(self.handle(&mut watch, &text)).await
                        && deliver(&mut ws, &mut watch, Message::Text(reply.to_string().into()))
                            .await
                            .is_err()
                    {
                        return;
                    }
                }
                Some((stream, e)) = self.events.next(), if !self.events.is_empty() => {
                    let message = Message::Text(e.message(&stream).into());
                    if deliver(&mut ws, &mut watch, message).await.is_err() {
                        return;
                    }
                }
                _ = ping.tick() => {
                    // Nothing (not even the pong) since the last ping: gone.
                    if !std::mem::replace(&mut heard, false) {
                        return;
                    }
                    if deliver(&mut ws, &mut watch, Message::Ping(Default::default())).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// Handles one client message; the reply, if any.
    async fn handle(&mut self, watch: &mut Watch<Scope>, text: &str) -> Option<serde_json::Value> {
        let Ok(request) = serde_json::from_str::<serde_json::Value>(text) else {
            return Some(error("Invalid JSON", StatusCode::BAD_REQUEST));
        };
        let kind = request["type"].as_str().unwrap_or_default();
        let name = request["stream"].as_str().unwrap_or_default();
        let Some(channel) = Channels::find(name) else {
            return Some(error("Unknown stream type", StatusCode::BAD_REQUEST));
        };
        if kind != "subscribe" && kind != "unsubscribe" {
            return Some(error("Unknown message type", StatusCode::BAD_REQUEST));
        }
        // The scopes first, as Mastodon does: a token that may not read a
        // channel learns nothing of its lists or tags (and cannot have
        // subscribed to it: an unsubscribe is a no-op).
        if let Err(refused) = watch.permits(channel) {
            if kind == "unsubscribe" {
                return None;
            }
            return Some(error(
                "Access token does not have the required scopes",
                refused.status(Default::default()),
            ));
        }
        // A socket at its bound costs no database query for more.
        if kind == "subscribe" && self.subscriptions.len() >= MAX_SUBSCRIPTIONS {
            return Some(error(
                "Too many subscriptions on this connection",
                StatusCode::TOO_MANY_REQUESTS,
            ));
        }
        let notifications = watch.permits(&Channels::USER_NOTIFICATION).is_ok();
        let param = |key: &str| match &request[key] {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let (tag, list) = (param("tag"), param("list"));
        let target = match resolve(
            &self.db,
            self.me,
            channel,
            tag.as_deref(),
            list.as_deref(),
            notifications,
        )
        .await
        {
            Ok(target) => target,
            Err(e) => return Some(error(e.message(), e.status())),
        };
        // The JSON array, not the parts joined: `hashtag` of `local:x` and
        // `hashtag:local` of `x` are two subscriptions.
        let stream = stream_json(&target.stream);
        let id = stream.clone();
        match kind {
            "subscribe" => {
                if let Err(refused) = watch.admit(channel) {
                    return Some(error(
                        "Access token does not have the required scopes",
                        refused.status(Default::default()),
                    ));
                }
                if self.subscriptions.contains_key(&id) {
                    return None;
                }
                let events = match target_events(&self.hub, &self.db, self.me, &target).await {
                    Ok(events) => events,
                    Err(e) => return Some(error(e.message(), e.status())),
                };
                let stream: Arc<str> = stream.into();
                let (events, ending) = abortable(events.map(move |e| (stream.clone(), e)).boxed());
                self.events.push(events);
                self.subscriptions.insert(id, (channel, ending));
                None
            }
            "unsubscribe" => {
                if let Some((channel, ending)) = self.subscriptions.remove(&id) {
                    ending.abort();
                    if !self
                        .subscriptions
                        .values()
                        .any(|(c, _)| c.name() == channel.name())
                    {
                        watch.release(channel);
                    }
                }
                None
            }
            _ => Some(error("Unknown message type", StatusCode::BAD_REQUEST)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: usize) -> StreamEvent {
        StreamEvent::new("update", n.to_string(), None)
    }

    #[test]
    fn a_websocket_message_is_mastodons_with_the_payload_escaped_once() {
        let e = StreamEvent::new("update", r#"{"content":"<p>\"hi\"\n</p>"}"#.into(), Some(1));
        assert_eq!(&*e.payload, r#"{"content":"<p>\"hi\"\n</p>"}"#);
        let message = e.message(&stream_json(&["hashtag".into(), "rust".into()]));
        let parsed: serde_json::Value = serde_json::from_str(&message).expect("JSON");
        assert_eq!(
            parsed,
            serde_json::json!({
                "stream": ["hashtag", "rust"],
                "event": "update",
                "payload": r#"{"content":"<p>\"hi\"\n</p>"}"#,
            })
        );
    }

    fn keys(hub: &Hub) -> usize {
        hub.keys.lock().expect("lock").senders.len()
    }

    #[tokio::test]
    async fn keys_are_bounded_and_dropped_when_nobody_listens() {
        let hub = Hub::default();
        hub.publish("timeline:public", event(0));
        assert_eq!(keys(&hub), 0, "publishing creates nothing");
        let mut rx = hub.subscribe("timeline:public");
        for n in 0..CAPACITY + 10 {
            hub.publish("timeline:public", event(n));
        }
        // A slow receiver lags: the oldest events are gone, the newest kept.
        assert!(matches!(
            rx.recv().await,
            Err(broadcast::error::RecvError::Lagged(10))
        ));
        assert_eq!(&*rx.recv().await.expect("event").payload, "10");
        drop(rx);
        hub.publish("timeline:public", event(0));
        assert_eq!(keys(&hub), 0, "dropped once nobody listens");
        // Keys never published to again go in a sweep once the map has
        // doubled; a key someone listens to stays.
        let mut live = hub.subscribe("timeline:live");
        for n in 0..1000 {
            drop(hub.subscribe(&format!("timeline:{n}")));
        }
        assert!(keys(&hub) <= 128, "idle keys swept: {} left", keys(&hub));
        hub.publish("timeline:live", event(7));
        assert_eq!(&*live.recv().await.expect("event").payload, "7");
        // One account's key holds fewer events than a shared one.
        let mut personal = hub.subscribe("timeline:1");
        for n in 0..PERSONAL_CAPACITY + 1 {
            hub.publish("timeline:1", event(n));
        }
        assert!(matches!(
            personal.recv().await,
            Err(broadcast::error::RecvError::Lagged(1))
        ));
    }
}
