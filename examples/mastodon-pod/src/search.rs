//! Search: accounts, statuses and hashtags (v1 and v2).

use scope_runtime::requires_scope;
use serde_json::{Value, json};

use crate::Scope;
use crate::accounts::search_ids;
use crate::render::{self, readable};
use crate::support::{ApiError, ApiResult, Ctx, ok, parse_id};

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
