//! The export's fixed column set, shared by CSV and XLSX: the public id, every Lead field in
//! SPEC order, score, tags (comma-joined), attributes (as JSON) and the three timestamps.

use shared::ids::lead_public_id;
use shared::lead::{Field, FieldValue, Lead};

/// One cell, typed so XLSX can store numbers as numbers.
pub enum Cell<'a> {
    Text(&'a str),
    Owned(String),
    Int(i64),
    Num(f64),
}

pub fn header() -> Vec<&'static str> {
    let mut h = vec!["id"];
    h.extend(Field::ALL.iter().map(|f| f.name()));
    h.extend([
        "score",
        "tags",
        "attributes",
        "created_at",
        "updated_at",
        "last_interaction_at",
    ]);
    h
}

/// The cells of `lead`, in [`header`] order.
pub fn cells(lead: &Lead) -> Vec<Cell<'_>> {
    let mut r = Vec::with_capacity(Field::ALL.len() + 7);
    r.push(Cell::Owned(lead_public_id(lead.id)));
    r.extend(Field::ALL.iter().map(|f| match lead.fields.get(f) {
        Some(FieldValue::Text(s)) => Cell::Text(s),
        Some(FieldValue::Integer(i)) => Cell::Int(*i),
        Some(FieldValue::Number(n)) => Cell::Num(*n),
        None if *f == Field::Status => Cell::Text("new"),
        None => Cell::Text(""),
    }));
    r.push(Cell::Num(lead.score));
    r.push(Cell::Owned(lead.tags.join(", ")));
    r.push(Cell::Owned(
        serde_json::to_string(&lead.attributes).unwrap_or_default(),
    ));
    r.extend([lead.created_at, lead.updated_at, lead.last_interaction_at].map(Cell::Int));
    r
}
