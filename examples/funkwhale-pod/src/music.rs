//! Tracks, albums and artists (`read:libraries`; anonymous per the pod's setting).

use axum::extract::State;
use scope_runtime::Principal;
use scope_runtime::requires_scope;

use crate::common::{ApiError, ApiResult, Arg, Key, Query, Where, ok, user_of};
use crate::{AppState, Scope, privacy, serial};

/// Excludes the artists the viewer hid with content filters (Funkwhale's
/// `HiddenFilter` on lists), `column` being the artist id column.
fn hide_filtered(filter: &mut Where, column: &str, viewer: Option<i64>) {
    filter.and(
        format!("{column} NOT IN (SELECT target_artist FROM fw_content_filters WHERE user_id = ?)"),
        [Arg::Int(viewer)],
    );
}

/// `?playable=`: keeps what has (or, `false`, lacks) a track with an upload
/// the viewer sees, among the tracks `pf` for which `tracks` holds.
fn playable_filter(filter: &mut Where, query: &Query, tracks: &str, viewer: Option<i64>) {
    if let Some(playable) = query.bool("playable") {
        let has = format!(
            "EXISTS (SELECT 1 FROM fw_tracks pf WHERE {tracks} AND {})",
            privacy::playable("pf.id", viewer)
        );
        filter.and(if playable { has } else { format!("NOT {has}") }, []);
    }
}

/// The `ORDER BY` of an `ordering` parameter among `allowed` fields
/// (unknown ones are ignored, as DRF's `OrderingFilter` does).
fn ordering(query: &Query, alias: &str, allowed: &[&str]) -> String {
    let default = format!("{alias}.id DESC");
    let Some(raw) = query.get("ordering") else {
        return default;
    };
    let (desc, field) = match raw.strip_prefix('-') {
        Some(f) => (true, f),
        None => (false, raw),
    };
    if !allowed.contains(&field) {
        return default;
    }
    let dir = if desc { "DESC" } else { "ASC" };
    format!("{alias}.{field} {dir}, {alias}.id {dir}")
}

/// List tracks (`?artist=`, `?album=`, `?q=`, `?playable=`, `?ordering=`).
#[requires_scope(resource = "libraries", token = setting)]
pub(crate) async fn list_tracks(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
    query: Query,
) -> ApiResult {
    let viewer = user_of(principal.as_ref());
    let mut filter = Where::new();
    hide_filtered(&mut filter, "t.artist_id", viewer);
    if let Some(artist) = query.get("artist") {
        filter.and("t.artist_id = ?", [Arg::Int(artist.parse().ok())]);
    }
    if let Some(album) = query.get("album") {
        filter.and("t.album_id = ?", [Arg::Int(album.parse().ok())]);
    }
    if let Some(q) = query.get("q").or(query.get("title")) {
        filter.contains("t.title", q);
    }
    if let Some(playable) = query.bool("playable") {
        let has = privacy::playable("t.id", viewer);
        filter.and(if playable { has } else { format!("NOT {has}") }, []);
    }
    let order = ordering(
        &query,
        "t",
        &["title", "creation_date", "position", "disc_number", "id"],
    );
    let (page, count, ids) = filter
        .page(&state.db, "fw_tracks t", "t.id", &order, &query)
        .await?;
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(track) = serial::track(&state.db, id, viewer).await? {
            results.push(track);
        }
    }
    Ok(page.wrap(&query, count, results))
}

/// Retrieve a track.
#[requires_scope(resource = "libraries", token = setting)]
pub(crate) async fn get_track(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
    key: Key,
) -> ApiResult {
    let viewer = user_of(principal.as_ref());
    let track = serial::track(&state.db, key.id()?, viewer).await?;
    Ok(ok(track.ok_or(ApiError::NotFound)?))
}

/// List albums (`?artist=`, `?q=`, `?playable=`, `?ordering=`).
#[requires_scope(resource = "libraries", token = setting)]
pub(crate) async fn list_albums(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
    query: Query,
) -> ApiResult {
    let viewer = user_of(principal.as_ref());
    let mut filter = Where::new();
    hide_filtered(&mut filter, "a.artist_id", viewer);
    if let Some(artist) = query.get("artist") {
        filter.and("a.artist_id = ?", [Arg::Int(artist.parse().ok())]);
    }
    if let Some(q) = query.get("q").or(query.get("title")) {
        filter.contains("a.title", q);
    }
    playable_filter(&mut filter, &query, "pf.album_id = a.id", viewer);
    let order = ordering(
        &query,
        "a",
        &["title", "creation_date", "release_date", "id"],
    );
    let (page, count, ids) = filter
        .page(&state.db, "fw_albums a", "a.id", &order, &query)
        .await?;
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(album) = serial::album(&state.db, id, viewer).await? {
            results.push(album);
        }
    }
    Ok(page.wrap(&query, count, results))
}

/// Retrieve an album.
#[requires_scope(resource = "libraries", token = setting)]
pub(crate) async fn get_album(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
    key: Key,
) -> ApiResult {
    let viewer = user_of(principal.as_ref());
    let album = serial::album(&state.db, key.id()?, viewer).await?;
    Ok(ok(album.ok_or(ApiError::NotFound)?))
}

/// List artists (`?q=`, `?playable=`, `?ordering=`).
#[requires_scope(resource = "libraries", token = setting)]
pub(crate) async fn list_artists(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
    query: Query,
) -> ApiResult {
    let viewer = user_of(principal.as_ref());
    let mut filter = Where::new();
    hide_filtered(&mut filter, "a.id", viewer);
    if let Some(q) = query.get("q").or(query.get("name")) {
        filter.contains("a.name", q);
    }
    playable_filter(&mut filter, &query, "pf.artist_id = a.id", viewer);
    let order = ordering(&query, "a", &["name", "creation_date", "id"]);
    let (page, count, ids) = filter
        .page(&state.db, "fw_artists a", "a.id", &order, &query)
        .await?;
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(artist) = serial::artist(&state.db, id).await? {
            results.push(artist);
        }
    }
    Ok(page.wrap(&query, count, results))
}

/// Retrieve an artist.
#[requires_scope(resource = "libraries", token = setting)]
pub(crate) async fn get_artist(State(state): State<AppState>, key: Key) -> ApiResult {
    let artist = serial::artist(&state.db, key.id()?).await?;
    Ok(ok(artist.ok_or(ApiError::NotFound)?))
}
