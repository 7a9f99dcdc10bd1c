//! Demo data, so that every GET of a fresh `--demo` pod returns something.

use serde_json::json;
use sqlx::SqlitePool;

use crate::common::NOW;
use crate::library::{get_or_create_album, get_or_create_artist};

/// The name of the demo library: its presence marks a seeded user.
const DEMO_LIBRARY: &str = "Demo library";

/// A UUID made by SQLite (version 4 layout).
const UUID_SQL: &str = "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || \
     substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' || \
     hex(randomblob(6)))";

/// Seeds demo data owned by `user_id`: a public library with three
/// artists, two albums, six tracks and their uploads; a public playlist of
/// three tracks; a favorite, a listening, a public radio, a content filter
/// (hiding the third artist), a notification, a pending metadata edit and
/// an approved follow of the demo library.
///
/// Idempotent: a user who already has the demo library is left alone, so a
/// pod can call this at every start.
///
/// # Errors
/// The database's, if any statement fails (nothing is then written).
pub async fn seed_demo(db: &SqlitePool, user_id: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    let seeded: Option<i64> =
        sqlx::query_scalar("SELECT id FROM fw_libraries WHERE user_id = ? AND name = ?")
            .bind(user_id)
            .bind(DEMO_LIBRARY)
            .fetch_optional(&mut *tx)
            .await?;
    if seeded.is_some() {
        return tx.commit().await;
    }
    let library: i64 = sqlx::query_scalar(&format!(
        "INSERT INTO fw_libraries (uuid, user_id, name, description, privacy_level, creation_date) \
         VALUES ({UUID_SQL}, ?, ?, 'Tracks seeded for the demo', 'everyone', {NOW}) RETURNING id"
    ))
    .bind(user_id)
    .bind(DEMO_LIBRARY)
    .fetch_one(&mut *tx)
    .await?;

    let scopes = get_or_create_artist(&mut tx, "The Scopes", user_id).await?;
    let bearers = get_or_create_artist(&mut tx, "Bearer Tokens", user_id).await?;
    let hidden = get_or_create_artist(&mut tx, "Hidden Artist", user_id).await?;
    let read_only = get_or_create_album(&mut tx, "Read Only", scopes, user_id).await?;
    let write_access = get_or_create_album(&mut tx, "Write Access", bearers, user_id).await?;
    for (album, date) in [(read_only, "2019-05-01"), (write_access, "2021-10-10")] {
        sqlx::query("UPDATE fw_albums SET release_date = COALESCE(release_date, ?) WHERE id = ?")
            .bind(date)
            .bind(album)
            .execute(&mut *tx)
            .await?;
    }
    let tracks = [
        ("Grant", scopes, Some(read_only), 1, 183),
        ("Revoke", scopes, Some(read_only), 2, 201),
        ("Refresh", scopes, Some(read_only), 3, 245),
        ("Introspect", bearers, Some(write_access), 1, 222),
        ("Authorize", bearers, Some(write_access), 2, 264),
        ("Unlisted", hidden, None, 1, 150),
    ];
    let mut ids = Vec::with_capacity(tracks.len());
    for (title, artist, album, position, duration) in tracks {
        let track: i64 = sqlx::query_scalar(&format!(
            "INSERT INTO fw_tracks (title, artist_id, album_id, position, disc_number, \
             attributed_to, creation_date) VALUES (?, ?, ?, ?, 1, ?, {NOW}) RETURNING id"
        ))
        .bind(title)
        .bind(artist)
        .bind(album)
        .bind(position)
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(&format!(
            "INSERT INTO fw_uploads (uuid, library_id, track_id, duration, size, bitrate, \
             mimetype, source, import_status, creation_date) \
             VALUES ({UUID_SQL}, ?, ?, ?, ?, 192000, 'audio/ogg', ?, 'finished', {NOW})"
        ))
        .bind(library)
        .bind(track)
        .bind(duration)
        .bind(duration * 24_000)
        .bind(format!("upload://{}.ogg", title.to_lowercase()))
        .execute(&mut *tx)
        .await?;
        ids.push(track);
    }
    let track = |n: usize| ids.get(n).copied().unwrap_or_default();

    let playlist: i64 = sqlx::query_scalar(&format!(
        "INSERT INTO fw_playlists (user_id, name, description, privacy_level, creation_date, \
         modification_date) VALUES (?, 'Demo playlist', 'Three seeded tracks', 'everyone', \
         {NOW}, {NOW}) RETURNING id"
    ))
    .bind(user_id)
    .fetch_one(&mut *tx)
    .await?;
    for (idx, n) in [0, 1, 3].into_iter().enumerate() {
        sqlx::query(&format!(
            "INSERT INTO fw_playlist_tracks (playlist_id, track_id, idx, creation_date) \
             VALUES (?, ?, ?, {NOW})"
        ))
        .bind(playlist)
        .bind(track(n))
        .bind(idx as i64)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(&format!(
        "INSERT INTO fw_favorites (user_id, track_id, creation_date) VALUES (?, ?, {NOW}) \
         ON CONFLICT DO NOTHING"
    ))
    .bind(user_id)
    .bind(track(0))
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO fw_listenings (user_id, track_id, creation_date) VALUES (?, ?, {NOW})"
    ))
    .bind(user_id)
    .bind(track(1))
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO fw_radios (user_id, name, description, is_public, config, creation_date) \
         VALUES (?, 'The Scopes radio', 'Every track of The Scopes', 1, ?, {NOW})"
    ))
    .bind(user_id)
    .bind(json!([{"type": "artist", "ids": [scopes]}]).to_string())
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO fw_content_filters (uuid, user_id, target_artist, creation_date) \
         VALUES ({UUID_SQL}, ?, ?, {NOW}) ON CONFLICT DO NOTHING"
    ))
    .bind(user_id)
    .bind(hidden)
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO fw_library_follows (uuid, user_id, library_id, approved, creation_date, \
         modification_date) VALUES ({UUID_SQL}, ?, ?, 1, {NOW}, {NOW}) ON CONFLICT DO NOTHING"
    ))
    .bind(user_id)
    .bind(library)
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO fw_inbox_items (user_id, type, activity, creation_date) \
         VALUES (?, 'to', ?, {NOW})"
    ))
    .bind(user_id)
    .bind(
        json!({
            "type": "Create",
            "actor": null,
            "object": {"type": "Library", "name": DEMO_LIBRARY},
            "related_object": null,
            "summary": "Your demo library is ready",
        })
        .to_string(),
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO fw_mutations (uuid, type, created_by, target_type, target_id, payload, \
         summary, creation_date) VALUES ({UUID_SQL}, 'update', ?, 'track', ?, ?, \
         'Remastered edition', {NOW})"
    ))
    .bind(user_id)
    .bind(track(2))
    .bind(json!({"title": "Refresh (remastered)"}).to_string())
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
