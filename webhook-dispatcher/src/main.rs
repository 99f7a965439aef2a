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
    let allowed = config.dispatcher.delivery.networks.allowed();
    if !allowed.is_empty() {
        let list: Vec<String> = allowed.iter().map(|n| n.to_string()).collect();
        tracing::warn!(networks = %list.join(","), "webhooks may reach these internal networks (WEBHOOK_ALLOWED_NETWORKS)");
    }
    let boot = shared::boot::boot(config.common.database_url.expose(), 8, config.listen).await?;
    webhook_dispatcher::run(boot.pool, config.dispatcher, boot.listener, boot.shutdown).await
}
