//! Media attachments: uploaded, described, then attached to a status.

use scope_runtime::requires_scope;

use crate::Scope;
use crate::render::{self};
use crate::support::{ApiError, ApiResult, Body, Ctx, Id, Params, ok};

/// The media types accepted for upload (Mastodon's list, raster only).
const ALLOWED_MEDIA: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "audio/mpeg",
    "audio/ogg",
    "audio/wave",
    "audio/wav",
    "audio/flac",
];

fn media_kind(content_type: &str, file_name: &str) -> Option<(&'static str, String)> {
    let ct = content_type.to_ascii_lowercase();
    let guessed = if ct.is_empty() || ct == "application/octet-stream" {
        let ext = file_name
            .rsplit('.')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "png" => "image/png",
            "jpg" | "jpeg" => "image/jpeg",
            "gif" => "image/gif",
            "webp" => "image/webp",
            "mp4" => "video/mp4",
            "webm" => "video/webm",
            "mov" => "video/quicktime",
            "mp3" => "audio/mpeg",
            "ogg" => "audio/ogg",
            "wav" => "audio/wave",
            "flac" => "audio/flac",
            _ => return None,
        }
        .to_owned()
    } else {
        ct
    };
    // An allow-list: the types Mastodon accepts. SVG and HTML would run
    // script on the pod's origin (the consent page's) when served back.
    if !ALLOWED_MEDIA.contains(&guessed.as_str()) {
        return None;
    }
    let kind = if guessed == "image/gif" {
        "gifv"
    } else if guessed.starts_with("image/") {
        "image"
    } else if guessed.starts_with("video/") {
        "video"
    } else if guessed.starts_with("audio/") {
        "audio"
    } else {
        return None;
    };
    Some((kind, guessed))
}

fn focus(p: &Params) -> Result<Option<(f64, f64)>, ApiError> {
    let Some(raw) = p.text("focus")? else {
        return Ok(None);
    };
    let bad = || ApiError::invalid("Focus must be two numbers between -1 and 1: x,y");
    let (x, y) = raw.split_once(',').ok_or_else(bad)?;
    let x: f64 = x.trim().parse().map_err(|_| bad())?;
    let y: f64 = y.trim().parse().map_err(|_| bad())?;
    if !(-1.0..=1.0).contains(&x) || !(-1.0..=1.0).contains(&y) {
        return Err(bad());
    }
    Ok(Some((x, y)))
}

fn description(p: &Params) -> Result<Option<String>, ApiError> {
    let d = p.text("description")?;
    if d.as_deref().is_some_and(|d| d.chars().count() > 1500) {
        return Err(ApiError::invalid(
            "Description is too long (maximum is 1500 characters)",
        ));
    }
    Ok(d)
}

/// Upload media as an attachment (`file` in multipart/form-data, or the
/// raw image/video/audio body; `description`, `focus`).
#[requires_scope("write:media", token = user)]
pub(crate) async fn upload_media(ctx: Ctx, Body(p): Body) -> ApiResult {
    let me = ctx.me()?;
    let file = p
        .file("file")
        .filter(|f| !f.data.is_empty())
        .ok_or_else(|| ApiError::invalid("File can't be blank"))?;
    let (kind, content_type) = media_kind(&file.content_type, &file.file_name)
        .ok_or_else(|| ApiError::invalid("File content type is invalid"))?;
    let description = description(&p)?;
    let (fx, fy) = focus(&p)?.unwrap_or((0.0, 0.0));
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO media_attachments (account_id, type, content_type, file_name, size, description, focus_x, focus_y, data) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(me)
    .bind(kind)
    .bind(content_type)
    .bind(&file.file_name)
    .bind(file.data.len() as i64)
    .bind(description)
    .bind(fx)
    .bind(fy)
    .bind(&file.data)
    .fetch_one(&ctx.db)
    .await?;
    let row = render::media(&ctx, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    ok(render::media_json(&ctx, &row))
}

/// Get a media attachment of the token's account.
#[requires_scope("write:media", token = user)]
pub(crate) async fn show_media(ctx: Ctx, Id(id): Id) -> ApiResult {
    let me = ctx.me()?;
    let row = render::media(&ctx, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    ok(render::media_json(&ctx, &row))
}

/// Update media attachment (`description`, `focus`) while it is not yet
/// attached to a status.
#[requires_scope("write:media", token = user)]
pub(crate) async fn update_media(ctx: Ctx, Id(id): Id, Body(p): Body) -> ApiResult {
    let me = ctx.me()?;
    let description = description(&p)?;
    let focus = focus(&p)?;
    let done = sqlx::query(
        "UPDATE media_attachments SET description = COALESCE($3, description), \
         focus_x = COALESCE($4, focus_x), focus_y = COALESCE($5, focus_y) \
         WHERE id = $1 AND account_id = $2 AND status_id IS NULL",
    )
    .bind(id)
    .bind(me)
    .bind(description)
    .bind(focus.map(|f| f.0))
    .bind(focus.map(|f| f.1))
    .execute(&ctx.db)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found());
    }
    let row = render::media(&ctx, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    ok(render::media_json(&ctx, &row))
}
