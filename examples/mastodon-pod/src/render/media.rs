//! The MediaAttachment entity.

use serde_json::{Value, json};

use crate::support::{ApiError, Ctx};

#[derive(sqlx::FromRow)]
pub(crate) struct MediaRow {
    id: i64,
    #[sqlx(rename = "type")]
    kind: String,
    content_type: String,
    file_name: String,
    size: i64,
    description: Option<String>,
    focus_x: f64,
    focus_y: f64,
}

/// The columns of [`MediaRow`].
pub(crate) const MEDIA_COLUMNS: &str =
    "id, type, content_type, file_name, size, description, focus_x, focus_y";

/// The MediaAttachment entity.
pub(crate) fn media_json(ctx: &Ctx, m: &MediaRow) -> Value {
    let url = ctx.url(&format!("/system/media_attachments/{}", m.id));
    json!({
        "id": m.id.to_string(),
        "type": m.kind,
        "url": url,
        "preview_url": url,
        "remote_url": null,
        "text_url": null,
        "preview_remote_url": null,
        "meta": {
            "original": { "filesize": m.size, "content_type": m.content_type, "file_name": m.file_name },
            "focus": { "x": m.focus_x, "y": m.focus_y },
        },
        "description": m.description,
        "blurhash": null,
    })
}

pub(super) async fn media_of_status(ctx: &Ctx, status_id: i64) -> Result<Vec<Value>, ApiError> {
    let rows = sqlx::query_as::<_, MediaRow>(&format!(
        "SELECT {MEDIA_COLUMNS} FROM media_attachments WHERE status_id = $1 ORDER BY id"
    ))
    .bind(status_id)
    .fetch_all(&ctx.db)
    .await?;
    Ok(rows.iter().map(|m| media_json(ctx, m)).collect())
}

/// The media attachment of `owner` with this id.
pub(crate) async fn media(ctx: &Ctx, owner: i64, id: i64) -> Result<Option<MediaRow>, ApiError> {
    Ok(sqlx::query_as::<_, MediaRow>(&format!(
        "SELECT {MEDIA_COLUMNS} FROM media_attachments WHERE id = $1 AND account_id = $2"
    ))
    .bind(id)
    .bind(owner)
    .fetch_optional(&ctx.db)
    .await?)
}
