//! Reports: an account (and some of its statuses) flagged to the moderators.

use scope_runtime::requires_scope;

use crate::Scope;
use crate::render::{self};
use crate::support::{ApiError, ApiResult, AsInt, Body, Ctx, ok, parse_id};

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
