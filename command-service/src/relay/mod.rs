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
use shared::store::{has_events_after, save_checkpoint, tail, Checkpoint, NOTIFY_CHANNEL};
use sqlx::postgres::PgListener;
use sqlx::{Connection, PgConnection, PgPool};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The relay's row in `checkpoints`.
pub const CHECKPOINT: &str = "nats-relay";

pub struct Relay {
    pool: PgPool,
    js: async_nats::jetstream::Context,
    config: RelayConfig,
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
        while !shutdown.is_cancelled() {
            if let Err(e) = self.lead(&shutdown).await {
                if shutdown.is_cancelled() {
                    break; // the pool is closing under us: not a failure
                }
                tracing::warn!(error = %e, "relay stopped; retrying");
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
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
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(NOTIFY_CHANNEL).await?;
        let mut backoff = Duration::from_millis(5);
        loop {
            let report = self.step(&mut conn).await?;
            if report.published == self.config.batch_size as usize {
                continue;
            }
            if report.published > 0 {
                backoff = Duration::from_millis(5);
            } else {
                let at = load_checkpoint(&mut conn).await?;
                if has_events_after(&mut conn, at.at).await? {
                    // Committed events wait behind an older transaction still in flight.
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.config.poll_interval);
                    continue;
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                n = listener.recv() => { n?; }
                _ = tokio::time::sleep(self.config.poll_interval) => {}
            }
            // Under load every commit notifies: let a few gather, then take them in one round.
            tokio::time::sleep(self.config.coalesce).await;
            while listener.next_buffered().is_some() {}
        }
    }

    /// One round: publish the next events after the checkpoint, then move it.
    pub async fn step(&self, conn: &mut PgConnection) -> anyhow::Result<PublishReport> {
        let at = load_checkpoint(conn).await?;
        if let Some(legacy) = at.legacy_position {
            anyhow::bail!("the relay checkpoint predates the follower order (legacy position {legacy}): repair it first");
        }
        let events = tail(conn, at.at, self.config.batch_size).await?;
        let report = publish_events(&self.js, &events).await?;
        if let Some(last) = events.last() {
            save_checkpoint(conn, CHECKPOINT, last.log_position()).await?;
        }
        Ok(report)
    }
}

pub async fn load_checkpoint(conn: &mut PgConnection) -> Result<Checkpoint, sqlx::Error> {
    shared::store::load_checkpoint(conn, CHECKPOINT).await
}
