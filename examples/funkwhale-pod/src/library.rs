//! Libraries and uploads (`read:libraries` / `write:libraries`).

use axum::extract::State;
use axum::http::Method;
use scope_runtime::Principal;
use scope_runtime::requires_scope;
use serde_json::{Map, Value};
use sqlx::AnyPool;

use crate::common::{
    ApiError, ApiResult, Arg, Body, FieldErrors, Key, PRIVACY_LEVELS, Query, Where, begin,
    choice_field, created, int_field, invalid, me, new_uuid, no_content, now, ok, string_field,
    user_of,
};
use crate::{AppState, Scope, privacy, serial};

/// The id of the library `uuid` if `viewer` may see it.
async fn visible_library(db: &AnyPool, uuid: &str, viewer: Option<i64>) -> ApiResult<i64> {
    let sql = format!(
        "SELECT id FROM fw_libraries l WHERE uuid = $1 AND {}",
        privacy::visible("l", viewer)
    );
    sqlx::query_scalar(&sql)
        .bind(uuid)
        .fetch_optional(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// The id of the library `uuid` if `user` owns it (others' are 404, as
/// Funkwhale filters them out of the owner's queryset).
async fn own_library(db: &AnyPool, uuid: &str, user: i64) -> ApiResult<i64> {
    sqlx::query_scalar("SELECT id FROM fw_libraries WHERE uuid = $1 AND user_id = $2")
        .bind(uuid)
        .bind(user)
        .fetch_optional(db)
        .await?
        .ok_or(ApiError::NotFound)
}

async fn library_json(db: &AnyPool, id: i64) -> ApiResult<Value> {
    serial::library(db, id).await?.ok_or(ApiError::NotFound)
}

/// List the libraries the caller may see (`?scope=me`: only theirs; `?q=`: by name).
#[requires_scope(resource = "libraries", token = setting)]
pub(crate) async fn list_libraries(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
    query: Query,
) -> ApiResult {
    let viewer = user_of(principal.as_ref());
    let mut filter = Where::new();
    filter.privacy("l", viewer);
    if query.get("scope") == Some("me") {
        filter.and("l.user_id = ?", [Arg::Int(viewer)]);
    }
    if let Some(q) = query.get("q").or(query.get("name")) {
        filter.contains("l.name", q);
    }
    let (page, count, ids) = filter
        .page(&state.db, "fw_libraries l", "l.id", "l.id DESC", &query)
        .await?;
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        results.push(library_json(&state.db, id).await?);
    }
    Ok(page.wrap(&query, count, results))
}

/// Validates a library body; `partial` for PATCH.
fn library_fields(
    body: &Map<String, Value>,
    partial: bool,
) -> ApiResult<(Option<String>, Option<String>, Option<String>)> {
    let mut errors = FieldErrors::default();
    let name = string_field(body, "name", !partial, 100, &mut errors);
    let description = string_field(body, "description", false, 5000, &mut errors);
    let privacy = choice_field(body, "privacy_level", PRIVACY_LEVELS, &mut errors);
    errors.finish()?;
    Ok((name, description, privacy))
}

/// Create a library owned by the caller.
#[requires_scope(resource = "libraries", token = user)]
pub(crate) async fn create_library(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Body(body): Body,
) -> ApiResult {
    let user = me(&principal)?;
    let (name, description, privacy) = library_fields(&body, false)?;
    let uuid = new_uuid()?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO fw_libraries (uuid, user_id, name, description, privacy_level, creation_date) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(uuid)
    .bind(user)
    .bind(name.unwrap_or_default())
    .bind(description.unwrap_or_default())
    .bind(privacy.as_deref().unwrap_or("me"))
    .bind(now())
    .fetch_one(&state.db)
    .await?;
    Ok(created(library_json(&state.db, id).await?))
}

/// Retrieve a library (another user's private library is 404).
#[requires_scope(resource = "libraries", token = setting)]
pub(crate) async fn get_library(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
    Key(uuid): Key,
) -> ApiResult {
    let id = visible_library(&state.db, &uuid, user_of(principal.as_ref())).await?;
    Ok(ok(library_json(&state.db, id).await?))
}

/// Update one of the caller's libraries (PUT: full, PATCH: partial).
#[requires_scope(resource = "libraries", token = user)]
pub(crate) async fn update_library(
    State(state): State<AppState>,
    method: Method,
    principal: Principal<Scope>,
    Key(uuid): Key,
    Body(body): Body,
) -> ApiResult {
    let user = me(&principal)?;
    let id = own_library(&state.db, &uuid, user).await?;
    let (name, description, privacy) = library_fields(&body, method == Method::PATCH)?;
    sqlx::query(
        "UPDATE fw_libraries SET name = COALESCE($1, name), \
         description = COALESCE($2, description), privacy_level = COALESCE($3, privacy_level) \
         WHERE id = $4",
    )
    .bind(name)
    .bind(description)
    .bind(privacy)
    .bind(id)
    .execute(&state.db)
    .await?;
    Ok(ok(library_json(&state.db, id).await?))
}

/// Delete one of the caller's libraries, with its uploads.
#[requires_scope(resource = "libraries", token = user)]
pub(crate) async fn delete_library(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Key(uuid): Key,
) -> ApiResult {
    let user = me(&principal)?;
    let id = own_library(&state.db, &uuid, user).await?;
    sqlx::query("DELETE FROM fw_libraries WHERE id = $1")
        .bind(id)
        .execute(&state.db)
        .await?;
    Ok(no_content())
}

/// The follows of one of the caller's libraries.
#[requires_scope(resource = "libraries", token = setting)]
pub(crate) async fn library_follows(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
    Key(uuid): Key,
    query: Query,
) -> ApiResult {
    let user = user_of(principal.as_ref()).ok_or(ApiError::NotFound)?;
    let id = own_library(&state.db, &uuid, user).await?;
    let mut filter = Where::new();
    filter.and("f.library_id = ?", [Arg::Int(Some(id))]);
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

/// List the caller's uploads (`?library=<uuid>`, `?import_status=`, `?track=`).
#[requires_scope(resource = "libraries", token = setting)]
pub(crate) async fn list_uploads(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
    query: Query,
) -> ApiResult {
    let viewer = user_of(principal.as_ref());
    let mut filter = Where::new();
    filter.and("l.user_id = ?", [Arg::Int(viewer)]);
    if let Some(library) = query.get("library") {
        filter.and("l.uuid = ?", [Arg::Text(library.to_owned())]);
    }
    if let Some(status) = query.get("import_status") {
        filter.and("u.import_status = ?", [Arg::Text(status.to_owned())]);
    }
    if let Some(track) = query.get("track") {
        filter.and("u.track_id = ?", [Arg::Int(track.parse().ok())]);
    }
    let (page, count, ids) = filter
        .page(
            &state.db,
            "fw_uploads u JOIN fw_libraries l ON l.id = u.library_id",
            "u.id",
            "u.id DESC",
            &query,
        )
        .await?;
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(upload) = serial::upload(&state.db, id, viewer).await? {
            results.push(upload);
        }
    }
    Ok(page.wrap(&query, count, results))
}

/// The MIME types an upload may declare.
const MIMETYPES: &[&str] = &["audio/mpeg", "audio/ogg", "audio/flac", "audio/opus"];

/// The largest upload `duration` (seconds, about 115 days).
const MAX_DURATION: i64 = 10_000_000;
/// The largest upload `size` (bytes, 1 TiB).
const MAX_SIZE: i64 = 1 << 40;
/// The largest upload `bitrate` (bits per second).
const MAX_BITRATE: i64 = 10_000_000;

/// Add an upload to one of the caller's libraries.
///
/// Simplified: no audio file is transferred. The body names the library
/// (`library`: uuid) and either an existing `track` (id) or
/// `import_metadata` (`{"title", "artist", "album", "position"}`, artist and
/// album by name, created if missing), plus optional `duration`, `size`,
/// `bitrate`, `mimetype` and `source`.
#[requires_scope(resource = "libraries", token = user)]
pub(crate) async fn create_upload(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Body(body): Body,
) -> ApiResult {
    let user = me(&principal)?;
    let mut errors = FieldErrors::default();
    let library = string_field(&body, "library", true, 100, &mut errors);
    let track = int_field(&body, "track", false, &mut errors);
    let duration = int_field(&body, "duration", false, &mut errors);
    let size = int_field(&body, "size", false, &mut errors);
    let bitrate = int_field(&body, "bitrate", false, &mut errors);
    let mimetype = choice_field(&body, "mimetype", MIMETYPES, &mut errors);
    let source = string_field(&body, "source", false, 500, &mut errors);
    // Bounded, so the sums of the listings and of nodeinfo stay in a BIGINT.
    for (field, value, max) in [
        ("duration", duration, MAX_DURATION),
        ("size", size, MAX_SIZE),
        ("bitrate", bitrate, MAX_BITRATE),
    ] {
        if value.is_some_and(|v| v < 0) {
            errors.add(field, "Ensure this value is greater than or equal to 0.");
        } else if value.is_some_and(|v| v > max) {
            errors.add(
                field,
                format!("Ensure this value is less than or equal to {max}."),
            );
        }
    }
    let mut metadata = None;
    match body.get("import_metadata") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            let title = string_field(m, "title", true, 255, &mut errors);
            let artist = string_field(m, "artist", false, 255, &mut errors);
            let album = string_field(m, "album", false, 255, &mut errors);
            let position = int_field(m, "position", false, &mut errors);
            metadata = Some((title, artist, album, position));
        }
        Some(_) => errors.add("import_metadata", "Expected a dictionary of items."),
    }
    if track.is_none() && metadata.is_none() && !body.contains_key("track") {
        errors.add(
            "import_metadata",
            "This field is required when no track is given.",
        );
    }
    errors.finish()?;
    let library = library.unwrap_or_default();
    let library_id: i64 =
        sqlx::query_scalar("SELECT id FROM fw_libraries WHERE uuid = $1 AND user_id = $2")
            .bind(&library)
            .bind(user)
            .fetch_optional(&state.db)
            .await?
            .ok_or_else(|| {
                invalid(
                    "library",
                    format!("Object with uuid={library} does not exist."),
                )
            })?;
    let uuid = new_uuid()?;
    let mut tx = begin(&state.db).await?;
    let track_id = if let Some(track) = track {
        sqlx::query_scalar::<_, i64>("SELECT id FROM fw_tracks WHERE id = $1")
            .bind(track)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| {
                invalid(
                    "track",
                    format!("Invalid pk \"{track}\" - object does not exist."),
                )
            })?
    } else {
        let (title, artist, album, position) = metadata.unwrap_or_default();
        let artist = artist.unwrap_or_else(|| "Unknown artist".to_owned());
        let artist_id = get_or_create_artist(&mut tx, &artist, user).await?;
        let album_id = match album {
            Some(album) => Some(get_or_create_album(&mut tx, &album, artist_id, user).await?),
            None => None,
        };
        sqlx::query_scalar(
            "INSERT INTO fw_tracks (title, artist_id, album_id, position, attributed_to, \
             creation_date) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(title.unwrap_or_default())
        .bind(artist_id)
        .bind(album_id)
        .bind(position)
        .bind(user)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO fw_uploads (uuid, library_id, track_id, duration, size, bitrate, mimetype, \
         source, import_status, creation_date) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'finished', $9) RETURNING id",
    )
    .bind(uuid)
    .bind(library_id)
    .bind(track_id)
    .bind(duration)
    .bind(size)
    .bind(bitrate)
    .bind(mimetype)
    .bind(source)
    .bind(now())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let upload = serial::upload(&state.db, id, Some(user))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(created(upload))
}

/// The artist named `name` (case-insensitively), created if missing.
pub(crate) async fn get_or_create_artist(
    conn: &mut sqlx::AnyConnection,
    name: &str,
    user: i64,
) -> Result<i64, sqlx::Error> {
    if let Some(id) = sqlx::query_scalar("SELECT id FROM fw_artists WHERE lower(name) = lower($1)")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?
    {
        return Ok(id);
    }
    sqlx::query_scalar(
        "INSERT INTO fw_artists (name, attributed_to, creation_date, modification_date) \
         VALUES ($1, $2, $3, $3) RETURNING id",
    )
    .bind(name)
    .bind(user)
    .bind(now())
    .fetch_one(conn)
    .await
}

/// The album `title` of `artist`, created if missing.
pub(crate) async fn get_or_create_album(
    conn: &mut sqlx::AnyConnection,
    title: &str,
    artist: i64,
    user: i64,
) -> Result<i64, sqlx::Error> {
    if let Some(id) = sqlx::query_scalar(
        "SELECT id FROM fw_albums WHERE lower(title) = lower($1) AND artist_id = $2",
    )
    .bind(title)
    .bind(artist)
    .fetch_optional(&mut *conn)
    .await?
    {
        return Ok(id);
    }
    sqlx::query_scalar(
        "INSERT INTO fw_albums (title, artist_id, attributed_to, creation_date) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(title)
    .bind(artist)
    .bind(user)
    .bind(now())
    .fetch_one(conn)
    .await
}

/// The id of the upload `uuid` if it is in one of `user`'s libraries.
async fn own_upload(db: &AnyPool, uuid: &str, user: Option<i64>) -> ApiResult<i64> {
    sqlx::query_scalar(
        "SELECT u.id FROM fw_uploads u JOIN fw_libraries l ON l.id = u.library_id \
         WHERE u.uuid = $1 AND l.user_id = $2",
    )
    .bind(uuid)
    .bind(user)
    .fetch_optional(db)
    .await?
    .ok_or(ApiError::NotFound)
}

/// Retrieve one of the caller's uploads.
#[requires_scope(resource = "libraries", token = setting)]
pub(crate) async fn get_upload(
    State(state): State<AppState>,
    principal: Option<Principal<Scope>>,
    Key(uuid): Key,
) -> ApiResult {
    let viewer = user_of(principal.as_ref());
    let id = own_upload(&state.db, &uuid, viewer).await?;
    let upload = serial::upload(&state.db, id, viewer)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(ok(upload))
}

/// Delete one of the caller's uploads.
#[requires_scope(resource = "libraries", token = user)]
pub(crate) async fn delete_upload(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Key(uuid): Key,
) -> ApiResult {
    let id = own_upload(&state.db, &uuid, Some(me(&principal)?)).await?;
    sqlx::query("DELETE FROM fw_uploads WHERE id = $1")
        .bind(id)
        .execute(&state.db)
        .await?;
    Ok(no_content())
}
