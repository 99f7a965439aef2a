//! `POST /leads` (and each batch item): dedup tiers 1-4 and last-touch-wins merges (SPEC §5).

use super::{check_unique_keys, Rejected};
use crate::dedup::{FoldedName, KeyKind};
use crate::events::lead::{LeadCreated, LeadEvent, LeadMerged, LeadRecord, MatchTier};
use crate::lead::attribute::{upsert_by_name, Attribute};
use crate::lead::changes::LeadChanges;
use crate::lead::fields::{Field, FieldValue, Status};
use crate::lead::input::LeadInput;
use crate::lead::state::Lead;
use std::collections::HashMap;
use uuid::Uuid;

/// A pushed lead's name is compared with the names of at most this many live leads sharing
/// its phone (the oldest), so the work of one push, and of one batch item, is bounded
/// however many leads share a phone (a switchboard number).
pub const MAX_PHONE_CANDIDATES: usize = 100;

/// Live (not deleted) leads that share a key with the pushed lead, oldest first.
#[derive(Debug, Default)]
pub struct PushMatches<'a> {
    pub by_email: Option<&'a Lead>,
    pub by_source_id: Option<&'a Lead>,
    pub by_phone: Vec<&'a Lead>,
    pub by_name_city: Vec<&'a Lead>,
    /// Folded names of leads, when the caller keeps them (a batch folds each name once).
    pub folded: Option<&'a HashMap<Uuid, FoldedName>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PushDecision {
    Create {
        lead: Lead,
        event: LeadEvent,
        potential_duplicate_id: Option<Uuid>,
    },
    Merge {
        lead: Lead,
        event: LeadEvent,
        tier: MatchTier,
    },
}

impl PushDecision {
    pub fn lead(&self) -> &Lead {
        match self {
            PushDecision::Create { lead, .. } | PushDecision::Merge { lead, .. } => lead,
        }
    }

    pub fn event(&self) -> &LeadEvent {
        match self {
            PushDecision::Create { event, .. } | PushDecision::Merge { event, .. } => event,
        }
    }
}

/// Decides a push of a validated (`InputMode::Create`) lead.
pub fn decide_push(
    tenant: Uuid,
    input: &LeadInput,
    matches: &PushMatches<'_>,
    new_id: Uuid,
    now: i64,
    new_attr_id: impl FnMut() -> Uuid,
) -> Result<PushDecision, Rejected> {
    match find_target(input, matches) {
        Some((target, tier)) => merge(input, matches, target, tier, now, new_attr_id),
        None => Ok(create(tenant, input, matches, new_id, now, new_attr_id)),
    }
}

fn find_target<'a>(input: &LeadInput, m: &PushMatches<'a>) -> Option<(&'a Lead, MatchTier)> {
    if let Some(lead) = m.by_email {
        return Some((lead, MatchTier::Email));
    }
    if let Some(lead) = m.by_source_id {
        return Some((lead, MatchTier::SourceId));
    }
    let name = FoldedName::new(input.text(Field::Name)?);
    m.by_phone
        .iter()
        .take(MAX_PHONE_CANDIDATES)
        .filter_map(|lead| {
            let sim = match m.folded.and_then(|f| f.get(&lead.id)) {
                Some(other) => name.similar(other),
                None => name.similar(&FoldedName::new(lead.name())),
            };
            Some((*lead, sim?))
        })
        .fold(None::<(&Lead, f64)>, |best, cur| match best {
            Some(b) if b.1 >= cur.1 => Some(b),
            _ => Some(cur),
        })
        .map(|(lead, _)| (lead, MatchTier::PhoneAndName))
}

fn merge(
    input: &LeadInput,
    m: &PushMatches<'_>,
    target: &Lead,
    tier: MatchTier,
    now: i64,
    new_attr_id: impl FnMut() -> Uuid,
) -> Result<PushDecision, Rejected> {
    let mut changes = LeadChanges::default();
    for (field, value) in &input.fields {
        if let Some(value) = value {
            if target.fields.get(field) != Some(value) {
                changes.set.insert(*field, value.clone());
            }
        }
    }
    if let Some(tags) = &input.tags {
        let mut united = target.tags.clone();
        united.extend(tags.iter().filter(|t| !target.tags.contains(t)).cloned());
        if united.len() != target.tags.len() {
            changes.tags = Some(united);
        }
    }
    changes.attributes = upsert_by_name(&target.attributes, &input.attributes, new_attr_id);
    let event = LeadEvent::Merged(LeadMerged {
        matched_by: tier,
        changes,
        at: now,
    });
    let mut lead = target.clone();
    lead.apply(&event);
    check_unique_keys(&lead, |key| {
        let holder = match key.kind {
            KeyKind::Email => m.by_email,
            KeyKind::SourceId => m.by_source_id,
            _ => None,
        };
        holder.map(|l| l.id)
    })?;
    Ok(PushDecision::Merge { lead, event, tier })
}

fn create(
    tenant: Uuid,
    input: &LeadInput,
    m: &PushMatches<'_>,
    new_id: Uuid,
    now: i64,
    mut new_attr_id: impl FnMut() -> Uuid,
) -> PushDecision {
    let mut fields: std::collections::BTreeMap<Field, FieldValue> = input
        .fields
        .iter()
        .filter_map(|(f, v)| v.clone().map(|v| (*f, v)))
        .collect();
    fields
        .entry(Field::Status)
        .or_insert_with(|| FieldValue::Text(Status::New.as_str().into()));
    let attributes = input
        .attributes
        .iter()
        .map(|a| Attribute {
            id: new_attr_id(),
            name: a.name.clone(),
            kind: a.kind,
            value: a.value.clone(),
        })
        .collect();
    let potential_duplicate_id = m.by_name_city.first().map(|l| l.id);
    let created = LeadCreated {
        lead: LeadRecord {
            fields,
            tags: input.tags.clone().unwrap_or_default(),
            attributes,
        },
        at: now,
        potential_duplicate_of: potential_duplicate_id,
    };
    let lead = Lead::created(new_id, tenant, &created);
    PushDecision::Create {
        lead,
        event: LeadEvent::Created(created),
        potential_duplicate_id,
    }
}
