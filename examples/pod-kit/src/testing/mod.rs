//! Test helpers. [`TestClient`]: the app a pod's binary serves
//! ([`crate::app`]) driven in this process with `oneshot`, with tokens
//! minted by the OAuth server's own flows. [`TestPod`]: a pod on a loopback
//! socket over a fresh SQLite file or a database of the caller's (a
//! PostgreSQL schema of its own: [`PgSchema`]), a user, and the whole OAuth
//! dance done as a client would (the consent page walked with `reqwest`,
//! the code exchanged by the `oauth2` crate). Test code: panics with a
//! message on anything unexpected.
//!
//! PostgreSQL tests run against `TEST_DATABASE_URL_PG` (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`), each in a fresh schema;
//! without it they print `SKIPPED <test>` and pass, unless
//! `REQUIRE_POSTGRES=1`.

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

mod client;
mod page;
mod pod;
mod postgres;
mod refusals;

pub use client::{CLIENT_ADDR, Grant, TestClient};
pub use page::{hidden_fields, query_param};
pub use pod::{Engine, PodClient, Reply, TestApp, TestPod};
pub use postgres::{PgSchema, postgres_required};
pub use refusals::{Refusals, refusals};

pub const USER: &str = "alice";
pub const PASSWORD: &str = "correct horse battery staple";
pub const REDIRECT: &str = "https://app.example/callback";

/// For each `async fn name(arg)` of a test file, the tests `sqlite::name`
/// and `postgres::name`: the first runs `name(SQLITE().await)`, the second
/// `name(arg)` if `POSTGRES("name").await` is `Some(arg)` (else the test is
/// skipped: see [`PgSchema::create`]). `SQLITE` and `POSTGRES` are
/// functions named as from the test file's root, e.g. `Engine::on_sqlite` and
/// `Engine::on_postgres` for tests taking an [`Engine`].
#[macro_export]
macro_rules! both_engines {
    (sqlite: $sqlite:expr, postgres: $postgres:expr; $($name:ident),* $(,)?) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(#[tokio::test]
            async fn $name() {
                super::$name(($sqlite)().await).await;
            })*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(#[tokio::test]
            async fn $name() {
                if let Some(arg) = ($postgres)(stringify!($name)).await {
                    super::$name(arg).await;
                }
            })*
        }
    };
}
