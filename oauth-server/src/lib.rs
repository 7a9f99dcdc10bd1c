//! The bundled OAuth 2 authorization server.
//!
//! **In progress.** This crate so far holds the foundation the server's
//! flows and HTTP routes are built on:
//!
//! - [`secret`]: random secrets, SHA-256 at rest with constant-time
//!   comparison, argon2id passwords;
//! - [`primitives`]: the record types and the [`Store`](primitives::Store)
//!   trait;
//! - [`store`]: [`MemoryStore`](store::MemoryStore) and the embedded default
//!   [`SqliteStore`](store::SqliteStore) (WAL, `synchronous = FULL`,
//!   migrations embedded).
//!
//! The grant flows (authorization code with PKCE, refresh rotation,
//! client credentials, revocation, introspection), the axum routes, the
//! consent page and the operator binary come next; see `ARCHITECTURE.md`.

pub mod config;
pub mod flows;
pub mod http;
pub mod primitives;
pub mod secret;
pub mod store;
pub mod validator;
