//! What every handler shares: DRF-shaped errors ([`error`]), the request
//! extractors (path key, body, query: [`extract`]), pagination
//! ([`pagination`]), body fields ([`fields`]), list queries
//! ([`list_query`]), and the small helpers here.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use scope_runtime::Principal;
use serde_json::Value;

use crate::Scope;

mod error;
mod extract;
mod fields;
mod list_query;
mod pagination;

pub(crate) use error::{ApiError, ApiResult, FieldErrors, REQUIRED, invalid};
pub(crate) use extract::{Body, Key, Query};
pub(crate) use fields::{
    PRIVACY_LEVELS, as_int, bool_field, choice_field, int_field, string_field,
};
pub(crate) use list_query::{Arg, Where};
pub(crate) use pagination::Page;

/// The numeric user id of a token, if it speaks for a user.
pub(crate) fn user_of(principal: Option<&Principal<Scope>>) -> Option<i64> {
    principal
        .and_then(Principal::user_id)
        .and_then(|id| id.parse().ok())
}

/// The user id of a user token (routes declared `token = user`). A token
/// whose user id is not a row id cannot own anything: 403.
pub(crate) fn me(principal: &Principal<Scope>) -> ApiResult<i64> {
    user_of(Some(principal)).ok_or(ApiError::Forbidden)
}

/// `201 Created` with a JSON body.
pub(crate) fn created(body: Value) -> Response {
    (StatusCode::CREATED, Json(body)).into_response()
}

/// `200 OK` with a JSON body.
pub(crate) fn ok(body: Value) -> Response {
    Json(body).into_response()
}

/// `204 No Content`.
pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// The current time as stored (bound, the same text on both engines):
/// ISO 8601, UTC, milliseconds.
pub(crate) use pod_kit::now;

/// A random version-4 UUID.
pub(crate) fn new_uuid() -> ApiResult<String> {
    pod_kit::uuid_v4().map_err(|e| {
        tracing::error!(error = %e, "no random bytes");
        ApiError::Status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "A server error occurred.".into(),
        )
    })
}

/// Begins a transaction that writes (`BEGIN IMMEDIATE` on SQLite).
pub(crate) use pod_kit::begin_write as begin;
