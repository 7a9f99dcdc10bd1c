//! `/api/v1/lists`: lists of followed accounts.

use scope_runtime::requires_scope;

use crate::Scope;
use serde_json::Value;

use crate::accounts::empty;
use crate::render;
use crate::support::{ApiError, ApiResult, Arg, AsInt, Body, Ctx, Flag, Id, Params, ok};

const MAX_TITLE: usize = 256;

fn title(p: &Params, required: bool) -> Result<Option<String>, ApiError> {
    let t = p.text("title")?.map(|t| t.trim().to_owned());
    match t {
        None if required => Err(ApiError::invalid("Title can't be blank")),
        Some(t) if t.is_empty() => Err(ApiError::invalid("Title can't be blank")),
        Some(t) if t.chars().count() > MAX_TITLE => Err(ApiError::invalid("Title is too long")),
        t => Ok(t),
    }
}

fn replies_policy(p: &Params) -> Result<Option<String>, ApiError> {
    match p.text("replies_policy")? {
        Some(r) if !matches!(r.as_str(), "followed" | "list" | "none") => Err(ApiError::invalid(
            "Replies policy is not included in the list",
        )),
        r => Ok(r),
    }
}

/// View your lists.
#[requires_scope("read:lists", token = user)]
pub(crate) async fn index(ctx: Ctx) -> ApiResult {
    let me = ctx.me()?;
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM lists WHERE account_id = $1 ORDER BY id")
            .bind(me)
            .fetch_all(&ctx.db)
            .await?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(v) = render::list(&ctx, me, id).await? {
            out.push(v);
        }
    }
    ok(Value::Array(out))
}

/// Show a single list.
#[requires_scope("read:lists", token = user)]
pub(crate) async fn show(ctx: Ctx, Id(id): Id) -> ApiResult {
    let me = ctx.me()?;
    ok(render::list(&ctx, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?)
}

/// Create a list (`title`, `replies_policy`, `exclusive`).
#[requires_scope("write:lists", token = user)]
pub(crate) async fn create(ctx: Ctx, Body(p): Body) -> ApiResult {
    let me = ctx.me()?;
    let title = title(&p, true)?;
    let policy = replies_policy(&p)?.unwrap_or_else(|| "list".into());
    let exclusive = p.flag("exclusive")?.unwrap_or(false);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO lists (account_id, title, replies_policy, exclusive) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(me)
    .bind(title)
    .bind(policy)
    .bind(exclusive.int())
    .fetch_one(&ctx.db)
    .await?;
    ok(render::list(&ctx, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?)
}

/// Update a list (`title`, `replies_policy`, `exclusive`).
#[requires_scope("write:lists", token = user)]
pub(crate) async fn update(ctx: Ctx, Id(id): Id, Body(p): Body) -> ApiResult {
    let me = ctx.me()?;
    let title = title(&p, false)?;
    let policy = replies_policy(&p)?;
    let exclusive = p.flag("exclusive")?;
    let done = sqlx::query(
        "UPDATE lists SET title = COALESCE($3, title), replies_policy = COALESCE($4, replies_policy), \
         exclusive = COALESCE($5, exclusive) WHERE id = $1 AND account_id = $2",
    )
    .bind(id)
    .bind(me)
    .bind(title)
    .bind(policy)
    .bind(exclusive.int())
    .execute(&ctx.db)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found());
    }
    ok(render::list(&ctx, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?)
}

/// Delete a list.
#[requires_scope("write:lists", token = user)]
pub(crate) async fn delete(ctx: Ctx, Id(id): Id) -> ApiResult {
    let me = ctx.me()?;
    let done = sqlx::query("DELETE FROM lists WHERE id = $1 AND account_id = $2")
        .bind(id)
        .bind(me)
        .execute(&ctx.db)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found());
    }
    empty()
}

/// View accounts in a list (`limit=0` for all).
#[requires_scope("read:lists", token = user)]
pub(crate) async fn accounts(ctx: Ctx, Id(id): Id) -> ApiResult {
    let me = ctx.me()?;
    render::list(&ctx, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let all = ctx.query.int("limit").ok().flatten() == Some(0);
    let mut page = ctx.page_with(40, 80)?;
    if all {
        page.limit = i64::MAX;
    }
    let rows = ctx
        .page_rows(
            "SELECT la.id, la.account_id FROM list_accounts la WHERE la.list_id = $1",
            "la.id",
            &[Arg::Int(Some(id))],
            &page,
        )
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let keys: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let items = render::accounts(&ctx, &ids).await?;
    ctx.paged(&page, &keys, items)
}

/// Add accounts to a list (`account_ids[]`): only followed accounts.
#[requires_scope("write:lists", token = user)]
pub(crate) async fn add_accounts(ctx: Ctx, Id(id): Id, Body(p): Body) -> ApiResult {
    let me = ctx.me()?;
    render::list(&ctx, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let ids = p.ids("account_ids")?;
    if ids.is_empty() {
        return Err(ApiError::invalid("Account ids can't be blank"));
    }
    for account in &ids {
        render::require_account(&ctx, *account).await?;
        let follows: Flag = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM follows WHERE account_id = $1 AND target_account_id = $2)",
        )
        .bind(me)
        .bind(account)
        .fetch_one(&ctx.db)
        .await?;
        if !follows.0 && *account != me {
            return Err(ApiError::invalid("Account has not been followed"));
        }
    }
    let mut tx = ctx.db.begin().await?;
    for account in ids {
        sqlx::query("INSERT INTO list_accounts (list_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(account)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    empty()
}

/// Remove accounts from a list (`account_ids[]`).
#[requires_scope("write:lists", token = user)]
pub(crate) async fn remove_accounts(ctx: Ctx, Id(id): Id, Body(p): Body) -> ApiResult {
    let me = ctx.me()?;
    render::list(&ctx, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    for account in p.ids("account_ids")? {
        sqlx::query("DELETE FROM list_accounts WHERE list_id = $1 AND account_id = $2")
            .bind(id)
            .bind(account)
            .execute(&ctx.db)
            .await?;
    }
    empty()
}
