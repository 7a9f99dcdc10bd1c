//! The Status entity.

use serde_json::{Value, json};

use super::account::{account_json, account_row};
use super::media::media_of_status;
use super::readable;
use crate::support::{ApiError, Ctx, Flag};

#[derive(sqlx::FromRow)]
struct StatusRow {
    id: i64,
    account_id: i64,
    text: String,
    content: String,
    spoiler_text: String,
    sensitive: Flag,
    visibility: String,
    language: Option<String>,
    in_reply_to_id: Option<i64>,
    in_reply_to_account_id: Option<i64>,
    reblog_of_id: Option<i64>,
    created_at: String,
    favourites_count: i64,
    reblogs_count: i64,
    replies_count: i64,
    favourited: Flag,
    reblogged: Flag,
    muted: Flag,
    pinned: Flag,
}

const STATUS_SQL: &str = "SELECT s.id, s.account_id, s.text, s.content, s.spoiler_text, s.sensitive, \
    s.visibility, s.language, s.in_reply_to_id, s.in_reply_to_account_id, s.reblog_of_id, s.created_at, \
    (SELECT COUNT(*) FROM favourites f WHERE f.status_id = s.id) AS favourites_count, \
    (SELECT COUNT(*) FROM statuses r WHERE r.reblog_of_id = s.id) AS reblogs_count, \
    (SELECT COUNT(*) FROM statuses c WHERE c.in_reply_to_id = s.id) AS replies_count, \
    EXISTS (SELECT 1 FROM favourites f WHERE f.status_id = s.id AND f.account_id = $2) AS favourited, \
    EXISTS (SELECT 1 FROM statuses r WHERE r.reblog_of_id = s.id AND r.account_id = $2) AS reblogged, \
    EXISTS (SELECT 1 FROM status_mutes m WHERE m.status_id = s.id AND m.account_id = $2) AS muted, \
    EXISTS (SELECT 1 FROM pins p WHERE p.status_id = s.id AND p.account_id = $2) AS pinned \
    FROM statuses s WHERE s.id = $1";

async fn status_flat(ctx: &Ctx, id: i64) -> Result<Option<(Value, Option<i64>)>, ApiError> {
    let Some(s) = sqlx::query_as::<_, StatusRow>(STATUS_SQL)
        .bind(id)
        .bind(ctx.viewer)
        .fetch_optional(&ctx.db)
        .await?
    else {
        return Ok(None);
    };
    let Some(author) = account_row(ctx, s.account_id).await? else {
        return Ok(None);
    };
    let media = media_of_status(ctx, s.id).await?;
    let mentions: Vec<(i64, String)> = sqlx::query_as(
        "SELECT u.id, u.username FROM mentions m JOIN users u ON u.id = m.account_id \
         WHERE m.status_id = $1 ORDER BY u.id",
    )
    .bind(s.id)
    .fetch_all(&ctx.db)
    .await?;
    let tags: Vec<String> =
        sqlx::query_scalar("SELECT name FROM status_tags WHERE status_id = $1 ORDER BY name")
            .bind(s.id)
            .fetch_all(&ctx.db)
            .await?;
    let mut v = json!({
        "id": s.id.to_string(),
        "created_at": s.created_at,
        "in_reply_to_id": s.in_reply_to_id.map(|i| i.to_string()),
        "in_reply_to_account_id": s.in_reply_to_account_id.map(|i| i.to_string()),
        "sensitive": s.sensitive,
        "spoiler_text": s.spoiler_text,
        "visibility": s.visibility,
        "language": s.language,
        "uri": ctx.url(&format!("/users/{}/statuses/{}", author.username, s.id)),
        "url": ctx.url(&format!("/@{}/{}", author.username, s.id)),
        "replies_count": s.replies_count,
        "reblogs_count": s.reblogs_count,
        "favourites_count": s.favourites_count,
        "edited_at": null,
        "content": s.content,
        "reblog": null,
        "application": null,
        "account": account_json(ctx, &author),
        "media_attachments": media,
        "mentions": mentions.iter().map(|(id, name)| json!({
            "id": id.to_string(),
            "username": name,
            "acct": name,
            "url": ctx.url(&format!("/@{name}")),
        })).collect::<Vec<_>>(),
        "tags": tags.iter().map(|t| json!({
            "name": t,
            "url": ctx.url(&format!("/tags/{t}")),
        })).collect::<Vec<_>>(),
        "emojis": [],
        "card": null,
        "poll": null,
        "filtered": [],
    });
    if ctx.viewer.is_some() {
        v["favourited"] = json!(s.favourited);
        v["reblogged"] = json!(s.reblogged);
        v["muted"] = json!(s.muted);
        v["bookmarked"] = json!(false);
        if ctx.viewer == Some(s.account_id) {
            v["pinned"] = json!(s.pinned);
        }
    }
    v["text"] = json!(s.text);
    Ok(Some((v, s.reblog_of_id)))
}

/// The Status entity (with the reblogged status inside a reblog), or
/// `None`. Visibility is the caller's business. `text` (the source) is
/// only kept when `with_source`.
pub(crate) async fn status(ctx: &Ctx, id: i64) -> Result<Option<Value>, ApiError> {
    status_with_source(ctx, id, false).await
}

/// [`status`], keeping `text` when asked (the answer to a deletion).
pub(crate) async fn status_with_source(
    ctx: &Ctx,
    id: i64,
    with_source: bool,
) -> Result<Option<Value>, ApiError> {
    let Some((mut v, reblog_of)) = status_flat(ctx, id).await? else {
        return Ok(None);
    };
    if !with_source && let Some(map) = v.as_object_mut() {
        map.remove("text");
    }
    if let Some(original) = reblog_of
        && let Some((mut inner, _)) = status_flat(ctx, original).await?
    {
        if let Some(map) = inner.as_object_mut() {
            map.remove("text");
        }
        v["reblog"] = inner;
    }
    Ok(Some(v))
}

/// Statuses in the order given, leaving out vanished ones.
pub(crate) async fn statuses(ctx: &Ctx, ids: &[i64]) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        if let Some(s) = status(ctx, id).await? {
            out.push(s);
        }
    }
    Ok(out)
}

/// The status if the viewer may see it, or 404.
pub(crate) async fn visible_status(ctx: &Ctx, id: i64) -> Result<i64, ApiError> {
    let sql = format!(
        "SELECT s.id FROM statuses s WHERE s.id = $2 AND {}",
        readable("s")
    );
    sqlx::query_scalar::<_, i64>(&sql)
        .bind(ctx.viewer)
        .bind(id)
        .fetch_optional(&ctx.db)
        .await?
        .ok_or_else(ApiError::not_found)
}
