//! Lead states as of a version, for rendering `lead.*` data exactly as of an event: from the
//! stream's snapshot when it is not newer than that version, else from the stream's start.
//! A stream's `LeadCreated` in the batch itself needs no read at all.

use shared::events::lead::LeadEvent;
use shared::events::{DomainEvent, StoredEvent};
use shared::lead::state::{Lead, SNAPSHOT_FORMAT};
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

/// Folds one event onto a state (`None` before the stream's first event).
pub fn fold(state: &mut Option<Lead>, stored: &StoredEvent) -> Result<(), String> {
    let event = LeadEvent::decode(stored).map_err(|e| e.to_string())?;
    match (state.as_mut(), &event) {
        (None, LeadEvent::Created(created)) => {
            *state = Some(Lead::created(stored.stream_id, stored.tenant_id, created));
        }
        (Some(lead), _) => lead.apply(&event),
        (None, _) => {
            return Err(format!(
                "lead stream {} has no LeadCreated",
                stored.stream_id
            ))
        }
    }
    Ok(())
}

/// The states of `streams` (id, version) of `tenant` as of each version.
pub async fn states_at(
    conn: &mut PgConnection,
    tenant: Uuid,
    streams: &[(Uuid, i64)],
) -> Result<HashMap<Uuid, Lead>, sqlx::Error> {
    let ids: Vec<Uuid> = streams.iter().map(|s| s.0).collect();
    let upto: Vec<i64> = streams.iter().map(|s| s.1).collect();
    let snaps: Vec<(Uuid, i64, serde_json::Value)> = sqlx::query_as(
        "SELECT s.stream_id, s.stream_version, s.state FROM snapshots s
         JOIN unnest($1::uuid[], $2::bigint[]) AS w(id, upto) ON s.stream_id = w.id
         WHERE s.tenant_id = $3 AND s.format = $4 AND s.stream_version <= w.upto",
    )
    .bind(&ids)
    .bind(&upto)
    .bind(tenant)
    .bind(SNAPSHOT_FORMAT)
    .fetch_all(&mut *conn)
    .await?;
    let mut states: HashMap<Uuid, Option<Lead>> = ids.iter().map(|id| (*id, None)).collect();
    let mut from: HashMap<Uuid, i64> = HashMap::new();
    for (id, version, state) in snaps {
        if let Ok(mut lead) = serde_json::from_value::<Lead>(state) {
            lead.snapshot_version = version;
            states.insert(id, Some(lead));
            from.insert(id, version);
        }
    }
    let after: Vec<i64> = ids
        .iter()
        .map(|id| from.get(id).copied().unwrap_or(0))
        .collect();
    let events: Vec<StoredEvent> = sqlx::query_as(&format!(
        "SELECT {} FROM events e
         JOIN unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS w(id, after, upto)
           ON e.stream_id = w.id
         WHERE e.tenant_id = $4 AND e.stream_type = 'lead'
           AND e.stream_version > w.after AND e.stream_version <= w.upto
         ORDER BY e.stream_id, e.stream_version",
        shared::store::EVENT_COLUMNS
    ))
    .bind(&ids)
    .bind(&after)
    .bind(&upto)
    .bind(tenant)
    .fetch_all(&mut *conn)
    .await?;
    for e in &events {
        let state = states.entry(e.stream_id).or_default();
        if let Err(why) = fold(state, e) {
            tracing::warn!(position = e.position, %why, "event skipped while rendering webhook data");
        }
    }
    Ok(states
        .into_iter()
        .filter_map(|(id, s)| s.map(|s| (id, s)))
        .collect())
}
