//! The unheld follower (the webhook fan-out's): the checkpoint read with its batch in one
//! statement, moved only if it is still where the round began. Forced interleavings of two
//! replicas on one checkpoint: the one that moves second writes nothing, whether it read
//! before the first committed or waited on the first's row lock.

use leadstream_tests::{append_events, eventually, FOLLOWER_BOUND};
use shared::store::follow::{unheld_batch, NeedsRepair, Unheld};
use shared::store::{
    load_checkpoint, move_checkpoint, moved_cte, tail_after_checkpoint, LogPosition, EVENT_COLUMNS,
};
use sqlx::PgPool;
use std::time::Duration;

const NAME: &str = "test-unheld";

#[derive(Debug)]
enum Error {
    Db(#[allow(dead_code)] sqlx::Error),
    Repair(NeedsRepair),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e)
    }
}

impl From<NeedsRepair> for Error {
    fn from(e: NeedsRepair) -> Self {
        Self::Repair(e)
    }
}

/// A round's write as the fan-out makes it: a row into `written`, only if the checkpoint moved.
async fn write_round(pool: &PgPool, from: LogPosition, to: LogPosition, who: &str) -> bool {
    let rows: Vec<i32> = sqlx::query_scalar(&format!(
        "WITH {}, w AS (INSERT INTO written (who) SELECT $6 WHERE EXISTS (SELECT 1 FROM moved))
         SELECT 1 FROM moved",
        moved_cte(1)
    ))
    .bind(NAME)
    .bind(from.tx)
    .bind(from.position)
    .bind(to.tx)
    .bind(to.position)
    .bind(who)
    .fetch_all(pool)
    .await
    .unwrap();
    !rows.is_empty()
}

/// A round of at most `limit` events, once the tail hands out `n` (another test's open
/// transaction elsewhere in the cluster can hold them back for a moment).
async fn read_round(pool: &PgPool, limit: i64, n: usize) -> Unheld {
    eventually(
        "the events visible to the tail",
        FOLLOWER_BOUND,
        async || {
            let mut conn = pool.acquire().await.unwrap();
            let round = unheld_batch::<Error>(&mut conn, NAME, EVENT_COLUMNS, limit)
                .await
                .unwrap();
            (round.events.len() >= n).then_some(round)
        },
    )
    .await
}

async fn written(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT who FROM written ORDER BY who")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn the_checkpoint_comes_with_its_batch_and_a_missing_row_is_created(pool: PgPool) {
    let mut conn = pool.acquire().await.unwrap();
    assert!(tail_after_checkpoint(&mut conn, NAME, EVENT_COLUMNS, 10)
        .await
        .unwrap()
        .is_none());
    let first = unheld_batch::<Error>(&mut conn, NAME, EVENT_COLUMNS, 10)
        .await
        .unwrap();
    assert_eq!((first.from, first.read), (LogPosition::START, 0));
    // Caught up: the checkpoint still comes back (one row, no event).
    let (at, events) = tail_after_checkpoint(&mut conn, NAME, EVENT_COLUMNS, 10)
        .await
        .unwrap()
        .expect("the row was created");
    assert_eq!((at.at, events.len()), (LogPosition::START, 0));

    append_events(&pool, 5).await;
    let batch = read_round(&pool, 3, 1).await;
    // A full batch takes the rest of its only transaction.
    assert_eq!((batch.read, batch.events.len()), (3, 5));
    let last = batch.events.last().unwrap().log_position();
    assert!(move_checkpoint(&mut conn, NAME, batch.from, last)
        .await
        .unwrap());
    let after = unheld_batch::<Error>(&mut conn, NAME, EVENT_COLUMNS, 3)
        .await
        .unwrap();
    assert_eq!((after.from, after.read), (last, 0));
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_legacy_checkpoint_must_be_repaired_first(pool: PgPool) {
    sqlx::query("INSERT INTO checkpoints (name, legacy_position) VALUES ($1, 7)")
        .bind(NAME)
        .execute(&pool)
        .await
        .unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let err = unheld_batch::<Error>(&mut conn, NAME, EVENT_COLUMNS, 10)
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, Error::Repair(NeedsRepair { legacy: 7, .. })));
}

/// Both replicas read the same round; A writes it; B, which read before A wrote, writes
/// nothing and the checkpoint stays where A put it.
#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_replica_that_read_a_round_already_written_writes_nothing(pool: PgPool) {
    sqlx::query("CREATE TABLE written (who text NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    append_events(&pool, 4).await;
    let a = read_round(&pool, 2, 2).await;
    let b = read_round(&pool, 10, 4).await;
    assert_eq!(a.from, b.from);
    let a_to = a.events.last().unwrap().log_position();
    let b_to = b.events.last().unwrap().log_position();
    assert!(write_round(&pool, a.from, a_to, "a").await);
    assert!(!write_round(&pool, b.from, b_to, "b").await);
    assert_eq!(written(&pool).await, ["a"]);
    let at = load_checkpoint(&mut pool.acquire().await.unwrap(), NAME)
        .await
        .unwrap()
        .at;
    assert_eq!(at, a_to, "the checkpoint is where the winner put it");
}

/// A holds the checkpoint row in an open transaction (its write not yet committed); B's write
/// waits on the row, then finds it moved and writes nothing. Rolled back instead, A leaves
/// the round to B.
#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_replica_waiting_on_the_winners_write_writes_nothing(pool: PgPool) {
    sqlx::query("CREATE TABLE written (who text NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    append_events(&pool, 3).await;
    let round = read_round(&pool, 10, 3).await;
    let mut conn = pool.acquire().await.unwrap();
    let to = round.events.last().unwrap().log_position();

    for (a_commits, expected) in [(false, "b"), (true, "a")] {
        sqlx::query("DELETE FROM written")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("UPDATE checkpoints SET tx_id = '0', position = 0 WHERE name = $1")
            .bind(NAME)
            .execute(&pool)
            .await
            .unwrap();
        let mut a = pool.begin().await.unwrap();
        assert!(move_checkpoint(&mut a, NAME, round.from, to).await.unwrap());
        sqlx::query("INSERT INTO written (who) VALUES ('a')")
            .execute(&mut *a)
            .await
            .unwrap();
        let b = tokio::spawn({
            let pool = pool.clone();
            let from = round.from;
            async move { write_round(&pool, from, to, "b").await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!b.is_finished(), "B waits on A's row lock");
        if a_commits {
            a.commit().await.unwrap();
        } else {
            a.rollback().await.unwrap();
        }
        assert_eq!(b.await.unwrap(), !a_commits);
        assert_eq!(
            written(&pool).await,
            [expected],
            "A committing: {a_commits}"
        );
        let at = load_checkpoint(&mut conn, NAME).await.unwrap().at;
        assert_eq!(at, to);
    }
}
