//! A user's own activity: favorites, listening history, library follows,
//! notifications (the inbox) and content filters.
//!
//! Favorites and listenings of a pod's users are visible to its other
//! logged-in users (Funkwhale's default user privacy, `instance`), not to
//! anonymous callers; follows, notifications and filters are the caller's
//! only.

use axum::extract::State;
use axum::http::Method;
use scope_runtime::requires_scope;
use scope_runtime::token::Principal;
use serde_json::{Map, Value, json};
use sqlx::AnyPool;

use crate::common::{
    ApiError, ApiResult, Arg, Body, FieldErrors, Key, Query, Where, as_int, bool_field, created,
    int_field, invalid, me, new_uuid, no_content, now, ok, string_field, user_of,
};
use crate::{AppState, Scope, privacy, serial};

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

/// Adds a notification for `user`.
async fn notify(db: &AnyPool, user: i64, kind: &str, actor: i64, follow: i64) -> ApiResult<()> {
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

/// `InboxItemSerializer`.
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

/// `UserFilterSerializer`.
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
