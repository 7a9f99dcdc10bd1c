//! The Account, CredentialAccount and Relationship entities.

use serde_json::{Value, json};

use crate::support::{ApiError, Ctx, Flag, escape};

/// An account's row, as [`account_json`] reads it.
#[derive(sqlx::FromRow)]
pub(super) struct AccountRow {
    id: i64,
    pub(super) username: String,
    display_name: String,
    note: String,
    locked: Flag,
    bot: Flag,
    discoverable: Flag,
    privacy: String,
    sensitive: Flag,
    language: Option<String>,
    created_at: String,
    followers_count: i64,
    following_count: i64,
    statuses_count: i64,
    last_status_at: Option<String>,
}

const ACCOUNT_SQL: &str = "SELECT u.id, u.username, \
    COALESCE(p.display_name, '') AS display_name, COALESCE(p.note, '') AS note, \
    COALESCE(p.locked, 0) AS locked, COALESCE(p.bot, 0) AS bot, \
    COALESCE(p.discoverable, 1) AS discoverable, COALESCE(p.privacy, 'public') AS privacy, \
    COALESCE(p.sensitive, 0) AS sensitive, p.language, \
    COALESCE(p.created_at, '1970-01-01T00:00:00.000Z') AS created_at, \
    (SELECT COUNT(*) FROM follows f WHERE f.target_account_id = u.id) AS followers_count, \
    (SELECT COUNT(*) FROM follows f WHERE f.account_id = u.id) AS following_count, \
    (SELECT COUNT(*) FROM statuses s WHERE s.account_id = u.id) AS statuses_count, \
    (SELECT substr(MAX(s.created_at), 1, 10) FROM statuses s WHERE s.account_id = u.id) AS last_status_at \
    FROM users u LEFT JOIN profiles p ON p.user_id = u.id WHERE u.id = $1";

pub(super) async fn account_row(ctx: &Ctx, id: i64) -> Result<Option<AccountRow>, ApiError> {
    Ok(sqlx::query_as::<_, AccountRow>(ACCOUNT_SQL)
        .bind(id)
        .fetch_optional(&ctx.db)
        .await?)
}

fn note_html(note: &str) -> String {
    if note.is_empty() {
        String::new()
    } else {
        format!("<p>{}</p>", escape(note).replace('\n', "<br />"))
    }
}

pub(super) fn account_json(ctx: &Ctx, a: &AccountRow) -> Value {
    let url = ctx.url(&format!("/@{}", a.username));
    let avatar = ctx.url("/avatars/original/missing.png");
    let header = ctx.url("/headers/original/missing.png");
    json!({
        "id": a.id.to_string(),
        "username": a.username,
        "acct": a.username,
        "display_name": a.display_name,
        "locked": a.locked,
        "bot": a.bot,
        "discoverable": a.discoverable,
        "group": false,
        "created_at": a.created_at,
        "note": note_html(&a.note),
        "url": url,
        "uri": ctx.url(&format!("/users/{}", a.username)),
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": a.followers_count,
        "following_count": a.following_count,
        "statuses_count": a.statuses_count,
        "last_status_at": a.last_status_at,
        "emojis": [],
        "fields": [],
    })
}

/// The Account entity, or `None` for an unknown id.
pub(crate) async fn account(ctx: &Ctx, id: i64) -> Result<Option<Value>, ApiError> {
    Ok(account_row(ctx, id).await?.map(|a| account_json(ctx, &a)))
}

/// The Account entity, or 404.
pub(crate) async fn account_or_404(ctx: &Ctx, id: i64) -> Result<Value, ApiError> {
    account(ctx, id).await?.ok_or_else(ApiError::not_found)
}

/// Accounts in the order given, leaving out unknown ids.
pub(crate) async fn accounts(ctx: &Ctx, ids: &[i64]) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        if let Some(a) = account(ctx, id).await? {
            out.push(a);
        }
    }
    Ok(out)
}

/// The CredentialAccount entity: the account with its `source`.
pub(crate) async fn credential_account(ctx: &Ctx, id: i64) -> Result<Value, ApiError> {
    let a = account_row(ctx, id).await?.ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "The access token's user does not exist",
        )
    })?;
    let requests: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM follow_requests WHERE target_account_id = $1")
            .bind(id)
            .fetch_one(&ctx.db)
            .await?;
    let mut v = account_json(ctx, &a);
    v["source"] = json!({
        "privacy": a.privacy,
        "sensitive": a.sensitive,
        "language": a.language,
        "note": a.note,
        "fields": [],
        "follow_requests_count": requests,
    });
    Ok(v)
}

/// Resolves a username (case-insensitive) to an account id.
pub(crate) async fn account_by_name(ctx: &Ctx, username: &str) -> Result<Option<i64>, ApiError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM users WHERE lower(username) = lower($1)")
            .bind(username)
            .fetch_optional(&ctx.db)
            .await?,
    )
}

/// Whether the account exists.
pub(crate) async fn account_exists(ctx: &Ctx, id: i64) -> Result<bool, ApiError> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&ctx.db)
            .await?
            .is_some(),
    )
}

/// 404 unless the account exists.
pub(crate) async fn require_account(ctx: &Ctx, id: i64) -> Result<(), ApiError> {
    if account_exists(ctx, id).await? {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

/// The Relationship entity of `me` to `target`.
pub(crate) async fn relationship(ctx: &Ctx, me: i64, target: i64) -> Result<Value, ApiError> {
    #[derive(sqlx::FromRow)]
    struct Rel {
        following: Flag,
        showing_reblogs: Flag,
        notifying: Flag,
        followed_by: Flag,
        blocking: Flag,
        blocked_by: Flag,
        muting: Flag,
        muting_notifications: Flag,
        requested: Flag,
        requested_by: Flag,
        domain_blocking: Flag,
    }
    let r = sqlx::query_as::<_, Rel>(
        "SELECT \
         EXISTS (SELECT 1 FROM follows WHERE account_id = $1 AND target_account_id = $2) AS following, \
         COALESCE((SELECT show_reblogs FROM follows WHERE account_id = $1 AND target_account_id = $2), \
                  (SELECT show_reblogs FROM follow_requests WHERE account_id = $1 AND target_account_id = $2), 0) AS showing_reblogs, \
         COALESCE((SELECT notify FROM follows WHERE account_id = $1 AND target_account_id = $2), 0) AS notifying, \
         EXISTS (SELECT 1 FROM follows WHERE account_id = $2 AND target_account_id = $1) AS followed_by, \
         EXISTS (SELECT 1 FROM blocks WHERE account_id = $1 AND target_account_id = $2) AS blocking, \
         EXISTS (SELECT 1 FROM blocks WHERE account_id = $2 AND target_account_id = $1) AS blocked_by, \
         EXISTS (SELECT 1 FROM mutes WHERE account_id = $1 AND target_account_id = $2) AS muting, \
         COALESCE((SELECT hide_notifications FROM mutes WHERE account_id = $1 AND target_account_id = $2), 0) AS muting_notifications, \
         EXISTS (SELECT 1 FROM follow_requests WHERE account_id = $1 AND target_account_id = $2) AS requested, \
         EXISTS (SELECT 1 FROM follow_requests WHERE account_id = $2 AND target_account_id = $1) AS requested_by, \
         0 AS domain_blocking",
    )
    .bind(me)
    .bind(target)
    .fetch_one(&ctx.db)
    .await?;
    Ok(json!({
        "id": target.to_string(),
        "following": r.following,
        "showing_reblogs": r.showing_reblogs,
        "notifying": r.notifying,
        "languages": null,
        "followed_by": r.followed_by,
        "blocking": r.blocking,
        "blocked_by": r.blocked_by,
        "muting": r.muting,
        "muting_notifications": r.muting_notifications,
        "requested": r.requested,
        "requested_by": r.requested_by,
        "domain_blocking": r.domain_blocking,
        "endorsed": false,
        "note": "",
    }))
}
