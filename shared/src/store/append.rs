//! Appending events: the streams' versions move with one compare-and-set statement per kind
//! of expectation, then every event of every stream goes in with one multi-row INSERT (whose
//! statement trigger NOTIFYs the tailers at commit).
//!
//! The compare-and-set also refuses to go behind the stream's last writer: a transaction whose
//! id is older than that of the transaction that last appended to the stream gets a conflict
//! (and retries in a new transaction, with a newer id). Otherwise an old transaction that
//! took its id early and appended after a younger one committed would put a later version
//! before an earlier one in the follower order (`tail`). Commands that lock their streams
//! (`lock_streams`) before their first write never meet this conflict.

use crate::db::is_unique_violation;
use crate::events::NewEvent;
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be exactly at this version.
    Exact(i64),
    /// Append wherever the stream is (it must exist).
    Any,
}

#[derive(Debug, Clone)]
pub struct StreamAppend {
    pub tenant_id: Uuid,
    pub stream_type: &'static str,
    pub stream_id: Uuid,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Another writer moved the stream first (or it exists / does not exist, against
    /// expectations). Reload and decide again.
    #[error("version conflict on stream {stream_id}")]
    Conflict { stream_id: Uuid },
    #[error("could not record events: {0}")]
    Db(#[from] sqlx::Error),
}

/// Appends to every stream in `appends` (one entry per stream) inside the caller's
/// transaction, in one statement: the streams' versions move (compare-and-set on the version
/// each writer expects) and the events are inserted only if every stream was where its writer
/// expected. Returns the global positions of the new events, in input order.
pub async fn append(
    conn: &mut PgConnection,
    appends: &[StreamAppend],
) -> Result<Vec<i64>, AppendError> {
    let appends: Vec<&StreamAppend> = appends.iter().filter(|a| !a.events.is_empty()).collect();
    if appends.is_empty() {
        return Ok(Vec::new());
    }
    let mut claims = Claims::default();
    let mut rows = EventRows::default();
    for a in &appends {
        let first = match a.expected {
            ExpectedVersion::NoStream => claims.create(a),
            ExpectedVersion::Exact(v) => claims.move_from(a, v),
            // Rare (account streams): its own statement learns where the stream is.
            ExpectedVersion::Any => claim_any(conn, a).await?,
        };
        for (i, e) in a.events.iter().enumerate() {
            rows.push(a, first + i as i64, e)?;
        }
    }
    let returned: Vec<(String, Uuid, Option<i64>)> = sqlx::query_as(
        "WITH created AS (
             INSERT INTO streams (stream_id, tenant_id, stream_type, version, last_tx)
             SELECT *, pg_current_xact_id()
             FROM unnest($10::uuid[], $11::uuid[], $12::text[], $13::bigint[])
             ON CONFLICT (stream_id) DO NOTHING RETURNING stream_id),
         moved AS (
             UPDATE streams s SET version = s.version + u.n, last_tx = pg_current_xact_id()
             FROM unnest($14::uuid[], $15::uuid[], $16::bigint[], $17::bigint[])
                  AS u(id, tenant, expected, n)
             WHERE s.stream_id = u.id AND s.tenant_id = u.tenant AND s.version = u.expected
               AND s.last_tx <= pg_current_xact_id()
             RETURNING s.stream_id),
         claimed AS (SELECT stream_id FROM created UNION ALL SELECT stream_id FROM moved),
         inserted AS (
             INSERT INTO events (event_id, tenant_id, stream_type, stream_id, stream_version,
                                 event_type, schema_version, payload, metadata)
             SELECT e.event_id, e.tenant_id, e.stream_type, e.stream_id, e.stream_version,
                    e.event_type, e.schema_version, e.payload, e.metadata
             FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::bigint[],
                         $6::text[], $7::int[], $8::jsonb[], $9::jsonb[])
                  WITH ORDINALITY AS e(event_id, tenant_id, stream_type, stream_id,
                                       stream_version, event_type, schema_version, payload,
                                       metadata, ord)
             WHERE (SELECT count(*) FROM claimed) = $18
             ORDER BY e.ord
             RETURNING event_id, position)
         SELECT 'claimed', stream_id, NULL::bigint FROM claimed
         UNION ALL SELECT 'event', event_id, position FROM inserted",
    )
    .bind(&rows.event_id)
    .bind(&rows.tenant_id)
    .bind(&rows.stream_type)
    .bind(&rows.stream_id)
    .bind(&rows.stream_version)
    .bind(&rows.event_type)
    .bind(&rows.schema_version)
    .bind(&rows.payload)
    .bind(&rows.metadata)
    .bind(&claims.new_ids)
    .bind(&claims.new_tenants)
    .bind(&claims.new_types)
    .bind(&claims.new_counts)
    .bind(&claims.ex_ids)
    .bind(&claims.ex_tenants)
    .bind(&claims.ex_versions)
    .bind(&claims.ex_counts)
    .bind((claims.new_ids.len() + claims.ex_ids.len()) as i64)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| map_conflict(e, &appends))?;
    let mut claimed = std::collections::HashSet::new();
    let mut by_id = std::collections::HashMap::new();
    for (kind, id, position) in returned {
        match (kind.as_str(), position) {
            ("event", Some(position)) => {
                by_id.insert(id, position);
            }
            _ => {
                claimed.insert(id);
            }
        }
    }
    // Any stream that is not where its writer expected makes the whole append a conflict.
    if let Some(stream_id) = claims
        .new_ids
        .iter()
        .chain(&claims.ex_ids)
        .find(|id| !claimed.contains(*id))
    {
        return Err(AppendError::Conflict {
            stream_id: *stream_id,
        });
    }
    Ok(rows
        .event_id
        .iter()
        .filter_map(|id| by_id.get(id).copied())
        .collect())
}

/// The version claims of one append, as column arrays.
#[derive(Default)]
struct Claims {
    new_ids: Vec<Uuid>,
    new_tenants: Vec<Uuid>,
    new_types: Vec<&'static str>,
    new_counts: Vec<i64>,
    ex_ids: Vec<Uuid>,
    ex_tenants: Vec<Uuid>,
    ex_versions: Vec<i64>,
    ex_counts: Vec<i64>,
}

impl Claims {
    /// A new stream; its first version.
    fn create(&mut self, a: &StreamAppend) -> i64 {
        self.new_ids.push(a.stream_id);
        self.new_tenants.push(a.tenant_id);
        self.new_types.push(a.stream_type);
        self.new_counts.push(a.events.len() as i64);
        1
    }

    /// A stream expected at version `v`; its first new version.
    fn move_from(&mut self, a: &StreamAppend, v: i64) -> i64 {
        self.ex_ids.push(a.stream_id);
        self.ex_tenants.push(a.tenant_id);
        self.ex_versions.push(v);
        self.ex_counts.push(a.events.len() as i64);
        v + 1
    }
}

/// Moves a stream appended with `ExpectedVersion::Any`; returns its first new version.
async fn claim_any(conn: &mut PgConnection, a: &StreamAppend) -> Result<i64, AppendError> {
    let n = a.events.len() as i64;
    let moved: Option<(i64,)> = sqlx::query_as(
        "UPDATE streams SET version = version + $3, last_tx = pg_current_xact_id()
         WHERE stream_id = $1 AND tenant_id = $2 AND last_tx <= pg_current_xact_id()
         RETURNING version",
    )
    .bind(a.stream_id)
    .bind(a.tenant_id)
    .bind(n)
    .fetch_optional(&mut *conn)
    .await?;
    let (new,) = moved.ok_or(AppendError::Conflict {
        stream_id: a.stream_id,
    })?;
    Ok(new - n + 1)
}

fn map_conflict(err: sqlx::Error, appends: &[&StreamAppend]) -> AppendError {
    if is_unique_violation(&err, "events_stream_version_key") {
        let stream_id = appends.first().map(|a| a.stream_id).unwrap_or_default();
        AppendError::Conflict { stream_id }
    } else {
        AppendError::Db(err)
    }
}

/// Column arrays for the multi-row INSERT.
#[derive(Default)]
struct EventRows {
    event_id: Vec<Uuid>,
    tenant_id: Vec<Uuid>,
    stream_type: Vec<&'static str>,
    stream_id: Vec<Uuid>,
    stream_version: Vec<i64>,
    event_type: Vec<&'static str>,
    schema_version: Vec<i32>,
    payload: Vec<serde_json::Value>,
    metadata: Vec<serde_json::Value>,
}

impl EventRows {
    fn push(&mut self, a: &StreamAppend, version: i64, e: &NewEvent) -> Result<(), AppendError> {
        let metadata = serde_json::to_value(&e.metadata)
            .map_err(|err| AppendError::Db(sqlx::Error::Encode(Box::new(err))))?;
        self.event_id.push(e.event_id);
        self.tenant_id.push(a.tenant_id);
        self.stream_type.push(a.stream_type);
        self.stream_id.push(a.stream_id);
        self.stream_version.push(version);
        self.event_type.push(e.event_type);
        self.schema_version.push(e.schema_version);
        self.payload.push(e.payload.clone());
        self.metadata.push(metadata);
        Ok(())
    }
}

/// Locks streams for the rest of the caller's transaction, in a fixed order, so writers of one
/// stream take turns instead of failing each other's compare-and-set. Call it before the
/// transaction's first write: its id is then taken after every earlier writer of these streams
/// committed, which keeps the follower order and the streams' version order one.
pub async fn lock_streams(conn: &mut PgConnection, stream_ids: &[Uuid]) -> Result<(), sqlx::Error> {
    let mut keys: Vec<i64> = stream_ids.iter().map(|id| stream_lock_id(*id)).collect();
    if keys.is_empty() {
        return Ok(());
    }
    keys.sort_unstable();
    keys.dedup();
    sqlx::query(
        "SELECT count(*) FROM (SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k) AS l",
    )
        .bind(&keys)
        .execute(conn)
        .await?;
    Ok(())
}

/// The advisory lock key of a stream: the random half of its id (v4 and v7 ids alike).
fn stream_lock_id(id: Uuid) -> i64 {
    let b = id.as_bytes();
    i64::from_le_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]])
}
