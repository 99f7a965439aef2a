//! The lead read model against the truth: every lead replayed from the event store, and every
//! row of the live read model, both as `Lead`s.

use projector::lead_view::{read_leads, Tables};
use shared::events::lead::LeadEvent;
use shared::events::{DomainEvent, StoredEvent};
use shared::lead::Lead;
use sqlx::PgPool;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Every lead as the write side sees it: each stream replayed from its first event.
pub async fn aggregates(pool: &PgPool) -> BTreeMap<Uuid, Lead> {
    let events: Vec<StoredEvent> = sqlx::query_as(
        "SELECT position, event_id, tenant_id, stream_type, stream_id, stream_version, event_type,
                schema_version, payload, metadata, recorded_at
         FROM events WHERE stream_type = 'lead' ORDER BY stream_id, stream_version",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut leads = BTreeMap::new();
    for e in &events {
        let event = LeadEvent::decode(e).unwrap();
        match &event {
            LeadEvent::Created(c) => {
                leads.insert(e.stream_id, Lead::created(e.stream_id, e.tenant_id, c));
            }
            _ => leads.get_mut(&e.stream_id).unwrap().apply(&event),
        }
    }
    leads
}

/// Every row of the live lead read model (tombstones included).
pub async fn rows(pool: &PgPool) -> BTreeMap<Uuid, Lead> {
    let ids: Vec<(Uuid, Uuid)> = sqlx::query_as("SELECT tenant_id, lead_id FROM lead_view")
        .fetch_all(pool)
        .await
        .unwrap();
    let mut conn = pool.acquire().await.unwrap();
    read_leads(&mut conn, &Tables::live(), &ids)
        .await
        .unwrap()
        .into_iter()
        .collect()
}
