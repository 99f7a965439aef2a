//! One batch of a rescore: the next leads of a range, scored with the account's current rules,
//! a `LeadScored` event appended for each changed score — in the caller's transaction.

use crate::app::repo::load_leads;
use crate::app::unit::{settle, WriteError};
use crate::app::working::WorkingSet;
use shared::events::EventMetadata;
use shared::lead::Lead;
use shared::read_model::decode_row;
use sqlx::{PgConnection, Row};
use std::collections::HashMap;
use uuid::Uuid;

/// The leads of `tenant` after `cursor` up to `upto` (by id, at most `limit`; deleted ones
/// included, they are skipped) with their current state. A state comes from the lead read
/// model when it is at the stream's version (checked in the caller's transaction; an append
/// that follows is compare-and-set on that version anyway), else from the event store.
async fn next_leads(
    conn: &mut PgConnection,
    tenant: Uuid,
    (cursor, upto): (Option<Uuid>, Option<Uuid>),
    limit: i64,
) -> Result<(Vec<Uuid>, HashMap<Uuid, Lead>), WriteError> {
    let rows = sqlx::query(
        "SELECT st.stream_id, st.version AS stream_version, v.*, s.score, s.version AS score_version
         FROM streams st
         LEFT JOIN lead_view v ON v.tenant_id = st.tenant_id AND v.lead_id = st.stream_id
         LEFT JOIN lead_scores s ON s.tenant_id = st.tenant_id AND s.lead_id = st.stream_id
         WHERE st.tenant_id = $1 AND st.stream_type = 'lead'
           AND st.stream_id > coalesce($2, '00000000-0000-0000-0000-000000000000'::uuid)
           AND st.stream_id <= coalesce($4, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid)
         ORDER BY st.stream_id LIMIT $3",
    )
    .bind(tenant)
    .bind(cursor)
    .bind(limit)
    .bind(upto)
    .fetch_all(&mut *conn)
    .await?;
    let mut ids = Vec::with_capacity(rows.len());
    let mut leads = HashMap::with_capacity(rows.len());
    let mut behind = Vec::new();
    for row in &rows {
        let id: Uuid = row.try_get("stream_id")?;
        ids.push(id);
        let current: i64 = row.try_get("stream_version")?;
        let row_version = row.try_get::<Option<i64>, _>("version")?;
        let score_version = row.try_get::<Option<i64>, _>("score_version")?;
        if row_version.zip(score_version).map(|(a, b)| a.max(b)) == Some(current) {
            let mut lead = decode_row(row)?;
            // No snapshot is due for a state that did not come from the store.
            lead.snapshot_version = lead.version;
            leads.insert(id, lead);
        } else {
            behind.push(id);
        }
    }
    if !behind.is_empty() {
        leads.extend(load_leads(conn, tenant, &behind).await?);
    }
    Ok((ids, leads))
}

/// What one batch did.
pub struct BatchOutcome {
    /// Leads looked at, and the last of them (the next cursor).
    pub seen: Vec<Uuid>,
    /// (lead, new score) of the live leads of the batch.
    pub scores: Vec<(Uuid, f64)>,
    pub changed: usize,
}

/// Rescores the leads of `tenant` after `range.0` up to `range.1` (at most `limit`) in the
/// caller's transaction.
pub async fn rescore_batch(
    conn: &mut PgConnection,
    tenant: Uuid,
    range: (Option<Uuid>, Option<Uuid>),
    limit: i64,
    metadata: &EventMetadata,
) -> Result<BatchOutcome, WriteError> {
    let (ids, leads) = next_leads(conn, tenant, range, limit).await?;
    if ids.is_empty() {
        return Ok(BatchOutcome {
            seen: ids,
            scores: Vec::new(),
            changed: 0,
        });
    }
    let mut ws = WorkingSet::new(tenant, leads, Vec::new());
    for id in &ids {
        ws.touch(*id);
    }
    let now = chrono::Utc::now().timestamp();
    let changed = settle(conn, &mut ws, now, metadata).await?.len();
    let scores = ids
        .iter()
        .filter_map(|id| ws.get(*id).filter(|l| !l.deleted).map(|l| (*id, l.score)))
        .collect();
    Ok(BatchOutcome {
        seen: ids,
        scores,
        changed,
    })
}
