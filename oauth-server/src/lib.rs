//! The bundled OAuth 2 authorization server.
//!
//! This crate is a placeholder in the workspace: the authorization server
//! (apps, authorize + consent, token, refresh, revoke, introspection, PKCE)
//! is built on [`scope_runtime`] hierarchies in a later milestone. See
//! `ARCHITECTURE.md` at the repository root for where it fits.
