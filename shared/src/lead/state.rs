//! The lead aggregate's state and how each event changes it. This is what commands decide on,
//! what snapshots hold, and what write responses are built from.

use super::attribute::Attribute;
use super::changes::LeadChanges;
use super::fields::{Field, FieldValue};
use crate::events::lead::{LeadCreated, LeadEvent, LeadRecord};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Bumped whenever the layout below changes, so older snapshots are replayed instead.
pub const SNAPSHOT_FORMAT: i32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lead {
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Stream version of the last applied event.
    pub version: i64,
    pub fields: BTreeMap<Field, FieldValue>,
    pub tags: Vec<String>,
    pub attributes: Vec<Attribute>,
    pub score: f64,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_interaction_at: i64,
    pub deleted: bool,
    /// Version of the snapshot this state was loaded from (0: none). Not persisted.
    #[serde(skip)]
    pub snapshot_version: i64,
}

impl Lead {
    /// The state right after a `LeadCreated`.
    pub fn created(id: Uuid, tenant_id: Uuid, event: &LeadCreated) -> Lead {
        Self::from_created(id, tenant_id, event.clone())
    }

    /// [`Lead::created`], taking the event (no copy of its fields).
    pub fn from_created(id: Uuid, tenant_id: Uuid, event: LeadCreated) -> Lead {
        let LeadRecord {
            fields,
            tags,
            attributes,
        } = event.lead;
        Lead {
            id,
            tenant_id,
            version: 1,
            fields,
            tags,
            attributes,
            score: 0.0,
            created_at: event.at,
            updated_at: event.at,
            last_interaction_at: event.at,
            deleted: false,
            snapshot_version: 0,
        }
    }

    pub fn text(&self, field: Field) -> Option<&str> {
        self.fields.get(&field).and_then(FieldValue::as_text)
    }

    pub fn name(&self) -> &str {
        self.text(Field::Name).unwrap_or_default()
    }

    /// Applies one later event (version + 1). A `LeadCreated` here is a corrupt stream.
    pub fn apply(&mut self, event: &LeadEvent) {
        self.version += 1;
        match event {
            LeadEvent::Created(created) => {
                let snapshot = self.snapshot_version;
                *self = Lead::created(self.id, self.tenant_id, created);
                self.snapshot_version = snapshot;
            }
            LeadEvent::Merged(merged) => {
                self.apply_changes(&merged.changes, merged.at);
                self.last_interaction_at = merged.at;
            }
            LeadEvent::Updated(updated) => self.apply_changes(&updated.changes, updated.at),
            LeadEvent::Deleted(deleted) => {
                self.deleted = true;
                self.updated_at = deleted.at;
            }
            // A score is derived, not a stored field: `updated_at` stays.
            LeadEvent::Scored(scored) => self.score = scored.score,
            // Notes are kept by their own read model; they only take a version here.
            LeadEvent::NoteAdded(_) | LeadEvent::NoteEdited(_) | LeadEvent::NoteRemoved(_) => {}
        }
    }

    fn apply_changes(&mut self, changes: &LeadChanges, at: i64) {
        for (field, value) in &changes.set {
            self.fields.insert(*field, value.clone());
        }
        for field in &changes.cleared {
            self.fields.remove(field);
        }
        if let Some(tags) = &changes.tags {
            self.tags.clone_from(tags);
        }
        if !changes.removed_attributes.is_empty() {
            self.attributes
                .retain(|a| !changes.removed_attributes.contains(&a.id));
        }
        for attr in &changes.attributes {
            match self.attributes.iter_mut().find(|a| a.name == attr.name) {
                Some(existing) => *existing = attr.clone(),
                None => self.attributes.push(attr.clone()),
            }
        }
        if !changes.is_empty() {
            self.updated_at = at;
        }
    }
}
