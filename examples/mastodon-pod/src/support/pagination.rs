//! Mastodon's pagination: `max_id`, `since_id`, `min_id` and `limit`
//! in, the page's rows and a `Link` header out.

use axum::Json;
use axum::http::header::LINK;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::IntoResponse;
use serde_json::Value;

use super::{ApiError, ApiResult, Arg, Ctx};

/// Pagination parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    max_id: Option<i64>,
    since_id: Option<i64>,
    min_id: Option<i64>,
    pub(crate) limit: i64,
}

impl Ctx {
    /// The pagination parameters of the query (limit: default 20, max 40).
    pub(crate) fn page(&self) -> Result<Page, ApiError> {
        self.page_with(20, 40)
    }

    /// Pagination with other limits.
    pub(crate) fn page_with(&self, default: i64, max: i64) -> Result<Page, ApiError> {
        let id = |k: &str| -> Result<Option<i64>, ApiError> {
            match self.query.raw_text(k)? {
                None => Ok(None),
                Some(s) if s.is_empty() => Ok(None),
                Some(s) => s
                    .parse::<i64>()
                    .map(Some)
                    .map_err(|_| ApiError::bad_request(format!("Invalid {k}: not an id"))),
            }
        };
        let limit = match self.query.raw_text("limit")? {
            None => default,
            Some(s) if s.is_empty() => default,
            Some(s) => s
                .parse::<i64>()
                .map_err(|_| ApiError::bad_request("Invalid limit: not a number"))?
                .clamp(1, max),
        };
        Ok(Page {
            max_id: id("max_id")?,
            since_id: id("since_id")?,
            min_id: id("min_id")?,
            limit,
        })
    }

    /// The link to the same request with other pagination parameters.
    fn link(&self, param: &str, value: i64) -> String {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.raw_query {
            if !matches!(k.as_str(), "max_id" | "min_id" | "since_id") {
                ser.append_pair(k, v);
            }
        }
        ser.append_pair(param, &value.to_string());
        format!("{}{}?{}", self.base, self.path, ser.finish())
    }

    /// A page of results with Mastodon's `Link` header (`next` when the page
    /// is full, `prev` when it is not empty). `keys` are the pagination keys
    /// of the rows, newest first.
    pub(crate) fn paged(&self, page: &Page, keys: &[i64], items: Vec<Value>) -> ApiResult {
        let mut links = Vec::new();
        if let (Some(first), Some(last)) = (keys.first(), keys.last()) {
            if keys.len() as i64 >= page.limit {
                links.push(format!("<{}>; rel=\"next\"", self.link("max_id", *last)));
            }
            links.push(format!("<{}>; rel=\"prev\"", self.link("min_id", *first)));
        }
        let mut headers = HeaderMap::new();
        if !links.is_empty()
            && let Ok(v) = HeaderValue::from_str(&links.join(", "))
        {
            headers.insert(LINK, v);
        }
        Ok((headers, Json(Value::Array(items))).into_response())
    }

    /// Runs a paginated query: `select` returns `(key, id)` rows and ends
    /// in a `WHERE` clause; the pagination conditions, order and limit are
    /// appended. Rows come back newest first.
    pub(crate) async fn page_rows(
        &self,
        select: &str,
        key: &str,
        args: &[Arg],
        page: &Page,
    ) -> Result<Vec<(i64, i64)>, ApiError> {
        let mut sql = select.to_owned();
        if let Some(v) = page.max_id {
            sql.push_str(&format!(" AND {key} < {v}"));
        }
        if let Some(v) = page.since_id {
            sql.push_str(&format!(" AND {key} > {v}"));
        }
        if let Some(v) = page.min_id {
            sql.push_str(&format!(" AND {key} > {v}"));
        }
        let ascending = page.min_id.is_some();
        sql.push_str(&format!(
            " ORDER BY {key} {} LIMIT {}",
            if ascending { "ASC" } else { "DESC" },
            page.limit
        ));
        let mut query = sqlx::query_as::<_, (i64, i64)>(&sql);
        for a in args {
            query = query.bind(a);
        }
        let mut rows = query.fetch_all(&self.db).await?;
        if ascending {
            rows.reverse();
        }
        Ok(rows)
    }
}
