//! What the example pods share: the operator's command line, start-up
//! (database, migrations, the bundled OAuth server, the enforcement layer
//! with its token cache and rate limiter), the plumbing of their handlers
//! (query arguments, database errors, request bodies, times, ids), and
//! helpers for their tests.
//!
//! A pod is a library crate implementing [`Pod`] and a two-line `main`:
//!
//! ```no_run
//! # fn main() {}
//! # fn run<FunkwhalePod: pod_kit::Pod>() -> std::process::ExitCode {
//! // src/main.rs of the pod: `fn main() -> std::process::ExitCode {`
//! pod_kit::main::<FunkwhalePod>()
//! # }
//! ```
//!
//! The command line (`serve` is the default subcommand):
//!
//! ```text
//! <pod> [serve] [--listen ADDR] [--database URL] [--demo]
//!                (URL: sqlite://PATH or postgres://USER@HOST:PORT/DATABASE)
//! <pod> create-user NAME [--admin] [--password-stdin]
//! <pod> docs [DIR]
//! ```
//!
//! Environment: `LISTEN`, `DATABASE_URL`, `ISSUER`,
//! `ACCESS_TOKEN_EXPIRE_SECONDS`, `THROTTLING_ENABLED`, `THROTTLING_RATES`
//! (Funkwhale's names), `API_AUTHENTICATION_REQUIRED`, `REDIS_URL`,
//! `REDIS_PREFIX`, `TOKEN_CACHE_TTL`, `JWT_KEY_FILE`.

pub mod arg;
pub mod body;
pub mod cli;
pub mod database;
pub mod db_error;
mod memory;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;
pub mod uuid;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::{Extension, Router};
use oauth_server::config::Config;
use oauth_server::flows::{AuthServer, Revocation};
use oauth_server::primitives::Store;
use oauth_server::validator::StoreValidator;
use scope_ratelimit::store::{CounterError, RedisStore};
use scope_ratelimit::{RateError, RateLimiter, Rates};
use scope_runtime::cache::CachedValidator;
use scope_runtime::client_ip::TrustedProxies;
use scope_runtime::docgen::OpenApiInfo;
use scope_runtime::enforce::{AnonymousAccess, Enforcer, ErrorStyle};
use scope_runtime::route::RouteTable;
use scope_runtime::stream::OpenStreams;
use scope_runtime::{BearerToken, Scope};
use sqlx::AnyPool;

#[doc(inline)]
pub use arg::Arg;
pub use cli::main;
#[doc(inline)]
pub use database::{Backend, Database, PodStore, begin_write, connect_pool, open, pod_migrator};
#[doc(inline)]
pub use time::{in_seconds, now};
#[doc(inline)]
pub use uuid::uuid_v4;

/// An example pod: its hierarchy, route table, schema and demo data.
pub trait Pod: 'static {
    /// The scope hierarchy.
    type Scope: Scope;
    /// The state of the API handlers.
    type State: Clone + Send + Sync + 'static;
    /// The route table.
    type Api: RouteTable<Scope = Self::Scope, State = Self::State>;
    /// The binary's name (`funkwhale-pod`).
    const NAME: &'static str;
    /// The pod's version.
    const VERSION: &'static str;
    /// The shape of authorization error bodies.
    const ERROR_STYLE: ErrorStyle;
    /// Whether `/path/` is served as `/path` (Rails does so, and Mastodon
    /// clients rely on it: Mastodon.py asks for `/api/v1/instance/`).
    const TRAILING_SLASH_OPTIONAL: bool = false;

    /// The pod's migrations for `backend`, numbered from 100 (the OAuth
    /// server's tables share the database).
    fn migrator(backend: Backend) -> sqlx::migrate::Migrator;
    /// The handlers' state over the pool of the pod's tables, with what
    /// [`app`] knows of the pod: the anonymous-access switch and the issuer
    /// (see [`StateContext`]).
    fn state(db: AnyPool, ctx: &StateContext) -> Self::State;
    /// Idempotent demo data owned by `user_id`.
    fn seed_demo(
        db: &AnyPool,
        user_id: i64,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    /// Adjusts the OAuth server's configuration (e.g. admin-only scopes).
    fn oauth_config(config: Config) -> Config {
        config
    }
    /// Routes outside the scope table, merged into the app (none by
    /// default). They are not enforced: keep them public.
    fn extra_routes(router: Router) -> Router {
        router
    }
    /// The title of the generated OpenAPI document.
    fn openapi_info() -> OpenApiInfo {
        OpenApiInfo {
            title: Self::NAME.to_owned(),
            version: Self::VERSION.to_owned(),
            ..OpenApiInfo::default()
        }
    }
}

/// How a pod runs; what the command line and the environment set.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The public base URL (the OAuth issuer).
    pub issuer: String,
    /// Lifetime of access tokens.
    pub access_token_lifetime: Duration,
    /// `None`: no rate limiting.
    pub rates: Option<Rates>,
    /// Whether `token = setting` routes require a token.
    pub api_authentication_required: bool,
    /// How long a validated token is trusted without asking the store.
    /// On PostgreSQL, revocations committed by any instance evict tokens
    /// at once (see [`app`]); this bounds the rest.
    pub token_cache_ttl: Duration,
    /// Where rate-limit counters live: `None`, in this process; a Redis
    /// URL (set with [`Settings::shared_rate_limits`]), in Redis, shared by
    /// every instance.
    pub rate_limit_redis: Option<String>,
    /// The prefix of the pod's keys in that Redis (`ratelimit:` when
    /// `None`): pods sharing one Redis with different prefixes count apart.
    pub rate_limit_redis_prefix: Option<String>,
    /// `Some`: access tokens are JWTs (RFC 9068) signed with these keys,
    /// published at `/.well-known/jwks.json`, for resource servers that
    /// validate locally. The pod itself still validates them against the
    /// store (they are stored hashed like opaque tokens), so revocation
    /// stays immediate here.
    pub jwt_keys: Option<oauth_server::jwt::KeySet>,
    /// The reverse proxies whose `X-Forwarded-For` names the client for
    /// the per-address limits (see `scope_runtime::client_ip`); empty by
    /// default: the connection's peer is the client.
    pub trusted_proxies: TrustedProxies,
}

impl Settings {
    /// Defaults for a pod served at `issuer`: tokens live 10 hours, rate
    /// limits at Funkwhale's defaults, anonymous reads allowed.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            access_token_lifetime: Duration::from_secs(36_000),
            rates: Some(Rates::funkwhale()),
            api_authentication_required: false,
            token_cache_ttl: Duration::from_secs(60),
            rate_limit_redis: None,
            rate_limit_redis_prefix: None,
            jwt_keys: None,
            trusted_proxies: TrustedProxies::default(),
        }
    }

    /// Keeps the rate-limit counters in the Redis at `url`
    /// (`redis://HOST:PORT/DB`), shared by every instance that uses it.
    /// The connection is made on first use; while Redis cannot be reached
    /// requests are let through (see `scope_ratelimit`).
    ///
    /// # Errors
    /// A malformed URL (the message does not repeat it).
    pub fn shared_rate_limits(mut self, url: &str) -> Result<Self, CounterError> {
        RedisStore::new(url)?;
        self.rate_limit_redis = Some(url.to_owned());
        Ok(self)
    }

    /// Applies Funkwhale's `THROTTLING_ENABLED` (`false`/`0`/`no` turns
    /// limiting off) and `THROTTLING_RATES` overrides.
    ///
    /// # Errors
    /// [`RateError`] for a malformed `rates` entry.
    pub fn throttling(mut self, enabled: bool, rates: Option<&str>) -> Result<Self, RateError> {
        self.rates = if enabled {
            Some(Rates::funkwhale().with_overrides(rates.unwrap_or(""))?)
        } else {
            None
        };
        Ok(self)
    }
}

/// What [`Pod::state`] gets besides the database.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StateContext {
    /// The switch the enforcer follows for `token = setting` routes (the
    /// one in [`App::anonymous`]): handlers reporting the policy read it.
    pub anonymous: AnonymousAccess,
    /// The public base URL, [`Settings::issuer`] without a trailing slash.
    /// Every absolute URL a pod writes starts with it: a pod never builds
    /// one from the request's `Host`, `X-Forwarded-Host` or
    /// `X-Forwarded-Proto`, which any client can set (so there is no
    /// "trust the proxy" option to get wrong).
    pub issuer: String,
}

impl StateContext {
    /// The context of a pod served at `issuer` whose `token = setting`
    /// routes follow `anonymous`.
    pub fn new(issuer: &str, anonymous: AnonymousAccess) -> Self {
        Self {
            anonymous,
            issuer: issuer.trim_end_matches('/').to_owned(),
        }
    }
}

/// Why a pod could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("{0} (check DATABASE_URL; for SQLite, that its directory is writable)")]
    Database(String),
    /// The pod's demo data could not be written.
    #[error("cannot seed the demo data: {0}")]
    Demo(String),
}

impl From<sqlx::Error> for StartError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e.to_string())
    }
}

/// The demo account of `--demo`.
pub const DEMO_USER: &str = "demo";
/// Its password.
pub const DEMO_PASSWORD: &str = "demo-password";

/// The advisory lock key under which pods seed their demo data on
/// PostgreSQL ("pod-demo" in ASCII).
const SEED_LOCK: i64 = 0x706f_642d_6465_6d6f;

/// Creates the demo user if missing and seeds the pod's demo data; returns
/// the user's id. Pods sharing one PostgreSQL database may call it at once:
/// they seed one after the other (an advisory lock), and the second finds
/// the data there.
///
/// # Errors
/// [`StartError::Demo`] with the reason.
pub async fn seed_demo<P: Pod>(db: &Database) -> Result<i64, StartError> {
    let demo = |e: &dyn std::fmt::Display| StartError::Demo(e.to_string());
    let seed = async {
        let store = &db.store;
        let id = match store.user_by_name(DEMO_USER).await.map_err(|e| demo(&e))? {
            Some(user) => user.id,
            None => {
                let hash = tokio::task::spawn_blocking(|| {
                    oauth_server::secret::hash_password(DEMO_PASSWORD)
                })
                .await
                .map_err(|e| demo(&e))?
                .map_err(|e| demo(&e))?;
                store
                    .create_user(DEMO_USER, &hash, false)
                    .await
                    .map_err(|e| demo(&e))?
                    .id
            }
        };
        P::seed_demo(&db.pool, id).await.map_err(|e| demo(&e))?;
        Ok::<_, StartError>(id)
    };
    db.exclusive(SEED_LOCK, seed).await
}

/// The running pieces of a pod, for its tests and its `main`.
pub struct App {
    /// Everything the pod serves: the API table, the OAuth endpoints and
    /// the pod's extra routes. Serve it with
    /// `into_make_service_with_connect_info::<SocketAddr>()` so anonymous
    /// requests are rate-limited per address.
    pub router: Router,
    /// The rate limiter, if limiting is on.
    pub limiter: Option<RateLimiter>,
    /// The switch of `token = setting` routes, set from
    /// [`Settings::api_authentication_required`]; flipping it changes what
    /// the running router allows (and what the pod reports) at once.
    pub anonymous: AnonymousAccess,
}

/// Assembles the pod over `db` (from [`open`]). On PostgreSQL it also
/// follows the database's revocation notices, so a token revoked through
/// any instance is refused by this one within milliseconds; while the
/// notices cannot be received, its token cache is emptied about once a
/// second. Call it inside a Tokio runtime (it spawns that task).
pub fn app<P: Pod>(db: Database, settings: &Settings) -> App {
    match db.store {
        PodStore::Postgres(store) => {
            let feed = store.clone();
            let (app, revoked) = assemble::<P, _>(store, db.pool, settings);
            tokio::spawn(follow_revocations(feed, revoked));
            app
        }
        store => assemble::<P, _>(store, db.pool, settings).0,
    }
}

/// Assembles the pod over an OAuth `store` of any kind and the pool of the
/// pod's tables (both in one database, already migrated). Revocations made
/// by other processes reach this one's token cache only after its TTL:
/// [`app`] also follows PostgreSQL's revocation notices.
pub fn app_with<P: Pod, St: Store>(store: St, db: AnyPool, settings: &Settings) -> App {
    assemble::<P, St>(store, db, settings).0
}

/// The token cache of a pod.
type TokenCache<S, St> = CachedValidator<S, StoreValidator<St>>;

/// Where a pod's revocations go: out of the token cache, and to the open
/// streams of the token, which end.
struct Revoked<S: Scope, St: Store> {
    cache: TokenCache<S, St>,
    streams: OpenStreams,
}

impl<S: Scope, St: Store> Clone for Revoked<S, St> {
    fn clone(&self) -> Self {
        Self {
            cache: self.cache.clone(),
            streams: self.streams.clone(),
        }
    }
}

impl<S: Scope, St: Store> Revoked<S, St> {
    /// One access token, by digest.
    fn token(&self, digest: &[u8; 32]) {
        self.cache.evict_digest(digest);
        self.streams.revoked(digest);
    }

    /// What user `user`'s tokens may do (a grant revoked, the user disabled
    /// or demoted): every cached validation goes (the cache cannot tell
    /// whose), and that user's open streams check their tokens again.
    fn user(&self, user: i64) {
        self.cache.clear();
        self.streams.recheck_user(&user.to_string());
    }

    /// Anything, whose is not known: every cached validation goes, and
    /// every open stream checks its token again.
    fn all(&self) {
        self.cache.clear();
        self.streams.recheck_all();
    }

    /// Notices are being missed (the feed cannot listen): every cached
    /// validation goes, so the next request, and each open stream's next
    /// periodic check, asks the database. The streams are not all woken
    /// while the database cannot be reached (that would only spend their
    /// allowance of unanswered checks): they are once the feed listens
    /// again (`RevocationNotice::Resumed`, `all`).
    fn missed(&self) {
        self.cache.clear();
    }
}

/// The OAuth server's configuration of pod `P` under `settings`.
pub(crate) fn oauth_config<P: Pod>(settings: &Settings) -> Config {
    let config = P::oauth_config(
        Config::new(settings.issuer.clone()).access_token_lifetime(settings.access_token_lifetime),
    );
    match &settings.jwt_keys {
        Some(keys) => config.jwt_access_tokens(keys.clone()),
        None => config,
    }
}

fn assemble<P: Pod, St: Store>(
    store: St,
    db: AnyPool,
    settings: &Settings,
) -> (App, Revoked<P::Scope, St>) {
    let config = oauth_config::<P>(settings);
    let server = AuthServer::<P::Scope, _>::new(store, config);
    let validator = CachedValidator::new(server.validator(), settings.token_cache_ttl, 100_000);
    // A revoked access token leaves the cache at once. A revoked grant
    // (refresh token revoked or reused, code replayed) empties it: the
    // server never kept the values of the family's access tokens.
    let anonymous = AnonymousAccess::new(!settings.api_authentication_required);
    let mut enforcer = Enforcer::new(validator.clone())
        .error_style(P::ERROR_STYLE)
        .anonymous_access(anonymous.clone());
    // Open streams hear of revocations where the cache does, and end.
    let revoked = Revoked {
        cache: validator.clone(),
        streams: enforcer.open_streams().clone(),
    };
    let hook = revoked.clone();
    let server = server.on_revoke(Arc::new(move |what| match what {
        Revocation::AccessToken(token) => hook.token(BearerToken::new(token).digest()),
        Revocation::AccessTokenDigest(digest) => hook.token(&digest),
        Revocation::Grant {
            user: Some(user), ..
        }
        | Revocation::User(user) => hook.user(user),
        _ => hook.all(),
    }));
    let limiter = settings
        .rates
        .clone()
        .map(|rates| rate_limiter(rates, settings));
    if let Some(limiter) = &limiter {
        enforcer = enforcer.guard(limiter.clone());
    }
    // The OAuth endpoints behind the same enforcer as the API: one token
    // cache, one error style, one rate limiter.
    let oauth = oauth_server::http::router_with(server, &enforcer);
    let ctx = StateContext::new(&settings.issuer, anonymous.clone());
    let api: Router = P::Api::router(enforcer).with_state(P::state(db, &ctx));
    let mut router = P::extra_routes(api.merge(oauth));
    if let Some(limiter) = &limiter {
        router = router.layer(Extension(limiter.clone()));
    }
    if !settings.trusted_proxies.is_empty() {
        // Read by every per-address limit: the rate limiter's and the
        // logins'.
        router = router.layer(Extension(settings.trusted_proxies.clone()));
    }
    if P::TRAILING_SLASH_OPTIONAL {
        // Rewrite before routing: the inner router sees `/path`.
        let trimming = tower::ServiceBuilder::new()
            .map_request(trim_trailing_slash)
            .service(router);
        router = Router::new().fallback_service(trimming);
    }
    (
        App {
            router,
            limiter,
            anonymous,
        },
        revoked,
    )
}

/// The rate limiter: counters in this process, or in the Redis of
/// `settings`.
fn rate_limiter(rates: Rates, settings: &Settings) -> RateLimiter {
    match settings.rate_limit_redis.as_deref().map(RedisStore::new) {
        None => RateLimiter::new(rates),
        Some(Ok(store)) => match &settings.rate_limit_redis_prefix {
            Some(prefix) => RateLimiter::with_store(rates, store.prefix(prefix.clone())),
            None => RateLimiter::with_store(rates, store),
        },
        // `Settings::shared_rate_limits` checked the URL already.
        Some(Err(e)) => {
            tracing::error!(error = %e, "rate limits: Redis URL refused; counting in process");
            RateLimiter::new(rates)
        }
    }
}

/// How long to wait before listening again after the feed could not start.
const FEED_RETRY: Duration = Duration::from_secs(1);

/// Keeps `cache` honest across instances: every revocation committed on the
/// database (by any instance, or the operator's command line) evicts the
/// token from this process's cache as soon as PostgreSQL delivers the
/// notice (milliseconds). While the notices cannot be received, the cache
/// is emptied about once a second, so a revocation is never trusted away
/// for longer than that.
async fn follow_revocations<S: Scope, St: Store>(
    store: oauth_server::store::PgStore,
    revoked: Revoked<S, St>,
) {
    use oauth_server::store::RevocationNotice;
    loop {
        let mut feed = match store.revocations().await {
            Ok(feed) => feed,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for revocations; retrying");
                revoked.missed();
                tokio::time::sleep(FEED_RETRY).await;
                continue;
            }
        };
        // Anything cached, or streamed, before the feed listened may have
        // been revoked unseen.
        revoked.all();
        loop {
            match feed.recv().await {
                RevocationNotice::AccessToken(digest) => revoked.token(&digest),
                RevocationNotice::User(user) => revoked.user(user),
                // Deaf: the cache goes; the streams' own checks would fail.
                RevocationNotice::Missed => revoked.missed(),
                // Listening again: what was revoked meanwhile is checked
                // now, by every open stream too.
                _ => revoked.all(),
            }
        }
    }
}

/// `/a/b/?q` becomes `/a/b?q`; `/` stays.
fn trim_trailing_slash(mut request: axum::extract::Request) -> axum::extract::Request {
    let uri = request.uri();
    let path = uri.path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
        let rebuilt = match uri.query() {
            Some(query) => format!("{trimmed}?{query}"),
            None => trimmed.to_owned(),
        };
        if let Ok(path_and_query) = rebuilt.parse::<axum::http::uri::PathAndQuery>() {
            let mut parts = uri.clone().into_parts();
            parts.path_and_query = Some(path_and_query);
            if let Ok(new) = axum::http::Uri::from_parts(parts) {
                *request.uri_mut() = new;
            }
        }
    }
    request
}
