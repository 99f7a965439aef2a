//! Typed custom attributes: `{id, name, type, value}` with the value checked against the type.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttrType {
    Text,
    Number,
    Bool,
    List,
    Object,
}

impl AttrType {
    pub fn parse(raw: &str) -> Option<AttrType> {
        match raw {
            "text" => Some(AttrType::Text),
            "number" => Some(AttrType::Number),
            "bool" => Some(AttrType::Bool),
            "list" => Some(AttrType::List),
            "object" => Some(AttrType::Object),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::Text => "text",
            AttrType::Number => "number",
            AttrType::Bool => "bool",
            AttrType::List => "list",
            AttrType::Object => "object",
        }
    }

    /// Why `value` cannot be this type's value (the wrong kind, or a text over
    /// `MAX_ATTRIBUTE_TEXT_CHARS`), or `None` when it can.
    pub fn refuses(self, value: &Value) -> Option<String> {
        if !self.accepts(value) {
            return Some(format!("does not match type '{}'", self.as_str()));
        }
        match value.as_str() {
            Some(s) if s.chars().count() > MAX_ATTRIBUTE_TEXT_CHARS => Some(format!(
                "must be at most {MAX_ATTRIBUTE_TEXT_CHARS} characters"
            )),
            _ => None,
        }
    }

    pub fn accepts(self, value: &Value) -> bool {
        match self {
            AttrType::Text => value.is_string(),
            AttrType::Number => value.as_f64().is_some_and(f64::is_finite),
            AttrType::Bool => value.is_boolean(),
            AttrType::List => value.is_array(),
            AttrType::Object => value.is_object(),
        }
    }
}

/// The longest text attribute value, in characters (indexes hold a prefix of it).
pub const MAX_ATTRIBUTE_TEXT_CHARS: usize = 10_000;

/// A stored attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    pub id: Uuid,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: AttrType,
    pub value: Value,
}

/// A validated attribute from a request, not yet given an id.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeInput {
    pub name: String,
    pub kind: AttrType,
    pub value: Value,
}

/// Attribute names: `[A-Za-z0-9_]+`, at most 100 characters.
pub fn valid_attribute_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Upserts `incoming` into `current` by name: an existing attribute keeps its id and changes
/// only when its type or value differs. Returns the attributes that are new or changed.
pub fn upsert_by_name(
    current: &[Attribute],
    incoming: &[AttributeInput],
    mut new_id: impl FnMut() -> Uuid,
) -> Vec<Attribute> {
    let mut changed = Vec::new();
    for input in incoming {
        match current.iter().find(|a| a.name == input.name) {
            Some(existing) if existing.kind == input.kind && existing.value == input.value => {}
            Some(existing) => changed.push(Attribute {
                id: existing.id,
                name: input.name.clone(),
                kind: input.kind,
                value: input.value.clone(),
            }),
            None => changed.push(Attribute {
                id: new_id(),
                name: input.name.clone(),
                kind: input.kind,
                value: input.value.clone(),
            }),
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_type_accepts_only_its_values() {
        assert!(AttrType::Text.accepts(&json!("x")) && !AttrType::Text.accepts(&json!(1)));
        assert!(AttrType::Number.accepts(&json!(1.5)) && !AttrType::Number.accepts(&json!("1")));
        assert!(AttrType::Bool.accepts(&json!(true)) && !AttrType::Bool.accepts(&json!(0)));
        assert!(AttrType::List.accepts(&json!([1])) && !AttrType::List.accepts(&json!({})));
        assert!(AttrType::Object.accepts(&json!({})) && !AttrType::Object.accepts(&json!([])));
    }

    #[test]
    fn attribute_names_are_word_characters_only() {
        assert!(valid_attribute_name("employee_count_2"));
        for bad in ["", "has space", "dash-ed", "ümlaut", "a.b"] {
            assert!(!valid_attribute_name(bad), "{bad}");
        }
    }

    #[test]
    fn upsert_keeps_ids_and_reports_only_real_changes() {
        let id = Uuid::new_v4();
        let current = vec![Attribute {
            id,
            name: "size".into(),
            kind: AttrType::Number,
            value: json!(5),
        }];
        let same = AttributeInput {
            name: "size".into(),
            kind: AttrType::Number,
            value: json!(5),
        };
        assert!(upsert_by_name(&current, &[same], Uuid::new_v4).is_empty());
        let changed = AttributeInput {
            name: "size".into(),
            kind: AttrType::Number,
            value: json!(6),
        };
        let out = upsert_by_name(&current, &[changed], Uuid::new_v4);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].id, id);
        assert_eq!(out[0].value, json!(6));
    }
}
