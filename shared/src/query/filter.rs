//! One filter: `logic.operator.field[.value]`, split on the first three dots only, so the value
//! keeps its own dots, commas and spaces. Each operator is checked against the field's type.

use super::fields::{attr_name, text_field, NumberField, NUMBER_FIELDS, TEXT_FIELDS};
use super::QueryError;
use crate::lead::Field;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logic {
    And,
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOp {
    Eq,
    Neq,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagsOp {
    Contains(String),
    NotContains(String),
    Empty,
    NotEmpty,
}

/// What one filter asks. Text comparisons are case-insensitive.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Text {
        field: Field,
        op: TextOp,
        value: String,
    },
    TextIn {
        field: Field,
        values: Vec<String>,
    },
    TextEmpty {
        field: Field,
        empty: bool,
    },
    Number {
        field: NumberField,
        op: CmpOp,
        value: f64,
    },
    Tags(TagsOp),
    /// Great-circle distance from (lat, lng) at most `km`.
    WithinRadius {
        lat: f64,
        lng: f64,
        km: f64,
    },
    LocationSet(bool),
    AttrText {
        name: String,
        op: TextOp,
        value: String,
    },
    /// Numeric when the attribute is a number and `number` parsed; text otherwise (eq/neq).
    AttrCmp {
        name: String,
        op: CmpOp,
        text: String,
        number: Option<f64>,
    },
    AttrIn {
        name: String,
        values: Vec<String>,
    },
    AttrEmpty {
        name: String,
        empty: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub logic: Logic,
    /// The filter as sent, for messages.
    pub raw: String,
    pub condition: Condition,
}

const TEXT_OPS: &str =
    "eq, neq, contains, not_contains, starts_with, ends_with, in, is_empty, is_not_empty";
const NUMBER_OPS: &str = "eq, neq, gt, gte, lt, lte";
const TAG_OPS: &str = "array_contains, array_not_contains, array_empty, array_not_empty";
const LOCATION_OPS: &str = "within_radius, is_set, is_not_set";
const ATTR_OPS: &str = "eq, neq, gt, gte, lt, lte, contains, not_contains, starts_with, ends_with, in, is_empty, is_not_empty";

fn text_op(op: &str) -> Option<TextOp> {
    Some(match op {
        "eq" => TextOp::Eq,
        "neq" => TextOp::Neq,
        "contains" => TextOp::Contains,
        "not_contains" => TextOp::NotContains,
        "starts_with" => TextOp::StartsWith,
        "ends_with" => TextOp::EndsWith,
        _ => return None,
    })
}

fn cmp_op(op: &str) -> Option<CmpOp> {
    Some(match op {
        "eq" => CmpOp::Eq,
        "neq" => CmpOp::Neq,
        "gt" => CmpOp::Gt,
        "gte" => CmpOp::Gte,
        "lt" => CmpOp::Lt,
        "lte" => CmpOp::Lte,
        _ => return None,
    })
}

/// A finite number as the SDKs send them: `4`, `4.0`, `-0.5`, `1e+16`.
fn number(raw: &str) -> Option<f64> {
    raw.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Parses one (already form-decoded) filter.
pub fn parse_filter(raw: &str) -> Result<Filter, QueryError> {
    let err = |why: String| QueryError::filter(raw, why);
    let mut parts = raw.splitn(4, '.');
    let (logic, op, field) = match (parts.next(), parts.next(), parts.next()) {
        (Some(l), Some(o), Some(f)) if !o.is_empty() && !f.is_empty() => (l, o, f),
        _ => {
            return Err(err(
                "expected logic.operator.field.value, e.g. and.eq.city.Paris".into(),
            ))
        }
    };
    let value = parts.next().unwrap_or("");
    let logic = match logic.to_ascii_lowercase().as_str() {
        "and" => Logic::And,
        "or" => Logic::Or,
        other => return Err(err(format!("unknown logic '{other}'; use and or or"))),
    };
    let op = op.to_ascii_lowercase();
    let op = if op == "not_empty" {
        "is_not_empty".to_owned()
    } else {
        op
    };
    let condition = condition(&op, field, value).map_err(err)?;
    Ok(Filter {
        logic,
        raw: raw.to_owned(),
        condition,
    })
}

fn condition(op: &str, field: &str, value: &str) -> Result<Condition, String> {
    let wrong_op = |kind: &str, allowed: &str| {
        format!("unknown operator '{op}' for {kind} field '{field}'; use one of {allowed}")
    };
    if let Some(f) = text_field(field) {
        return match op {
            "in" => non_empty_list(value).map(|values| Condition::TextIn { field: f, values }),
            "is_empty" => Ok(Condition::TextEmpty {
                field: f,
                empty: true,
            }),
            "is_not_empty" => Ok(Condition::TextEmpty {
                field: f,
                empty: false,
            }),
            _ => text_op(op)
                .map(|op| Condition::Text {
                    field: f,
                    op,
                    value: value.to_owned(),
                })
                .ok_or_else(|| wrong_op("text", TEXT_OPS)),
        };
    }
    if let Some(f) = NumberField::parse(field) {
        let op = cmp_op(op).ok_or_else(|| wrong_op("number", NUMBER_OPS))?;
        let value = number(value)
            .ok_or_else(|| format!("'{value}' is not a number (e.g. 4, 4.5, 1e+16)"))?;
        return Ok(Condition::Number {
            field: f,
            op,
            value,
        });
    }
    if field == "tags" {
        let tag = || {
            Some(value.trim())
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .ok_or("give the tag to look for")
        };
        return Ok(Condition::Tags(match op {
            "array_contains" => TagsOp::Contains(tag()?.to_owned()),
            "array_not_contains" => TagsOp::NotContains(tag()?.to_owned()),
            "array_empty" => TagsOp::Empty,
            "array_not_empty" => TagsOp::NotEmpty,
            _ => return Err(wrong_op("array", TAG_OPS)),
        }));
    }
    if field == "location" {
        return match op {
            "within_radius" => radius(value),
            "is_set" => Ok(Condition::LocationSet(true)),
            "is_not_set" => Ok(Condition::LocationSet(false)),
            _ => Err(wrong_op("location", LOCATION_OPS)),
        };
    }
    if let Some(name) = attr_name(field) {
        let name = name.to_owned();
        return match op {
            "in" => non_empty_list(value).map(|values| Condition::AttrIn { name, values }),
            "is_empty" => Ok(Condition::AttrEmpty { name, empty: true }),
            "is_not_empty" => Ok(Condition::AttrEmpty { name, empty: false }),
            "eq" | "neq" => Ok(Condition::AttrCmp {
                name,
                op: cmp_op(op).unwrap_or(CmpOp::Eq),
                text: value.to_owned(),
                number: number(value),
            }),
            "gt" | "gte" | "lt" | "lte" => match (cmp_op(op), number(value)) {
                (Some(op), Some(n)) => Ok(Condition::AttrCmp {
                    name,
                    op,
                    text: value.to_owned(),
                    number: Some(n),
                }),
                _ => Err(format!("'{value}' is not a number; {op} compares numbers")),
            },
            _ => text_op(op)
                .map(|op| Condition::AttrText {
                    name,
                    op,
                    value: value.to_owned(),
                })
                .ok_or_else(|| wrong_op("attribute", ATTR_OPS)),
        };
    }
    if field.starts_with("attr:") {
        return Err(format!(
            "'{field}' is not a valid attribute name (A-Z, a-z, 0-9, _)"
        ));
    }
    Err(format!(
        "unknown field '{field}'; use one of {TEXT_FIELDS}, {NUMBER_FIELDS}, tags, location, or attr:<name>"
    ))
}

fn non_empty_list(value: &str) -> Result<Vec<String>, String> {
    let values = list(value);
    if values.is_empty() {
        Err("'in' needs a comma-separated list, e.g. and.in.source.website,api".into())
    } else {
        Ok(values)
    }
}

fn radius(value: &str) -> Result<Condition, String> {
    let bad = || {
        format!("'{value}' is not lat,lng,km (e.g. 52.52,13.405,50): latitude -90..90, longitude -180..180, km > 0")
    };
    let parts: Vec<f64> = value
        .split(',')
        .map(number)
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    match parts[..] {
        [lat, lng, km]
            if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lng) && km > 0.0 =>
        {
            Ok(Condition::WithinRadius { lat, lng, km })
        }
        _ => Err(bad()),
    }
}
