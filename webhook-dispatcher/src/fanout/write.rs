//! Storing a round's messages and their deliveries (idempotent: a message id is derived from
//! its events, and an endpoint gets one delivery per message) and waking the workers — one
//! statement.

use super::render::Message;
use shared::webhooks::DUE_CHANNEL;
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

pub async fn write(
    conn: &mut PgConnection,
    messages: &[Message],
    to: &HashMap<Uuid, &Vec<Uuid>>,
) -> Result<(), sqlx::Error> {
    if messages.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = messages.iter().map(|m| m.id).collect();
    let tenants: Vec<Uuid> = messages.iter().map(|m| m.tenant).collect();
    let events: Vec<&str> = messages.iter().map(|m| m.event).collect();
    let bodies: Vec<&str> = messages.iter().map(|m| m.body.as_str()).collect();
    let (mut d_ids, mut d_hooks, mut d_tenants, mut d_msgs, mut d_events) =
        (vec![], vec![], vec![], vec![], vec![]);
    for m in messages {
        let receivers = to.get(&m.id).map(|v| v.as_slice()).unwrap_or_default();
        for hook in receivers
            .iter()
            .filter(|h| m.only.is_none_or(|only| only == **h))
        {
            d_ids.push(shared::ids::new_id());
            d_hooks.push(*hook);
            d_tenants.push(m.tenant);
            d_msgs.push(m.id);
            d_events.push(m.event);
        }
    }
    sqlx::query(
        "WITH messages AS (
             INSERT INTO webhook_messages (message_id, tenant_id, event, body)
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[])
             ON CONFLICT (message_id) DO NOTHING
         ), deliveries AS (
             INSERT INTO webhook_deliveries (delivery_id, webhook_id, tenant_id, message_id, event)
             SELECT * FROM unnest($5::uuid[], $6::uuid[], $7::uuid[], $8::uuid[], $9::text[])
             ON CONFLICT (webhook_id, message_id) DO NOTHING
         )
         SELECT pg_notify($10, '')",
    )
    .bind(&ids)
    .bind(&tenants)
    .bind(&events)
    .bind(&bodies)
    .bind(&d_ids)
    .bind(&d_hooks)
    .bind(&d_tenants)
    .bind(&d_msgs)
    .bind(&d_events)
    .bind(DUE_CHANNEL)
    .execute(conn)
    .await?;
    Ok(())
}
