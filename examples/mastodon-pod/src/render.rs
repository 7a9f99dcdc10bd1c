//! Mastodon's entities from the database rows, and the SQL conditions of
//! who may see what.

use serde_json::{Value, json};

use crate::support::{ApiError, Ctx, Flag, escape};

/// SQL: status `s` is visible to the viewer bound as `$1` (NULL when
/// anonymous): its author's, public or unlisted, followers-only to a
/// follower, or mentioning the viewer; never if the author blocks the
/// viewer.
pub(crate) fn visible(s: &str) -> String {
    format!(
        "({s}.account_id = $1 OR (NOT EXISTS (SELECT 1 FROM blocks vb WHERE vb.account_id = {s}.account_id AND vb.target_account_id = $1) \
         AND ({s}.visibility IN ('public', 'unlisted') \
         OR ({s}.visibility = 'private' AND EXISTS (SELECT 1 FROM follows vf WHERE vf.account_id = $1 AND vf.target_account_id = {s}.account_id)) \
         OR EXISTS (SELECT 1 FROM mentions vm WHERE vm.status_id = {s}.id AND vm.account_id = $1))))"
    )
}

/// SQL: status `s` and, for a reblog, the reblogged status are visible.
pub(crate) fn readable(s: &str) -> String {
    format!(
        "({} AND ({s}.reblog_of_id IS NULL OR EXISTS (SELECT 1 FROM statuses ro WHERE ro.id = {s}.reblog_of_id AND {})))",
        visible(s),
        visible("ro")
    )
}

/// SQL: the viewer (`$1`) neither blocks nor mutes the author of `s` (or of
/// the status it reblogs): what timelines leave out.
pub(crate) fn not_hidden(s: &str) -> String {
    let authors = format!(
        "({s}.account_id, COALESCE((SELECT ha.account_id FROM statuses ha WHERE ha.id = {s}.reblog_of_id), 0))"
    );
    format!(
        "(NOT EXISTS (SELECT 1 FROM blocks hb WHERE hb.account_id = $1 AND hb.target_account_id IN {authors}) \
         AND NOT EXISTS (SELECT 1 FROM mutes hm WHERE hm.account_id = $1 AND hm.target_account_id IN {authors}))"
    )
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: i64,
    username: String,
    display_name: String,
    note: String,
    locked: Flag,
    bot: Flag,
    discoverable: Flag,
    privacy: String,
    sensitive: Flag,
    language: Option<String>,
    created_at: String,
    followers_count: i64,
    following_count: i64,
    statuses_count: i64,
    last_status_at: Option<String>,
}

const ACCOUNT_SQL: &str = "SELECT u.id, u.username, \
    COALESCE(p.display_name, '') AS display_name, COALESCE(p.note, '') AS note, \
    COALESCE(p.locked, 0) AS locked, COALESCE(p.bot, 0) AS bot, \
    COALESCE(p.discoverable, 1) AS discoverable, COALESCE(p.privacy, 'public') AS privacy, \
    COALESCE(p.sensitive, 0) AS sensitive, p.language, \
    COALESCE(p.created_at, '1970-01-01T00:00:00.000Z') AS created_at, \
    (SELECT COUNT(*) FROM follows f WHERE f.target_account_id = u.id) AS followers_count, \
    (SELECT COUNT(*) FROM follows f WHERE f.account_id = u.id) AS following_count, \
    (SELECT COUNT(*) FROM statuses s WHERE s.account_id = u.id) AS statuses_count, \
    (SELECT substr(MAX(s.created_at), 1, 10) FROM statuses s WHERE s.account_id = u.id) AS last_status_at \
    FROM users u LEFT JOIN profiles p ON p.user_id = u.id WHERE u.id = $1";

async fn account_row(ctx: &Ctx, id: i64) -> Result<Option<AccountRow>, ApiError> {
    Ok(sqlx::query_as::<_, AccountRow>(ACCOUNT_SQL)
        .bind(id)
        .fetch_optional(&ctx.db)
        .await?)
}

fn note_html(note: &str) -> String {
    if note.is_empty() {
        String::new()
    } else {
        format!("<p>{}</p>", escape(note).replace('\n', "<br />"))
    }
}

fn account_json(ctx: &Ctx, a: &AccountRow) -> Value {
    let url = ctx.url(&format!("/@{}", a.username));
    let avatar = ctx.url("/avatars/original/missing.png");
    let header = ctx.url("/headers/original/missing.png");
    json!({
        "id": a.id.to_string(),
        "username": a.username,
        "acct": a.username,
        "display_name": a.display_name,
        "locked": a.locked,
        "bot": a.bot,
        "discoverable": a.discoverable,
        "group": false,
        "created_at": a.created_at,
        "note": note_html(&a.note),
        "url": url,
        "uri": ctx.url(&format!("/users/{}", a.username)),
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": a.followers_count,
        "following_count": a.following_count,
        "statuses_count": a.statuses_count,
        "last_status_at": a.last_status_at,
        "emojis": [],
        "fields": [],
    })
}

/// The Account entity, or `None` for an unknown id.
pub(crate) async fn account(ctx: &Ctx, id: i64) -> Result<Option<Value>, ApiError> {
    Ok(account_row(ctx, id).await?.map(|a| account_json(ctx, &a)))
}

/// The Account entity, or 404.
pub(crate) async fn account_or_404(ctx: &Ctx, id: i64) -> Result<Value, ApiError> {
    account(ctx, id).await?.ok_or_else(ApiError::not_found)
}

/// Accounts in the order given, leaving out unknown ids.
pub(crate) async fn accounts(ctx: &Ctx, ids: &[i64]) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        if let Some(a) = account(ctx, id).await? {
            out.push(a);
        }
    }
    Ok(out)
}

/// The CredentialAccount entity: the account with its `source`.
pub(crate) async fn credential_account(ctx: &Ctx, id: i64) -> Result<Value, ApiError> {
    let a = account_row(ctx, id).await?.ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "The access token's user does not exist",
        )
    })?;
    let requests: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM follow_requests WHERE target_account_id = $1")
            .bind(id)
            .fetch_one(&ctx.db)
            .await?;
    let mut v = account_json(ctx, &a);
    v["source"] = json!({
        "privacy": a.privacy,
        "sensitive": a.sensitive,
        "language": a.language,
        "note": a.note,
        "fields": [],
        "follow_requests_count": requests,
    });
    Ok(v)
}

/// Resolves a username (case-insensitive) to an account id.
pub(crate) async fn account_by_name(ctx: &Ctx, username: &str) -> Result<Option<i64>, ApiError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM users WHERE lower(username) = lower($1)")
            .bind(username)
            .fetch_optional(&ctx.db)
            .await?,
    )
}

/// Whether the account exists.
pub(crate) async fn account_exists(ctx: &Ctx, id: i64) -> Result<bool, ApiError> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&ctx.db)
            .await?
            .is_some(),
    )
}

/// 404 unless the account exists.
pub(crate) async fn require_account(ctx: &Ctx, id: i64) -> Result<(), ApiError> {
    if account_exists(ctx, id).await? {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

#[derive(sqlx::FromRow)]
struct StatusRow {
    id: i64,
    account_id: i64,
    text: String,
    content: String,
    spoiler_text: String,
    sensitive: Flag,
    visibility: String,
    language: Option<String>,
    in_reply_to_id: Option<i64>,
    in_reply_to_account_id: Option<i64>,
    reblog_of_id: Option<i64>,
    created_at: String,
    favourites_count: i64,
    reblogs_count: i64,
    replies_count: i64,
    favourited: Flag,
    reblogged: Flag,
    muted: Flag,
    pinned: Flag,
}

const STATUS_SQL: &str = "SELECT s.id, s.account_id, s.text, s.content, s.spoiler_text, s.sensitive, \
    s.visibility, s.language, s.in_reply_to_id, s.in_reply_to_account_id, s.reblog_of_id, s.created_at, \
    (SELECT COUNT(*) FROM favourites f WHERE f.status_id = s.id) AS favourites_count, \
    (SELECT COUNT(*) FROM statuses r WHERE r.reblog_of_id = s.id) AS reblogs_count, \
    (SELECT COUNT(*) FROM statuses c WHERE c.in_reply_to_id = s.id) AS replies_count, \
    EXISTS (SELECT 1 FROM favourites f WHERE f.status_id = s.id AND f.account_id = $2) AS favourited, \
    EXISTS (SELECT 1 FROM statuses r WHERE r.reblog_of_id = s.id AND r.account_id = $2) AS reblogged, \
    EXISTS (SELECT 1 FROM status_mutes m WHERE m.status_id = s.id AND m.account_id = $2) AS muted, \
    EXISTS (SELECT 1 FROM pins p WHERE p.status_id = s.id AND p.account_id = $2) AS pinned \
    FROM statuses s WHERE s.id = $1";

async fn status_flat(ctx: &Ctx, id: i64) -> Result<Option<(Value, Option<i64>)>, ApiError> {
    let Some(s) = sqlx::query_as::<_, StatusRow>(STATUS_SQL)
        .bind(id)
        .bind(ctx.viewer)
        .fetch_optional(&ctx.db)
        .await?
    else {
        return Ok(None);
    };
    let Some(author) = account_row(ctx, s.account_id).await? else {
        return Ok(None);
    };
    let media = media_of_status(ctx, s.id).await?;
    let mentions: Vec<(i64, String)> = sqlx::query_as(
        "SELECT u.id, u.username FROM mentions m JOIN users u ON u.id = m.account_id \
         WHERE m.status_id = $1 ORDER BY u.id",
    )
    .bind(s.id)
    .fetch_all(&ctx.db)
    .await?;
    let tags: Vec<String> =
        sqlx::query_scalar("SELECT name FROM status_tags WHERE status_id = $1 ORDER BY name")
            .bind(s.id)
            .fetch_all(&ctx.db)
            .await?;
    let mut v = json!({
        "id": s.id.to_string(),
        "created_at": s.created_at,
        "in_reply_to_id": s.in_reply_to_id.map(|i| i.to_string()),
        "in_reply_to_account_id": s.in_reply_to_account_id.map(|i| i.to_string()),
        "sensitive": s.sensitive,
        "spoiler_text": s.spoiler_text,
        "visibility": s.visibility,
        "language": s.language,
        "uri": ctx.url(&format!("/users/{}/statuses/{}", author.username, s.id)),
        "url": ctx.url(&format!("/@{}/{}", author.username, s.id)),
        "replies_count": s.replies_count,
        "reblogs_count": s.reblogs_count,
        "favourites_count": s.favourites_count,
        "edited_at": null,
        "content": s.content,
        "reblog": null,
        "application": null,
        "account": account_json(ctx, &author),
        "media_attachments": media,
        "mentions": mentions.iter().map(|(id, name)| json!({
            "id": id.to_string(),
            "username": name,
            "acct": name,
            "url": ctx.url(&format!("/@{name}")),
        })).collect::<Vec<_>>(),
        "tags": tags.iter().map(|t| json!({
            "name": t,
            "url": ctx.url(&format!("/tags/{t}")),
        })).collect::<Vec<_>>(),
        "emojis": [],
        "card": null,
        "poll": null,
        "filtered": [],
    });
    if ctx.viewer.is_some() {
        v["favourited"] = json!(s.favourited);
        v["reblogged"] = json!(s.reblogged);
        v["muted"] = json!(s.muted);
        v["bookmarked"] = json!(false);
        if ctx.viewer == Some(s.account_id) {
            v["pinned"] = json!(s.pinned);
        }
    }
    v["text"] = json!(s.text);
    Ok(Some((v, s.reblog_of_id)))
}

/// The Status entity (with the reblogged status inside a reblog), or
/// `None`. Visibility is the caller's business. `text` (the source) is
/// only kept when `with_source`.
pub(crate) async fn status(ctx: &Ctx, id: i64) -> Result<Option<Value>, ApiError> {
    status_with_source(ctx, id, false).await
}

/// [`status`], keeping `text` when asked (the answer to a deletion).
pub(crate) async fn status_with_source(
    ctx: &Ctx,
    id: i64,
    with_source: bool,
) -> Result<Option<Value>, ApiError> {
    let Some((mut v, reblog_of)) = status_flat(ctx, id).await? else {
        return Ok(None);
    };
    if !with_source && let Some(map) = v.as_object_mut() {
        map.remove("text");
    }
    if let Some(original) = reblog_of
        && let Some((mut inner, _)) = status_flat(ctx, original).await?
    {
        if let Some(map) = inner.as_object_mut() {
            map.remove("text");
        }
        v["reblog"] = inner;
    }
    Ok(Some(v))
}

/// Statuses in the order given, leaving out vanished ones.
pub(crate) async fn statuses(ctx: &Ctx, ids: &[i64]) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        if let Some(s) = status(ctx, id).await? {
            out.push(s);
        }
    }
    Ok(out)
}

/// The status if the viewer may see it, or 404.
pub(crate) async fn visible_status(ctx: &Ctx, id: i64) -> Result<i64, ApiError> {
    let sql = format!(
        "SELECT s.id FROM statuses s WHERE s.id = $2 AND {}",
        readable("s")
    );
    sqlx::query_scalar::<_, i64>(&sql)
        .bind(ctx.viewer)
        .bind(id)
        .fetch_optional(&ctx.db)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// The Relationship entity of `me` to `target`.
pub(crate) async fn relationship(ctx: &Ctx, me: i64, target: i64) -> Result<Value, ApiError> {
    #[derive(sqlx::FromRow)]
    struct Rel {
        following: Flag,
        showing_reblogs: Flag,
        notifying: Flag,
        followed_by: Flag,
        blocking: Flag,
        blocked_by: Flag,
        muting: Flag,
        muting_notifications: Flag,
        requested: Flag,
        requested_by: Flag,
        domain_blocking: Flag,
    }
    let r = sqlx::query_as::<_, Rel>(
        "SELECT \
         EXISTS (SELECT 1 FROM follows WHERE account_id = $1 AND target_account_id = $2) AS following, \
         COALESCE((SELECT show_reblogs FROM follows WHERE account_id = $1 AND target_account_id = $2), \
                  (SELECT show_reblogs FROM follow_requests WHERE account_id = $1 AND target_account_id = $2), 0) AS showing_reblogs, \
         COALESCE((SELECT notify FROM follows WHERE account_id = $1 AND target_account_id = $2), 0) AS notifying, \
         EXISTS (SELECT 1 FROM follows WHERE account_id = $2 AND target_account_id = $1) AS followed_by, \
         EXISTS (SELECT 1 FROM blocks WHERE account_id = $1 AND target_account_id = $2) AS blocking, \
         EXISTS (SELECT 1 FROM blocks WHERE account_id = $2 AND target_account_id = $1) AS blocked_by, \
         EXISTS (SELECT 1 FROM mutes WHERE account_id = $1 AND target_account_id = $2) AS muting, \
         COALESCE((SELECT hide_notifications FROM mutes WHERE account_id = $1 AND target_account_id = $2), 0) AS muting_notifications, \
         EXISTS (SELECT 1 FROM follow_requests WHERE account_id = $1 AND target_account_id = $2) AS requested, \
         EXISTS (SELECT 1 FROM follow_requests WHERE account_id = $2 AND target_account_id = $1) AS requested_by, \
         0 AS domain_blocking",
    )
    .bind(me)
    .bind(target)
    .fetch_one(&ctx.db)
    .await?;
    Ok(json!({
        "id": target.to_string(),
        "following": r.following,
        "showing_reblogs": r.showing_reblogs,
        "notifying": r.notifying,
        "languages": null,
        "followed_by": r.followed_by,
        "blocking": r.blocking,
        "blocked_by": r.blocked_by,
        "muting": r.muting,
        "muting_notifications": r.muting_notifications,
        "requested": r.requested,
        "requested_by": r.requested_by,
        "domain_blocking": r.domain_blocking,
        "endorsed": false,
        "note": "",
    }))
}

#[derive(sqlx::FromRow)]
pub(crate) struct MediaRow {
    id: i64,
    #[sqlx(rename = "type")]
    kind: String,
    content_type: String,
    file_name: String,
    size: i64,
    description: Option<String>,
    focus_x: f64,
    focus_y: f64,
}

/// The columns of [`MediaRow`].
pub(crate) const MEDIA_COLUMNS: &str =
    "id, type, content_type, file_name, size, description, focus_x, focus_y";

/// The MediaAttachment entity.
pub(crate) fn media_json(ctx: &Ctx, m: &MediaRow) -> Value {
    let url = ctx.url(&format!("/system/media_attachments/{}", m.id));
    json!({
        "id": m.id.to_string(),
        "type": m.kind,
        "url": url,
        "preview_url": url,
        "remote_url": null,
        "text_url": null,
        "preview_remote_url": null,
        "meta": {
            "original": { "filesize": m.size, "content_type": m.content_type, "file_name": m.file_name },
            "focus": { "x": m.focus_x, "y": m.focus_y },
        },
        "description": m.description,
        "blurhash": null,
    })
}

async fn media_of_status(ctx: &Ctx, status_id: i64) -> Result<Vec<Value>, ApiError> {
    let rows = sqlx::query_as::<_, MediaRow>(&format!(
        "SELECT {MEDIA_COLUMNS} FROM media_attachments WHERE status_id = $1 ORDER BY id"
    ))
    .bind(status_id)
    .fetch_all(&ctx.db)
    .await?;
    Ok(rows.iter().map(|m| media_json(ctx, m)).collect())
}

/// The media attachment of `owner` with this id.
pub(crate) async fn media(ctx: &Ctx, owner: i64, id: i64) -> Result<Option<MediaRow>, ApiError> {
    Ok(sqlx::query_as::<_, MediaRow>(&format!(
        "SELECT {MEDIA_COLUMNS} FROM media_attachments WHERE id = $1 AND account_id = $2"
    ))
    .bind(id)
    .bind(owner)
    .fetch_optional(&ctx.db)
    .await?)
}

/// The Notification entity, or `None` if it is not the viewer's.
pub(crate) async fn notification(ctx: &Ctx, me: i64, id: i64) -> Result<Option<Value>, ApiError> {
    let Some((kind, from, status_id, created_at)) =
        sqlx::query_as::<_, (String, i64, Option<i64>, String)>(
            "SELECT type, from_account_id, status_id, created_at FROM notifications \
             WHERE id = $1 AND account_id = $2",
        )
        .bind(id)
        .bind(me)
        .fetch_optional(&ctx.db)
        .await?
    else {
        return Ok(None);
    };
    let Some(account) = account(ctx, from).await? else {
        return Ok(None);
    };
    let mut v = json!({
        "id": id.to_string(),
        "type": kind,
        "created_at": created_at,
        "group_key": format!("ungrouped-{id}"),
        "account": account,
    });
    if let Some(sid) = status_id {
        v["status"] = status(ctx, sid).await?.unwrap_or(Value::Null);
    }
    Ok(Some(v))
}

/// The List entity, if it is `owner`'s.
pub(crate) async fn list(ctx: &Ctx, owner: i64, id: i64) -> Result<Option<Value>, ApiError> {
    Ok(sqlx::query_as::<_, (i64, String, String, Flag)>(
        "SELECT id, title, replies_policy, exclusive FROM lists WHERE id = $1 AND account_id = $2",
    )
    .bind(id)
    .bind(owner)
    .fetch_optional(&ctx.db)
    .await?
    .map(|(id, title, policy, exclusive)| {
        json!({
            "id": id.to_string(),
            "title": title,
            "replies_policy": policy,
            "exclusive": exclusive,
        })
    }))
}

/// The (v1) Filter entity, if it is `owner`'s.
pub(crate) async fn filter(ctx: &Ctx, owner: i64, id: i64) -> Result<Option<Value>, ApiError> {
    Ok(
        sqlx::query_as::<_, (i64, String, String, Flag, Flag, Option<String>)>(
            "SELECT id, phrase, context, irreversible, whole_word, expires_at FROM filters \
         WHERE id = $1 AND account_id = $2",
        )
        .bind(id)
        .bind(owner)
        .fetch_optional(&ctx.db)
        .await?
        .map(
            |(id, phrase, context, irreversible, whole_word, expires_at)| {
                json!({
                    "id": id.to_string(),
                    "phrase": phrase,
                    "context": context.split(',').filter(|c| !c.is_empty()).collect::<Vec<_>>(),
                    "whole_word": whole_word,
                    "expires_at": expires_at,
                    "irreversible": irreversible,
                })
            },
        ),
    )
}

/// The Report entity, if it is `owner`'s.
pub(crate) async fn report(ctx: &Ctx, owner: i64, id: i64) -> Result<Option<Value>, ApiError> {
    let Some((target, comment, forward, category, created_at)) =
        sqlx::query_as::<_, (i64, String, Flag, String, String)>(
            "SELECT target_account_id, comment, forward, category, created_at FROM reports \
             WHERE id = $1 AND account_id = $2",
        )
        .bind(id)
        .bind(owner)
        .fetch_optional(&ctx.db)
        .await?
    else {
        return Ok(None);
    };
    let status_ids: Vec<i64> = sqlx::query_scalar(
        "SELECT status_id FROM report_statuses WHERE report_id = $1 ORDER BY status_id",
    )
    .bind(id)
    .fetch_all(&ctx.db)
    .await?;
    Ok(Some(json!({
        "id": id.to_string(),
        "action_taken": false,
        "action_taken_at": null,
        "category": category,
        "comment": comment,
        "forward": forward,
        "created_at": created_at,
        "status_ids": status_ids.iter().map(i64::to_string).collect::<Vec<_>>(),
        "rule_ids": null,
        "target_account": account(ctx, target).await?,
    })))
}

/// A piece of status text.
enum Piece<'a> {
    Text(&'a str),
    Mention(&'a str, Option<&'a str>),
    Tag(&'a str),
    Url(&'a str),
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn pieces(line: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    let mut prev: Option<char> = None;
    while i < line.len() {
        let rest = &line[i..];
        let Some(c) = rest.chars().next() else {
            break;
        };
        let boundary = prev.is_none_or(|p| !is_word(p) && p != '@' && p != '#' && p != '/');
        let mut taken = 0;
        let mut piece = None;
        if boundary && (rest.starts_with("https://") || rest.starts_with("http://")) {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let url = rest[..end].trim_end_matches(['.', ',', ')', '!', '?', ';', ':']);
            taken = url.len();
            piece = Some(Piece::Url(url));
        } else if boundary && (c == '@' || c == '#') {
            let word_end = rest[1..]
                .find(|ch: char| !is_word(ch))
                .map_or(rest.len(), |e| e + 1);
            let word = &rest[1..word_end];
            if !word.is_empty() {
                if c == '#' {
                    if !word.chars().all(|ch| ch.is_ascii_digit()) {
                        taken = word_end;
                        piece = Some(Piece::Tag(word));
                    }
                } else {
                    let after = &rest[word_end..];
                    let domain = after.strip_prefix('@').map(|d| {
                        let end = d
                            .find(|ch: char| !(ch.is_alphanumeric() || ch == '.' || ch == '-'))
                            .unwrap_or(d.len());
                        d[..end].trim_end_matches('.')
                    });
                    match domain.filter(|d| !d.is_empty()) {
                        Some(d) => {
                            taken = word_end + 1 + d.len();
                            piece = Some(Piece::Mention(word, Some(d)));
                        }
                        None => {
                            taken = word_end;
                            piece = Some(Piece::Mention(word, None));
                        }
                    }
                }
            }
        }
        if let Some(p) = piece {
            if text_start < i {
                out.push(Piece::Text(&line[text_start..i]));
            }
            out.push(p);
            i += taken;
            text_start = i;
            prev = line[..i].chars().next_back();
        } else {
            i += c.len_utf8();
            prev = Some(c);
        }
    }
    if text_start < line.len() {
        out.push(Piece::Text(&line[text_start..]));
    }
    out
}

/// Status text as Mastodon renders it: paragraphs, line breaks, links,
/// mentions of local accounts and hashtags. Returns the HTML, the mentioned
/// account ids and the tags (lowercase).
pub(crate) async fn render_text(
    ctx: &Ctx,
    text: &str,
) -> Result<(String, Vec<i64>, Vec<String>), ApiError> {
    let text = text.replace("\r\n", "\n");
    let mut html = String::new();
    let mut mentioned = Vec::new();
    let mut tags: Vec<String> = Vec::new();
    for paragraph in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        html.push_str("<p>");
        for (n, line) in paragraph.split('\n').enumerate() {
            if n > 0 {
                html.push_str("<br />");
            }
            for piece in pieces(line) {
                match piece {
                    Piece::Text(t) => html.push_str(&escape(t)),
                    Piece::Url(u) => html.push_str(&format!(
                        "<a href=\"{0}\" rel=\"nofollow noopener\" target=\"_blank\">{0}</a>",
                        escape(u)
                    )),
                    Piece::Tag(t) => {
                        let name = t.to_lowercase();
                        html.push_str(&format!(
                            "<a href=\"{}\" class=\"mention hashtag\" rel=\"tag\">#<span>{}</span></a>",
                            escape(&ctx.url(&format!("/tags/{name}"))),
                            escape(t)
                        ));
                        if !tags.contains(&name) {
                            tags.push(name);
                        }
                    }
                    Piece::Mention(user, domain) => {
                        let local = domain.is_none_or(|d| {
                            d.eq_ignore_ascii_case(&ctx.host)
                                || ctx
                                    .host
                                    .split(':')
                                    .next()
                                    .is_some_and(|h| d.eq_ignore_ascii_case(h))
                        });
                        let found = if local {
                            account_by_name(ctx, user).await?
                        } else {
                            None
                        };
                        match found {
                            Some(id) => {
                                html.push_str(&format!(
                                    "<span class=\"h-card\"><a href=\"{}\" class=\"u-url mention\">@<span>{}</span></a></span>",
                                    escape(&ctx.url(&format!("/@{user}"))),
                                    escape(user)
                                ));
                                if !mentioned.contains(&id) {
                                    mentioned.push(id);
                                }
                            }
                            None => {
                                html.push('@');
                                html.push_str(&escape(user));
                                if let Some(d) = domain {
                                    html.push('@');
                                    html.push_str(&escape(d));
                                }
                            }
                        }
                    }
                }
            }
        }
        html.push_str("</p>");
    }
    Ok((html, mentioned, tags))
}
