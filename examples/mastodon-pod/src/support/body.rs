//! The request body extractor: JSON, form, multipart or a raw file, over
//! the query string's parameters.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use pod_kit::body::{self as decode, JsonBodyError};
use serde_json::Map;

use super::multipart::multipart;
use super::{ApiError, Params, Upload};

/// Largest accepted request body (Mastodon's image limit).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// The parameters of a request body (JSON, form, multipart or a raw file),
/// over those of the query string, as Rails merges them.
pub(crate) struct Body(pub(crate) Params);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let mut params = Params::from_pairs(decode::query_pairs(req.uri().query()));
        let mime = decode::media_type(req.headers());
        if mime == "multipart/form-data" {
            // Streamed part by part by axum's `Multipart`, not buffered here.
            params.merge_under(multipart(req, state, MAX_BODY).await?);
            return Ok(Self(params));
        }
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY)
            .await
            .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large"))?;
        let body = if decode::is_blank(&bytes) && !mime.starts_with("image/") {
            Params::default()
        } else if mime == "application/json" || mime.ends_with("+json") {
            match decode::json_object(&bytes) {
                Ok(map) => Params {
                    map,
                    files: Vec::new(),
                },
                Err(JsonBodyError::Malformed(e)) => {
                    return Err(ApiError::bad_request(format!("Invalid JSON body: {e}")));
                }
                Err(_) => return Err(ApiError::invalid("the body must be a JSON object")),
            }
        } else if decode::is_form(&mime) || mime.is_empty() {
            Params::from_pairs(decode::form_pairs(&bytes))
        } else if mime.starts_with("image/")
            || mime.starts_with("video/")
            || mime.starts_with("audio/")
        {
            Params {
                map: Map::new(),
                files: vec![Upload {
                    field: "file".into(),
                    file_name: String::new(),
                    content_type: mime,
                    data: bytes.to_vec(),
                }],
            }
        } else {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Unsupported content type {mime:?}"),
            ));
        };
        params.merge_under(body);
        Ok(Self(params))
    }
}
