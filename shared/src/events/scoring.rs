//! Scoring-rule events: one stream per rule (`scoring_rule`), in the account's tenant.

use super::{from_value, DecodeError, DomainEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoringRuleCreated {
    pub name: String,
    pub expression: String,
    pub weight: f64,
    pub priority: i64,
    pub at: i64,
}

/// A partial update: absent fields are unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoringRuleUpdated {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoringRuleDeleted {
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RuleEvent {
    Created(ScoringRuleCreated),
    Updated(ScoringRuleUpdated),
    Deleted(ScoringRuleDeleted),
}

impl DomainEvent for RuleEvent {
    const STREAM_TYPE: &'static str = "scoring_rule";

    fn event_type(&self) -> &'static str {
        match self {
            RuleEvent::Created(_) => "ScoringRuleCreated",
            RuleEvent::Updated(_) => "ScoringRuleUpdated",
            RuleEvent::Deleted(_) => "ScoringRuleDeleted",
        }
    }

    fn schema_version(&self) -> i32 {
        super::upcast::current_version(self.event_type())
    }

    fn to_payload(&self) -> Result<Value, serde_json::Error> {
        match self {
            RuleEvent::Created(e) => serde_json::to_value(e),
            RuleEvent::Updated(e) => serde_json::to_value(e),
            RuleEvent::Deleted(e) => serde_json::to_value(e),
        }
    }

    fn from_payload(event_type: &str, payload: Value) -> Result<Self, DecodeError> {
        Ok(match event_type {
            "ScoringRuleCreated" => RuleEvent::Created(from_value(event_type, payload)?),
            "ScoringRuleUpdated" => RuleEvent::Updated(from_value(event_type, payload)?),
            "ScoringRuleDeleted" => RuleEvent::Deleted(from_value(event_type, payload)?),
            other => return Err(DecodeError::UnknownType(other.to_owned())),
        })
    }
}
