//! Record ids: in the path (`{id}`) and in parameters.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::ApiError;

/// A record id from a path or a parameter (`None` if it is not one).
pub(crate) fn parse_id(s: &str) -> Option<i64> {
    s.parse::<i64>().ok().filter(|&id| id > 0)
}

/// The `{id}` of the path as a record id; anything else is 404.
pub(crate) struct Id(pub(crate) i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::not_found())?;
        parse_id(&raw).map(Self).ok_or_else(ApiError::not_found)
    }
}
