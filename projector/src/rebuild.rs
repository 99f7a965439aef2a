//! `projector rebuild`: replays all history into fresh tables (primary keys only while
//! loading), builds the live tables' other indexes on them, then in one transaction catches up,
//! swaps the tables and moves the live checkpoint. The old tables serve reads until that
//! transaction; the live projector waits on its checkpoint row meanwhile and resumes on the new
//! tables (re-applying nothing: rows are guarded by version).

use crate::lead_view::{LeadView, Tables, CHECKPOINT};
use anyhow::{bail, Context};
use shared::store::projection::{step, Projection};
use shared::store::tail;
use sqlx::{Connection, PgConnection, PgPool};
use std::time::{Duration, Instant};

const SUFFIX: &str = "_next";
const REBUILD_CHECKPOINT: &str = "lead-view-rebuild";
const BATCH: i64 = 5000;
const REBUILD_LOCK: i64 = 0x6c65_6164_7265_6275; // "leadrebu"

#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub events: u64,
    pub position: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct RebuildReport {
    pub events: u64,
    pub position: i64,
    pub elapsed: Duration,
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
    let mut done = Progress {
        events: 0,
        position: 0,
    };
    let mut last_report = Instant::now();
    loop {
        let n = step(pool, &projection, BATCH).await?;
        if n == 0 {
            break;
        }
        done.events += n as u64;
        if last_report.elapsed() >= Duration::from_secs(2) {
            done.position = shared::store::projection::checkpoint(pool, REBUILD_CHECKPOINT).await?;
            progress(&done);
            last_report = Instant::now();
        }
    }
    let renames = copy_indexes(pool, &live, &next)
        .await
        .context("building indexes")?;
    let (position, caught_up) = switch(pool, &projection, &live, &next, &renames)
        .await
        .context("switching tables")?;
    done.events += caught_up;
    lock.close().await?;
    Ok(RebuildReport {
        events: done.events,
        position,
        elapsed: started.elapsed(),
    })
}

async fn create_fresh_tables(
    pool: &PgPool,
    live: &Tables,
    next: &Tables,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for stmt in [
        format!("DROP TABLE IF EXISTS {}, {}", next.leads, next.attrs),
        format!(
            "CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
            next.leads, live.leads
        ),
        format!(
            "ALTER TABLE {} ADD PRIMARY KEY (tenant_id, lead_id)",
            next.leads
        ),
        format!(
            "CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
            next.attrs, live.attrs
        ),
        format!(
            "ALTER TABLE {} ADD PRIMARY KEY (tenant_id, lead_id, name)",
            next.attrs
        ),
    ] {
        sqlx::query(&stmt).execute(&mut *tx).await?;
    }
    sqlx::query(
        "INSERT INTO checkpoints (name, position) VALUES ($1, 0)
         ON CONFLICT (name) DO UPDATE SET position = 0, updated_at = now()",
    )
    .bind(REBUILD_CHECKPOINT)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Creates on the fresh tables every secondary index of the live ones; returns the renames
/// (fresh name -> live name) the switch applies.
async fn copy_indexes(
    pool: &PgPool,
    live: &Tables,
    next: &Tables,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let mut renames = Vec::new();
    for (live_table, next_table) in [(&live.leads, &next.leads), (&live.attrs, &next.attrs)] {
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
            sqlx::query(&def).execute(pool).await?;
            renames.push((fresh, name));
        }
        renames.push((format!("{next_table}_pkey"), format!("{live_table}_pkey")));
    }
    Ok(renames)
}

async fn switch(
    pool: &PgPool,
    projection: &LeadView,
    live: &Tables,
    next: &Tables,
    renames: &[(String, String)],
) -> anyhow::Result<(i64, u64)> {
    let mut tx = pool.begin().await?;
    // Hold the live projector off: it steps only with this row locked.
    sqlx::query("INSERT INTO checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
        .bind(CHECKPOINT)
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT position FROM checkpoints WHERE name = $1 FOR UPDATE")
        .bind(CHECKPOINT)
        .execute(&mut *tx)
        .await?;
    let mut position = shared::store::projection::checkpoint(pool, REBUILD_CHECKPOINT).await?;
    let mut caught_up = 0u64;
    loop {
        let events = tail(&mut tx, position, BATCH).await?;
        let Some(last) = events.last().map(|e| e.position) else {
            break;
        };
        projection.apply(&mut tx, &events).await?;
        caught_up += events.len() as u64;
        position = last;
    }
    for stmt in [
        format!("DROP TABLE {}, {}", live.leads, live.attrs),
        format!("ALTER TABLE {} RENAME TO {}", next.leads, live.leads),
        format!("ALTER TABLE {} RENAME TO {}", next.attrs, live.attrs),
    ] {
        sqlx::query(&stmt).execute(&mut *tx).await?;
    }
    for (fresh, name) in renames {
        sqlx::query(&format!("ALTER INDEX {fresh} RENAME TO {name}"))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("UPDATE checkpoints SET position = $2, updated_at = now() WHERE name = $1")
        .bind(CHECKPOINT)
        .bind(position)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM checkpoints WHERE name = $1")
        .bind(REBUILD_CHECKPOINT)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((position, caught_up))
}
