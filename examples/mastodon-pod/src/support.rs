//! What every handler uses: Mastodon-shaped errors, the request context
//! (database, base URL, viewer, query), bodies in any of the encodings
//! Mastodon clients send, and pagination with `Link` headers.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{CONTENT_TYPE, LINK};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use scope_runtime::token::Principal;
use serde_json::{Map, Value, json};
use sqlx::AnyPool;
use sqlx::any::AnyArguments;

use crate::{AppState, Scope};

/// Largest accepted request body (Mastodon's image limit).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// An error answered as `{"error": "..."}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
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
        if let sqlx::Error::Database(db) = &e {
            // Unique and foreign-key violations come from input or races (a
            // duplicate, a vanished account): answer them as validation
            // failures. Not-null and check violations are the server's
            // bugs (the handlers check their input): 500s, below.
            if matches!(
                db.kind(),
                sqlx::error::ErrorKind::UniqueViolation
                    | sqlx::error::ErrorKind::ForeignKeyViolation
            ) {
                return Self::invalid("the record conflicts with existing data");
            }
            // A data exception (SQLSTATE class 22): input PostgreSQL
            // refuses where SQLite stores it (a NUL character in text,
            // 22021) or an integer out of range (22003).
            if db.code().is_some_and(|code| code.starts_with("22")) {
                return Self::invalid("a value is not acceptable");
            }
        }
        tracing::error!(error = %e, "database failure");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

/// A boolean read from the database: SQLite answers flags and `EXISTS`
/// as integers, PostgreSQL `EXISTS` (and `users.admin`) as booleans; this
/// reads both (the pod's flag columns are integers 0/1 on both engines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Flag(pub(crate) bool);

impl sqlx::Type<sqlx::Any> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <bool as sqlx::Type<sqlx::Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        ty.kind() == sqlx::any::AnyTypeInfoKind::Bool || ty.kind().is_integer()
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Any> for Flag {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        match <bool as sqlx::Decode<'r, sqlx::Any>>::decode(value.clone()) {
            Ok(b) => Ok(Self(b)),
            Err(_) => <i64 as sqlx::Decode<'r, sqlx::Any>>::decode(value).map(|n| Self(n != 0)),
        }
    }
}

impl serde::Serialize for Flag {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(self.0)
    }
}

/// A boolean as the flag columns store it (integer 0/1 on both engines:
/// PostgreSQL does not assign a boolean to an integer column).
pub(crate) trait AsInt {
    /// The integer form.
    type Int;
    /// `true` is 1.
    fn int(self) -> Self::Int;
}

impl AsInt for bool {
    type Int = i64;
    fn int(self) -> i64 {
        i64::from(self)
    }
}

impl AsInt for Option<bool> {
    type Int = Option<i64>;
    fn int(self) -> Option<i64> {
        self.map(i64::from)
    }
}

/// The current time plus `seconds`, as the pod stores times (ISO 8601,
/// UTC, milliseconds): computed here and bound, the same on both engines.
pub(crate) fn in_seconds(seconds: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    pod_kit::database::iso8601_millis(now.saturating_add(seconds.saturating_mul(1000)))
}

/// What handlers return.
pub(crate) type ApiResult = Result<Response, ApiError>;

/// 200 with a JSON body.
pub(crate) fn ok(v: Value) -> ApiResult {
    Ok(Json(v).into_response())
}

/// An uploaded file (a multipart part with a file name, or a raw body).
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    pub(crate) field: String,
    pub(crate) file_name: String,
    pub(crate) content_type: String,
    pub(crate) data: Vec<u8>,
}

/// Parameters from the query string and the body, Rails style: `a[]=1`
/// makes an array, `a[b]=1` an object.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params {
    map: Map<String, Value>,
    pub(crate) files: Vec<Upload>,
}

/// How deep `a[b][c]` keys may nest.
const MAX_NESTING: usize = 16;

impl Params {
    fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut p = Self::default();
        for (k, v) in pairs {
            p.insert(&k, v);
        }
        p
    }

    fn insert(&mut self, key: &str, value: String) {
        let (base, mut rest) = match key.find('[') {
            Some(i) if i > 0 => (&key[..i], &key[i..]),
            _ => (key, ""),
        };
        let mut segments = Vec::new();
        while let Some(stripped) = rest.strip_prefix('[') {
            let Some(end) = stripped.find(']') else {
                break;
            };
            segments.push(stripped[..end].to_owned());
            rest = &stripped[end + 1..];
        }
        if !rest.is_empty() || segments.len() > MAX_NESTING {
            // Malformed brackets, or nesting deeper than any Mastodon
            // parameter (Rack stops at 100): keep the key as written, so
            // the recursion below stays shallow.
            self.map.insert(key.to_owned(), Value::String(value));
            return;
        }
        let slot = self.map.entry(base.to_owned()).or_insert(Value::Null);
        insert_at(slot, &segments, value);
    }

    fn merge_under(&mut self, other: Self) {
        for (k, v) in other.map {
            self.map.insert(k, v);
        }
        self.files.extend(other.files);
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// Whether the parameter was sent.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// A string parameter (numbers and booleans are written out).
    pub(crate) fn text(&self, key: &str) -> Result<Option<String>, ApiError> {
        match self.raw_text(key)? {
            // PostgreSQL text cannot hold a NUL (SQLite's can): text bound
            // to a query is refused on both engines alike.
            Some(s) if s.contains('\0') => {
                Err(ApiError::invalid(format!("{key} contains a null byte")))
            }
            other => Ok(other),
        }
    }

    /// [`Params::text`] without the NUL check, for values parsed before
    /// any query sees them (ids, limits).
    pub(crate) fn raw_text(&self, key: &str) -> Result<Option<String>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(ApiError::invalid(format!("{key} must be a string"))),
        }
    }

    /// A boolean parameter (`true`, `1`, `on` or `false`, `0`, `off`, ``).
    pub(crate) fn flag(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(Some(false)),
            Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(Some(true)),
            Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                "true" | "1" | "on" | "t" | "yes" => Ok(Some(true)),
                "false" | "0" | "off" | "f" | "no" | "" => Ok(Some(false)),
                _ => Err(ApiError::invalid(format!("{key} must be a boolean"))),
            },
            Some(_) => Err(ApiError::invalid(format!("{key} must be a boolean"))),
        }
    }

    /// An integer parameter.
    pub(crate) fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| ApiError::invalid(format!("{key} must be an integer"))),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| ApiError::invalid(format!("{key} must be an integer"))),
            Some(_) => Err(ApiError::invalid(format!("{key} must be an integer"))),
        }
    }

    /// A list parameter: `k[]=a&k[]=b`, a JSON array, or a single value.
    pub(crate) fn list(&self, key: &str) -> Result<Vec<String>, ApiError> {
        let item = |v: &Value| match v {
            Value::String(s) if s.contains('\0') => {
                Err(ApiError::invalid(format!("{key} contains a null byte")))
            }
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(ApiError::invalid(format!(
                "{key} must be a list of strings"
            ))),
        };
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items.iter().filter(|v| !v.is_null()).map(item).collect(),
            Some(Value::Object(items)) => items.values().map(item).collect(),
            Some(v) => Ok(vec![item(v)?]),
        }
    }

    /// A list of record ids; one that is not a number is an unknown record.
    pub(crate) fn ids(&self, key: &str) -> Result<Vec<i64>, ApiError> {
        self.list(key)?
            .iter()
            .map(|s| parse_id(s).ok_or_else(ApiError::not_found))
            .collect()
    }

    /// The nested parameters `key[...]`.
    pub(crate) fn nested(&self, key: &str) -> Self {
        match self.get(key) {
            Some(Value::Object(map)) => Self {
                map: map.clone(),
                files: Vec::new(),
            },
            _ => Self::default(),
        }
    }

    /// The first uploaded file under this field name.
    pub(crate) fn file(&self, field: &str) -> Option<&Upload> {
        self.files.iter().find(|f| f.field == field)
    }
}

fn insert_at(slot: &mut Value, segments: &[String], value: String) {
    match segments.split_first() {
        None => *slot = Value::String(value),
        Some((seg, rest)) if seg.is_empty() => {
            if !slot.is_array() {
                *slot = Value::Array(Vec::new());
            }
            if let Value::Array(items) = slot {
                if rest.is_empty() {
                    items.push(Value::String(value));
                } else {
                    let mut child = Value::Null;
                    insert_at(&mut child, rest, value);
                    items.push(child);
                }
            }
        }
        Some((seg, rest)) => {
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(map) = slot {
                let child = map.entry(seg.clone()).or_insert(Value::Null);
                insert_at(child, rest, value);
            }
        }
    }
}

/// A record id from a path or a parameter (`None` if it is not one).
pub(crate) fn parse_id(s: &str) -> Option<i64> {
    s.parse::<i64>().ok().filter(|&id| id > 0)
}

/// The request's context: the database, how to write URLs, the viewer and
/// the query parameters.
pub(crate) struct Ctx {
    pub(crate) db: AnyPool,
    /// The configured issuer without a trailing slash (`https://host`).
    pub(crate) base: String,
    /// The issuer's host (and port).
    pub(crate) host: String,
    path: String,
    raw_query: Vec<(String, String)>,
    pub(crate) query: Params,
    /// The user of the token, if a user token was sent.
    pub(crate) viewer: Option<i64>,
}

impl Ctx {
    /// The authenticated user, or 401 (app tokens and anonymous requests).
    pub(crate) fn me(&self) -> Result<i64, ApiError> {
        self.viewer.ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "This method requires an authenticated user",
            )
        })
    }

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

    /// A URL of this server.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The streaming API's URL: the issuer's host, `wss://` under an
    /// `https://` issuer, `ws://` otherwise.
    pub(crate) fn streaming_url(&self) -> String {
        let secure = self.base.starts_with("https://");
        format!("{}://{}", if secure { "wss" } else { "ws" }, self.host)
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
            query = bind(query, a);
        }
        let mut rows = query.fetch_all(&self.db).await?;
        if ascending {
            rows.reverse();
        }
        Ok(rows)
    }
}

/// A bind argument of a dynamic query.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Int(Option<i64>),
    Text(String),
}

fn bind<'q, O>(
    q: sqlx::query::QueryAs<'q, sqlx::Any, O, AnyArguments<'q>>,
    a: &Arg,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, AnyArguments<'q>> {
    match a {
        Arg::Int(v) => q.bind(*v),
        Arg::Text(s) => q.bind(s.clone()),
    }
}

/// Pagination parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    max_id: Option<i64>,
    since_id: Option<i64>,
    min_id: Option<i64>,
    pub(crate) limit: i64,
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let raw_query = query_pairs(parts.uri.query());
        let viewer = parts
            .extensions
            .get::<Principal<Scope>>()
            .and_then(|p| p.user_id())
            .and_then(parse_id);
        Ok(Self {
            db: state.db.clone(),
            // From the configured issuer, never from the request's headers
            // (see `AppState::new`).
            base: state.base.to_string(),
            host: state.host.to_string(),
            path: parts.uri.path().to_owned(),
            query: Params::from_pairs(raw_query.clone()),
            raw_query,
            viewer,
        })
    }
}

/// The parameters of a request body (JSON, form, multipart or a raw file),
/// over those of the query string, as Rails merges them.
pub(crate) struct Body(pub(crate) Params);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let mut params = Params::from_pairs(query_pairs(req.uri().query()));
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY)
            .await
            .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large"))?;
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let body = if bytes.iter().all(u8::is_ascii_whitespace) && !mime.starts_with("image/") {
            Params::default()
        } else if mime == "application/json" || mime.ends_with("+json") {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(map)) => Params {
                    map,
                    files: Vec::new(),
                },
                Ok(_) => return Err(ApiError::invalid("the body must be a JSON object")),
                Err(e) => return Err(ApiError::bad_request(format!("Invalid JSON body: {e}"))),
            }
        } else if mime == "multipart/form-data" {
            multipart(&content_type, &bytes)?
        } else if mime == "application/x-www-form-urlencoded" || mime.is_empty() {
            Params::from_pairs(
                form_urlencoded::parse(&bytes).map(|(k, v)| (k.into_owned(), v.into_owned())),
            )
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

/// A small multipart/form-data reader: text fields become parameters, parts
/// with a file name become uploads.
fn multipart(content_type: &str, body: &[u8]) -> Result<Params, ApiError> {
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .map(|b| b.trim_matches('"'))
        .filter(|b| !b.is_empty())
        .ok_or_else(|| ApiError::bad_request("multipart body without a boundary"))?;
    let delimiter = format!("--{boundary}");
    let malformed = || ApiError::bad_request("Malformed multipart body");
    let mut params = Params::default();
    let mut rest = body;
    let start = find(rest, delimiter.as_bytes()).ok_or_else(malformed)?;
    rest = &rest[start + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            break;
        }
        rest = rest.strip_prefix(b"\r\n").ok_or_else(malformed)?;
        let head_end = find(rest, b"\r\n\r\n").ok_or_else(malformed)?;
        let head = String::from_utf8_lossy(&rest[..head_end]).into_owned();
        rest = &rest[head_end + 4..];
        let end_marker = format!("\r\n{delimiter}");
        let end = find(rest, end_marker.as_bytes()).ok_or_else(malformed)?;
        let data = &rest[..end];
        rest = &rest[end + end_marker.len()..];
        let mut name = None;
        let mut file_name = None;
        let mut part_type = String::from("application/octet-stream");
        for line in head.split("\r\n") {
            let Some((h, v)) = line.split_once(':') else {
                continue;
            };
            if h.trim().eq_ignore_ascii_case("content-disposition") {
                for attr in v.split(';') {
                    let attr = attr.trim();
                    if let Some(n) = attr.strip_prefix("name=") {
                        name = Some(n.trim_matches('"').to_owned());
                    } else if let Some(n) = attr.strip_prefix("filename=") {
                        file_name = Some(n.trim_matches('"').to_owned());
                    }
                }
            } else if h.trim().eq_ignore_ascii_case("content-type") {
                part_type = v.trim().to_ascii_lowercase();
            }
        }
        let Some(name) = name else {
            continue;
        };
        match file_name {
            Some(file_name) => params.files.push(Upload {
                field: name,
                file_name,
                content_type: part_type,
                data: data.to_vec(),
            }),
            None => params.insert(&name, String::from_utf8_lossy(data).into_owned()),
        }
    }
    Ok(params)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Escapes text for HTML.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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

/// Creates a notification for `recipient` unless it is the actor's own
/// action or the recipient blocks the actor or mutes their notifications.
pub(crate) async fn notify(
    db: &AnyPool,
    recipient: i64,
    from: i64,
    kind: &str,
    status_id: Option<i64>,
) -> Result<(), ApiError> {
    if recipient == from {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO notifications (account_id, from_account_id, type, status_id) \
         SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM blocks WHERE account_id = $1 AND target_account_id = $2) \
         AND NOT EXISTS (SELECT 1 FROM mutes WHERE account_id = $1 AND target_account_id = $2 AND hide_notifications = 1)",
    )
    .bind(recipient)
    .bind(from)
    .bind(kind)
    .bind(status_id)
    .execute(db)
    .await?;
    Ok(())
}

impl Ctx {
    /// A context outside any request (demo data), writing URLs for
    /// `http://localhost`.
    pub(crate) fn internal(db: AnyPool, viewer: Option<i64>) -> Self {
        Self {
            db,
            base: "http://localhost".into(),
            host: "localhost".into(),
            path: String::new(),
            raw_query: Vec::new(),
            query: Params::default(),
            viewer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ApiError;
    use axum::http::StatusCode;
    use sqlx::AnyPool;

    /// How `ApiError` answers errors raised by a real engine at `url`
    /// (through `Any`, as the handlers see them).
    async fn only_input_errors_are_422(url: &str, postgres: bool) {
        sqlx::any::install_default_drivers();
        let db = AnyPool::connect(url).await.expect("connect");
        for ddl in [
            "CREATE TABLE parents (id BIGINT PRIMARY KEY)",
            "CREATE TABLE children (id BIGINT PRIMARY KEY, \
             parent_id BIGINT NOT NULL REFERENCES parents(id), n BIGINT CHECK (n > 0))",
            "INSERT INTO parents (id) VALUES (1)",
        ] {
            sqlx::query(ddl).execute(&db).await.expect(ddl);
        }
        let mut cases = vec![
            ("INSERT INTO children (id, parent_id) VALUES (1, 99)", true),
            ("INSERT INTO parents (id) VALUES (1)", true),
            ("INSERT INTO children (id) VALUES (2)", false),
            (
                "INSERT INTO children (id, parent_id, n) VALUES (3, 1, 0)",
                false,
            ),
            ("SELEKT 1", false),
        ];
        if postgres {
            // A data exception (class 22): 22003, out of range.
            cases.push(("SELECT CAST(9223372036854775807 AS BIGINT) + 1", true));
        }
        for (sql, input) in cases {
            let e = ApiError::from(sqlx::query(sql).execute(&db).await.expect_err(sql));
            if input {
                assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY, "{sql}");
                assert_eq!(e.message.matches("Validation failed:").count(), 1, "{e:?}");
            } else {
                assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR, "{sql}");
            }
        }
        db.close().await;
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
