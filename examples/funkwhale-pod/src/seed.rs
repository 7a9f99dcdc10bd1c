//! Demo data, so that every GET of a fresh `--demo` pod returns something.

use serde_json::json;
use sqlx::AnyPool;

use crate::common::{begin, now};
use crate::library::{get_or_create_album, get_or_create_artist};

/// The name of the demo library: its presence marks a seeded user.
const DEMO_LIBRARY: &str = "Demo library";

/// A random UUID, as the handlers make them.
fn uuid() -> Result<String, sqlx::Error> {
    pod_kit::uuid_v4().map_err(|e| sqlx::Error::Io(std::io::Error::other(e.to_string())))
}

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
pub async fn seed_demo(db: &AnyPool, user_id: i64) -> Result<(), sqlx::Error> {
    let mut tx = begin(db).await?;
    let seeded: Option<i64> =
        sqlx::query_scalar("SELECT id FROM fw_libraries WHERE user_id = $1 AND name = $2")
            .bind(user_id)
            .bind(DEMO_LIBRARY)
            .fetch_optional(&mut *tx)
            .await?;
    if seeded.is_some() {
        return tx.commit().await;
    }
    let library: i64 = sqlx::query_scalar(
        "INSERT INTO fw_libraries (uuid, user_id, name, description, privacy_level, creation_date) \
         VALUES ($4, $1, $2, 'Tracks seeded for the demo', 'everyone', $3) RETURNING id",
    )
    .bind(user_id)
    .bind(DEMO_LIBRARY)
    .bind(now())
    .bind(uuid()?)
    .fetch_one(&mut *tx)
    .await?;

    let scopes = get_or_create_artist(&mut tx, "The Scopes", user_id).await?;
    let bearers = get_or_create_artist(&mut tx, "Bearer Tokens", user_id).await?;
    let hidden = get_or_create_artist(&mut tx, "Hidden Artist", user_id).await?;
    let read_only = get_or_create_album(&mut tx, "Read Only", scopes, user_id).await?;
    let write_access = get_or_create_album(&mut tx, "Write Access", bearers, user_id).await?;
    for (album, date) in [(read_only, "2019-05-01"), (write_access, "2021-10-10")] {
        sqlx::query("UPDATE fw_albums SET release_date = COALESCE(release_date, $1) WHERE id = $2")
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
        let track: i64 = sqlx::query_scalar(
            "INSERT INTO fw_tracks (title, artist_id, album_id, position, disc_number, \
             attributed_to, creation_date) VALUES ($1, $2, $3, $4, 1, $5, $6) RETURNING id",
        )
        .bind(title)
        .bind(artist)
        .bind(album)
        .bind(position)
        .bind(user_id)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO fw_uploads (uuid, library_id, track_id, duration, size, bitrate, \
             mimetype, source, import_status, creation_date) \
             VALUES ($7, $1, $2, $3, $4, 192000, 'audio/ogg', $5, 'finished', $6)",
        )
        .bind(library)
        .bind(track)
        .bind(duration)
        .bind(duration * 24_000)
        .bind(format!("upload://{}.ogg", title.to_lowercase()))
        .bind(now())
        .bind(uuid()?)
        .execute(&mut *tx)
        .await?;
        ids.push(track);
    }
    let track = |n: usize| ids.get(n).copied().unwrap_or_default();

    let playlist: i64 = sqlx::query_scalar(
        "INSERT INTO fw_playlists (user_id, name, description, privacy_level, creation_date, \
         modification_date) VALUES ($1, 'Demo playlist', 'Three seeded tracks', 'everyone', \
         $2, $2) RETURNING id",
    )
    .bind(user_id)
    .bind(now())
    .fetch_one(&mut *tx)
    .await?;
    for (idx, n) in [0, 1, 3].into_iter().enumerate() {
        sqlx::query(
            "INSERT INTO fw_playlist_tracks (playlist_id, track_id, idx, creation_date) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(playlist)
        .bind(track(n))
        .bind(idx as i64)
        .bind(now())
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO fw_favorites (user_id, track_id, creation_date) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(track(0))
    .bind(now())
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO fw_listenings (user_id, track_id, creation_date) VALUES ($1, $2, $3)")
        .bind(user_id)
        .bind(track(1))
        .bind(now())
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO fw_radios (user_id, name, description, is_public, config, creation_date) \
         VALUES ($1, 'The Scopes radio', 'Every track of The Scopes', 1, $2, $3)",
    )
    .bind(user_id)
    .bind(json!([{"type": "artist", "ids": [scopes]}]).to_string())
    .bind(now())
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO fw_content_filters (uuid, user_id, target_artist, creation_date) \
         VALUES ($4, $1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(hidden)
    .bind(now())
    .bind(uuid()?)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO fw_library_follows (uuid, user_id, library_id, approved, creation_date, \
         modification_date) VALUES ($4, $1, $2, 1, $3, $3) ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(library)
    .bind(now())
    .bind(uuid()?)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO fw_inbox_items (user_id, type, activity, creation_date) \
         VALUES ($1, 'to', $2, $3)",
    )
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
    .bind(now())
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO fw_mutations (uuid, type, created_by, target_type, target_id, payload, \
         summary, creation_date) VALUES ($5, 'update', $1, 'track', $2, $3, \
         'Remastered edition', $4)",
    )
    .bind(user_id)
    .bind(track(2))
    .bind(json!({"title": "Refresh (remastered)"}).to_string())
    .bind(now())
    .bind(uuid()?)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
