//! Account events: registration, API keys issued and revoked. Secrets are stored only as
//! hashes.

use super::{from_value, DecodeError, DomainEvent};
use crate::plan::Plan;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRegistered {
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub plan: Plan,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyIssued {
    pub key_id: Uuid,
    /// Hex SHA-256 of the raw key.
    pub key_hash: String,
    /// The first characters of the key, to recognise it in lists.
    pub prefix: String,
    /// Absent on keys issued before keys had names: `register` or `login`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Absent: every scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRevoked {
    pub key_id: Uuid,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AccountEvent {
    Registered(AccountRegistered),
    ApiKeyIssued(ApiKeyIssued),
    ApiKeyRevoked(ApiKeyRevoked),
}

impl DomainEvent for AccountEvent {
    const STREAM_TYPE: &'static str = "account";

    fn event_type(&self) -> &'static str {
        match self {
            AccountEvent::Registered(_) => "AccountRegistered",
            AccountEvent::ApiKeyIssued(_) => "ApiKeyIssued",
            AccountEvent::ApiKeyRevoked(_) => "ApiKeyRevoked",
        }
    }

    fn schema_version(&self) -> i32 {
        super::upcast::current_version(self.event_type())
    }

    fn to_payload(&self) -> Result<Value, serde_json::Error> {
        match self {
            AccountEvent::Registered(e) => serde_json::to_value(e),
            AccountEvent::ApiKeyIssued(e) => serde_json::to_value(e),
            AccountEvent::ApiKeyRevoked(e) => serde_json::to_value(e),
        }
    }

    fn from_payload(event_type: &str, payload: Value) -> Result<Self, DecodeError> {
        Ok(match event_type {
            "AccountRegistered" => AccountEvent::Registered(from_value(event_type, payload)?),
            "ApiKeyIssued" => AccountEvent::ApiKeyIssued(from_value(event_type, payload)?),
            "ApiKeyRevoked" => AccountEvent::ApiKeyRevoked(from_value(event_type, payload)?),
            other => return Err(DecodeError::UnknownType(other.to_owned())),
        })
    }
}
