//! projector binary: `projector` follows the event store; `projector rebuild` replays all
//! history into fresh read-model tables and swaps them in, reporting progress.

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
        println!(
            "rebuild: done, {} events in {:.1} s ({:.0} events/s), switched at position {}",
            report.events,
            report.elapsed.as_secs_f64(),
            report.events as f64 / report.elapsed.as_secs_f64().max(1e-9),
            report.position
        );
        return Ok(());
    }
    let boot = shared::boot::boot(config.common.database_url.expose(), 4, config.listen).await?;
    projector::run(boot.pool, config.projection, boot.listener, boot.shutdown).await
}
