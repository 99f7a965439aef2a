//! The rescore workers. A step either works one batch of an open part (the oldest running
//! job's first part no other worker holds) or starts the oldest pending job: counts its leads
//! and splits them into parts of about equal size by lead id. Workers wait for
//! `NOTIFY leadstream_rescore` (a job queued or started anywhere), with a fallback poll.

use super::batch::rescore_batch;
use crate::app::error::CommandError;
use crate::app::unit::{transaction, WriteError};
use shared::events::EventMetadata;
use shared::store::follow::{Wakeup, Woken};
use sqlx::{PgConnection, PgPool};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// How jobs are cut up.
#[derive(Debug, Clone, Copy)]
pub struct RescorePlan {
    /// Leads per batch transaction (larger batches: fewer commits and wake-ups of the relay
    /// and projector; 2,500 was no faster than 1,000 at 1M leads).
    pub batch: i64,
    /// A job has one part per this many leads ...
    pub part_leads: i64,
    /// ... and at most this many parts.
    pub max_parts: i64,
}

impl Default for RescorePlan {
    fn default() -> Self {
        Self {
            batch: 1000,
            part_leads: 50_000,
            max_parts: 16,
        }
    }
}

/// An open part, locked for this step's transaction.
#[derive(sqlx::FromRow)]
struct Part {
    job_id: Uuid,
    part: i32,
    tenant_id: Uuid,
    cursor: Option<Uuid>,
    upto: Option<Uuid>,
}

async fn next_part(conn: &mut PgConnection) -> Result<Option<Part>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.job_id, p.part, j.tenant_id, p.cursor, p.upto
         FROM rescore_jobs j JOIN rescore_parts p ON p.job_id = j.job_id
         WHERE j.status = 'running' AND NOT p.finished
         ORDER BY j.created_at, p.part LIMIT 1
         FOR UPDATE OF p SKIP LOCKED",
    )
    .fetch_optional(conn)
    .await
}

/// One batch of `part`: its leads scored, its cursor and the job's counts moved; when the part
/// ran out of leads it is finished, and the job with it if it was the last.
async fn work_part(
    conn: &mut PgConnection,
    part: &Part,
    plan: &RescorePlan,
) -> Result<(), WriteError> {
    let metadata = EventMetadata {
        actor: Some("system:rescore".into()),
        correlation_id: Some(part.job_id),
        // Each batch is one command: its webhook is one grouped `leads.scored`.
        batch_id: Some(Uuid::new_v4()),
        ..Default::default()
    };
    let range = (part.cursor, part.upto);
    let outcome = rescore_batch(conn, part.tenant_id, range, plan.batch, &metadata).await?;
    let seen = outcome.seen.len() as i64;
    // Out of leads: a short batch, or the part's last lead reached.
    let finished =
        seen < plan.batch || (part.upto.is_some() && outcome.seen.last() == part.upto.as_ref());
    sqlx::query(
        "UPDATE rescore_parts SET cursor = coalesce($3, cursor), finished = $4
         WHERE job_id = $1 AND part = $2",
    )
    .bind(part.job_id)
    .bind(part.part)
    .bind(outcome.seen.last())
    .bind(finished)
    .execute(&mut *conn)
    .await?;
    // Locks the job row until commit: of two workers finishing the last two parts at once,
    // the second gets here after the first committed, so its check below sees both finished.
    sqlx::query(
        "UPDATE rescore_jobs SET done = done + $2, changed = changed + $3,
             total = greatest(total, done + $2), updated_at = now()
         WHERE job_id = $1",
    )
    .bind(part.job_id)
    .bind(seen)
    .bind(outcome.changed as i64)
    .execute(&mut *conn)
    .await?;
    if finished {
        sqlx::query(
            "UPDATE rescore_jobs SET status = 'done', total = done, updated_at = now(), finished_at = now()
             WHERE job_id = $1 AND status = 'running'
               AND NOT EXISTS (SELECT 1 FROM rescore_parts WHERE job_id = $1 AND NOT finished)",
        )
        .bind(part.job_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Starts the oldest pending job: its total, its parts (split at every `size`-th lead id), its
/// status; wakes every worker. False when no job is pending (or another worker starts it).
async fn start_next_job(conn: &mut PgConnection, plan: &RescorePlan) -> Result<bool, sqlx::Error> {
    let job: Option<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT job_id, tenant_id FROM rescore_jobs WHERE status = 'pending'
         ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some((job_id, tenant)) = job else {
        return Ok(false);
    };
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM streams WHERE tenant_id = $1 AND stream_type = 'lead'",
    )
    .bind(tenant)
    .fetch_one(&mut *conn)
    .await?;
    let parts = (total / plan.part_leads.max(1)).clamp(1, plan.max_parts.max(1));
    let size = (total + parts - 1) / parts;
    let bounds: Vec<Uuid> = if parts > 1 {
        sqlx::query_scalar(
            "SELECT stream_id FROM (
                 SELECT stream_id, row_number() OVER (ORDER BY stream_id) AS n
                 FROM streams WHERE tenant_id = $1 AND stream_type = 'lead') s
             WHERE n % $2 = 0 ORDER BY stream_id LIMIT $3",
        )
        .bind(tenant)
        .bind(size)
        .bind(parts - 1)
        .fetch_all(&mut *conn)
        .await?
    } else {
        Vec::new()
    };
    // Part k runs after bound k-1 (from the start for the first) up to bound k (to the end
    // for the last).
    let cursors: Vec<Option<Uuid>> = std::iter::once(None)
        .chain(bounds.iter().copied().map(Some))
        .collect();
    let uptos: Vec<Option<Uuid>> = bounds
        .iter()
        .copied()
        .map(Some)
        .chain(std::iter::once(None))
        .collect();
    sqlx::query(
        "INSERT INTO rescore_parts (job_id, part, cursor, upto)
         SELECT $1, n - 1, c, u FROM unnest($2::uuid[], $3::uuid[]) WITH ORDINALITY AS t(c, u, n)",
    )
    .bind(job_id)
    .bind(&cursors)
    .bind(&uptos)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE rescore_jobs SET status = 'running', total = $2, updated_at = now() WHERE job_id = $1",
    )
    .bind(job_id)
    .bind(total)
    .execute(&mut *conn)
    .await?;
    wake_workers(conn, job_id).await?;
    Ok(true)
}

/// Wakes the rescore workers of every replica when the caller's transaction commits.
pub async fn wake_workers(conn: &mut PgConnection, job_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify('leadstream_rescore', $1::text)")
        .bind(job_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Works one batch of an open part, or starts a pending job; false when there is nothing to
/// do (no open job, or every open part is being worked by another worker).
pub async fn step(pool: &PgPool, plan: &RescorePlan) -> Result<bool, CommandError> {
    transaction(pool, plan, |tx, plan| {
        Box::pin(async move {
            Ok(match next_part(tx).await? {
                Some(part) => {
                    work_part(tx, &part, plan).await?;
                    true
                }
                None => start_next_job(tx, plan).await?,
            })
        })
    })
    .await
}

/// Runs `workers` workers until shutdown, woken by `NOTIFY leadstream_rescore` (a job queued
/// or started, by any replica), with a fallback poll.
pub async fn run(
    pool: PgPool,
    plan: RescorePlan,
    workers: usize,
    poll: Duration,
    shutdown: CancellationToken,
) {
    let wake = Arc::new(Notify::new());
    let listener = tokio::spawn(listen(pool.clone(), wake.clone(), shutdown.clone()));
    let workers: Vec<_> = (0..workers.max(1))
        .map(|_| {
            let (pool, wake, shutdown) = (pool.clone(), wake.clone(), shutdown.clone());
            tokio::spawn(async move { work(&pool, &plan, &wake, poll, &shutdown).await })
        })
        .collect();
    for w in workers {
        let _ = w.await;
    }
    let _ = listener.await;
}

async fn work(
    pool: &PgPool,
    plan: &RescorePlan,
    wake: &Notify,
    poll: Duration,
    shutdown: &CancellationToken,
) {
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        // Registered before the step, so a wake-up during it is not lost.
        let woken = wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        match step(pool, plan).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "rescore batch failed"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = &mut woken => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

async fn listen(pool: PgPool, wake: Arc<Notify>, shutdown: CancellationToken) {
    let mut wakeup = match Wakeup::listen(&pool, "leadstream_rescore").await {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "rescore workers: no listener; polling");
            return;
        }
    };
    loop {
        match wakeup.wait(Duration::from_secs(3600), &shutdown).await {
            Ok(Woken::Notified) => wake.notify_waiters(),
            Ok(Woken::Timeout) => {}
            Ok(Woken::Shutdown) => return,
            // The service is stopping (its pool closes): not a failure.
            Err(_) if shutdown.is_cancelled() => return,
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => {
                tracing::warn!(error = %e, "rescore workers: listener failed; polling");
                return;
            }
        }
    }
}
