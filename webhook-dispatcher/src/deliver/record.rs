//! Recording attempts in batches: each finished attempt is written with its delivery's new
//! state (succeeded, failed with the next try scheduled, or exhausted) and its endpoint's
//! health (last success, failing since) — one transaction for everything that finished
//! meanwhile, so thousands of deliveries a second cost a few statements.

use super::schedule::Schedule;
use super::send::Outcome;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use std::collections::HashSet;
use uuid::Uuid;

/// A finished attempt.
#[derive(Debug, Clone)]
pub struct Finished {
    pub delivery_id: Uuid,
    pub webhook_id: Uuid,
    /// Attempts of the delivery's current round before this one.
    pub round_attempts: i32,
    pub at: DateTime<Utc>,
    pub outcome: Outcome,
}

/// What a batch changed about endpoints' health.
#[derive(Debug, Default)]
pub struct Health {
    /// Endpoints that answered 410 Gone.
    pub gone: Vec<Uuid>,
    /// Endpoints with a failure and no success in the batch.
    pub failing: Vec<Uuid>,
}

pub async fn record(
    pool: &PgPool,
    batch: &[Finished],
    schedule: &Schedule,
) -> Result<Health, sqlx::Error> {
    let now = Utc::now();
    let n = batch.len();
    let (
        mut ids,
        mut codes,
        mut durations,
        mut bodies,
        mut errors,
        mut ats,
        mut statuses,
        mut nexts,
    ) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut succeeded: HashSet<Uuid> = HashSet::new();
    let mut failed: HashSet<Uuid> = HashSet::new();
    let mut gone: HashSet<Uuid> = HashSet::new();
    for f in batch {
        let o = &f.outcome;
        let (status, next) = if o.succeeded() {
            succeeded.insert(f.webhook_id);
            ("succeeded", now)
        } else {
            failed.insert(f.webhook_id);
            if o.gone() {
                gone.insert(f.webhook_id);
                ("exhausted", now)
            } else {
                match schedule.next_try(f.round_attempts + 1, o.retry_after) {
                    Some(wait) => ("failed", now + wait),
                    None => ("exhausted", now),
                }
            }
        };
        ids.push(f.delivery_id);
        codes.push(o.status_code.map(i32::from));
        durations.push(o.duration_ms);
        bodies.push(o.response_body.clone());
        errors.push(o.error.clone());
        ats.push(f.at);
        statuses.push(status);
        nexts.push(next);
    }
    let mut tx = pool.begin().await?;
    without_waiting_for_the_disk(&mut tx).await?;
    sqlx::query(
        "WITH r AS (
             SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[], $4::text[], $5::text[],
                                  $6::timestamptz[], $7::text[], $8::timestamptz[])
                 AS r(delivery_id, status_code, duration_ms, response_body, error, at, status, next_at)
         ), updated AS (
             UPDATE webhook_deliveries d
             SET attempts = d.attempts + 1, round_attempts = d.round_attempts + 1,
                 status = r.status, last_status_code = r.status_code, last_error = r.error,
                 next_attempt_at = r.next_at, updated_at = now()
             FROM r WHERE d.delivery_id = r.delivery_id AND d.status <> 'cancelled'
             RETURNING d.delivery_id, d.attempts
         )
         INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, duration_ms, response_body, error)
         SELECT u.delivery_id, u.attempts, r.at, r.status_code, r.duration_ms, r.response_body, r.error
         FROM updated u JOIN r USING (delivery_id)",
    )
    .bind(&ids)
    .bind(&codes)
    .bind(&durations)
    .bind(&bodies)
    .bind(&errors)
    .bind(&ats)
    .bind(&statuses)
    .bind(&nexts)
    .execute(&mut *tx)
    .await?;
    let ok: Vec<Uuid> = succeeded.iter().copied().collect();
    if !ok.is_empty() {
        sqlx::query(
            "UPDATE webhooks SET last_success_at = $2, failing_since = NULL
             WHERE webhook_id = ANY($1)",
        )
        .bind(&ok)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    let failing: Vec<Uuid> = failed.difference(&succeeded).copied().collect();
    if !failing.is_empty() {
        let first_failure = batch.iter().map(|f| f.at).min().unwrap_or(now);
        sqlx::query(
            "UPDATE webhooks SET failing_since = $2
             WHERE webhook_id = ANY($1) AND failing_since IS NULL",
        )
        .bind(&failing)
        .bind(first_failure)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Health {
        gone: gone.into_iter().collect(),
        failing,
    })
}

/// Claims and attempt records commit without waiting for their WAL flush: a database crash
/// can lose the last few milliseconds of them, and the deliveries concerned are then due
/// again — sent again under the same `webhook-id`, never lost. (Event appends, the fan-out
/// and disables keep waiting: what others may have read must be durable.)
pub async fn without_waiting_for_the_disk(
    conn: &mut sqlx::PgConnection,
) -> Result<(), sqlx::Error> {
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(conn)
        .await?;
    Ok(())
}
