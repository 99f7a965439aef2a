//! webhook-dispatcher: turns events into signed, retried webhooks (built in a later issue; today it serves its health endpoint only).
#![warn(clippy::unwrap_used)]

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;
use shared::config::{parse_or, CommonConfig, ConfigError};
use sqlx::PgPool;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// `DISPATCHER_LISTEN`, default `127.0.0.1:8083`.
    pub listen: SocketAddr,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env()?,
            listen: parse_or(
                "DISPATCHER_LISTEN",
                SocketAddr::from(([127, 0, 0, 1], 8083)),
            )?,
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

pub async fn run(
    pool: PgPool,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    tracing::info!(addr = %listener.local_addr()?, "webhook-dispatcher listening");
    let limits = shared::http::HttpLimits::from_env()?;
    shared::http::serve(listener, router(pool), limits, shutdown).await?;
    Ok(())
}
