//! query-service binary: the public edge.

// mimalloc: the services allocate many small objects (rows, JSON values); glibc's allocator
// spent a third of the projector's replay time in malloc/free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use query_service::config::EdgeConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::telemetry::init("query-service");
    let config = EdgeConfig::from_env().context("configuration")?;
    let c = &config.common;
    let boot = shared::boot::boot(
        c.database_url.expose(),
        c.database_max_connections,
        config.listen,
    )
    .await?;
    query_service::run(config, boot.pool, boot.listener, boot.shutdown).await
}
