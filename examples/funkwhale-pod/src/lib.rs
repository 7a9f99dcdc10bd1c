//! The Funkwhale example pod: a subset of Funkwhale's API (libraries,
//! tracks, uploads, favorites, listenings, library follows, playlists,
//! radios, content filters, notifications, metadata edits, profile) on
//! SQLite or PostgreSQL, every handler declaring its scope with `#[requires_scope]` as
//! Funkwhale's `ScopePermission` does.
//!
//! The library is what a binary (`src/main.rs`, with `pod-kit`) needs:
//! [`Api`], the route table; [`AppState`]; [`migrator`]; [`seed_demo`].
//!
//! Routes reading data anyone may see are `token = setting` (Funkwhale's
//! anonymous policy `"setting"`, decided at run time by
//! [`AnonymousAccess`]); routes writing or reading a user's own data need a
//! user token (`token = user`): an app token has no user to own anything.

use pod_kit::Backend;
use scope_runtime::enforce::AnonymousAccess;
use scope_runtime::scope_routes;
use sqlx::AnyPool;

mod activity;
#[doc(hidden)]
pub mod baseline;
mod common;
mod content_filters;
mod edits;
mod follows;
mod inbox;
mod library;
mod music;
mod playlists;
mod pod;
mod privacy;
mod radios;
mod seed;
mod serial;
mod users;

pub use pod::FunkwhalePod;
pub use seed::seed_demo;

scope_hierarchies::funkwhale_scopes!(
    /// The scopes of this pod.
    pub Scope
);

/// The crate name.
pub const NAME: &str = env!("CARGO_PKG_NAME");

/// The crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What the handlers share.
#[derive(Clone, Debug)]
pub struct AppState {
    db: AnyPool,
    anonymous: AnonymousAccess,
}

impl AppState {
    /// The state over a database already migrated with [`migrator`] (and
    /// the OAuth server's migrations).
    pub fn new(db: AnyPool) -> Self {
        Self {
            db,
            anonymous: AnonymousAccess::default(),
        }
    }

    /// Shares the enforcer's anonymous-access switch, so that
    /// `/api/v1/instance/settings/` reports the policy in force
    /// (`common__api_authentication_required`). Without it the settings
    /// report Funkwhale's default: authentication required.
    #[must_use]
    pub fn with_anonymous_access(mut self, switch: AnonymousAccess) -> Self {
        self.anonymous = switch;
        self
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
/// are identity columns, integers `BIGINT` and flags `BIGINT` 0/1 (so the
/// handlers read integers from both engines), times ISO 8601 text.
pub fn migrator(backend: Backend) -> sqlx::migrate::Migrator {
    pod_kit::pod_migrator(
        backend,
        sqlx::migrate!("./migrations/sqlite"),
        sqlx::migrate!("./migrations/postgres"),
    )
}

scope_routes! {
    /// The pod's API: Funkwhale's paths, methods and scopes.
    pub Api<Scope, AppState> {
        // profile
        GET "/api/v1/users/me/" => users::profile,
        // instance discovery
        GET "/api/v1/instance/nodeinfo/2.0/" => users::nodeinfo,
        GET "/api/v1/instance/settings/" => users::instance_settings,
        // libraries
        GET "/api/v1/libraries/" => library::list_libraries,
        POST "/api/v1/libraries/" => library::create_library,
        GET "/api/v1/libraries/{uuid}/" => library::get_library,
        PUT | PATCH "/api/v1/libraries/{uuid}/" => library::update_library,
        DELETE "/api/v1/libraries/{uuid}/" => library::delete_library,
        GET "/api/v1/libraries/{uuid}/follows/" => library::library_follows,
        GET "/api/v1/uploads/" => library::list_uploads,
        POST "/api/v1/uploads/" => library::create_upload,
        GET "/api/v1/uploads/{uuid}/" => library::get_upload,
        DELETE "/api/v1/uploads/{uuid}/" => library::delete_upload,
        GET "/api/v1/tracks/" => music::list_tracks,
        GET "/api/v1/tracks/{pk}/" => music::get_track,
        GET "/api/v1/albums/" => music::list_albums,
        GET "/api/v1/albums/{pk}/" => music::get_album,
        GET "/api/v1/artists/" => music::list_artists,
        GET "/api/v1/artists/{pk}/" => music::get_artist,
        // edits
        GET "/api/v1/tracks/{pk}/mutations/" => edits::track_mutations,
        POST "/api/v1/tracks/{pk}/mutations/" => edits::suggest_track_edit,
        GET "/api/v1/albums/{pk}/mutations/" => edits::album_mutations,
        POST "/api/v1/albums/{pk}/mutations/" => edits::suggest_album_edit,
        GET "/api/v1/artists/{pk}/mutations/" => edits::artist_mutations,
        POST "/api/v1/artists/{pk}/mutations/" => edits::suggest_artist_edit,
        GET "/api/v1/mutations/" => edits::list_mutations,
        GET "/api/v1/mutations/{uuid}/" => edits::get_mutation,
        DELETE "/api/v1/mutations/{uuid}/" => edits::delete_mutation,
        POST "/api/v1/mutations/{uuid}/approve/" => edits::approve_mutation,
        POST "/api/v1/mutations/{uuid}/reject/" => edits::reject_mutation,
        // favorites
        GET "/api/v1/favorites/tracks/" => activity::list_favorites,
        POST "/api/v1/favorites/tracks/" => activity::create_favorite,
        GET "/api/v1/favorites/tracks/all/" => activity::all_favorites,
        POST | DELETE "/api/v1/favorites/tracks/remove/" => activity::remove_favorite,
        DELETE "/api/v1/favorites/tracks/{pk}/" => activity::delete_favorite,
        // listenings
        GET "/api/v1/history/listenings/" => activity::list_listenings,
        POST "/api/v1/history/listenings/" => activity::create_listening,
        GET "/api/v1/history/listenings/{pk}/" => activity::get_listening,
        // follows
        GET "/api/v1/federation/follows/library/" => follows::list_follows,
        POST "/api/v1/federation/follows/library/" => follows::create_follow,
        GET "/api/v1/federation/follows/library/all/" => follows::all_follows,
        GET "/api/v1/federation/follows/library/{uuid}/" => follows::get_follow,
        DELETE "/api/v1/federation/follows/library/{uuid}/" => follows::delete_follow,
        POST "/api/v1/federation/follows/library/{uuid}/accept/" => follows::accept_follow,
        POST "/api/v1/federation/follows/library/{uuid}/reject/" => follows::reject_follow,
        // notifications
        GET "/api/v1/federation/inbox/" => inbox::list_inbox,
        POST "/api/v1/federation/inbox/action/" => inbox::inbox_action,
        GET "/api/v1/federation/inbox/{pk}/" => inbox::get_inbox_item,
        PUT | PATCH "/api/v1/federation/inbox/{pk}/" => inbox::update_inbox_item,
        // filters
        GET "/api/v1/moderation/content-filters/" => content_filters::list_filters,
        POST "/api/v1/moderation/content-filters/" => content_filters::create_filter,
        GET "/api/v1/moderation/content-filters/{uuid}/" => content_filters::get_filter,
        DELETE "/api/v1/moderation/content-filters/{uuid}/" => content_filters::delete_filter,
        // playlists
        GET "/api/v1/playlists/" => playlists::list_playlists,
        POST "/api/v1/playlists/" => playlists::create_playlist,
        GET "/api/v1/playlists/{pk}/" => playlists::get_playlist,
        PUT | PATCH "/api/v1/playlists/{pk}/" => playlists::update_playlist,
        DELETE "/api/v1/playlists/{pk}/" => playlists::delete_playlist,
        GET "/api/v1/playlists/{pk}/tracks/" => playlists::playlist_tracks,
        POST "/api/v1/playlists/{pk}/add/" => playlists::add_tracks,
        POST | DELETE "/api/v1/playlists/{pk}/remove/" => playlists::remove_track,
        DELETE "/api/v1/playlists/{pk}/clear/" => playlists::clear_playlist,
        POST "/api/v1/playlists/{pk}/move/" => playlists::move_track,
        // radios
        GET "/api/v1/radios/radios/" => radios::list_radios,
        POST "/api/v1/radios/radios/" => radios::create_radio,
        GET "/api/v1/radios/radios/filters/" => radios::radio_filters,
        POST "/api/v1/radios/radios/validate/" => radios::validate_radio,
        GET "/api/v1/radios/radios/{pk}/" => radios::get_radio,
        PUT | PATCH "/api/v1/radios/radios/{pk}/" => radios::update_radio,
        DELETE "/api/v1/radios/radios/{pk}/" => radios::delete_radio,
        GET "/api/v1/radios/radios/{pk}/tracks/" => radios::radio_tracks,
    }
}
