//! webhook-dispatcher: turns events into signed, retried webhooks. The fan-out follows the
//! event log gap-free and writes one message per public event and one delivery per subscribed
//! endpoint with its checkpoint (`fanout`); workers claim due deliveries with a lease, send
//! them signed (`sign`), behind the SSRF guard (`guard`), and record every attempt
//! (`deliver`); old deliveries are cleaned (`retention`). Nothing here needs NATS.
#![warn(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod deliver;
pub mod fanout;
pub mod guard;
pub mod retention;
pub mod sign;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use deliver::DeliverySettings;
use serde_json::Value;
use shared::config::{duration_or, parse_or, CommonConfig, ConfigError};
use shared::webhooks::NetworkPolicy;
use sqlx::PgPool;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    /// Events per fan-out round (`WEBHOOK_FANOUT_BATCH`, default 1000).
    pub fanout_batch: i64,
    /// The fan-out's fallback poll (`WEBHOOK_FANOUT_POLL_MS`, default 1000).
    pub fanout_poll: Duration,
    pub delivery: DeliverySettings,
    /// `WEBHOOK_RETENTION_DAYS` (default 30).
    pub retention: Duration,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        Self {
            fanout_batch: 1000,
            fanout_poll: Duration::from_secs(1),
            delivery: DeliverySettings::default(),
            retention: Duration::from_secs(30 * 86_400),
        }
    }
}

impl DispatcherConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let d = DeliverySettings::default();
        let schedule = match std::env::var("WEBHOOK_RETRY_SCHEDULE") {
            Ok(raw) if !raw.trim().is_empty() => {
                raw.parse().map_err(|reason| ConfigError::Invalid {
                    key: "WEBHOOK_RETRY_SCHEDULE",
                    reason,
                })?
            }
            _ => d.schedule.clone(),
        };
        Ok(Self {
            fanout_batch: parse_or("WEBHOOK_FANOUT_BATCH", 1000)?,
            fanout_poll: Duration::from_millis(parse_or("WEBHOOK_FANOUT_POLL_MS", 1000)?),
            delivery: DeliverySettings {
                timeout: duration_or("WEBHOOK_TIMEOUT", d.timeout)?,
                schedule,
                per_endpoint: parse_or("WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT", d.per_endpoint)?
                    .max(1),
                max_in_flight: parse_or("WEBHOOK_MAX_IN_FLIGHT", d.max_in_flight)?.max(1),
                disable_after: duration_or("WEBHOOK_DISABLE_AFTER", d.disable_after)?,
                poll: Duration::from_millis(parse_or("WEBHOOK_POLL_MS", 250)?),
                networks: Arc::new(NetworkPolicy::from_env()?),
            },
            retention: Duration::from_secs(parse_or::<u64>("WEBHOOK_RETENTION_DAYS", 30)? * 86_400),
        })
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// `DISPATCHER_LISTEN`, default `127.0.0.1:8083`.
    pub listen: SocketAddr,
    pub dispatcher: DispatcherConfig,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env()?,
            listen: parse_or(
                "DISPATCHER_LISTEN",
                SocketAddr::from(([127, 0, 0, 1], 8083)),
            )?,
            dispatcher: DispatcherConfig::from_env()?,
        })
    }
}

pub fn router(pool: PgPool) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(pool)
}

async fn healthz(State(pool): State<PgPool>) -> (StatusCode, Json<Value>) {
    shared::http::health(&pool, "webhook-dispatcher").await
}

/// Serves `/healthz`, fans events out and delivers them until `shutdown`.
pub async fn run(
    pool: PgPool,
    config: DispatcherConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let (workers, recorder) = deliver::Workers::new(pool.clone(), config.delivery.clone())?;
    let fanout = tokio::spawn(fanout::run(
        pool.clone(),
        config.fanout_batch,
        config.fanout_poll,
        Some(workers.clone()),
        shutdown.clone(),
    ));
    let delivery = tokio::spawn(deliver::run(workers, recorder, shutdown.clone()));
    let retention = tokio::spawn(retention::run(
        pool.clone(),
        config.retention,
        shutdown.clone(),
    ));
    tracing::info!(addr = %listener.local_addr()?, "webhook-dispatcher listening");
    let limits = shared::http::HttpLimits::from_env()?;
    shared::http::serve(listener, router(pool), limits, shutdown.clone()).await?;
    shutdown.cancel();
    fanout.await?;
    delivery.await??;
    retention.await?;
    Ok(())
}
