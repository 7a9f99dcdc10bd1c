//! Timelines and favourites.

use scope_runtime::requires_scope;

use crate::Scope;

use crate::accounts::timeline_of;
use crate::render::{self, not_hidden, readable};
use crate::support::{ApiError, ApiResult, Arg, Ctx, Id};

/// View home timeline: statuses of the token's account and of the
/// accounts it follows, leaving out blocked and muted accounts.
#[requires_scope("read:statuses", token = user)]
pub(crate) async fn home(ctx: Ctx) -> ApiResult {
    ctx.me()?;
    timeline_of(
        &ctx,
        "SELECT $1 UNION SELECT target_account_id FROM follows WHERE account_id = $1",
        Vec::new(),
    )
    .await
}

/// View public timeline (`local`, `remote`, `only_media`): public
/// statuses of this server (it has no remote ones).
#[requires_scope("read:statuses", token = optional)]
pub(crate) async fn public(ctx: Ctx) -> ApiResult {
    let page = ctx.page()?;
    if ctx.query.flag("remote")?.unwrap_or(false) {
        return ctx.paged(&page, &[], Vec::new());
    }
    ctx.query.flag("local")?;
    let mut sql = format!(
        "SELECT s.id, s.id FROM statuses s WHERE s.visibility = 'public' AND s.reblog_of_id IS NULL AND {} AND {}",
        readable("s"),
        not_hidden("s")
    );
    if ctx.query.flag("only_media")?.unwrap_or(false) {
        sql.push_str(" AND EXISTS (SELECT 1 FROM media_attachments m WHERE m.status_id = s.id)");
    }
    let rows = ctx
        .page_rows(&sql, "s.id", &[Arg::Int(ctx.viewer)], &page)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let keys: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let items = render::statuses(&ctx, &ids).await?;
    ctx.paged(&page, &keys, items)
}

/// View direct timeline: direct statuses from or mentioning the token's
/// account.
///
/// Removed from current Mastodon (replaced by conversations); kept from
/// the documented matrix.
#[requires_scope("read:statuses", token = user)]
pub(crate) async fn direct(ctx: Ctx) -> ApiResult {
    ctx.me()?;
    let page = ctx.page()?;
    let sql = format!(
        "SELECT s.id, s.id FROM statuses s WHERE s.visibility = 'direct' \
         AND (s.account_id = $1 OR EXISTS (SELECT 1 FROM mentions m WHERE m.status_id = s.id AND m.account_id = $1)) AND {}",
        not_hidden("s")
    );
    let rows = ctx
        .page_rows(&sql, "s.id", &[Arg::Int(ctx.viewer)], &page)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let keys: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let items = render::statuses(&ctx, &ids).await?;
    ctx.paged(&page, &keys, items)
}

/// View list timeline: statuses of the list's members.
///
/// The documented matrix puts this route under `read:statuses`; the
/// current source (and current docs) require `read | read:lists`, which is
/// what this route enforces.
#[requires_scope("read:lists", token = user)]
pub(crate) async fn list(ctx: Ctx, Id(id): Id) -> ApiResult {
    let me = ctx.me()?;
    render::list(&ctx, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    timeline_of(
        &ctx,
        "SELECT account_id FROM list_accounts WHERE list_id = $2",
        vec![Arg::Int(Some(id))],
    )
    .await
}

/// View favourited statuses (paginated by favourite, newest first).
#[requires_scope("read:favourites", token = user)]
pub(crate) async fn favourites(ctx: Ctx) -> ApiResult {
    ctx.me()?;
    let page = ctx.page()?;
    let sql = format!(
        "SELECT f.id, f.status_id FROM favourites f JOIN statuses s ON s.id = f.status_id \
         WHERE f.account_id = $1 AND {}",
        readable("s")
    );
    let rows = ctx
        .page_rows(&sql, "f.id", &[Arg::Int(ctx.viewer)], &page)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let keys: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let items = render::statuses(&ctx, &ids).await?;
    ctx.paged(&page, &keys, items)
}
