//! Retention: finished deliveries, their attempts and the messages no delivery needs any
//! more are removed once older than `WEBHOOK_RETENTION_DAYS` (default 30), in bounded chunks,
//! every hour. Deliveries still pending or failing are kept whatever their age.

use sqlx::PgPool;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const CHUNK: i64 = 5_000;
const EVERY: Duration = Duration::from_secs(3600);

/// One pass; answers the deliveries removed.
pub async fn clean(pool: &PgPool, keep: Duration) -> Result<u64, sqlx::Error> {
    let keep_ms = keep.as_millis() as f64;
    let mut removed = 0;
    loop {
        let n = sqlx::query(
            "WITH old AS (
                 SELECT delivery_id FROM webhook_deliveries
                 WHERE created_at < now() - $1 * interval '1 millisecond'
                   AND status IN ('succeeded', 'exhausted', 'cancelled')
                 LIMIT $2
             ), gone AS (
                 DELETE FROM webhook_attempts a USING old WHERE a.delivery_id = old.delivery_id
             )
             DELETE FROM webhook_deliveries d USING old WHERE d.delivery_id = old.delivery_id",
        )
        .bind(keep_ms)
        .bind(CHUNK)
        .execute(pool)
        .await?
        .rows_affected();
        removed += n;
        if n < CHUNK as u64 {
            break;
        }
    }
    loop {
        let n = sqlx::query(
            "DELETE FROM webhook_messages m WHERE m.message_id IN (
                 SELECT message_id FROM webhook_messages
                 WHERE created_at < now() - $1 * interval '1 millisecond'
                   AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                                   WHERE d.message_id = webhook_messages.message_id)
                 LIMIT $2)",
        )
        .bind(keep_ms)
        .bind(CHUNK)
        .execute(pool)
        .await?
        .rows_affected();
        if n < CHUNK as u64 {
            break;
        }
    }
    Ok(removed)
}

pub async fn run(pool: PgPool, keep: Duration, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        match clean(&pool, keep).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                deliveries = n,
                "webhook log retention: removed old deliveries"
            ),
            Err(e) => tracing::warn!(error = %e, "webhook log retention failed; retrying later"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = tokio::time::sleep(EVERY) => {}
        }
    }
}
