//! The `webhooks` rows (the write side's state of each webhook stream) and the Webhook object
//! on the wire: SPEC §2's `{id, url, events, active, created_at}` (RFC 3339) plus description
//! and delivery health. Never the secret.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct WebhookRow {
    pub webhook_id: Uuid,
    pub tenant_id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub active: bool,
    pub disabled_reason: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub failing_since: Option<DateTime<Utc>>,
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl WebhookRow {
    pub fn json(&self) -> Value {
        json!({
            "id": self.webhook_id,
            "url": self.url,
            "events": self.events,
            "active": self.active,
            "description": self.description,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
            "last_success_at": self.last_success_at.map(rfc3339),
            "failing_since": self.failing_since.map(rfc3339),
            "disabled_reason": self.disabled_reason,
        })
    }
}

const COLUMNS: &str = "webhook_id, tenant_id, url, events, description, active, disabled_reason, \
                       version, created_at, updated_at, last_success_at, failing_since";

/// Every webhook of `tenant`, oldest first.
pub async fn list_webhooks(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> Result<Vec<WebhookRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhooks WHERE tenant_id = $1 ORDER BY created_at, webhook_id"
    ))
    .bind(tenant)
    .fetch_all(conn)
    .await
}

/// One webhook of `tenant` (another tenant's id is `None`), locked for the caller's
/// transaction when `lock`.
pub async fn get_webhook(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    lock: bool,
) -> Result<Option<WebhookRow>, sqlx::Error> {
    let lock = if lock { "FOR UPDATE" } else { "" };
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhooks WHERE webhook_id = $1 AND tenant_id = $2 {lock}"
    ))
    .bind(id)
    .bind(tenant)
    .fetch_optional(conn)
    .await
}
