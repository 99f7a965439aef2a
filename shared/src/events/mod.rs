//! Events: the stored envelope, what a command hands the store to append, and the domain event
//! enums with explicit type names and schema versions. Old payloads are upcast on read.

pub mod account;
pub mod lead;
pub mod scoring;
pub mod upcast;
pub mod webhook;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// Who and what caused an event: kept with it forever, never used for decisions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventMetadata {
    /// `api_key:<key id>`, `mcp:<client>` or `anonymous`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<Uuid>,
    /// How the command came, when not over plain REST: `mcp <client name>/<version>` for the
    /// MCP gateway (the actor stays the key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// An event about to be appended.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub event_type: &'static str,
    pub schema_version: i32,
    pub payload: Value,
    pub metadata: EventMetadata,
}

/// An event as the store holds it; also the JSON published on NATS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct StoredEvent {
    pub position: i64,
    pub event_id: Uuid,
    pub tenant_id: Uuid,
    pub stream_type: String,
    pub stream_id: Uuid,
    pub stream_version: i64,
    pub event_type: String,
    pub schema_version: i32,
    pub payload: Value,
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
    /// The writing transaction's id: with `position`, the event's place in the follower order
    /// (`LogPosition`). Not published.
    #[serde(skip)]
    #[sqlx(default)]
    pub tx_id: i64,
}

/// A domain event enum of one stream type.
pub trait DomainEvent: Sized {
    /// The `stream_type` column and NATS subject token of this aggregate.
    const STREAM_TYPE: &'static str;

    fn event_type(&self) -> &'static str;
    fn schema_version(&self) -> i32;
    fn to_payload(&self) -> Result<Value, serde_json::Error>;
    /// Decodes a payload already upcast to the current schema version.
    fn from_payload(event_type: &str, payload: Value) -> Result<Self, DecodeError>;

    /// Wraps the event for appending.
    fn to_new_event(&self, metadata: &EventMetadata) -> Result<NewEvent, serde_json::Error> {
        Ok(NewEvent {
            // Time-ordered, so the unique index on event ids grows at its right edge.
            event_id: crate::ids::new_id(),
            event_type: self.event_type(),
            schema_version: self.schema_version(),
            payload: self.to_payload()?,
            metadata: metadata.clone(),
        })
    }

    /// Decodes a stored event, upcasting older schema versions first.
    fn decode(stored: &StoredEvent) -> Result<Self, DecodeError> {
        let payload = upcast::upcast(
            &stored.event_type,
            stored.schema_version,
            stored.payload.clone(),
        )?;
        Self::from_payload(&stored.event_type, payload)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown event type {0}")]
    UnknownType(String),
    #[error("event {event_type} v{version} is newer than this build understands")]
    FutureVersion { event_type: String, version: i32 },
    #[error("malformed {event_type} payload: {source}")]
    Malformed {
        event_type: String,
        source: serde_json::Error,
    },
}

pub(crate) fn from_value<T: serde::de::DeserializeOwned>(
    event_type: &str,
    payload: Value,
) -> Result<T, DecodeError> {
    serde_json::from_value(payload).map_err(|source| DecodeError::Malformed {
        event_type: event_type.to_owned(),
        source,
    })
}
