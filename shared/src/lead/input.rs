//! Parses a JSON request body into a validated `LeadInput` (SPEC §2). Every rule is checked
//! here, before any event exists; an error names the field and says what is accepted.
//! Unknown and read-only keys (`id`, `score`, timestamps) are ignored.

use super::attribute::{valid_attribute_name, AttrType, AttributeInput};
use super::fields::{Field, FieldKind, FieldValue, Status, MAX_TEXT_CHARS};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

pub const MAX_TAGS: usize = 100;
/// The longest tag in bytes: 1,000 ASCII characters, fewer wider ones.
pub const MAX_TAG_BYTES: usize = 2_000;

/// Create/push: `name` and `source` required. Patch: every field optional, `null` or `""`
/// clears an optional field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputMode {
    Create,
    Patch,
}

/// A validated request. `fields[f] = None` means the request sent `null`/`""` for `f`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeadInput {
    pub fields: BTreeMap<Field, Option<FieldValue>>,
    pub tags: Option<Vec<String>>,
    pub attributes: Vec<AttributeInput>,
}

impl LeadInput {
    /// The value given for `field`, if a non-empty one was given.
    pub fn value(&self, field: Field) -> Option<&FieldValue> {
        self.fields.get(&field).and_then(Option::as_ref)
    }

    pub fn text(&self, field: Field) -> Option<&str> {
        self.value(field).and_then(FieldValue::as_text)
    }

    /// The fields given a non-empty value.
    pub fn given(&self) -> BTreeMap<Field, FieldValue> {
        self.fields
            .iter()
            .filter_map(|(f, v)| v.clone().map(|v| (*f, v)))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid field '{}': {}", self.field, self.message)
    }
}

impl std::error::Error for ValidationError {}

/// Parses and validates a lead body.
pub fn parse_lead_object(body: &Value, mode: InputMode) -> Result<LeadInput, ValidationError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ValidationError::new("body", "the request body must be a JSON object"))?;
    let mut input = LeadInput::default();
    for field in Field::ALL {
        if let Some(raw) = obj.get(field.name()) {
            input.fields.insert(field, parse_field(field, raw)?);
        }
    }
    if mode == InputMode::Create {
        for field in [Field::Name, Field::Source] {
            if input.value(field).is_none() {
                return Err(ValidationError::new(
                    field.name(),
                    "is required and must be a non-empty string",
                ));
            }
        }
    }
    check_coordinates(&input)?;
    input.tags = parse_tags(obj)?;
    input.attributes = parse_attributes(obj)?;
    Ok(input)
}

fn parse_field(field: Field, raw: &Value) -> Result<Option<FieldValue>, ValidationError> {
    let name = field.name();
    if raw.is_null() {
        return if field.required() {
            Err(ValidationError::new(
                name,
                "cannot be null; give a non-empty string",
            ))
        } else {
            Ok(None)
        };
    }
    match field.kind() {
        FieldKind::Text { max_chars } => {
            let s = raw
                .as_str()
                .ok_or_else(|| ValidationError::new(name, "must be a string"))?;
            let trimmed = s.trim();
            if trimmed.is_empty() {
                return if field.required() {
                    Err(ValidationError::new(name, "must not be empty"))
                } else {
                    Ok(None)
                };
            }
            if trimmed.chars().count() > max_chars {
                return Err(ValidationError::new(
                    name,
                    format!("must be at most {max_chars} characters"),
                ));
            }
            Ok(Some(FieldValue::Text(trimmed.to_owned())))
        }
        FieldKind::Number { min, max } => {
            let n = raw
                .as_f64()
                .filter(|n| n.is_finite())
                .ok_or_else(|| ValidationError::new(name, "must be a finite number"))?;
            if n < min || n > max {
                return Err(ValidationError::new(
                    name,
                    format!("must be between {min} and {max}"),
                ));
            }
            Ok(Some(FieldValue::Number(n)))
        }
        FieldKind::Count => {
            let n = raw
                .as_i64()
                .or_else(|| {
                    raw.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                        .map(|f| f as i64)
                })
                .ok_or_else(|| ValidationError::new(name, "must be an integer"))?;
            if n < 0 {
                return Err(ValidationError::new(name, "must be an integer >= 0"));
            }
            Ok(Some(FieldValue::Integer(n)))
        }
        FieldKind::Status => {
            let s = raw.as_str().and_then(Status::parse).ok_or_else(|| {
                ValidationError::new(
                    name,
                    "must be one of new, contacted, qualified, disqualified, converted",
                )
            })?;
            Ok(Some(FieldValue::Text(s.as_str().to_owned())))
        }
    }
}

fn check_coordinates(input: &LeadInput) -> Result<(), ValidationError> {
    let lat = input.fields.get(&Field::Latitude).map(Option::is_some);
    let lng = input.fields.get(&Field::Longitude).map(Option::is_some);
    let together = match (lat, lng) {
        (None, None) => true,
        (Some(a), Some(b)) => a == b,
        _ => false,
    };
    if together {
        Ok(())
    } else {
        Err(ValidationError::new(
            "latitude",
            "latitude and longitude must be given together (both numbers, or both null)",
        ))
    }
}

fn parse_tags(obj: &Map<String, Value>) -> Result<Option<Vec<String>>, ValidationError> {
    let Some(raw) = obj.get("tags") else {
        return Ok(None);
    };
    if raw.is_null() {
        return Ok(Some(Vec::new()));
    }
    let items = raw
        .as_array()
        .ok_or_else(|| ValidationError::new("tags", "must be an array of strings"))?;
    if items.len() > MAX_TAGS {
        return Err(ValidationError::new(
            "tags",
            format!("must have at most {MAX_TAGS} entries"),
        ));
    }
    let mut tags: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let tag = item
            .as_str()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ValidationError::new(format!("tags[{i}]"), "must be a non-empty string")
            })?;
        if tag.chars().count() > MAX_TEXT_CHARS {
            return Err(ValidationError::new(
                format!("tags[{i}]"),
                format!("must be at most {MAX_TEXT_CHARS} characters"),
            ));
        }
        // Each tag is one entry of the tags index (GIN entries hold at most ~2.7 kB).
        if tag.len() > MAX_TAG_BYTES {
            return Err(ValidationError::new(
                format!("tags[{i}]"),
                format!("must be at most {MAX_TAG_BYTES} bytes in UTF-8 (CJK characters take 3, emoji 4)"),
            ));
        }
        if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_owned());
        }
    }
    Ok(Some(tags))
}

fn parse_attributes(obj: &Map<String, Value>) -> Result<Vec<AttributeInput>, ValidationError> {
    let Some(raw) = obj.get("attributes") else {
        return Ok(Vec::new());
    };
    if raw.is_null() {
        return Ok(Vec::new());
    }
    let items = raw.as_array().ok_or_else(|| {
        ValidationError::new(
            "attributes",
            "must be an array of {name, type, value} objects",
        )
    })?;
    let mut out: Vec<AttributeInput> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let attr = parse_attribute(item, &format!("attributes[{i}]."))?;
        if out.iter().any(|a| a.name == attr.name) {
            return Err(ValidationError::new(
                format!("attributes[{i}].name"),
                format!("'{}' is given twice", attr.name),
            ));
        }
        out.push(attr);
    }
    Ok(out)
}

/// One `{name, type, value}` object; `prefix` names its place in error messages
/// (`attributes[2].` in a lead, empty for a body of its own).
pub fn parse_attribute(item: &Value, prefix: &str) -> Result<AttributeInput, ValidationError> {
    let at = |part: &str| format!("{prefix}{part}");
    let place = if prefix.is_empty() {
        "body"
    } else {
        prefix.trim_end_matches('.')
    };
    let attr = item
        .as_object()
        .ok_or_else(|| ValidationError::new(place, "must be an object {name, type, value}"))?;
    let name = attr
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| valid_attribute_name(n))
        .ok_or_else(|| {
            ValidationError::new(at("name"), "must be 1-100 characters of A-Z, a-z, 0-9 or _")
        })?;
    let kind = attr
        .get("type")
        .and_then(Value::as_str)
        .and_then(AttrType::parse)
        .ok_or_else(|| {
            ValidationError::new(
                at("type"),
                "must be one of text, number, bool, list, object",
            )
        })?;
    let value = attr.get("value").cloned().unwrap_or(Value::Null);
    if let Some(why) = kind.refuses(&value) {
        return Err(ValidationError::new(at("value"), why));
    }
    Ok(AttributeInput {
        name: name.to_owned(),
        kind,
        value,
    })
}

#[cfg(test)]
#[path = "input_tests.rs"]
mod tests;
