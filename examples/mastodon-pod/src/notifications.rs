//! Notifications: who is told of what ([`notify`]), and the viewer's
//! notifications.

use scope_runtime::requires_scope;

use crate::Scope;
use crate::accounts::empty;
use crate::render::{self};
use crate::support::{ApiError, ApiResult, Arg, Ctx, Id, Params, ok, parse_id};

/// Creates a notification for `recipient` unless it is the actor's own
/// action or the recipient blocks the actor or mutes their notifications.
pub(crate) async fn notify(
    ctx: &Ctx,
    recipient: i64,
    from: i64,
    kind: &str,
    status_id: Option<i64>,
) -> Result<(), ApiError> {
    if recipient == from {
        return Ok(());
    }
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO notifications (account_id, from_account_id, type, status_id) \
         SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM blocks WHERE account_id = $1 AND target_account_id = $2) \
         AND NOT EXISTS (SELECT 1 FROM mutes WHERE account_id = $1 AND target_account_id = $2 AND hide_notifications = 1) \
         RETURNING id",
    )
    .bind(recipient)
    .bind(from)
    .bind(kind)
    .bind(status_id)
    .fetch_optional(&ctx.db)
    .await?;
    // The recipient's streams: the notification as the REST API renders
    // it for them.
    if let Some(id) = id
        && let Some(v) = render::notification(&ctx.seen_by(Some(recipient)), recipient, id).await?
    {
        ctx.hub.publish(
            &format!("timeline:{recipient}:notifications"),
            crate::streaming::StreamEvent::new("notification", v.to_string(), Some(from)),
        );
    }
    Ok(())
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
