//! Handlers' failures in Django REST framework's shapes, and the
//! field-error collector.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pod_kit::db_error::{self, Cause};
use serde_json::{Map, Value, json};

/// A handler's failure, rendered in Django REST framework's shapes.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// 404 `{"detail": "Not found."}`.
    NotFound,
    /// 404 `{"detail": "Invalid page."}`.
    InvalidPage,
    /// 403 `{"detail": "You do not have permission to perform this action."}`.
    Forbidden,
    /// 400 with a field-error object (`{"name": ["This field is required."]}`).
    Invalid(Map<String, Value>),
    /// 400 `{"detail": ...}`.
    BadRequest(String),
    /// Another status with `{"detail": ...}` (an unreadable or too large body).
    Status(StatusCode, String),
    /// A genuine backend failure: 500.
    Db(sqlx::Error),
}

impl From<sqlx::Error> for ApiError {
    /// Every data exception (class 22: input PostgreSQL refuses where
    /// SQLite stores it) is the client's input, a 400 as DRF answers a
    /// value its fields refuse; the handlers check their input first, so
    /// this is the net under them. A foreign-key or unique violation is a
    /// race the handlers' checks lost (the row referenced was deleted, the
    /// same row was inserted meanwhile): a 400 too. Anything else
    /// (not-null, check violations: the server's bugs) is a 500. See
    /// [`pod_kit::db_error`].
    fn from(e: sqlx::Error) -> Self {
        match db_error::cause(&e) {
            Cause::MissingReference => {
                tracing::debug!(error = %e, "a referenced row vanished");
                Self::BadRequest("A referenced object does not exist.".into())
            }
            Cause::Duplicate => {
                tracing::debug!(error = %e, "a duplicate");
                Self::BadRequest("This object already exists.".into())
            }
            Cause::BadValue => {
                tracing::debug!(error = %e, "input refused by the database");
                Self::BadRequest("Invalid input.".into())
            }
            _ => Self::Db(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            Self::NotFound => (StatusCode::NOT_FOUND, json!({"detail": "Not found."})),
            Self::InvalidPage => (StatusCode::NOT_FOUND, json!({"detail": "Invalid page."})),
            Self::Forbidden => (
                StatusCode::FORBIDDEN,
                json!({"detail": "You do not have permission to perform this action."}),
            ),
            Self::Invalid(fields) => (StatusCode::BAD_REQUEST, Value::Object(fields)),
            Self::BadRequest(detail) => (StatusCode::BAD_REQUEST, json!({ "detail": detail })),
            Self::Status(status, detail) => (status, json!({ "detail": detail })),
            Self::Db(e) => {
                tracing::error!(error = %e, "database failure");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"detail": "A server error occurred."}),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}

/// What handlers return.
pub(crate) type ApiResult<T = Response> = Result<T, ApiError>;

/// A field-error collector: `errors.add("name", "This field is required.")`.
#[derive(Debug, Default)]
pub(crate) struct FieldErrors(Map<String, Value>);

impl FieldErrors {
    pub(crate) fn add(&mut self, field: &str, message: impl Into<String>) {
        let entry = self
            .0
            .entry(field.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = entry {
            list.push(Value::String(message.into()));
        }
    }

    /// `Err(Invalid)` if any error was added.
    pub(crate) fn finish(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Invalid(self.0))
        }
    }
}

/// A single-field 400.
pub(crate) fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    let mut errors = FieldErrors::default();
    errors.add(field, message);
    ApiError::Invalid(errors.0)
}

pub(crate) const REQUIRED: &str = "This field is required.";

#[cfg(test)]
mod tests {
    use super::ApiError;
    use pod_kit::testing::refusals;

    /// How `ApiError` answers constraint violations raised by a real
    /// engine at `url` (through `Any`, as the handlers see them).
    async fn violations_are_mapped(url: &str) {
        let r = refusals(url).await;
        let foreign = ApiError::from(r.foreign_key);
        assert!(matches!(foreign, ApiError::BadRequest(_)), "{foreign:?}");
        let unique = ApiError::from(r.unique);
        assert!(matches!(unique, ApiError::BadRequest(_)), "{unique:?}");
        let not_null = ApiError::from(r.not_null);
        assert!(matches!(not_null, ApiError::Db(_)), "{not_null:?}");
        let check = ApiError::from(r.check);
        assert!(matches!(check, ApiError::Db(_)), "{check:?}");
    }

    #[tokio::test]
    async fn constraint_violations_sqlite() {
        let dir = tempfile::tempdir().expect("tempdir");
        violations_are_mapped(&format!("sqlite://{}/t.db?mode=rwc", dir.path().display())).await;
    }

    #[tokio::test]
    async fn constraint_violations_postgres() {
        if let Some(schema) =
            pod_kit::testing::PgSchema::create("constraint_violations_postgres").await
        {
            violations_are_mapped(&schema.url).await;
        }
    }
}
