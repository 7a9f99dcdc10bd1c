//! DRF's `PageNumberPagination`: `page` and `page_size` in,
//! `{"count", "next", "previous", "results"}` out.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{ApiError, ApiResult, Query};

/// Funkwhale's default page size.
pub(crate) const PAGE_SIZE: i64 = 25;
/// The largest page size a client may ask for.
pub(crate) const MAX_PAGE_SIZE: i64 = 100;

/// One page of a list: `LIMIT`/`OFFSET` to query with, then `wrap`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    pub(crate) limit: i64,
    pub(crate) offset: i64,
    number: i64,
}

impl Page {
    /// DRF's PageNumberPagination: a missing, non-positive or non-numeric
    /// `page_size` is the default, a large one is clamped; `page` must be a
    /// positive integer or `last`, within the pages that exist (page 1
    /// always exists), else 404 "Invalid page.".
    pub(crate) fn new(query: &Query, count: i64) -> ApiResult<Self> {
        let limit = query
            .get("page_size")
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|n| *n > 0)
            .map_or(PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE));
        let pages = ((count + limit - 1) / limit).max(1);
        let number = match query.get("page") {
            None => 1,
            Some("last") => pages,
            Some(s) => s.trim().parse::<i64>().map_err(|_| ApiError::InvalidPage)?,
        };
        if number < 1 || number > pages {
            return Err(ApiError::InvalidPage);
        }
        Ok(Self {
            limit,
            offset: (number - 1) * limit,
            number,
        })
    }

    /// `{"count", "next", "previous", "results"}`.
    pub(crate) fn wrap(self, query: &Query, count: i64, results: Vec<Value>) -> Response {
        let next = (self.offset + self.limit < count).then(|| query.link(Some(self.number + 1)));
        let previous = (self.number > 1).then(|| {
            if self.number == 2 {
                query.link(None)
            } else {
                query.link(Some(self.number - 1))
            }
        });
        Json(json!({
            "count": count,
            "next": next,
            "previous": previous,
            "results": results,
        }))
        .into_response()
    }
}
