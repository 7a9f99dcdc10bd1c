//! A user's activity: favorites and listening history. Those of a pod's
//! users are visible to its other logged-in users (Funkwhale's default
//! user privacy, `instance`), not to anonymous callers.

use axum::extract::State;
use scope_runtime::Principal;
use scope_runtime::requires_scope;
use serde_json::{Map, Value, json};
use sqlx::AnyPool;

use crate::common::{
    ApiError, ApiResult, Arg, Body, FieldErrors, Key, Query, Where, created, int_field, invalid,
    me, no_content, now, ok, user_of,
};
use crate::{AppState, Scope, serial};

/// Restricts activity (favorites, listenings) of table `alias` to what
/// `viewer` sees: nothing when anonymous; `?scope=me` and `?user=` narrow.
fn activity_filter(filter: &mut Where, alias: &str, viewer: Option<i64>, query: &Query) {
    filter.and("? IS NOT NULL", [Arg::Int(viewer)]);
    if query.get("scope") == Some("me") {
        filter.and(format!("{alias}.user_id = ?"), [Arg::Int(viewer)]);
    }
    if let Some(user) = query.get("user") {
        filter.and(
            format!("{alias}.user_id = ?"),
            [Arg::Int(user.parse().ok())],
        );
    }
}

/// The `track` field of a body: an existing track id.
async fn track_field(db: &AnyPool, body: &Map<String, Value>) -> ApiResult<i64> {
    let mut errors = FieldErrors::default();
    let track = int_field(body, "track", true, &mut errors);
    errors.finish()?;
    let track = track.unwrap_or_default();
    sqlx::query_scalar::<_, i64>("SELECT id FROM fw_tracks WHERE id = $1")
        .bind(track)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| {
            invalid(
                "track",
                format!("Invalid pk \"{track}\" - object does not exist."),
            )
        })
}

/// `{id, user, track, creation_date}` of a favorite or listening row.
/// As `viewer` sees it.
async fn activity_json(
    db: &AnyPool,
    table: &str,
    id: i64,
    viewer: Option<i64>,
) -> ApiResult<Value> {
    let (id, user, track, created): (i64, i64, i64, String) = sqlx::query_as(&format!(
        "SELECT id, user_id, track_id, creation_date FROM {table} WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(db)
    .await?;
    Ok(json!({
        "id": id,
        "user": serial::user(db, Some(user)).await?,
        "track": serial::track(db, track, viewer).await?,
        "creation_date": created,
    }))
}

async fn activity_list(
    state: &AppState,
    table: &str,
    principal: Option<&Principal<Scope>>,
    query: &Query,
) -> ApiResult {
    let viewer = user_of(principal);
    let mut filter = Where::new();
    activity_filter(&mut filter, "x", viewer, query);
    let (page, count, ids) = filter
        .page(&state.db, &format!("{table} x"), "x.id", "x.id DESC", query)
        .await?;
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        results.push(activity_json(&state.db, table, id, viewer).await?);
    }
    Ok(page.wrap(query, count, results))
}

/// List favorite tracks (`?scope=me`, `?user=`).
#[requires_scope(resource = "favorites", token = setting)]
pub(crate) async fn list_favorites(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
    query: Query,
) -> ApiResult {
    activity_list(&state, "fw_favorites", principal.as_ref(), &query).await
}

/// Add a track to the caller's favorites (`{"track": id}`; adding twice is harmless).
#[requires_scope(resource = "favorites", token = user)]
pub(crate) async fn create_favorite(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Body(body): Body,
) -> ApiResult {
    let user = me(&principal)?;
    let track = track_field(&state.db, &body).await?;
    sqlx::query(
        "INSERT INTO fw_favorites (user_id, track_id, creation_date) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, track_id) DO NOTHING",
    )
    .bind(user)
    .bind(track)
    .bind(now())
    .execute(&state.db)
    .await?;
    let (id, created_at): (i64, String) = sqlx::query_as(
        "SELECT id, creation_date FROM fw_favorites WHERE user_id = $1 AND track_id = $2",
    )
    .bind(user)
    .bind(track)
    .fetch_one(&state.db)
    .await?;
    Ok(created(
        json!({"id": id, "track": track, "creation_date": created_at}),
    ))
}

/// The ids of every favorite of the caller: `{"results": [{id, track}], "count"}`.
#[requires_scope(resource = "favorites", token = setting)]
pub(crate) async fn all_favorites(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
) -> ApiResult {
    let rows: Vec<(i64, i64)> =
        sqlx::query_as("SELECT id, track_id FROM fw_favorites WHERE user_id = $1 ORDER BY id")
            .bind(user_of(principal.as_ref()))
            .fetch_all(&state.db)
            .await?;
    let results: Vec<Value> = rows
        .into_iter()
        .map(|(id, track)| json!({"id": id, "track": track}))
        .collect();
    Ok(ok(json!({"results": results, "count": results.len()})))
}

/// Remove a track from the caller's favorites (`{"track": id}`).
#[requires_scope(resource = "favorites", token = user)]
pub(crate) async fn remove_favorite(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Body(body): Body,
) -> ApiResult {
    let user = me(&principal)?;
    let mut errors = FieldErrors::default();
    let track = int_field(&body, "track", true, &mut errors);
    errors.finish()?;
    let removed = sqlx::query("DELETE FROM fw_favorites WHERE user_id = $1 AND track_id = $2")
        .bind(user)
        .bind(track)
        .execute(&state.db)
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(no_content())
}

/// Delete one of the caller's favorites by id.
#[requires_scope(resource = "favorites", token = user)]
pub(crate) async fn delete_favorite(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    key: Key,
) -> ApiResult {
    let removed = sqlx::query("DELETE FROM fw_favorites WHERE id = $1 AND user_id = $2")
        .bind(key.id()?)
        .bind(me(&principal)?)
        .execute(&state.db)
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(no_content())
}

/// List listenings (`?scope=me`, `?user=`).
#[requires_scope(resource = "listenings", token = setting)]
pub(crate) async fn list_listenings(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
    query: Query,
) -> ApiResult {
    activity_list(&state, "fw_listenings", principal.as_ref(), &query).await
}

/// Record that the caller listened to a track (`{"track": id}`).
#[requires_scope(resource = "listenings", token = user)]
pub(crate) async fn create_listening(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Body(body): Body,
) -> ApiResult {
    let user = me(&principal)?;
    let track = track_field(&state.db, &body).await?;
    let (id, created_at): (i64, String) = sqlx::query_as(
        "INSERT INTO fw_listenings (user_id, track_id, creation_date) VALUES ($1, $2, $3) \
         RETURNING id, creation_date",
    )
    .bind(user)
    .bind(track)
    .bind(now())
    .fetch_one(&state.db)
    .await?;
    Ok(created(
        json!({"id": id, "track": track, "creation_date": created_at}),
    ))
}

/// Retrieve a listening.
#[requires_scope(resource = "listenings", token = setting)]
pub(crate) async fn get_listening(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
    key: Key,
) -> ApiResult {
    // Listenings are visible to the pod's logged-in users only.
    let viewer = user_of(principal.as_ref()).ok_or(ApiError::NotFound)?;
    let id: i64 = sqlx::query_scalar("SELECT id FROM fw_listenings WHERE id = $1")
        .bind(key.id()?)
        .fetch_optional(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(ok(activity_json(
        &state.db,
        "fw_listenings",
        id,
        Some(viewer),
    )
    .await?))
}
