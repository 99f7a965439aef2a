//! The gap-free tail (invariant 3): every committed event exactly once, whatever order
//! concurrent transactions take their ids, insert and commit.
//!
//! Events are followed in the order of the pair (writing transaction's id, position) and a
//! follower checkpoints that pair. Only rows of transactions older than the oldest one still
//! running (`pg_snapshot_xmin`) are handed out, so no transaction that could still commit
//! something before the checkpoint is in flight: everything at or before a checkpoint is
//! settled. Position alone is not an order a follower may checkpoint: a transaction can take
//! its id first and its position last, and commit after a later position was handed out.
//! Within one stream the pair order is the version order (appends refuse to go behind the
//! stream's last writer, see `append`).

use super::{EVENT_COLUMNS, EVENT_HEADER_COLUMNS};
use crate::events::StoredEvent;
use sqlx::PgConnection;

/// A place in the follower order: the writing transaction's id (`xid8`, as a number) and the
/// event's position. `LogPosition::START` is before every event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogPosition {
    pub tx: i64,
    pub position: i64,
}

impl LogPosition {
    pub const START: LogPosition = LogPosition { tx: 0, position: 0 };

    pub fn new(tx: i64, position: i64) -> Self {
        Self { tx, position }
    }
}

impl std::fmt::Display for LogPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.tx, self.position)
    }
}

impl StoredEvent {
    /// This event's place in the follower order.
    pub fn log_position(&self) -> LogPosition {
        LogPosition::new(self.tx_id, self.position)
    }
}

/// Events after `after` in the follower order, at most `limit`, none a still-running
/// transaction could precede.
pub async fn tail(
    conn: &mut PgConnection,
    after: LogPosition,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    tail_of(conn, EVENT_COLUMNS, after, limit).await
}

/// [`tail`] without payloads and metadata (JSON `null`): for a follower that reads the bodies
/// of only the events it needs.
pub async fn tail_headers(
    conn: &mut PgConnection,
    after: LogPosition,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    tail_of(conn, EVENT_HEADER_COLUMNS, after, limit).await
}

async fn tail_of(
    conn: &mut PgConnection,
    columns: &str,
    after: LogPosition,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {columns} FROM events
         WHERE (tx_id, position) > ($1::text::xid8, $2)
           AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
         ORDER BY events.tx_id, events.position LIMIT $3"
    ))
    .bind(after.tx)
    .bind(after.position)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// True when events exist after `after` that the tail may not hand out yet (their writers,
/// or older transactions anywhere in the cluster, are still in flight): a tailer woken for
/// them should look again shortly instead of waiting for its next poll.
pub async fn has_events_after(
    conn: &mut PgConnection,
    after: LogPosition,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM events WHERE (tx_id, position) > ($1::text::xid8, $2))",
    )
    .bind(after.tx)
    .bind(after.position)
    .fetch_one(conn)
    .await
}

/// The events of transaction `tx` after `after_position` (all committed: the tail handed out
/// an event of it, so it is older than every running transaction).
pub async fn rest_of_transaction(
    conn: &mut PgConnection,
    tx: i64,
    after_position: i64,
    headers_only: bool,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let columns = if headers_only {
        EVENT_HEADER_COLUMNS
    } else {
        EVENT_COLUMNS
    };
    sqlx::query_as(&format!(
        "SELECT {columns} FROM events
         WHERE tx_id = $1::text::xid8 AND position > $2 ORDER BY position"
    ))
    .bind(tx)
    .bind(after_position)
    .fetch_all(conn)
    .await
}
