//! What every handler uses: Mastodon-shaped errors ([`error`]), the
//! request context ([`context`]), parameters in any of the encodings
//! Mastodon clients send ([`params`], [`body`], [`multipart`]), record ids
//! ([`id`]), pagination with `Link` headers ([`pagination`]), database
//! booleans ([`flag`]) and HTML escaping ([`html`]).

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

mod body;
mod context;
mod error;
mod flag;
mod html;
mod id;
mod multipart;
mod pagination;
mod params;

pub(crate) use body::Body;
pub(crate) use context::Ctx;
pub(crate) use error::ApiError;
pub(crate) use flag::{AsInt, Flag};
pub(crate) use html::escape;
pub(crate) use id::{Id, parse_id};
pub(crate) use params::{Params, Upload};
/// A bind argument of a dynamic query.
pub(crate) use pod_kit::Arg;
/// The current time plus `seconds`, as the pod stores times.
pub(crate) use pod_kit::in_seconds;

/// What handlers return.
pub(crate) type ApiResult = Result<Response, ApiError>;

/// 200 with a JSON body.
pub(crate) fn ok(v: Value) -> ApiResult {
    Ok(Json(v).into_response())
}
