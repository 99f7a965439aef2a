//! `projector rebuild`: replays all history into fresh tables (primary keys only while
//! loading), builds the live tables' other indexes on them, then in one transaction catches up,
//! swaps the tables and moves the live checkpoint. The old tables serve reads until that
//! transaction; the live projector waits on its checkpoint row meanwhile and resumes on the new
//! tables (re-applying nothing: rows are guarded by version).

use crate::lead_view::{LeadView, Tables, CHECKPOINT};
use crate::quarantine::{apply_guarded, clear_failures, replace_failures};
use anyhow::{bail, Context};
use futures::{StreamExt, TryStreamExt};
use shared::events::StoredEvent;
use shared::store::{
    drop_checkpoint, load_checkpoint, lock_checkpoint, save_checkpoint, save_repaired, tail,
    LogPosition,
};
use sqlx::{Connection, PgConnection, PgPool};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const SUFFIX: &str = "_next";
const REBUILD_CHECKPOINT: &str = "lead-view-rebuild";
const BATCH: i64 = 5000;
const REBUILD_LOCK: i64 = 0x6c65_6164_7265_6275; // "leadrebu"

#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub events: u64,
    pub position: LogPosition,
}

#[derive(Debug, Clone, Copy)]
pub struct RebuildReport {
    pub events: u64,
    pub position: LogPosition,
    pub elapsed: Duration,
    /// Of `elapsed`: replaying history into the fresh tables, then building their indexes
    /// and statistics.
    pub replay_elapsed: Duration,
    pub index_elapsed: Duration,
}

/// Replays all history into the fresh tables. One task reads the events (batch after batch,
/// gap-free) while this one applies the previous batch, so Postgres reads, Postgres writes and
/// the decoding overlap; each applied batch commits with the rebuild's checkpoint.
async fn replay(
    pool: &PgPool,
    projection: &LeadView,
    progress: &mut impl FnMut(&Progress),
) -> anyhow::Result<u64> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<StoredEvent>>(2);
    let reader_pool = pool.clone();
    let reader = tokio::spawn(async move {
        let mut conn = reader_pool.acquire().await?;
        let mut after = LogPosition::START;
        loop {
            let events = tail(&mut conn, after, BATCH).await?;
            let Some(last) = events.last().map(StoredEvent::log_position) else {
                return Ok::<_, sqlx::Error>(());
            };
            after = last;
            if tx.send(events).await.is_err() {
                return Ok(()); // the applier failed; its error is reported
            }
        }
    });
    let mut done = Progress {
        events: 0,
        position: LogPosition::START,
    };
    let mut last_report = Instant::now();
    while let Some(events) = rx.recv().await {
        let Some(last) = events.last().map(StoredEvent::log_position) else {
            continue;
        };
        let mut t = pool.begin().await?;
        // A crash loses at most the last batches, which the next rebuild replays anyway.
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *t)
            .await?;
        apply_guarded(&mut t, projection, &events).await?;
        save_checkpoint(&mut t, REBUILD_CHECKPOINT, last).await?;
        t.commit().await?;
        done.events += events.len() as u64;
        done.position = last;
        if last_report.elapsed() >= Duration::from_secs(2) {
            progress(&done);
            last_report = Instant::now();
        }
    }
    reader.await.context("event reader")??;
    Ok(done.events)
}

pub async fn rebuild(
    pool: &PgPool,
    mut progress: impl FnMut(&Progress),
) -> anyhow::Result<RebuildReport> {
    let started = Instant::now();
    let mut lock = PgConnection::connect_with(&pool.connect_options()).await?;
    let (locked,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
        .bind(REBUILD_LOCK)
        .fetch_one(&mut lock)
        .await?;
    if !locked {
        bail!("another rebuild is running");
    }
    let live = Tables::live();
    let next = Tables::with_suffix(SUFFIX);
    create_fresh_tables(pool, &live, &next)
        .await
        .context("creating fresh tables")?;

    let projection = LeadView::into_tables(REBUILD_CHECKPOINT, next.clone());
    let replayed = replay(pool, &projection, &mut progress).await?;
    let replay_elapsed = started.elapsed();
    let renames = copy_indexes(pool, &live, &next)
        .await
        .context("building indexes")?;
    // Fresh tables have no planner statistics; without them the first queries after the switch
    // would be planned blind (seen: an attribute filter going from 7 ms to 350 ms).
    for (table, _) in next.all() {
        sqlx::query(&format!("ANALYZE {table}"))
            .execute(pool)
            .await
            .context("analyzing the fresh tables")?;
    }
    let index_elapsed = started.elapsed() - replay_elapsed;
    let (position, caught_up) = switch(pool, &projection, &live, &next, &renames)
        .await
        .context("switching tables")?;
    lock.close().await?;
    Ok(RebuildReport {
        events: replayed + caught_up,
        position,
        elapsed: started.elapsed(),
        replay_elapsed,
        index_elapsed,
    })
}

async fn create_fresh_tables(
    pool: &PgPool,
    live: &Tables,
    next: &Tables,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for ((fresh, key), (table, _)) in next.all().into_iter().zip(live.all()) {
        for stmt in [
            format!("DROP TABLE IF EXISTS {fresh}"),
            format!("CREATE TABLE {fresh} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"),
            format!("ALTER TABLE {fresh} ADD PRIMARY KEY ({key})"),
        ] {
            sqlx::query(&stmt).execute(&mut *tx).await?;
        }
    }
    drop_checkpoint(&mut tx, REBUILD_CHECKPOINT).await?;
    save_checkpoint(&mut tx, REBUILD_CHECKPOINT, LogPosition::START).await?;
    clear_failures(&mut tx, REBUILD_CHECKPOINT).await?;
    tx.commit().await
}

/// Indexes built at once (one per core of the 2-core reference machine; each build may also
/// get Postgres's parallel maintenance workers).
const INDEX_BUILDS: usize = 2;

/// Creates on the fresh tables every secondary index of the live ones, a few at a time;
/// returns the renames (fresh name -> live name) the switch applies.
async fn copy_indexes(
    pool: &PgPool,
    live: &Tables,
    next: &Tables,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let mut renames = Vec::new();
    let mut builds = Vec::new();
    for ((live_table, _), (next_table, _)) in live.all().into_iter().zip(next.all()) {
        let defs: Vec<(String, String)> = sqlx::query_as(
            "SELECT i.indexname::text, i.indexdef FROM pg_indexes i
             WHERE i.schemaname = current_schema() AND i.tablename = $1
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.contype = 'p')",
        )
        .bind(live_table)
        .fetch_all(pool)
        .await?;
        for (name, def) in defs {
            let fresh = format!("{name}{SUFFIX}");
            let def = def
                .replacen(
                    &format!(" INDEX {name} ON "),
                    &format!(" INDEX {fresh} ON "),
                    1,
                )
                .replacen(
                    &format!(".{live_table} USING"),
                    &format!(".{next_table} USING"),
                    1,
                );
            builds.push(def);
            renames.push((fresh, name));
        }
        renames.push((format!("{next_table}_pkey"), format!("{live_table}_pkey")));
    }
    futures::stream::iter(builds)
        .map(|def| async move {
            let mut tx = pool.begin().await?;
            sqlx::query("SET LOCAL maintenance_work_mem = '256MB'")
                .execute(&mut *tx)
                .await?;
            sqlx::query(&def).execute(&mut *tx).await?;
            tx.commit().await
        })
        .buffer_unordered(INDEX_BUILDS)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(renames)
}

async fn switch(
    pool: &PgPool,
    projection: &LeadView,
    live: &Tables,
    next: &Tables,
    renames: &[(String, String)],
) -> anyhow::Result<(LogPosition, u64)> {
    let mut tx = pool.begin().await?;
    // Hold the live projector off: it steps only with this row locked.
    lock_checkpoint(&mut tx, CHECKPOINT).await?;
    let mut position = load_checkpoint(&mut tx, REBUILD_CHECKPOINT).await?.at;
    let mut caught_up = 0u64;
    loop {
        let events = tail(&mut tx, position, BATCH).await?;
        let Some(last) = events.last().map(StoredEvent::log_position) else {
            break;
        };
        apply_guarded(&mut tx, projection, &events).await?;
        caught_up += events.len() as u64;
        position = last;
    }
    for ((table, _), (fresh, _)) in live.all().into_iter().zip(next.all()) {
        for stmt in [
            format!("DROP TABLE {table}"),
            format!("ALTER TABLE {fresh} RENAME TO {table}"),
        ] {
            sqlx::query(&stmt).execute(&mut *tx).await?;
        }
    }
    for (fresh, name) in renames {
        sqlx::query(&format!("ALTER INDEX {fresh} RENAME TO {name}"))
            .execute(&mut *tx)
            .await?;
    }
    // The swapped-in tables carry no triggers: the statistics' counters are installed on them
    // and counted once from them (migration 0020).
    sqlx::query("SELECT lead_stats_install()")
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT lead_stats_recount()")
        .execute(&mut *tx)
        .await?;
    // A rebuilt model is whole whatever order the old checkpoint was kept in.
    save_repaired(&mut tx, CHECKPOINT, position).await?;
    replace_failures(&mut tx, REBUILD_CHECKPOINT, CHECKPOINT).await?;
    drop_checkpoint(&mut tx, REBUILD_CHECKPOINT).await?;
    tx.commit().await?;
    Ok((position, caught_up))
}

/// Rebuilds the lead read model when its checkpoint predates the follower order (migration
/// 0015): the old order may have skipped events, so the model is replayed whole. Returns once
/// the checkpoint is current (a rebuild by another replica is waited for).
pub async fn repair_if_legacy(pool: &PgPool, shutdown: &CancellationToken) -> anyhow::Result<()> {
    loop {
        let at = load_checkpoint(&mut *pool.acquire().await?, CHECKPOINT).await?;
        let Some(legacy) = at.legacy_position else {
            return Ok(());
        };
        tracing::warn!(
            legacy,
            "lead-view checkpoint predates the follower order: rebuilding the read model"
        );
        match rebuild(
            pool,
            |p| tracing::info!(events = p.events, at = %p.position, "repair rebuild"),
        )
        .await
        {
            Ok(report) => {
                tracing::info!(events = report.events, elapsed = ?report.elapsed, "read model repaired");
            }
            Err(e) if shutdown.is_cancelled() => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "repair rebuild did not run; looking again");
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
}
