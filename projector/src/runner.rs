//! Running a projection over the event store (invariant 7): each round locks the projection's
//! checkpoint row, reads the next events with the gap-free tail, applies them and moves the
//! checkpoint, all in one transaction (`shared::store::follow`). A crash mid-round rolls
//! everything back; a replay changes nothing; two replicas serialize on the checkpoint row, so
//! an event is never applied twice.

use crate::quarantine::apply_guarded;
use shared::events::StoredEvent;
use shared::store::follow::{
    follow, round, supervise, BatchHandler, Hold, NeedsRepair, Pace, Rounds,
};
use shared::store::{load_checkpoint, LogPosition};
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
    #[error(transparent)]
    NeedsRepair(#[from] NeedsRepair),
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

/// A projection as a follower's batch handler: batches applied through the quarantine guard.
struct Apply<'p, P>(&'p P);

impl<P: Projection> BatchHandler for Apply<'_, P> {
    type Error = ProjectionError;

    fn checkpoint(&self) -> &str {
        self.0.name()
    }

    async fn handle(
        &mut self,
        conn: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        apply_guarded(conn, self.0, events).await
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
    let applied = round(&mut tx, &mut Apply(projection), Hold::Row, batch_size).await?;
    if applied > 0 {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(applied)
}

/// The projection's checkpoint (`LogPosition::START` before its first step).
pub async fn checkpoint(pool: &PgPool, name: &str) -> Result<LogPosition, sqlx::Error> {
    Ok(load_checkpoint(&mut *pool.acquire().await?, name).await?.at)
}

struct Steps<'a, P> {
    pool: &'a PgPool,
    projection: &'a P,
    batch_size: i64,
}

impl<P: Projection> Rounds for Steps<'_, P> {
    type Error = ProjectionError;

    fn checkpoint(&self) -> &str {
        self.projection.name()
    }

    async fn next_round(&mut self) -> Result<usize, ProjectionError> {
        step(self.pool, self.projection, self.batch_size).await
    }
}

/// Runs `projection` until `shutdown`, stepping while there is work and waiting for a NOTIFY
/// (or the poll interval) when caught up. Failures are logged and retried after a pause.
pub async fn run<P: Projection>(
    pool: PgPool,
    projection: P,
    config: ProjectionConfig,
    shutdown: CancellationToken,
) {
    let pace = Pace {
        batch_size: config.batch_size,
        poll_interval: config.poll_interval,
        coalesce: Duration::ZERO,
    };
    supervise(projection.name(), &shutdown, || async {
        let mut steps = Steps {
            pool: &pool,
            projection: &projection,
            batch_size: config.batch_size,
        };
        follow(&pool, &mut steps, pace, &shutdown).await
    })
    .await
}
