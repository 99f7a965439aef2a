//! command-service: the write side. HTTP handlers for every mutating endpoint, the command
//! handlers (validate, dedup, decide, append), and the outbox relay to NATS JetStream.
#![warn(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod accounts;
pub mod app;
pub mod config;
pub mod relay;
mod routes;
pub mod state;

use axum::body::Body;
use config::CommandConfig;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::Layer;

pub use routes::router;

/// Serves the write API on `listener` and runs the relay (when enabled) until `shutdown`.
pub async fn run(
    config: CommandConfig,
    pool: PgPool,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let relay = if config.relay.enabled {
        // Writes never wait for NATS: the relay connects (and reconnects) in the background.
        let nats = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .connect(&config.common.nats_url)
            .await?;
        let relay = relay::Relay::new(pool.clone(), nats, config.relay.clone());
        Some(tokio::spawn(relay.run(shutdown.clone())))
    } else {
        None
    };
    let rescore = config.rescore_worker.then(|| {
        tokio::spawn(app::rescore::run(
            pool.clone(),
            app::rescore::RescorePlan::default(),
            config.rescore_workers,
            std::time::Duration::from_secs(1),
            shutdown.clone(),
        ))
    });
    let limits = config.common.http;
    let app = tower::util::MapRequestLayer::new(shared::http::collapse_slashes::<Body>).layer(
        axum::middleware::from_fn(shared::http::refuse_dot_segments)
            .layer(router(state::AppState::new(pool, config))),
    );
    tracing::info!(addr = %listener.local_addr()?, "command-service listening");
    shared::http::serve(listener, app, limits, shutdown.clone()).await?;
    shutdown.cancel();
    if let Some(relay) = relay {
        relay.await?;
    }
    if let Some(rescore) = rescore {
        rescore.await?;
    }
    Ok(())
}
