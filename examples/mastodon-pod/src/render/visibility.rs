//! The SQL conditions of who may see what.

/// SQL: status `s` is visible to the viewer `v` (NULL when
/// anonymous): its author's, public or unlisted, followers-only to a
/// follower, or mentioning the viewer; never if the author blocks the
/// viewer. `v` is an SQL expression: a bound parameter, or a column such as a
/// follower's id.
pub(crate) fn visible_to(s: &str, v: &str) -> String {
    format!(
        "({s}.account_id = {v} OR (NOT EXISTS (SELECT 1 FROM blocks vb WHERE vb.account_id = {s}.account_id AND vb.target_account_id = {v}) \
         AND ({s}.visibility IN ('public', 'unlisted') \
         OR ({s}.visibility = 'private' AND EXISTS (SELECT 1 FROM follows vf WHERE vf.account_id = {v} AND vf.target_account_id = {s}.account_id)) \
         OR EXISTS (SELECT 1 FROM mentions vm WHERE vm.status_id = {s}.id AND vm.account_id = {v}))))"
    )
}

/// SQL: status `s` and, for a reblog, the reblogged status are visible.
pub(crate) fn readable(s: &str) -> String {
    readable_to(s, "$1")
}

/// As [`readable`], to the viewer `v` (see [`visible_to`]).
pub(crate) fn readable_to(s: &str, v: &str) -> String {
    format!(
        "({} AND ({s}.reblog_of_id IS NULL OR EXISTS (SELECT 1 FROM statuses ro WHERE ro.id = {s}.reblog_of_id AND {})))",
        visible_to(s, v),
        visible_to("ro", v)
    )
}

/// SQL: the viewer (`$1`) neither blocks nor mutes the author of `s` (or of
/// the status it reblogs): what timelines leave out.
pub(crate) fn not_hidden(s: &str) -> String {
    not_hidden_to(s, "$1")
}

/// As [`not_hidden`], for the viewer `v`.
pub(crate) fn not_hidden_to(s: &str, v: &str) -> String {
    let authors = format!(
        "({s}.account_id, COALESCE((SELECT ha.account_id FROM statuses ha WHERE ha.id = {s}.reblog_of_id), 0))"
    );
    format!(
        "(NOT EXISTS (SELECT 1 FROM blocks hb WHERE hb.account_id = {v} AND hb.target_account_id IN {authors}) \
         AND NOT EXISTS (SELECT 1 FROM mutes hm WHERE hm.account_id = {v} AND hm.target_account_id IN {authors}))"
    )
}
