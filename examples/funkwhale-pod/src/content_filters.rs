//! Content filters: the artists the caller hides (the caller's only).

use axum::extract::State;
use scope_runtime::Principal;
use scope_runtime::requires_scope;
use serde_json::{Value, json};
use sqlx::AnyPool;

use crate::common::{
    ApiError, ApiResult, Arg, Body, Key, Query, Where, as_int, created, invalid, me, new_uuid,
    no_content, now, ok,
};
use crate::{AppState, Scope};

async fn filter_json(db: &AnyPool, id: i64) -> ApiResult<Value> {
    let (uuid, artist, name, created_at): (String, i64, String, String) = sqlx::query_as(
        "SELECT f.uuid, a.id, a.name, f.creation_date FROM fw_content_filters f \
         JOIN fw_artists a ON a.id = f.target_artist WHERE f.id = $1",
    )
    .bind(id)
    .fetch_one(db)
    .await?;
    Ok(json!({
        "uuid": uuid,
        "target": {"type": "artist", "id": artist, "name": name},
        "creation_date": created_at,
    }))
}

/// List the caller's content filters.
#[requires_scope(resource = "filters", token = user)]
pub(crate) async fn list_filters(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    query: Query,
) -> ApiResult {
    let mut filter = Where::new();
    filter.and("f.user_id = ?", [Arg::Int(Some(me(&principal)?))]);
    let (page, count, ids) = filter
        .page(
            &state.db,
            "fw_content_filters f",
            "f.id",
            "f.id DESC",
            &query,
        )
        .await?;
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        results.push(filter_json(&state.db, id).await?);
    }
    Ok(page.wrap(&query, count, results))
}

/// Hide an artist (`{"target": {"type": "artist", "id": n}}`).
#[requires_scope(resource = "filters", token = user)]
pub(crate) async fn create_filter(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Body(body): Body,
) -> ApiResult {
    let user = me(&principal)?;
    let target = match body.get("target") {
        None => return Err(invalid("target", "This field is required.")),
        Some(Value::Object(t)) => t,
        Some(_) => return Err(invalid("target", "Expected a dictionary of items.")),
    };
    match target.get("type").and_then(Value::as_str) {
        Some("artist") => {}
        _ => {
            return Err(invalid(
                "target",
                "Invalid target type (expected \"artist\").",
            ));
        }
    }
    let Some(artist) = target.get("id").and_then(as_int) else {
        return Err(invalid("target", "Invalid target id."));
    };
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM fw_artists WHERE id = $1")
        .bind(artist)
        .fetch_optional(&state.db)
        .await?;
    if exists.is_none() {
        return Err(invalid("target", "Invalid target"));
    }
    let uuid = new_uuid()?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO fw_content_filters (uuid, user_id, target_artist, creation_date) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, target_artist) DO NOTHING RETURNING id",
    )
    .bind(uuid)
    .bind(user)
    .bind(artist)
    .bind(now())
    .fetch_optional(&state.db)
    .await?;
    let Some(id) = id else {
        return Err(invalid(
            "non_field_errors",
            "You already have a filter for this artist.",
        ));
    };
    Ok(created(filter_json(&state.db, id).await?))
}

/// The caller's content filter `uuid`.
async fn own_filter(db: &AnyPool, uuid: &str, user: i64) -> ApiResult<i64> {
    sqlx::query_scalar("SELECT id FROM fw_content_filters WHERE uuid = $1 AND user_id = $2")
        .bind(uuid)
        .bind(user)
        .fetch_optional(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Retrieve one of the caller's content filters.
#[requires_scope(resource = "filters", token = user)]
pub(crate) async fn get_filter(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Key(uuid): Key,
) -> ApiResult {
    let id = own_filter(&state.db, &uuid, me(&principal)?).await?;
    Ok(ok(filter_json(&state.db, id).await?))
}

/// Delete one of the caller's content filters.
#[requires_scope(resource = "filters", token = user)]
pub(crate) async fn delete_filter(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Key(uuid): Key,
) -> ApiResult {
    let id = own_filter(&state.db, &uuid, me(&principal)?).await?;
    sqlx::query("DELETE FROM fw_content_filters WHERE id = $1")
        .bind(id)
        .execute(&state.db)
        .await?;
    Ok(no_content())
}
