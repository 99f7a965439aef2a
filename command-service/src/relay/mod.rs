//! The outbox relay (invariant 4): committed events are read from the store with the gap-free
//! tail and published to JetStream in position order with `Nats-Msg-Id` = event id, then the
//! checkpoint moves. A crash between publish and checkpoint re-publishes; JetStream drops the
//! duplicates. One replica relays at a time: the leader holds a session advisory lock on the
//! connection that also reads events and writes the checkpoint, so losing that connection
//! loses leadership and stops the work at once.

mod leader;
mod publish;
mod repair;

pub use leader::try_lead;
pub use publish::{publish_events, PublishReport};
pub use repair::{repair, RepairReport};

use crate::config::RelayConfig;
use shared::events::StoredEvent;
use shared::store::follow::{follow, round, supervise, BatchHandler, Hold, Pace, Rounds};
use shared::store::Checkpoint;
use sqlx::{Connection, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

/// The relay's row in `checkpoints`.
pub const CHECKPOINT: &str = "nats-relay";

pub struct Relay {
    pool: PgPool,
    js: async_nats::jetstream::Context,
    config: RelayConfig,
}

/// Publishing as a follower's batch handler: the checkpoint moves once JetStream acked all.
struct Publish<'a> {
    js: &'a async_nats::jetstream::Context,
    report: PublishReport,
}

impl BatchHandler for Publish<'_> {
    type Error = anyhow::Error;

    fn checkpoint(&self) -> &str {
        CHECKPOINT
    }

    async fn handle(
        &mut self,
        _conn: &mut PgConnection,
        events: &[StoredEvent],
    ) -> anyhow::Result<()> {
        self.report = publish_events(self.js, events).await?;
        Ok(())
    }
}

/// The leader's rounds, on the connection that holds leadership.
struct Leading<'a> {
    relay: &'a Relay,
    conn: &'a mut PgConnection,
}

impl Rounds for Leading<'_> {
    type Error = anyhow::Error;

    fn checkpoint(&self) -> &str {
        CHECKPOINT
    }

    async fn next_round(&mut self) -> anyhow::Result<usize> {
        Ok(self.relay.step(self.conn).await?.published)
    }
}

impl Relay {
    /// A relay over `nats` (which may still be connecting: nothing here needs it yet).
    pub fn new(pool: PgPool, nats: async_nats::Client, config: RelayConfig) -> Self {
        Self {
            pool,
            js: async_nats::jetstream::new(nats),
            config,
        }
    }

    /// Runs until `shutdown`: waits for leadership, relays while leader, starts over after
    /// any failure.
    pub async fn run(self, shutdown: CancellationToken) {
        supervise("nats-relay", &shutdown, || self.lead(&shutdown)).await
    }

    async fn lead(&self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let mut conn = PgConnection::connect_with(&self.pool.connect_options()).await?;
        while !try_lead(&mut conn).await? {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(self.config.standby_retry) => {}
            }
        }
        tracing::info!("relay: this replica is the leader");
        shared::nats::ensure_stream(&self.js, self.config.duplicate_window, self.config.max_age)
            .await
            .map_err(|e| anyhow::anyhow!("creating the JetStream stream: {e}"))?;
        let at = load_checkpoint(&mut conn).await?;
        if let Some(legacy) = at.legacy_position {
            tracing::info!(
                legacy,
                "relay: repairing a checkpoint of the old position-only order"
            );
            let report = repair(&mut conn, &self.js, legacy).await?;
            tracing::info!(?report, "relay: repaired");
        }
        let pace = Pace {
            batch_size: self.config.batch_size,
            poll_interval: self.config.poll_interval,
            coalesce: self.config.coalesce,
        };
        let mut rounds = Leading {
            relay: self,
            conn: &mut conn,
        };
        follow(&self.pool, &mut rounds, pace, shutdown).await
    }

    /// One round: publish the next events after the checkpoint, then move it.
    pub async fn step(&self, conn: &mut PgConnection) -> anyhow::Result<PublishReport> {
        let mut publish = Publish {
            js: &self.js,
            report: PublishReport::default(),
        };
        round(conn, &mut publish, Hold::Plain, self.config.batch_size).await?;
        Ok(publish.report)
    }
}

pub async fn load_checkpoint(conn: &mut PgConnection) -> Result<Checkpoint, sqlx::Error> {
    shared::store::load_checkpoint(conn, CHECKPOINT).await
}
