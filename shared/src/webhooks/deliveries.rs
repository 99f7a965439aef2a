//! Deliveries as the API shows them (`GET /webhooks/{id}/deliveries[/{delivery_id}]`, the
//! answers of replay and test): one row per message and endpoint, and its attempts.

use super::rows::rfc3339;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgConnection;
use uuid::Uuid;

/// Delivery statuses a client may filter on.
pub const STATUSES: &[&str] = &["pending", "succeeded", "failed", "exhausted", "cancelled"];

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DeliveryRow {
    pub delivery_id: Uuid,
    pub webhook_id: Uuid,
    pub message_id: Uuid,
    pub event: String,
    pub status: String,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

pub const DELIVERY_COLUMNS: &str = "delivery_id, webhook_id, message_id, event, status, \
    attempts, last_status_code, last_error, next_attempt_at, created_at";

impl DeliveryRow {
    pub fn json(&self) -> Value {
        let waiting = matches!(self.status.as_str(), "pending" | "failed");
        json!({
            "id": self.delivery_id,
            "webhook_id": self.webhook_id,
            "event_id": self.message_id,
            "event": self.event,
            "status": self.status,
            "attempts": self.attempts,
            "last_status_code": self.last_status_code,
            "last_error": self.last_error,
            "next_attempt_at": waiting.then(|| rfc3339(self.next_attempt_at)),
            "created_at": rfc3339(self.created_at),
        })
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AttemptRow {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub duration_ms: i32,
    pub response_body: Option<String>,
    pub error: Option<String>,
}

impl AttemptRow {
    pub fn json(&self) -> Value {
        json!({
            "attempt": self.attempt,
            "at": rfc3339(self.at),
            "status_code": self.status_code,
            "duration_ms": self.duration_ms,
            "response_body": self.response_body,
            "error": self.error,
        })
    }
}

/// One delivery of one webhook of `tenant`.
pub async fn get_delivery(
    conn: &mut PgConnection,
    tenant: Uuid,
    webhook: Uuid,
    delivery: Uuid,
) -> Result<Option<DeliveryRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
         WHERE delivery_id = $1 AND webhook_id = $2 AND tenant_id = $3"
    ))
    .bind(delivery)
    .bind(webhook)
    .bind(tenant)
    .fetch_optional(conn)
    .await
}

/// A delivery's attempts, oldest first.
pub async fn attempts(
    conn: &mut PgConnection,
    delivery: Uuid,
) -> Result<Vec<AttemptRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT attempt, at, status_code, duration_ms, response_body, error
         FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt",
    )
    .bind(delivery)
    .fetch_all(conn)
    .await
}
