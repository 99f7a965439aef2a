//! Storing a round's messages and their deliveries (idempotent: a message id is derived from
//! its events, and an endpoint gets one delivery per message), moving the fan-out's checkpoint
//! past the round and waking the workers — one statement, which writes nothing when another
//! replica moved the checkpoint first.

use super::render::Message;
use super::CHECKPOINT;
use shared::store::{move_checkpoint, moved_cte, LogPosition};
use shared::webhooks::DUE_CHANNEL;
use sqlx::PgConnection;
use std::collections::HashSet;
use std::time::Duration;
use uuid::Uuid;

/// A delivery to write: to `webhook`, of `message`, claimed for this process's workers or
/// left due for any claim.
pub struct Delivery<'m> {
    pub id: Uuid,
    pub webhook: Uuid,
    pub message: &'m Message,
    pub claimed: bool,
}

/// The round from checkpoint `from` to `to`.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub from: LogPosition,
    pub to: LogPosition,
}

/// Writes the messages of `deliveries` and the deliveries (a claimed one due again only after
/// `lease`) and moves the checkpoint over `span`; answers the ids of the deliveries written
/// (one already there is not), or `None` when the checkpoint had moved (nothing written).
pub async fn write(
    conn: &mut PgConnection,
    deliveries: &[Delivery<'_>],
    lease: Duration,
    span: Span,
) -> Result<Option<HashSet<Uuid>>, sqlx::Error> {
    if deliveries.is_empty() {
        let moved = move_checkpoint(conn, CHECKPOINT, span.from, span.to).await?;
        return Ok(moved.then(HashSet::new));
    }
    let mut seen = HashSet::new();
    let messages: Vec<&Message> = deliveries
        .iter()
        .map(|d| d.message)
        .filter(|m| seen.insert(m.id))
        .collect();
    let ids: Vec<Uuid> = messages.iter().map(|m| m.id).collect();
    let tenants: Vec<Uuid> = messages.iter().map(|m| m.tenant).collect();
    let events: Vec<&str> = messages.iter().map(|m| m.event).collect();
    let bodies: Vec<&str> = messages.iter().map(|m| m.body.as_str()).collect();
    let d_ids: Vec<Uuid> = deliveries.iter().map(|d| d.id).collect();
    let d_hooks: Vec<Uuid> = deliveries.iter().map(|d| d.webhook).collect();
    let d_tenants: Vec<Uuid> = deliveries.iter().map(|d| d.message.tenant).collect();
    let d_msgs: Vec<Uuid> = deliveries.iter().map(|d| d.message.id).collect();
    let d_events: Vec<&str> = deliveries.iter().map(|d| d.message.event).collect();
    let d_claimed: Vec<bool> = deliveries.iter().map(|d| d.claimed).collect();
    // Rows: `true` once when the checkpoint moved, then each delivery written.
    let rows: Vec<(bool, Option<Uuid>)> = sqlx::query_as(&format!(
        "WITH {moved}, messages AS (
             INSERT INTO webhook_messages (message_id, tenant_id, event, body)
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[])
             WHERE EXISTS (SELECT 1 FROM moved)
             ON CONFLICT (message_id) DO NOTHING
         ), deliveries AS (
             INSERT INTO webhook_deliveries
                 (delivery_id, webhook_id, tenant_id, message_id, event, next_attempt_at)
             SELECT d.id, d.hook, d.tenant, d.msg, d.event,
                    CASE WHEN d.claimed THEN now() + $11 * interval '1 millisecond'
                         ELSE now() END
             FROM unnest($5::uuid[], $6::uuid[], $7::uuid[], $8::uuid[], $9::text[], $10::bool[])
                 AS d(id, hook, tenant, msg, event, claimed)
             WHERE EXISTS (SELECT 1 FROM moved)
             ON CONFLICT (webhook_id, message_id) DO NOTHING
             RETURNING delivery_id
         )
         SELECT true, NULL::uuid FROM moved
         UNION ALL
         SELECT false, delivery_id FROM deliveries
         UNION ALL
         -- Wakes the claims (other replicas, deliveries not claimed here).
         SELECT false, NULL::uuid FROM (SELECT pg_notify($12, '')) AS woken",
        moved = moved_cte(13)
    ))
    .bind(&ids)
    .bind(&tenants)
    .bind(&events)
    .bind(&bodies)
    .bind(&d_ids)
    .bind(&d_hooks)
    .bind(&d_tenants)
    .bind(&d_msgs)
    .bind(&d_events)
    .bind(&d_claimed)
    .bind(lease.as_millis() as f64)
    .bind(DUE_CHANNEL)
    .bind(CHECKPOINT)
    .bind(span.from.tx)
    .bind(span.from.position)
    .bind(span.to.tx)
    .bind(span.to.position)
    .fetch_all(conn)
    .await?;
    if !rows.iter().any(|(moved, _)| *moved) {
        return Ok(None);
    }
    Ok(Some(rows.into_iter().filter_map(|(_, id)| id).collect()))
}
