//! The servers `bench/load.sh` and `bench/token-load.sh` drive: the same
//! handler, bare and behind `scope_routes!` enforcement with each token
//! validator, one port each, in one process (so every figure of a run
//! shares the machine's state).
//!
//! ```text
//! load-target BARE_ADDR
//! load-target BARE_ADDR MEMORY_ADDR TOKEN
//! load-target BARE_ADDR MEMORY_ADDR TOKEN JWT_ADDR INTROSPECTION_ADDR [JWT_CACHED_ADDR]
//! ```
//!
//! Every port serves `GET /api/v1/statuses/{id}`; the enforced ones require
//! `read:statuses` from a bearer token:
//!
//! - `BARE_ADDR`: plain axum, no check (the baseline).
//! - `MEMORY_ADDR`: a `CachedValidator<InMemoryValidator>` that knows only
//!   `TOKEN` (a user's token with scope `read`).
//! - `JWT_ADDR`: a `JwtValidator` of an in-process `oauth-server` issuing
//!   JWT access tokens (RFC 9068, ES256). Its key set is fetched over HTTP
//!   from the server's `jwks_uri` at start-up and then cached; each
//!   request verifies the token's signature and claims locally.
//! - `JWT_CACHED_ADDR`: the same `JwtValidator` inside a `CachedValidator`
//!   (a token's signature is verified once per cache TTL; the cache still
//!   enforces its `exp`).
//! - `INTROSPECTION_ADDR`: a `CachedValidator<IntrospectionValidator>`
//!   asking a second in-process `oauth-server` (opaque tokens) over HTTP:
//!   the first request with a token introspects it, the following ones are
//!   answered from the cache (warm).
//!
//! The two authorization servers listen on ephemeral loopback ports, with
//! in-memory stores. On each, the process registers a resource server
//! (allowed to introspect) and an app, and obtains over HTTP a
//! `client_credentials` access token with scope `read` for the app. It
//! prints one `NAME: VALUE` line per item on stdout, then `ready` once
//! every port is bound:
//!
//! ```text
//! bare: http://127.0.0.1:18080
//! memory: http://127.0.0.1:18081
//! jwt-issuer: http://127.0.0.1:41234
//! jwt-token: eyJ...
//! jwt: http://127.0.0.1:18082
//! introspection-issuer: http://127.0.0.1:41235
//! opaque-token: ...
//! introspection: http://127.0.0.1:18083
//! ready
//! ```
//!
//! It serves until interrupted (or killed). Usage errors exit with 2,
//! start-up failures with 1.

use std::error::Error;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use oauth_server::config::Config;
use oauth_server::flows::{AppRegistration, AuthServer, RegisteredApp};
use oauth_server::jwt::KeySet;
use oauth_server::store::MemoryStore;
use scope_runtime::cache::CachedValidator;
use scope_runtime::enforce::Enforcer;
// The reqwest 0.12 the validators use (it has `form`).
use scope_runtime::introspect::{IntrospectionValidator, reqwest};
use scope_runtime::jwt::JwtValidator;
use scope_runtime::route::RouteTable;
use scope_runtime::token::{InMemoryValidator, Principal};
use scope_runtime::{requires_scope, scope_hierarchy, scope_routes};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

scope_hierarchy! {
    /// Load-test scopes.
    pub Scope { #[default] read { statuses }, write { statuses } }
}

async fn bare() -> &'static str {
    "{\"id\":\"1\",\"content\":\"hello\"}"
}

/// The same handler, declared.
#[requires_scope("read:statuses")]
async fn protected() -> &'static str {
    "{\"id\":\"1\",\"content\":\"hello\"}"
}

scope_routes! {
    /// The protected route.
    pub Api { GET "/api/v1/statuses/{id}" => protected }
}

/// How long the caches keep a validated token: longer than any run.
const CACHE_TTL: Duration = Duration::from_secs(3600);
/// Entries of each cache: a run uses one token per port.
const CACHE_CAPACITY: usize = 1_000;

const USAGE: &str = "usage: load-target BARE_ADDR [MEMORY_ADDR TOKEN [JWT_ADDR INTROSPECTION_ADDR [JWT_CACHED_ADDR]]]";

type Result<T, E = Box<dyn Error + Send + Sync>> = std::result::Result<T, E>;

/// An in-process authorization server and what the load needs from it.
struct Issuer {
    base: String,
    /// The resource server, allowed to introspect the app's tokens.
    resource_server: RegisteredApp,
    /// A `client_credentials` access token of the app, scope `read`.
    token: String,
}

fn registration(name: &str, scopes: &str) -> AppRegistration {
    AppRegistration {
        client_name: name.into(),
        redirect_uris: vec!["https://bench.example/callback".into()],
        scopes: Some(scopes.into()),
        website: None,
    }
}

/// Starts an `oauth-server` on an ephemeral loopback port (issuing JWT
/// access tokens when `jwt`), registers a resource server and an app, and
/// gets a `client_credentials` token of the app over HTTP.
async fn start_issuer(servers: &mut JoinSet<Result<()>>, jwt: bool) -> Result<Issuer> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let store = MemoryStore::new();
    // Client ids are generated: register first, then configure the server
    // that serves (the store is shared).
    let setup = AuthServer::<Scope, _>::new(store.clone(), Config::new(base.clone()));
    let resource_server = setup
        .register_app(registration("bench resource server", "read"), None)
        .await
        .map_err(|e| format!("registering the resource server: {e}"))?;
    let app = setup
        .register_app(registration("bench app", "read"), None)
        .await
        .map_err(|e| format!("registering the app: {e}"))?;
    let mut config =
        Config::new(base.clone()).resource_servers([resource_server.record.client_id.clone()]);
    if jwt {
        config = config.jwt_access_tokens(KeySet::generate()?);
    }
    let server = AuthServer::<Scope, _>::new(store, config);
    let router: Router = oauth_server::http::router(server);
    servers.spawn(async move { Ok(axum::serve(listener, router).await?) });

    let response = reqwest::Client::new()
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &app.record.client_id),
            ("client_secret", &app.client_secret),
            ("scope", "read"),
        ])
        .send()
        .await?
        .error_for_status()?;
    let body: serde_json::Value = response.json().await?;
    let token = body["access_token"]
        .as_str()
        .ok_or("the token response has no access_token")?
        .to_owned();
    Ok(Issuer {
        base,
        resource_server,
        token,
    })
}

/// Binds `addr` and serves `app` on it as a task of `servers`; prints
/// `name: http://ADDR`.
async fn listen(
    servers: &mut JoinSet<Result<()>>,
    name: &str,
    addr: &str,
    app: Router,
) -> Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("binding {addr} ({name}): {e}"))?;
    println!("{name}: http://{}", listener.local_addr()?);
    servers.spawn(async move { Ok(axum::serve(listener, app).await?) });
    Ok(())
}

async fn run(args: &[String]) -> Result<()> {
    let mut servers = JoinSet::new();
    let bare_app = Router::new().route("/api/v1/statuses/{id}", get(bare));
    listen(&mut servers, "bare", &args[0], bare_app).await?;

    if let [_, memory_addr, token, ..] = args {
        let tokens = InMemoryValidator::new();
        tokens.insert(
            token.clone(),
            Principal::user("1", "bench", "read".parse()?),
        );
        let validator = CachedValidator::new(tokens, CACHE_TTL, CACHE_CAPACITY);
        let app = Api::router(Enforcer::new(validator));
        listen(&mut servers, "memory", memory_addr, app).await?;
    }

    if let [_, _, _, jwt_addr, introspection_addr, cached @ ..] = args {
        let issuer = start_issuer(&mut servers, true).await?;
        println!("jwt-issuer: {}", issuer.base);
        println!("jwt-token: {}", issuer.token);
        let jwks_uri = format!("{}/.well-known/jwks.json", issuer.base).parse()?;
        let validator = JwtValidator::<Scope>::new(jwks_uri, issuer.base.as_str());
        validator
            .load_keys()
            .await
            .map_err(|e| format!("fetching the key set of {}: {e:?}", issuer.base))?;
        if let [jwt_cached_addr] = cached {
            let cached = CachedValidator::new(validator.clone(), CACHE_TTL, CACHE_CAPACITY);
            let app = Api::router(Enforcer::new(cached));
            listen(&mut servers, "jwt-cached", jwt_cached_addr, app).await?;
        }
        let app = Api::router(Enforcer::new(validator));
        listen(&mut servers, "jwt", jwt_addr, app).await?;

        let issuer = start_issuer(&mut servers, false).await?;
        println!("introspection-issuer: {}", issuer.base);
        println!("opaque-token: {}", issuer.token);
        let endpoint = format!("{}/oauth/introspect", issuer.base).parse()?;
        let introspection = IntrospectionValidator::<Scope>::new(
            endpoint,
            issuer.resource_server.record.client_id.as_str(),
            issuer.resource_server.client_secret.as_str(),
        );
        let validator = CachedValidator::new(introspection, CACHE_TTL, CACHE_CAPACITY);
        let app = Api::router(Enforcer::new(validator));
        listen(&mut servers, "introspection", introspection_addr, app).await?;
    }
    println!("ready");

    tokio::select! {
        ended = servers.join_next() => match ended {
            Some(Ok(Ok(()))) | None => Err("a server stopped".into()),
            Some(Ok(Err(e))) => Err(e),
            Some(Err(e)) => Err(e.into()),
        },
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !matches!(args.len(), 1 | 3 | 5 | 6) {
        eprintln!("{USAGE}");
        std::process::exit(2);
    }
    if let Err(e) = run(&args).await {
        eprintln!("load-target: {e}");
        std::process::exit(1);
    }
}
