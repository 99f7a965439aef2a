//! Streams a projection could not apply (migration 0017): one event that cannot be applied
//! never stops a projection for everyone. When a step fails on an event, the step is redone
//! one event at a time, each in a savepoint; an event that fails is recorded with its error,
//! its stream is quarantined (its later events are skipped and counted, so the read model
//! never shows a state built past a gap), and everything else is applied. Reads of a
//! quarantined stream answer an error; a rebuild (with the fixed code) starts it afresh.

use crate::runner::{Projection, ProjectionError};
use shared::events::StoredEvent;
use sqlx::PgConnection;
use std::collections::HashSet;
use uuid::Uuid;

/// Whether a failure belongs to the event (quarantine its stream) rather than to the moment
/// (a lost connection, a deadlock: retry the step). Data exceptions (22), integrity (23) and
/// program limits (54, e.g. an index entry too large) are the event's.
pub fn is_poison(e: &ProjectionError) -> bool {
    match e {
        ProjectionError::Event { .. } => true,
        ProjectionError::Db(sqlx::Error::Database(db)) => db
            .code()
            .is_some_and(|c| c.starts_with("22") || c.starts_with("23") || c.starts_with("54")),
        ProjectionError::Db(_) | ProjectionError::NeedsRepair(_) => false,
    }
}

/// The quarantined streams of `projection` among those of `events`.
pub async fn quarantined(
    conn: &mut PgConnection,
    projection: &str,
    events: &[StoredEvent],
) -> Result<HashSet<Uuid>, sqlx::Error> {
    let ids: Vec<Uuid> = events
        .iter()
        .map(|e| e.stream_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let rows: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT stream_id FROM projection_failures WHERE projection = $1 AND stream_id = ANY($2)",
    )
    .bind(projection)
    .bind(&ids)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Counts skipped events of quarantined streams.
pub async fn count_skipped(
    conn: &mut PgConnection,
    projection: &str,
    skipped: &[&StoredEvent],
) -> Result<(), sqlx::Error> {
    let ids: Vec<Uuid> = skipped.iter().map(|e| e.stream_id).collect();
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE projection_failures f SET skipped = f.skipped + s.n
         FROM (SELECT id, count(*) AS n FROM unnest($2::uuid[]) AS id GROUP BY id) s
         WHERE f.projection = $1 AND f.stream_id = s.id",
    )
    .bind(projection)
    .bind(&ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// Applies `events` one at a time, each in a savepoint, quarantining the stream of any event
/// that fails for its own reasons (and skipping that stream's later events). Returns how many
/// events failed or were skipped. A failure of the moment is returned as an error.
pub async fn apply_isolated<P: Projection>(
    tx: &mut PgConnection,
    projection: &P,
    events: &[StoredEvent],
) -> Result<usize, ProjectionError> {
    let mut blocked = quarantined(tx, projection.name(), events).await?;
    let mut left_out = 0;
    for e in events {
        if blocked.contains(&e.stream_id) {
            count_skipped(tx, projection.name(), &[e]).await?;
            left_out += 1;
            continue;
        }
        sqlx::query("SAVEPOINT apply_one").execute(&mut *tx).await?;
        match projection.apply(tx, std::slice::from_ref(e)).await {
            Ok(()) => {
                sqlx::query("RELEASE SAVEPOINT apply_one")
                    .execute(&mut *tx)
                    .await?;
            }
            Err(err) if is_poison(&err) => {
                sqlx::query("ROLLBACK TO SAVEPOINT apply_one")
                    .execute(&mut *tx)
                    .await?;
                tracing::error!(
                    projection = projection.name(),
                    position = e.position,
                    stream = %e.stream_id,
                    tenant = %e.tenant_id,
                    event_type = %e.event_type,
                    error = %err,
                    "event cannot be applied: its stream is quarantined, the projection goes on"
                );
                sqlx::query(
                    "INSERT INTO projection_failures
                         (projection, stream_id, tenant_id, position, event_type, error)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                )
                .bind(projection.name())
                .bind(e.stream_id)
                .bind(e.tenant_id)
                .bind(e.position)
                .bind(&e.event_type)
                .bind(err.to_string())
                .execute(&mut *tx)
                .await?;
                blocked.insert(e.stream_id);
                left_out += 1;
            }
            Err(err) => return Err(err),
        }
    }
    Ok(left_out)
}

/// Moves the failures recorded under `from` (a rebuild) to `to` (the live projection),
/// replacing the live ones: the rebuilt model is exactly as complete as they say.
pub async fn replace_failures(
    conn: &mut PgConnection,
    from: &str,
    to: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM projection_failures WHERE projection = $1")
        .bind(to)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE projection_failures SET projection = $2 WHERE projection = $1")
        .bind(from)
        .bind(to)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets the failures recorded under `projection` (a rebuild starting afresh).
pub async fn clear_failures(conn: &mut PgConnection, projection: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM projection_failures WHERE projection = $1")
        .bind(projection)
        .execute(conn)
        .await?;
    Ok(())
}

/// Applies a batch in the caller's transaction: the events of quarantined streams skipped,
/// the rest at once; when an event fails for its own reasons, the batch is redone one event
/// at a time (`apply_isolated`). Every follower of a projection (the live step, a rebuild's
/// replay and its catch-up) applies through here.
pub async fn apply_guarded<P: Projection>(
    tx: &mut PgConnection,
    projection: &P,
    events: &[StoredEvent],
) -> Result<(), ProjectionError> {
    sqlx::query("SAVEPOINT apply_batch")
        .execute(&mut *tx)
        .await?;
    let blocked = quarantined(tx, projection.name(), events).await?;
    let result = if blocked.is_empty() {
        projection.apply(tx, events).await
    } else {
        let (skipped, kept): (Vec<&StoredEvent>, Vec<&StoredEvent>) =
            events.iter().partition(|e| blocked.contains(&e.stream_id));
        count_skipped(tx, projection.name(), &skipped).await?;
        let kept: Vec<StoredEvent> = kept.into_iter().cloned().collect();
        projection.apply(tx, &kept).await
    };
    match result {
        Ok(()) => {
            sqlx::query("RELEASE SAVEPOINT apply_batch")
                .execute(&mut *tx)
                .await?;
            Ok(())
        }
        Err(e) if is_poison(&e) => {
            sqlx::query("ROLLBACK TO SAVEPOINT apply_batch")
                .execute(&mut *tx)
                .await?;
            apply_isolated(tx, projection, events).await?;
            Ok(())
        }
        Err(e) => Err(e),
    }
}
