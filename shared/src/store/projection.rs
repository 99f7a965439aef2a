//! Running a projection over the event store (invariant 7): each step locks the projection's
//! checkpoint row, reads the next events with the gap-free tail, applies them and moves the
//! checkpoint, all in one transaction. A crash mid-step rolls everything back; a replay
//! changes nothing; two replicas serialize on the checkpoint row, so an event is never applied
//! twice. The loop wakes on the events trigger's NOTIFY and polls as a fallback.

use super::quarantine::apply_guarded;
use super::{
    has_events_after, load_checkpoint, lock_checkpoint, save_checkpoint, tail, LogPosition,
    NOTIFY_CHANNEL,
};
use crate::events::StoredEvent;
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};
use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A read model derived from events.
pub trait Projection: Send + Sync {
    /// The projection's row in `checkpoints`.
    fn name(&self) -> &str;

    /// Applies events (in position order) inside the step's transaction. An error rolls the
    /// whole step back, checkpoint included.
    fn apply(
        &self,
        tx: &mut PgConnection,
        events: &[StoredEvent],
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("cannot apply event at position {position}: {reason}")]
    Event { position: i64, reason: String },
    /// The checkpoint was written in the old position-only order (before migration 0015):
    /// the projection must be rebuilt (or otherwise repaired) before it follows again.
    #[error(
        "checkpoint {name} predates the follower order (legacy position {legacy}): repair it first"
    )]
    NeedsRepair { name: String, legacy: i64 },
}

#[derive(Debug, Clone)]
pub struct ProjectionConfig {
    /// Events per step (one transaction).
    pub batch_size: i64,
    /// Fallback poll when no NOTIFY arrives.
    pub poll_interval: Duration,
}

impl Default for ProjectionConfig {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// One step: returns how many events were applied (0 when caught up).
pub async fn step<P: Projection>(
    pool: &PgPool,
    projection: &P,
    batch_size: i64,
) -> Result<usize, ProjectionError> {
    let mut tx = pool.begin().await?;
    // Another replica's step holds this row until it commits; we then read its new place.
    let at = lock_checkpoint(&mut tx, projection.name()).await?;
    if let Some(legacy) = at.legacy_position {
        return Err(ProjectionError::NeedsRepair {
            name: projection.name().to_owned(),
            legacy,
        });
    }
    let events = tail(&mut tx, at.at, batch_size).await?;
    let Some(last) = events.last().map(StoredEvent::log_position) else {
        tx.rollback().await?;
        return Ok(0);
    };
    apply_guarded(&mut tx, projection, &events).await?;
    save_checkpoint(&mut tx, projection.name(), last).await?;
    tx.commit().await?;
    Ok(events.len())
}

/// The projection's checkpoint (`LogPosition::START` before its first step).
pub async fn checkpoint(pool: &PgPool, name: &str) -> Result<LogPosition, sqlx::Error> {
    Ok(load_checkpoint(&mut *pool.acquire().await?, name).await?.at)
}

const MIN_BACKOFF: Duration = Duration::from_millis(5);

/// Runs `projection` until `shutdown`, stepping while there is work and waiting for a NOTIFY
/// (or the poll interval) when caught up. Failures are logged and retried after a pause.
pub async fn run<P: Projection>(
    pool: PgPool,
    projection: P,
    config: ProjectionConfig,
    shutdown: CancellationToken,
) {
    while !shutdown.is_cancelled() {
        if let Err(e) = follow(&pool, &projection, &config, &shutdown).await {
            if shutdown.is_cancelled() {
                break; // the pool is closing under us: not a failure
            }
            tracing::warn!(projection = projection.name(), error = %e, "projection failed; retrying");
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }
}

async fn follow<P: Projection>(
    pool: &PgPool,
    projection: &P,
    config: &ProjectionConfig,
    shutdown: &CancellationToken,
) -> Result<(), ProjectionError> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(NOTIFY_CHANNEL).await?;
    let mut backoff = MIN_BACKOFF;
    loop {
        let applied = step(pool, projection, config.batch_size).await? as i64;
        if applied == config.batch_size {
            continue;
        }
        if applied > 0 {
            backoff = MIN_BACKOFF;
        } else {
            let at = checkpoint(pool, projection.name()).await?;
            if has_events_after(&mut *pool.acquire().await?, at).await? {
                // Committed events wait behind an older transaction still in flight.
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(config.poll_interval);
                continue;
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            n = listener.recv() => { n?; }
            _ = tokio::time::sleep(config.poll_interval) => {}
        }
        while listener.next_buffered().is_some() {}
    }
}
