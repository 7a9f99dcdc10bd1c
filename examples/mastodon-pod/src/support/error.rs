//! The pod's errors, answered as Mastodon does: `{"error": "..."}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pod_kit::db_error::{self, Cause};
use serde_json::json;

/// An error answered as `{"error": "..."}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    /// The status it answers with.
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// Its message.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 404 `Record not found`.
    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Record not found")
    }

    /// 422 `Validation failed: ...`.
    pub(crate) fn invalid(what: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Validation failed: {what}"),
        )
    }

    /// 403 `This action is not allowed`.
    pub(crate) fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "This action is not allowed")
    }

    /// 400 with a message.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match db_error::cause(&e) {
            // Unique and foreign-key violations come from input or races (a
            // duplicate, a vanished account): answer them as validation
            // failures.
            Cause::Duplicate | Cause::MissingReference => {
                Self::invalid("the record conflicts with existing data")
            }
            // A data exception (SQLSTATE class 22): input PostgreSQL
            // refuses where SQLite stores it (a NUL character in text,
            // 22021) or an integer out of range (22003).
            Cause::BadValue => Self::invalid("a value is not acceptable"),
            // Not-null and check violations are the server's bugs (the
            // handlers check their input): 500s.
            _ => {
                tracing::error!(error = %e, "database failure");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::ApiError;
    use axum::http::StatusCode;
    use pod_kit::testing::refusals;

    /// How `ApiError` answers errors raised by a real engine at `url`
    /// (through `Any`, as the handlers see them).
    async fn only_input_errors_are_422(url: &str, postgres: bool) {
        let r = refusals(url).await;
        let mut cases = vec![
            ("foreign key", r.foreign_key, true),
            ("unique", r.unique, true),
            ("not null", r.not_null, false),
            ("check", r.check, false),
            ("syntax", r.syntax, false),
        ];
        if postgres {
            // A data exception (class 22): 22003, out of range.
            cases.push(("out of range", r.out_of_range.expect("PostgreSQL"), true));
        }
        for (sql, error, input) in cases {
            let e = ApiError::from(error);
            if input {
                assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY, "{sql}");
                assert_eq!(e.message.matches("Validation failed:").count(), 1, "{e:?}");
            } else {
                assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR, "{sql}");
            }
        }
    }

    #[tokio::test]
    async fn db_errors_sqlite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}/t.db?mode=rwc", dir.path().display());
        only_input_errors_are_422(&url, false).await;
    }

    #[tokio::test]
    async fn db_errors_postgres() {
        if let Some(schema) = pod_kit::testing::PgSchema::create("db_errors_postgres").await {
            only_input_errors_are_422(&schema.url, true).await;
        }
    }
}
