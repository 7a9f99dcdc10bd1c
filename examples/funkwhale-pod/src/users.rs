//! The profile (`read:profile`) and the public instance endpoints.

use axum::extract::State;
use scope_runtime::Principal;
use scope_runtime::requires_scope;
use serde_json::{Value, json};

use crate::common::{ApiError, ApiResult, me, ok};
use crate::{AppState, NAME, Scope, VERSION, privacy};

/// The authenticated user's profile.
#[requires_scope(resource = "profile", token = user)]
pub(crate) async fn profile(
    State(state): State<AppState>,
    principal: Principal<Scope>,
) -> ApiResult {
    let user = me(&principal)?;
    // `admin` is an integer on SQLite, a boolean on PostgreSQL.
    let row: Option<(i64, String, i64)> = sqlx::query_as(
        "SELECT id, username, CASE WHEN admin THEN 1 ELSE 0 END FROM users WHERE id = $1",
    )
    .bind(user)
    .fetch_optional(&state.db)
    .await?;
    let (id, username, admin) = row.ok_or(ApiError::NotFound)?;
    let admin = admin != 0;
    Ok(ok(json!({
        "id": id,
        "username": username,
        "full_username": username,
        "name": "",
        "email": Value::Null,
        "is_staff": admin,
        "is_superuser": admin,
        "permissions": {"library": admin, "moderation": admin, "settings": admin},
        "date_joined": Value::Null,
        "privacy_level": "instance",
        "avatar": Value::Null,
        "instance_support_message_display_date": Value::Null,
        "funkwhale_support_message_display_date": Value::Null,
        "summary": Value::Null,
        "tokens": {"listen": Value::Null},
        "settings": {},
    })))
}

/// The Funkwhale API version this pod mimics, with the pod's own version.
fn software_version() -> String {
    format!("1.4.0+{NAME}.{VERSION}")
}

/// NodeInfo 2.0: what clients read to discover the server.
#[requires_scope(public)]
pub(crate) async fn nodeinfo(State(state): State<AppState>) -> ApiResult {
    // Public: the music hours are those of the uploads anyone may play.
    let sql = format!(
        "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM fw_tracks), \
                (SELECT COUNT(*) FROM fw_artists), (SELECT COUNT(*) FROM fw_albums), \
                (SELECT CAST(COALESCE(SUM(duration), 0) AS BIGINT) FROM fw_uploads u WHERE {}), \
                (SELECT COUNT(*) FROM fw_favorites), (SELECT COUNT(*) FROM fw_listenings)",
        privacy::upload_visible("u", None)
    );
    let counts: (i64, i64, i64, i64, i64, i64, i64) =
        sqlx::query_as(&sql).fetch_one(&state.db).await?;
    let (users, tracks, artists, albums, seconds, favorites, listenings) = counts;
    Ok(ok(json!({
        "version": "2.0",
        "software": {"name": "funkwhale", "version": software_version()},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": false,
        "usage": {"users": {"total": users, "activeHalfyear": users, "activeMonth": users}},
        "metadata": {
            "actorId": Value::Null,
            "private": false,
            "nodeName": NAME,
            "shortDescription": "An example pod of scope-matrix: Funkwhale's API and scopes on SQLite.",
            "longDescription": "",
            "rules": "",
            "contactEmail": "",
            "terms": "",
            "banner": Value::Null,
            "defaultUploadQuota": 1000,
            "library": {
                "federationEnabled": false,
                "anonymousCanListen": state.anonymous.allowed(),
                "tracks": {"total": tracks},
                "artists": {"total": artists},
                "albums": {"total": albums},
                "music": {"hours": seconds as f64 / 3600.0},
            },
            "supportedUploadExtensions": ["mp3", "ogg", "flac", "opus"],
            "allowList": {"enabled": false, "domains": Value::Null},
            "reportTypes": [],
            "funkwhaleSupportMessageEnabled": false,
            "instanceSupportMessage": "",
            "usage": {
                "favorites": {"tracks": {"total": favorites}},
                "listenings": {"total": listenings},
                "downloads": {"total": 0},
            },
        },
    })))
}

/// One dynamic preference, as `/api/v1/instance/settings/` lists them.
fn preference(section: &str, name: &str, value: Value, verbose_name: &str, field: &str) -> Value {
    json!({
        "section": section,
        "name": name,
        "identifier": format!("{section}__{name}"),
        "default": value.clone(),
        "value": value,
        "verbose_name": verbose_name,
        "help_text": "",
        "additional_data": {},
        "field": {"class": field},
    })
}

/// The instance's public settings (Funkwhale's dynamic preferences).
#[requires_scope(public)]
pub(crate) async fn instance_settings(State(state): State<AppState>) -> ApiResult {
    Ok(ok(json!([
        preference("instance", "name", json!(NAME), "Public name", "CharField"),
        preference(
            "instance",
            "short_description",
            json!("An example pod of scope-matrix"),
            "Short description",
            "CharField",
        ),
        preference(
            "common",
            "api_authentication_required",
            json!(!state.anonymous.allowed()),
            "API Requires authentication",
            "BooleanField",
        ),
        preference(
            "users",
            "registration_enabled",
            json!(false),
            "Open registrations to new users",
            "BooleanField",
        ),
        preference(
            "federation",
            "enabled",
            json!(false),
            "Federation enabled",
            "BooleanField",
        ),
        preference(
            "moderation",
            "allow_list_enabled",
            json!(false),
            "Enable allow-listing",
            "BooleanField",
        ),
        preference(
            "playlists",
            "max_tracks",
            json!(250),
            "Max tracks per playlist",
            "IntegerField",
        ),
    ])))
}
