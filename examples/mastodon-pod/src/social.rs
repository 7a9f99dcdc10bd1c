//! Follow requests, blocks, mutes and domain blocks.

use scope_runtime::requires_scope;

use crate::Scope;
use serde_json::Value;

use crate::accounts::empty;
use crate::notifications::notify;
use crate::render;
use crate::support::{ApiError, ApiResult, Arg, Body, Ctx, Id, ok};

async fn account_page(ctx: &Ctx, sql: &str, key: &str) -> ApiResult {
    let me = ctx.me()?;
    let page = ctx.page_with(40, 80)?;
    let rows = ctx
        .page_rows(sql, key, &[Arg::Int(Some(me))], &page)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let keys: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let items = render::accounts(ctx, &ids).await?;
    ctx.paged(&page, &keys, items)
}

/// View pending follow requests (the accounts asking to follow the token's
/// account).
#[requires_scope("read:follows", token = user)]
pub(crate) async fn follow_requests(ctx: Ctx) -> ApiResult {
    account_page(
        &ctx,
        "SELECT r.id, r.account_id FROM follow_requests r WHERE r.target_account_id = $1",
        "r.id",
    )
    .await
}

/// Accept a follow request from the account `{id}`.
#[requires_scope("write:follows", token = user)]
pub(crate) async fn authorize(ctx: Ctx, Id(from): Id) -> ApiResult {
    let me = ctx.me()?;
    let mut tx = ctx.db.begin().await?;
    let moved = sqlx::query(
        "INSERT INTO follows (account_id, target_account_id, show_reblogs, notify) \
         SELECT account_id, target_account_id, show_reblogs, notify FROM follow_requests \
         WHERE account_id = $1 AND target_account_id = $2 ON CONFLICT DO NOTHING",
    )
    .bind(from)
    .bind(me)
    .execute(&mut *tx)
    .await?;
    let deleted =
        sqlx::query("DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2")
            .bind(from)
            .bind(me)
            .execute(&mut *tx)
            .await?;
    if deleted.rows_affected() == 0 {
        return Err(ApiError::not_found());
    }
    tx.commit().await?;
    if moved.rows_affected() > 0 {
        notify(&ctx, me, from, "follow", None).await?;
    }
    ok(render::relationship(&ctx, me, from).await?)
}

/// Reject a follow request from the account `{id}`.
#[requires_scope("write:follows", token = user)]
pub(crate) async fn reject(ctx: Ctx, Id(from): Id) -> ApiResult {
    let me = ctx.me()?;
    let deleted =
        sqlx::query("DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2")
            .bind(from)
            .bind(me)
            .execute(&ctx.db)
            .await?;
    if deleted.rows_affected() == 0 {
        return Err(ApiError::not_found());
    }
    ok(render::relationship(&ctx, me, from).await?)
}

/// View blocked users.
#[requires_scope("read:blocks", token = user)]
pub(crate) async fn blocks(ctx: Ctx) -> ApiResult {
    account_page(
        &ctx,
        "SELECT b.id, b.target_account_id FROM blocks b WHERE b.account_id = $1",
        "b.id",
    )
    .await
}

/// View muted accounts.
#[requires_scope("read:mutes", token = user)]
pub(crate) async fn mutes(ctx: Ctx) -> ApiResult {
    account_page(
        &ctx,
        "SELECT m.id, m.target_account_id FROM mutes m WHERE m.account_id = $1",
        "m.id",
    )
    .await
}

/// Get domain blocks: the blocked domains, as strings.
#[requires_scope("read:blocks", token = user)]
pub(crate) async fn domain_blocks(ctx: Ctx) -> ApiResult {
    let me = ctx.me()?;
    let page = ctx.page_with(100, 200)?;
    let rows = ctx
        .page_rows(
            "SELECT d.id, d.id FROM domain_blocks d WHERE d.account_id = $1",
            "d.id",
            &[Arg::Int(Some(me))],
            &page,
        )
        .await?;
    let keys: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let mut items = Vec::new();
    for (_, id) in &rows {
        let d: String = sqlx::query_scalar("SELECT domain FROM domain_blocks WHERE id = $1")
            .bind(id)
            .fetch_one(&ctx.db)
            .await?;
        items.push(Value::String(d));
    }
    ctx.paged(&page, &keys, items)
}

fn domain_param(p: &crate::support::Params) -> Result<String, ApiError> {
    let domain = p
        .text("domain")?
        .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
        .filter(|d| !d.is_empty())
        .ok_or_else(|| ApiError::invalid("Domain can't be blank"))?;
    let valid = domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        });
    if valid {
        Ok(domain)
    } else {
        Err(ApiError::invalid("Domain is not a valid domain name"))
    }
}

/// Block a domain (`domain`). All accounts of this pod are local, so the
/// block is recorded and listed but hides nothing.
#[requires_scope("write:blocks", token = user)]
pub(crate) async fn block_domain(ctx: Ctx, Body(p): Body) -> ApiResult {
    let me = ctx.me()?;
    let domain = domain_param(&p)?;
    sqlx::query(
        "INSERT INTO domain_blocks (account_id, domain) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(me)
    .bind(domain)
    .execute(&ctx.db)
    .await?;
    empty()
}

/// Unblock a domain (`domain`).
#[requires_scope("write:blocks", token = user)]
pub(crate) async fn unblock_domain(ctx: Ctx, Body(p): Body) -> ApiResult {
    let me = ctx.me()?;
    let domain = domain_param(&p)?;
    sqlx::query("DELETE FROM domain_blocks WHERE account_id = $1 AND domain = $2")
        .bind(me)
        .bind(domain)
        .execute(&ctx.db)
        .await?;
    empty()
}
