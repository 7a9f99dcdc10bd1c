//! The pod as `pod-kit` runs it: hierarchy, table, schema, demo data, and
//! Funkwhale's `GET /api/v1/rate-limit/`.

use axum::extract::Request;
use axum::routing::get;
use axum::{Json, Router};
use oauth_server::config::Config;
use pod_kit::Backend;
use pod_kit::StateContext;
use scope_ratelimit::RateLimiter;
use scope_runtime::enforce::ErrorStyle;
use serde_json::{Value, json};
use sqlx::AnyPool;

use crate::{Api, AppState, Scope};

/// The Funkwhale pod, for [`pod_kit::main`].
#[derive(Debug, Clone, Copy)]
pub struct FunkwhalePod;

impl pod_kit::Pod for FunkwhalePod {
    type Scope = Scope;
    type State = AppState;
    type Api = Api;
    const NAME: &'static str = crate::NAME;
    const VERSION: &'static str = crate::VERSION;
    // Funkwhale answers auth failures in DRF's shape, close to RFC 6750's.
    const ERROR_STYLE: ErrorStyle = ErrorStyle::Rfc6750;

    fn migrator(backend: Backend) -> sqlx::migrate::Migrator {
        crate::migrator(backend)
    }

    // Funkwhale writes relative URLs (`listen_url`, pagination links): the
    // issuer is not needed.
    fn state(db: AnyPool, ctx: &StateContext) -> AppState {
        AppState::new(db).with_anonymous_access(ctx.anonymous.clone())
    }

    async fn seed_demo(db: &AnyPool, user_id: i64) -> Result<(), sqlx::Error> {
        crate::seed_demo(db, user_id).await
    }

    fn oauth_config(config: Config) -> Config {
        // Instance scopes need staff permissions in Funkwhale.
        config.admin_scope_prefixes(["read:instance:", "write:instance:"])
    }

    fn extra_routes(router: Router) -> Router {
        router.route("/api/v1/rate-limit/", get(rate_limit))
    }
}

/// Funkwhale's `GET /api/v1/rate-limit/`: whether limiting is on, and the
/// caller's buckets (counted per address: this route reads no token).
async fn rate_limit(request: Request) -> Json<Value> {
    let Some(limiter) = request.extensions().get::<RateLimiter>() else {
        return Json(json!({ "enabled": false, "ident": null, "scopes": [] }));
    };
    // The key the limiter counts anonymous requests under (the client's
    // address, behind trusted proxies too; IPv6 per /64): the one function.
    let (_, ip) = scope_ratelimit::funkwhale::ident::<crate::Scope>(None, &request);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Over Redis the buckets are read there; if it cannot be reached the
    // limiter lets requests through, and there is nothing to show.
    let buckets = limiter.status(&ip, now).await.unwrap_or_default();
    let scopes: Vec<Value> = buckets
        .into_iter()
        .filter(|d| d.bucket.starts_with("anonymous-"))
        .map(|d| {
            let duration = d.rate.duration.as_secs();
            json!({
                "id": d.bucket,
                "rate": format!("{}/{}", d.rate.limit, period(duration)),
                "limit": d.rate.limit,
                "duration": duration,
                "remaining": d.remaining,
                "available": if d.allowed { Value::Null } else { json!(now + d.reset_seconds) },
                "available_seconds": if d.allowed { Value::Null } else { json!(d.reset_seconds) },
                "reset": if d.reset_seconds == 0 { Value::Null } else { json!(now + d.reset_seconds) },
                "reset_seconds": if d.reset_seconds == 0 { Value::Null } else { json!(d.reset_seconds) },
            })
        })
        .collect();
    Json(json!({
        "enabled": true,
        "ident": { "type": "anonymous", "id": ip },
        "scopes": scopes,
    }))
}

fn period(seconds: u64) -> String {
    match seconds {
        1 => "second".into(),
        60 => "minute".into(),
        3600 => "hour".into(),
        86_400 => "day".into(),
        n => format!("{n}s"),
    }
}
