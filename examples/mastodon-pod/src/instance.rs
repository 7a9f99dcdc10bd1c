//! The instance: what the server says of itself (v1 and v2).

use scope_runtime::requires_scope;
use serde_json::{Value, json};

use crate::support::{ApiResult, Ctx, ok};

fn version() -> String {
    format!("4.3.0 (compatible; {} {})", crate::NAME, crate::VERSION)
}

fn statuses_config() -> Value {
    json!({
        "max_characters": crate::statuses::MAX_CHARS,
        "max_media_attachments": crate::statuses::MAX_MEDIA,
        "characters_reserved_per_url": 23,
    })
}

fn media_config() -> Value {
    json!({
        "supported_mime_types": [
            "image/jpeg", "image/png", "image/gif", "image/webp",
            "video/mp4", "video/webm", "video/quicktime",
            "audio/mpeg", "audio/ogg", "audio/wave", "audio/flac",
        ],
        "image_size_limit": 16_777_216,
        "image_matrix_limit": 33_177_600,
        "video_size_limit": 16_777_216,
        "video_frame_rate_limit": 60,
        "video_matrix_limit": 8_294_400,
        "description_limit": 1500,
    })
}

fn polls_config() -> Value {
    json!({
        "max_options": 0,
        "max_characters_per_option": 0,
        "min_expiration": 0,
        "max_expiration": 0,
    })
}

/// View server information (v1).
#[requires_scope(public)]
pub(crate) async fn instance_v1(ctx: Ctx) -> ApiResult {
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&ctx.db)
        .await?;
    let statuses: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM statuses WHERE reblog_of_id IS NULL")
            .fetch_one(&ctx.db)
            .await?;
    ok(json!({
        "uri": ctx.host,
        "title": crate::NAME,
        "short_description": "A Mastodon-compatible example pod: every route declares its OAuth scopes.",
        "description": "A Mastodon-compatible example pod: every route declares its OAuth scopes.",
        "email": "",
        "version": version(),
        "urls": { "streaming_api": ctx.streaming_url() },
        "stats": { "user_count": users, "status_count": statuses, "domain_count": 0 },
        "thumbnail": null,
        "languages": ["en"],
        "registrations": false,
        "approval_required": false,
        "invites_enabled": false,
        "configuration": {
            "accounts": { "max_featured_tags": 0 },
            "statuses": statuses_config(),
            "media_attachments": media_config(),
            "polls": polls_config(),
        },
        "contact_account": null,
        "rules": [],
    }))
}

/// View server information (v2).
#[requires_scope(public)]
pub(crate) async fn instance_v2(ctx: Ctx) -> ApiResult {
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&ctx.db)
        .await?;
    ok(json!({
        "domain": ctx.host,
        "title": crate::NAME,
        "version": version(),
        "source_url": "https://example.invalid/scope-matrix",
        "description": "A Mastodon-compatible example pod: every route declares its OAuth scopes.",
        "usage": { "users": { "active_month": users } },
        "thumbnail": { "url": ctx.url("/avatars/original/missing.png") },
        "languages": ["en"],
        "configuration": {
            "urls": { "streaming": ctx.streaming_url() },
            "accounts": { "max_featured_tags": 0, "max_pinned_statuses": 5 },
            "statuses": statuses_config(),
            "media_attachments": media_config(),
            "polls": polls_config(),
            "translation": { "enabled": false },
        },
        "registrations": { "enabled": false, "approval_required": false, "message": null },
        "api_versions": { "mastodon": 2 },
        "contact": { "email": "", "account": null },
        "rules": [],
    }))
}
