//! Radios (`read:radios` / `write:radios`): saved track filters.
//!
//! A radio's `config` is a list of filters; this pod knows Funkwhale's
//! `artist` filter (`{"type": "artist", "ids": [1, 2], "not": false}`).
//! Its tracks are those of the listed artists (every track if no positive
//! filter), minus negated artists and the caller's content filters.

use axum::extract::State;
use axum::http::Method;
use scope_runtime::Principal;
use scope_runtime::requires_scope;
use serde_json::{Map, Value, json};
use sqlx::AnyPool;

use crate::common::{
    ApiError, ApiResult, Arg, Body, FieldErrors, Key, Query, Where, bool_field, created, me,
    no_content, now, ok, string_field, user_of,
};
use crate::{AppState, Scope, serial};

/// One checked filter: artist ids, negated or not.
struct Filter {
    ids: Vec<i64>,
    not: bool,
}

/// Checks one filter; the messages say what is wrong.
fn check_filter(value: &Value) -> Result<Filter, Vec<String>> {
    let Some(object) = value.as_object() else {
        return Err(vec!["Expected a dictionary of items.".into()]);
    };
    match object.get("type").and_then(Value::as_str) {
        Some("artist") => {}
        Some(other) => return Err(vec![format!("Invalid filter type \"{other}\".")]),
        None => return Err(vec!["Missing filter type.".into()]),
    }
    let mut errors = Vec::new();
    let ids = match object.get("ids") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|v| {
                let id = v.as_i64();
                if id.is_none() {
                    errors.push(format!("Invalid artist id {v}."));
                }
                id
            })
            .collect(),
        _ => {
            errors.push("The artist filter needs a list of artist ids in \"ids\".".into());
            Vec::new()
        }
    };
    let not = match object.get("not") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            errors.push("\"not\" must be a boolean.".into());
            false
        }
    };
    if errors.is_empty() {
        Ok(Filter { ids, not })
    } else {
        Err(errors)
    }
}

/// Checks a whole config (a list of filters).
fn check_config(value: &Value, errors: &mut FieldErrors) -> Vec<Filter> {
    let Some(list) = value.as_array() else {
        errors.add("config", "Expected a list of items.");
        return Vec::new();
    };
    let mut filters = Vec::with_capacity(list.len());
    for item in list {
        match check_filter(item) {
            Ok(f) => filters.push(f),
            Err(messages) => {
                for m in messages {
                    errors.add("config", m);
                }
            }
        }
    }
    filters
}

/// The `WHERE` clauses selecting the tracks of `filters` for `viewer`.
fn tracks_where(filters: &[Filter], viewer: Option<i64>) -> Where {
    let mut w = Where::new();
    w.and(
        "t.artist_id NOT IN (SELECT target_artist FROM fw_content_filters WHERE user_id = ?)",
        [Arg::Int(viewer)],
    );
    let ids = |f: &Filter| {
        f.ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    // An empty list (`IN ()` is no SQL): matches nothing, excludes nothing.
    let positive: Vec<String> = filters
        .iter()
        .filter(|f| !f.not)
        .map(|f| {
            if f.ids.is_empty() {
                "1 = 0".to_owned()
            } else {
                format!("t.artist_id IN ({})", ids(f))
            }
        })
        .collect();
    if !positive.is_empty() {
        w.and(format!("({})", positive.join(" OR ")), []);
    }
    for f in filters.iter().filter(|f| f.not && !f.ids.is_empty()) {
        w.and(format!("t.artist_id NOT IN ({})", ids(f)), []);
    }
    w
}

/// The radio `key` if `viewer` may see it (public, or theirs).
async fn visible(db: &AnyPool, key: &Key, viewer: Option<i64>) -> ApiResult<i64> {
    sqlx::query_scalar("SELECT id FROM fw_radios WHERE id = $1 AND (is_public = 1 OR user_id = $2)")
        .bind(key.id()?)
        .bind(viewer)
        .fetch_optional(db)
        .await?
        .ok_or(ApiError::NotFound)
}

async fn radio_json(db: &AnyPool, id: i64) -> ApiResult<Value> {
    serial::radio(db, id).await?.ok_or(ApiError::NotFound)
}

/// List the radios the caller may see (public ones and theirs; `?scope=me`, `?name=`).
#[requires_scope(resource = "radios", token = setting)]
pub(crate) async fn list_radios(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
    query: Query,
) -> ApiResult {
    let viewer = user_of(principal.as_ref());
    let mut filter = Where::new();
    filter.and("(r.is_public = 1 OR r.user_id = ?)", [Arg::Int(viewer)]);
    if query.get("scope") == Some("me") {
        filter.and("r.user_id = ?", [Arg::Int(viewer)]);
    }
    if let Some(name) = query.get("name").or(query.get("q")) {
        filter.contains("r.name", name);
    }
    let (page, count, ids) = filter
        .page(&state.db, "fw_radios r", "r.id", "r.id DESC", &query)
        .await?;
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        results.push(radio_json(&state.db, id).await?);
    }
    Ok(page.wrap(&query, count, results))
}

type RadioFields = (Option<String>, Option<String>, Option<bool>, Option<String>);

fn radio_fields(body: &Map<String, Value>, partial: bool) -> ApiResult<RadioFields> {
    let mut errors = FieldErrors::default();
    let name = string_field(body, "name", !partial, 100, &mut errors);
    let description = string_field(body, "description", false, 5000, &mut errors);
    let is_public = bool_field(body, "is_public", &mut errors);
    let config = match body.get("config") {
        None if !partial => {
            errors.add("config", "This field is required.");
            None
        }
        None => None,
        Some(value) => {
            check_config(value, &mut errors);
            Some(value.to_string())
        }
    };
    errors.finish()?;
    Ok((name, description, is_public, config))
}

/// Create a radio.
#[requires_scope(resource = "radios", token = user)]
pub(crate) async fn create_radio(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Body(body): Body,
) -> ApiResult {
    let user = me(&principal)?;
    let (name, description, is_public, config) = radio_fields(&body, false)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO fw_radios (user_id, name, description, is_public, config, creation_date) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(user)
    .bind(name.unwrap_or_default())
    .bind(description.unwrap_or_default())
    .bind(i64::from(is_public.unwrap_or(true)))
    .bind(config.unwrap_or_else(|| "[]".into()))
    .bind(now())
    .fetch_one(&state.db)
    .await?;
    Ok(created(radio_json(&state.db, id).await?))
}

/// Retrieve a radio.
#[requires_scope(resource = "radios", token = setting)]
pub(crate) async fn get_radio(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
    key: Key,
) -> ApiResult {
    let id = visible(&state.db, &key, user_of(principal.as_ref())).await?;
    Ok(ok(radio_json(&state.db, id).await?))
}

/// The caller's radio `key`.
async fn owned(db: &AnyPool, key: &Key, user: i64) -> ApiResult<i64> {
    sqlx::query_scalar("SELECT id FROM fw_radios WHERE id = $1 AND user_id = $2")
        .bind(key.id()?)
        .bind(user)
        .fetch_optional(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Update one of the caller's radios (PUT: full, PATCH: partial).
#[requires_scope(resource = "radios", token = user)]
pub(crate) async fn update_radio(
    State(state): State<AppState>,
    method: Method,
    principal: Principal<Scope>,
    key: Key,
    Body(body): Body,
) -> ApiResult {
    let id = owned(&state.db, &key, me(&principal)?).await?;
    let (name, description, is_public, config) = radio_fields(&body, method == Method::PATCH)?;
    sqlx::query(
        "UPDATE fw_radios SET name = COALESCE($1, name), description = COALESCE($2, description), \
         is_public = COALESCE($3, is_public), config = COALESCE($4, config) WHERE id = $5",
    )
    .bind(name)
    .bind(description)
    .bind(is_public.map(i64::from))
    .bind(config)
    .bind(id)
    .execute(&state.db)
    .await?;
    Ok(ok(radio_json(&state.db, id).await?))
}

/// Delete one of the caller's radios.
#[requires_scope(resource = "radios", token = user)]
pub(crate) async fn delete_radio(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    key: Key,
) -> ApiResult {
    let id = owned(&state.db, &key, me(&principal)?).await?;
    sqlx::query("DELETE FROM fw_radios WHERE id = $1")
        .bind(id)
        .execute(&state.db)
        .await?;
    Ok(no_content())
}

/// The tracks a radio plays.
#[requires_scope(resource = "radios", token = setting)]
pub(crate) async fn radio_tracks(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
    key: Key,
    query: Query,
) -> ApiResult {
    let viewer = user_of(principal.as_ref());
    let id = visible(&state.db, &key, viewer).await?;
    let config: String = sqlx::query_scalar("SELECT config FROM fw_radios WHERE id = $1")
        .bind(id)
        .fetch_one(&state.db)
        .await?;
    let config: Value = serde_json::from_str(&config).unwrap_or_else(|_| json!([]));
    let filters = check_config(&config, &mut FieldErrors::default());
    let (page, count, ids) = tracks_where(&filters, viewer)
        .page(&state.db, "fw_tracks t", "t.id", "t.id", &query)
        .await?;
    let mut results = Vec::with_capacity(ids.len());
    for track in ids {
        if let Some(t) = serial::track(&state.db, track, viewer).await? {
            results.push(t);
        }
    }
    Ok(page.wrap(&query, count, results))
}

/// The filters radios may use.
#[requires_scope(resource = "radios", token = setting)]
pub(crate) async fn radio_filters() -> ApiResult {
    Ok(ok(json!([{
        "type": "artist",
        "label": "Artist",
        "help_text": "Select tracks for a given artist",
        "fields": [{
            "name": "ids",
            "type": "list",
            "subtype": "number",
            "autocomplete": "/api/v1/artists/",
            "autocomplete_qs": "q={query}",
            "autocomplete_fields": {"name": "name", "value": "id"},
            "label": "Artist",
            "placeholder": "Select artists",
        }],
    }])))
}

/// Check radio filters (`{"filters": [...]}`): per filter, its errors and
/// how many tracks it selects.
#[requires_scope(resource = "radios", token = user)]
pub(crate) async fn validate_radio(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Body(body): Body,
) -> ApiResult {
    let viewer = Some(me(&principal)?);
    let Some(list) = body.get("filters").and_then(Value::as_array) else {
        return Err(crate::common::invalid("filters", "This field is required."));
    };
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        match check_filter(item) {
            Ok(filter) => {
                let (_, count, ids) = tracks_where(std::slice::from_ref(&filter), viewer)
                    .page(&state.db, "fw_tracks t", "t.id", "t.id", &Query::empty())
                    .await?;
                out.push(json!({
                    "candidates": {"count": count, "sample": ids.iter().take(10).collect::<Vec<_>>()},
                    "errors": [],
                }));
            }
            Err(errors) => out.push(json!({ "errors": errors })),
        }
    }
    Ok(ok(json!({ "filters": out })))
}
