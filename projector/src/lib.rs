//! projector: builds the read models from the event store. Today: the lead read model
//! (`lead_view`, `lead_view_attrs`), kept live by the projection runner (woken by NOTIFY,
//! checkpoint in the same transaction, replicas serialized), and `rebuild`, which replays all
//! history into fresh tables and swaps them in atomically while the old ones keep serving.
#![warn(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod lead_view;
pub mod quarantine;
pub mod rebuild;
pub mod runner;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use runner::{run as run_projection, ProjectionConfig};
use serde_json::Value;
use shared::config::{parse_or, CommonConfig, ConfigError};
use sqlx::PgPool;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// `PROJECTOR_LISTEN`, default `127.0.0.1:8082`.
    pub listen: SocketAddr,
    pub projection: ProjectionConfig,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env()?,
            listen: parse_or("PROJECTOR_LISTEN", SocketAddr::from(([127, 0, 0, 1], 8082)))?,
            projection: ProjectionConfig {
                batch_size: parse_or("PROJECTOR_BATCH", 1000)?,
                poll_interval: Duration::from_millis(parse_or("PROJECTOR_POLL_MS", 1000)?),
            },
        })
    }
}

pub fn router(pool: PgPool) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(pool)
}

async fn healthz(State(pool): State<PgPool>) -> (StatusCode, Json<Value>) {
    shared::http::health(&pool, "projector").await
}

/// Serves `/healthz` and keeps the lead read model up to date until `shutdown`.
pub async fn run(
    pool: PgPool,
    projection: ProjectionConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let (follow_pool, follow_shutdown) = (pool.clone(), shutdown.clone());
    let runner = tokio::spawn(async move {
        if let Err(e) = rebuild::repair_if_legacy(&follow_pool, &follow_shutdown).await {
            tracing::error!(error = %e, "repairing the read model failed");
            return;
        }
        run_projection(
            follow_pool,
            lead_view::LeadView::live(),
            projection,
            follow_shutdown,
        )
        .await
    });
    tracing::info!(addr = %listener.local_addr()?, "projector listening");
    let limits = shared::http::HttpLimits::from_env()?;
    shared::http::serve(listener, router(pool), limits, shutdown.clone()).await?;
    shutdown.cancel();
    runner.await?;
    Ok(())
}
