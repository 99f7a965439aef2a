//! Postgres connection pools and the one ordered set of migrations (`shared/migrations`).

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

/// Every table of every service, in order. Applied migrations are never edited.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// A pool of the services' connections. Parallel query is off on them: their statements are
/// short and many run at once, and at 1M leads a 50-row list page planned with two workers
/// took 7 ms instead of 1.6 ms (the workers' start-up). Index builds (`projector rebuild`)
/// still use parallel maintenance workers.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?
        .application_name("leadstream")
        .options([("max_parallel_workers_per_gather", "0")]);
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        // No ping round trip on every checkout: a dead connection fails its query, and
        // commands retry or answer 5xx before anything is committed.
        .test_before_acquire(false)
        .connect_with(options)
        .await
}

pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// True when the error is a unique violation of the named constraint or index.
pub fn is_unique_violation(err: &sqlx::Error, constraint: &str) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            db.code().as_deref() == Some("23505") && db.constraint() == Some(constraint)
        }
        _ => false,
    }
}
