//! The fan-out: follows the event log gap-free (the same follower as the projector: checkpoint
//! row locked, so replicas take turns and a batch is never fanned out twice) and, in the
//! transaction that moves its checkpoint, writes one message per public event and one
//! delivery per subscribed endpoint. Nothing here depends on NATS.

mod groups;
mod render;
mod states;
mod write;

use groups::plan;
use render::render;
use shared::events::StoredEvent;
use shared::store::follow::{
    follow, round, supervise, BatchHandler, Hold, NeedsRepair, Pace, Rounds,
};
use shared::webhooks::matches;
use sqlx::{PgConnection, PgPool};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The fan-out's row in `checkpoints`.
pub const CHECKPOINT: &str = "webhook-dispatcher";

#[derive(Debug, thiserror::Error)]
pub enum FanOutError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    NeedsRepair(#[from] NeedsRepair),
}

/// An endpoint as the fan-out sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Endpoint {
    pub webhook_id: Uuid,
    pub tenant_id: Uuid,
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

async fn endpoints(
    conn: &mut PgConnection,
    tenants: &[Uuid],
) -> Result<Vec<Endpoint>, sqlx::Error> {
    sqlx::query_as(
        "SELECT webhook_id, tenant_id, events, active, created_at FROM webhooks
         WHERE tenant_id = ANY($1)",
    )
    .bind(tenants)
    .fetch_all(conn)
    .await
}

struct FanOut;

impl BatchHandler for FanOut {
    type Error = FanOutError;

    fn checkpoint(&self) -> &str {
        CHECKPOINT
    }

    fn whole_transactions(&self) -> bool {
        true
    }

    async fn handle(
        &mut self,
        conn: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), FanOutError> {
        fan_out(conn, events).await
    }
}

/// Messages and deliveries for `events`, on `conn`.
pub async fn fan_out(conn: &mut PgConnection, events: &[StoredEvent]) -> Result<(), FanOutError> {
    let tenants: Vec<Uuid> = events
        .iter()
        .map(|e| e.tenant_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let endpoints = endpoints(conn, &tenants).await?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let mut by_tenant: HashMap<Uuid, Vec<&Endpoint>> = HashMap::new();
    for e in &endpoints {
        by_tenant.entry(e.tenant_id).or_default().push(e);
    }
    // Only the events of accounts with endpoints are decoded.
    let relevant: Vec<StoredEvent> = events
        .iter()
        .filter(|e| by_tenant.contains_key(&e.tenant_id))
        .cloned()
        .collect();
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
        return Ok(());
    }
    let plans: Vec<&groups::Planned> = wanted.iter().map(|(p, _)| *p).collect();
    let messages = render(conn, &relevant, &plans).await?;
    let to: HashMap<Uuid, &Vec<Uuid>> = messages
        .iter()
        .zip(&wanted)
        .map(|(m, (_, to))| (m.id, to))
        .collect();
    write::write(conn, &messages, &to).await?;
    Ok(())
}

struct Steps<'a> {
    pool: &'a PgPool,
    batch_size: i64,
}

impl Rounds for Steps<'_> {
    type Error = FanOutError;

    fn checkpoint(&self) -> &str {
        CHECKPOINT
    }

    async fn next_round(&mut self) -> Result<usize, FanOutError> {
        let started = std::time::Instant::now();
        let mut tx = self.pool.begin().await?;
        let handled = round(&mut tx, &mut FanOut, Hold::Row, self.batch_size).await?;
        let handled_at = started.elapsed();
        if handled > 0 {
            tx.commit().await?;
            tracing::debug!(
                handled,
                handle_ms = handled_at.as_secs_f64() * 1e3,
                total_ms = started.elapsed().as_secs_f64() * 1e3,
                "fan-out round"
            );
        } else {
            tx.rollback().await?;
        }
        Ok(handled)
    }
}

/// The fan-out's own connections (its listener and its rounds): they commit without waiting
/// for the WAL flush. A database crash can lose a round's last milliseconds — messages,
/// deliveries and checkpoint together, the events themselves being durable — and the round is
/// then fanned out again: the same messages (their ids derive from the events), sent again
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

/// Fans out until `shutdown`; failures are logged and retried after a pause.
pub async fn run(pool: PgPool, batch_size: i64, poll: Duration, shutdown: CancellationToken) {
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
        };
        follow(&pool, &mut steps, pace, &shutdown).await
    })
    .await
}
