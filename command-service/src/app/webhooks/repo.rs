//! The write side's webhook rows: the endpoint's current state and its secrets, written in
//! the transaction that appends the endpoint's event.

use chrono::{DateTime, Utc};
use shared::webhooks::WebhookRow;
use sqlx::PgConnection;
use uuid::Uuid;

pub async fn insert_webhook(conn: &mut PgConnection, row: &WebhookRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhooks (webhook_id, tenant_id, url, events, description, active,
                               disabled_reason, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(row.webhook_id)
    .bind(row.tenant_id)
    .bind(&row.url)
    .bind(&row.events)
    .bind(&row.description)
    .bind(row.active)
    .bind(&row.disabled_reason)
    .bind(row.version)
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the fields a command can change (health columns are the dispatcher's).
pub async fn update_webhook(conn: &mut PgConnection, row: &WebhookRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhooks SET url = $2, events = $3, description = $4, active = $5,
                disabled_reason = $6, version = $7, updated_at = $8, failing_since = $9
         WHERE webhook_id = $1",
    )
    .bind(row.webhook_id)
    .bind(&row.url)
    .bind(&row.events)
    .bind(&row.description)
    .bind(row.active)
    .bind(&row.disabled_reason)
    .bind(row.version)
    .bind(row.updated_at)
    .bind(row.failing_since)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes the endpoint and its secrets; its unfinished deliveries are cancelled.
pub async fn delete_webhook(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM webhooks WHERE webhook_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE webhook_deliveries SET status = 'cancelled', updated_at = now()
         WHERE webhook_id = $1 AND status IN ('pending', 'failed')",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_secret(
    conn: &mut PgConnection,
    webhook: Uuid,
    secret_id: Uuid,
    secret: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO webhook_secrets (secret_id, webhook_id, secret) VALUES ($1, $2, $3)")
        .bind(secret_id)
        .bind(webhook)
        .bind(secret)
        .execute(conn)
        .await?;
    Ok(())
}

/// Starts a rotation: the current secret signs until `until`; older ones are dropped. Answers
/// the id of the secret that was current.
pub async fn retire_current_secret(
    conn: &mut PgConnection,
    webhook: Uuid,
    until: DateTime<Utc>,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query("DELETE FROM webhook_secrets WHERE webhook_id = $1 AND expires_at IS NOT NULL")
        .bind(webhook)
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar(
        "UPDATE webhook_secrets SET expires_at = $2
         WHERE webhook_id = $1 AND expires_at IS NULL RETURNING secret_id",
    )
    .bind(webhook)
    .bind(until)
    .fetch_optional(conn)
    .await
}

/// Wakes the dispatchers' workers: deliveries are due.
pub async fn wake_dispatchers(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(shared::webhooks::DUE_CHANNEL)
        .execute(conn)
        .await?;
    Ok(())
}
