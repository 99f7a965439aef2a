//! The gap-free tail (invariant 3). A transaction may commit a lower position after a higher
//! one is visible, so "max position seen" would skip it. Only rows written by transactions
//! older than the oldest one still running (`pg_snapshot_xmin`) are returned: no transaction
//! that could still commit a lower position is in flight for anything returned.

use super::EVENT_COLUMNS;
use crate::events::StoredEvent;
use sqlx::PgConnection;

/// Events after `after`, in position order, at most `limit`, none past a possible gap.
pub async fn tail(
    conn: &mut PgConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM events
         WHERE position > $1 AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
         ORDER BY position LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// True when events exist after `position` that the tail may not hand out yet (their writers,
/// or older transactions anywhere in the cluster, are still in flight): a tailer woken for
/// them should look again shortly instead of waiting for its next poll.
pub async fn has_events_after(conn: &mut PgConnection, position: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM events WHERE position > $1)")
        .bind(position)
        .fetch_one(conn)
        .await
}
