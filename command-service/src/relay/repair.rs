//! Repairing a relay checkpoint written in the old position-only order (before migration
//! 0015). That relay handed out events by position and skipped any whose transaction
//! committed after a later position was handed out. The repair publishes exactly those it
//! skipped, then moves the checkpoint to the pair that continues where the old one stopped.
//!
//! How the skipped ones are found without doubling the others:
//! 1. The new checkpoint is the last event, in the follower order, among the settled events at
//!    or before the legacy position. Everything after it in the follower order was never
//!    handed out by the old relay (its positions are past the legacy one, or it was still in
//!    flight), and the new tail hands it out.
//! 2. Candidates: settled events at or before the legacy position with a later position at
//!    or before it written by an older transaction (a skipped event always has one: the event
//!    handed out past it while its own transaction ran), and events past the legacy position
//!    that are before the new checkpoint in the follower order (the old relay never reached
//!    them; a crashed last round may have).
//! 3. JetStream is read (headers only) from the earliest candidate's recording time on, and
//!    every candidate whose id is already there is dropped. The rest are published in the
//!    follower order with `Nats-Msg-Id` = event id. Candidates older than the stream's
//!    oldest message (`max_age` removed it, or it was never there) are left out: a subscriber
//!    could not have kept them apart from one already expired; the count is logged.

use super::publish::publish_events;
use super::CHECKPOINT;
use async_nats::jetstream::consumer::pull::OrderedConfig;
use async_nats::jetstream::consumer::DeliverPolicy;
use futures::StreamExt;
use shared::events::StoredEvent;
use shared::store::{save_repaired, LogPosition};
use sqlx::PgConnection;
use std::collections::HashSet;
use uuid::Uuid;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RepairReport {
    pub candidates: usize,
    pub already_published: usize,
    pub published: usize,
    pub expired: usize,
    pub checkpoint: LogPosition,
}

/// Repairs the relay from a `legacy` position-only checkpoint; see the module docs.
pub async fn repair(
    conn: &mut PgConnection,
    js: &async_nats::jetstream::Context,
    legacy: i64,
) -> anyhow::Result<RepairReport> {
    let checkpoint: LogPosition = sqlx::query_as::<_, (i64, i64)>(
        "SELECT tx_id::text::bigint, position FROM events
         WHERE position <= $1 AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
         ORDER BY tx_id DESC, position DESC LIMIT 1",
    )
    .bind(legacy)
    .fetch_optional(&mut *conn)
    .await?
    .map_or(LogPosition::START, |(tx, p)| LogPosition::new(tx, p));

    let columns = "position, event_id, tenant_id, stream_type, stream_id, stream_version, \
                   event_type, schema_version, payload, metadata, recorded_at, tx_id";
    let mut candidates: Vec<StoredEvent> = sqlx::query_as(&format!(
        "SELECT {columns} FROM (
             SELECT position, event_id, tenant_id, stream_type, stream_id, stream_version,
                    event_type, schema_version, payload, metadata, recorded_at,
                    tx_id::text::bigint AS tx_id,
                    min(tx_id) OVER (ORDER BY position DESC
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS later_min
             FROM events
             WHERE position <= $1 AND (tx_id, position) <= ($2::text::xid8, $3)
         ) e WHERE later_min::text::bigint < tx_id
         UNION ALL
         SELECT {columns} FROM (
             SELECT position, event_id, tenant_id, stream_type, stream_id, stream_version,
                    event_type, schema_version, payload, metadata, recorded_at,
                    tx_id::text::bigint AS tx_id
             FROM events WHERE position > $1 AND (tx_id, position) <= ($2::text::xid8, $3)
         ) f"
    ))
    .bind(legacy)
    .bind(checkpoint.tx)
    .bind(checkpoint.position)
    .fetch_all(&mut *conn)
    .await?;
    candidates.sort_by_key(StoredEvent::log_position);
    let mut report = RepairReport {
        candidates: candidates.len(),
        checkpoint,
        ..Default::default()
    };
    if !candidates.is_empty() {
        let stream = js.get_stream(shared::nats::STREAM_NAME).await?;
        let state = stream.get_info().await?.state;
        // Nothing expired while the stream still holds its first message; otherwise only
        // events recorded after its oldest message can be told apart.
        let first_ns = state.first_timestamp.unix_timestamp_nanos();
        let nothing_expired = state.first_sequence <= 1;
        let (keep, expired): (Vec<StoredEvent>, Vec<StoredEvent>) =
            candidates.into_iter().partition(|e| {
                nothing_expired
                    || (state.messages > 0
                        && i128::from(e.recorded_at.timestamp_nanos_opt().unwrap_or(0)) >= first_ns)
            });
        report.expired = expired.len();
        let present = match keep.iter().map(|e| e.recorded_at).min() {
            Some(since) if state.messages > 0 => {
                published_ids(&stream, since, state.last_sequence).await?
            }
            _ => HashSet::new(),
        };
        let missing: Vec<StoredEvent> = keep
            .into_iter()
            .filter(|e| !present.contains(&e.event_id))
            .collect();
        report.already_published = report.candidates - report.expired - missing.len();
        for chunk in missing.chunks(1000) {
            publish_events(js, chunk).await?;
        }
        report.published = missing.len();
    }
    save_repaired(conn, CHECKPOINT, checkpoint).await?;
    Ok(report)
}

/// The message ids in the events stream from `since` (recording time; JetStream stores a
/// message after its event was recorded) up to sequence `last`.
async fn published_ids(
    stream: &async_nats::jetstream::stream::Stream,
    since: chrono::DateTime<chrono::Utc>,
    last: u64,
) -> anyhow::Result<HashSet<Uuid>> {
    let mut ids = HashSet::new();
    // A minute of slack for clock differences between Postgres and nats-server.
    let start = since.timestamp_nanos_opt().unwrap_or(0) as i128 - 60_000_000_000;
    let consumer = stream
        .create_consumer(OrderedConfig {
            headers_only: true,
            deliver_policy: DeliverPolicy::ByStartTime {
                start_time: async_nats::datetime::from_nanos(start.max(0))
                    .map_err(|e| anyhow::anyhow!("start time: {e}"))?,
            },
            ..Default::default()
        })
        .await?;
    let mut messages = consumer.messages().await?;
    while let Some(message) = messages.next().await {
        let message = message?;
        let info = message.info().map_err(|e| anyhow::anyhow!("{e}"))?;
        let (sequence, pending) = (info.stream_sequence, info.pending);
        if let Some(id) = message
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .and_then(|v| Uuid::parse_str(v.as_str()).ok())
        {
            ids.insert(id);
        }
        if sequence >= last || pending == 0 {
            break;
        }
    }
    Ok(ids)
}
