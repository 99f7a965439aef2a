//! Webhook commands: create, update, delete, rotate the secret, request a test, and — on the
//! dispatcher's delivery log — replay one delivery or recover every failed one since a time.
//! Endpoint changes are events on the endpoint's `webhook` stream, recorded with its row (and
//! secret) in one transaction; the events name secrets by id only.

pub mod input;
mod repo;
pub mod secret;

use super::context::CommandContext;
use super::error::CommandError;
use super::unit::{append_event, transaction, WriteError};
use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use input::{CreateInput, PatchInput};
use repo::{
    delete_webhook, insert_secret, insert_webhook, retire_current_secret, update_webhook,
    wake_dispatchers,
};
use shared::events::webhook::{
    WebhookCreated, WebhookDeleted, WebhookEvent, WebhookSecretRotated, WebhookTestRequested,
    WebhookUpdated,
};
use shared::store::ExpectedVersion;
use shared::webhooks::deliveries::{get_delivery, DeliveryRow, DELIVERY_COLUMNS};
use shared::webhooks::{get_webhook, NetworkPolicy, WebhookRow};
use sqlx::{PgConnection, PgPool};
use std::time::Duration;
use uuid::Uuid;

/// The write side's webhook settings.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// `WEBHOOK_ALLOWED_NETWORKS`: internal networks endpoints may reach anyway.
    pub networks: NetworkPolicy,
    /// `WEBHOOK_ROTATION_GRACE` (seconds, default 86400): how long the previous secret still
    /// signs after a rotation.
    pub rotation_grace: Duration,
    /// How long `POST /webhooks/{id}/test` waits for the dispatcher's attempt
    /// (`WEBHOOK_TEST_WAIT_MS`, default 10000: the delivery timeout and a margin).
    pub test_wait: Duration,
    /// Endpoints per account (`WEBHOOK_MAX_ENDPOINTS`, default 50): each event costs a
    /// delivery per endpoint, so one account cannot flood the dispatcher for everyone.
    pub max_endpoints: i64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            networks: NetworkPolicy::default(),
            rotation_grace: Duration::from_secs(24 * 3600),
            test_wait: Duration::from_secs(10),
            max_endpoints: 50,
        }
    }
}

fn not_found() -> CommandError {
    CommandError::NotFound("Webhook not found")
}

fn at(ctx: &CommandContext) -> DateTime<Utc> {
    Utc.timestamp_opt(ctx.now, 0)
        .single()
        .unwrap_or_else(Utc::now)
}

async fn locked(
    conn: &mut PgConnection,
    ctx: &CommandContext,
    id: Uuid,
) -> Result<WebhookRow, WriteError> {
    Ok(get_webhook(conn, ctx.tenant, id, true)
        .await?
        .ok_or_else(not_found)?)
}

/// Creates an endpoint; answers it and its secret (the one given, or a generated one).
pub async fn create_webhook(
    pool: &PgPool,
    ctx: &CommandContext,
    input: CreateInput,
    max_endpoints: i64,
) -> Result<(WebhookRow, String), CommandError> {
    let secret = input.secret.clone().unwrap_or_else(secret::generate);
    // Exact: the fan-out sends an endpoint only the events recorded after it was created.
    let now = Utc::now();
    let row = WebhookRow {
        webhook_id: shared::ids::new_id(),
        tenant_id: ctx.tenant,
        url: input.url,
        events: input.events,
        description: input.description,
        active: true,
        disabled_reason: None,
        version: 1,
        created_at: now,
        updated_at: now,
        last_success_at: None,
        failing_since: None,
    };
    let secret_id = shared::ids::new_id();
    let event = WebhookEvent::Created(WebhookCreated {
        url: row.url.clone(),
        events: row.events.clone(),
        description: row.description.clone(),
        secret_id,
        at: ctx.now,
    });
    let args = (ctx, &row, &event, secret_id, secret.as_str(), max_endpoints);
    transaction(
        pool,
        &args,
        |tx, &(ctx, row, event, secret_id, secret, max)| {
            Box::pin(async move {
                // Counted under the account's lock: concurrent creates cannot pass the limit.
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext('webhooks:' || $1::text))")
                    .bind(ctx.tenant)
                    .execute(&mut *tx)
                    .await?;
                let count: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM webhooks WHERE tenant_id = $1")
                        .bind(ctx.tenant)
                        .fetch_one(&mut *tx)
                        .await?;
                if count >= max {
                    return Err(CommandError::Conflict(format!(
                        "this account has {count} webhook endpoints, the most allowed \
                     (WEBHOOK_MAX_ENDPOINTS = {max}); delete one first"
                    ))
                    .into());
                }
                append_event(tx, ctx, row.webhook_id, ExpectedVersion::NoStream, event).await?;
                insert_webhook(tx, row).await?;
                insert_secret(tx, row.webhook_id, secret_id, secret).await?;
                Ok(())
            })
        },
    )
    .await?;
    Ok((row, secret))
}

/// Applies the given fields; a patch that changes nothing writes nothing. Re-enabling clears
/// the disable reason and the failure streak.
pub async fn update_webhook_cmd(
    pool: &PgPool,
    ctx: &CommandContext,
    id: Option<Uuid>,
    patch: PatchInput,
) -> Result<WebhookRow, CommandError> {
    let id = id.ok_or_else(not_found)?;
    transaction(pool, &(ctx, id, &patch), |tx, &(ctx, id, patch)| {
        Box::pin(async move {
            let before = locked(tx, ctx, id).await?;
            let description = patch.description.clone().filter(|d| {
                let now = before.description.as_deref().unwrap_or_default();
                d != now
            });
            let changed = WebhookUpdated {
                url: patch.url.clone().filter(|u| *u != before.url),
                events: patch.events.clone().filter(|e| *e != before.events),
                active: patch.active.filter(|a| *a != before.active),
                description,
                at: ctx.now,
            };
            if changed
                == (WebhookUpdated {
                    at: ctx.now,
                    ..Default::default()
                })
            {
                return Ok(before);
            }
            let mut after = before.clone();
            if let Some(url) = &changed.url {
                after.url.clone_from(url);
            }
            if let Some(events) = &changed.events {
                after.events.clone_from(events);
            }
            if let Some(d) = &changed.description {
                after.description = (!d.is_empty()).then(|| d.clone());
            }
            if let Some(active) = changed.active {
                after.active = active;
                after.disabled_reason = None;
                if active {
                    after.failing_since = None;
                }
            }
            after.version += 1;
            after.updated_at = at(ctx);
            let event = WebhookEvent::Updated(changed);
            append_event(tx, ctx, id, ExpectedVersion::Exact(before.version), &event).await?;
            update_webhook(tx, &after).await?;
            if after.active && !before.active {
                wake_dispatchers(tx).await?;
            }
            Ok(after)
        })
    })
    .await
}

pub async fn delete_webhook_cmd(
    pool: &PgPool,
    ctx: &CommandContext,
    id: Option<Uuid>,
) -> Result<(), CommandError> {
    let id = id.ok_or_else(not_found)?;
    transaction(pool, &(ctx, id), |tx, &(ctx, id)| {
        Box::pin(async move {
            let before = locked(tx, ctx, id).await?;
            let event = WebhookEvent::Deleted(WebhookDeleted { at: ctx.now });
            append_event(tx, ctx, id, ExpectedVersion::Exact(before.version), &event).await?;
            delete_webhook(tx, id).await?;
            Ok(())
        })
    })
    .await
}

/// A new secret, answered once; the previous one keeps signing for `grace`.
pub async fn rotate_secret(
    pool: &PgPool,
    ctx: &CommandContext,
    id: Option<Uuid>,
    grace: Duration,
) -> Result<(WebhookRow, String), CommandError> {
    let id = id.ok_or_else(not_found)?;
    let secret = secret::generate();
    let until = at(ctx) + Span::from_std(grace).unwrap_or(Span::days(1));
    let args = (ctx, id, secret.as_str(), until);
    let row = transaction(pool, &args, |tx, &(ctx, id, secret, until)| {
        Box::pin(async move {
            let mut row = locked(tx, ctx, id).await?;
            let previous = retire_current_secret(tx, id, until)
                .await?
                .unwrap_or_default();
            let secret_id = shared::ids::new_id();
            insert_secret(tx, id, secret_id, secret).await?;
            let event = WebhookEvent::SecretRotated(WebhookSecretRotated {
                secret_id,
                previous_secret_id: previous,
                previous_valid_until: until.timestamp(),
                at: ctx.now,
            });
            append_event(tx, ctx, id, ExpectedVersion::Exact(row.version), &event).await?;
            row.version += 1;
            row.updated_at = at(ctx);
            update_webhook(tx, &row).await?;
            Ok(row)
        })
    })
    .await?;
    Ok((row, secret))
}

/// Asks the dispatcher to send a `webhook.test` message to the endpoint; answers the message
/// id (its `webhook-id`), under which its delivery appears.
pub async fn request_test(
    pool: &PgPool,
    ctx: &CommandContext,
    id: Option<Uuid>,
) -> Result<Uuid, CommandError> {
    let id = id.ok_or_else(not_found)?;
    let event_id = transaction(pool, &(ctx, id), |tx, &(ctx, id)| {
        Box::pin(async move {
            let row = locked(tx, ctx, id).await?;
            let event = WebhookEvent::TestRequested(WebhookTestRequested { at: ctx.now });
            let expected = ExpectedVersion::Exact(row.version);
            let event_id = append_event(tx, ctx, id, expected, &event).await?;
            sqlx::query("UPDATE webhooks SET version = version + 1 WHERE webhook_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            Ok(event_id)
        })
    })
    .await?;
    Ok(shared::webhooks::message_id(
        event_id,
        shared::webhooks::TEST_EVENT,
    ))
}

/// Sends one delivery again now, under the same `webhook-id`; its retry schedule starts over.
pub async fn replay_delivery(
    pool: &PgPool,
    ctx: &CommandContext,
    webhook: Option<Uuid>,
    delivery: Option<Uuid>,
) -> Result<DeliveryRow, CommandError> {
    let (Some(webhook), Some(delivery)) = (webhook, delivery) else {
        return Err(CommandError::NotFound("Delivery not found"));
    };
    transaction(
        pool,
        &(ctx, webhook, delivery),
        |tx, &(ctx, webhook, delivery)| {
            Box::pin(async move {
                locked(tx, ctx, webhook).await?;
                let row: Option<DeliveryRow> = sqlx::query_as(&format!(
                    "UPDATE webhook_deliveries SET status = 'pending', round_attempts = 0,
                        next_attempt_at = now(), updated_at = now()
                 WHERE delivery_id = $1 AND webhook_id = $2 AND tenant_id = $3
                 RETURNING {DELIVERY_COLUMNS}"
                ))
                .bind(delivery)
                .bind(webhook)
                .bind(ctx.tenant)
                .fetch_optional(&mut *tx)
                .await?;
                let row = row.ok_or(CommandError::NotFound("Delivery not found"))?;
                wake_dispatchers(tx).await?;
                Ok(row)
            })
        },
    )
    .await
}

/// Re-queues every failed or exhausted delivery of the endpoint created at or after `since`;
/// answers how many.
pub async fn recover_deliveries(
    pool: &PgPool,
    ctx: &CommandContext,
    webhook: Option<Uuid>,
    since: DateTime<Utc>,
) -> Result<u64, CommandError> {
    let webhook = webhook.ok_or_else(not_found)?;
    transaction(
        pool,
        &(ctx, webhook, since),
        |tx, &(ctx, webhook, since)| {
            Box::pin(async move {
                locked(tx, ctx, webhook).await?;
                let done = sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'pending', round_attempts = 0,
                        next_attempt_at = now(), updated_at = now()
                 WHERE webhook_id = $1 AND tenant_id = $2 AND created_at >= $3
                   AND status IN ('failed', 'exhausted')",
                )
                .bind(webhook)
                .bind(ctx.tenant)
                .bind(since)
                .execute(&mut *tx)
                .await?;
                wake_dispatchers(tx).await?;
                Ok(done.rows_affected())
            })
        },
    )
    .await
}

/// The test message's delivery once its first attempt is recorded, or as it stands when
/// `wait` runs out (the dispatcher busy or down).
pub async fn await_test(
    pool: &PgPool,
    ctx: &CommandContext,
    webhook: Uuid,
    message: Uuid,
    wait: Duration,
) -> Result<Option<DeliveryRow>, CommandError> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let id: Option<Uuid> = sqlx::query_scalar(
            "SELECT delivery_id FROM webhook_deliveries
             WHERE webhook_id = $1 AND message_id = $2 AND tenant_id = $3",
        )
        .bind(webhook)
        .bind(message)
        .bind(ctx.tenant)
        .fetch_optional(pool)
        .await?;
        let row = match id {
            Some(id) => get_delivery(&mut *pool.acquire().await?, ctx.tenant, webhook, id).await?,
            None => None,
        };
        let done = row.as_ref().is_some_and(|r| r.attempts > 0);
        if done || tokio::time::Instant::now() >= deadline {
            return Ok(row);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
