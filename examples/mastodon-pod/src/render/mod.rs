//! Mastodon's entities from the database rows ([`account`], [`status`],
//! [`media`], the status [`text`]; notifications, lists, filters and
//! reports here), and the SQL conditions of who may see what
//! ([`visibility`]).

use serde_json::{Value, json};

use crate::support::{ApiError, Ctx, Flag};

mod account;
mod media;
mod status;
mod text;
mod visibility;

pub(crate) use account::{
    account, account_by_name, account_exists, account_or_404, accounts, credential_account,
    relationship, require_account,
};
pub(crate) use media::{media, media_json};
pub(crate) use status::{status, status_with_source, statuses, visible_status};
pub(crate) use text::render_text;
pub(crate) use visibility::{not_hidden, not_hidden_to, readable, readable_to};

/// The Notification entity, or `None` if it is not the viewer's.
pub(crate) async fn notification(ctx: &Ctx, me: i64, id: i64) -> Result<Option<Value>, ApiError> {
    let Some((kind, from, status_id, created_at)) =
        sqlx::query_as::<_, (String, i64, Option<i64>, String)>(
            "SELECT type, from_account_id, status_id, created_at FROM notifications \
             WHERE id = $1 AND account_id = $2",
        )
        .bind(id)
        .bind(me)
        .fetch_optional(&ctx.db)
        .await?
    else {
        return Ok(None);
    };
    let Some(account) = account(ctx, from).await? else {
        return Ok(None);
    };
    let mut v = json!({
        "id": id.to_string(),
        "type": kind,
        "created_at": created_at,
        "group_key": format!("ungrouped-{id}"),
        "account": account,
    });
    if let Some(sid) = status_id {
        v["status"] = status(ctx, sid).await?.unwrap_or(Value::Null);
    }
    Ok(Some(v))
}

/// The List entity, if it is `owner`'s.
pub(crate) async fn list(ctx: &Ctx, owner: i64, id: i64) -> Result<Option<Value>, ApiError> {
    Ok(sqlx::query_as::<_, (i64, String, String, Flag)>(
        "SELECT id, title, replies_policy, exclusive FROM lists WHERE id = $1 AND account_id = $2",
    )
    .bind(id)
    .bind(owner)
    .fetch_optional(&ctx.db)
    .await?
    .map(|(id, title, policy, exclusive)| {
        json!({
            "id": id.to_string(),
            "title": title,
            "replies_policy": policy,
            "exclusive": exclusive,
        })
    }))
}

/// The (v1) Filter entity, if it is `owner`'s.
pub(crate) async fn filter(ctx: &Ctx, owner: i64, id: i64) -> Result<Option<Value>, ApiError> {
    Ok(
        sqlx::query_as::<_, (i64, String, String, Flag, Flag, Option<String>)>(
            "SELECT id, phrase, context, irreversible, whole_word, expires_at FROM filters \
         WHERE id = $1 AND account_id = $2",
        )
        .bind(id)
        .bind(owner)
        .fetch_optional(&ctx.db)
        .await?
        .map(
            |(id, phrase, context, irreversible, whole_word, expires_at)| {
                json!({
                    "id": id.to_string(),
                    "phrase": phrase,
                    "context": context.split(',').filter(|c| !c.is_empty()).collect::<Vec<_>>(),
                    "whole_word": whole_word,
                    "expires_at": expires_at,
                    "irreversible": irreversible,
                })
            },
        ),
    )
}

/// The Report entity, if it is `owner`'s.
pub(crate) async fn report(ctx: &Ctx, owner: i64, id: i64) -> Result<Option<Value>, ApiError> {
    let Some((target, comment, forward, category, created_at)) =
        sqlx::query_as::<_, (i64, String, Flag, String, String)>(
            "SELECT target_account_id, comment, forward, category, created_at FROM reports \
             WHERE id = $1 AND account_id = $2",
        )
        .bind(id)
        .bind(owner)
        .fetch_optional(&ctx.db)
        .await?
    else {
        return Ok(None);
    };
    let status_ids: Vec<i64> = sqlx::query_scalar(
        "SELECT status_id FROM report_statuses WHERE report_id = $1 ORDER BY status_id",
    )
    .bind(id)
    .fetch_all(&ctx.db)
    .await?;
    Ok(Some(json!({
        "id": id.to_string(),
        "action_taken": false,
        "action_taken_at": null,
        "category": category,
        "comment": comment,
        "forward": forward,
        "created_at": created_at,
        "status_ids": status_ids.iter().map(i64::to_string).collect::<Vec<_>>(),
        "rule_ids": null,
        "target_account": account(ctx, target).await?,
    })))
}
