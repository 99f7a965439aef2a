//! Turning endpoints off: at once when one answers `410 Gone`, and when every delivery to it
//! has failed for `WEBHOOK_DISABLE_AFTER` (default 5 days). Each disable is a
//! `WebhookDisabled` event with its reason, recorded with the endpoint's row.

use super::record::Health;
use shared::events::webhook::{WebhookDisabled, WebhookEvent};
use shared::events::{DomainEvent, EventMetadata};
use shared::store::{append, AppendError, ExpectedVersion, StreamAppend};
use sqlx::PgPool;
use std::time::Duration;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum DisableError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Append(#[from] AppendError),
    #[error(transparent)]
    Encode(#[from] serde_json::Error),
}

/// Disables `webhook` for `reason` unless it is already off (or gone).
pub async fn disable(pool: &PgPool, webhook: Uuid, reason: &str) -> Result<bool, DisableError> {
    let mut tx = pool.begin().await?;
    let row: Option<(Uuid, i64, bool)> = sqlx::query_as(
        "SELECT tenant_id, version, active FROM webhooks WHERE webhook_id = $1 FOR UPDATE",
    )
    .bind(webhook)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((tenant, version, true)) = row else {
        return Ok(false);
    };
    let now = chrono::Utc::now();
    let metadata = EventMetadata {
        actor: Some("system:webhook-dispatcher".into()),
        ..Default::default()
    };
    let event = WebhookEvent::Disabled(WebhookDisabled {
        reason: reason.to_owned(),
        at: now.timestamp(),
    })
    .to_new_event(&metadata)?;
    append(
        &mut tx,
        &[StreamAppend {
            tenant_id: tenant,
            stream_type: WebhookEvent::STREAM_TYPE,
            stream_id: webhook,
            expected: ExpectedVersion::Exact(version),
            events: vec![event],
        }],
    )
    .await?;
    sqlx::query(
        "UPDATE webhooks SET active = false, disabled_reason = $2, version = version + 1,
                updated_at = $3
         WHERE webhook_id = $1",
    )
    .bind(webhook)
    .bind(reason)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::warn!(%webhook, reason, "webhook endpoint disabled");
    Ok(true)
}

/// Applies a recorded batch's health: 410s disable at once; endpoints failing for longer than
/// `disable_after` are disabled.
pub async fn apply(
    pool: &PgPool,
    health: &Health,
    disable_after: Duration,
) -> Result<(), DisableError> {
    for webhook in &health.gone {
        disable(pool, *webhook, "the endpoint answered 410 Gone").await?;
    }
    if health.failing.is_empty() {
        return Ok(());
    }
    let stale: Vec<(Uuid, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT webhook_id, failing_since FROM webhooks
         WHERE webhook_id = ANY($1) AND active
           AND failing_since <= now() - $2 * interval '1 millisecond'",
    )
    .bind(&health.failing)
    .bind(disable_after.as_millis() as f64)
    .fetch_all(pool)
    .await?;
    for (webhook, since) in stale {
        let reason = format!(
            "every delivery failed since {} (longer than {} s)",
            shared::webhooks::rows::rfc3339(since),
            disable_after.as_secs()
        );
        disable(pool, webhook, &reason).await?;
    }
    Ok(())
}
