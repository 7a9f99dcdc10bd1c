//! Filters, notifications, reports, media, search and the instance.

use scope_runtime::requires_scope;

use crate::Scope;
use serde_json::{Value, json};

use crate::accounts::{empty, search_ids};
use crate::render::{self, readable};
use crate::support::{
    ApiError, ApiResult, Arg, AsInt, Body, Ctx, Id, Params, in_seconds, ok, parse_id,
};

const FILTER_CONTEXTS: [&str; 5] = ["home", "notifications", "public", "thread", "account"];

fn filter_context(p: &Params, required: bool) -> Result<Option<String>, ApiError> {
    let context = p.list("context")?;
    if context.is_empty() {
        return if required {
            Err(ApiError::invalid("Context can't be blank"))
        } else {
            Ok(None)
        };
    }
    if let Some(bad) = context
        .iter()
        .find(|c| !FILTER_CONTEXTS.contains(&c.as_str()))
    {
        return Err(ApiError::invalid(format!("Context {bad:?} is not valid")));
    }
    let mut context: Vec<&str> = context.iter().map(String::as_str).collect();
    context.sort_unstable();
    context.dedup();
    Ok(Some(context.join(",")))
}

fn expires_in(p: &Params) -> Result<Option<Option<i64>>, ApiError> {
    if !p.has("expires_in") {
        return Ok(None);
    }
    match p.int("expires_in")? {
        None => Ok(Some(None)),
        Some(s) if s > 0 && s <= 10 * 365 * 86_400 => Ok(Some(Some(s))),
        Some(_) => Err(ApiError::invalid("Expires in is out of range")),
    }
}

/// View all filters (v1).
#[requires_scope("read:filters", token = user)]
pub(crate) async fn filters(ctx: Ctx) -> ApiResult {
    let me = ctx.me()?;
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM filters WHERE account_id = $1 ORDER BY id")
            .bind(me)
            .fetch_all(&ctx.db)
            .await?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(f) = render::filter(&ctx, me, id).await? {
            out.push(f);
        }
    }
    ok(Value::Array(out))
}

/// View a single filter (v1).
#[requires_scope("read:filters", token = user)]
pub(crate) async fn filter(ctx: Ctx, Id(id): Id) -> ApiResult {
    let me = ctx.me()?;
    ok(render::filter(&ctx, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?)
}

/// Create a filter (v1: `phrase`, `context[]`, `irreversible`,
/// `whole_word`, `expires_in`). Filters are stored and listed for clients,
/// which apply them; the server does not drop filtered statuses.
#[requires_scope("write:filters", token = user)]
pub(crate) async fn create_filter(ctx: Ctx, Body(p): Body) -> ApiResult {
    let me = ctx.me()?;
    let phrase = p
        .text("phrase")?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("Phrase can't be blank"))?;
    if phrase.chars().count() > 256 {
        return Err(ApiError::invalid("Phrase is too long"));
    }
    let context = filter_context(&p, true)?;
    let irreversible = p.flag("irreversible")?.unwrap_or(false);
    let whole_word = p.flag("whole_word")?.unwrap_or(true);
    let expires = expires_in(&p)?.flatten();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO filters (account_id, phrase, context, irreversible, whole_word, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         RETURNING id",
    )
    .bind(me)
    .bind(phrase.trim())
    .bind(context)
    .bind(irreversible.int())
    .bind(whole_word.int())
    .bind(expires.map(in_seconds))
    .fetch_one(&ctx.db)
    .await?;
    ok(render::filter(&ctx, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?)
}

/// Update a filter (v1).
#[requires_scope("write:filters", token = user)]
pub(crate) async fn update_filter(ctx: Ctx, Id(id): Id, Body(p): Body) -> ApiResult {
    let me = ctx.me()?;
    render::filter(&ctx, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let phrase = p.text("phrase")?;
    if phrase.as_deref().is_some_and(|s| s.trim().is_empty()) {
        return Err(ApiError::invalid("Phrase can't be blank"));
    }
    if phrase.as_deref().is_some_and(|s| s.chars().count() > 256) {
        return Err(ApiError::invalid("Phrase is too long"));
    }
    let context = filter_context(&p, false)?;
    let irreversible = p.flag("irreversible")?;
    let whole_word = p.flag("whole_word")?;
    let expires = expires_in(&p)?;
    sqlx::query(
        "UPDATE filters SET phrase = COALESCE($3, phrase), context = COALESCE($4, context), \
         irreversible = COALESCE($5, irreversible), whole_word = COALESCE($6, whole_word), \
         expires_at = CASE WHEN $7 = 0 THEN expires_at ELSE $8 END \
         WHERE id = $1 AND account_id = $2",
    )
    .bind(id)
    .bind(me)
    .bind(phrase.map(|s| s.trim().to_owned()))
    .bind(context)
    .bind(irreversible.int())
    .bind(whole_word.int())
    .bind(expires.is_some().int())
    .bind(expires.flatten().map(in_seconds))
    .execute(&ctx.db)
    .await?;
    ok(render::filter(&ctx, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?)
}

/// Remove a filter (v1).
#[requires_scope("write:filters", token = user)]
pub(crate) async fn delete_filter(ctx: Ctx, Id(id): Id) -> ApiResult {
    let me = ctx.me()?;
    let done = sqlx::query("DELETE FROM filters WHERE id = $1 AND account_id = $2")
        .bind(id)
        .bind(me)
        .execute(&ctx.db)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found());
    }
    empty()
}

const NOTIFICATION_TYPES: [&str; 8] = [
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
];

fn type_list(p: &Params, key: &str) -> Result<Vec<&'static str>, ApiError> {
    Ok(p.list(key)?
        .iter()
        .filter_map(|t| {
            NOTIFICATION_TYPES
                .iter()
                .find(|k| **k == t.as_str())
                .copied()
        })
        .collect())
}

/// Get all notifications (`types[]`, `exclude_types[]`, `account_id`).
#[requires_scope("read:notifications", token = user)]
pub(crate) async fn notifications(ctx: Ctx) -> ApiResult {
    let me = ctx.me()?;
    let page = ctx.page_with(40, 80)?;
    let mut sql = String::from("SELECT n.id, n.id FROM notifications n WHERE n.account_id = $1");
    let quoted = |types: &[&str]| {
        types
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let types = type_list(&ctx.query, "types")?;
    if ctx.query.has("types") {
        // Only unknown names: nothing matches (`IN ()` is no SQL).
        if types.is_empty() {
            sql.push_str(" AND 1 = 0");
        } else {
            sql.push_str(&format!(" AND n.type IN ({})", quoted(&types)));
        }
    }
    let exclude = type_list(&ctx.query, "exclude_types")?;
    if !exclude.is_empty() {
        sql.push_str(&format!(" AND n.type NOT IN ({})", quoted(&exclude)));
    }
    let mut args = vec![Arg::Int(Some(me))];
    if let Some(raw) = ctx.query.text("account_id")? {
        sql.push_str(" AND n.from_account_id = $2");
        args.push(Arg::Int(Some(parse_id(&raw).unwrap_or(0))));
    }
    let rows = ctx.page_rows(&sql, "n.id", &args, &page).await?;
    let keys: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let mut items = Vec::new();
    for (_, id) in rows {
        if let Some(n) = render::notification(&ctx, me, id).await? {
            items.push(n);
        }
    }
    ctx.paged(&page, &keys, items)
}

/// Get a single notification.
#[requires_scope("read:notifications", token = user)]
pub(crate) async fn notification(ctx: Ctx, Id(id): Id) -> ApiResult {
    let me = ctx.me()?;
    ok(render::notification(&ctx, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?)
}

/// Dismiss all notifications.
#[requires_scope("write:notifications", token = user)]
pub(crate) async fn clear_notifications(ctx: Ctx) -> ApiResult {
    let me = ctx.me()?;
    sqlx::query("DELETE FROM notifications WHERE account_id = $1")
        .bind(me)
        .execute(&ctx.db)
        .await?;
    empty()
}

/// Dismiss a single notification.
#[requires_scope("write:notifications", token = user)]
pub(crate) async fn dismiss_notification(ctx: Ctx, Id(id): Id) -> ApiResult {
    let me = ctx.me()?;
    let done = sqlx::query("DELETE FROM notifications WHERE id = $1 AND account_id = $2")
        .bind(id)
        .bind(me)
        .execute(&ctx.db)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found());
    }
    empty()
}

/// `GET /api/v1/reports`, under the deprecated `read:reports` scope.
#[allow(deprecated)]
pub(crate) mod legacy {
    use scope_runtime::requires_scope;
    use serde_json::Value;

    use crate::Scope;
    use crate::render;
    use crate::support::{ApiResult, Ctx, ok};

    /// View your reports.
    ///
    /// Only in the documented matrix: current Mastodon has no such route, and
    /// `read:reports` is a deprecated stub scope (granted by `read`).
    #[requires_scope("read:reports", token = user)]
    pub(crate) async fn reports(ctx: Ctx) -> ApiResult {
        let me = ctx.me()?;
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM reports WHERE account_id = $1 ORDER BY id DESC")
                .bind(me)
                .fetch_all(&ctx.db)
                .await?;
        let mut out = Vec::new();
        for id in ids {
            if let Some(r) = render::report(&ctx, me, id).await? {
                out.push(r);
            }
        }
        ok(Value::Array(out))
    }
}

/// File a report (`account_id`, `status_ids[]`, `comment`, `forward`,
/// `category`).
#[requires_scope("write:reports", token = user)]
pub(crate) async fn create_report(ctx: Ctx, Body(p): Body) -> ApiResult {
    let me = ctx.me()?;
    let target = p
        .text("account_id")?
        .as_deref()
        .and_then(parse_id)
        .ok_or_else(ApiError::not_found)?;
    render::require_account(&ctx, target).await?;
    if target == me {
        return Err(ApiError::invalid("You cannot report yourself"));
    }
    let comment = p.text("comment")?.unwrap_or_default();
    if comment.chars().count() > 1000 {
        return Err(ApiError::invalid(
            "Comment is too long (maximum is 1000 characters)",
        ));
    }
    let category = p.text("category")?.unwrap_or_else(|| "other".into());
    if !matches!(category.as_str(), "spam" | "legal" | "violation" | "other") {
        return Err(ApiError::invalid("Category is not included in the list"));
    }
    let forward = p.flag("forward")?.unwrap_or(false);
    let status_ids = p.ids("status_ids")?;
    for &s in &status_ids {
        // Visibility first, with the status endpoints' rule: a status the
        // reporter cannot see answers as one that does not exist.
        let s = render::visible_status(&ctx, s).await?;
        let author: Option<i64> =
            sqlx::query_scalar("SELECT account_id FROM statuses WHERE id = $1")
                .bind(s)
                .fetch_optional(&ctx.db)
                .await?;
        if author != Some(target) {
            return Err(ApiError::not_found());
        }
    }
    let mut tx = ctx.db.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO reports (account_id, target_account_id, comment, forward, category) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(me)
    .bind(target)
    .bind(comment)
    .bind(forward.int())
    .bind(category)
    .fetch_one(&mut *tx)
    .await?;
    for s in status_ids {
        sqlx::query("INSERT INTO report_statuses (report_id, status_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(s)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    ok(render::report(&ctx, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?)
}

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

struct SearchResults {
    accounts: Vec<Value>,
    statuses: Vec<Value>,
    hashtags: Vec<String>,
}

async fn run_search(ctx: &Ctx) -> Result<SearchResults, ApiError> {
    let q = ctx
        .query
        .text("q")?
        .ok_or_else(|| ApiError::bad_request("Missing parameter: q"))?;
    let kind = ctx.query.text("type")?;
    if kind
        .as_deref()
        .is_some_and(|k| !matches!(k, "accounts" | "statuses" | "hashtags"))
    {
        return Err(ApiError::bad_request(
            "Invalid type: accounts, statuses or hashtags",
        ));
    }
    let want = |k: &str| kind.as_deref().is_none_or(|t| t == k);
    let limit = ctx.query.int("limit")?.unwrap_or(20).clamp(1, 40);
    let offset = ctx.query.int("offset")?.unwrap_or(0).max(0);
    let following = ctx.query.flag("following")?.unwrap_or(false);
    ctx.query.flag("resolve")?;
    let mut out = SearchResults {
        accounts: Vec::new(),
        statuses: Vec::new(),
        hashtags: Vec::new(),
    };
    let q = q.trim();
    if q.is_empty() {
        return Ok(out);
    }
    if want("accounts") {
        let ids = search_ids(ctx, q, following, limit, offset).await?;
        out.accounts = render::accounts(ctx, &ids).await?;
    }
    let pattern = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    if want("statuses") {
        let mut sql = format!(
            "SELECT s.id FROM statuses s WHERE s.reblog_of_id IS NULL AND lower(s.text) LIKE lower($2) ESCAPE '\\' AND {}",
            readable("s")
        );
        let account = ctx
            .query
            .text("account_id")?
            .map(|raw| parse_id(&raw).unwrap_or(0));
        sql.push_str(" AND ($5 IS NULL OR s.account_id = $5)");
        sql.push_str(" ORDER BY s.id DESC LIMIT $3 OFFSET $4");
        let ids: Vec<i64> = sqlx::query_scalar(&sql)
            .bind(ctx.viewer)
            .bind(&pattern)
            .bind(limit)
            .bind(offset)
            .bind(account)
            .fetch_all(&ctx.db)
            .await?;
        out.statuses = render::statuses(ctx, &ids).await?;
    }
    if want("hashtags") {
        let tag = q.trim_start_matches('#').to_lowercase();
        let tag_pattern = format!(
            "{}%",
            tag.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        out.hashtags = sqlx::query_scalar(
            "SELECT name FROM status_tags WHERE name LIKE $1 ESCAPE '\\' GROUP BY name \
             ORDER BY COUNT(*) DESC, name LIMIT $2 OFFSET $3",
        )
        .bind(tag_pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(&ctx.db)
        .await?;
    }
    Ok(out)
}

/// Search results (v1): accounts, statuses and hashtags as strings.
///
/// Removed from current Mastodon (v2 replaced it); kept from the
/// documented matrix.
#[requires_scope("read:search", token = user)]
pub(crate) async fn search_v1(ctx: Ctx) -> ApiResult {
    ctx.me()?;
    let r = run_search(&ctx).await?;
    ok(json!({
        "accounts": r.accounts,
        "statuses": r.statuses,
        "hashtags": r.hashtags,
    }))
}

/// Perform a search (v2: hashtags as Tag entities; `q`, `type`, `limit`,
/// `offset`, `following`, `account_id`).
#[requires_scope("read:search", token = optional)]
pub(crate) async fn search_v2(ctx: Ctx) -> ApiResult {
    let r = run_search(&ctx).await?;
    let tags: Vec<Value> = r
        .hashtags
        .iter()
        .map(|t| json!({ "name": t, "url": ctx.url(&format!("/tags/{t}")), "history": [] }))
        .collect();
    ok(json!({
        "accounts": r.accounts,
        "statuses": r.statuses,
        "hashtags": tags,
    }))
}

fn version() -> String {
    format!("4.3.0 (compatible; {} {})", crate::NAME, crate::VERSION)
}

fn statuses_config() -> Value {
    json!({
        "max_characters": crate::statuses::MAX_CHARS,
        "max_media_attachments": crate::statuses::MAX_MEDIA,
        "characters_reserved_per_url": 23,
    })
}

fn media_config() -> Value {
    json!({
        "supported_mime_types": [
            "image/jpeg", "image/png", "image/gif", "image/webp",
            "video/mp4", "video/webm", "video/quicktime",
            "audio/mpeg", "audio/ogg", "audio/wave", "audio/flac",
        ],
        "image_size_limit": 16_777_216,
        "image_matrix_limit": 33_177_600,
        "video_size_limit": 16_777_216,
        "video_frame_rate_limit": 60,
        "video_matrix_limit": 8_294_400,
        "description_limit": 1500,
    })
}

fn polls_config() -> Value {
    json!({
        "max_options": 0,
        "max_characters_per_option": 0,
        "min_expiration": 0,
        "max_expiration": 0,
    })
}

/// View server information (v1).
#[requires_scope(public)]
pub(crate) async fn instance_v1(ctx: Ctx) -> ApiResult {
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&ctx.db)
        .await?;
    let statuses: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM statuses WHERE reblog_of_id IS NULL")
            .fetch_one(&ctx.db)
            .await?;
    ok(json!({
        "uri": ctx.host,
        "title": crate::NAME,
        "short_description": "A Mastodon-compatible example pod: every route declares its OAuth scopes.",
        "description": "A Mastodon-compatible example pod: every route declares its OAuth scopes.",
        "email": "",
        "version": version(),
        "urls": { "streaming_api": ctx.streaming_url() },
        "stats": { "user_count": users, "status_count": statuses, "domain_count": 0 },
        "thumbnail": null,
        "languages": ["en"],
        "registrations": false,
        "approval_required": false,
        "invites_enabled": false,
        "configuration": {
            "accounts": { "max_featured_tags": 0 },
            "statuses": statuses_config(),
            "media_attachments": media_config(),
            "polls": polls_config(),
        },
        "contact_account": null,
        "rules": [],
    }))
}

/// View server information (v2).
#[requires_scope(public)]
pub(crate) async fn instance_v2(ctx: Ctx) -> ApiResult {
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&ctx.db)
        .await?;
    ok(json!({
        "domain": ctx.host,
        "title": crate::NAME,
        "version": version(),
        "source_url": "https://example.invalid/scope-matrix",
        "description": "A Mastodon-compatible example pod: every route declares its OAuth scopes.",
        "usage": { "users": { "active_month": users } },
        "thumbnail": { "url": ctx.url("/avatars/original/missing.png") },
        "languages": ["en"],
        "configuration": {
            "urls": { "streaming": null },
            "accounts": { "max_featured_tags": 0, "max_pinned_statuses": 5 },
            "statuses": statuses_config(),
            "media_attachments": media_config(),
            "polls": polls_config(),
            "translation": { "enabled": false },
        },
        "registrations": { "enabled": false, "approval_required": false, "message": null },
        "api_versions": { "mastodon": 2 },
        "contact": { "email": "", "account": null },
        "rules": [],
    }))
}
