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
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! Sessions of the consent page and the login rate limit live in memory, per
//! [`http::router`] instance: run one instance per database, or put the
//! page behind sticky sessions.

pub mod config;
pub mod flows;
pub mod http;
pub mod jwt;
pub mod policy;
pub mod primitives;
pub mod secret;
pub mod store;
pub mod validator;
