//! The lead's scalar fields, their kinds and limits, and their typed values.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
    Source,
    Status,
    Description,
    Address,
    City,
    State,
    Country,
    PostalCode,
    Latitude,
    Longitude,
    Phone,
    Email,
    Website,
    Rating,
    ReviewCount,
    Category,
    SourceId,
    LogoUrl,
}

/// How a field's value is typed and checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldKind {
    Text { max_chars: usize },
    Number { min: f64, max: f64 },
    Count,
    Status,
}

pub const MAX_TEXT_CHARS: usize = 1_000;
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;

impl Field {
    pub const ALL: [Field; 19] = [
        Field::Name,
        Field::Source,
        Field::Status,
        Field::Description,
        Field::Address,
        Field::City,
        Field::State,
        Field::Country,
        Field::PostalCode,
        Field::Latitude,
        Field::Longitude,
        Field::Phone,
        Field::Email,
        Field::Website,
        Field::Rating,
        Field::ReviewCount,
        Field::Category,
        Field::SourceId,
        Field::LogoUrl,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Source => "source",
            Field::Status => "status",
            Field::Description => "description",
            Field::Address => "address",
            Field::City => "city",
            Field::State => "state",
            Field::Country => "country",
            Field::PostalCode => "postal_code",
            Field::Latitude => "latitude",
            Field::Longitude => "longitude",
            Field::Phone => "phone",
            Field::Email => "email",
            Field::Website => "website",
            Field::Rating => "rating",
            Field::ReviewCount => "review_count",
            Field::Category => "category",
            Field::SourceId => "source_id",
            Field::LogoUrl => "logo_url",
        }
    }

    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn kind(self) -> FieldKind {
        match self {
            Field::Description => FieldKind::Text {
                max_chars: MAX_DESCRIPTION_CHARS,
            },
            Field::Latitude => FieldKind::Number {
                min: -90.0,
                max: 90.0,
            },
            Field::Longitude => FieldKind::Number {
                min: -180.0,
                max: 180.0,
            },
            Field::Rating => FieldKind::Number {
                min: f64::MIN,
                max: f64::MAX,
            },
            Field::ReviewCount => FieldKind::Count,
            Field::Status => FieldKind::Status,
            _ => FieldKind::Text {
                max_chars: MAX_TEXT_CHARS,
            },
        }
    }

    /// `name` and `source` must always hold a non-empty value.
    pub fn required(self) -> bool {
        matches!(self, Field::Name | Field::Source)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A field's value, typed by the field's kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    Text(String),
    Integer(i64),
    Number(f64),
}

impl FieldValue {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            FieldValue::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            FieldValue::Number(n) => Some(*n),
            FieldValue::Integer(i) => Some(*i as f64),
            FieldValue::Text(_) => None,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            FieldValue::Text(s) => serde_json::Value::String(s.clone()),
            FieldValue::Integer(i) => serde_json::Value::from(*i),
            FieldValue::Number(n) => serde_json::Number::from_f64(*n)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
        }
    }
}

/// The lead's pipeline status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    New,
    Contacted,
    Qualified,
    Disqualified,
    Converted,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::New,
        Status::Contacted,
        Status::Qualified,
        Status::Disqualified,
        Status::Converted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Contacted => "contacted",
            Status::Qualified => "qualified",
            Status::Disqualified => "disqualified",
            Status::Converted => "converted",
        }
    }

    pub fn parse(raw: &str) -> Option<Status> {
        let lower = raw.trim().to_ascii_lowercase();
        Status::ALL.into_iter().find(|s| s.as_str() == lower)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_name_round_trips() {
        for f in Field::ALL {
            assert_eq!(Field::from_name(f.name()), Some(f));
            assert_eq!(serde_json::to_value(f).unwrap(), f.name());
        }
    }

    #[test]
    fn field_values_keep_their_type_through_json() {
        for v in [
            FieldValue::Text("4".into()),
            FieldValue::Integer(4),
            FieldValue::Number(4.0),
        ] {
            let back: FieldValue =
                serde_json::from_value(serde_json::to_value(&v).unwrap()).unwrap();
            assert_eq!(back, v);
        }
    }
}
