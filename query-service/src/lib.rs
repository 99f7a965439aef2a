//! query-service: the public edge on one base URL. Today it serves `/healthz` and forwards
//! every `/api/v1` request to command-service; the read endpoints, export and the MCP gateway
//! move in here as they are built.
#![warn(clippy::unwrap_used)]

pub mod config;
mod proxy;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router, ServiceExt};
use config::EdgeConfig;
use serde_json::Value;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::Layer;

#[derive(Clone)]
pub struct EdgeState {
    pub pool: PgPool,
    pub upstream: proxy::Upstream,
}

pub fn router(state: EdgeState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .fallback(proxy::forward)
        .with_state(state)
}

async fn healthz(State(state): State<EdgeState>) -> (StatusCode, Json<Value>) {
    shared::http::health(&state.pool, "query-service").await
}

pub async fn run(
    config: EdgeConfig,
    pool: PgPool,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let state = EdgeState {
        pool,
        upstream: proxy::Upstream::new(&config.command_url)?,
    };
    let app = tower::layer::layer_fn(|svc| {
        tower::util::MapRequest::new(svc, shared::http::collapse_slashes::<axum::body::Body>)
    })
    .layer(router(state));
    tracing::info!(addr = %listener.local_addr()?, upstream = %config.command_url, "query-service (edge) listening");
    axum::serve(listener, ServiceExt::<Request>::into_make_service(app))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await?;
    Ok(())
}
