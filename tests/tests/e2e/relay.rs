//! The outbox relay against real Postgres and real NATS JetStream: committed events reach
//! `leadstream.events.<tenant>.<stream_type>.<event_type>` once, in position order, whatever
//! crashes in between; one replica relays at a time.

use async_nats::jetstream;
use command_service::config::RelayConfig;
use command_service::relay::{load_checkpoint, publish_events, try_lead, Relay};
use futures::StreamExt;
use leadstream_tests::{eventually, nats_url, Account, Options, TestApp, FOLLOWER_BOUND};
use serde_json::{json, Value};
use shared::nats::{tenant_subjects, STREAM_NAME};
use shared::store::{tail, LogPosition};
use sqlx::{Connection, PgConnection, PgPool};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// A JetStream context, with the events stream created as the relay would create it.
async fn js() -> jetstream::Context {
    let js = jetstream::new(async_nats::connect(nats_url()).await.unwrap());
    let d = RelayConfig::default();
    shared::nats::ensure_stream(&js, d.duplicate_window, d.max_age)
        .await
        .unwrap();
    js
}

async fn relay(pool: &PgPool) -> Relay {
    let nats = async_nats::connect(nats_url()).await.unwrap();
    let config = RelayConfig {
        poll_interval: Duration::from_millis(50),
        standby_retry: Duration::from_millis(50),
        ..RelayConfig::default()
    };
    Relay::new(pool.clone(), nats, config)
}

/// A test app without its relay (the test runs its own), and an account with its tenant id.
async fn app_without_relay(pool: &PgPool) -> (TestApp, Account, Uuid) {
    let options = Options {
        relay: false,
        ..Options::default()
    };
    let app = TestApp::spawn_with(pool.clone(), options).await;
    let acct = app.register().await;
    let tenant = Uuid::parse_str(&acct.account_id).unwrap();
    (app, acct, tenant)
}

/// How many messages the stream holds for one tenant.
async fn stored_count(tenant: Uuid) -> u64 {
    let stream = js().await.get_stream(STREAM_NAME).await.unwrap();
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::Config {
            filter_subject: tenant_subjects(tenant),
            inactive_threshold: Duration::from_secs(30),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut consumer = consumer;
    consumer.info().await.unwrap().num_pending
}

/// Waits until the stream holds at least `want` messages of the tenant; answers how many.
async fn wait_for_count(tenant: Uuid, want: u64) -> u64 {
    eventually(
        &format!("{want} messages of the tenant stored in the stream"),
        FOLLOWER_BOUND,
        async || {
            let n = stored_count(tenant).await;
            if n >= want {
                Ok(n)
            } else {
                Err(format!("{n} stored"))
            }
        },
    )
    .await
}

/// A core NATS subscriber of one tenant's subjects: how often each event id was delivered —
/// what the relay published, before JetStream's duplicate window drops repeats from the stream.
struct Deliveries(Arc<Mutex<HashMap<Uuid, usize>>>);

impl Deliveries {
    async fn subscribe(tenant: Uuid) -> Self {
        let client = async_nats::connect(nats_url()).await.unwrap();
        let mut sub = client.subscribe(tenant_subjects(tenant)).await.unwrap();
        client.flush().await.unwrap();
        let counts = Arc::new(Mutex::new(HashMap::new()));
        let out = counts.clone();
        tokio::spawn(async move {
            let _client = client;
            while let Some(msg) = sub.next().await {
                let v: Value = serde_json::from_slice(&msg.payload).unwrap();
                let id = Uuid::parse_str(v["event_id"].as_str().unwrap()).unwrap();
                *out.lock().unwrap().entry(id).or_insert(0) += 1;
            }
        });
        Self(counts)
    }

    /// Waits until `want` distinct events arrived (and a moment more for repeats), then
    /// asserts each arrived exactly once.
    async fn assert_each_once(&self, want: usize) {
        eventually(
            &format!("{want} distinct events delivered"),
            FOLLOWER_BOUND,
            async || match self.0.lock().unwrap().len() {
                n if n >= want => Ok(()),
                n => Err(format!("{n} delivered")),
            },
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let counts = self.0.lock().unwrap().clone();
        assert_eq!(counts.len(), want, "distinct events delivered");
        let repeated: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            repeated.is_empty(),
            "published more than once: {repeated:?}"
        );
    }
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn events_committed_while_the_relay_was_down_are_published_once_when_it_returns(
    pool: PgPool,
) {
    let (app, acct, tenant) = app_without_relay(&pool).await;
    app.leads(&acct.api_key)
        .create(json!({"name": "Offline", "source": "s", "email": "off@x.io"}))
        .await;
    app.leads(&acct.api_key)
        .create(json!({"name": "Offline", "source": "s", "email": "off@x.io", "city": "Rome"}))
        .await;
    let committed = app.event_count().await as u64;
    assert_eq!(committed, 4, "registered, key issued, created, merged");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        stored_count(tenant).await,
        0,
        "nothing is published while the relay is down"
    );

    let deliveries = Deliveries::subscribe(tenant).await;
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(relay(&pool).await.run(shutdown.clone()));
    assert_eq!(wait_for_count(tenant, committed).await, committed);
    deliveries.assert_each_once(committed as usize).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        stored_count(tenant).await,
        committed,
        "published exactly once"
    );
    shutdown.cancel();
    task.await.unwrap();

    let mut conn = PgConnection::connect_with(&pool.connect_options())
        .await
        .unwrap();
    assert!(
        shared::store::has_passed(&mut conn, command_service::relay::CHECKPOINT, None)
            .await
            .unwrap(),
        "the checkpoint survives in Postgres"
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_republish_after_a_crash_before_the_checkpoint_is_dropped_as_a_duplicate(pool: PgPool) {
    let (app, acct, tenant) = app_without_relay(&pool).await;
    app.leads(&acct.api_key)
        .create(json!({"name": "Crashy", "source": "s"}))
        .await;
    let mut conn = PgConnection::connect_with(&pool.connect_options())
        .await
        .unwrap();

    // The relay published the batch, then died before moving its checkpoint.
    // Another test's transaction elsewhere in the cluster can hold the tail back briefly.
    let events = eventually(
        "the 3 events visible to the tail",
        FOLLOWER_BOUND,
        async || {
            let events = tail(&mut conn, LogPosition::START, 100).await.unwrap();
            (events.len() >= 3).then_some(events)
        },
    )
    .await;
    assert_eq!(events.len(), 3);
    let first = publish_events(&js().await, &events).await.unwrap();
    assert_eq!(first.duplicates, 0);
    assert_eq!(
        load_checkpoint(&mut conn).await.unwrap().at,
        LogPosition::START
    );

    // On restart it publishes the same events again: JetStream drops every one.
    let r = relay(&pool).await;
    let report = r.step(&mut conn).await.unwrap();
    assert_eq!(report.duplicates, report.published);
    assert_eq!((report.published, report.duplicates), (3, 3));
    assert_eq!(stored_count(tenant).await, 3);
    assert_eq!(
        load_checkpoint(&mut conn).await.unwrap().at,
        events[2].log_position()
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn messages_carry_the_documented_subject_id_and_payload_in_position_order(pool: PgPool) {
    let (app, acct, tenant) = app_without_relay(&pool).await;
    let client = async_nats::connect(nats_url()).await.unwrap();
    let mut sub = client.subscribe(tenant_subjects(tenant)).await.unwrap();
    client.flush().await.unwrap();
    let (_, lead) = app
        .leads(&acct.api_key)
        .create(json!({"name": "Subj", "source": "s"}))
        .await;

    let shutdown = CancellationToken::new();
    let task = tokio::spawn(relay(&pool).await.run(shutdown.clone()));
    let mut got = Vec::new();
    while got.len() < 3 {
        let msg = tokio::time::timeout(Duration::from_secs(10), sub.next())
            .await
            .unwrap()
            .unwrap();
        got.push(msg);
    }
    shutdown.cancel();
    task.await.unwrap();

    let positions: Vec<i64> = got
        .iter()
        .map(|m| {
            serde_json::from_slice::<Value>(&m.payload).unwrap()["position"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    let last = &got[2];
    let lead_uuid = lead["id"].as_str().unwrap().trim_start_matches("cl_");
    assert_eq!(
        last.subject.as_str(),
        format!("leadstream.events.{tenant}.lead.LeadCreated")
    );
    let payload: Value = serde_json::from_slice(&last.payload).unwrap();
    assert_eq!(payload["stream_id"], lead_uuid);
    assert_eq!(payload["schema_version"], 2);
    assert_eq!(payload["payload"]["lead"]["fields"]["name"], "Subj");
    let msg_id = last
        .headers
        .as_ref()
        .unwrap()
        .get("Nats-Msg-Id")
        .unwrap()
        .as_str()
        .to_owned();
    assert_eq!(payload["event_id"], msg_id);
    assert_eq!(
        got[0].subject.as_str(),
        format!("leadstream.events.{tenant}.account.AccountRegistered")
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn only_one_replica_relays_at_a_time_and_a_standby_takes_over(pool: PgPool) {
    let mut a = PgConnection::connect_with(&pool.connect_options())
        .await
        .unwrap();
    let mut b = PgConnection::connect_with(&pool.connect_options())
        .await
        .unwrap();
    assert!(try_lead(&mut a).await.unwrap());
    assert!(
        !try_lead(&mut b).await.unwrap(),
        "the second replica stays standby"
    );
    a.close().await.unwrap();
    eventually(
        "leadership passes when the leader's connection ends",
        Duration::from_secs(1),
        async || try_lead(&mut b).await.unwrap().then_some(()),
    )
    .await;
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn two_running_relays_publish_every_event_once(pool: PgPool) {
    let (app, acct, tenant) = app_without_relay(&pool).await;
    let deliveries = Deliveries::subscribe(tenant).await;
    let shutdown = CancellationToken::new();
    let r1 = tokio::spawn(relay(&pool).await.run(shutdown.clone()));
    let r2 = tokio::spawn(relay(&pool).await.run(shutdown.clone()));
    for i in 0..20 {
        app.leads(&acct.api_key)
            .create(json!({"name": format!("L{i}"), "source": "s"}))
            .await;
    }
    let committed = app.event_count().await as u64;
    assert_eq!(wait_for_count(tenant, committed).await, committed);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stored_count(tenant).await, committed);
    deliveries.assert_each_once(committed as usize).await;
    shutdown.cancel();
    r1.await.unwrap();
    r2.await.unwrap();
}

async fn append_raw(conn: &mut PgConnection, tenant: Uuid, n: usize) -> Vec<i64> {
    let events = (0..n)
        .map(|i| shared::events::NewEvent {
            event_id: shared::ids::new_id(),
            event_type: "LeadNoted",
            schema_version: 1,
            payload: json!({ "i": i }),
            metadata: Default::default(),
        })
        .collect();
    shared::store::append(
        conn,
        &[shared::store::StreamAppend {
            tenant_id: tenant,
            stream_type: "lead",
            stream_id: Uuid::new_v4(),
            expected: shared::store::ExpectedVersion::NoStream,
            events,
        }],
    )
    .await
    .unwrap()
}

/// Issue 11: the old relay handed out events by position and skipped an event whose
/// transaction took its id before, and its position after, another's. After the upgrade the
/// relay publishes exactly the skipped ones (found in Postgres, checked against JetStream),
/// doubles nothing, and follows on from the new checkpoint.
#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_legacy_checkpoint_is_repaired_by_publishing_exactly_what_the_old_order_skipped(
    pool: PgPool,
) {
    let tenant = Uuid::new_v4();
    let mut conn = pool.acquire().await.unwrap();
    append_raw(&mut conn, tenant, 3).await;
    // The inversion: A takes its id, B appends (lower position), A appends, A commits first.
    let mut a = pool.begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *a)
        .await
        .unwrap();
    let mut b = pool.begin().await.unwrap();
    let skipped = append_raw(&mut b, tenant, 1).await[0];
    append_raw(&mut a, tenant, 2).await;
    a.commit().await.unwrap();
    b.commit().await.unwrap();
    append_raw(&mut conn, tenant, 2).await;

    // What the old relay did: everything by position except B; checkpoint at the end.
    let mut all = eventually(
        "the 8 events visible to the tail",
        FOLLOWER_BOUND,
        async || {
            let all = tail(&mut conn, LogPosition::START, 100).await.unwrap();
            (all.len() >= 8).then_some(all)
        },
    )
    .await;
    assert_eq!(all.len(), 8);
    all.sort_by_key(|e| e.position);
    let old: Vec<_> = all
        .iter()
        .filter(|e| e.position != skipped)
        .cloned()
        .collect();
    publish_events(&js().await, &old).await.unwrap();
    let last = all.last().unwrap().position;
    sqlx::query(
        "INSERT INTO checkpoints (name, position, legacy_position) VALUES ('nats-relay', $1, $1)",
    )
    .bind(last)
    .execute(&mut *conn)
    .await
    .unwrap();
    assert_eq!(stored_count(tenant).await, 7);

    let report = command_service::relay::repair(&mut conn, &js().await, last)
        .await
        .unwrap();
    assert_eq!(
        (
            report.candidates,
            report.published,
            report.already_published
        ),
        (1, 1, 0),
        "{report:?}"
    );
    assert_eq!(
        wait_for_count(tenant, 8).await,
        8,
        "the skipped event is published"
    );
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(relay(&pool).await.run(shutdown.clone()));
    append_raw(&mut conn, tenant, 1).await;
    assert_eq!(
        wait_for_count(tenant, 9).await,
        9,
        "and the relay follows on"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stored_count(tenant).await, 9, "nothing doubled");
    shutdown.cancel();
    task.await.unwrap();
    let at = load_checkpoint(&mut conn).await.unwrap();
    assert_eq!(at.legacy_position, None);
}
