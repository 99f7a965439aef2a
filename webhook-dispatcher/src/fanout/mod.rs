//! The fan-out: follows the event log gap-free (the same tail and wake-ups as the projector)
//! and, in the statement that moves its checkpoint, writes one message per public event and
//! one delivery per subscribed endpoint. A round is three statements and no transaction: the
//! checkpoint with the batch, the endpoints, the write. The checkpoint is not locked; the
//! write moves it only if it is still where the round began, so replicas may both render a
//! round but only one writes it — a batch is never fanned out twice. Nothing here depends on
//! NATS.

mod groups;
mod render;
mod states;
mod write;

use crate::deliver::{Claimed, Workers};
use groups::plan;
use render::render;
use shared::events::StoredEvent;
use shared::store::follow::{follow, supervise, unheld_batch, NeedsRepair, Pace, Rounds};
use shared::webhooks::matches;
use sqlx::{PgConnection, PgPool};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Rounds of at most this many events are the live path (their deliveries go straight to
/// this process's workers); larger ones are a backlog.
const LIVE_ROUND: usize = 100;

/// The fan-out's row in `checkpoints`.
pub const CHECKPOINT: &str = "webhook-dispatcher";

/// The columns of `StoredEvent` as the fan-out reads the log: the payload and metadata only of
/// the events of accounts with endpoints (JSON `null` for the others, never read whole).
const COLUMNS: &str = "position, event_id, tenant_id, stream_type, stream_id, stream_version, \
     event_type, schema_version, \
     CASE WHEN EXISTS (SELECT 1 FROM webhooks w WHERE w.tenant_id = events.tenant_id) \
          THEN payload ELSE 'null'::jsonb END AS payload, \
     CASE WHEN EXISTS (SELECT 1 FROM webhooks w WHERE w.tenant_id = events.tenant_id) \
          THEN metadata ELSE 'null'::jsonb END AS metadata, \
     recorded_at, tx_id::text::bigint AS tx_id";

#[derive(Debug, thiserror::Error)]
pub enum FanOutError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    NeedsRepair(#[from] NeedsRepair),
}

/// An endpoint as the fan-out sees it (with what an attempt needs, for the deliveries it
/// hands straight to the workers).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Endpoint {
    pub webhook_id: Uuid,
    pub tenant_id: Uuid,
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub url: String,
    pub secrets: Vec<String>,
}

async fn endpoints(
    conn: &mut PgConnection,
    tenants: &[Uuid],
) -> Result<Vec<Endpoint>, sqlx::Error> {
    sqlx::query_as(
        "SELECT w.webhook_id, w.tenant_id, w.events, w.active, w.created_at, w.url,
                ARRAY(SELECT s.secret FROM webhook_secrets s
                      WHERE s.webhook_id = w.webhook_id
                        AND (s.expires_at IS NULL OR s.expires_at > now())
                      ORDER BY s.expires_at IS NOT NULL, s.created_at DESC) AS secrets
         FROM webhooks w WHERE w.tenant_id = ANY($1)",
    )
    .bind(tenants)
    .fetch_all(conn)
    .await
}

/// A round's handler. With the process's workers at hand it claims what they have room for
/// as it writes the deliveries, and hands those over once the round has committed.
#[derive(Default)]
struct FanOut {
    workers: Option<Workers>,
    /// Claimed in this round, to start after its commit.
    claimed: Vec<Claimed>,
    /// Claims reserved in this round (an endpoint per claim), to give back if unused.
    reserved: Vec<Uuid>,
}

impl FanOut {
    /// After the round: start what it committed, give back what it did not use.
    fn finish(&mut self, committed: bool) {
        let Some(workers) = &self.workers else { return };
        let claimed = std::mem::take(&mut self.claimed);
        let mut reserved = std::mem::take(&mut self.reserved);
        if committed {
            for c in &claimed {
                if let Some(i) = reserved.iter().position(|w| *w == c.webhook_id) {
                    reserved.swap_remove(i);
                }
            }
            workers.start(claimed);
        }
        for webhook in reserved {
            workers.unreserve(webhook);
        }
    }
}

/// Messages and deliveries for `events`, written on `conn` with the checkpoint moved over
/// `span`; answers whether it moved (else another replica wrote the round and nothing was).
async fn fan_out(
    conn: &mut PgConnection,
    events: &[StoredEvent],
    span: write::Span,
    round: &mut FanOut,
) -> Result<bool, FanOutError> {
    let mut rows = Vec::new();
    let messages;
    let mut endpoint_of = HashMap::new();
    let planned = prepare(conn, events).await?;
    if let Some((endpoints, wanted, rendered)) = &planned {
        messages = rendered;
        endpoint_of = endpoints.iter().map(|e| (e.webhook_id, e)).collect();
        let live = events.len() <= LIVE_ROUND;
        for (index, m) in messages {
            for hook in &wanted[*index] {
                // Claimed for this process's workers when they have room for the endpoint —
                // on the live path only: a backlog (a large round) is left to the claims,
                // which share it out between endpoints and replicas.
                let claim = live
                    && round
                        .workers
                        .as_ref()
                        .is_some_and(|w| w.reserve(*hook, 1) == 1);
                if claim {
                    round.reserved.push(*hook);
                }
                rows.push(write::Delivery {
                    id: shared::ids::new_id(),
                    webhook: *hook,
                    message: m,
                    claimed: claim,
                });
            }
        }
    }
    let lease = round
        .workers
        .as_ref()
        .map(Workers::lease)
        .unwrap_or_default();
    let Some(inserted) = write::write(conn, &rows, lease, span).await? else {
        return Ok(false);
    };
    for row in rows
        .iter()
        .filter(|r| r.claimed && inserted.contains(&r.id))
    {
        let Some(endpoint) = endpoint_of.get(&row.webhook) else {
            continue;
        };
        round.claimed.push(Claimed {
            delivery_id: row.id,
            webhook_id: row.webhook,
            message_id: row.message.id,
            round_attempts: 0,
            url: endpoint.url.clone(),
            body: row.message.body.clone(),
            secrets: endpoint.secrets.clone(),
        });
    }
    Ok(true)
}

/// What a round sends: its accounts' endpoints, the receivers of each planned message (by its
/// index) and the rendered messages; `None` when nothing goes out.
type Prepared = (Vec<Endpoint>, Vec<Vec<Uuid>>, Vec<(usize, render::Message)>);

async fn prepare(
    conn: &mut PgConnection,
    events: &[StoredEvent],
) -> Result<Option<Prepared>, FanOutError> {
    let tenants: Vec<Uuid> = events
        .iter()
        .map(|e| e.tenant_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let endpoints = endpoints(conn, &tenants).await?;
    if endpoints.is_empty() {
        return Ok(None);
    }
    let mut by_tenant: HashMap<Uuid, Vec<&Endpoint>> = HashMap::new();
    for e in &endpoints {
        by_tenant.entry(e.tenant_id).or_default().push(e);
    }
    // Only the events of accounts with endpoints are decoded.
    let mut relevant: Vec<StoredEvent> = events
        .iter()
        .filter(|e| by_tenant.contains_key(&e.tenant_id))
        .cloned()
        .collect();
    if relevant.is_empty() {
        return Ok(None);
    }
    read_bodies(conn, &mut relevant).await?;
    let planned = plan(&relevant);
    let receivers = |p: &groups::Planned| -> Vec<Uuid> {
        let at = relevant[p.id_event].recorded_at;
        by_tenant
            .get(&p.tenant)
            .into_iter()
            .flatten()
            .filter(|e| match p.public {
                groups::Public::Test { webhook } => e.webhook_id == webhook,
                _ => e.active && e.created_at <= at && matches(&e.events, p.public.name()),
            })
            .map(|e| e.webhook_id)
            .collect()
    };
    let wanted: Vec<(&groups::Planned, Vec<Uuid>)> = planned
        .iter()
        .map(|p| (p, receivers(p)))
        .filter(|(_, to)| !to.is_empty())
        .collect();
    if wanted.is_empty() {
        return Ok(None);
    }
    let plans: Vec<&groups::Planned> = wanted.iter().map(|(p, _)| *p).collect();
    let messages = render(conn, &relevant, &plans).await?;
    let receivers = wanted.into_iter().map(|(_, to)| to).collect();
    Ok(Some((endpoints, receivers, messages)))
}

/// Reads the bodies the tail left out: an account whose first endpoint was created after the
/// tail read the batch (JSON `null` there, `webhooks` having no row for it yet).
async fn read_bodies(
    conn: &mut PgConnection,
    events: &mut [StoredEvent],
) -> Result<(), sqlx::Error> {
    let missing: Vec<Uuid> = events
        .iter()
        .filter(|e| e.payload.is_null())
        .map(|e| e.event_id)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let read: Vec<StoredEvent> = sqlx::query_as(&format!(
        "SELECT {} FROM events WHERE event_id = ANY($1)",
        shared::store::EVENT_COLUMNS
    ))
    .bind(&missing)
    .fetch_all(conn)
    .await?;
    let mut read: HashMap<Uuid, StoredEvent> = read.into_iter().map(|e| (e.event_id, e)).collect();
    for e in events.iter_mut() {
        if let Some(whole) = read.remove(&e.event_id) {
            *e = whole;
        }
    }
    Ok(())
}

struct Steps<'a> {
    pool: &'a PgPool,
    batch_size: i64,
    workers: Option<Workers>,
}

impl Rounds for Steps<'_> {
    type Error = FanOutError;

    fn checkpoint(&self) -> &str {
        CHECKPOINT
    }

    async fn next_round(&mut self) -> Result<usize, FanOutError> {
        let mut handler = FanOut {
            workers: self.workers.clone(),
            ..FanOut::default()
        };
        let outcome = self.step(&mut handler).await;
        handler.finish(matches!(outcome, Ok((_, true))));
        outcome.map(|(read, _)| read)
    }
}

impl Steps<'_> {
    /// One round: answers what the tail gave and whether this replica wrote the round.
    async fn step(&self, handler: &mut FanOut) -> Result<(usize, bool), FanOutError> {
        let started = std::time::Instant::now();
        let mut conn = self.pool.acquire().await?;
        let batch =
            unheld_batch::<FanOutError>(&mut conn, CHECKPOINT, COLUMNS, self.batch_size).await?;
        let Some(last) = batch.events.last().map(StoredEvent::log_position) else {
            return Ok((batch.read, false));
        };
        let span = write::Span {
            from: batch.from,
            to: last,
        };
        let moved = fan_out(&mut conn, &batch.events, span, handler).await?;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        tracing::debug!(
            read = batch.read,
            ms,
            moved,
            claimed = handler.claimed.len(),
            "fan-out round"
        );
        Ok((batch.read, moved))
    }
}

/// The fan-out's own connections (its listener and its rounds): their writes commit without
/// waiting for the WAL flush. A database crash can lose a round's last milliseconds —
/// messages, deliveries and checkpoint together, the events themselves being durable — and the
/// round is then fanned out again: the same messages (their ids derive from the events), sent again
/// under the same `webhook-id`. Nothing is lost; the round saves a flush wait on the live path.
fn own_pool(pool: &PgPool) -> PgPool {
    let options = (*pool.connect_options())
        .clone()
        .options([("synchronous_commit", "off")]);
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(3)
        .test_before_acquire(false)
        .connect_lazy_with(options)
}

/// Fans out until `shutdown`, handing the deliveries it can claim to `workers`; failures are
/// logged and retried after a pause.
pub async fn run(
    pool: PgPool,
    batch_size: i64,
    poll: Duration,
    workers: Option<Workers>,
    shutdown: CancellationToken,
) {
    let pool = own_pool(&pool);
    let pace = Pace {
        batch_size,
        poll_interval: poll,
        coalesce: Duration::ZERO,
    };
    supervise(CHECKPOINT, &shutdown, || async {
        let mut steps = Steps {
            pool: &pool,
            batch_size,
            workers: workers.clone(),
        };
        follow(&pool, &mut steps, pace, &shutdown).await
    })
    .await
}
