//! Which public events a batch of stored events yields. Events are grouped by the command that
//! appended them: one transaction and one batch id (`POST|PUT|DELETE /leads/batch`,
//! `POST /leads/score/batch`, each background rescore batch), or one transaction and one lead
//! stream (every single-lead command). A single-lead group yields one `lead.*` event (a create,
//! update or merge carries the score computed with it; `lead.scored` fires when the score
//! alone changed) and one `note.*` event per note event; a batch group yields one grouped
//! `leads.*` event per kind of change.

use shared::events::lead::LeadEvent;
use shared::events::webhook::WebhookEvent;
use shared::events::{DomainEvent, StoredEvent};
use std::collections::HashMap;
use uuid::Uuid;

/// A public event to send, before its data is rendered.
#[derive(Debug, Clone, PartialEq)]
pub enum Public {
    /// `lead.created|updated|deleted|scored` about `stream`; its data is the lead after the
    /// group (before it, for a delete), rendered from the events `first..=last` (indexes into
    /// the batch) folded onto the state before `first`.
    Lead {
        name: &'static str,
        stream: Uuid,
        first: usize,
        last: usize,
    },
    /// `note.*`: the note event at index `at`.
    Note { name: &'static str, at: usize },
    /// `leads.created|updated|deleted`: the leads' ids.
    Leads { name: &'static str, ids: Vec<Uuid> },
    /// `leads.scored`: each lead's new score.
    Scored { scores: Vec<(Uuid, f64)> },
    /// `webhook.test` for one endpoint.
    Test { webhook: Uuid },
}

impl Public {
    pub fn name(&self) -> &'static str {
        match self {
            Public::Lead { name, .. } | Public::Note { name, .. } | Public::Leads { name, .. } => {
                name
            }
            Public::Scored { .. } => "leads.scored",
            Public::Test { .. } => shared::webhooks::TEST_EVENT,
        }
    }
}

/// A public event with what its envelope needs from the group.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub tenant: Uuid,
    pub public: Public,
    /// The event whose id names the envelope: the group's last (a note event: itself).
    pub id_event: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Batch(i64, Uuid),
    Single(i64, Uuid),
}

/// The public events of `events` (in log order), each with its tenant. Events this build
/// cannot decode yield nothing (they are logged): one bad event never stops the webhooks.
pub fn plan(events: &[StoredEvent]) -> Vec<Planned> {
    let mut order: Vec<Key> = Vec::new();
    let mut groups: HashMap<Key, Vec<usize>> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        let key = match e.stream_type.as_str() {
            "lead" => match batch_id(e) {
                Some(batch) => Key::Batch(e.tx_id, batch),
                None => Key::Single(e.tx_id, e.stream_id),
            },
            "webhook" if e.event_type == "WebhookTestRequested" => {
                Key::Single(e.tx_id, e.stream_id)
            }
            _ => continue,
        };
        let members = groups.entry(key).or_default();
        if members.is_empty() {
            order.push(key);
        }
        members.push(i);
    }
    let mut out = Vec::new();
    for key in order {
        let members = &groups[&key];
        match key {
            Key::Single(..) => single(events, members, &mut out),
            Key::Batch(..) => batch(events, members, &mut out),
        }
    }
    out
}

fn batch_id(e: &StoredEvent) -> Option<Uuid> {
    e.metadata
        .get("batch_id")
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok())
}

fn decoded(e: &StoredEvent) -> Option<LeadEvent> {
    match LeadEvent::decode(e) {
        Ok(event) => Some(event),
        Err(err) => {
            tracing::warn!(position = e.position, error = %err, "event skipped by the webhook fan-out");
            None
        }
    }
}

fn single(events: &[StoredEvent], members: &[usize], out: &mut Vec<Planned>) {
    let (first, last) = (members[0], members[members.len() - 1]);
    let e = &events[first];
    if e.stream_type == WebhookEvent::STREAM_TYPE {
        out.push(Planned {
            tenant: e.tenant_id,
            public: Public::Test {
                webhook: e.stream_id,
            },
            id_event: first,
        });
        return;
    }
    let (mut created, mut deleted, mut changed, mut scored) = (false, false, false, false);
    for &i in members {
        let name = match decoded(&events[i]) {
            Some(LeadEvent::Created(_)) => {
                created = true;
                continue;
            }
            Some(LeadEvent::Deleted(_)) => {
                deleted = true;
                continue;
            }
            Some(LeadEvent::Merged(_) | LeadEvent::Updated(_)) => {
                changed = true;
                continue;
            }
            Some(LeadEvent::Scored(_)) => {
                scored = true;
                continue;
            }
            Some(LeadEvent::NoteAdded(_)) => "note.created",
            Some(LeadEvent::NoteEdited(_)) => "note.updated",
            Some(LeadEvent::NoteRemoved(_)) => "note.deleted",
            None => continue,
        };
        out.push(Planned {
            tenant: e.tenant_id,
            public: Public::Note { name, at: i },
            id_event: i,
        });
    }
    let name = if created {
        "lead.created"
    } else if deleted {
        "lead.deleted"
    } else if changed {
        "lead.updated"
    } else if scored {
        "lead.scored"
    } else {
        return;
    };
    out.push(Planned {
        tenant: e.tenant_id,
        public: Public::Lead {
            name,
            stream: e.stream_id,
            first,
            last,
        },
        id_event: last,
    });
}

fn batch(events: &[StoredEvent], members: &[usize], out: &mut Vec<Planned>) {
    let tenant = events[members[0]].tenant_id;
    let last = members[members.len() - 1];
    // Per lead, in first-seen order: what happened to it, and its last score.
    let mut leads: Vec<Uuid> = Vec::new();
    let mut what: HashMap<Uuid, (bool, bool, bool, Option<f64>)> = HashMap::new();
    for &i in members {
        let e = &events[i];
        let Some(event) = decoded(e) else { continue };
        let entry = what.entry(e.stream_id).or_insert_with(|| {
            leads.push(e.stream_id);
            (false, false, false, None)
        });
        match event {
            LeadEvent::Created(_) => entry.0 = true,
            LeadEvent::Merged(_) | LeadEvent::Updated(_) => entry.1 = true,
            LeadEvent::Deleted(_) => entry.2 = true,
            LeadEvent::Scored(s) => entry.3 = Some(s.score),
            _ => {}
        }
    }
    let (mut created, mut updated, mut deleted, mut scores) = (vec![], vec![], vec![], vec![]);
    for id in leads {
        match what[&id] {
            (_, _, true, _) => deleted.push(id),
            (true, _, _, _) => created.push(id),
            (_, true, _, _) => updated.push(id),
            (_, _, _, Some(score)) => scores.push((id, score)),
            _ => {}
        }
    }
    for (name, ids) in [
        ("leads.created", created),
        ("leads.updated", updated),
        ("leads.deleted", deleted),
    ] {
        if !ids.is_empty() {
            out.push(Planned {
                tenant,
                public: Public::Leads { name, ids },
                id_event: last,
            });
        }
    }
    if !scores.is_empty() {
        out.push(Planned {
            tenant,
            public: Public::Scored { scores },
            id_event: last,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn ev(
        tx: i64,
        stream: u128,
        version: i64,
        kind: &str,
        payload: Value,
        batch: Option<u128>,
    ) -> StoredEvent {
        let metadata = match batch {
            Some(b) => json!({"batch_id": Uuid::from_u128(b)}),
            None => json!({}),
        };
        StoredEvent {
            position: 0,
            event_id: Uuid::new_v4(),
            tenant_id: Uuid::nil(),
            stream_type: "lead".into(),
            stream_id: Uuid::from_u128(stream),
            stream_version: version,
            event_type: kind.into(),
            schema_version: shared::events::upcast::current_version(kind),
            payload,
            metadata,
            recorded_at: chrono::Utc::now(),
            tx_id: tx,
        }
    }

    fn created() -> Value {
        json!({"lead": {"fields": {"name": "A", "source": "s", "status": "new"}}, "at": 1})
    }
    fn scored(s: f64) -> Value {
        json!({"score": s, "previous": 0.0, "at": 1})
    }
    fn updated() -> Value {
        json!({"changes": {}, "at": 1})
    }

    fn names(p: &[Planned]) -> Vec<&'static str> {
        p.iter().map(|p| p.public.name()).collect()
    }

    #[test]
    fn single_commands_yield_one_lead_event_carrying_their_score() {
        let events = vec![
            ev(1, 1, 1, "LeadCreated", created(), None),
            ev(1, 1, 2, "LeadScored", scored(5.0), None),
            ev(2, 1, 3, "LeadUpdated", updated(), None),
            ev(3, 1, 4, "LeadScored", scored(7.0), None),
            ev(4, 1, 5, "LeadDeleted", json!({"at": 2}), None),
        ];
        let p = plan(&events);
        assert_eq!(
            names(&p),
            [
                "lead.created",
                "lead.updated",
                "lead.scored",
                "lead.deleted"
            ]
        );
        assert_eq!(
            p[0].id_event, 1,
            "the envelope is named after the group's last event"
        );
    }

    #[test]
    fn a_batch_yields_one_grouped_event_per_kind() {
        let b = Some(9);
        let events = vec![
            ev(1, 1, 1, "LeadCreated", created(), b),
            ev(1, 1, 2, "LeadScored", scored(1.0), b),
            ev(
                1,
                2,
                4,
                "LeadMerged",
                json!({"matched_by": "email", "changes": {}, "at": 1}),
                b,
            ),
            ev(1, 3, 1, "LeadCreated", created(), b),
            ev(2, 4, 3, "LeadScored", scored(3.0), Some(10)),
            ev(2, 5, 3, "LeadScored", scored(4.0), Some(10)),
        ];
        let p = plan(&events);
        assert_eq!(
            names(&p),
            ["leads.created", "leads.updated", "leads.scored"]
        );
        assert_eq!(
            p[0].public,
            Public::Leads {
                name: "leads.created",
                ids: vec![Uuid::from_u128(1), Uuid::from_u128(3)]
            }
        );
        assert_eq!(
            p[2].public,
            Public::Scored {
                scores: vec![(Uuid::from_u128(4), 3.0), (Uuid::from_u128(5), 4.0)]
            }
        );
    }
}
