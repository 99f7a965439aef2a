//! The projection runner against real Postgres: every event applied once, in order, with the
//! checkpoint in the same transaction; a crash mid-batch loses and doubles nothing; replicas
//! take turns and never both apply an event; a NOTIFY wakes the runner without waiting for a poll.

use leadstream_tests::{append_events, eventually, wide_pool, FOLLOWER_BOUND};
use projector::runner::{checkpoint, run, step, Projection, ProjectionConfig, ProjectionError};
use shared::events::StoredEvent;
use shared::store::{lock_checkpoint, LogPosition};
use sqlx::{PgConnection, PgPool};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Records each applied event in `seen`; fails on `fail_at` to simulate a crash mid-batch.
#[derive(Clone)]
struct Recorder {
    replica: &'static str,
    fail_at: Arc<AtomicI64>,
}

impl Projection for Recorder {
    fn name(&self) -> &str {
        "test-recorder"
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        for e in events {
            sqlx::query("INSERT INTO seen (position, replica) VALUES ($1, $2)")
                .bind(e.position)
                .bind(self.replica)
                .execute(&mut *tx)
                .await?;
            if e.position == self.fail_at.load(Ordering::SeqCst) {
                // A crash (the connection lost), not an event that cannot be applied.
                return Err(ProjectionError::Db(sqlx::Error::Io(std::io::Error::other(
                    "simulated crash",
                ))));
            }
        }
        Ok(())
    }
}

fn recorder(replica: &'static str) -> Recorder {
    Recorder {
        replica,
        fail_at: Arc::new(AtomicI64::new(-1)),
    }
}

async fn setup(pool: &PgPool) {
    sqlx::query("CREATE TABLE seen (position bigint NOT NULL, replica text NOT NULL)")
        .execute(pool)
        .await
        .unwrap();
}

/// Waits until the tail hands out all `n` events (another test's open transaction elsewhere in
/// the cluster can hold them back for a moment; the tail waits, it never skips).
async fn wait_visible(pool: &PgPool, n: usize) {
    eventually(
        &format!("{n} events visible to the tail"),
        FOLLOWER_BOUND,
        async || {
            let mut conn = pool.acquire().await.unwrap();
            let visible = shared::store::tail(&mut conn, LogPosition::START, 10_000)
                .await
                .unwrap();
            (visible.len() >= n).then_some(())
        },
    )
    .await
}

async fn seen(pool: &PgPool) -> Vec<i64> {
    sqlx::query_scalar("SELECT position FROM seen ORDER BY position")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// Waits until the recorder's checkpoint has passed every committed event.
async fn wait_for_checkpoint(pool: &PgPool) {
    eventually(
        "the checkpoint passes every event",
        FOLLOWER_BOUND,
        async || {
            let mut conn = pool.acquire().await.unwrap();
            shared::store::has_passed(&mut conn, "test-recorder", None)
                .await
                .unwrap()
                .then_some(())
        },
    )
    .await
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn every_event_is_applied_once_in_order_and_the_checkpoint_follows(pool: PgPool) {
    setup(&pool).await;
    let positions = append_events(&pool, 25).await;
    wait_visible(&pool, 25).await;
    let p = recorder("a");
    assert_eq!(step(&pool, &p, 10).await.unwrap(), 10);
    assert_eq!(
        checkpoint(&pool, p.name()).await.unwrap().position,
        positions[9]
    );
    while step(&pool, &p, 10).await.unwrap() > 0 {}
    assert_eq!(seen(&pool).await, positions);
    assert_eq!(
        step(&pool, &p, 10).await.unwrap(),
        0,
        "caught up: nothing to do, nothing doubled"
    );
    assert_eq!(seen(&pool).await.len(), 25);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_crash_mid_batch_rolls_back_rows_and_checkpoint_and_the_restart_applies_each_once(
    pool: PgPool,
) {
    setup(&pool).await;
    let positions = append_events(&pool, 20).await;
    wait_visible(&pool, 20).await;
    let p = recorder("a");
    p.fail_at.store(positions[12], Ordering::SeqCst);
    assert!(step(&pool, &p, 100).await.is_err());
    assert!(
        seen(&pool).await.is_empty(),
        "the rows of the failed batch are gone"
    );
    assert_eq!(
        checkpoint(&pool, p.name()).await.unwrap(),
        LogPosition::START,
        "the checkpoint did not move"
    );

    p.fail_at.store(-1, Ordering::SeqCst);
    assert_eq!(step(&pool, &p, 100).await.unwrap(), 20);
    assert_eq!(seen(&pool).await, positions);
}

const REPLICAS: [&str; 3] = ["one", "two", "three"];

/// Replicas take turns on the checkpoint row. The test holds the row until all three replicas
/// wait for it, with a full batch for each already committed: Postgres hands a row lock to its
/// waiters in turn, so each replica applies a batch; writers append meanwhile, and still every
/// event is applied exactly once, in order.
#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn replicas_running_together_take_turns_and_never_both_apply_an_event(pool: PgPool) {
    // Each replica holds a listener and a step's connection: more than the test's five.
    let pool = wide_pool(&pool, 16).await;
    setup(&pool).await;
    let config = ProjectionConfig {
        batch_size: 7,
        poll_interval: Duration::from_millis(20),
    };
    let mut positions = append_events(&pool, 7 * REPLICAS.len()).await;
    wait_visible(&pool, positions.len()).await;
    // The checkpoint row, committed; then held by the test.
    lock_checkpoint(&mut pool.acquire().await.unwrap(), "test-recorder")
        .await
        .unwrap();
    let mut gate = pool.begin().await.unwrap();
    lock_checkpoint(&mut gate, "test-recorder").await.unwrap();

    let shutdown = CancellationToken::new();
    let replicas: Vec<_> = REPLICAS
        .into_iter()
        .map(|name| {
            tokio::spawn(run(
                pool.clone(),
                recorder(name),
                config.clone(),
                shutdown.clone(),
            ))
        })
        .collect();
    eventually(
        "every replica waits for the checkpoint row",
        FOLLOWER_BOUND,
        async || {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            if waiting >= replicas.len() as i64 {
                Ok(())
            } else {
                Err(format!("{waiting} waiting"))
            }
        },
    )
    .await;
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let mut all = Vec::new();
                for _ in 0..15 {
                    all.extend(append_events(&pool, 3).await);
                }
                all
            })
        })
        .collect();
    gate.commit().await.unwrap();
    for w in writers {
        positions.extend(w.await.unwrap());
    }
    positions.sort_unstable();
    wait_for_checkpoint(&pool).await;
    shutdown.cancel();
    for r in replicas {
        r.await.unwrap();
    }

    assert_eq!(
        seen(&pool).await,
        positions,
        "each of the 201 events exactly once, in order"
    );
    let applied: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT replica FROM seen ORDER BY replica")
            .fetch_all(&pool)
            .await
            .unwrap();
    let mut all = REPLICAS.map(str::to_owned);
    all.sort_unstable();
    assert_eq!(applied, all, "every replica took its turn");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_new_event_wakes_the_runner_without_waiting_for_the_poll(pool: PgPool) {
    setup(&pool).await;
    let shutdown = CancellationToken::new();
    let slow_poll = ProjectionConfig {
        batch_size: 100,
        poll_interval: Duration::from_secs(600),
    };
    let runner = tokio::spawn(run(
        pool.clone(),
        recorder("a"),
        slow_poll,
        shutdown.clone(),
    ));
    // The runner listens before its first step: once it applied this event, it waits for a
    // NOTIFY (or the 600 s poll) with nothing left to apply.
    let mut positions = append_events(&pool, 1).await;
    wait_for_checkpoint(&pool).await;
    positions.extend(append_events(&pool, 1).await);
    wait_for_checkpoint(&pool).await; // 60 s at most, against a 600 s poll
    shutdown.cancel();
    runner.await.unwrap();
    assert_eq!(seen(&pool).await, positions);
}
