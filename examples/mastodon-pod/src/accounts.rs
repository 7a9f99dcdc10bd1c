//! `/api/v1/accounts`: profiles, their statuses and relationships.

use axum::http::StatusCode;
use scope_runtime::requires_scope;

use crate::Scope;
use serde_json::{Value, json};

use crate::notifications::notify;
use crate::render::{self, not_hidden, readable};
use crate::support::{
    ApiError, ApiResult, Arg, AsInt, Body, Ctx, Flag, Id, in_seconds, ok, parse_id,
};

/// Maximum display name length (Mastodon's).
const MAX_DISPLAY_NAME: usize = 30;
/// Maximum bio length (Mastodon's).
const MAX_NOTE: usize = 500;

/// Verify account credentials: the token's account, with its `source`.
///
/// Documented as `profile` or `read:accounts`; the source accepts
/// `profile | read | read:accounts` (`read` grants `read:accounts`).
#[requires_scope(any("profile", "read:accounts"), token = user)]
pub(crate) async fn verify_credentials(ctx: Ctx) -> ApiResult {
    let me = ctx.me()?;
    ok(render::credential_account(&ctx, me).await?)
}

/// Update account credentials: display name, bio, locked, bot, discoverable
/// and the posting defaults in `source[...]`.
///
/// The documented matrix lists `PUT /api/v1/accounts/verify_credentials`;
/// current Mastodon routes `PATCH /api/v1/accounts/update_credentials`.
/// Both (and `PUT .../update_credentials`) are served.
#[requires_scope("write:accounts", token = user)]
pub(crate) async fn update_credentials(ctx: Ctx, Body(p): Body) -> ApiResult {
    let me = ctx.me()?;
    let display_name = p.text("display_name")?;
    if display_name
        .as_deref()
        .is_some_and(|d| d.chars().count() > MAX_DISPLAY_NAME)
    {
        return Err(ApiError::invalid(format!(
            "Display name is too long (maximum is {MAX_DISPLAY_NAME} characters)"
        )));
    }
    let note = p.text("note")?;
    if note
        .as_deref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE)
    {
        return Err(ApiError::invalid(format!(
            "Note is too long (maximum is {MAX_NOTE} characters)"
        )));
    }
    let locked = p.flag("locked")?;
    let bot = p.flag("bot")?;
    let discoverable = p.flag("discoverable")?;
    let source = p.nested("source");
    let privacy = source.text("privacy")?;
    if privacy
        .as_deref()
        .is_some_and(|v| !matches!(v, "public" | "unlisted" | "private"))
    {
        return Err(ApiError::invalid("Privacy is not included in the list"));
    }
    let sensitive = source.flag("sensitive")?;
    let language = source.text("language")?;
    if language
        .as_deref()
        .is_some_and(|l| l.len() > 10 || !l.chars().all(|c| c.is_ascii_alphabetic() || c == '-'))
    {
        return Err(ApiError::invalid("Language is not a language code"));
    }
    let mut tx = ctx.db.begin().await?;
    sqlx::query("INSERT INTO profiles (user_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(me)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE profiles SET display_name = COALESCE($2, display_name), note = COALESCE($3, note), \
         locked = COALESCE($4, locked), bot = COALESCE($5, bot), discoverable = COALESCE($6, discoverable), \
         privacy = COALESCE($7, privacy), sensitive = COALESCE($8, sensitive), \
         language = CASE WHEN $9 IS NULL THEN language WHEN $9 = '' THEN NULL ELSE $9 END \
         WHERE user_id = $1",
    )
    .bind(me)
    .bind(display_name)
    .bind(note)
    .bind(locked.int())
    .bind(bot.int())
    .bind(discoverable.int())
    .bind(privacy)
    .bind(sensitive.int())
    .bind(language)
    .execute(&mut *tx)
    .await?;
    let mut approved = Vec::new();
    if locked == Some(false) {
        // Unlocking accepts the pending requests, as Mastodon does.
        approved = sqlx::query_scalar::<_, i64>(
            "SELECT account_id FROM follow_requests WHERE target_account_id = $1",
        )
        .bind(me)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO follows (account_id, target_account_id, show_reblogs, notify) \
             SELECT account_id, target_account_id, show_reblogs, notify FROM follow_requests WHERE target_account_id = $1 ON CONFLICT DO NOTHING",
        )
        .bind(me)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM follow_requests WHERE target_account_id = $1")
            .bind(me)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    for follower in approved {
        notify(&ctx, me, follower, "follow", None).await?;
    }
    ok(render::credential_account(&ctx, me).await?)
}

/// Get account.
///
/// The documentation says public with no scope; the source checks
/// `read | read:accounts` when a token is sent.
#[requires_scope("read:accounts", token = optional)]
pub(crate) async fn show(ctx: Ctx, Id(id): Id) -> ApiResult {
    ok(render::account_or_404(&ctx, id).await?)
}

/// Get an account's statuses (`only_media`, `exclude_replies`,
/// `exclude_reblogs`, `pinned`, `tagged`).
#[requires_scope("read:statuses", token = optional)]
pub(crate) async fn statuses(ctx: Ctx, Id(id): Id) -> ApiResult {
    render::require_account(&ctx, id).await?;
    let page = ctx.page()?;
    let q = &ctx.query;
    let mut sql = format!(
        "SELECT s.id, s.id FROM statuses s WHERE s.account_id = $2 AND {}",
        readable("s")
    );
    let mut args = vec![Arg::Int(ctx.viewer), Arg::Int(Some(id))];
    if q.flag("only_media")?.unwrap_or(false) {
        sql.push_str(" AND EXISTS (SELECT 1 FROM media_attachments m WHERE m.status_id = s.id)");
    }
    if q.flag("exclude_replies")?.unwrap_or(false) {
        sql.push_str(" AND (s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id)");
    }
    if q.flag("exclude_reblogs")?.unwrap_or(false) {
        sql.push_str(" AND s.reblog_of_id IS NULL");
    }
    if q.flag("pinned")?.unwrap_or(false) {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM pins p WHERE p.status_id = s.id AND p.account_id = $2)",
        );
    }
    if let Some(tag) = q.text("tagged")? {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM status_tags t WHERE t.status_id = s.id AND t.name = $3)",
        );
        args.push(Arg::Text(tag.trim_start_matches('#').to_lowercase()));
    }
    let rows = ctx.page_rows(&sql, "s.id", &args, &page).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let keys: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let items = render::statuses(&ctx, &ids).await?;
    ctx.paged(&page, &keys, items)
}

async fn follow_list(ctx: Ctx, id: i64, followers: bool) -> ApiResult {
    render::require_account(&ctx, id).await?;
    let page = ctx.page_with(40, 80)?;
    let sql = if followers {
        "SELECT f.id, f.account_id FROM follows f WHERE f.target_account_id = $1"
    } else {
        "SELECT f.id, f.target_account_id FROM follows f WHERE f.account_id = $1"
    };
    let rows = ctx
        .page_rows(sql, "f.id", &[Arg::Int(Some(id))], &page)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let keys: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let items = render::accounts(&ctx, &ids).await?;
    ctx.paged(&page, &keys, items)
}

/// Get account's followers.
///
/// The documentation says public with no scope; the source checks
/// `read | read:accounts` when a token is sent.
#[requires_scope("read:accounts", token = optional)]
pub(crate) async fn followers(ctx: Ctx, Id(id): Id) -> ApiResult {
    follow_list(ctx, id, true).await
}

/// Get account's following.
///
/// The documentation says public with no scope; the source checks
/// `read | read:accounts` when a token is sent.
#[requires_scope("read:accounts", token = optional)]
pub(crate) async fn following(ctx: Ctx, Id(id): Id) -> ApiResult {
    follow_list(ctx, id, false).await
}

/// Get lists containing this account (the token's lists).
#[requires_scope("read:lists", token = user)]
pub(crate) async fn lists(ctx: Ctx, Id(id): Id) -> ApiResult {
    let me = ctx.me()?;
    render::require_account(&ctx, id).await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT l.id FROM lists l JOIN list_accounts la ON la.list_id = l.id \
         WHERE l.account_id = $1 AND la.account_id = $2 ORDER BY l.id",
    )
    .bind(me)
    .bind(id)
    .fetch_all(&ctx.db)
    .await?;
    let mut out = Vec::new();
    for l in ids {
        if let Some(v) = render::list(&ctx, me, l).await? {
            out.push(v);
        }
    }
    ok(Value::Array(out))
}

async fn blocked_either_way(ctx: &Ctx, a: i64, b: i64) -> Result<bool, ApiError> {
    Ok(sqlx::query_scalar::<_, Flag>(
        "SELECT EXISTS (SELECT 1 FROM blocks WHERE (account_id = $1 AND target_account_id = $2) \
         OR (account_id = $2 AND target_account_id = $1))",
    )
    .bind(a)
    .bind(b)
    .fetch_one(&ctx.db)
    .await?
    .0)
}

/// Follows `target` (or requests to, if the account is locked); the
/// caller has checked the account exists and is not `me`.
pub(crate) async fn do_follow(
    ctx: &Ctx,
    me: i64,
    target: i64,
    reblogs: Option<bool>,
    notify_posts: Option<bool>,
) -> Result<(), ApiError> {
    if blocked_either_way(ctx, me, target).await? {
        return Err(ApiError::forbidden());
    }
    let updated = sqlx::query(
        "UPDATE follows SET show_reblogs = COALESCE($3, show_reblogs), notify = COALESCE($4, notify) \
         WHERE account_id = $1 AND target_account_id = $2",
    )
    .bind(me)
    .bind(target)
    .bind(reblogs.int())
    .bind(notify_posts.int())
    .execute(&ctx.db)
    .await?;
    if updated.rows_affected() > 0 {
        return Ok(());
    }
    let locked: Flag =
        sqlx::query_scalar("SELECT COALESCE((SELECT locked FROM profiles WHERE user_id = $1), 0)")
            .bind(target)
            .fetch_one(&ctx.db)
            .await?;
    let (table, kind) = if locked.0 {
        ("follow_requests", "follow_request")
    } else {
        ("follows", "follow")
    };
    let inserted = sqlx::query(&format!(
        "INSERT INTO {table} (account_id, target_account_id, show_reblogs, notify) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
    ))
    .bind(me)
    .bind(target)
    .bind(reblogs.unwrap_or(true).int())
    .bind(notify_posts.unwrap_or(false).int())
    .execute(&ctx.db)
    .await?;
    if inserted.rows_affected() > 0 {
        notify(ctx, target, me, kind, None).await?;
    }
    Ok(())
}

/// Follow account (`reblogs`, `notify`); a locked account gets a follow
/// request instead.
#[requires_scope("write:follows", token = user)]
pub(crate) async fn follow(ctx: Ctx, Id(target): Id, Body(p): Body) -> ApiResult {
    let me = ctx.me()?;
    render::require_account(&ctx, target).await?;
    if me == target {
        return Err(ApiError::forbidden());
    }
    let reblogs = p.flag("reblogs")?;
    let notify_posts = p.flag("notify")?;
    do_follow(&ctx, me, target, reblogs, notify_posts).await?;
    ok(render::relationship(&ctx, me, target).await?)
}

/// Unfollow account (or withdraw the follow request).
#[requires_scope("write:follows", token = user)]
pub(crate) async fn unfollow(ctx: Ctx, Id(target): Id) -> ApiResult {
    let me = ctx.me()?;
    render::require_account(&ctx, target).await?;
    for table in ["follows", "follow_requests"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE account_id = $1 AND target_account_id = $2"
        ))
        .bind(me)
        .bind(target)
        .execute(&ctx.db)
        .await?;
    }
    ok(render::relationship(&ctx, me, target).await?)
}

/// Block account: also removes follows and follow requests both ways.
#[requires_scope("write:blocks", token = user)]
pub(crate) async fn block(ctx: Ctx, Id(target): Id) -> ApiResult {
    let me = ctx.me()?;
    render::require_account(&ctx, target).await?;
    if me == target {
        return Err(ApiError::forbidden());
    }
    let mut tx = ctx.db.begin().await?;
    for table in ["follows", "follow_requests"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE (account_id = $1 AND target_account_id = $2) \
             OR (account_id = $2 AND target_account_id = $1)"
        ))
        .bind(me)
        .bind(target)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "DELETE FROM list_accounts WHERE (account_id = $2 AND list_id IN (SELECT id FROM lists WHERE account_id = $1)) \
         OR (account_id = $1 AND list_id IN (SELECT id FROM lists WHERE account_id = $2))",
    )
    .bind(me)
    .bind(target)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO blocks (account_id, target_account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(me)
    .bind(target)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    ctx.hub.relations_changed(&[me, target]);
    ok(render::relationship(&ctx, me, target).await?)
}

/// Unblock account.
#[requires_scope("write:blocks", token = user)]
pub(crate) async fn unblock(ctx: Ctx, Id(target): Id) -> ApiResult {
    let me = ctx.me()?;
    render::require_account(&ctx, target).await?;
    sqlx::query("DELETE FROM blocks WHERE account_id = $1 AND target_account_id = $2")
        .bind(me)
        .bind(target)
        .execute(&ctx.db)
        .await?;
    ctx.hub.relations_changed(&[me, target]);
    ok(render::relationship(&ctx, me, target).await?)
}

/// Mute account (`notifications`, default true; `duration` in seconds, 0
/// for ever).
#[requires_scope("write:mutes", token = user)]
pub(crate) async fn mute(ctx: Ctx, Id(target): Id, Body(p): Body) -> ApiResult {
    let me = ctx.me()?;
    render::require_account(&ctx, target).await?;
    if me == target {
        return Err(ApiError::forbidden());
    }
    let hide = p.flag("notifications")?.unwrap_or(true);
    let duration = p.int("duration")?.unwrap_or(0);
    if !(0..=10 * 365 * 86_400).contains(&duration) {
        return Err(ApiError::invalid("Duration is out of range"));
    }
    sqlx::query(
        "INSERT INTO mutes (account_id, target_account_id, hide_notifications, expires_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (account_id, target_account_id) DO UPDATE SET \
         hide_notifications = excluded.hide_notifications, expires_at = excluded.expires_at",
    )
    .bind(me)
    .bind(target)
    .bind(hide.int())
    .bind((duration > 0).then(|| in_seconds(duration)))
    .execute(&ctx.db)
    .await?;
    ctx.hub.relations_changed(&[me]);
    ok(render::relationship(&ctx, me, target).await?)
}

/// Unmute account.
#[requires_scope("write:mutes", token = user)]
pub(crate) async fn unmute(ctx: Ctx, Id(target): Id) -> ApiResult {
    let me = ctx.me()?;
    render::require_account(&ctx, target).await?;
    sqlx::query("DELETE FROM mutes WHERE account_id = $1 AND target_account_id = $2")
        .bind(me)
        .bind(target)
        .execute(&ctx.db)
        .await?;
    ctx.hub.relations_changed(&[me]);
    ok(render::relationship(&ctx, me, target).await?)
}

/// Check relationships to other accounts (`id[]`); unknown ids are left
/// out.
#[requires_scope("read:follows", token = user)]
pub(crate) async fn relationships(ctx: Ctx) -> ApiResult {
    let me = ctx.me()?;
    let mut out = Vec::new();
    for raw in ctx.query.list("id")?.iter().take(80) {
        if let Some(id) = parse_id(raw)
            && render::account_exists(&ctx, id).await?
        {
            out.push(render::relationship(&ctx, me, id).await?);
        }
    }
    ok(Value::Array(out))
}

/// Account ids matching `q` (username or display name), exact username
/// first.
pub(crate) async fn search_ids(
    ctx: &Ctx,
    q: &str,
    following_only: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<i64>, ApiError> {
    let q = q.trim().trim_start_matches('@');
    let q = match q.split_once('@') {
        Some((user, domain)) if domain.eq_ignore_ascii_case(&ctx.host) => user,
        Some(_) => return Ok(Vec::new()),
        None => q,
    };
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let pattern = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let mut sql = String::from(
        "SELECT u.id FROM users u LEFT JOIN profiles p ON p.user_id = u.id \
         WHERE (lower(u.username) LIKE lower($2) ESCAPE '\\' OR lower(p.display_name) LIKE lower($2) ESCAPE '\\') \
         AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = u.id AND b.target_account_id = $1)",
    );
    if following_only {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM follows f WHERE f.account_id = $1 AND f.target_account_id = u.id)",
        );
    }
    sql.push_str(" ORDER BY (CASE WHEN lower(u.username) = lower($3) THEN 1 ELSE 0 END) DESC, u.id LIMIT $4 OFFSET $5");
    Ok(sqlx::query_scalar::<_, i64>(&sql)
        .bind(ctx.viewer)
        .bind(pattern)
        .bind(q)
        .bind(limit)
        .bind(offset)
        .fetch_all(&ctx.db)
        .await?)
}

/// Search for matching accounts (`q`, `limit`, `offset`, `following`).
#[requires_scope("read:accounts", token = user)]
pub(crate) async fn search(ctx: Ctx) -> ApiResult {
    ctx.me()?;
    let q = ctx
        .query
        .text("q")?
        .ok_or_else(|| ApiError::bad_request("Missing parameter: q"))?;
    let limit = ctx.query.int("limit")?.unwrap_or(40).clamp(1, 80);
    let offset = ctx.query.int("offset")?.unwrap_or(0).max(0);
    let following = ctx.query.flag("following")?.unwrap_or(false);
    let ids = search_ids(&ctx, &q, following, limit, offset).await?;
    ok(Value::Array(render::accounts(&ctx, &ids).await?))
}

/// Lookup account ID from Webfinger address (`acct`): local accounts only.
#[requires_scope("read:accounts", token = optional)]
pub(crate) async fn lookup(ctx: Ctx) -> ApiResult {
    let acct = ctx
        .query
        .text("acct")?
        .ok_or_else(|| ApiError::bad_request("Missing parameter: acct"))?;
    let acct = acct.trim().trim_start_matches('@');
    let user = match acct.split_once('@') {
        Some((user, domain))
            if domain.eq_ignore_ascii_case(&ctx.host)
                || ctx
                    .host
                    .split(':')
                    .next()
                    .is_some_and(|h| domain.eq_ignore_ascii_case(h)) =>
        {
            user
        }
        Some(_) => return Err(ApiError::not_found()),
        None => acct,
    };
    let id = render::account_by_name(&ctx, user)
        .await?
        .ok_or_else(ApiError::not_found)?;
    ok(render::account_or_404(&ctx, id).await?)
}

/// Follow a remote account by `uri` (the old remote-follow endpoint): a
/// local `username` or `username@this-host` is followed; remote accounts
/// are refused (422), this pod does not federate.
#[requires_scope("write:follows", token = user)]
pub(crate) async fn remote_follow(ctx: Ctx, Body(p): Body) -> ApiResult {
    let me = ctx.me()?;
    let uri = p
        .text("uri")?
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("Uri can't be blank"))?;
    let uri = uri
        .trim()
        .trim_start_matches("acct:")
        .trim_start_matches('@');
    let user = match uri.split_once('@') {
        None => uri,
        Some((user, domain)) if domain.eq_ignore_ascii_case(&ctx.host) => user,
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Remote accounts cannot be followed: this server does not federate",
            ));
        }
    };
    let target = render::account_by_name(&ctx, user)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if target == me {
        return Err(ApiError::forbidden());
    }
    do_follow(&ctx, me, target, None, None).await?;
    ok(render::account_or_404(&ctx, target).await?)
}

/// Statuses of the accounts in `author_sql` (ids bound after the viewer),
/// for the home and list timelines.
pub(crate) async fn timeline_of(ctx: &Ctx, authors_sql: &str, extra_args: Vec<Arg>) -> ApiResult {
    let page = ctx.page()?;
    let sql = format!(
        "SELECT s.id, s.id FROM statuses s WHERE s.account_id IN ({authors_sql}) AND {} AND {}",
        readable("s"),
        not_hidden("s")
    );
    let mut args = vec![Arg::Int(ctx.viewer)];
    args.extend(extra_args);
    let rows = ctx.page_rows(&sql, "s.id", &args, &page).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let keys: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let items = render::statuses(ctx, &ids).await?;
    ctx.paged(&page, &keys, items)
}

/// An empty JSON object, Mastodon's answer to many deletions.
pub(crate) fn empty() -> ApiResult {
    ok(json!({}))
}
