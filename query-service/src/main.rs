//! query-service binary: the public edge.

use anyhow::Context;
use query_service::config::EdgeConfig;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::telemetry::init("query-service");
    let config = EdgeConfig::from_env().context("configuration")?;
    let pool = shared::db::connect(
        config.common.database_url.expose(),
        config.common.database_max_connections,
    )
    .await
    .context("connecting to Postgres (DATABASE_URL)")?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let shutdown = CancellationToken::new();
    tokio::spawn(shared::shutdown::cancel_on_signal(shutdown.clone()));
    query_service::run(config, pool, listener, shutdown).await
}
