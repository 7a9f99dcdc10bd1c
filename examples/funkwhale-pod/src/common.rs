//! What every handler shares: DRF-shaped errors, the request extractors
//! (path key, body, query), pagination, and small helpers.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use pod_kit::body::{self, JsonBodyError};
use pod_kit::db_error::{self, Cause};
use scope_runtime::token::Principal;
use serde_json::{Map, Value, json};
use sqlx::AnyPool;

use crate::{Scope, privacy};

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
    fn link(&self, page: Option<i64>) -> String {
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

/// Reads a required or optional string field, checking its length.
pub(crate) fn string_field(
    body: &Map<String, Value>,
    field: &str,
    required: bool,
    max: usize,
    errors: &mut FieldErrors,
) -> Option<String> {
    match body.get(field) {
        None if required => {
            errors.add(field, REQUIRED);
            None
        }
        None => None,
        Some(Value::Null) => {
            errors.add(field, "This field may not be null.");
            None
        }
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.contains('\0') {
                // Django's ProhibitNullCharactersValidator.
                errors.add(field, "Null characters are not allowed.");
                None
            } else if s.is_empty() && required {
                errors.add(field, "This field may not be blank.");
                None
            } else if s.chars().count() > max {
                errors.add(
                    field,
                    format!("Ensure this field has no more than {max} characters."),
                );
                None
            } else {
                Some(s.to_owned())
            }
        }
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => {
            errors.add(field, "Not a valid string.");
            None
        }
    }
}

/// Reads an integer field (a JSON number or a numeric string, as DRF accepts).
pub(crate) fn int_field(
    body: &Map<String, Value>,
    field: &str,
    required: bool,
    errors: &mut FieldErrors,
) -> Option<i64> {
    match body.get(field) {
        None if required => {
            errors.add(field, REQUIRED);
            None
        }
        None => None,
        Some(v) => match as_int(v) {
            Some(n) => Some(n),
            None => {
                errors.add(field, "A valid integer is required.");
                None
            }
        },
    }
}

/// A JSON number or numeric string as an integer.
pub(crate) fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads a boolean field (JSON boolean, or DRF's accepted strings).
pub(crate) fn bool_field(
    body: &Map<String, Value>,
    field: &str,
    errors: &mut FieldErrors,
) -> Option<bool> {
    match body.get(field)? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) if n.as_i64() == Some(1) => Some(true),
        Value::Number(n) if n.as_i64() == Some(0) => Some(false),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" => Some(false),
            _ => {
                errors.add(field, "Must be a valid boolean.");
                None
            }
        },
        _ => {
            errors.add(field, "Must be a valid boolean.");
            None
        }
    }
}

/// Reads a choice field.
pub(crate) fn choice_field(
    body: &Map<String, Value>,
    field: &str,
    choices: &[&str],
    errors: &mut FieldErrors,
) -> Option<String> {
    let value = body.get(field)?;
    match value.as_str() {
        Some(s) if choices.contains(&s) => Some(s.to_owned()),
        _ => {
            let shown = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            errors.add(field, format!("\"{shown}\" is not a valid choice."));
            None
        }
    }
}

/// The `privacy_level` choices of playlists and libraries.
pub(crate) const PRIVACY_LEVELS: &[&str] = &["me", "instance", "everyone"];

/// A bind argument of a [`Where`] clause.
pub(crate) use pod_kit::Arg;

/// The `WHERE` clauses of a list query, with their arguments in order
/// (clauses use plain `?` placeholders, numbered `$1`, `$2`, ... when the
/// query is written: both engines read `$N`).
#[derive(Debug, Default)]
pub(crate) struct Where {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Where {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds `clause`, whose `?`s take `args` in order.
    pub(crate) fn and(&mut self, clause: impl Into<String>, args: impl IntoIterator<Item = Arg>) {
        self.clauses.push(clause.into());
        self.args.extend(args);
    }

    /// `column` contains `text` (LIKE with its wildcards escaped: `?q=%`
    /// searches for a percent sign, not for everything).
    pub(crate) fn contains(&mut self, column: &str, text: &str) {
        // lower() on both sides: SQLite's LIKE ignores ASCII case,
        // PostgreSQL's does not.
        self.and(
            format!("lower({column}) LIKE '%' || lower(?) || '%' ESCAPE '\\'"),
            [Arg::Text(like_escape(text))],
        );
    }

    /// What `viewer` (`None`: anonymous) sees of the libraries or
    /// playlists aliased `alias` ([`privacy::visible`]).
    pub(crate) fn privacy(&mut self, alias: &str, viewer: Option<i64>) {
        self.and(privacy::visible(alias, viewer), []);
    }

    /// The clauses, their `?`s numbered `$1`, `$2`, ... (none of the
    /// clauses has a `?` inside a string literal).
    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            return "1 = 1".to_owned();
        }
        let joined = self.clauses.join(" AND ");
        let mut out = String::with_capacity(joined.len() + 8);
        let mut n = 0;
        for c in joined.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    }

    fn bind<'q, O>(
        &'q self,
        mut query: sqlx::query::QueryScalar<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryScalar<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
        for arg in &self.args {
            query = query.bind(arg);
        }
        query
    }

    /// Counts the rows of `from` (a table with alias, or a join) matching
    /// the clauses, reads the page the query asks for, and returns it with
    /// the ids (`id_col`) of its rows in `order`.
    pub(crate) async fn page(
        &self,
        db: &AnyPool,
        from: &str,
        id_col: &str,
        order: &str,
        query: &Query,
    ) -> ApiResult<(Page, i64, Vec<i64>)> {
        // A filter holding a NUL matches nothing on SQLite and is an error
        // on PostgreSQL: refused on both, as django-filter's CharFilter
        // refuses it (ProhibitNullCharactersValidator).
        if self
            .args
            .iter()
            .any(|arg| matches!(arg, Arg::Text(s) if s.contains('\0')))
        {
            return Err(ApiError::BadRequest(
                "Null characters are not allowed.".into(),
            ));
        }
        let count_sql = format!("SELECT COUNT(*) FROM {from} WHERE {}", self.sql());
        let count: i64 = self
            .bind(sqlx::query_scalar(&count_sql))
            .fetch_one(db)
            .await?;
        let page = Page::new(query, count)?;
        let n = self.args.len();
        let ids_sql = format!(
            "SELECT {id_col} FROM {from} WHERE {} ORDER BY {order} LIMIT ${} OFFSET ${}",
            self.sql(),
            n + 1,
            n + 2
        );
        let ids: Vec<i64> = self
            .bind(sqlx::query_scalar(&ids_sql))
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(db)
            .await?;
        Ok((page, count, ids))
    }
}

/// `text` with LIKE's wildcards escaped for `ESCAPE '\'`.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

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
