//! Metadata edits ("mutations", `read:edits` / `write:edits`).
//!
//! Anyone with `write:edits` may suggest an edit of a track, album or
//! artist; the user the object is attributed to (or an admin) may approve
//! or reject it, and their own suggestions can be applied at once with
//! `"is_approved": true`. Approving applies the payload and keeps the
//! previous values in `previous_state`.

use axum::extract::State;
use scope_runtime::Principal;
use scope_runtime::requires_scope;
use serde_json::{Map, Value, json};
use sqlx::AnyPool;

use crate::common::{
    ApiError, ApiResult, Arg, Body, FieldErrors, Key, Query, Where, begin, bool_field, created, me,
    new_uuid, no_content, now, ok, string_field,
};
use crate::{AppState, Scope, serial};

/// What can be edited.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Track,
    Album,
    Artist,
}

/// How a payload field is checked.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int,
    Date,
}

impl Target {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "track" => Some(Self::Track),
            "album" => Some(Self::Album),
            "artist" => Some(Self::Artist),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Track => "track",
            Self::Album => "album",
            Self::Artist => "artist",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Self::Track => "fw_tracks",
            Self::Album => "fw_albums",
            Self::Artist => "fw_artists",
        }
    }

    /// The editable fields (these names are the columns: the whitelist
    /// that makes building the `UPDATE` safe).
    fn fields(self) -> &'static [(&'static str, Kind)] {
        match self {
            Self::Track => &[
                ("title", Kind::Text),
                ("position", Kind::Int),
                ("disc_number", Kind::Int),
            ],
            Self::Album => &[("title", Kind::Text), ("release_date", Kind::Date)],
            Self::Artist => &[("name", Kind::Text)],
        }
    }

    fn repr_column(self) -> &'static str {
        match self {
            Self::Artist => "name",
            _ => "title",
        }
    }
}

/// `(attributed_to, repr)` of the target, or 404.
async fn target_row(db: &AnyPool, target: Target, id: i64) -> ApiResult<(Option<i64>, String)> {
    sqlx::query_as(&format!(
        "SELECT attributed_to, {} FROM {} WHERE id = $1",
        target.repr_column(),
        target.table()
    ))
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or(ApiError::NotFound)
}

/// Whether `user` may approve edits of `target` `id`: it is attributed to
/// them, or they are an admin.
async fn can_approve(db: &AnyPool, user: i64, target: Target, id: i64) -> ApiResult<bool> {
    // `admin` is an integer on SQLite, a boolean on PostgreSQL.
    let admin: Option<i64> =
        sqlx::query_scalar("SELECT CASE WHEN admin THEN 1 ELSE 0 END FROM users WHERE id = $1")
            .bind(user)
            .fetch_optional(db)
            .await?;
    if admin == Some(1) {
        return Ok(true);
    }
    let attributed: Option<Option<i64>> = sqlx::query_scalar(&format!(
        "SELECT attributed_to FROM {} WHERE id = $1",
        target.table()
    ))
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(attributed.flatten() == Some(user))
}

/// `APIMutationSerializer`.
async fn mutation_json(db: &AnyPool, id: i64) -> ApiResult<Value> {
    #[allow(clippy::type_complexity)]
    let row: (
        String,
        String,
        Option<i64>,
        Option<i64>,
        String,
        i64,
        String,
        Option<String>,
        String,
        Option<i64>,
        Option<i64>,
        String,
        Option<String>,
    ) = sqlx::query_as(
        "SELECT uuid, type, created_by, approved_by, target_type, target_id, payload, \
         previous_state, summary, is_approved, is_applied, creation_date, applied_date \
         FROM fw_mutations WHERE id = $1",
    )
    .bind(id)
    .fetch_one(db)
    .await?;
    let (uuid, kind, by, approved_by, target_type, target_id, payload, previous, summary) = (
        row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8,
    );
    let repr = match Target::from_name(&target_type) {
        Some(t) => target_row(db, t, target_id).await.ok().map(|(_, r)| r),
        None => None,
    };
    Ok(json!({
        "fid": format!("/federation/edits/{uuid}"),
        "uuid": uuid,
        "type": kind,
        "creation_date": row.11,
        "applied_date": row.12,
        "is_approved": row.9.map(|b| b != 0),
        "is_applied": row.10.map(|b| b != 0),
        "created_by": serial::user(db, by).await?,
        "approved_by": serial::user(db, approved_by).await?,
        "summary": summary,
        "payload": serde_json::from_str::<Value>(&payload).unwrap_or(Value::Null),
        "previous_state": previous.and_then(|p| serde_json::from_str::<Value>(&p).ok()),
        "target": {"type": target_type, "id": target_id, "repr": repr},
    }))
}

/// Checks a payload against the target's editable fields.
fn check_payload(target: Target, body: &Map<String, Value>) -> ApiResult<Map<String, Value>> {
    let mut errors = FieldErrors::default();
    match body.get("type") {
        None => errors.add("type", "This field is required."),
        Some(Value::String(s)) if s == "update" => {}
        Some(other) => errors.add("type", format!("{other} is not a valid choice.")),
    }
    let payload = match body.get("payload") {
        Some(Value::Object(p)) if !p.is_empty() => p.clone(),
        Some(Value::Object(_)) => {
            errors.add("payload", "The payload may not be empty.");
            Map::new()
        }
        None => {
            errors.add("payload", "This field is required.");
            Map::new()
        }
        Some(_) => {
            errors.add("payload", "Expected a dictionary of items.");
            Map::new()
        }
    };
    for (key, value) in &payload {
        let Some((_, kind)) = target.fields().iter().find(|(f, _)| f == key) else {
            errors.add("payload", format!("Unknown field \"{key}\"."));
            continue;
        };
        let valid = match kind {
            Kind::Text => value
                .as_str()
                .is_some_and(|s| !s.trim().is_empty() && s.chars().count() <= 255),
            Kind::Int => value.is_null() || value.as_i64().is_some_and(|n| n >= 0),
            Kind::Date => value.is_null() || value.as_str().is_some_and(is_date),
        };
        if !valid {
            errors.add("payload", format!("Invalid value for \"{key}\"."));
        }
    }
    errors.finish()?;
    Ok(payload)
}

/// `YYYY-MM-DD`.
fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    matches!(parts.as_slice(), [y, m, d]
        if y.len() == 4 && m.len() == 2 && d.len() == 2
        && y.chars().chain(m.chars()).chain(d.chars()).all(|c| c.is_ascii_digit())
        && (1..=12).contains(&m.parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&d.parse::<u32>().unwrap_or(0)))
}

/// Applies mutation `id` (approved by `user`): updates the target and
/// records the previous values.
async fn apply(db: &AnyPool, id: i64, user: i64) -> ApiResult<()> {
    let (target_type, target_id, payload): (String, i64, String) =
        sqlx::query_as("SELECT target_type, target_id, payload FROM fw_mutations WHERE id = $1")
            .bind(id)
            .fetch_one(db)
            .await?;
    let target = Target::from_name(&target_type).ok_or(ApiError::NotFound)?;
    let payload: Map<String, Value> = serde_json::from_str(&payload).unwrap_or_default();
    let mut tx = begin(db).await?;
    // Claim the edit inside the transaction: of two concurrent decisions,
    // one applies and the other finds it decided.
    let claimed = sqlx::query(
        "UPDATE fw_mutations SET is_approved = 1 WHERE id = $1 AND is_approved IS NULL",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if claimed.rows_affected() == 0 {
        return Err(already_decided());
    }
    let mut previous = Map::new();
    for (field, kind) in target.fields() {
        let Some(value) = payload.get(*field) else {
            continue;
        };
        let sql_old = format!("SELECT {field} FROM {} WHERE id = $1", target.table());
        let sql_new = format!("UPDATE {} SET {field} = $1 WHERE id = $2", target.table());
        match kind {
            Kind::Int => {
                let old: Option<i64> = sqlx::query_scalar(&sql_old)
                    .bind(target_id)
                    .fetch_one(&mut *tx)
                    .await?;
                previous.insert((*field).into(), json!({ "value": old }));
                sqlx::query(&sql_new)
                    .bind(value.as_i64())
                    .bind(target_id)
                    .execute(&mut *tx)
                    .await?;
            }
            Kind::Text | Kind::Date => {
                let old: Option<String> = sqlx::query_scalar(&sql_old)
                    .bind(target_id)
                    .fetch_one(&mut *tx)
                    .await?;
                previous.insert((*field).into(), json!({ "value": old }));
                sqlx::query(&sql_new)
                    .bind(value.as_str().map(str::trim))
                    .bind(target_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
    }
    if target == Target::Artist {
        sqlx::query("UPDATE fw_artists SET modification_date = $2 WHERE id = $1")
            .bind(target_id)
            .bind(now())
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "UPDATE fw_mutations SET is_approved = 1, is_applied = 1, approved_by = $1, \
         previous_state = $2, applied_date = $4 WHERE id = $3",
    )
    .bind(user)
    .bind(Value::Object(previous).to_string())
    .bind(id)
    .bind(now())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn list_for(state: &AppState, target: Target, key: &Key, query: &Query) -> ApiResult {
    let id = key.id()?;
    target_row(&state.db, target, id).await?;
    let mut filter = Where::new();
    filter.and(
        "m.target_type = ? AND m.target_id = ?",
        [Arg::Text(target.name().into()), Arg::Int(Some(id))],
    );
    approval_filters(&mut filter, query);
    let (page, count, ids) = filter
        .page(&state.db, "fw_mutations m", "m.id", "m.id DESC", query)
        .await?;
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        results.push(mutation_json(&state.db, id).await?);
    }
    Ok(page.wrap(query, count, results))
}

/// `?is_approved=` (`true`, `false`, or `null` for pending) and `?is_applied=`.
fn approval_filters(filter: &mut Where, query: &Query) {
    match query.get("is_approved") {
        Some("null" | "none" | "pending") => filter.and("m.is_approved IS NULL", []),
        _ => {
            if let Some(b) = query.bool("is_approved") {
                filter.and("m.is_approved = ?", [Arg::Int(Some(i64::from(b)))]);
            }
        }
    }
    if let Some(b) = query.bool("is_applied") {
        filter.and(
            "COALESCE(m.is_applied, 0) = ?",
            [Arg::Int(Some(i64::from(b)))],
        );
    }
}

async fn suggest(
    state: &AppState,
    principal: &Principal<Scope>,
    target: Target,
    key: &Key,
    body: &Map<String, Value>,
) -> ApiResult {
    let user = me(principal)?;
    let id = key.id()?;
    target_row(&state.db, target, id).await?;
    let payload = check_payload(target, body)?;
    let mut errors = FieldErrors::default();
    let summary = string_field(body, "summary", false, 2000, &mut errors);
    let approve = bool_field(body, "is_approved", &mut errors).unwrap_or(false);
    errors.finish()?;
    if approve && !can_approve(&state.db, user, target, id).await? {
        return Err(ApiError::Forbidden);
    }
    let uuid = new_uuid()?;
    let mutation: i64 = sqlx::query_scalar(
        "INSERT INTO fw_mutations (uuid, type, created_by, target_type, target_id, payload, \
         summary, creation_date) VALUES ($1, 'update', $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(uuid)
    .bind(user)
    .bind(target.name())
    .bind(id)
    .bind(Value::Object(payload).to_string())
    .bind(summary.unwrap_or_default())
    .bind(now())
    .fetch_one(&state.db)
    .await?;
    if approve {
        apply(&state.db, mutation, user).await?;
    }
    Ok(created(mutation_json(&state.db, mutation).await?))
}

/// The edits of a track.
#[requires_scope(resource = "edits", token = setting)]
pub(crate) async fn track_mutations(
    State(state): State<AppState>,
    key: Key,
    query: Query,
) -> ApiResult {
    list_for(&state, Target::Track, &key, &query).await
}

/// Suggest an edit of a track (`{"type": "update", "payload": {"title": ..}, "summary"}`).
#[requires_scope(resource = "edits", token = user)]
pub(crate) async fn suggest_track_edit(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    key: Key,
    Body(body): Body,
) -> ApiResult {
    suggest(&state, &principal, Target::Track, &key, &body).await
}

/// The edits of an album.
#[requires_scope(resource = "edits", token = setting)]
pub(crate) async fn album_mutations(
    State(state): State<AppState>,
    key: Key,
    query: Query,
) -> ApiResult {
    list_for(&state, Target::Album, &key, &query).await
}

/// Suggest an edit of an album (`title`, `release_date`).
#[requires_scope(resource = "edits", token = user)]
pub(crate) async fn suggest_album_edit(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    key: Key,
    Body(body): Body,
) -> ApiResult {
    suggest(&state, &principal, Target::Album, &key, &body).await
}

/// The edits of an artist.
#[requires_scope(resource = "edits", token = setting)]
pub(crate) async fn artist_mutations(
    State(state): State<AppState>,
    key: Key,
    query: Query,
) -> ApiResult {
    list_for(&state, Target::Artist, &key, &query).await
}

/// Suggest an edit of an artist (`name`).
#[requires_scope(resource = "edits", token = user)]
pub(crate) async fn suggest_artist_edit(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    key: Key,
    Body(body): Body,
) -> ApiResult {
    suggest(&state, &principal, Target::Artist, &key, &body).await
}

/// The edits the caller may see: theirs, those of objects attributed to
/// them, every one for an admin.
fn visible_mutations(filter: &mut Where, user: i64) {
    filter.and(
        "(m.created_by = ?1 OR (SELECT CASE WHEN admin THEN 1 ELSE 0 END FROM users WHERE id = ?1) = 1 \
         OR (m.target_type = 'track' AND (SELECT attributed_to FROM fw_tracks WHERE id = m.target_id) = ?1) \
         OR (m.target_type = 'album' AND (SELECT attributed_to FROM fw_albums WHERE id = m.target_id) = ?1) \
         OR (m.target_type = 'artist' AND (SELECT attributed_to FROM fw_artists WHERE id = m.target_id) = ?1))"
            .replace("?1", "?"),
        std::iter::repeat_n(Arg::Int(Some(user)), 5),
    );
}

/// The id of mutation `uuid` if the caller may see it.
async fn visible_mutation(db: &AnyPool, uuid: &str, user: i64) -> ApiResult<i64> {
    let mut filter = Where::new();
    filter.and("m.uuid = ?", [Arg::Text(uuid.to_owned())]);
    visible_mutations(&mut filter, user);
    let (_, _, ids) = filter
        .page(db, "fw_mutations m", "m.id", "m.id", &Query::empty())
        .await?;
    ids.first().copied().ok_or(ApiError::NotFound)
}

/// List the edits the caller may see (`?is_approved=`, `?is_applied=`, `?target_type=`).
#[requires_scope(resource = "edits", token = user)]
pub(crate) async fn list_mutations(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    query: Query,
) -> ApiResult {
    let mut filter = Where::new();
    visible_mutations(&mut filter, me(&principal)?);
    approval_filters(&mut filter, &query);
    if let Some(t) = query.get("target_type") {
        filter.and("m.target_type = ?", [Arg::Text(t.to_owned())]);
    }
    let (page, count, ids) = filter
        .page(&state.db, "fw_mutations m", "m.id", "m.id DESC", &query)
        .await?;
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        results.push(mutation_json(&state.db, id).await?);
    }
    Ok(page.wrap(&query, count, results))
}

/// Retrieve an edit.
#[requires_scope(resource = "edits", token = user)]
pub(crate) async fn get_mutation(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Key(uuid): Key,
) -> ApiResult {
    let id = visible_mutation(&state.db, &uuid, me(&principal)?).await?;
    Ok(ok(mutation_json(&state.db, id).await?))
}

/// Withdraw one of the caller's pending edits.
#[requires_scope(resource = "edits", token = user)]
pub(crate) async fn delete_mutation(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Key(uuid): Key,
) -> ApiResult {
    let user = me(&principal)?;
    let id = visible_mutation(&state.db, &uuid, user).await?;
    let (by, applied): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT created_by, is_applied FROM fw_mutations WHERE id = $1")
            .bind(id)
            .fetch_one(&state.db)
            .await?;
    if by != Some(user) {
        return Err(ApiError::Forbidden);
    }
    if applied == Some(1) {
        return Err(ApiError::BadRequest(
            "You cannot delete an applied mutation".into(),
        ));
    }
    sqlx::query("DELETE FROM fw_mutations WHERE id = $1")
        .bind(id)
        .execute(&state.db)
        .await?;
    Ok(no_content())
}

/// Checks that the caller may decide on mutation `uuid`, still pending.
fn already_decided() -> ApiError {
    ApiError::BadRequest("This mutation was already approved or rejected".into())
}

async fn decidable(
    state: &AppState,
    principal: &Principal<Scope>,
    uuid: &str,
) -> ApiResult<(i64, i64)> {
    let user = me(principal)?;
    let id = visible_mutation(&state.db, uuid, user).await?;
    let (target_type, target_id, decided): (String, i64, Option<i64>) = sqlx::query_as(
        "SELECT target_type, target_id, is_approved FROM fw_mutations WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&state.db)
    .await?;
    let target = Target::from_name(&target_type).ok_or(ApiError::NotFound)?;
    if !can_approve(&state.db, user, target, target_id).await? {
        return Err(ApiError::Forbidden);
    }
    if decided.is_some() {
        return Err(already_decided());
    }
    Ok((id, user))
}

/// Approve (and apply) an edit of an object attributed to the caller.
#[requires_scope(resource = "edits", token = user)]
pub(crate) async fn approve_mutation(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Key(uuid): Key,
) -> ApiResult {
    let (id, user) = decidable(&state, &principal, &uuid).await?;
    apply(&state.db, id, user).await?;
    Ok(ok(mutation_json(&state.db, id).await?))
}

/// Reject an edit of an object attributed to the caller.
#[requires_scope(resource = "edits", token = user)]
pub(crate) async fn reject_mutation(
    State(state): State<AppState>,
    principal: Principal<Scope>,
    Key(uuid): Key,
) -> ApiResult {
    let (id, user) = decidable(&state, &principal, &uuid).await?;
    let rejected = sqlx::query(
        "UPDATE fw_mutations SET is_approved = 0, approved_by = $1 WHERE id = $2 AND is_approved IS NULL",
    )
    .bind(user)
    .bind(id)
    .execute(&state.db)
    .await?;
    if rejected.rows_affected() == 0 {
        return Err(already_decided());
    }
    Ok(ok(mutation_json(&state.db, id).await?))
}
