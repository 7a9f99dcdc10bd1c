//! multipart/form-data bodies, read with axum's [`Multipart`] extractor
//! (multer): text fields become parameters, parts with a file name become
//! uploads.

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request};
use axum::http::StatusCode;

use super::{ApiError, Params, Upload};

/// Parts of one multipart body at most: Rack's `multipart_total_part_limit`
/// (Mastodon's server), so that a body of tiny parts cannot make the pod
/// build thousands of parameters. The body size bounds the rest.
pub(super) const MAX_PARTS: usize = 4096;

/// The parameters and uploads of a multipart body of at most `max_body`
/// bytes.
///
/// # Errors
/// 400 without a boundary, for a malformed body or more than
/// [`MAX_PARTS`] parts; 413 for a body over `max_body` (or one that could
/// not be read), as for any other body.
pub(super) async fn multipart<S: Send + Sync>(
    req: Request,
    state: &S,
    max_body: usize,
) -> Result<Params, ApiError> {
    // The body is read first, then parsed from one chunk: multer scans an
    // incomplete part header again on every chunk that arrives, so a body
    // trickled in small segments would cost time quadratic in its size.
    // The body is bounded (and buffered by the other extractors anyway).
    let (head, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, max_body)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large"))?;
    let mut req = Request::from_parts(head, axum::body::Body::from(bytes));
    // The pod's own limit rather than axum's default 2 MiB, for this
    // request only (the other extractors keep theirs).
    DefaultBodyLimit::max(max_body).apply(&mut req);
    let mut form = Multipart::from_request(req, state)
        .await
        .map_err(|_| ApiError::bad_request("multipart body without a boundary"))?;
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::BAD_REQUEST {
            ApiError::bad_request("Malformed multipart body")
        } else {
            // Too large, or the body failed mid-way: as the other bodies.
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
        }
    };
    let mut params = Params::default();
    let mut parts = 0;
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ApiError::bad_request(format!(
                "Too many parts in the multipart body (at most {MAX_PARTS})"
            )));
        }
        // A part without a name is skipped (multer reads past it).
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map_or_else(
            || "application/octet-stream".to_owned(),
            str::to_ascii_lowercase,
        );
        let data = field.bytes().await.map_err(unreadable)?;
        match file_name {
            Some(file_name) => params.files.push(Upload {
                field: name,
                file_name,
                content_type,
                data: data.to_vec(),
            }),
            // As Rails: invalid UTF-8 is replaced, not refused.
            None => params.insert(&name, String::from_utf8_lossy(&data).into_owned()),
        }
    }
    Ok(params)
}
