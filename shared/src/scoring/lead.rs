//! Leads as the scoring engine sees them: every Lead field by its API name (text fields as
//! strings, numbers as numbers, the three timestamps as Unix seconds) and attributes by name
//! (text, number and bool as such; a list or object is true when non-empty).

use super::{Record, Schema, Value};
use crate::lead::{Field, FieldValue, Lead};

/// The status of a lead that has none stored.
static NEW: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| "new".to_owned());

/// Resolves Lead field names (`status`, `rating`, `created_at`, ...).
pub struct LeadSchema;

const CREATED_AT: u16 = 100;
const UPDATED_AT: u16 = 101;
const LAST_INTERACTION_AT: u16 = 102;

impl Schema for LeadSchema {
    fn field(&self, name: &str) -> Option<u16> {
        match name {
            "created_at" => Some(CREATED_AT),
            "updated_at" => Some(UPDATED_AT),
            "last_interaction_at" => Some(LAST_INTERACTION_AT),
            _ => Field::ALL
                .iter()
                .position(|f| f.name() == name)
                .and_then(|i| u16::try_from(i).ok()),
        }
    }
}

impl Record for Lead {
    fn field(&self, id: u16) -> Value<'_> {
        match id {
            CREATED_AT => return Value::Num(self.created_at as f64),
            UPDATED_AT => return Value::Num(self.updated_at as f64),
            LAST_INTERACTION_AT => return Value::Num(self.last_interaction_at as f64),
            _ => {}
        }
        let Some(field) = Field::ALL.get(usize::from(id)) else {
            return Value::Nil;
        };
        match self.fields.get(field) {
            Some(FieldValue::Text(s)) => Value::Str(s),
            Some(FieldValue::Integer(i)) => Value::Num(*i as f64),
            Some(FieldValue::Number(n)) => Value::Num(*n),
            None if *field == Field::Status => Value::Str(&NEW),
            None => Value::Nil,
        }
    }

    fn attr(&self, name: &str) -> Value<'_> {
        let Some(a) = self.attributes.iter().find(|a| a.name == name) else {
            return Value::Nil;
        };
        match &a.value {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => n.as_f64().map_or(Value::Nil, Value::Num),
            serde_json::Value::String(s) => Value::Str(s),
            serde_json::Value::Array(v) => Value::Bool(!v.is_empty()),
            serde_json::Value::Object(m) => Value::Bool(!m.is_empty()),
        }
    }
}
