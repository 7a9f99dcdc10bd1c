//! Who sees what: the pod's one visibility rule, as SQL.
//!
//! Libraries and playlists carry a `privacy_level` (`me`, `instance`,
//! `everyone`) and an owner (`user_id`). `viewer` (`None`: anonymous, or
//! an app token, which speaks for no user) sees an object if it is
//! `everyone`'s, `instance`'s and the viewer is logged in (every user of
//! this pod is local), or the viewer's own: Funkwhale's
//! `privacy_level_query`.
//!
//! An upload is seen exactly when its library is, and with it everything
//! it tells: its uuid, listen URL, size and duration, and whether its
//! track, album, artist or playlist is playable (Funkwhale's
//! `playable_by`). Every query reading `fw_uploads` for another viewer
//! than the owner goes through [`upload_visible`] or [`playable`].
//!
//! The viewer is written into the SQL as an integer literal rather than
//! bound: the conditions are then usable in any query whatever its
//! placeholders, and an `i64` printed in decimal cannot inject anything.

/// `viewer` as an SQL literal.
fn literal(viewer: Option<i64>) -> String {
    viewer.map_or_else(|| "NULL".to_owned(), |id| id.to_string())
}

/// SQL: the library or playlist aliased `alias` is visible to `viewer`.
pub(crate) fn visible(alias: &str, viewer: Option<i64>) -> String {
    let viewer = literal(viewer);
    format!(
        "({alias}.privacy_level = 'everyone' \
         OR ({viewer} IS NOT NULL AND {alias}.privacy_level = 'instance') \
         OR {alias}.user_id = {viewer})"
    )
}

/// SQL: the upload aliased `upload` is visible to `viewer` (its library
/// is).
pub(crate) fn upload_visible(upload: &str, viewer: Option<i64>) -> String {
    format!(
        "EXISTS (SELECT 1 FROM fw_libraries vl WHERE vl.id = {upload}.library_id AND {})",
        visible("vl", viewer)
    )
}

/// SQL: the track whose id is `track` (a column or an expression) has an
/// upload visible to `viewer`.
pub(crate) fn playable(track: &str, viewer: Option<i64>) -> String {
    format!(
        "EXISTS (SELECT 1 FROM fw_uploads vu WHERE vu.track_id = {track} AND {})",
        upload_visible("vu", viewer)
    )
}
