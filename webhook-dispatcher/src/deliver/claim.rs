//! Claiming due deliveries: `FOR UPDATE SKIP LOCKED` per endpoint (so replicas never claim
//! the same one) and a lease — a claimed delivery's `next_attempt_at` moves to the lease's
//! end, so if its worker dies it is due again then. Each endpoint gets at most its own budget
//! (the claims it may still hold), so a slow endpoint's backlog never crowds out another's.

use sqlx::PgPool;
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub delivery_id: Uuid,
    pub webhook_id: Uuid,
    pub message_id: Uuid,
    pub round_attempts: i32,
    pub url: String,
    pub body: String,
    /// The endpoint's live secrets, newest first.
    pub secrets: Vec<String>,
}

/// Claims at most `limit` due deliveries (one statement, its own transaction), at most `per_endpoint` minus what `held` says this
/// worker already holds of each endpoint. Test messages go out to inactive endpoints too.
pub async fn claim(
    pool: &PgPool,
    held: &HashMap<Uuid, usize>,
    per_endpoint: usize,
    limit: usize,
    lease: Duration,
) -> Result<Vec<Claimed>, sqlx::Error> {
    let busy: Vec<Uuid> = held.keys().copied().collect();
    let counts: Vec<i32> = busy.iter().map(|id| held[id] as i32).collect();
    sqlx::query_as(
        "WITH busy AS (SELECT * FROM unnest($1::uuid[], $2::int[]) AS b(webhook_id, n)),
         picked AS (
             SELECT d.delivery_id
             -- Endpoints in a random order: when the claim fills up, no account's endpoints
             -- always come first.
             FROM (SELECT webhook_id, active FROM webhooks ORDER BY random()) w
             LEFT JOIN busy b ON b.webhook_id = w.webhook_id
             CROSS JOIN LATERAL (
                 SELECT delivery_id FROM webhook_deliveries d
                 WHERE d.webhook_id = w.webhook_id AND d.status IN ('pending', 'failed')
                   AND d.next_attempt_at <= now()
                   AND (w.active OR d.event = 'webhook.test')
                 ORDER BY d.next_attempt_at
                 LIMIT greatest($3 - coalesce(b.n, 0), 0)
                 FOR UPDATE OF d SKIP LOCKED
             ) d
             LIMIT $4
         ),
         -- By id (an index probe each): a join on the CTE would be planned as a scan of
         -- every delivery.
         claimed AS (
             UPDATE webhook_deliveries d
             SET next_attempt_at = now() + $5 * interval '1 millisecond'
             WHERE d.delivery_id = ANY (ARRAY(SELECT delivery_id FROM picked))
             RETURNING d.delivery_id, d.webhook_id, d.message_id, d.round_attempts
         )
         SELECT c.delivery_id, c.webhook_id, c.message_id, c.round_attempts, w.url, m.body,
                ARRAY(SELECT s.secret FROM webhook_secrets s
                      WHERE s.webhook_id = c.webhook_id
                        AND (s.expires_at IS NULL OR s.expires_at > now())
                      ORDER BY s.expires_at IS NOT NULL, s.created_at DESC) AS secrets,
                -- Committed without waiting for the WAL flush (see `record`).
                set_config('synchronous_commit', 'off', true) AS async_commit
         FROM claimed c
         JOIN webhooks w ON w.webhook_id = c.webhook_id
         JOIN webhook_messages m ON m.message_id = c.message_id",
    )
    .bind(&busy)
    .bind(&counts)
    .bind(per_endpoint as i32)
    .bind(limit as i64)
    .bind(lease.as_millis() as f64)
    .fetch_all(pool)
    .await
}
