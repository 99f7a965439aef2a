//! `PUT`/`PATCH /leads/{id}` (and batch update) and `DELETE /leads/{id}`.

use super::{check_unique_keys, Rejected};
use crate::dedup::DedupKey;
use crate::events::lead::{LeadDeleted, LeadEvent, LeadUpdated};
use crate::lead::attribute::upsert_by_name;
use crate::lead::changes::LeadChanges;
use crate::lead::input::LeadInput;
use crate::lead::state::Lead;
use uuid::Uuid;

/// Decides a partial update of a validated (`InputMode::Patch`) input: given fields are set,
/// `null`/`""` clears an optional field, `tags` replaces the list, attributes upsert by name.
/// Returns the new state and the event, or no event when nothing would change.
pub fn decide_update(
    lead: &Lead,
    input: &LeadInput,
    owner: impl Fn(&DedupKey) -> Option<Uuid>,
    now: i64,
    new_attr_id: impl FnMut() -> Uuid,
) -> Result<(Lead, Option<LeadEvent>), Rejected> {
    if lead.deleted {
        return Err(Rejected::NotFound);
    }
    let mut changes = LeadChanges::default();
    for (field, value) in &input.fields {
        match value {
            Some(v) if lead.fields.get(field) != Some(v) => {
                changes.set.insert(*field, v.clone());
            }
            None if lead.fields.contains_key(field) => changes.cleared.push(*field),
            _ => {}
        }
    }
    if let Some(tags) = input.tags.as_ref().filter(|t| **t != lead.tags) {
        changes.tags = Some(tags.clone());
    }
    changes.attributes = upsert_by_name(&lead.attributes, &input.attributes, new_attr_id);
    if changes.is_empty() {
        return Ok((lead.clone(), None));
    }
    let event = LeadEvent::Updated(LeadUpdated { changes, at: now });
    let mut after = lead.clone();
    after.apply(&event);
    check_unique_keys(&after, owner)?;
    Ok((after, Some(event)))
}

pub fn decide_delete(lead: &Lead, now: i64) -> Result<(Lead, LeadEvent), Rejected> {
    if lead.deleted {
        return Err(Rejected::NotFound);
    }
    let event = LeadEvent::Deleted(LeadDeleted { at: now });
    let mut after = lead.clone();
    after.apply(&event);
    Ok((after, event))
}
