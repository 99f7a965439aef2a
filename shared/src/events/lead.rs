//! Lead events, past tense, each with an explicit type name and schema version.

use super::{from_value, DecodeError, DomainEvent};
use crate::lead::attribute::Attribute;
use crate::lead::changes::LeadChanges;
use crate::lead::fields::{Field, FieldValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

/// A lead's stored fields at creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadRecord {
    pub fields: BTreeMap<Field, FieldValue>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub attributes: Vec<Attribute>,
}

/// `LeadCreated` v2 (v1 had no `status`; see `upcast`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadCreated {
    pub lead: LeadRecord,
    pub at: i64,
    /// A name+city match found at creation (dedup tier 4), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub potential_duplicate_of: Option<Uuid>,
}

/// Which dedup tier matched a pushed lead to an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchTier {
    Email,
    SourceId,
    PhoneAndName,
}

/// A push matched an existing lead and was merged into it (last touch wins).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadMerged {
    pub matched_by: MatchTier,
    pub changes: LeadChanges,
    pub at: i64,
}

/// An explicit update (`PUT`/`PATCH`, batch update).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadUpdated {
    pub changes: LeadChanges,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadDeleted {
    pub at: i64,
}

/// The lead's score changed (recomputed after a change of the lead or of the rules).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadScored {
    pub score: f64,
    pub previous: f64,
    pub at: i64,
}

/// A note was added to the lead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteAdded {
    pub note_id: Uuid,
    pub content: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteEdited {
    pub note_id: Uuid,
    pub content: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteRemoved {
    pub note_id: Uuid,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LeadEvent {
    Created(LeadCreated),
    Merged(LeadMerged),
    Updated(LeadUpdated),
    Deleted(LeadDeleted),
    Scored(LeadScored),
    NoteAdded(NoteAdded),
    NoteEdited(NoteEdited),
    NoteRemoved(NoteRemoved),
}

impl DomainEvent for LeadEvent {
    const STREAM_TYPE: &'static str = "lead";

    fn event_type(&self) -> &'static str {
        match self {
            LeadEvent::Created(_) => "LeadCreated",
            LeadEvent::Merged(_) => "LeadMerged",
            LeadEvent::Updated(_) => "LeadUpdated",
            LeadEvent::Deleted(_) => "LeadDeleted",
            LeadEvent::Scored(_) => "LeadScored",
            LeadEvent::NoteAdded(_) => "NoteAdded",
            LeadEvent::NoteEdited(_) => "NoteEdited",
            LeadEvent::NoteRemoved(_) => "NoteRemoved",
        }
    }

    fn schema_version(&self) -> i32 {
        super::upcast::current_version(self.event_type())
    }

    fn to_payload(&self) -> Result<Value, serde_json::Error> {
        match self {
            LeadEvent::Created(e) => serde_json::to_value(e),
            LeadEvent::Merged(e) => serde_json::to_value(e),
            LeadEvent::Updated(e) => serde_json::to_value(e),
            LeadEvent::Deleted(e) => serde_json::to_value(e),
            LeadEvent::Scored(e) => serde_json::to_value(e),
            LeadEvent::NoteAdded(e) => serde_json::to_value(e),
            LeadEvent::NoteEdited(e) => serde_json::to_value(e),
            LeadEvent::NoteRemoved(e) => serde_json::to_value(e),
        }
    }

    fn from_payload(event_type: &str, payload: Value) -> Result<Self, DecodeError> {
        Ok(match event_type {
            "LeadCreated" => LeadEvent::Created(from_value(event_type, payload)?),
            "LeadMerged" => LeadEvent::Merged(from_value(event_type, payload)?),
            "LeadUpdated" => LeadEvent::Updated(from_value(event_type, payload)?),
            "LeadDeleted" => LeadEvent::Deleted(from_value(event_type, payload)?),
            "LeadScored" => LeadEvent::Scored(from_value(event_type, payload)?),
            "NoteAdded" => LeadEvent::NoteAdded(from_value(event_type, payload)?),
            "NoteEdited" => LeadEvent::NoteEdited(from_value(event_type, payload)?),
            "NoteRemoved" => LeadEvent::NoteRemoved(from_value(event_type, payload)?),
            other => return Err(DecodeError::UnknownType(other.to_owned())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::StoredEvent;
    use serde_json::json;

    fn stored(event_type: &str, schema_version: i32, payload: Value) -> StoredEvent {
        StoredEvent {
            position: 1,
            event_id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            stream_type: "lead".into(),
            stream_id: Uuid::nil(),
            stream_version: 1,
            event_type: event_type.into(),
            schema_version,
            payload,
            metadata: json!({}),
            recorded_at: chrono::Utc::now(),
            tx_id: 0,
        }
    }

    #[test]
    fn a_v1_lead_created_fixture_decodes_with_status_new() {
        let fixture = json!({
            "lead": {"fields": {"name": "Blue Bottle", "source": "maps", "rating": 4.5}, "tags": ["cafe"]},
            "at": 1703520000
        });
        let LeadEvent::Created(created) =
            LeadEvent::decode(&stored("LeadCreated", 1, fixture)).unwrap()
        else {
            panic!("expected LeadCreated");
        };
        assert_eq!(
            created.lead.fields[&Field::Status],
            FieldValue::Text("new".into())
        );
        assert_eq!(created.lead.fields[&Field::Rating], FieldValue::Number(4.5));
        assert_eq!(created.lead.tags, vec!["cafe".to_owned()]);
        assert!(created.lead.attributes.is_empty());
    }

    #[test]
    fn events_round_trip_through_their_payload() {
        let event = LeadEvent::Merged(LeadMerged {
            matched_by: MatchTier::Email,
            changes: LeadChanges {
                set: [(Field::City, FieldValue::Text("Lyon".into()))].into(),
                ..Default::default()
            },
            at: 5,
        });
        assert_eq!(event.schema_version(), 1);
        let payload = event.to_payload().unwrap();
        let back = LeadEvent::decode(&stored("LeadMerged", 1, payload)).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn unknown_event_types_are_an_error_not_a_panic() {
        assert!(matches!(
            LeadEvent::decode(&stored("LeadExploded", 1, json!({}))),
            Err(DecodeError::UnknownType(_))
        ));
    }
}
