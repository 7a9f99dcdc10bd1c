//! The Mastodon example pod: the Mastodon client API over SQLite or
//! PostgreSQL, every
//! handler declaring its OAuth scopes with `#[requires_scope]`, the route
//! table ([`Api`]) enforced and documented from those declarations.
//!
//! Accounts are the bundled OAuth server's users; the pod's own tables
//! (profiles, statuses, relationships, lists, filters, notifications,
//! reports, media) live in the same database, from migration 100 on.
//!
//! Scopes follow the current Mastodon source where it and the documented
//! matrix disagree; each such handler says so in its doc comment.

mod accounts;
mod filters;
mod instance;
mod lists;
mod media;
mod notifications;
mod pod;
mod render;
mod reports;
mod search;
mod social;
mod statuses;
mod streaming;
mod support;
mod timelines;

pub use pod::MastodonPod;
use std::sync::Arc;

use pod_kit::Backend;
use scope_runtime::scope_routes;
use sqlx::AnyPool;

scope_hierarchies::mastodon_scopes!(
    /// The scopes of this pod.
    pub Scope
);

/// The crate name.
pub const NAME: &str = env!("CARGO_PKG_NAME");
/// The crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The handlers' state.
#[derive(Clone, Debug)]
pub struct AppState {
    db: AnyPool,
    /// The issuer without a trailing slash: the start of every URL the
    /// pod writes.
    base: Arc<str>,
    /// The issuer's host (and port): the pod's domain in `acct`s and
    /// `/api/v1/instance`.
    host: Arc<str>,
    /// The streaming API's fan-out of events.
    hub: streaming::Hub,
}

impl AppState {
    /// The state over the pod's database (migrated with [`migrator`]) for a
    /// pod served at `issuer` (`https://pod.example`).
    ///
    /// Every absolute URL in a response is built from `issuer`, never from
    /// the request's `Host`, `X-Forwarded-Host` or `X-Forwarded-Proto`:
    /// any client can send those, and a pod echoing them would hand out
    /// links to a host of the client's choosing (cache poisoning, links in
    /// stored content). There is therefore no "trust the proxy" setting: a
    /// pod behind a proxy is configured with its public URL (`ISSUER`).
    pub fn new(db: AnyPool, issuer: &str) -> Self {
        let base = issuer.trim_end_matches('/');
        let authority = base.split_once("://").map_or(base, |(_, rest)| rest);
        let host = authority.split('/').next().unwrap_or(authority);
        Self {
            db,
            base: base.into(),
            host: host.into(),
            hub: streaming::Hub::default(),
        }
    }

    /// The database.
    pub fn db(&self) -> &AnyPool {
        &self.db
    }
}

/// The pod's migrations for `backend` (numbered from 100, next to the
/// OAuth server's: see [`pod_kit::pod_migrator`]).
///
/// One schema in two dialects, `migrations/sqlite/` and
/// `migrations/postgres/`: the same tables and columns; on PostgreSQL ids
/// are identity columns, integers `BIGINT`, flags `BIGINT` 0/1 (the
/// handlers bind and read integers on both engines), media `BYTEA`, times
/// ISO 8601 text (column defaults write the same format).
pub fn migrator(backend: Backend) -> sqlx::migrate::Migrator {
    pod_kit::pod_migrator(
        backend,
        sqlx::migrate!("./migrations/sqlite"),
        sqlx::migrate!("./migrations/postgres"),
    )
}

/// The username of the demo account `seed_demo` creates next to the user
/// (it has no password: nobody can log in as it).
pub const DEMO_FRIEND: &str = "demo_friend";

/// Idempotent demo data owned by `user_id`: statuses (one pinned, one
/// favourited), a friend account followed both ways with a status
/// mentioning the user (so notifications exist), a list with the friend, a
/// filter and a domain block. A second run does nothing.
///
/// # Errors
/// Database failures.
pub async fn seed_demo(db: &AnyPool, user_id: i64) -> Result<(), sqlx::Error> {
    let fresh = sqlx::query("INSERT INTO demo_seeds (user_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(user_id)
        .execute(db)
        .await?;
    if fresh.rows_affected() == 0 {
        return Ok(());
    }
    match seed(db, user_id).await {
        Ok(()) => Ok(()),
        Err(e) => {
            // Let the next start try again.
            sqlx::query("DELETE FROM demo_seeds WHERE user_id = $1")
                .bind(user_id)
                .execute(db)
                .await?;
            Err(e)
        }
    }
}

async fn seed(db: &AnyPool, user_id: i64) -> Result<(), sqlx::Error> {
    let to_sqlx = |e: support::ApiError| sqlx::Error::Protocol(format!("{e:?}"));
    let username: String = sqlx::query_scalar("SELECT username FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(db)
        .await?;
    sqlx::query("INSERT INTO users (username, password_hash, admin) VALUES ($1, '!', FALSE) ON CONFLICT DO NOTHING")
        .bind(DEMO_FRIEND)
        .execute(db)
        .await?;
    let friend: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(DEMO_FRIEND)
        .fetch_one(db)
        .await?;
    sqlx::query(
        "UPDATE profiles SET display_name = CASE WHEN display_name = '' THEN $1 ELSE display_name END WHERE user_id = $2",
    )
    .bind("Demo Friend")
    .bind(friend)
    .execute(db)
    .await?;
    let me = support::Ctx::internal(db.clone(), Some(user_id));
    let them = support::Ctx::internal(db.clone(), Some(friend));
    let first = statuses::insert_status(
        &me,
        user_id,
        statuses::NewStatus {
            text: "Hello from mastodon-pod! Every route of this server declares its OAuth scopes.",
            spoiler_text: "",
            sensitive: false,
            visibility: "public",
            language: Some("en"),
            in_reply_to: None,
            media_ids: &[],
        },
    )
    .await
    .map_err(to_sqlx)?;
    statuses::insert_status(
        &me,
        user_id,
        statuses::NewStatus {
            text: "A second demo status, unlisted.",
            spoiler_text: "",
            sensitive: false,
            visibility: "unlisted",
            language: Some("en"),
            in_reply_to: None,
            media_ids: &[],
        },
    )
    .await
    .map_err(to_sqlx)?;
    if friend != user_id {
        for (a, b) in [(user_id, friend), (friend, user_id)] {
            let done = sqlx::query(
                "INSERT INTO follows (account_id, target_account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(a)
            .bind(b)
            .execute(db)
            .await?;
            if done.rows_affected() > 0 {
                notifications::notify(&me, b, a, "follow", None)
                    .await
                    .map_err(to_sqlx)?;
            }
        }
        let reply = statuses::insert_status(
            &them,
            friend,
            statuses::NewStatus {
                text: &format!("@{username} welcome to the demo!"),
                spoiler_text: "",
                sensitive: false,
                visibility: "public",
                language: Some("en"),
                in_reply_to: Some((first, user_id)),
                media_ids: &[],
            },
        )
        .await
        .map_err(to_sqlx)?;
        for (who, status, author) in [(user_id, reply, friend), (friend, first, user_id)] {
            sqlx::query("INSERT INTO favourites (account_id, status_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(who)
                .bind(status)
                .execute(db)
                .await?;
            notifications::notify(&me, author, who, "favourite", Some(status))
                .await
                .map_err(to_sqlx)?;
        }
    }
    sqlx::query("INSERT INTO pins (account_id, status_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(user_id)
        .bind(first)
        .execute(db)
        .await?;
    let list: i64 = sqlx::query_scalar(
        "INSERT INTO lists (account_id, title) VALUES ($1, 'Demo list') RETURNING id",
    )
    .bind(user_id)
    .fetch_one(db)
    .await?;
    if friend != user_id {
        sqlx::query("INSERT INTO list_accounts (list_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(list)
            .bind(friend)
            .execute(db)
            .await?;
    }
    sqlx::query(
        "INSERT INTO filters (account_id, phrase, context, irreversible, whole_word) \
         VALUES ($1, 'spoiler', 'home,public', 0, 1)",
    )
    .bind(user_id)
    .execute(db)
    .await?;
    sqlx::query(
        "INSERT INTO domain_blocks (account_id, domain) VALUES ($1, 'spam.example') ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(())
}

scope_routes! {
    /// The Mastodon API of this pod.
    pub Api<Scope, AppState> {
        // Accounts
        GET "/api/v1/accounts/verify_credentials" => accounts::verify_credentials,
        PUT "/api/v1/accounts/verify_credentials" => accounts::update_credentials,
        PATCH | PUT "/api/v1/accounts/update_credentials" => accounts::update_credentials,
        GET "/api/v1/accounts/relationships" => accounts::relationships,
        GET "/api/v1/accounts/search" => accounts::search,
        GET "/api/v1/accounts/lookup" => accounts::lookup,
        GET "/api/v1/accounts/{id}" => accounts::show,
        GET "/api/v1/accounts/{id}/statuses" => accounts::statuses,
        GET "/api/v1/accounts/{id}/followers" => accounts::followers,
        GET "/api/v1/accounts/{id}/following" => accounts::following,
        GET "/api/v1/accounts/{id}/lists" => accounts::lists,
        POST "/api/v1/accounts/{id}/follow" => accounts::follow,
        POST "/api/v1/accounts/{id}/unfollow" => accounts::unfollow,
        POST "/api/v1/accounts/{id}/block" => accounts::block,
        POST "/api/v1/accounts/{id}/unblock" => accounts::unblock,
        POST "/api/v1/accounts/{id}/mute" => accounts::mute,
        POST "/api/v1/accounts/{id}/unmute" => accounts::unmute,
        POST "/api/v1/follows" => accounts::remote_follow,
        // Statuses
        POST "/api/v1/statuses" => statuses::create,
        GET "/api/v1/statuses/{id}" => statuses::show,
        DELETE "/api/v1/statuses/{id}" => statuses::delete,
        GET "/api/v1/statuses/{id}/context" => statuses::context,
        GET "/api/v1/statuses/{id}/card" => statuses::card,
        POST "/api/v1/statuses/{id}/reblog" => statuses::reblog,
        POST "/api/v1/statuses/{id}/unreblog" => statuses::unreblog,
        POST "/api/v1/statuses/{id}/favourite" => statuses::favourite,
        POST "/api/v1/statuses/{id}/unfavourite" => statuses::unfavourite,
        POST "/api/v1/statuses/{id}/mute" => statuses::mute,
        POST "/api/v1/statuses/{id}/unmute" => statuses::unmute,
        POST "/api/v1/statuses/{id}/pin" => statuses::pin,
        POST "/api/v1/statuses/{id}/unpin" => statuses::unpin,
        GET "/api/v1/statuses/{id}/favourited_by" => statuses::favourited_by,
        GET "/api/v1/statuses/{id}/reblogged_by" => statuses::reblogged_by,
        // Timelines
        GET "/api/v1/timelines/home" => timelines::home,
        GET "/api/v1/timelines/public" => timelines::public,
        GET "/api/v1/timelines/direct" => timelines::direct,
        GET "/api/v1/timelines/list/{id}" => timelines::list,
        GET "/api/v1/favourites" => timelines::favourites,
        // Relationships
        GET "/api/v1/follow_requests" => social::follow_requests,
        POST "/api/v1/follow_requests/{id}/authorize" => social::authorize,
        POST "/api/v1/follow_requests/{id}/reject" => social::reject,
        GET "/api/v1/blocks" => social::blocks,
        GET "/api/v1/mutes" => social::mutes,
        GET "/api/v1/domain_blocks" => social::domain_blocks,
        POST "/api/v1/domain_blocks" => social::block_domain,
        DELETE "/api/v1/domain_blocks" => social::unblock_domain,
        // Lists
        GET "/api/v1/lists" => lists::index,
        POST "/api/v1/lists" => lists::create,
        GET "/api/v1/lists/{id}" => lists::show,
        PUT | PATCH "/api/v1/lists/{id}" => lists::update,
        DELETE "/api/v1/lists/{id}" => lists::delete,
        GET "/api/v1/lists/{id}/accounts" => lists::accounts,
        POST "/api/v1/lists/{id}/accounts" => lists::add_accounts,
        DELETE "/api/v1/lists/{id}/accounts" => lists::remove_accounts,
        // Filters (v1)
        GET "/api/v1/filters" => filters::filters,
        POST "/api/v1/filters" => filters::create_filter,
        GET "/api/v1/filters/{id}" => filters::filter,
        PUT | PATCH "/api/v1/filters/{id}" => filters::update_filter,
        DELETE "/api/v1/filters/{id}" => filters::delete_filter,
        // Notifications
        GET "/api/v1/notifications" => notifications::notifications,
        POST "/api/v1/notifications/clear" => notifications::clear_notifications,
        GET "/api/v1/notifications/{id}" => notifications::notification,
        POST "/api/v1/notifications/{id}/dismiss" => notifications::dismiss_notification,
        // Reports
        GET "/api/v1/reports" => reports::legacy::reports,
        POST "/api/v1/reports" => reports::create_report,
        // Media
        POST "/api/v1/media" => media::upload_media,
        POST "/api/v2/media" => media::upload_media,
        GET "/api/v1/media/{id}" => media::show_media,
        PUT | PATCH "/api/v1/media/{id}" => media::update_media,
        GET "/system/media_attachments/{id}" => statuses::media_file,
        // Search
        GET "/api/v1/search" => search::search_v1,
        GET "/api/v2/search" => search::search_v2,
        // Instance
        GET "/api/v1/instance" => instance::instance_v1,
        GET "/api/v2/instance" => instance::instance_v2,
        // Streaming
        GET "/api/v1/streaming/health" => streaming::health,
        GET "/api/v1/streaming" => streaming::websocket,
        GET "/api/v1/streaming/user" => streaming::user,
        GET "/api/v1/streaming/user/notification" => streaming::user_notification,
        GET "/api/v1/streaming/public" => streaming::public,
        GET "/api/v1/streaming/public/local" => streaming::public_local,
        GET "/api/v1/streaming/public/remote" => streaming::public_remote,
        GET "/api/v1/streaming/hashtag" => streaming::hashtag,
        GET "/api/v1/streaming/hashtag/local" => streaming::hashtag_local,
        GET "/api/v1/streaming/list" => streaming::list,
        GET "/api/v1/streaming/direct" => streaming::direct,
    }
}
