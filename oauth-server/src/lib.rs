//! The bundled OAuth 2 authorization server, for any `scope_hierarchy!`
//! hierarchy, compatible with the Mastodon and Funkwhale clients that exist.
//!
//! Split as oxide-auth is:
//!
//! - [`primitives`]: the record types and the [`Store`](primitives::Store)
//!   trait; [`store`] implements it in memory, in SQLite (WAL, FULL sync,
//!   group commit, embedded migrations) and in PostgreSQL
//!   ([`PgStore`](store::PgStore), embedded migrations);
//! - [`flows`]: the grant logic without HTTP ([`AuthServer`](flows::AuthServer));
//! - [`http`]: the axum routes, the login and consent page;
//! - [`secret`]: random secrets (time-ordered selector + 256 random bits),
//!   SHA-256 at rest, argon2id passwords;
//! - [`policy`]: which scopes a grant may carry (token ∩ app ∩ what the
//!   user may have);
//! - [`validator`]: the store-backed `TokenValidator` of the enforcement layer;
//! - [`jwt`]: JWT access tokens (RFC 9068, ES256): signing keys, rotation,
//!   the JWKS.
//!
//! ```no_run
//! use oauth_server::{config::Config, flows::AuthServer, store::SqliteStore};
//! use scope_hierarchies::MastodonScope;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = SqliteStore::connect("sqlite://pod.db").await?;
//! let server = AuthServer::<MastodonScope, _>::new(store, Config::new("https://pod.example"));
//! let app: axum::Router = oauth_server::http::router(server);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! // The peer address keys the per-address limits (logins, registration,
//! // tokens): serve with it.
//! let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! Sessions of the consent page and the failed-login counts live in the
//! store, so several instances on one database share them; the argon2
//! queue and the attempts in flight are per [`http::router`] (serve one
//! per process). Behind a reverse proxy, name it in a
//! `scope_runtime::client_ip::TrustedProxies` (the binary's
//! `--trusted-proxies`), or every client shares the proxy's limits.

pub mod config;
pub mod flows;
pub mod http;
pub mod jwt;
pub mod policy;
pub mod primitives;
pub mod secret;
pub mod store;
pub mod validator;
