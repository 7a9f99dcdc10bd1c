//! Library follows: the caller's follows of others' libraries, and the
//! follows of the caller's libraries it accepts or rejects (the caller's
//! only).

use axum::extract::State;
use scope_runtime::Principal;
use scope_runtime::requires_scope;
use serde_json::{Value, json};
use sqlx::AnyPool;

use crate::common::{
    ApiError, ApiResult, Arg, Body, FieldErrors, Key, Query, Where, created, invalid, me, new_uuid,
    no_content, now, ok, string_field,
};
use crate::inbox::notify;
use crate::{AppState, Scope, privacy, serial};

/// List the caller's library follows (`?approved=`).
#[requires_scope(resource = "follows", token = user)]
pub(crate) async fn list_follows(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    query: Query,
) -> ApiResult {
    let mut filter = Where::new();
    filter.and("f.user_id = ?", [Arg::Int(Some(me(&principal)?))]);
    if let Some(approved) = query.bool("approved") {
        filter.and("f.approved = ?", [Arg::Int(Some(i64::from(approved)))]);
    }
    let (page, count, ids) = filter
        .page(
            &state.db,
            "fw_library_follows f",
            "f.id",
            "f.id DESC",
            &query,
        )
        .await?;
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        results.push(serial::follow(&state.db, id).await?);
    }
    Ok(page.wrap(&query, count, results))
}

/// Follow a library (`{"target": "<library uuid>"}`). Public libraries
/// accept at once; others wait for their owner.
#[requires_scope(resource = "follows", token = user)]
pub(crate) async fn create_follow(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Body(body): Body,
) -> ApiResult {
    let user = me(&principal)?;
    let mut errors = FieldErrors::default();
    let target = string_field(&body, "target", true, 100, &mut errors);
    errors.finish()?;
    let target = target.unwrap_or_default();
    let sql = format!(
        "SELECT id, user_id, privacy_level FROM fw_libraries l WHERE uuid = $1 AND {}",
        privacy::visible("l", Some(user))
    );
    let library: Option<(i64, i64, String)> = sqlx::query_as(&sql)
        .bind(&target)
        .fetch_optional(&state.db)
        .await?;
    let Some((library, owner, privacy)) = library else {
        return Err(invalid(
            "target",
            format!("Object with uuid={target} does not exist."),
        ));
    };
    if owner == user {
        return Err(invalid("target", "You cannot follow your own library"));
    }
    let uuid = new_uuid()?;
    let approved = (privacy == "everyone").then_some(1_i64);
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO fw_library_follows (uuid, user_id, library_id, approved, creation_date, \
         modification_date) VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (user_id, library_id) DO NOTHING RETURNING id",
    )
    .bind(uuid)
    .bind(user)
    .bind(library)
    .bind(approved)
    .bind(now())
    .fetch_optional(&state.db)
    .await?;
    let Some(id) = inserted else {
        return Err(invalid("target", "You are already following this library"));
    };
    notify(&state.db, owner, "Follow", user, id).await?;
    Ok(created(serial::follow(&state.db, id).await?))
}

/// Every follow of the caller: `{"results": [{uuid, library, approved}], "count"}`.
#[requires_scope(resource = "follows", token = user)]
pub(crate) async fn all_follows(
    State(state): State<AppState>,
    principal: Principal<Scope>,
) -> ApiResult {
    let rows: Vec<(String, String, Option<i64>)> = sqlx::query_as(
        "SELECT f.uuid, l.uuid, f.approved FROM fw_library_follows f \
         JOIN fw_libraries l ON l.id = f.library_id WHERE f.user_id = $1 ORDER BY f.id",
    )
    .bind(me(&principal)?)
    .fetch_all(&state.db)
    .await?;
    let results: Vec<Value> = rows
        .into_iter()
        .map(|(uuid, library, approved)| {
            json!({"uuid": uuid, "library": library, "approved": approved.map(|b| b != 0)})
        })
        .collect();
    Ok(ok(json!({"results": results, "count": results.len()})))
}

/// The caller's follow `uuid`.
async fn own_follow(db: &AnyPool, uuid: &str, user: i64) -> ApiResult<i64> {
    sqlx::query_scalar("SELECT id FROM fw_library_follows WHERE uuid = $1 AND user_id = $2")
        .bind(uuid)
        .bind(user)
        .fetch_optional(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Retrieve one of the caller's follows.
#[requires_scope(resource = "follows", token = user)]
pub(crate) async fn get_follow(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Key(uuid): Key,
) -> ApiResult {
    let id = own_follow(&state.db, &uuid, me(&principal)?).await?;
    Ok(ok(serial::follow(&state.db, id).await?))
}

/// Unfollow (delete one of the caller's follows).
#[requires_scope(resource = "follows", token = user)]
pub(crate) async fn delete_follow(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Key(uuid): Key,
) -> ApiResult {
    let id = own_follow(&state.db, &uuid, me(&principal)?).await?;
    sqlx::query("DELETE FROM fw_library_follows WHERE id = $1")
        .bind(id)
        .execute(&state.db)
        .await?;
    Ok(no_content())
}

/// Accepts or rejects a follow of one of the caller's libraries.
async fn decide_follow(
    state: &AppState,
    principal: &Principal<Scope>,
    uuid: &str,
    approve: bool,
) -> ApiResult {
    let user = me(principal)?;
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT f.id, f.user_id FROM fw_library_follows f \
         JOIN fw_libraries l ON l.id = f.library_id WHERE f.uuid = $1 AND l.user_id = $2",
    )
    .bind(uuid)
    .bind(user)
    .fetch_optional(&state.db)
    .await?;
    let (id, follower) = row.ok_or(ApiError::NotFound)?;
    sqlx::query(
        "UPDATE fw_library_follows SET approved = $1, modification_date = $3 WHERE id = $2",
    )
    .bind(i64::from(approve))
    .bind(id)
    .bind(now())
    .execute(&state.db)
    .await?;
    if approve {
        notify(&state.db, follower, "Accept", user, id).await?;
    }
    Ok(no_content())
}

/// Accept a follow of one of the caller's libraries.
#[requires_scope(resource = "follows", token = user)]
pub(crate) async fn accept_follow(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Key(uuid): Key,
) -> ApiResult {
    decide_follow(&state, &principal, &uuid, true).await
}

/// Reject a follow of one of the caller's libraries.
#[requires_scope(resource = "follows", token = user)]
pub(crate) async fn reject_follow(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Key(uuid): Key,
) -> ApiResult {
    decide_follow(&state, &principal, &uuid, false).await
}
