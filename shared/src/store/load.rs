//! Reading streams: whole streams (audits, tests) and aggregate loads that start from the
//! latest snapshot and read only the events after it.

use super::EVENT_COLUMNS;
use crate::events::StoredEvent;
use serde_json::Value;
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

/// Every event of one stream of `tenant` after `after_version`, in order.
pub async fn read_stream(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    stream_id: Uuid,
    after_version: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM events
         WHERE stream_id = $1 AND tenant_id = $2 AND stream_version > $3
         ORDER BY stream_version"
    ))
    .bind(stream_id)
    .bind(tenant_id)
    .bind(after_version)
    .fetch_all(conn)
    .await
}

/// A stream as loaded for a decision: its snapshot (if one in `format` exists) and the events
/// after it.
#[derive(Debug, Default)]
pub struct LoadedStream {
    pub snapshot: Option<(i64, Value)>,
    pub events: Vec<StoredEvent>,
}

/// Loads many streams of one tenant and type in two queries. Streams of other tenants or
/// types are absent from the result.
pub async fn load_streams(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    stream_type: &str,
    stream_ids: &[Uuid],
    format: i32,
) -> Result<HashMap<Uuid, LoadedStream>, sqlx::Error> {
    let mut out: HashMap<Uuid, LoadedStream> = HashMap::new();
    if stream_ids.is_empty() {
        return Ok(out);
    }
    let snaps: Vec<(Uuid, i64, Value)> = sqlx::query_as(
        "SELECT stream_id, stream_version, state FROM snapshots
         WHERE stream_id = ANY($1) AND tenant_id = $2 AND format = $3",
    )
    .bind(stream_ids)
    .bind(tenant_id)
    .bind(format)
    .fetch_all(&mut *conn)
    .await?;
    let mut from: Vec<i64> = vec![0; stream_ids.len()];
    for (id, version, state) in snaps {
        if let Some(i) = stream_ids.iter().position(|s| *s == id) {
            from[i] = version;
        }
        out.entry(id).or_default().snapshot = Some((version, state));
    }
    let events: Vec<StoredEvent> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM events e
         JOIN unnest($1::uuid[], $2::bigint[]) AS s(id, after) ON e.stream_id = s.id
         WHERE e.tenant_id = $3 AND e.stream_type = $4 AND e.stream_version > s.after
         ORDER BY e.stream_id, e.stream_version"
    ))
    .bind(stream_ids)
    .bind(&from)
    .bind(tenant_id)
    .bind(stream_type)
    .fetch_all(&mut *conn)
    .await?;
    for e in events {
        out.entry(e.stream_id).or_default().events.push(e);
    }
    Ok(out)
}
