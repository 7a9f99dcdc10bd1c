//! PostgreSQL for tests: a fresh schema each, or the test skipped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::Connection;

/// Whether PostgreSQL tests must run (`REQUIRE_POSTGRES=1`) rather than be
/// skipped when there is no server.
pub fn postgres_required() -> bool {
    std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// A fresh schema in the database of `TEST_DATABASE_URL_PG`, dropped (with
/// everything in it) when this value is. Drop it after the pods using it.
pub struct PgSchema {
    /// `TEST_DATABASE_URL_PG` with this schema as its `search_path`: the
    /// OAuth store and the pod's pool both land in it.
    pub url: String,
    admin_url: String,
    schema: String,
}

impl PgSchema {
    /// A fresh schema for `test`; `None` (after printing `SKIPPED <test>`)
    /// if `TEST_DATABASE_URL_PG` is unset or its server unreachable and
    /// `REQUIRE_POSTGRES` is not `1`.
    pub async fn create(test: &str) -> Option<Self> {
        let admin_url = match std::env::var("TEST_DATABASE_URL_PG") {
            Ok(url) if !url.trim().is_empty() => url,
            _ => {
                assert!(
                    !postgres_required(),
                    "{test}: REQUIRE_POSTGRES=1 but TEST_DATABASE_URL_PG is not set"
                );
                println!("SKIPPED {test}: TEST_DATABASE_URL_PG is not set");
                return None;
            }
        };
        let connected = tokio::time::timeout(
            Duration::from_secs(5),
            sqlx::PgConnection::connect(&admin_url),
        )
        .await;
        let mut admin = match connected {
            Ok(Ok(conn)) => conn,
            failed => {
                let why = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => "no answer within 5 s".to_owned(),
                };
                assert!(
                    !postgres_required(),
                    "{test}: REQUIRE_POSTGRES=1 but the server of TEST_DATABASE_URL_PG is unreachable: {why}"
                );
                println!(
                    "SKIPPED {test}: the server of TEST_DATABASE_URL_PG is unreachable: {why}"
                );
                return None;
            }
        };
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name: String = test
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(24)
            .collect::<String>()
            .to_ascii_lowercase();
        let schema = format!(
            "pod_{name}_{}_{}_{nanos:x}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
            .execute(&mut admin)
            .await
            .expect("create schema");
        let _ = admin.close().await;
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}");
        Some(Self {
            url,
            admin_url,
            schema,
        })
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let schema = self.schema.clone();
        // Drop is synchronous: a thread with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("cannot drop schema {}", self.schema);
        }
    }
}
