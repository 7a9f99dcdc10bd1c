//! Rows to JSON, with Funkwhale's field names.

// Rows are read as tuples, one field per column.
#![allow(clippy::type_complexity)]

use serde_json::{Value, json};
use sqlx::AnyPool;

use crate::common::ApiResult;
use crate::privacy;

/// `UserBasicSerializer`: `{id, username, name, date_joined, avatar}`;
/// `null` for a missing user.
pub(crate) async fn user(db: &AnyPool, id: Option<i64>) -> ApiResult<Value> {
    let Some(id) = id else {
        return Ok(Value::Null);
    };
    let row: Option<(i64, String)> = sqlx::query_as("SELECT id, username FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row.map_or(Value::Null, |(id, username)| {
        json!({
            "id": id,
            "username": username,
            "name": "",
            "full_username": username,
            "date_joined": Value::Null,
            "avatar": Value::Null,
        })
    }))
}

/// The nested artist of tracks and albums.
pub(crate) async fn artist_simple(db: &AnyPool, id: i64) -> ApiResult<Option<Value>> {
    let row: Option<(i64, String, String, String)> = sqlx::query_as(
        "SELECT id, name, creation_date, modification_date FROM fw_artists WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id, name, created, modified)| {
        json!({
            "id": id,
            "fid": format!("/federation/music/artists/{id}"),
            "mbid": Value::Null,
            "name": name,
            "creation_date": created,
            "modification_date": modified,
            "is_local": true,
            "content_category": "music",
            "description": Value::Null,
            "attachment_cover": Value::Null,
            "channel": Value::Null,
            "cover": Value::Null,
        })
    }))
}

/// An artist in `/api/v1/artists/`: the simple fields plus counts.
pub(crate) async fn artist(db: &AnyPool, id: i64) -> ApiResult<Option<Value>> {
    let Some(mut out) = artist_simple(db, id).await? else {
        return Ok(None);
    };
    let (tracks, albums, attributed): (i64, i64, Option<i64>) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM fw_tracks WHERE artist_id = a.id), \
                (SELECT COUNT(*) FROM fw_albums WHERE artist_id = a.id), attributed_to \
         FROM fw_artists a WHERE a.id = $1",
    )
    .bind(id)
    .fetch_one(db)
    .await?;
    out["tracks_count"] = json!(tracks);
    out["albums_count"] = json!(albums);
    out["tags"] = json!([]);
    out["attributed_to"] = user(db, attributed).await?;
    Ok(Some(out))
}

/// An album (the nested form in tracks, and `/api/v1/albums/`), playable
/// if `viewer` sees an upload of one of its tracks.
pub(crate) async fn album(db: &AnyPool, id: i64, viewer: Option<i64>) -> ApiResult<Option<Value>> {
    let row: Option<(i64, String, i64, Option<String>, String, Option<i64>)> = sqlx::query_as(
        "SELECT id, title, artist_id, release_date, creation_date, attributed_to \
         FROM fw_albums WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    let Some((id, title, artist_id, release_date, created, attributed)) = row else {
        return Ok(None);
    };
    // One row per track: the tracks are counted, not their uploads.
    let sql = format!(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN {} THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM fw_tracks t WHERE t.album_id = $1",
        privacy::playable("t.id", viewer)
    );
    let (tracks, playable): (i64, i64) = sqlx::query_as(&sql).bind(id).fetch_one(db).await?;
    Ok(Some(json!({
        "id": id,
        "fid": format!("/federation/music/albums/{id}"),
        "mbid": Value::Null,
        "title": title,
        "artist": artist_simple(db, artist_id).await?,
        "release_date": release_date,
        "creation_date": created,
        "is_local": true,
        "is_playable": playable > 0,
        "tracks_count": tracks,
        "cover": Value::Null,
        "tags": [],
        "attributed_to": user(db, attributed).await?,
    })))
}

/// The uploads of a track `viewer` sees, as nested in the track.
async fn track_uploads(db: &AnyPool, track: i64, viewer: Option<i64>) -> ApiResult<Vec<Value>> {
    let sql = format!(
        "SELECT uuid, size, duration, bitrate, mimetype FROM fw_uploads u \
         WHERE track_id = $1 AND import_status = 'finished' AND {} ORDER BY id",
        privacy::upload_visible("u", viewer)
    );
    let rows: Vec<(
        String,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<String>,
    )> = sqlx::query_as(&sql).bind(track).fetch_all(db).await?;
    Ok(rows
        .into_iter()
        .map(|(uuid, size, duration, bitrate, mimetype)| {
            json!({
                "uuid": uuid,
                "listen_url": format!("/api/v1/listen/{uuid}/"),
                "size": size,
                "duration": duration,
                "bitrate": bitrate,
                "mimetype": mimetype,
                "extension": extension(mimetype.as_deref()),
                "is_local": true,
            })
        })
        .collect())
}

fn extension(mimetype: Option<&str>) -> Value {
    match mimetype {
        Some("audio/mpeg") => json!("mp3"),
        Some("audio/ogg") => json!("ogg"),
        Some("audio/flac" | "audio/x-flac") => json!("flac"),
        Some("audio/opus") => json!("opus"),
        _ => Value::Null,
    }
}

/// A track (`TrackSerializer`) as `viewer` sees it: the uploads it may
/// play, and playable if there is one.
pub(crate) async fn track(db: &AnyPool, id: i64, viewer: Option<i64>) -> ApiResult<Option<Value>> {
    let row: Option<(
        i64,
        String,
        i64,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        String,
    )> = sqlx::query_as(
        "SELECT id, title, artist_id, album_id, position, disc_number, attributed_to, \
         creation_date FROM fw_tracks WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    let Some((id, title, artist_id, album_id, position, disc, attributed, created)) = row else {
        return Ok(None);
    };
    let album = match album_id {
        Some(a) => album(db, a, viewer).await?.unwrap_or(Value::Null),
        None => Value::Null,
    };
    let uploads = track_uploads(db, id, viewer).await?;
    Ok(Some(json!({
        "id": id,
        "fid": format!("/federation/music/tracks/{id}"),
        "mbid": Value::Null,
        "title": title,
        "artist": artist_simple(db, artist_id).await?,
        "album": album,
        "position": position,
        "disc_number": disc,
        "uploads": uploads,
        "is_playable": !uploads.is_empty(),
        "listen_url": format!("/api/v1/listen/{id}/"),
        "tags": [],
        "attributed_to": user(db, attributed).await?,
        "is_local": true,
        "creation_date": created,
        "copyright": Value::Null,
        "license": Value::Null,
        "cover": Value::Null,
        "downloads_count": 0,
    })))
}

/// A library (`LibraryForOwnerSerializer`). Its callers checked that the
/// viewer sees the library, hence each of its uploads (the same rule):
/// the counts need no filter.
pub(crate) async fn library(db: &AnyPool, id: i64) -> ApiResult<Option<Value>> {
    let row: Option<(i64, String, i64, String, String, String, String)> = sqlx::query_as(
        "SELECT id, uuid, user_id, name, description, privacy_level, creation_date \
         FROM fw_libraries WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    let Some((id, uuid, owner, name, description, privacy, created)) = row else {
        return Ok(None);
    };
    let (uploads, size, follows): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM fw_uploads WHERE library_id = $1), \
                (SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM fw_uploads WHERE library_id = $1), \
                (SELECT COUNT(*) FROM fw_library_follows WHERE library_id = $1 AND approved = 1)",
    )
    .bind(id)
    .fetch_one(db)
    .await?;
    Ok(Some(json!({
        "uuid": uuid,
        "fid": format!("/federation/music/libraries/{uuid}"),
        "name": name,
        "description": description,
        "privacy_level": privacy,
        "uploads_count": uploads,
        "size": size,
        "followers_count": follows,
        "creation_date": created,
        "actor": user(db, Some(owner)).await?,
    })))
}

/// An upload (`UploadForOwnerSerializer`), its track as `viewer` (the
/// owner) sees it.
pub(crate) async fn upload(db: &AnyPool, id: i64, viewer: Option<i64>) -> ApiResult<Option<Value>> {
    let row: Option<(
        String,
        i64,
        i64,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<String>,
        Option<String>,
        String,
        String,
    )> = sqlx::query_as(
        "SELECT uuid, library_id, track_id, duration, size, bitrate, mimetype, source, \
         import_status, creation_date FROM fw_uploads WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    let Some((
        uuid,
        library_id,
        track_id,
        duration,
        size,
        bitrate,
        mimetype,
        source,
        status,
        created,
    )) = row
    else {
        return Ok(None);
    };
    let library_uuid: Option<String> =
        sqlx::query_scalar("SELECT uuid FROM fw_libraries WHERE id = $1")
            .bind(library_id)
            .fetch_optional(db)
            .await?;
    Ok(Some(json!({
        "uuid": uuid,
        "filename": source.as_deref().and_then(|s| s.rsplit('/').next()).unwrap_or_default(),
        "creation_date": created,
        "mimetype": mimetype,
        "track": track(db, track_id, viewer).await?,
        "library": library_uuid,
        "channel": Value::Null,
        "duration": duration,
        "bitrate": bitrate,
        "size": size,
        "import_date": created,
        "import_status": status,
        "import_details": {},
        "import_metadata": {},
        "import_reference": "",
        "source": source,
        "listen_url": format!("/api/v1/listen/{uuid}/"),
    })))
}

/// A playlist (`PlaylistSerializer`) as `viewer` sees it: every entry is
/// counted (`tracks_count`); the duration and playability are those of the
/// uploads the viewer sees.
pub(crate) async fn playlist(
    db: &AnyPool,
    id: i64,
    viewer: Option<i64>,
) -> ApiResult<Option<Value>> {
    let row: Option<(i64, i64, String, String, String, String, String)> = sqlx::query_as(
        "SELECT id, user_id, name, description, privacy_level, creation_date, \
         modification_date FROM fw_playlists WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    let Some((id, owner, name, description, privacy, created, modified)) = row else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT COUNT(*), \
                CAST(COALESCE(SUM((SELECT MAX(duration) FROM fw_uploads u WHERE u.track_id = pt.track_id AND {})), 0) AS BIGINT), \
                CAST(COALESCE(SUM(CASE WHEN {} THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM fw_playlist_tracks pt WHERE pt.playlist_id = $1",
        privacy::upload_visible("u", viewer),
        privacy::playable("pt.track_id", viewer)
    );
    let (count, duration, playable): (i64, i64, i64) =
        sqlx::query_as(&sql).bind(id).fetch_one(db).await?;
    Ok(Some(json!({
        "id": id,
        "name": name,
        "description": description,
        "user": user(db, Some(owner)).await?,
        "modification_date": modified,
        "creation_date": created,
        "privacy_level": privacy,
        "tracks_count": count,
        "duration": duration,
        "is_playable": playable > 0,
        "album_covers": [],
        "actor": Value::Null,
    })))
}

/// A radio (`RadioSerializer`).
pub(crate) async fn radio(db: &AnyPool, id: i64) -> ApiResult<Option<Value>> {
    let row: Option<(i64, i64, String, String, i64, String, String)> = sqlx::query_as(
        "SELECT id, user_id, name, description, is_public, config, creation_date \
         FROM fw_radios WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    let Some((id, owner, name, description, is_public, config, created)) = row else {
        return Ok(None);
    };
    let config: Value = serde_json::from_str(&config).unwrap_or_else(|_| json!([]));
    Ok(Some(json!({
        "id": id,
        "is_public": is_public != 0,
        "name": name,
        "creation_date": created,
        "config": config,
        "description": description,
        "user": user(db, Some(owner)).await?,
    })))
}

/// A library follow (`LibraryFollowSerializer`).
pub(crate) async fn follow(db: &AnyPool, id: i64) -> ApiResult<Value> {
    let row: Option<(String, i64, i64, Option<i64>, String, String)> = sqlx::query_as(
        "SELECT uuid, user_id, library_id, approved, creation_date, modification_date \
         FROM fw_library_follows WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    let Some((uuid, follower, library_id, approved, created, modified)) = row else {
        return Ok(Value::Null);
    };
    Ok(json!({
        "uuid": uuid,
        "actor": user(db, Some(follower)).await?,
        "target": library(db, library_id).await?,
        "approved": approved.map(|b| b != 0),
        "creation_date": created,
        "modification_date": modified,
    }))
}
