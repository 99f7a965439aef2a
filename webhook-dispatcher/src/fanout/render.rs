//! Rendering planned public events into messages: the SPEC-CRM §3.13 envelope (`id`, `event`,
//! `timestamp`, `occurred_at`, `data`, and `previous` on updates) serialized once — the exact
//! body every endpoint receives. `data` is the full lead or note as of the event (for a
//! delete: as it was before), or the grouped shape of a batch.

use super::groups::{Planned, Public};
use super::states::{fold, states_at};
use serde_json::{json, Map, Value};
use shared::events::lead::LeadEvent;
use shared::events::{DomainEvent, StoredEvent};
use shared::ids::lead_public_id;
use shared::lead::state::Lead;
use shared::lead::view::lead_json;
use shared::read_model::notes::note_json;
use shared::webhooks::message_id;
use shared::webhooks::rows::rfc3339;
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// A message ready to store: one public event, its body final.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: Uuid,
    pub tenant: Uuid,
    pub event: &'static str,
    pub body: String,
    /// `webhook.test` goes to this endpoint only.
    pub only: Option<Uuid>,
}

/// Keys of the lead object that `previous` leaves out (they move on every change).
const UNTRACKED: [&str; 2] = ["updated_at", "last_interaction_at"];

/// Lead states around each event of the batch, for the streams that need them.
struct Timeline {
    /// State after the event at each index.
    after: HashMap<usize, Lead>,
    /// State before the first event of the stream in the batch.
    before: HashMap<Uuid, Lead>,
    /// Index of the previous event of the same stream.
    previous_index: HashMap<usize, usize>,
}

impl Timeline {
    fn before(&self, stream: Uuid, first: usize) -> Option<&Lead> {
        match self.previous_index.get(&first) {
            Some(i) => self.after.get(i),
            None => self.before.get(&stream),
        }
    }
}

async fn timeline(
    conn: &mut PgConnection,
    events: &[StoredEvent],
    wanted: &[&Planned],
) -> Result<Timeline, sqlx::Error> {
    let streams: HashSet<Uuid> = wanted
        .iter()
        .filter_map(|p| match p.public {
            Public::Lead { stream, .. } => Some(stream),
            _ => None,
        })
        .collect();
    let mut last_index: HashMap<Uuid, usize> = HashMap::new();
    let mut previous_index = HashMap::new();
    // Per tenant: the streams whose first event here is not their first ever.
    let mut to_load: HashMap<Uuid, Vec<(Uuid, i64)>> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        if e.stream_type != "lead" || !streams.contains(&e.stream_id) {
            continue;
        }
        match last_index.insert(e.stream_id, i) {
            Some(prev) => {
                previous_index.insert(i, prev);
            }
            None if e.stream_version > 1 => to_load
                .entry(e.tenant_id)
                .or_default()
                .push((e.stream_id, e.stream_version - 1)),
            None => {}
        }
    }
    let mut before = HashMap::new();
    for (tenant, streams) in to_load {
        before.extend(states_at(conn, tenant, &streams).await?);
    }
    let mut after = HashMap::new();
    let mut current: HashMap<Uuid, Option<Lead>> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        if e.stream_type != "lead" || !streams.contains(&e.stream_id) {
            continue;
        }
        let state = current
            .entry(e.stream_id)
            .or_insert_with(|| before.get(&e.stream_id).cloned());
        match fold(state, e) {
            Ok(()) => {
                if let Some(lead) = state.as_ref() {
                    after.insert(i, lead.clone());
                }
            }
            Err(why) => {
                tracing::warn!(position = e.position, %why, "webhook data skipped this event")
            }
        }
    }
    Ok(Timeline {
        after,
        before,
        previous_index,
    })
}

fn previous_of(before: &Map<String, Value>, after: &Map<String, Value>) -> Value {
    let changed: Map<String, Value> = before
        .iter()
        .filter(|(k, v)| !UNTRACKED.contains(&k.as_str()) && after.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(changed)
}

/// The note as of the note event at `at`: its content, creation and last edit, read from the
/// lead's stream when the event alone does not carry them.
async fn note_data(
    conn: &mut PgConnection,
    e: &StoredEvent,
) -> Result<Option<(Value, Option<Value>)>, sqlx::Error> {
    let Ok(event) = LeadEvent::decode(e) else {
        return Ok(None);
    };
    let (note, at) = match &event {
        LeadEvent::NoteAdded(n) => {
            let data = note_json(n.note_id, e.stream_id, &n.content, n.at, n.at);
            return Ok(Some((data, None)));
        }
        LeadEvent::NoteEdited(n) => (n.note_id, n.at),
        LeadEvent::NoteRemoved(n) => (n.note_id, n.at),
        _ => return Ok(None),
    };
    let history: Vec<(String, Value)> = sqlx::query_as(
        "SELECT event_type, payload FROM events
         WHERE tenant_id = $1 AND stream_id = $2 AND stream_version < $3
           AND event_type IN ('NoteAdded', 'NoteEdited') AND payload->>'note_id' = $4
         ORDER BY stream_version",
    )
    .bind(e.tenant_id)
    .bind(e.stream_id)
    .bind(e.stream_version)
    .bind(note.to_string())
    .fetch_all(conn)
    .await?;
    let created_at = history
        .first()
        .and_then(|(_, p)| p.get("at"))
        .and_then(Value::as_i64)
        .unwrap_or(at);
    let (content, updated_at) = history
        .last()
        .map(|(_, p)| {
            (
                p.get("content")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                p.get("at").and_then(Value::as_i64).unwrap_or(at),
            )
        })
        .unwrap_or_default();
    Ok(Some(match &event {
        LeadEvent::NoteEdited(n) => (
            note_json(note, e.stream_id, &n.content, created_at, n.at),
            Some(json!({ "content": content })),
        ),
        _ => (
            note_json(note, e.stream_id, &content, created_at, updated_at),
            None,
        ),
    }))
}

/// Renders the `wanted` planned events of `events` into messages, each with the index of its
/// planned event (one whose data cannot be rendered is left out, and logged).
pub async fn render(
    conn: &mut PgConnection,
    events: &[StoredEvent],
    wanted: &[&Planned],
) -> Result<Vec<(usize, Message)>, sqlx::Error> {
    let timeline = timeline(conn, events, wanted).await?;
    let mut out = Vec::with_capacity(wanted.len());
    for (index, p) in wanted.iter().enumerate() {
        let named = &events[p.id_event];
        let name = p.public.name();
        let (data, previous, only) = match &p.public {
            Public::Lead {
                name,
                stream,
                first,
                last,
            } => {
                let before = timeline.before(*stream, *first).map(lead_json);
                let Some(after) = timeline.after.get(last).map(lead_json) else {
                    continue;
                };
                match (*name, before) {
                    ("lead.deleted", Some(before)) => (Value::Object(before), None, None),
                    ("lead.updated", Some(before)) => {
                        let previous = previous_of(&before, &after);
                        (Value::Object(after), Some(previous), None)
                    }
                    _ => (Value::Object(after), None, None),
                }
            }
            Public::Note { at, .. } => match note_data(conn, &events[*at]).await? {
                Some((data, previous)) => (data, previous, None),
                None => continue,
            },
            Public::Leads { ids, .. } => {
                let ids: Vec<String> = ids.iter().map(|id| lead_public_id(*id)).collect();
                (json!({"ids": ids, "count": ids.len()}), None, None)
            }
            Public::Scored { scores } => {
                let leads: Vec<Value> = scores
                    .iter()
                    .map(|(id, score)| json!({"id": lead_public_id(*id), "score": score}))
                    .collect();
                (json!({"leads": leads, "count": leads.len()}), None, None)
            }
            Public::Test { webhook } => (
                json!({
                    "webhook_id": webhook,
                    "message": "This is a test event from Leadstream: your endpoint is reachable.",
                }),
                None,
                Some(*webhook),
            ),
        };
        let id = message_id(named.event_id, name);
        let mut envelope = json!({
            "id": id,
            "event": name,
            "timestamp": named.recorded_at.timestamp(),
            "occurred_at": rfc3339(named.recorded_at),
            "data": data,
        });
        if let Some(previous) = previous {
            envelope["previous"] = previous;
        }
        out.push((
            index,
            Message {
                id,
                tenant: p.tenant,
                event: name,
                body: envelope.to_string(),
                only,
            },
        ));
    }
    Ok(out)
}
