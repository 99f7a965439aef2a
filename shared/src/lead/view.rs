//! The Lead object on the wire (SPEC §2): every key present, optional ones as `null`,
//! arrays never null, timestamps as integer Unix seconds.

use super::fields::Field;
use super::state::Lead;
use crate::ids::lead_public_id;
use serde_json::{json, Map, Value};

pub fn lead_json(lead: &Lead) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("id".into(), Value::String(lead_public_id(lead.id)));
    for field in Field::ALL {
        let value = lead
            .fields
            .get(&field)
            .map(|v| v.to_json())
            .unwrap_or(Value::Null);
        out.insert(field.name().into(), value);
    }
    if out.get("status").is_none_or(Value::is_null) {
        out.insert("status".into(), Value::String("new".into()));
    }
    out.insert("score".into(), json!(lead.score));
    out.insert("tags".into(), json!(lead.tags));
    out.insert("attributes".into(), json!(lead.attributes));
    out.insert("created_at".into(), json!(lead.created_at));
    out.insert("updated_at".into(), json!(lead.updated_at));
    out.insert(
        "last_interaction_at".into(),
        json!(lead.last_interaction_at),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lead::fields::FieldValue;
    use uuid::Uuid;

    #[test]
    fn the_view_has_every_key_and_integer_timestamps() {
        let lead = Lead {
            id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            version: 1,
            fields: [
                (Field::Name, FieldValue::Text("Acme".into())),
                (Field::Source, FieldValue::Text("web".into())),
                (Field::ReviewCount, FieldValue::Integer(12)),
            ]
            .into(),
            tags: vec![],
            attributes: vec![],
            score: 0.0,
            created_at: 1_703_520_000,
            updated_at: 1_703_520_000,
            last_interaction_at: 1_703_520_000,
            deleted: false,
            snapshot_version: 0,
        };
        let v = Value::Object(lead_json(&lead));
        assert_eq!(v["id"], "cl_00000000-0000-0000-0000-000000000000");
        assert_eq!(v["status"], "new");
        assert_eq!(v["email"], Value::Null);
        assert_eq!(v["tags"], json!([]));
        assert_eq!(v["attributes"], json!([]));
        assert_eq!(v["review_count"].to_string(), "12");
        assert_eq!(v["created_at"].to_string(), "1703520000");
    }
}
