//! Webhooks survive what goes wrong (issue 13): a receiver down for a while, the dispatcher
//! process killed with SIGKILL mid-storm, NATS stopped, two dispatcher replicas at once (no
//! duplicates), concurrent writers pausing inside their transactions (every acknowledged
//! write delivered exactly once), a hanging endpoint beside a healthy one, and the SSRF guard
//! at connect time.

use leadstream_tests::receiver::{Received, Receiver, Reply};
use leadstream_tests::{
    database_url, eventually, pause_inside_transactions, wide_pool, workspace_binary, Options,
    TestApp, FOLLOWER_BOUND,
};
use serde_json::json;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Received requests grouped by `webhook-id`.
fn by_id(got: &[Received]) -> HashMap<String, Vec<&Received>> {
    let mut out: HashMap<String, Vec<&Received>> = HashMap::new();
    for r in got {
        out.entry(r.id()).or_default().push(r);
    }
    out
}

/// The lead ids of the `lead.created` requests received.
fn created_ids(got: &[Received]) -> HashSet<String> {
    got.iter()
        .filter(|r| r.event() == "lead.created")
        .map(|r| r.json()["data"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Creates `per_writer` leads from each of `writers` concurrent writers; answers their ids.
async fn create_many(
    app: &Arc<TestApp>,
    key: &str,
    writers: usize,
    per_writer: usize,
) -> HashSet<String> {
    let ids = Arc::new(Mutex::new(HashSet::new()));
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let (app, ids, key) = (app.clone(), ids.clone(), key.to_owned());
            tokio::spawn(async move {
                for i in 0..per_writer {
                    let body = json!({"name": format!("W{w}-{i}"), "source": "storm"});
                    let id = app.leads(&key).create_id(body).await;
                    ids.lock().unwrap().insert(id);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let out = ids.lock().unwrap().clone();
    out
}

/// Every duplicate delivery carries the same `webhook-id` and the same body.
fn duplicates_are_identical(got: &[Received]) -> usize {
    let mut extra = 0;
    for copies in by_id(got).values() {
        assert!(
            copies.iter().all(|r| r.body == copies[0].body),
            "one webhook-id, two bodies"
        );
        extra += copies.len() - 1;
    }
    extra
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn events_sent_while_the_receiver_was_down_all_arrive_when_it_is_back(pool: PgPool) {
    let mut options = Options::default();
    options.dispatcher_config.delivery.schedule = ["200ms"; 40].join(",").parse().unwrap();
    let app = TestApp::spawn_with(pool, options).await;
    let k = app.register().await.api_key;
    let rx = Receiver::start().await;
    app.webhooks(&k)
        .subscribe(&rx.url(), json!(["lead.created"]))
        .await;
    rx.stop();
    let mut ids = HashSet::new();
    for i in 0..40 {
        ids.insert(
            app.leads(&k)
                .create_id(json!({"name": format!("D{i}"), "source": "s"}))
                .await,
        );
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(rx.received().is_empty());
    let rx = rx.restart().await;
    let got = rx.wait_for_distinct(40, FOLLOWER_BOUND).await;
    assert_eq!(created_ids(&got), ids);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_dispatcher_killed_mid_storm_delivers_everything_after_a_restart(pool: PgPool) {
    let app = Arc::new(
        TestApp::spawn_with(
            pool.clone(),
            Options {
                dispatcher: false,
                ..Options::default()
            },
        )
        .await,
    );
    let k = app.register().await.api_key;
    let rx = Receiver::start().await;
    rx.answer_by_default(Reply::ok().after(Duration::from_millis(15)));
    app.webhooks(&k)
        .subscribe(&rx.url(), json!(["lead.created"]))
        .await;
    let ids = create_many(&app, &k, 4, 50).await;

    let spawn = || {
        tokio::process::Command::new(workspace_binary("webhook-dispatcher"))
            .env("DATABASE_URL", database_url(&pool))
            .env("DISPATCHER_LISTEN", "127.0.0.1:0")
            .env("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
            .env("WEBHOOK_TIMEOUT", "1s")
            .env("WEBHOOK_RETRY_SCHEDULE", "200ms,200ms,200ms")
            .env("RUST_LOG", "warn")
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    };
    let mut first = spawn();
    rx.wait_for(30, FOLLOWER_BOUND).await;
    first.kill().await.unwrap(); // SIGKILL, mid-storm
    let at_kill = rx.received().len();
    assert!(
        at_kill < 200,
        "the storm was over before the kill ({at_kill})"
    );
    let _second = spawn();
    let got = rx.wait_for_distinct(200, FOLLOWER_BOUND).await;
    assert_eq!(
        created_ids(&got),
        ids,
        "every event delivered at least once"
    );
    let extra = duplicates_are_identical(&got);
    println!("killed after {at_kill} receipts; {extra} duplicates, each under its webhook-id");
}

/// A private NATS server for a test that stops it.
struct PrivateNats {
    child: std::process::Child,
    url: String,
    _dir: std::path::PathBuf,
}

impl PrivateNats {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("leadstream-nats-{port}"));
        let bin = [
            "/usr/sbin/nats-server",
            "/usr/bin/nats-server",
            "/usr/local/bin/nats-server",
        ]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("nats-server");
        let child = std::process::Command::new(bin)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nats-server (the machine's NATS) must be installed");
        let url = format!("nats://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the private nats-server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            url,
            _dir: dir,
        }
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn webhooks_keep_flowing_while_nats_is_down(pool: PgPool) {
    let mut nats = PrivateNats::start();
    let options = Options {
        nats_url: Some(nats.url.clone()),
        ..Options::default()
    };
    let app = Arc::new(TestApp::spawn_with(pool, options).await);
    let k = app.register().await.api_key;
    let rx = Receiver::start().await;
    app.webhooks(&k)
        .subscribe(&rx.url(), json!(["lead.created"]))
        .await;
    let mut ids = create_many(&app, &k, 2, 15).await;
    nats.child.kill().unwrap();
    nats.child.wait().unwrap();
    ids.extend(create_many(&app, &k, 2, 15).await);
    let got = rx.wait_for_distinct(60, FOLLOWER_BOUND).await;
    assert_eq!(created_ids(&got), ids);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn two_replicas_share_the_work_without_sending_anything_twice(pool: PgPool) {
    // Writers pause inside their transactions, so commits overlap at the worst points.
    pause_inside_transactions(&pool, 0.01).await;
    let big = wide_pool(&pool, 24).await;
    let app = Arc::new(TestApp::spawn(big.clone()).await);
    let k = app.register().await.api_key;
    let rx = Receiver::start().await;
    rx.answer_by_default(Reply::ok().after(Duration::from_millis(2)));
    app.webhooks(&k).subscribe(&rx.url(), json!([])).await;
    // A second dispatcher beside the test app's own.
    let stop = CancellationToken::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let replica = tokio::spawn(webhook_dispatcher::run(
        wide_pool(&pool, 6).await,
        Options::default().dispatcher_config,
        listener,
        stop.clone(),
    ));

    // Concurrent writers: creates, then an update and a note on each lead they made.
    let acked = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let (app, k, acked) = (app.clone(), k.clone(), acked.clone());
            tokio::spawn(async move {
                for i in 0..12 {
                    let id = app
                        .leads(&k)
                        .create_id(json!({"name": format!("R{w}-{i}"), "source": "s"}))
                        .await;
                    acked
                        .lock()
                        .unwrap()
                        .push(("lead.created", id.clone(), String::new()));
                    let city = format!("C{w}-{i}");
                    let (status, _) = app.leads(&k).patch(&id, json!({"city": city})).await;
                    assert_eq!(status.as_u16(), 200);
                    acked
                        .lock()
                        .unwrap()
                        .push(("lead.updated", id.clone(), city));
                    let (status, note) = app.notes(&k).add(&id, json!({"content": "n"})).await;
                    assert_eq!(status.as_u16(), 201);
                    acked.lock().unwrap().push((
                        "note.created",
                        note["id"].as_str().unwrap().to_owned(),
                        String::new(),
                    ));
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let got = rx.wait_for(acked.len(), FOLLOWER_BOUND).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = if rx.received().len() > got.len() {
        rx.received()
    } else {
        got
    };
    // Every acknowledged write exactly once, and nothing else.
    assert_eq!(
        got.len(),
        acked.len(),
        "deliveries received vs writes acknowledged"
    );
    assert_eq!(by_id(&got).len(), got.len(), "no webhook-id arrived twice");
    for (event, id, city) in &acked {
        let matching = got
            .iter()
            .filter(|r| {
                let b = r.json();
                r.event() == *event
                    && b["data"]["id"] == json!(id)
                    && (city.is_empty() || b["data"]["city"] == json!(city))
            })
            .count();
        assert_eq!(matching, 1, "{event} {id} {city}");
    }
    stop.cancel();
    replica.await.unwrap().unwrap();
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_hanging_endpoint_does_not_hold_back_another(pool: PgPool) {
    let mut options = Options::default();
    options.dispatcher_config.delivery.timeout = Duration::from_secs(5);
    let app = Arc::new(TestApp::spawn_with(pool, options).await);
    let k = app.register().await.api_key;
    let (stuck, healthy) = (Receiver::start().await, Receiver::start().await);
    stuck.answer_by_default(Reply::ok().after(Duration::from_secs(4)));
    app.webhooks(&k).subscribe(&stuck.url(), json!([])).await;
    app.webhooks(&k).subscribe(&healthy.url(), json!([])).await;
    let started = Instant::now();
    create_many(&app, &k, 4, 25).await;
    let got = healthy.wait_for(100, FOLLOWER_BOUND).await;
    let last = got.iter().map(|r| r.at).max().unwrap() - started;
    // The stuck endpoint holds at most its own 8 attempts in flight; the healthy one is not
    // behind it (were it, 100 deliveries would wait out 13 rounds of 4 s).
    assert!(
        stuck.most_at_once() <= 8,
        "in flight at the stuck endpoint: {}",
        stuck.most_at_once()
    );
    assert!(
        healthy.most_at_once() <= 8,
        "in flight at the healthy endpoint: {}",
        healthy.most_at_once()
    );
    assert!(
        last < Duration::from_secs(15),
        "the healthy endpoint's last delivery came {last:?} after the first write"
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn the_guard_refuses_internal_addresses_at_connect_time(pool: PgPool) {
    // command-service allows loopback (the URL passes at POST); the dispatcher does not.
    let mut options = Options::default();
    options.dispatcher_config.delivery.networks = Arc::new(Default::default());
    options.dispatcher_config.delivery.schedule = "50ms".parse().unwrap();
    let app = TestApp::spawn_with(pool, options).await;
    let k = app.register().await.api_key;
    let rx = Receiver::start().await;
    let by_name = format!("http://localhost:{}/hook", rx.addr.port());
    let (named, _) = app.webhooks(&k).subscribe(&by_name, json!([])).await;
    let (literal, _) = app.webhooks(&k).subscribe(&rx.url(), json!([])).await;
    app.leads(&k)
        .create_id(json!({"name": "Inside", "source": "s"}))
        .await;
    for id in [named, literal] {
        let errors = eventually("refused attempts", FOLLOWER_BOUND, async || {
            let (_, page) = app.webhooks(&k).deliveries(&id, "").await;
            let d = page["data"][0].clone();
            if d["status"] == "exhausted" {
                Ok(d)
            } else {
                Err(page.to_string())
            }
        })
        .await;
        let error = errors["last_error"].as_str().unwrap();
        assert!(error.contains("loopback"), "{error}");
    }
    assert!(
        rx.received().is_empty(),
        "nothing reached the internal address"
    );
}
