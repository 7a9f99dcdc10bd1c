//! Filters (v1): phrases hidden from the viewer's timelines.

use scope_runtime::requires_scope;
use serde_json::Value;

use crate::Scope;
use crate::accounts::empty;
use crate::render::{self};
use crate::support::{ApiError, ApiResult, AsInt, Body, Ctx, Id, Params, in_seconds, ok};

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
