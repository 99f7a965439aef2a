//! command-service binary: `command-service [serve|migrate]`.

use anyhow::Context;
use command_service::config::CommandConfig;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::telemetry::init("command-service");
    let config = CommandConfig::from_env().context("configuration")?;
    let pool = shared::db::connect(
        config.common.database_url.expose(),
        config.common.database_max_connections,
    )
    .await
    .context("connecting to Postgres (DATABASE_URL)")?;
    shared::db::migrate(&pool)
        .await
        .context("running migrations")?;
    if std::env::args().nth(1).as_deref() == Some("migrate") {
        println!("migrations applied");
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let shutdown = CancellationToken::new();
    tokio::spawn(shared::shutdown::cancel_on_signal(shutdown.clone()));
    command_service::run(config, pool, listener, shutdown).await
}
