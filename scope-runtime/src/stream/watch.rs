//! [`Watch`]: what keeps an open stream's authorization true.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use futures_core::Stream;
use http::StatusCode;
use http::request::Parts;
use tokio::time::{Instant, sleep_until};

use super::Channel;
use super::open::{Notice, Registration, TooManyStreams};
use crate::enforce::{AuthError, Enforcer};
use crate::extract::MissingPrincipal;
use crate::route::{Access, Route};
use crate::scope::Scope;
use crate::token::{BearerToken, Principal, TokenError};

/// `Watch` can be held across an `.await` by reference in a spawned task.
#[allow(dead_code)]
fn watch_is_send_and_sync<S: Scope>() {
    fn is<T: Send + Sync>() {}
    is::<Watch<S>>();
}

/// Failed checks in a row, for want of an answer from the validator, after
/// which a stream ends rather than run on unchecked.
const UNAVAILABLE_CHECKS: u32 = 3;

/// Where a check is scheduled when the interval overflows `Instant`
/// (`Enforcer::stream_recheck(Duration::MAX)`: "only on notices").
const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Spreads the seeds of the checks' jitter over the streams of a process.
static SEEDS: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(0x9e37_79b9_7f4a_7c15);

/// What the enforcer leaves in the extensions of a stream request it let
/// through with a token: what a [`Watch`] needs to check it again.
#[derive(Clone)]
pub(crate) struct Ticket<S: Scope> {
    pub(crate) enforcer: Enforcer<S>,
    pub(crate) route: Route<S>,
    pub(crate) token: BearerToken<'static>,
    /// The token came as the `Sec-WebSocket-Protocol` header.
    pub(crate) as_protocol: bool,
}

/// Why an open stream has to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ended {
    /// The token no longer validates: revoked, or its user disabled.
    Revoked,
    /// The token expired.
    Expired,
    /// The token no longer carries the scopes (or is no longer of the
    /// kind) the route or a channel of the stream needs.
    ScopeLost,
    /// The validator could not answer several checks in a row.
    Unavailable,
}

impl Ended {
    /// A sentence for the client (a WebSocket close reason, an error event).
    pub const fn reason(self) -> &'static str {
        match self {
            Self::Revoked => "The access token was revoked",
            Self::Expired => "The access token expired",
            Self::ScopeLost => "This stream is outside the authorized scopes",
            Self::Unavailable => "The access token cannot be checked",
        }
    }

    /// The HTTP status the same refusal has on a request (401, 403 or 503),
    /// which Mastodon's streaming error events carry.
    pub const fn status(self) -> StatusCode {
        match self {
            Self::Revoked | Self::Expired => StatusCode::UNAUTHORIZED,
            Self::ScopeLost => StatusCode::FORBIDDEN,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl fmt::Display for Ended {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// An open stream's authorization, kept true while it is open: the
/// extractor of a stream route's handler (`#[requires_scope(.., stream =
/// ..)]`) when the request carried a token.
///
/// [`ended`](Self::ended) resolves when the stream must end; [`until`](Self::until)
/// ends an SSE event stream then. Channels chosen at run time are checked
/// with [`admit`](Self::admit) and, once admitted, at every later check.
///
/// A stream ends at once when its token is revoked (a notice through
/// [`OpenStreams::revoked`](super::OpenStreams::revoked)), and at its
/// expiry. It is checked again, through the enforcer's validator (and its
/// cache), when its user's tokens change
/// ([`OpenStreams::recheck_user`](super::OpenStreams::recheck_user)) and
/// otherwise every [`Enforcer::stream_recheck`](crate::Enforcer::stream_recheck)
/// interval, give or take an eighth.
pub struct Watch<S: Scope> {
    ticket: Ticket<S>,
    principal: Principal<S>,
    channels: Vec<Channel<S>>,
    registration: Registration,
    next_check: Instant,
    unavailable: u32,
    /// The validation under way, kept across calls of `ended` (a `select!`
    /// that drops `ended` resumes it, never restarts it).
    pending: Option<Pending<S>>,
    /// Why the stream ended, once it has: `ended` answers it again at once.
    ended: Option<Ended>,
    /// The state of the checks' jitter (xorshift).
    seed: u64,
}

/// A check under way: the validator's answer to come. (`SyncWrapper`: the
/// future is only ever polled through `&mut`, so `Watch` can be `Sync`.)
type Pending<S> = sync_wrapper::SyncWrapper<
    Pin<Box<dyn Future<Output = Result<Principal<S>, TokenError>> + Send>>,
>;

impl<S: Scope> fmt::Debug for Watch<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the token.
        f.debug_struct("Watch")
            .field("route", &self.ticket.route.path())
            .field("principal", &self.principal)
            .field(
                "channels",
                &self.channels.iter().map(Channel::name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl<S: Scope> Watch<S> {
    /// The principal as of the last check.
    pub fn principal(&self) -> &Principal<S> {
        &self.principal
    }

    /// The `Sec-WebSocket-Protocol` value a WebSocket handshake must
    /// select when the token came in that header (browsers close a
    /// connection whose answer names no protocol they offered): the token
    /// itself, as Mastodon's streaming server answers. `None` otherwise.
    pub fn selected_protocol(&self) -> Option<&str> {
        self.ticket.as_protocol.then(|| self.ticket.token.as_str())
    }

    /// Whether the token may receive `channel` now (not kept checking).
    ///
    /// # Errors
    /// The refusal a request to a route with the channel's declaration
    /// would get.
    pub fn permits(&self, channel: &Channel<S>) -> Result<(), AuthError<S>> {
        crate::enforce::authorize(&self.principal, channel.access(), channel.requirement())
    }

    /// Checks `channel` now and at every later check of the stream, until
    /// [`release`](Self::release)d: the stream ends if its token stops
    /// allowing it.
    ///
    /// # Errors
    /// As [`permits`](Self::permits); the channel is not added then.
    ///
    /// A route that declares its channels (`channel = ..`, `channels = ..`)
    /// admits only those, so that what it serves is what its docs list: any
    /// other is refused as outside the authorized scopes.
    pub fn admit(&mut self, channel: &Channel<S>) -> Result<(), AuthError<S>> {
        let declared = self.ticket.route.channels();
        if !declared.is_empty() && !declared.contains(channel) {
            return Err(AuthError::InsufficientScope(channel.requirement()));
        }
        self.permits(channel)?;
        if !self.channels.contains(channel) {
            self.channels.push(*channel);
        }
        Ok(())
    }

    /// Stops checking `channel` (the client unsubscribed).
    pub fn release(&mut self, channel: &Channel<S>) {
        self.channels.retain(|c| c != channel);
    }

    /// Resolves when the stream must end, and why. Cancel-safe: call it
    /// again in every turn of a `select!` loop; a check under way when the
    /// call was dropped goes on in the next call. Once it has resolved, it
    /// answers the same at once.
    pub async fn ended(&mut self) -> Ended {
        if let Some(ended) = self.ended {
            return ended;
        }
        let ended = self.watch().await;
        self.ended = Some(ended);
        ended
    }

    async fn watch(&mut self) -> Ended {
        loop {
            if self.pending.is_none() {
                if self.principal.is_expired() {
                    return Ended::Expired;
                }
                let wake = self.wake_at();
                let notice = {
                    let mut sleep = pin!(sleep_until(wake));
                    let mut notified = pin!(self.registration.notified());
                    poll_fn(|cx| {
                        if let Poll::Ready(notice) = notified.as_mut().poll(cx) {
                            Poll::Ready(Some(notice))
                        } else if sleep.as_mut().poll(cx).is_ready() {
                            Poll::Ready(None)
                        } else {
                            Poll::Pending
                        }
                    })
                    .await
                };
                // No await between the wake-up and this: what woke it is
                // never lost to a cancellation. A revocation of this token
                // ends the stream itself, whatever a validator (or its
                // cache) would still answer.
                if notice == Some(Notice::Revoked) {
                    return Ended::Revoked;
                }
                let enforcer = self.ticket.enforcer.clone();
                let token = self.ticket.token.clone();
                self.pending = Some(sync_wrapper::SyncWrapper::new(Box::pin(async move {
                    enforcer.revalidate(&token).await
                })));
            }
            let Some(pending) = self.pending.as_mut() else {
                continue;
            };
            // A revocation that comes while the check runs ends the stream
            // at once too, without waiting for the validator's answer.
            // (A recheck asked meanwhile is what this check does.)
            let answer = {
                let mut notified = pin!(self.registration.notified());
                let mut heard = false;
                let mut answer = pending.get_mut().as_mut();
                poll_fn(|cx| {
                    if !heard {
                        match notified.as_mut().poll(cx) {
                            Poll::Ready(Notice::Revoked) => return Poll::Ready(None),
                            // Not polled again once it has answered.
                            Poll::Ready(Notice::Recheck) => heard = true,
                            Poll::Pending => {}
                        }
                    }
                    answer.as_mut().poll(cx).map(Some)
                })
                .await
            };
            let Some(answer) = answer else {
                self.pending = None;
                return Ended::Revoked;
            };
            self.pending = None;
            match self.judge(answer) {
                Ok(()) => self.schedule(),
                Err(ended) => return ended,
            }
        }
    }

    /// Sets the next periodic check: the enforcer's interval, give or take
    /// an eighth (streams opened together do not all check at once), never
    /// past what `Instant` can hold.
    fn schedule(&mut self) {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let fraction = (self.seed >> 11) as f64 / (1u64 << 53) as f64;
        let mut interval = self.ticket.enforcer.recheck_interval();
        // After a check the validator could not answer, the next comes
        // sooner (1 s, 2 s, ...): the stream ends after a few unanswered
        // checks, not a few intervals (or never, with `Duration::MAX`).
        if self.unavailable > 0 {
            interval = interval.min(Duration::from_secs(1 << self.unavailable.min(6)) / 2);
        }
        let jittered =
            Duration::try_from_secs_f64(interval.as_secs_f64() * (0.875 + 0.25 * fraction))
                .unwrap_or(interval);
        let now = Instant::now();
        self.next_check = [
            jittered,
            FAR,
            Duration::from_secs(86_400),
            Duration::from_secs(60),
        ]
        .into_iter()
        .find_map(|d| now.checked_add(d))
        .unwrap_or(now);
    }

    /// The event stream `events`, ended when this watch ends: an SSE
    /// response closes then.
    pub fn until<St: Stream>(self, events: St) -> Until<St> {
        let mut watch = self;
        Until {
            events,
            ended: Some(Box::pin(async move { watch.ended().await })),
        }
    }

    /// The next check: the next periodic one, or the expiry if sooner.
    fn wake_at(&self) -> Instant {
        match self.principal.expiry() {
            Some(at) => {
                let left = at
                    .duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO);
                Instant::now()
                    .checked_add(left)
                    .map_or(self.next_check, |at| self.next_check.min(at))
            }
            None => self.next_check,
        }
    }

    /// The validator's new answer against the route and the admitted
    /// channels, with the enforcer's own decision.
    fn judge(&mut self, answer: Result<Principal<S>, TokenError>) -> Result<(), Ended> {
        if self.principal.is_expired() {
            return Err(Ended::Expired);
        }
        if let Err(TokenError::Unavailable(_)) = &answer {
            self.unavailable += 1;
            return if self.unavailable >= UNAVAILABLE_CHECKS {
                Err(Ended::Unavailable)
            } else {
                Ok(())
            };
        }
        self.unavailable = 0;
        // The route's token kind as the enforcer applied it, a token being
        // there: an optional route's stream keeps needing a valid one.
        let access = match self.ticket.route.access() {
            Access::User => Access::User,
            Access::App => Access::App,
            _ => Access::Required,
        };
        let principal = self
            .ticket
            .enforcer
            .finish(&self.ticket.route, access, answer)
            .map_err(|e| ended_by(&e))?;
        for channel in &self.channels {
            crate::enforce::authorize(&principal, channel.access(), channel.requirement())
                .map_err(|e| ended_by(&e))?;
        }
        self.principal = principal;
        Ok(())
    }
}

/// What a refusal on a check makes of the stream.
fn ended_by<S>(error: &AuthError<S>) -> Ended {
    match error {
        AuthError::InvalidToken => Ended::Revoked,
        AuthError::Unavailable => Ended::Unavailable,
        _ => Ended::ScopeLost,
    }
}

pin_project_lite::pin_project! {
    /// An event stream that ends when its [`Watch`] does ([`Watch::until`]).
    pub struct Until<St> {
        #[pin]
        events: St,
        ended: Option<Pin<Box<dyn Future<Output = Ended> + Send>>>,
    }
}

impl<St> fmt::Debug for Until<St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Until")
            .field("ended", &self.ended.is_none())
            .finish_non_exhaustive()
    }
}

impl<St: Stream> Stream for Until<St> {
    type Item = St::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let Some(ended) = this.ended else {
            return Poll::Ready(None);
        };
        if ended.as_mut().poll(cx).is_ready() {
            *this.ended = None;
            return Poll::Ready(None);
        }
        this.events.poll_next(cx)
    }
}

/// Why a [`Watch`] could not be had.
#[derive(Debug)]
#[non_exhaustive]
pub enum WatchRejection<S: Scope> {
    /// The request carried no token (an `optional` stream route let it
    /// through): 401, as the `Principal` extractor answers, in the
    /// enforcer's error style. Take `Option<Watch<_>>` on such routes.
    MissingToken(MissingPrincipal<S>),
    /// The handler's route is not declared as a stream (`stream = sse` or
    /// `stream = websocket`): a mistake of the server, 500.
    NotAStream,
    /// Too many streams are open on this token, or for its user: 429.
    TooManyStreams(TooManyStreams),
}

impl<S: Scope> fmt::Display for WatchRejection<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingToken(_) => f.write_str("This stream requires an access token"),
            Self::NotAStream => f.write_str(
                "this route takes a Watch but is not declared as a stream \
                 (#[requires_scope(.., stream = sse)])",
            ),
            Self::TooManyStreams(e) => e.fmt(f),
        }
    }
}

impl<S: Scope> std::error::Error for WatchRejection<S> {}

impl<S: Scope> IntoResponse for WatchRejection<S> {
    fn into_response(self) -> Response {
        let status = match self {
            Self::MissingToken(missing) => return missing.into_response(),
            Self::NotAStream => StatusCode::INTERNAL_SERVER_ERROR,
            Self::TooManyStreams(_) => StatusCode::TOO_MANY_REQUESTS,
        };
        let body = serde_json::json!({ "error": self.to_string() }).to_string();
        (
            status,
            [(http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

impl<S: Scope, St: Send + Sync> FromRequestParts<St> for Watch<S> {
    type Rejection = WatchRejection<S>;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Self::Rejection> {
        let principal = <Principal<S> as FromRequestParts<St>>::from_request_parts(parts, state)
            .await
            .map_err(WatchRejection::MissingToken)?;
        let Some(ticket) = parts.extensions.remove::<Ticket<S>>() else {
            return Err(WatchRejection::NotAStream);
        };
        let registration = ticket
            .enforcer
            .open_streams()
            .register(*ticket.token.digest(), principal.user_id())
            .map_err(WatchRejection::TooManyStreams)?;
        let seed = SEEDS.fetch_add(0x9e37_79b9_7f4a_7c15, std::sync::atomic::Ordering::Relaxed) | 1;
        Ok(Self {
            ticket,
            principal,
            channels: Vec::new(),
            registration,
            // Checked once at once: a revocation between the request's
            // check and this registration is not missed.
            next_check: Instant::now(),
            unavailable: 0,
            pending: None,
            ended: None,
            seed,
        })
    }
}

impl<S: Scope, St: Send + Sync> axum::extract::OptionalFromRequestParts<St> for Watch<S> {
    type Rejection = WatchRejection<S>;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &St,
    ) -> Result<Option<Self>, Self::Rejection> {
        if parts.extensions.get::<Principal<S>>().is_none() {
            return Ok(None);
        }
        <Self as FromRequestParts<St>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}
