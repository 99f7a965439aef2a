//! webhook-dispatcher binary.

use anyhow::Context;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::telemetry::init("webhook-dispatcher");
    let config = webhook_dispatcher::Config::from_env().context("configuration")?;
    let pool = shared::db::connect(config.common.database_url.expose(), 4)
        .await
        .context("connecting to Postgres (DATABASE_URL)")?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let shutdown = CancellationToken::new();
    tokio::spawn(shared::shutdown::cancel_on_signal(shutdown.clone()));
    webhook_dispatcher::run(pool, listener, shutdown).await
}
