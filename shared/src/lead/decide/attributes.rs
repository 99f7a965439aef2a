//! The attribute endpoints on a lead: add one (names are unique per lead), set one's value
//! (checked against its type), remove one. Each is a `LeadUpdated` carrying the change.

use crate::events::lead::{LeadEvent, LeadUpdated};
use crate::lead::attribute::{Attribute, AttributeInput};
use crate::lead::changes::LeadChanges;
use crate::lead::state::Lead;
use serde_json::Value;
use uuid::Uuid;

/// Why an attribute command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttrRejected {
    /// The lead or the attribute does not exist (404).
    #[error("{0}")]
    NotFound(&'static str),
    /// The lead already has an attribute of that name (409).
    #[error("{0}")]
    NameTaken(String),
    /// The value does not fit the attribute's type (400).
    #[error("{0}")]
    WrongType(String),
}

fn updated(lead: &Lead, changes: LeadChanges, now: i64) -> (Lead, LeadEvent) {
    let event = LeadEvent::Updated(LeadUpdated { changes, at: now });
    let mut after = lead.clone();
    after.apply(&event);
    (after, event)
}

fn live(lead: &Lead) -> Result<(), AttrRejected> {
    if lead.deleted {
        Err(AttrRejected::NotFound("Lead not found"))
    } else {
        Ok(())
    }
}

pub fn decide_add_attribute(
    lead: &Lead,
    input: &AttributeInput,
    id: Uuid,
    now: i64,
) -> Result<(Lead, LeadEvent, Attribute), AttrRejected> {
    live(lead)?;
    if lead.attributes.iter().any(|a| a.name == input.name) {
        return Err(AttrRejected::NameTaken(format!(
            "the lead already has an attribute '{}'; change it with PUT /leads/{{id}}/attributes/{{attr_id}}",
            input.name
        )));
    }
    let attr = Attribute {
        id,
        name: input.name.clone(),
        kind: input.kind,
        value: input.value.clone(),
    };
    let changes = LeadChanges {
        attributes: vec![attr.clone()],
        ..Default::default()
    };
    let (after, event) = updated(lead, changes, now);
    Ok((after, event, attr))
}

/// Sets the value of attribute `attr_id`; no event when it already has that value.
pub fn decide_set_attribute(
    lead: &Lead,
    attr_id: Uuid,
    value: Value,
    now: i64,
) -> Result<(Lead, Option<LeadEvent>, Attribute), AttrRejected> {
    live(lead)?;
    let current = lead
        .attributes
        .iter()
        .find(|a| a.id == attr_id)
        .ok_or(AttrRejected::NotFound("Attribute not found"))?;
    if let Some(why) = current.kind.refuses(&value) {
        return Err(AttrRejected::WrongType(format!(
            "invalid field 'value': {why} (attribute '{}' of type '{}')",
            current.name,
            current.kind.as_str()
        )));
    }
    let attr = Attribute {
        value,
        ..current.clone()
    };
    if attr == *current {
        return Ok((lead.clone(), None, attr));
    }
    let changes = LeadChanges {
        attributes: vec![attr.clone()],
        ..Default::default()
    };
    let (after, event) = updated(lead, changes, now);
    Ok((after, Some(event), attr))
}

pub fn decide_remove_attribute(
    lead: &Lead,
    attr_id: Uuid,
    now: i64,
) -> Result<(Lead, LeadEvent), AttrRejected> {
    live(lead)?;
    if !lead.attributes.iter().any(|a| a.id == attr_id) {
        return Err(AttrRejected::NotFound("Attribute not found"));
    }
    let changes = LeadChanges {
        removed_attributes: vec![attr_id],
        ..Default::default()
    };
    Ok(updated(lead, changes, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lead::AttrType;
    use serde_json::json;

    fn lead() -> Lead {
        let mut l: Lead = serde_json::from_value(json!({
            "id": Uuid::nil(), "tenant_id": Uuid::nil(), "version": 1, "fields": {"name": "A", "source": "s"},
            "tags": [], "attributes": [], "score": 0.0, "created_at": 1, "updated_at": 1,
            "last_interaction_at": 1, "deleted": false
        }))
        .unwrap();
        l.attributes.push(Attribute {
            id: Uuid::from_u128(1),
            name: "seats".into(),
            kind: AttrType::Number,
            value: json!(3),
        });
        l
    }

    #[test]
    fn add_set_remove() {
        let l = lead();
        let input = AttributeInput {
            name: "plan".into(),
            kind: AttrType::Text,
            value: json!("pro"),
        };
        let (after, _, attr) = decide_add_attribute(&l, &input, Uuid::from_u128(2), 5).unwrap();
        assert_eq!(after.attributes.len(), 2);
        assert_eq!(attr.id, Uuid::from_u128(2));
        assert_eq!(after.updated_at, 5);
        let taken = AttributeInput {
            name: "seats".into(),
            ..input
        };
        assert!(matches!(
            decide_add_attribute(&l, &taken, Uuid::from_u128(3), 5),
            Err(AttrRejected::NameTaken(_))
        ));

        let (after, event, attr) =
            decide_set_attribute(&l, Uuid::from_u128(1), json!(7), 6).unwrap();
        assert!(event.is_some());
        assert_eq!(
            (attr.value.clone(), after.attributes[0].value.clone()),
            (json!(7), json!(7))
        );
        let (_, none, _) = decide_set_attribute(&l, Uuid::from_u128(1), json!(3), 6).unwrap();
        assert!(none.is_none(), "same value: no event");
        assert!(matches!(
            decide_set_attribute(&l, Uuid::from_u128(1), json!("7"), 6),
            Err(AttrRejected::WrongType(_))
        ));
        assert!(matches!(
            decide_set_attribute(&l, Uuid::from_u128(9), json!(7), 6),
            Err(AttrRejected::NotFound(_))
        ));

        let (after, _) = decide_remove_attribute(&l, Uuid::from_u128(1), 7).unwrap();
        assert!(after.attributes.is_empty());
        assert_eq!(after.updated_at, 7);
        assert!(decide_remove_attribute(&l, Uuid::from_u128(9), 7).is_err());
    }
}
