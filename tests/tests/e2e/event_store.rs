//! The event store against real Postgres: appends, optimistic concurrency, the append-only
//! rule, snapshots, upcasting on read, and the gap-free tail under forced interleavings.

use leadstream_tests::{eventually, FOLLOWER_BOUND};
use serde_json::json;
use shared::events::lead::LeadEvent;
use shared::events::{DomainEvent, EventMetadata, NewEvent};
use shared::lead::Field;
use shared::store::{
    append, read_stream, tail, AppendError, ExpectedVersion, LogPosition, StreamAppend,
};
use sqlx::{Acquire, PgPool};
use std::time::Duration;
use uuid::Uuid;

fn event(n: i64) -> NewEvent {
    NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "LeadDeleted",
        schema_version: 1,
        payload: json!({"at": n}),
        metadata: EventMetadata::default(),
    }
}

fn to(stream: Uuid, tenant: Uuid, expected: ExpectedVersion, n: usize) -> StreamAppend {
    StreamAppend {
        tenant_id: tenant,
        stream_type: "lead",
        stream_id: stream,
        expected,
        events: (0..n as i64).map(event).collect(),
    }
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn appended_events_read_back_in_version_order_with_rising_positions(pool: PgPool) {
    let (tenant, stream) = (Uuid::new_v4(), Uuid::new_v4());
    let mut conn = pool.acquire().await.unwrap();
    let p1 = append(
        &mut conn,
        &[to(stream, tenant, ExpectedVersion::NoStream, 2)],
    )
    .await
    .unwrap();
    let p2 = append(
        &mut conn,
        &[to(stream, tenant, ExpectedVersion::Exact(2), 1)],
    )
    .await
    .unwrap();
    assert_eq!(p1.len(), 2);
    assert!(p1[0] < p1[1] && p1[1] < p2[0]);
    let events = read_stream(&mut conn, tenant, stream, 0).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(
        read_stream(&mut conn, Uuid::new_v4(), stream, 0)
            .await
            .unwrap()
            .is_empty(),
        "other tenants see nothing"
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn appending_at_a_stale_version_is_a_typed_conflict(pool: PgPool) {
    let (tenant, stream) = (Uuid::new_v4(), Uuid::new_v4());
    let mut conn = pool.acquire().await.unwrap();
    append(
        &mut conn,
        &[to(stream, tenant, ExpectedVersion::NoStream, 1)],
    )
    .await
    .unwrap();
    let again = append(
        &mut conn,
        &[to(stream, tenant, ExpectedVersion::NoStream, 1)],
    )
    .await;
    assert!(matches!(again, Err(AppendError::Conflict { stream_id }) if stream_id == stream));
    let stale = append(
        &mut conn,
        &[to(stream, tenant, ExpectedVersion::Exact(0), 1)],
    )
    .await;
    assert!(matches!(stale, Err(AppendError::Conflict { .. })));
    let wrong_tenant = append(
        &mut conn,
        &[to(stream, Uuid::new_v4(), ExpectedVersion::Exact(1), 1)],
    )
    .await;
    assert!(matches!(wrong_tenant, Err(AppendError::Conflict { .. })));
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn two_concurrent_appends_to_one_stream_give_exactly_one_conflict(pool: PgPool) {
    let (tenant, stream) = (Uuid::new_v4(), Uuid::new_v4());
    append(
        &mut pool.acquire().await.unwrap(),
        &[to(stream, tenant, ExpectedVersion::NoStream, 1)],
    )
    .await
    .unwrap();

    // Writer A appends at version 1 and holds its transaction open.
    let mut a = pool.begin().await.unwrap();
    append(&mut a, &[to(stream, tenant, ExpectedVersion::Exact(1), 1)])
        .await
        .unwrap();

    // Writer B appends at the same version while A is still open: it must wait for A.
    let pool_b = pool.clone();
    let b = tokio::spawn(async move {
        let mut tx = pool_b.begin().await.unwrap();
        let r = append(&mut tx, &[to(stream, tenant, ExpectedVersion::Exact(1), 1)]).await;
        if r.is_ok() {
            tx.commit().await.unwrap();
        }
        r
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !b.is_finished(),
        "B must block behind A's uncommitted append"
    );
    a.commit().await.unwrap();

    let b = b.await.unwrap();
    assert!(matches!(b, Err(AppendError::Conflict { .. })), "{b:?}");
    let mut conn = pool.acquire().await.unwrap();
    assert_eq!(
        read_stream(&mut conn, tenant, stream, 0)
            .await
            .unwrap()
            .len(),
        2
    );
}

/// Polls the tail until `want` events are visible (other tests' transactions can hold the
/// snapshot's xmin back for a moment; the tail then waits, it never skips).
async fn tail_until(pool: &PgPool, after: LogPosition, want: usize) -> Vec<i64> {
    eventually(
        &format!("the tail returns {want} events"),
        FOLLOWER_BOUND,
        async || {
            let mut conn = pool.acquire().await.unwrap();
            let got: Vec<i64> = tail(&mut conn, after, 100)
                .await
                .unwrap()
                .iter()
                .map(|e| e.position)
                .collect();
            (got.len() >= want).then_some(got)
        },
    )
    .await
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn the_tail_never_skips_an_event_committed_late_with_a_lower_position(pool: PgPool) {
    let tenant = Uuid::new_v4();
    // A takes the lower position and stays open.
    let mut a = pool.begin().await.unwrap();
    let pa = append(
        &mut a,
        &[to(Uuid::new_v4(), tenant, ExpectedVersion::NoStream, 1)],
    )
    .await
    .unwrap()[0];
    // B takes a higher position and commits first.
    let mut b = pool.begin().await.unwrap();
    let pb = append(
        &mut b,
        &[to(Uuid::new_v4(), tenant, ExpectedVersion::NoStream, 1)],
    )
    .await
    .unwrap()[0];
    b.commit().await.unwrap();
    assert!(pa < pb);

    // B is committed and visible to a plain SELECT, yet the tail must not hand it out while
    // A, with a lower position, could still commit.
    let mut conn = pool.acquire().await.unwrap();
    let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE position = $1")
        .bind(pb)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(visible, 1);
    for _ in 0..5 {
        let seen: Vec<i64> = tail(&mut conn, LogPosition::START, 100)
            .await
            .unwrap()
            .iter()
            .map(|e| e.position)
            .collect();
        assert!(
            seen.is_empty(),
            "tail returned {seen:?} while position {pa} was still in flight"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(conn);

    a.commit().await.unwrap();
    assert_eq!(
        tail_until(&pool, LogPosition::START, 2).await,
        vec![pa, pb],
        "both, in position order"
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_tailer_following_two_out_of_order_writers_reads_every_event_exactly_once(pool: PgPool) {
    let tenant = Uuid::new_v4();
    let mut seen: Vec<i64> = Vec::new();
    let mut after = LogPosition::START;
    let mut committed = Vec::new();
    for _round in 0..5 {
        let mut slow = pool.begin().await.unwrap();
        let p_slow = append(
            &mut slow,
            &[to(Uuid::new_v4(), tenant, ExpectedVersion::NoStream, 1)],
        )
        .await
        .unwrap();
        let mut fast = pool.begin().await.unwrap();
        let p_fast = append(
            &mut fast,
            &[to(Uuid::new_v4(), tenant, ExpectedVersion::NoStream, 2)],
        )
        .await
        .unwrap();
        fast.commit().await.unwrap();
        // The tailer reads between the two commits.
        let mut conn = pool.acquire().await.unwrap();
        for e in tail(&mut conn, after, 100).await.unwrap() {
            seen.push(e.position);
            after = e.log_position();
        }
        drop(conn);
        slow.commit().await.unwrap();
        committed.extend(p_slow);
        committed.extend(p_fast);
    }
    committed.sort_unstable();
    eventually(
        "the tailer reads every committed event",
        FOLLOWER_BOUND,
        async || {
            let mut conn = pool.acquire().await.unwrap();
            for e in tail(&mut conn, after, 100).await.unwrap() {
                seen.push(e.position);
                after = e.log_position();
            }
            (seen.len() >= committed.len()).then_some(())
        },
    )
    .await;
    assert_eq!(seen, committed, "every event once, in order");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn the_database_refuses_update_delete_and_truncate_on_events(pool: PgPool) {
    let mut conn = pool.acquire().await.unwrap();
    append(
        &mut conn,
        &[to(
            Uuid::new_v4(),
            Uuid::new_v4(),
            ExpectedVersion::NoStream,
            1,
        )],
    )
    .await
    .unwrap();
    for sql in [
        "UPDATE events SET payload = '{}'::jsonb",
        "DELETE FROM events",
        "TRUNCATE events",
    ] {
        let mut tx = conn.begin().await.unwrap();
        let err = sqlx::query(sql).execute(&mut *tx).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        tx.rollback().await.unwrap();
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_v1_event_stored_long_ago_is_upcast_when_read(pool: PgPool) {
    let (tenant, stream) = (Uuid::new_v4(), Uuid::new_v4());
    let mut conn = pool.acquire().await.unwrap();
    let v1 = NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "LeadCreated",
        schema_version: 1,
        payload: json!({"lead": {"fields": {"name": "Old Lead", "source": "legacy"}}, "at": 1700000000}),
        metadata: EventMetadata::default(),
    };
    append(
        &mut conn,
        &[StreamAppend {
            tenant_id: tenant,
            stream_type: "lead",
            stream_id: stream,
            expected: ExpectedVersion::NoStream,
            events: vec![v1],
        }],
    )
    .await
    .unwrap();
    let stored = read_stream(&mut conn, tenant, stream, 0).await.unwrap();
    assert_eq!(
        stored[0].schema_version, 1,
        "the stored row is never rewritten"
    );
    let LeadEvent::Created(created) = LeadEvent::decode(&stored[0]).unwrap() else {
        panic!()
    };
    assert_eq!(created.lead.fields[&Field::Status].as_text(), Some("new"));
}

/// Issue 11: a transaction takes its id first and its position last. A (older id) inserts
/// the higher position and commits first; B (younger id, lower position) commits after a
/// tailer has read A. Ordering and checkpointing by position alone skipped B.
#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn the_tail_hands_out_a_lower_position_committed_after_an_older_transactions_higher_one(
    pool: PgPool,
) {
    let tenant = Uuid::new_v4();
    let mut a = pool.begin().await.unwrap();
    let _: i64 = sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint")
        .fetch_one(&mut *a)
        .await
        .unwrap(); // A takes its id now
    let mut b = pool.begin().await.unwrap();
    let pb = append(
        &mut b,
        &[to(Uuid::new_v4(), tenant, ExpectedVersion::NoStream, 1)],
    )
    .await
    .unwrap()[0];
    let pa = append(
        &mut a,
        &[to(Uuid::new_v4(), tenant, ExpectedVersion::NoStream, 1)],
    )
    .await
    .unwrap()[0];
    assert!(pb < pa, "B holds the lower position");
    a.commit().await.unwrap();

    // The tailer reads while B is still open: it may hand out A (older than every running
    // transaction), and must move its checkpoint past A only.
    let mut after = LogPosition::START;
    let mut seen = Vec::new();
    eventually(
        "the tailer hands out an event while B runs",
        FOLLOWER_BOUND,
        async || {
            let mut conn = pool.acquire().await.unwrap();
            for e in tail(&mut conn, after, 100).await.unwrap() {
                seen.push(e.position);
                after = e.log_position();
            }
            (!seen.is_empty()).then_some(())
        },
    )
    .await;
    assert_eq!(seen, vec![pa], "A is handed out while B runs");
    b.commit().await.unwrap();
    seen.extend(tail_until(&pool, after, 1).await);
    assert_eq!(seen, vec![pa, pb], "B too, once, after A");
}

/// Within one stream the follower order is the version order: an append by a transaction
/// older than the stream's last writer is refused (it would come before that writer's event
/// in the follower order), and succeeds when retried in a new transaction.
#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn an_append_by_a_transaction_older_than_the_streams_last_writer_is_a_conflict(pool: PgPool) {
    let tenant = Uuid::new_v4();
    let stream = Uuid::new_v4();
    append(
        &mut pool.acquire().await.unwrap(),
        &[to(stream, tenant, ExpectedVersion::NoStream, 1)],
    )
    .await
    .unwrap();
    let mut old = pool.begin().await.unwrap();
    let _: i64 = sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint")
        .fetch_one(&mut *old)
        .await
        .unwrap();
    let mut young = pool.begin().await.unwrap();
    append(
        &mut young,
        &[to(stream, tenant, ExpectedVersion::Exact(1), 1)],
    )
    .await
    .unwrap();
    young.commit().await.unwrap();
    // The old transaction now sees version 2 and appends version 3 on top of it.
    let err = append(
        &mut old,
        &[to(stream, tenant, ExpectedVersion::Exact(2), 1)],
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppendError::Conflict { .. }), "{err:?}");
    let err = append(&mut old, &[to(stream, tenant, ExpectedVersion::Any, 1)])
        .await
        .unwrap_err();
    assert!(matches!(err, AppendError::Conflict { .. }), "{err:?}");
    old.rollback().await.unwrap();

    let mut retry = pool.begin().await.unwrap();
    append(
        &mut retry,
        &[to(stream, tenant, ExpectedVersion::Exact(2), 1)],
    )
    .await
    .unwrap();
    retry.commit().await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let mut versions = Vec::new();
    let mut after = LogPosition::START;
    eventually(
        "the tailer reads the stream's 3 events",
        FOLLOWER_BOUND,
        async || {
            for e in tail(&mut conn, after, 100).await.unwrap() {
                versions.push(e.stream_version);
                after = e.log_position();
            }
            (versions.len() >= 3).then_some(())
        },
    )
    .await;
    assert_eq!(
        versions,
        vec![1, 2, 3],
        "the follower order is the version order"
    );
}
