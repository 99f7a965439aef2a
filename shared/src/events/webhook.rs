//! Webhook events: one stream per webhook endpoint (`webhook`), in the account's tenant. They
//! name a secret by its id only: secrets live in `webhook_secrets`, never in an event, a log
//! line or a NATS message.

use super::{from_value, DecodeError, DomainEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookCreated {
    pub url: String,
    pub events: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub secret_id: Uuid,
    pub at: i64,
}

/// A partial update: absent fields are unchanged. `active: true` re-enables a disabled one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookUpdated {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// `Some("")`: the description was cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookSecretRotated {
    pub secret_id: Uuid,
    pub previous_secret_id: Uuid,
    /// Until when (Unix seconds) the previous secret still signs.
    pub previous_valid_until: i64,
    pub at: i64,
}

/// The dispatcher (or an operator) turned the endpoint off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDisabled {
    pub reason: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDeleted {
    pub at: i64,
}

/// `POST /webhooks/{id}/test`: the dispatcher sends one `webhook.test` message for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookTestRequested {
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WebhookEvent {
    Created(WebhookCreated),
    Updated(WebhookUpdated),
    SecretRotated(WebhookSecretRotated),
    Disabled(WebhookDisabled),
    Deleted(WebhookDeleted),
    TestRequested(WebhookTestRequested),
}

impl DomainEvent for WebhookEvent {
    const STREAM_TYPE: &'static str = "webhook";

    fn event_type(&self) -> &'static str {
        match self {
            WebhookEvent::Created(_) => "WebhookCreated",
            WebhookEvent::Updated(_) => "WebhookUpdated",
            WebhookEvent::SecretRotated(_) => "WebhookSecretRotated",
            WebhookEvent::Disabled(_) => "WebhookDisabled",
            WebhookEvent::Deleted(_) => "WebhookDeleted",
            WebhookEvent::TestRequested(_) => "WebhookTestRequested",
        }
    }

    fn schema_version(&self) -> i32 {
        super::upcast::current_version(self.event_type())
    }

    fn to_payload(&self) -> Result<Value, serde_json::Error> {
        match self {
            WebhookEvent::Created(e) => serde_json::to_value(e),
            WebhookEvent::Updated(e) => serde_json::to_value(e),
            WebhookEvent::SecretRotated(e) => serde_json::to_value(e),
            WebhookEvent::Disabled(e) => serde_json::to_value(e),
            WebhookEvent::Deleted(e) => serde_json::to_value(e),
            WebhookEvent::TestRequested(e) => serde_json::to_value(e),
        }
    }

    fn from_payload(event_type: &str, payload: Value) -> Result<Self, DecodeError> {
        Ok(match event_type {
            "WebhookCreated" => WebhookEvent::Created(from_value(event_type, payload)?),
            "WebhookUpdated" => WebhookEvent::Updated(from_value(event_type, payload)?),
            "WebhookSecretRotated" => WebhookEvent::SecretRotated(from_value(event_type, payload)?),
            "WebhookDisabled" => WebhookEvent::Disabled(from_value(event_type, payload)?),
            "WebhookDeleted" => WebhookEvent::Deleted(from_value(event_type, payload)?),
            "WebhookTestRequested" => WebhookEvent::TestRequested(from_value(event_type, payload)?),
            other => return Err(DecodeError::UnknownType(other.to_owned())),
        })
    }
}
