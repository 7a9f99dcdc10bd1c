//! Playlists (`read:playlists` / `write:playlists`).
//!
//! Visibility follows `privacy_level` (`me`, `instance`, `everyone`): a
//! private playlist of another user is not listed and is 404. Writes are
//! the owner's only; another user's playlist is 404 (Funkwhale's
//! `OwnerPermission` raises `Http404`).

use axum::extract::State;
use axum::http::Method;
use scope_runtime::Principal;
use scope_runtime::requires_scope;
use serde_json::{Map, Value, json};
use sqlx::AnyPool;

use crate::common::{
    ApiError, ApiResult, Arg, Body, FieldErrors, Key, PRIVACY_LEVELS, Query, Where, as_int, begin,
    bool_field, choice_field, created, int_field, invalid, me, no_content, now, ok, string_field,
    user_of,
};
use crate::{AppState, Scope, privacy, serial};

/// Funkwhale's `PLAYLISTS_MAX_TRACKS`.
const MAX_TRACKS: i64 = 250;

/// The playlist `key` if `viewer` may see it.
async fn visible(db: &AnyPool, key: &Key, viewer: Option<i64>) -> ApiResult<i64> {
    let sql = format!(
        "SELECT id FROM fw_playlists p WHERE id = $1 AND {}",
        privacy::visible("p", viewer)
    );
    sqlx::query_scalar(&sql)
        .bind(key.id()?)
        .fetch_optional(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// The playlist `key` if `user` owns it.
async fn owned(db: &AnyPool, key: &Key, user: i64) -> ApiResult<i64> {
    sqlx::query_scalar("SELECT id FROM fw_playlists WHERE id = $1 AND user_id = $2")
        .bind(key.id()?)
        .bind(user)
        .fetch_optional(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Playlist `id` as `viewer` sees it.
async fn playlist_json(db: &AnyPool, id: i64, viewer: Option<i64>) -> ApiResult<Value> {
    serial::playlist(db, id, viewer)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Bumps the playlist's `modification_date`, as the first statement of a
/// transaction that changes its entries: the row lock it takes serializes
/// those transactions on PostgreSQL (READ COMMITTED; SQLite's `BEGIN
/// IMMEDIATE` already does), so their counts and indexes see each other.
/// A playlist deleted since it was looked up is a 404.
async fn touch(conn: &mut sqlx::AnyConnection, id: i64) -> ApiResult<()> {
    let touched = sqlx::query("UPDATE fw_playlists SET modification_date = $2 WHERE id = $1")
        .bind(id)
        .bind(now())
        .execute(conn)
        .await?
        .rows_affected();
    if touched == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(())
}

/// List the playlists the caller may see (`?user=`, `?q=`/`?name=`, `?scope=me`).
#[requires_scope(resource = "playlists", token = setting)]
pub(crate) async fn list_playlists(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
    query: Query,
) -> ApiResult {
    let viewer = user_of(principal.as_ref());
    let mut filter = Where::new();
    filter.privacy("p", viewer);
    if query.get("scope") == Some("me") {
        filter.and("p.user_id = ?", [Arg::Int(viewer)]);
    }
    if let Some(user) = query.get("user") {
        filter.and("p.user_id = ?", [Arg::Int(user.parse().ok())]);
    }
    if let Some(q) = query.get("q").or(query.get("name")) {
        filter.contains("p.name", q);
    }
    let (page, count, ids) = filter
        .page(&state.db, "fw_playlists p", "p.id", "p.id DESC", &query)
        .await?;
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        results.push(playlist_json(&state.db, id, viewer).await?);
    }
    Ok(page.wrap(&query, count, results))
}

type PlaylistFields = (Option<String>, Option<String>, Option<String>);

fn playlist_fields(body: &Map<String, Value>, partial: bool) -> ApiResult<PlaylistFields> {
    let mut errors = FieldErrors::default();
    let name = string_field(body, "name", !partial, 50, &mut errors);
    let privacy = choice_field(body, "privacy_level", PRIVACY_LEVELS, &mut errors);
    let description = string_field(body, "description", false, 5000, &mut errors);
    errors.finish()?;
    Ok((name, privacy, description))
}

/// Create a playlist (`name`; `privacy_level` defaults to `instance`).
#[requires_scope(resource = "playlists", token = user)]
pub(crate) async fn create_playlist(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Body(body): Body,
) -> ApiResult {
    let user = me(&principal)?;
    let (name, privacy, description) = playlist_fields(&body, false)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO fw_playlists (user_id, name, description, privacy_level, creation_date, \
         modification_date) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(user)
    .bind(name.unwrap_or_default())
    .bind(description.unwrap_or_default())
    .bind(privacy.as_deref().unwrap_or("instance"))
    .bind(now())
    .fetch_one(&state.db)
    .await?;
    Ok(created(playlist_json(&state.db, id, Some(user)).await?))
}

/// Retrieve a playlist.
#[requires_scope(resource = "playlists", token = setting)]
pub(crate) async fn get_playlist(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
    key: Key,
) -> ApiResult {
    let viewer = user_of(principal.as_ref());
    let id = visible(&state.db, &key, viewer).await?;
    Ok(ok(playlist_json(&state.db, id, viewer).await?))
}

/// Update one of the caller's playlists (PUT: `name` required; PATCH: partial).
#[requires_scope(resource = "playlists", token = user)]
pub(crate) async fn update_playlist(
    State(state): State<AppState>,
    method: Method,
    principal: Principal<Scope>,
    key: Key,
    Body(body): Body,
) -> ApiResult {
    let user = me(&principal)?;
    let id = owned(&state.db, &key, user).await?;
    let (name, privacy, description) = playlist_fields(&body, method == Method::PATCH)?;
    sqlx::query(
        "UPDATE fw_playlists SET name = COALESCE($1, name), \
         privacy_level = COALESCE($2, privacy_level), description = COALESCE($3, description), \
         modification_date = $5 WHERE id = $4",
    )
    .bind(name)
    .bind(privacy)
    .bind(description)
    .bind(id)
    .bind(now())
    .execute(&state.db)
    .await?;
    Ok(ok(playlist_json(&state.db, id, Some(user)).await?))
}

/// Delete one of the caller's playlists.
#[requires_scope(resource = "playlists", token = user)]
pub(crate) async fn delete_playlist(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    key: Key,
) -> ApiResult {
    let id = owned(&state.db, &key, me(&principal)?).await?;
    sqlx::query("DELETE FROM fw_playlists WHERE id = $1")
        .bind(id)
        .execute(&state.db)
        .await?;
    Ok(no_content())
}

/// A playlist entry (`PlaylistTrackSerializer`).
async fn entry_json(db: &AnyPool, entry: i64, viewer: Option<i64>) -> ApiResult<Value> {
    let (track, index, created): (i64, i64, String) =
        sqlx::query_as("SELECT track_id, idx, creation_date FROM fw_playlist_tracks WHERE id = $1")
            .bind(entry)
            .fetch_one(db)
            .await?;
    Ok(json!({
        "track": serial::track(db, track, viewer).await?,
        "index": index,
        "creation_date": created,
    }))
}

/// The tracks of a playlist, in order.
#[requires_scope(resource = "playlists", token = setting)]
pub(crate) async fn playlist_tracks(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
    key: Key,
    query: Query,
) -> ApiResult {
    let viewer = user_of(principal.as_ref());
    let id = visible(&state.db, &key, viewer).await?;
    let mut filter = Where::new();
    filter.and("pt.playlist_id = ?", [Arg::Int(Some(id))]);
    let (page, count, ids) = filter
        .page(
            &state.db,
            "fw_playlist_tracks pt",
            "pt.id",
            "pt.idx",
            &query,
        )
        .await?;
    let mut results = Vec::with_capacity(ids.len());
    for entry in ids {
        results.push(entry_json(&state.db, entry, viewer).await?);
    }
    Ok(page.wrap(&query, count, results))
}

/// Append tracks (`{"tracks": [ids], "allow_duplicates": true}`) to one of
/// the caller's playlists.
#[requires_scope(resource = "playlists", token = user)]
pub(crate) async fn add_tracks(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    key: Key,
    Body(body): Body,
) -> ApiResult {
    let user = me(&principal)?;
    let id = owned(&state.db, &key, user).await?;
    let mut errors = FieldErrors::default();
    let allow_duplicates = bool_field(&body, "allow_duplicates", &mut errors).unwrap_or(true);
    let mut tracks = Vec::new();
    match body.get("tracks") {
        None => errors.add("tracks", "This field is required."),
        Some(Value::Array(list)) => {
            if list.is_empty() {
                errors.add("tracks", "This list may not be empty.");
            }
            for v in list {
                match as_int(v) {
                    Some(n) => tracks.push(n),
                    None => errors.add(
                        "tracks",
                        format!("Incorrect type. Expected pk value, received {v}."),
                    ),
                }
            }
        }
        // A form body with a single `tracks` value.
        Some(v @ (Value::String(_) | Value::Number(_))) => match as_int(v) {
            Some(n) => tracks.push(n),
            None => errors.add("tracks", "Incorrect type. Expected pk value."),
        },
        Some(_) => errors.add("tracks", "Expected a list of items but got type \"dict\"."),
    }
    errors.finish()?;
    let mut tx = begin(&state.db).await?;
    touch(&mut tx, id).await?;
    for track in &tracks {
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM fw_tracks WHERE id = $1")
            .bind(track)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(invalid(
                "tracks",
                format!("Invalid pk \"{track}\" - object does not exist."),
            ));
        }
    }
    let existing: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM fw_playlist_tracks WHERE playlist_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    if existing + tracks.len() as i64 > MAX_TRACKS {
        return Err(invalid(
            "non_field_errors",
            format!("Playlist would reach the maximum of {MAX_TRACKS} tracks"),
        ));
    }
    if !allow_duplicates {
        for track in &tracks {
            let dup: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM fw_playlist_tracks WHERE playlist_id = $1 AND track_id = $2",
            )
            .bind(id)
            .bind(track)
            .fetch_optional(&mut *tx)
            .await?;
            if dup.is_some() || tracks.iter().filter(|t| *t == track).count() > 1 {
                let mut errors = Map::new();
                errors.insert(
                    "non_field_errors".into(),
                    json!([format!("The track \"{track}\" is already in the playlist")]),
                );
                errors.insert("tracks".into(), json!([track]));
                return Err(ApiError::Invalid(errors));
            }
        }
    }
    let mut added = Vec::with_capacity(tracks.len());
    for (n, track) in tracks.iter().enumerate() {
        let entry: i64 = sqlx::query_scalar(
            "INSERT INTO fw_playlist_tracks (playlist_id, track_id, idx, creation_date) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(id)
        .bind(track)
        .bind(existing + n as i64)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        added.push(entry);
    }
    tx.commit().await?;
    let mut results = Vec::with_capacity(added.len());
    for entry in added {
        results.push(entry_json(&state.db, entry, Some(user)).await?);
    }
    Ok(created(
        json!({ "count": results.len(), "results": results }),
    ))
}

/// Remove the entry at `index` (`{"index": n}`) from one of the caller's playlists.
#[requires_scope(resource = "playlists", token = user)]
pub(crate) async fn remove_track(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    key: Key,
    Body(body): Body,
) -> ApiResult {
    let id = owned(&state.db, &key, me(&principal)?).await?;
    let mut errors = FieldErrors::default();
    let index = int_field(&body, "index", true, &mut errors);
    errors.finish()?;
    let index = index.unwrap_or_default();
    let mut tx = begin(&state.db).await?;
    touch(&mut tx, id).await?;
    let removed = sqlx::query("DELETE FROM fw_playlist_tracks WHERE playlist_id = $1 AND idx = $2")
        .bind(id)
        .bind(index)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(ApiError::NotFound);
    }
    sqlx::query("UPDATE fw_playlist_tracks SET idx = idx - 1 WHERE playlist_id = $1 AND idx > $2")
        .bind(id)
        .bind(index)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(no_content())
}

/// Remove every track of one of the caller's playlists.
#[requires_scope(resource = "playlists", token = user)]
pub(crate) async fn clear_playlist(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    key: Key,
) -> ApiResult {
    let id = owned(&state.db, &key, me(&principal)?).await?;
    let mut tx = begin(&state.db).await?;
    touch(&mut tx, id).await?;
    sqlx::query("DELETE FROM fw_playlist_tracks WHERE playlist_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(no_content())
}

/// Move the entry at `from` to index `to` (`{"from": i, "to": j}`).
#[requires_scope(resource = "playlists", token = user)]
pub(crate) async fn move_track(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    key: Key,
    Body(body): Body,
) -> ApiResult {
    let id = owned(&state.db, &key, me(&principal)?).await?;
    let mut errors = FieldErrors::default();
    let from = int_field(&body, "from", true, &mut errors);
    let to = int_field(&body, "to", true, &mut errors);
    errors.finish()?;
    let (from, to) = (from.unwrap_or_default(), to.unwrap_or_default());
    let mut tx = begin(&state.db).await?;
    touch(&mut tx, id).await?;
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM fw_playlist_tracks WHERE playlist_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    if from < 0 || from >= count {
        return Err(ApiError::NotFound);
    }
    if to < 0 || to >= count {
        return Err(invalid(
            "to",
            format!("Ensure this value is between 0 and {}.", count - 1),
        ));
    }
    let entry: i64 =
        sqlx::query_scalar("SELECT id FROM fw_playlist_tracks WHERE playlist_id = $1 AND idx = $2")
            .bind(id)
            .bind(from)
            .fetch_one(&mut *tx)
            .await?;
    if from < to {
        sqlx::query(
            "UPDATE fw_playlist_tracks SET idx = idx - 1 \
             WHERE playlist_id = $1 AND idx > $2 AND idx <= $3",
        )
        .bind(id)
        .bind(from)
        .bind(to)
        .execute(&mut *tx)
        .await?;
    } else if to < from {
        sqlx::query(
            "UPDATE fw_playlist_tracks SET idx = idx + 1 \
             WHERE playlist_id = $1 AND idx >= $2 AND idx < $3",
        )
        .bind(id)
        .bind(to)
        .bind(from)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("UPDATE fw_playlist_tracks SET idx = $1 WHERE id = $2")
        .bind(to)
        .bind(entry)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(no_content())
}
