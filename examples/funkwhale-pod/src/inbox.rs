//! Notifications (the inbox): what [`notify`] adds, and the caller's
//! notifications (the caller's only).

use axum::extract::State;
use axum::http::Method;
use scope_runtime::Principal;
use scope_runtime::requires_scope;
use serde_json::{Value, json};
use sqlx::AnyPool;

use crate::common::{
    ApiError, ApiResult, Arg, Body, FieldErrors, Key, Query, Where, as_int, bool_field, me, now, ok,
};
use crate::{AppState, Scope, serial};

/// Adds a notification for `user`.
pub(crate) async fn notify(
    db: &AnyPool,
    user: i64,
    kind: &str,
    actor: i64,
    follow: i64,
) -> ApiResult<()> {
    let activity = json!({
        "type": kind,
        "actor": serial::user(db, Some(actor)).await?,
        "object": Value::Null,
        "related_object": serial::follow(db, follow).await?,
    });
    sqlx::query(
        "INSERT INTO fw_inbox_items (user_id, type, activity, creation_date) \
         VALUES ($1, 'to', $2, $3)",
    )
    .bind(user)
    .bind(activity.to_string())
    .bind(now())
    .execute(db)
    .await?;
    Ok(())
}

async fn inbox_json(db: &AnyPool, id: i64) -> ApiResult<Value> {
    let (id, kind, activity, is_read, created_at): (i64, String, String, i64, String) =
        sqlx::query_as(
            "SELECT id, type, activity, is_read, creation_date FROM fw_inbox_items WHERE id = $1",
        )
        .bind(id)
        .fetch_one(db)
        .await?;
    let mut activity: Value = serde_json::from_str(&activity).unwrap_or_else(|_| json!({}));
    if let Some(a) = activity.as_object_mut() {
        a.entry("creation_date").or_insert(json!(created_at));
    }
    Ok(json!({"id": id, "type": kind, "activity": activity, "is_read": is_read != 0}))
}

/// List the caller's notifications (`?is_read=`).
#[requires_scope(resource = "notifications", token = user)]
pub(crate) async fn list_inbox(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    query: Query,
) -> ApiResult {
    let mut filter = Where::new();
    filter.and("i.user_id = ?", [Arg::Int(Some(me(&principal)?))]);
    if let Some(read) = query.bool("is_read") {
        filter.and("i.is_read = ?", [Arg::Int(Some(i64::from(read)))]);
    }
    let (page, count, ids) = filter
        .page(&state.db, "fw_inbox_items i", "i.id", "i.id DESC", &query)
        .await?;
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        results.push(inbox_json(&state.db, id).await?);
    }
    Ok(page.wrap(&query, count, results))
}

/// Mark notifications read: `{"action": "read", "objects": "all" | [ids]}`.
#[requires_scope(resource = "notifications", token = user)]
pub(crate) async fn inbox_action(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Body(body): Body,
) -> ApiResult {
    let user = me(&principal)?;
    let mut errors = FieldErrors::default();
    match body.get("action") {
        None => errors.add("action", "This field is required."),
        Some(Value::String(s)) if s == "read" => {}
        Some(other) => errors.add("action", format!("{other} is not a valid choice.")),
    }
    let ids: Option<Vec<i64>> = match body.get("objects") {
        None => {
            errors.add("objects", "This field is required.");
            None
        }
        Some(Value::String(s)) if s == "all" => None,
        Some(Value::Array(list)) => {
            let ids: Vec<i64> = list.iter().filter_map(as_int).collect();
            if ids.len() != list.len() || ids.is_empty() {
                errors.add("objects", "Expected \"all\" or a list of ids.");
            }
            Some(ids)
        }
        Some(_) => {
            errors.add("objects", "Expected \"all\" or a list of ids.");
            None
        }
    };
    errors.finish()?;
    let updated = match ids {
        None => {
            sqlx::query("UPDATE fw_inbox_items SET is_read = 1 WHERE user_id = $1 AND is_read = 0")
                .bind(user)
                .execute(&state.db)
                .await?
                .rows_affected()
        }
        Some(ids) => {
            let mut n = 0;
            for id in ids {
                n += sqlx::query(
                    "UPDATE fw_inbox_items SET is_read = 1 WHERE user_id = $1 AND id = $2 AND is_read = 0",
                )
                .bind(user)
                .bind(id)
                .execute(&state.db)
                .await?
                .rows_affected();
            }
            n
        }
    };
    Ok(ok(
        json!({"action": "read", "updated": updated, "result": Value::Null}),
    ))
}

/// The caller's notification `key`.
async fn own_item(db: &AnyPool, key: &Key, user: i64) -> ApiResult<i64> {
    sqlx::query_scalar("SELECT id FROM fw_inbox_items WHERE id = $1 AND user_id = $2")
        .bind(key.id()?)
        .bind(user)
        .fetch_optional(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Retrieve one of the caller's notifications.
#[requires_scope(resource = "notifications", token = user)]
pub(crate) async fn get_inbox_item(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    key: Key,
) -> ApiResult {
    let id = own_item(&state.db, &key, me(&principal)?).await?;
    Ok(ok(inbox_json(&state.db, id).await?))
}

/// Mark one of the caller's notifications read or unread (`{"is_read": true}`).
#[requires_scope(resource = "notifications", token = user)]
pub(crate) async fn update_inbox_item(
    State(state): State<AppState>,
    method: Method,
    principal: Principal<Scope>,
    key: Key,
    Body(body): Body,
) -> ApiResult {
    let id = own_item(&state.db, &key, me(&principal)?).await?;
    let mut errors = FieldErrors::default();
    let is_read = bool_field(&body, "is_read", &mut errors);
    if is_read.is_none() && method == Method::PUT && !body.contains_key("is_read") {
        errors.add("is_read", "This field is required.");
    }
    errors.finish()?;
    if let Some(is_read) = is_read {
        sqlx::query("UPDATE fw_inbox_items SET is_read = $1 WHERE id = $2")
            .bind(i64::from(is_read))
            .bind(id)
            .execute(&state.db)
            .await?;
    }
    Ok(ok(inbox_json(&state.db, id).await?))
}
