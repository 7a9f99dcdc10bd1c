//! Notifications: who is told of what.

use sqlx::AnyPool;

use crate::support::ApiError;

/// Creates a notification for `recipient` unless it is the actor's own
/// action or the recipient blocks the actor or mutes their notifications.
pub(crate) async fn notify(
    db: &AnyPool,
    recipient: i64,
    from: i64,
    kind: &str,
    status_id: Option<i64>,
) -> Result<(), ApiError> {
    if recipient == from {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO notifications (account_id, from_account_id, type, status_id) \
         SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM blocks WHERE account_id = $1 AND target_account_id = $2) \
         AND NOT EXISTS (SELECT 1 FROM mutes WHERE account_id = $1 AND target_account_id = $2 AND hide_notifications = 1)",
    )
    .bind(recipient)
    .bind(from)
    .bind(kind)
    .bind(status_id)
    .execute(db)
    .await?;
    Ok(())
}
