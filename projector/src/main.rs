//! projector binary: `projector` follows the event store; `projector rebuild` replays all
//! history into fresh read-model tables and swaps them in, reporting progress.

// mimalloc: the services allocate many small objects (rows, JSON values); glibc's allocator
// spent a third of the projector's replay time in malloc/free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::telemetry::init("projector");
    let config = projector::Config::from_env().context("configuration")?;
    if std::env::args().nth(1).as_deref() == Some("rebuild") {
        let pool = shared::db::connect(config.common.database_url.expose(), 4).await?;
        shared::db::migrate(&pool)
            .await
            .context("running migrations")?;
        let report = projector::rebuild::rebuild(&pool, |p| {
            println!(
                "rebuild: {} events applied, at position {}",
                p.events, p.position
            );
        })
        .await?;
        let secs = report.elapsed.as_secs_f64().max(1e-9);
        println!(
            "rebuild: done, {} events in {:.1} s ({:.0} events/s; replay {:.1} s, indexes {:.1} s), switched at position {}",
            report.events,
            secs,
            report.events as f64 / secs,
            report.replay_elapsed.as_secs_f64(),
            report.index_elapsed.as_secs_f64(),
            report.position
        );
        return Ok(());
    }
    let boot = shared::boot::boot(config.common.database_url.expose(), 4, config.listen).await?;
    projector::run(boot.pool, config.projection, boot.listener, boot.shutdown).await
}
