//! The `Projection` that keeps the lead read model: per batch, load the touched rows, apply the
//! events in order (skipping any a row already has), write back what changed — the whole
//! `lead_view` row after a field change, only its version after notes, the `lead_scores` row
//! after a creation or a score. Streams whose events in the batch are all `LeadScored` (a
//! rescore) are not loaded at all: the last event's score goes straight into `lead_scores`.

use super::notes::write_note_event;
use super::rows::write_leads;
use super::scores::{write_scores, write_versions, ScoreRow};
use crate::runner::{Projection, ProjectionError};
use shared::events::lead::{LeadEvent, LeadScored};
use shared::events::{DomainEvent, StoredEvent};
use shared::lead::Lead;
use shared::read_model::{read_leads, Tables};
use sqlx::PgConnection;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

pub struct LeadView {
    name: String,
    tables: Tables,
}

impl LeadView {
    /// The live projection (checkpoint `lead-view`, tables `lead_view*`).
    pub fn live() -> Self {
        Self {
            name: super::CHECKPOINT.into(),
            tables: Tables::live(),
        }
    }

    /// A projection into other tables under another checkpoint (rebuilds, tests).
    pub fn into_tables(name: &str, tables: Tables) -> Self {
        Self {
            name: name.into(),
            tables,
        }
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }
}

fn failed(e: &StoredEvent, reason: impl std::fmt::Display) -> ProjectionError {
    ProjectionError::Event {
        position: e.position,
        reason: reason.to_string(),
    }
}

impl Projection for LeadView {
    fn name(&self) -> &str {
        &self.name
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let lead_events: Vec<&StoredEvent> = events
            .iter()
            .filter(|e| e.stream_type == LeadEvent::STREAM_TYPE)
            .collect();
        if lead_events.is_empty() {
            return Ok(());
        }
        let (lead_events, scored) = split_score_only(&lead_events)?;
        // Streams that begin in this batch have no row yet: read only the others.
        let existing: Vec<_> = lead_events
            .iter()
            .filter(|e| e.stream_version > 1)
            .map(|e| (e.tenant_id, e.stream_id))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut leads: HashMap<_, Lead> = read_leads(tx, &self.tables, &existing).await?;
        let mut touched = BTreeSet::new();
        let mut note_events = Vec::new();
        // Leads whose fields or attributes an applied event may have changed: their rows are
        // rewritten; the others only moved their version (notes). And leads whose score an
        // applied event set (created at 0, or scored): their score rows are written.
        let mut rewritten = HashSet::new();
        let mut rescored = HashSet::new();
        for stored in lead_events {
            let event = LeadEvent::decode(stored).map_err(|e| failed(stored, e))?;
            if matches!(
                event,
                LeadEvent::NoteAdded(_) | LeadEvent::NoteEdited(_) | LeadEvent::NoteRemoved(_)
            ) && leads
                .get(&stored.stream_id)
                .is_some_and(|l| stored.stream_version > l.version)
            {
                note_events.push((stored.tenant_id, stored.stream_id, event.clone()));
            }
            match (leads.get_mut(&stored.stream_id), event) {
                (Some(lead), _) if stored.stream_version <= lead.version => continue, // replayed
                (Some(lead), event) => lead.apply(&event),
                (None, LeadEvent::Created(created)) => {
                    leads.insert(
                        stored.stream_id,
                        Lead::from_created(stored.stream_id, stored.tenant_id, created),
                    );
                }
                (None, _) => {
                    return Err(failed(
                        stored,
                        "lead stream does not start with LeadCreated",
                    ))
                }
            }
            if let Some(lead) = leads.get(&stored.stream_id) {
                unindexable(lead).map_err(|why| failed(stored, why))?;
            }
            touched.insert(stored.stream_id);
            let kind = stored.event_type.as_str();
            if matches!(
                kind,
                "LeadCreated" | "LeadMerged" | "LeadUpdated" | "LeadDeleted"
            ) {
                rewritten.insert(stored.stream_id);
            }
            if matches!(kind, "LeadCreated" | "LeadScored") {
                rescored.insert(stored.stream_id);
            }
        }
        let touched: Vec<&Lead> = touched.iter().filter_map(|id| leads.get(id)).collect();
        let (rows, versions): (Vec<&Lead>, Vec<&Lead>) = touched
            .iter()
            .copied()
            .partition(|l| rewritten.contains(&l.id));
        write_leads(tx, &self.tables, &rows).await?;
        write_versions(tx, &self.tables, &versions).await?;
        let mut scores: Vec<ScoreRow> = touched
            .iter()
            .filter(|l| rescored.contains(&l.id))
            .map(|l| ScoreRow::of(l))
            .collect();
        scores.extend(scored.into_values());
        write_scores(tx, &self.tables, &scores).await?;
        for (tenant, lead, event) in &note_events {
            write_note_event(tx, &self.tables, *tenant, *lead, event).await?;
        }
        Ok(())
    }
}

/// The longest tag the tags index (GIN) takes, in bytes: its entries hold at most about 2.7 kB
/// (one third of a page). The write side refuses tags over 2,000 bytes; events written before
/// that limit may hold longer ones.
const MAX_INDEXED_TAG_BYTES: usize = 2_600;

/// Why a lead's row cannot be indexed (checked while applying, so the event is quarantined,
/// also in a rebuild, whose fresh tables get their indexes only after the replay).
fn unindexable(lead: &Lead) -> Result<(), String> {
    match lead.tags.iter().find(|t| t.len() > MAX_INDEXED_TAG_BYTES) {
        Some(t) => Err(format!(
            "a tag of {} bytes does not fit the tags index (at most {MAX_INDEXED_TAG_BYTES})",
            t.len()
        )),
        None => Ok(()),
    }
}

/// Splits off the streams whose events in this batch are all `LeadScored` on an existing row
/// (none creates its stream): for each, the score of its last event. The other streams' events
/// are returned in order, to be applied to their loaded rows.
fn split_score_only<'a>(
    events: &[&'a StoredEvent],
) -> Result<(Vec<&'a StoredEvent>, BTreeMap<uuid::Uuid, ScoreRow>), ProjectionError> {
    let full: HashSet<_> = events
        .iter()
        .filter(|e| e.event_type != "LeadScored" || e.stream_version == 1)
        .map(|e| e.stream_id)
        .collect();
    let mut rest = Vec::with_capacity(events.len());
    let mut scored = BTreeMap::new();
    for stored in events {
        if full.contains(&stored.stream_id) {
            rest.push(*stored);
            continue;
        }
        let LeadEvent::Scored(LeadScored { score, .. }) =
            LeadEvent::decode(stored).map_err(|e| failed(stored, e))?
        else {
            return Err(failed(stored, "not a LeadScored payload"));
        };
        scored.insert(
            stored.stream_id,
            ScoreRow {
                tenant_id: stored.tenant_id,
                lead_id: stored.stream_id,
                version: stored.stream_version,
                score,
            },
        );
    }
    Ok((rest, scored))
}
