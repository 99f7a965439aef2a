//! projector binary.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::telemetry::init("projector");
    let config = projector::Config::from_env().context("configuration")?;
    let boot = shared::boot::boot(config.common.database_url.expose(), 4, config.listen).await?;
    projector::run(boot.pool, boot.listener, boot.shutdown).await
}
