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

use super::{Checkpoint, EVENT_COLUMNS};
use crate::events::StoredEvent;
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgConnection, Row};

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

/// The checkpoint `name` and, in the same statement, at most `limit` events after it as
/// [`tail`] hands them out, read as `columns` (`EVENT_COLUMNS` or a variant of it): for a
/// follower that does not lock its checkpoint (it moves it with `move_checkpoint` or
/// `moved_cte`). `None` when the checkpoint has no row.
pub async fn tail_after_checkpoint(
    conn: &mut PgConnection,
    name: &str,
    columns: &str,
    limit: i64,
) -> Result<Option<(Checkpoint, Vec<StoredEvent>)>, sqlx::Error> {
    let rows: Vec<PgRow> = sqlx::query(&format!(
        "SELECT c.tx_id::text::bigint AS checkpoint_tx, c.position AS checkpoint_position,
                c.legacy_position AS checkpoint_legacy, e.*
         FROM checkpoints c
         LEFT JOIN LATERAL (
             SELECT {columns} FROM events
             WHERE (events.tx_id, events.position) > (c.tx_id, c.position)
               AND events.tx_id < pg_snapshot_xmin(pg_current_snapshot())
             ORDER BY events.tx_id, events.position LIMIT $2
         ) e ON true
         WHERE c.name = $1
         ORDER BY e.tx_id, e.position"
    ))
    .bind(name)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let checkpoint = Checkpoint {
        at: LogPosition::new(
            first.try_get("checkpoint_tx")?,
            first.try_get("checkpoint_position")?,
        ),
        legacy_position: first.try_get("checkpoint_legacy")?,
    };
    let mut events = Vec::with_capacity(rows.len());
    for row in &rows {
        if row.try_get::<Option<uuid::Uuid>, _>("event_id")?.is_some() {
            events.push(StoredEvent::from_row(row)?);
        }
    }
    Ok(Some((checkpoint, events)))
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
    columns: &str,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {columns} FROM events
         WHERE tx_id = $1::text::xid8 AND position > $2 ORDER BY position"
    ))
    .bind(tx)
    .bind(after_position)
    .fetch_all(conn)
    .await
}
