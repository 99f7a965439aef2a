//! webhook-dispatcher binary.

// mimalloc: the services allocate many small objects (rows, JSON values); glibc's allocator
// spent a third of the projector's replay time in malloc/free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::telemetry::init("webhook-dispatcher");
    let config = webhook_dispatcher::Config::from_env().context("configuration")?;
    let boot = shared::boot::boot(config.common.database_url.expose(), 4, config.listen).await?;
    webhook_dispatcher::run(boot.pool, boot.listener, boot.shutdown).await
}
