//! The request extractors: the path key, the body, the query string.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use pod_kit::body::{self, JsonBodyError};
use serde_json::{Map, Value};

use super::{ApiError, ApiResult, invalid};

/// The single path parameter, as text. A failed extraction is a 404 (the
/// object cannot exist), never axum's plain-text 400.
pub(crate) struct Key(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for Key {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // No stored key holds a NUL (PostgreSQL text cannot): 404 on every
        // engine without asking the database.
        Path::<String>::from_request_parts(parts, state)
            .await
            .ok()
            .filter(|Path(k)| !k.contains('\0'))
            .map(|Path(k)| Self(k))
            .ok_or(ApiError::NotFound)
    }
}

impl Key {
    /// The key as an integer primary key; anything else cannot exist: 404.
    pub(crate) fn id(&self) -> ApiResult<i64> {
        self.0
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(ApiError::NotFound)
    }
}

/// A request body as a JSON object: `application/json` (the default) or
/// `application/x-www-form-urlencoded` (values are strings; a repeated key
/// becomes a list). Malformed bodies are 400s in DRF's shape.
pub(crate) struct Body(pub(crate) Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let form = body::is_form(&body::media_type(req.headers()));
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::Status(e.status(), e.body_text()))?;
        if form {
            let mut map = Map::new();
            for (k, v) in body::form_pairs(&bytes) {
                let v = Value::String(v);
                match map.get_mut(&k) {
                    Some(Value::Array(list)) => list.push(v),
                    Some(first) => {
                        let first = first.take();
                        map.insert(k, Value::Array(vec![first, v]));
                    }
                    None => {
                        map.insert(k, v);
                    }
                }
            }
            return Ok(Self(map));
        }
        if body::is_blank(&bytes) {
            return Ok(Self(Map::new()));
        }
        match body::json_object(&bytes) {
            Ok(map) => Ok(Self(map)),
            Err(JsonBodyError::Malformed(e)) => {
                Err(ApiError::BadRequest(format!("JSON parse error - {e}")))
            }
            Err(_) => Err(invalid(
                "non_field_errors",
                "Invalid data. Expected a dictionary, but got another type.",
            )),
        }
    }
}

/// The query string, decoded (the last value of a repeated key wins) and
/// kept raw for pagination links. Never fails.
pub(crate) struct Query {
    pub(crate) path: String,
    pub(crate) pairs: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            path: parts.uri.path().to_owned(),
            pairs: body::query_pairs(parts.uri.query()),
        })
    }
}

impl Query {
    /// No query string (for internal uses of list helpers).
    pub(crate) fn empty() -> Self {
        Self {
            path: String::new(),
            pairs: Vec::new(),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean filter (`true`/`false`, `1`/`0`, `yes`/`no`); anything
    /// else is treated as absent, as django-filter's BooleanFilter does.
    pub(crate) fn bool(&self, key: &str) -> Option<bool> {
        match self.get(key)?.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" => Some(false),
            _ => None,
        }
    }

    /// The link to this path with `page` replaced (or removed for page 1,
    /// as DRF does for `previous`).
    pub(super) fn link(&self, page: Option<i64>) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            if k != "page" {
                out.append_pair(k, v);
            }
        }
        if let Some(page) = page {
            out.append_pair("page", &page.to_string());
        }
        let query = out.finish();
        if query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{query}", self.path)
        }
    }
}
