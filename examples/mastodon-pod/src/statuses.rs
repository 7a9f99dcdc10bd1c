//! `/api/v1/statuses`: posting, reading, and interacting with statuses.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use scope_runtime::requires_scope;

use crate::Scope;
use serde_json::json;

use crate::notifications::notify;
use crate::render::{self, readable};
use crate::streaming::StreamEvent;
use crate::support::{ApiError, ApiResult, Arg, AsInt, Body, Ctx, Flag, Id, ok, parse_id};

/// Maximum characters of a status (Mastodon's default).
pub(crate) const MAX_CHARS: usize = 500;
/// Maximum media attachments of a status.
pub(crate) const MAX_MEDIA: usize = 4;
/// Maximum pinned statuses per account.
const MAX_PINS: i64 = 5;

/// A status to insert.
pub(crate) struct NewStatus<'a> {
    pub(crate) text: &'a str,
    pub(crate) spoiler_text: &'a str,
    pub(crate) sensitive: bool,
    pub(crate) visibility: &'a str,
    pub(crate) language: Option<&'a str>,
    /// The status replied to and its author.
    pub(crate) in_reply_to: Option<(i64, i64)>,
    pub(crate) media_ids: &'a [i64],
}

/// Inserts a status: text rendered, mentions and tags recorded, media
/// attached, mentioned accounts notified. Returns its id.
pub(crate) async fn insert_status(ctx: &Ctx, me: i64, new: NewStatus<'_>) -> Result<i64, ApiError> {
    let NewStatus {
        text,
        spoiler_text,
        sensitive,
        visibility,
        language,
        in_reply_to,
        media_ids,
    } = new;
    let (content, mentioned, tags) = render::render_text(ctx, text).await?;
    let mut tx = ctx.db.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO statuses (account_id, text, content, spoiler_text, sensitive, visibility, language, \
         in_reply_to_id, in_reply_to_account_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(me)
    .bind(text)
    .bind(&content)
    .bind(spoiler_text)
    .bind((sensitive || !spoiler_text.is_empty()).int())
    .bind(visibility)
    .bind(language)
    .bind(in_reply_to.map(|r| r.0))
    .bind(in_reply_to.map(|r| r.1))
    .fetch_one(&mut *tx)
    .await?;
    for account in &mentioned {
        sqlx::query(
            "INSERT INTO mentions (status_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(account)
        .execute(&mut *tx)
        .await?;
    }
    for tag in &tags {
        sqlx::query(
            "INSERT INTO status_tags (status_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(tag)
        .execute(&mut *tx)
        .await?;
    }
    for media in media_ids {
        // Checked free before, but another status may have taken it since
        // (or it is listed twice): then nothing is posted.
        let attached = sqlx::query(
            "UPDATE media_attachments SET status_id = $1 \
             WHERE id = $2 AND account_id = $3 AND status_id IS NULL",
        )
        .bind(id)
        .bind(media)
        .bind(me)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if attached == 0 {
            return Err(ApiError::invalid(format!(
                "Media attachment {media} is unknown or already attached"
            )));
        }
    }
    tx.commit().await?;
    for account in mentioned {
        notify(ctx, account, me, "mention", Some(id)).await?;
    }
    Ok(id)
}

/// Post a new status (`status`, `media_ids[]`, `in_reply_to_id`,
/// `sensitive`, `spoiler_text`, `visibility`, `language`).
#[requires_scope("write:statuses", token = user)]
pub(crate) async fn create(ctx: Ctx, Body(p): Body) -> ApiResult {
    let me = ctx.me()?;
    let text = p.text("status")?.unwrap_or_default();
    let media_ids = p
        .ids("media_ids")
        .map_err(|_| ApiError::invalid("Media ids are invalid"))?;
    if text.trim().is_empty() && media_ids.is_empty() {
        return Err(ApiError::invalid("Text can't be blank"));
    }
    let spoiler_text = p.text("spoiler_text")?.unwrap_or_default();
    if text.chars().count() + spoiler_text.chars().count() > MAX_CHARS {
        return Err(ApiError::invalid(format!(
            "Text character limit of {MAX_CHARS} exceeded"
        )));
    }
    if p.has("poll") {
        return Err(ApiError::invalid("Polls are not supported by this server"));
    }
    if p.has("scheduled_at") {
        return Err(ApiError::invalid(
            "Scheduled statuses are not supported by this server",
        ));
    }
    let default_privacy: String = sqlx::query_scalar(
        "SELECT COALESCE((SELECT privacy FROM profiles WHERE user_id = $1), 'public')",
    )
    .bind(me)
    .fetch_one(&ctx.db)
    .await?;
    let visibility = p.text("visibility")?.unwrap_or(default_privacy);
    if !matches!(
        visibility.as_str(),
        "public" | "unlisted" | "private" | "direct"
    ) {
        return Err(ApiError::invalid("Visibility is not included in the list"));
    }
    let sensitive = p.flag("sensitive")?.unwrap_or(false);
    let language = p.text("language")?.filter(|l| !l.is_empty());
    if language
        .as_deref()
        .is_some_and(|l| l.len() > 10 || !l.chars().all(|c| c.is_ascii_alphabetic() || c == '-'))
    {
        return Err(ApiError::invalid("Language is not a language code"));
    }
    let in_reply_to = match p.text("in_reply_to_id")?.filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => {
            let parent = parse_id(&raw).ok_or_else(ApiError::not_found)?;
            let parent = render::visible_status(&ctx, parent).await?;
            let author: i64 = sqlx::query_scalar("SELECT account_id FROM statuses WHERE id = $1")
                .bind(parent)
                .fetch_one(&ctx.db)
                .await?;
            Some((parent, author))
        }
    };
    if media_ids.len() > MAX_MEDIA {
        return Err(ApiError::invalid(format!(
            "Media attachments: at most {MAX_MEDIA}"
        )));
    }
    for m in &media_ids {
        let free: Option<Flag> = sqlx::query_scalar(
            "SELECT status_id IS NULL FROM media_attachments WHERE id = $1 AND account_id = $2",
        )
        .bind(m)
        .bind(me)
        .fetch_optional(&ctx.db)
        .await?;
        if free != Some(Flag(true)) {
            return Err(ApiError::invalid(format!(
                "Media attachment {m} is unknown or already attached"
            )));
        }
    }
    let id = insert_status(
        &ctx,
        me,
        NewStatus {
            text: &text,
            spoiler_text: &spoiler_text,
            sensitive,
            visibility: &visibility,
            language: language.as_deref(),
            in_reply_to,
            media_ids: &media_ids,
        },
    )
    .await?;
    let v = render::status(&ctx, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    // The status is stored: a failure to stream it is logged, not turned
    // into an error a client would retry (and post twice).
    if let Err(e) = publish_update(&ctx, id).await {
        tracing::warn!(status = id, error = e.message(), "status not streamed");
    }
    ok(v)
}

/// Sends status `id` as an `update` to the streams it goes to, rendered as
/// the REST API renders it for an anonymous viewer.
async fn publish_update(ctx: &Ctx, id: i64) -> Result<(), ApiError> {
    let (author, keys) = stream_keys(ctx, id).await?;
    // Direct streams get a `conversation` (Mastodon's event there), the
    // others an `update`.
    let (direct, keys): (Vec<String>, Vec<String>) =
        keys.into_iter().partition(|k| k.starts_with(DIRECT_KEY));
    if let Some(public) = render::status(&ctx.seen_by(None), id).await? {
        ctx.hub.publish_all(
            &keys,
            &StreamEvent::new("update", public.to_string(), Some(author)),
        );
    }
    // Only the direct streams someone listens to, and the participants
    // read and rendered once (a status may mention many accounts).
    let direct: Vec<(String, i64)> = direct
        .into_iter()
        .filter(|key| ctx.hub.has(key))
        .filter_map(|key| {
            let viewer = key.strip_prefix(DIRECT_KEY)?.parse().ok()?;
            Some((key, viewer))
        })
        .collect();
    if direct.is_empty() {
        return Ok(());
    }
    let participants = participants(ctx, id, author).await?;
    for (key, viewer) in direct {
        let Some(status) = render::status(&ctx.seen_by(Some(viewer)), id).await? else {
            continue;
        };
        let accounts: Vec<&serde_json::Value> = participants
            .iter()
            .filter(|(account, _)| *account != viewer)
            .map(|(_, rendered)| rendered)
            .collect();
        let conversation = json!({
            "id": id.to_string(),
            "unread": viewer != author,
            "accounts": accounts,
            "last_status": status,
        });
        ctx.hub.publish(
            &key,
            StreamEvent::new("conversation", conversation.to_string(), Some(author)),
        );
    }
    Ok(())
}

/// The prefix of a direct stream's key (`timeline:direct:<account>`).
const DIRECT_KEY: &str = "timeline:direct:";

/// The participants of direct status `id` (its author and the accounts it
/// mentions), each with its Account entity, for the Conversation entities
/// of its `conversation` events: the pod keeps no conversations of its own
/// (no `/api/v1/conversations`), so a conversation's id is its latest
/// status's, unread but for its author.
async fn participants(
    ctx: &Ctx,
    id: i64,
    author: i64,
) -> Result<Vec<(i64, serde_json::Value)>, ApiError> {
    let mut ids: Vec<i64> =
        sqlx::query_scalar("SELECT account_id FROM mentions WHERE status_id = $1")
            .bind(id)
            .fetch_all(&ctx.db)
            .await?;
    ids.push(author);
    ids.sort_unstable();
    ids.dedup();
    let mut participants = Vec::with_capacity(ids.len());
    for account in ids {
        if let Some(rendered) = render::account(ctx, account).await? {
            participants.push((account, rendered));
        }
    }
    Ok(participants)
}

/// Sends a `delete` of status `id` to `keys`.
fn publish_delete(ctx: &Ctx, id: i64, author: i64, keys: &[String]) {
    ctx.hub.publish_all(
        keys,
        &StreamEvent::new("delete", id.to_string(), Some(author)),
    );
}

/// The stream keys status `id` goes to: its author's home and their
/// followers' (and those followers' lists with the author) unless direct,
/// the public and hashtag streams if public, the direct streams of the
/// author and the mentioned accounts if direct.
async fn stream_keys(ctx: &Ctx, id: i64) -> Result<(i64, Vec<String>), ApiError> {
    let (author, visibility, reblog_of) = sqlx::query_as::<_, (i64, String, Option<i64>)>(
        "SELECT account_id, visibility, reblog_of_id FROM statuses WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&ctx.db)
    .await?;
    let mut keys = vec![format!("timeline:{author}")];
    if visibility == "direct" {
        keys.push(format!("timeline:direct:{author}"));
        let mentioned: Vec<i64> = sqlx::query_scalar(&format!(
            "SELECT m.account_id FROM mentions m JOIN statuses s ON s.id = m.status_id \
             WHERE m.status_id = $1 AND {} AND {}",
            render::readable_to("s", "m.account_id"),
            render::not_hidden_to("s", "m.account_id"),
        ))
        .bind(id)
        .fetch_all(&ctx.db)
        .await?;
        keys.extend(mentioned.iter().map(|m| format!("timeline:direct:{m}")));
        // And the homes of the mentioned who follow the author, whose REST
        // home shows it (Mastodon delivers to mentioned followers too).
        let following: Vec<i64> =
            sqlx::query_scalar("SELECT account_id FROM follows WHERE target_account_id = $1")
                .bind(author)
                .fetch_all(&ctx.db)
                .await?;
        keys.extend(
            mentioned
                .iter()
                .filter(|m| following.contains(m))
                .map(|m| format!("timeline:{m}")),
        );
        return Ok((author, keys));
    }
    // Homes, lists and direct streams get what the REST timelines would
    // show their owner, with the relations of now (as Mastodon's feeds are
    // filtered when a status is pushed to them): not a status of, or a
    // boost of, an account the owner blocks or mutes, or one that blocks
    // the owner.
    let followers: Vec<i64> = sqlx::query_scalar(&format!(
        "SELECT f.account_id FROM follows f JOIN statuses s ON s.id = $1 \
         WHERE f.target_account_id = s.account_id AND {} AND {}",
        render::readable_to("s", "f.account_id"),
        render::not_hidden_to("s", "f.account_id"),
    ))
    .bind(id)
    .fetch_all(&ctx.db)
    .await?;
    keys.extend(followers.iter().map(|f| format!("timeline:{f}")));
    let lists: Vec<i64> = sqlx::query_scalar(&format!(
        "SELECT la.list_id FROM list_accounts la JOIN lists l ON l.id = la.list_id \
         JOIN follows f ON f.account_id = l.account_id AND f.target_account_id = la.account_id \
         JOIN statuses s ON s.id = $2 \
         WHERE la.account_id = $1 AND {} AND {}",
        render::readable_to("s", "l.account_id"),
        render::not_hidden_to("s", "l.account_id"),
    ))
    .bind(author)
    .bind(id)
    .fetch_all(&ctx.db)
    .await?;
    keys.extend(lists.iter().map(|l| format!("timeline:list:{l}")));
    // Boosts go to homes and lists only, as in Mastodon.
    if visibility == "public" && reblog_of.is_none() {
        keys.push("timeline:public".into());
        keys.push("timeline:public:local".into());
        let tags: Vec<String> =
            sqlx::query_scalar("SELECT name FROM status_tags WHERE status_id = $1")
                .bind(id)
                .fetch_all(&ctx.db)
                .await?;
        for tag in tags {
            let tag = tag.to_lowercase();
            keys.push(format!("timeline:hashtag:{tag}"));
            keys.push(format!("timeline:hashtag:{tag}:local"));
        }
    }
    Ok((author, keys))
}

/// View a single status.
#[requires_scope("read:statuses", token = optional)]
pub(crate) async fn show(ctx: Ctx, Id(id): Id) -> ApiResult {
    let id = render::visible_status(&ctx, id).await?;
    ok(render::status(&ctx, id)
        .await?
        .ok_or_else(ApiError::not_found)?)
}

/// The author of a status the viewer can see.
async fn author_of(ctx: &Ctx, id: i64) -> Result<(i64, Option<i64>, String), ApiError> {
    let id = render::visible_status(ctx, id).await?;
    Ok(sqlx::query_as::<_, (i64, Option<i64>, String)>(
        "SELECT account_id, reblog_of_id, visibility FROM statuses WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&ctx.db)
    .await?)
}

/// Delete a status of the token's account; answers the status with its
/// source `text` (for delete and redraft).
#[requires_scope("write:statuses", token = user)]
pub(crate) async fn delete(ctx: Ctx, Id(id): Id) -> ApiResult {
    let me = ctx.me()?;
    let (author, _, _) = author_of(&ctx, id).await?;
    if author != me {
        return Err(ApiError::forbidden());
    }
    let v = render::status_with_source(&ctx, id, true)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let (author, keys) = stream_keys(&ctx, id).await?;
    sqlx::query("DELETE FROM statuses WHERE id = $1")
        .bind(id)
        .execute(&ctx.db)
        .await?;
    publish_delete(&ctx, id, author, &keys);
    ok(v)
}

/// Get parent and child statuses in context.
#[requires_scope("read:statuses", token = optional)]
pub(crate) async fn context(ctx: Ctx, Id(id): Id) -> ApiResult {
    let id = render::visible_status(&ctx, id).await?;
    let ancestors_sql = format!(
        "WITH RECURSIVE up(id, depth) AS ( \
           SELECT in_reply_to_id, 1 FROM statuses WHERE id = $2 AND in_reply_to_id IS NOT NULL \
           UNION ALL SELECT s.in_reply_to_id, up.depth + 1 FROM statuses s JOIN up ON s.id = up.id \
           WHERE s.in_reply_to_id IS NOT NULL AND up.depth < 100) \
         SELECT s.id FROM statuses s JOIN up ON up.id = s.id WHERE {} ORDER BY s.id",
        readable("s")
    );
    let descendants_sql = format!(
        "WITH RECURSIVE down(id, depth) AS ( \
           SELECT id, 1 FROM statuses WHERE in_reply_to_id = $2 \
           UNION ALL SELECT s.id, down.depth + 1 FROM statuses s JOIN down ON s.in_reply_to_id = down.id \
           WHERE down.depth < 100) \
         SELECT s.id FROM statuses s JOIN down ON down.id = s.id WHERE {} AND {} ORDER BY s.id LIMIT 4096",
        readable("s"),
        render::not_hidden("s")
    );
    let ancestors: Vec<i64> = sqlx::query_scalar(&ancestors_sql)
        .bind(ctx.viewer)
        .bind(id)
        .fetch_all(&ctx.db)
        .await?;
    let descendants: Vec<i64> = sqlx::query_scalar(&descendants_sql)
        .bind(ctx.viewer)
        .bind(id)
        .fetch_all(&ctx.db)
        .await?;
    ok(json!({
        "ancestors": render::statuses(&ctx, &ancestors).await?,
        "descendants": render::statuses(&ctx, &descendants).await?,
    }))
}

/// Fetch preview card: a link card for the first URL of the status, `{}`
/// when it has none (this pod fetches no pages: title and description are
/// the URL).
///
/// Removed from current Mastodon (cards are in the Status entity); kept
/// from the documented matrix.
#[requires_scope("read:statuses", token = optional)]
pub(crate) async fn card(ctx: Ctx, Id(id): Id) -> ApiResult {
    let id = render::visible_status(&ctx, id).await?;
    let text: String = sqlx::query_scalar("SELECT text FROM statuses WHERE id = $1")
        .bind(id)
        .fetch_one(&ctx.db)
        .await?;
    let url = text
        .split_whitespace()
        .find(|w| w.starts_with("https://") || w.starts_with("http://"));
    ok(match url {
        None => json!({}),
        Some(url) => json!({
            "url": url,
            "title": url,
            "description": "",
            "type": "link",
            "author_name": "",
            "author_url": "",
            "provider_name": "",
            "provider_url": "",
            "html": "",
            "width": 0,
            "height": 0,
            "image": null,
            "embed_url": "",
            "blurhash": null,
        }),
    })
}

/// Boost a status (`visibility`); boosting twice answers the same boost.
#[requires_scope("write:statuses", token = user)]
pub(crate) async fn reblog(ctx: Ctx, Id(id): Id, Body(p): Body) -> ApiResult {
    let me = ctx.me()?;
    let (author, reblog_of, visibility) = author_of(&ctx, id).await?;
    // Boosting a boost boosts the original.
    let (target, author, visibility) = match reblog_of {
        Some(original) => {
            let (a, _, v) = author_of(&ctx, original).await?;
            (original, a, v)
        }
        None => (id, author, visibility),
    };
    if !matches!(visibility.as_str(), "public" | "unlisted") {
        return Err(ApiError::forbidden());
    }
    let boost_visibility = p.text("visibility")?.unwrap_or_else(|| "public".into());
    if !matches!(boost_visibility.as_str(), "public" | "unlisted" | "private") {
        return Err(ApiError::invalid("Visibility is not included in the list"));
    }
    let existing: Option<i64> =
        sqlx::query_scalar("SELECT id FROM statuses WHERE reblog_of_id = $1 AND account_id = $2")
            .bind(target)
            .bind(me)
            .fetch_optional(&ctx.db)
            .await?;
    let boost = match existing {
        Some(b) => b,
        None => {
            let b: i64 = sqlx::query_scalar(
                "INSERT INTO statuses (account_id, reblog_of_id, visibility) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(me)
            .bind(target)
            .bind(&boost_visibility)
            .fetch_one(&ctx.db)
            .await?;
            notify(&ctx, author, me, "reblog", Some(target)).await?;
            publish_update(&ctx, b).await?;
            b
        }
    };
    ok(render::status(&ctx, boost)
        .await?
        .ok_or_else(ApiError::not_found)?)
}

/// Undo boost of a status; answers the original status.
#[requires_scope("write:statuses", token = user)]
pub(crate) async fn unreblog(ctx: Ctx, Id(id): Id) -> ApiResult {
    let me = ctx.me()?;
    let (_, reblog_of, _) = author_of(&ctx, id).await?;
    let target = reblog_of.unwrap_or(id);
    let boost: Option<i64> =
        sqlx::query_scalar("SELECT id FROM statuses WHERE reblog_of_id = $1 AND account_id = $2")
            .bind(target)
            .bind(me)
            .fetch_optional(&ctx.db)
            .await?;
    let streams = match boost {
        Some(boost) => Some((boost, stream_keys(&ctx, boost).await?.1)),
        None => None,
    };
    sqlx::query("DELETE FROM statuses WHERE reblog_of_id = $1 AND account_id = $2")
        .bind(target)
        .bind(me)
        .execute(&ctx.db)
        .await?;
    if let Some((boost, keys)) = streams {
        publish_delete(&ctx, boost, me, &keys);
    }
    ok(render::status(&ctx, target)
        .await?
        .ok_or_else(ApiError::not_found)?)
}

/// Favourite a status.
#[requires_scope("write:favourites", token = user)]
pub(crate) async fn favourite(ctx: Ctx, Id(id): Id) -> ApiResult {
    let me = ctx.me()?;
    let (author, reblog_of, _) = author_of(&ctx, id).await?;
    let (target, author) = match reblog_of {
        Some(original) => (original, author_of(&ctx, original).await?.0),
        None => (id, author),
    };
    let inserted = sqlx::query(
        "INSERT INTO favourites (account_id, status_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(me)
    .bind(target)
    .execute(&ctx.db)
    .await?;
    if inserted.rows_affected() > 0 {
        notify(&ctx, author, me, "favourite", Some(target)).await?;
    }
    ok(render::status(&ctx, target)
        .await?
        .ok_or_else(ApiError::not_found)?)
}

/// Undo favourite of a status.
#[requires_scope("write:favourites", token = user)]
pub(crate) async fn unfavourite(ctx: Ctx, Id(id): Id) -> ApiResult {
    let me = ctx.me()?;
    let (_, reblog_of, _) = author_of(&ctx, id).await?;
    let target = reblog_of.unwrap_or(id);
    sqlx::query("DELETE FROM favourites WHERE account_id = $1 AND status_id = $2")
        .bind(me)
        .bind(target)
        .execute(&ctx.db)
        .await?;
    ok(render::status(&ctx, target)
        .await?
        .ok_or_else(ApiError::not_found)?)
}

/// Mute a conversation: no more notifications about it.
#[requires_scope("write:mutes", token = user)]
pub(crate) async fn mute(ctx: Ctx, Id(id): Id) -> ApiResult {
    let me = ctx.me()?;
    author_of(&ctx, id).await?;
    sqlx::query(
        "INSERT INTO status_mutes (account_id, status_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(me)
    .bind(id)
    .execute(&ctx.db)
    .await?;
    ok(render::status(&ctx, id)
        .await?
        .ok_or_else(ApiError::not_found)?)
}

/// Unmute a conversation.
#[requires_scope("write:mutes", token = user)]
pub(crate) async fn unmute(ctx: Ctx, Id(id): Id) -> ApiResult {
    let me = ctx.me()?;
    author_of(&ctx, id).await?;
    sqlx::query("DELETE FROM status_mutes WHERE account_id = $1 AND status_id = $2")
        .bind(me)
        .bind(id)
        .execute(&ctx.db)
        .await?;
    ok(render::status(&ctx, id)
        .await?
        .ok_or_else(ApiError::not_found)?)
}

/// Pin a status of the token's account to its profile (public or
/// unlisted, not a boost, at most 5).
#[requires_scope("write:accounts", token = user)]
pub(crate) async fn pin(ctx: Ctx, Id(id): Id) -> ApiResult {
    let me = ctx.me()?;
    let (author, reblog_of, visibility) = author_of(&ctx, id).await?;
    if author != me {
        return Err(ApiError::invalid("You can only pin your own statuses"));
    }
    if reblog_of.is_some() || !matches!(visibility.as_str(), "public" | "unlisted") {
        return Err(ApiError::invalid("This status cannot be pinned"));
    }
    let pins: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pins WHERE account_id = $1 AND status_id <> $2")
            .bind(me)
            .bind(id)
            .fetch_one(&ctx.db)
            .await?;
    if pins >= MAX_PINS {
        return Err(ApiError::invalid(
            "You have already pinned the maximum number of posts",
        ));
    }
    sqlx::query("INSERT INTO pins (account_id, status_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(me)
        .bind(id)
        .execute(&ctx.db)
        .await?;
    ok(render::status(&ctx, id)
        .await?
        .ok_or_else(ApiError::not_found)?)
}

/// Unpin a status from the profile.
#[requires_scope("write:accounts", token = user)]
pub(crate) async fn unpin(ctx: Ctx, Id(id): Id) -> ApiResult {
    let me = ctx.me()?;
    author_of(&ctx, id).await?;
    sqlx::query("DELETE FROM pins WHERE account_id = $1 AND status_id = $2")
        .bind(me)
        .bind(id)
        .execute(&ctx.db)
        .await?;
    ok(render::status(&ctx, id)
        .await?
        .ok_or_else(ApiError::not_found)?)
}

async fn who(ctx: Ctx, id: i64, sql: &str) -> ApiResult {
    let id = render::visible_status(&ctx, id).await?;
    let page = ctx.page_with(40, 80)?;
    let rows = ctx
        .page_rows(sql, "k", &[Arg::Int(Some(id))], &page)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let keys: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let items = render::accounts(&ctx, &ids).await?;
    ctx.paged(&page, &keys, items)
}

/// See who favourited a status.
///
/// Documented scope `read:statuses`; the source requires
/// `read | read:accounts` (checked only if a token is sent), which is what
/// this route enforces.
#[requires_scope("read:accounts", token = optional)]
pub(crate) async fn favourited_by(ctx: Ctx, Id(id): Id) -> ApiResult {
    who(
        ctx,
        id,
        "SELECT k, account_id FROM (SELECT id AS k, account_id, status_id FROM favourites) AS w WHERE status_id = $1",
    )
    .await
}

/// See who boosted a status.
///
/// Documented scope `read:statuses`; the source requires
/// `read | read:accounts` (checked only if a token is sent), which is what
/// this route enforces.
#[requires_scope("read:accounts", token = optional)]
pub(crate) async fn reblogged_by(ctx: Ctx, Id(id): Id) -> ApiResult {
    who(
        ctx,
        id,
        "SELECT k, account_id FROM (SELECT id AS k, account_id, reblog_of_id FROM statuses) AS w WHERE reblog_of_id = $1",
    )
    .await
}

/// A raw media file (public, like Mastodon's media URLs).
#[requires_scope(public)]
pub(crate) async fn media_file(ctx: Ctx, Id(id): Id) -> ApiResult {
    // Only media of statuses anyone may read: attachments of private and
    // direct statuses, and media not attached yet, are not served here.
    let (content_type, data): (String, Vec<u8>) = sqlx::query_as(
        "SELECT m.content_type, m.data FROM media_attachments m \
         JOIN statuses s ON s.id = m.status_id \
         WHERE m.id = $1 AND s.visibility IN ('public', 'unlisted')",
    )
    .bind(id)
    .fetch_optional(&ctx.db)
    .await?
    .ok_or_else(ApiError::not_found)?;
    Ok((
        StatusCode::OK,
        [
            (axum::http::header::CONTENT_TYPE, content_type),
            (
                axum::http::header::X_CONTENT_TYPE_OPTIONS,
                "nosniff".to_owned(),
            ),
            // Whatever the bytes are, they never run as a page here.
            (
                axum::http::header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'".to_owned(),
            ),
        ],
        data,
    )
        .into_response())
}
