//! command-service binary: `command-service` serves; `command-service migrate` applies the
//! migrations and exits. Serving applies them too (idempotent, locked).

// mimalloc: the services allocate many small objects (rows, JSON values); glibc's allocator
// spent a third of the projector's replay time in malloc/free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use command_service::config::CommandConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::telemetry::init("command-service");
    let config = CommandConfig::from_env().context("configuration")?;
    let c = &config.common;
    if std::env::args().nth(1).as_deref() == Some("migrate") {
        let pool = shared::db::connect(c.database_url.expose(), 2)
            .await
            .context("connecting to Postgres (DATABASE_URL)")?;
        shared::db::migrate(&pool)
            .await
            .context("running migrations")?;
        println!("migrations applied");
        return Ok(());
    }
    let boot = shared::boot::boot(
        c.database_url.expose(),
        c.database_max_connections,
        config.listen,
    )
    .await?;
    shared::db::migrate(&boot.pool)
        .await
        .context("running migrations")?;
    command_service::run(config, boot.pool, boot.listener, boot.shutdown).await
}
