//! Delivery on a compressed schedule (issue 13): failures retried under the same `webhook-id`,
//! timeouts, `Retry-After`, `410 Gone` and long failure disabling the endpoint (an event with
//! its reason), exhaustion, manual replay and recover, and the delivery log that shows it all.

use leadstream_tests::receiver::{Received, Receiver, Reply};
use leadstream_tests::{eventually, Account, Options, TestApp, FOLLOWER_BOUND};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::Duration;

/// A test app whose dispatcher retries on `schedule` (e.g. "100ms,100ms").
async fn app_with(
    pool: PgPool,
    schedule: &str,
    tune: impl FnOnce(&mut Options),
) -> (TestApp, Account) {
    let mut options = Options::default();
    options.dispatcher_config.delivery.schedule = schedule.parse().unwrap();
    tune(&mut options);
    let app = TestApp::spawn_with(pool, options).await;
    let account = app.register().await;
    (app, account)
}

/// The endpoint's deliveries, newest first.
async fn deliveries(app: &TestApp, key: &str, id: &str) -> Vec<Value> {
    let (status, body) = app.webhooks(key).deliveries(id, "per_page=100").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().clone()
}

async fn settled(app: &TestApp, key: &str, id: &str, status: &str, n: usize) -> Vec<Value> {
    eventually(
        &format!("{n} deliveries {status}"),
        FOLLOWER_BOUND,
        async || {
            let all = deliveries(app, key, id).await;
            let done = all.iter().filter(|d| d["status"] == status).count();
            if done == n {
                Ok(all)
            } else {
                Err(format!("{all:?}"))
            }
        },
    )
    .await
}

/// The endpoint once the dispatcher has disabled it.
async fn disabled(app: &TestApp, key: &str, id: &str) -> Value {
    eventually("the endpoint disabled", FOLLOWER_BOUND, async || {
        let (_, hook) = app.webhooks(key).get(id).await;
        if hook["data"]["active"] == json!(false) {
            Ok(hook)
        } else {
            Err(hook.to_string())
        }
    })
    .await
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn failures_are_retried_under_the_same_webhook_id_and_logged(pool: PgPool) {
    let (app, a) = app_with(pool, "100ms,100ms,100ms", |_| {}).await;
    let k = &a.api_key;
    let rx = Receiver::start().await;
    rx.script([
        Reply::status(500).body("boom"),
        Reply::status(500),
        Reply::ok().body("thanks"),
    ]);
    let (id, _) = app.webhooks(k).subscribe(&rx.url(), json!([])).await;
    app.leads(k)
        .create_id(json!({"name": "Retry", "source": "s"}))
        .await;
    let got = rx.wait_for(3, FOLLOWER_BOUND).await;
    assert_eq!(got.len(), 3);
    assert!(
        got.iter().all(|r| r.id() == got[0].id()),
        "one webhook-id across retries"
    );
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "the same body every time"
    );
    let all = settled(&app, k, &id, "succeeded", 1).await;
    let d = &all[0];
    assert_eq!(d["attempts"], 3);
    assert_eq!(d["last_status_code"], 200);
    assert_eq!(d["event"], "lead.created");
    assert_eq!(d["event_id"].as_str().unwrap(), got[0].id());
    assert_eq!(d["next_attempt_at"], Value::Null);
    let (status, detail) = app
        .webhooks(k)
        .delivery(&id, d["id"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    let detail = &detail["data"];
    assert_eq!(
        detail["body"].as_str().unwrap().as_bytes(),
        &got[0].body[..],
        "the exact body sent"
    );
    let log = detail["attempt_log"].as_array().unwrap();
    let codes: Vec<i64> = log
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [500, 500, 200]);
    assert_eq!(log[0]["response_body"], "boom");
    assert_eq!(log[0]["error"], "answered HTTP 500");
    assert!(log
        .iter()
        .all(|a| a["duration_ms"].is_i64() && a["at"].is_string()));
    let (_, hook) = app.webhooks(k).get(&id).await;
    assert!(hook["data"]["last_success_at"].is_string());
    assert_eq!(hook["data"]["failing_since"], Value::Null);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn an_answer_slower_than_the_timeout_is_a_failure_and_retried(pool: PgPool) {
    let (app, a) = app_with(pool, "100ms", |o| {
        o.dispatcher_config.delivery.timeout = Duration::from_millis(300);
    })
    .await;
    let k = &a.api_key;
    let rx = Receiver::start().await;
    rx.script([Reply::ok().after(Duration::from_secs(2))]);
    let (id, _) = app.webhooks(k).subscribe(&rx.url(), json!([])).await;
    app.leads(k)
        .create_id(json!({"name": "Slow", "source": "s"}))
        .await;
    let all = settled(&app, k, &id, "succeeded", 1).await;
    let (_, detail) = app
        .webhooks(k)
        .delivery(&id, all[0]["id"].as_str().unwrap())
        .await;
    let log = detail["data"]["attempt_log"].as_array().unwrap().clone();
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(
        log[0]["error"].as_str().unwrap().contains("timed out"),
        "{log:?}"
    );
    assert!(log[0]["duration_ms"].as_i64().unwrap() < 1500);
    assert_eq!(log[1]["status_code"], 200);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn retry_after_on_429_is_honoured(pool: PgPool) {
    let (app, a) = app_with(pool, "50ms,50ms", |_| {}).await;
    let k = &a.api_key;
    let rx = Receiver::start().await;
    rx.script([Reply::status(429).with_header("retry-after", "2")]);
    app.webhooks(k).subscribe(&rx.url(), json!([])).await;
    app.leads(k)
        .create_id(json!({"name": "Busy", "source": "s"}))
        .await;
    let got: Vec<Received> = rx.wait_for(2, FOLLOWER_BOUND).await;
    let gap = got[1].at - got[0].at;
    assert!(
        gap >= Duration::from_millis(1900),
        "retried after {gap:?}, not Retry-After's 2 s"
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn gone_disables_the_endpoint_at_once_until_it_is_enabled_again(pool: PgPool) {
    let (app, a) = app_with(pool, "100ms,100ms", |_| {}).await;
    let k = &a.api_key;
    let rx = Receiver::start().await;
    rx.script([Reply::status(410)]);
    let (id, _) = app.webhooks(k).subscribe(&rx.url(), json!([])).await;
    let leads = app.leads(k);
    leads
        .create_id(json!({"name": "Gone", "source": "s"}))
        .await;
    let hook = disabled(&app, k, &id).await;
    assert!(
        hook["data"]["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("410"),
        "{hook}"
    );
    let events = app.events_of("webhook").await;
    let (kind, payload) = events.last().unwrap();
    assert_eq!(kind, "WebhookDisabled");
    assert!(payload["reason"].as_str().unwrap().contains("410"));
    let all = settled(&app, k, &id, "exhausted", 1).await;
    assert_eq!(all[0]["attempts"], 1, "no retry after a 410");

    // Nothing is sent while it is off; after re-enabling, new events flow.
    leads
        .create_id(json!({"name": "While off", "source": "s"}))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.received().len(), 1);
    let (status, body) = app.webhooks(k).patch(&id, json!({"active": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["disabled_reason"], Value::Null);
    leads
        .create_id(json!({"name": "Back", "source": "s"}))
        .await;
    let got = rx.wait_for(2, FOLLOWER_BOUND).await;
    assert_eq!(got[1].json()["data"]["name"], "Back");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn an_endpoint_failing_for_longer_than_the_limit_is_disabled(pool: PgPool) {
    let (app, a) = app_with(pool, &["100ms"; 30].join(","), |o| {
        o.dispatcher_config.delivery.disable_after = Duration::from_millis(700);
    })
    .await;
    let k = &a.api_key;
    let rx = Receiver::start().await;
    rx.answer_by_default(Reply::status(503));
    let (id, _) = app.webhooks(k).subscribe(&rx.url(), json!([])).await;
    app.leads(k)
        .create_id(json!({"name": "Down", "source": "s"}))
        .await;
    let hook = disabled(&app, k, &id).await;
    let data = &hook["data"];
    assert!(data["failing_since"].is_string());
    assert!(
        data["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("failed since"),
        "{data}"
    );
    assert!(
        rx.received().len() >= 3,
        "it was retried before it was disabled"
    );
    let (kind, _) = app.events_of("webhook").await.pop().unwrap();
    assert_eq!(kind, "WebhookDisabled");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn exhausted_deliveries_are_replayed_and_recovered_by_hand(pool: PgPool) {
    let (app, a) = app_with(pool, "50ms,50ms", |_| {}).await;
    let k = &a.api_key;
    let rx = Receiver::start().await;
    rx.answer_by_default(Reply::status(500));
    let (id, _) = app.webhooks(k).subscribe(&rx.url(), json!([])).await;
    let leads = app.leads(k);
    for i in 0..4 {
        leads
            .create_id(json!({"name": format!("E{i}"), "source": "s"}))
            .await;
    }
    let all = settled(&app, k, &id, "exhausted", 4).await;
    assert!(all
        .iter()
        .all(|d| d["attempts"] == 3 && d["last_status_code"] == 500));
    assert_eq!(rx.received().len(), 12);

    rx.answer_by_default(Reply::ok());
    let first = all[0]["id"].as_str().unwrap();
    let (status, replayed) = app.webhooks(k).replay(&id, first).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{replayed}");
    assert_eq!(replayed["data"]["status"], "pending");
    let after = settled(&app, k, &id, "succeeded", 1).await;
    let done = after.iter().find(|d| d["id"] == json!(first)).unwrap();
    assert_eq!(done["attempts"], 4);
    let got = rx.received();
    assert_eq!(
        got[12].id(),
        all[0]["event_id"].as_str().unwrap(),
        "a replay keeps the webhook-id"
    );

    let (status, body) = app.webhooks(k).recover(&id, json!({"since": 0})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["data"]["count"], 3);
    settled(&app, k, &id, "succeeded", 4).await;
    assert_eq!(rx.received().len(), 16);
    // Filters of the log.
    let (_, page) = app.webhooks(k).deliveries(&id, "status=exhausted").await;
    assert_eq!(page["meta"]["total"], 0);
    let (_, page) = app
        .webhooks(k)
        .deliveries(&id, "status=succeeded&event=lead.created")
        .await;
    assert_eq!(page["meta"]["total"], 4);
    let (_, page) = app.webhooks(k).deliveries(&id, "event=note.created").await;
    assert_eq!(page["data"], json!([]));
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn the_delivery_log_pages_newest_first(pool: PgPool) {
    let (app, a) = app_with(pool, "100ms", |_| {}).await;
    let k = &a.api_key;
    let rx = Receiver::start().await;
    let (id, _) = app.webhooks(k).subscribe(&rx.url(), json!([])).await;
    let mut names = Vec::new();
    for i in 0..5 {
        let name = format!("P{i}");
        app.leads(k)
            .create_id(json!({"name": name, "source": "s"}))
            .await;
        names.push(name);
    }
    settled(&app, k, &id, "succeeded", 5).await;
    let mut seen = Vec::new();
    let mut query = "per_page=2".to_owned();
    loop {
        let (status, page) = app.webhooks(k).deliveries(&id, &query).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["meta"]["total"], 5);
        assert_eq!(page["meta"]["per_page"], 2);
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_str().unwrap().to_owned()),
        );
        match page["meta"]["next_cursor"].as_str() {
            Some(cursor) => {
                assert_eq!(page["meta"]["has_more"], true);
                query = format!("per_page=2&cursor={cursor}");
            }
            None => {
                assert_eq!(page["meta"]["has_more"], false);
                break;
            }
        }
    }
    assert_eq!(seen.len(), 5);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(seen, sorted, "newest first");
    // A cursor is bound to its filters.
    let (_, page) = app.webhooks(k).deliveries(&id, "per_page=2").await;
    let cursor = page["meta"]["next_cursor"].as_str().unwrap();
    let (status, body) = app
        .webhooks(k)
        .deliveries(&id, &format!("per_page=2&status=failed&cursor={cursor}"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn deleting_an_endpoint_cancels_its_pending_deliveries(pool: PgPool) {
    let (app, a) = app_with(pool, "2s,2s", |_| {}).await;
    let k = &a.api_key;
    let rx = Receiver::start().await;
    rx.answer_by_default(Reply::status(500));
    let (id, _) = app.webhooks(k).subscribe(&rx.url(), json!([])).await;
    app.leads(k)
        .create_id(json!({"name": "Cancel", "source": "s"}))
        .await;
    settled(&app, k, &id, "failed", 1).await;
    let (status, _) = app.webhooks(k).delete(&id).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT status FROM webhook_deliveries WHERE webhook_id = $1::uuid")
            .bind(&id)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(statuses, ["cancelled"]);
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert_eq!(rx.received().len(), 1, "no retry after the delete");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn retention_removes_old_finished_deliveries_and_keeps_unfinished_ones(pool: PgPool) {
    let (app, a) = app_with(pool, "1h", |_| {}).await;
    let k = &a.api_key;
    let rx = Receiver::start().await;
    rx.script([Reply::ok(), Reply::status(500)]);
    let (id, _) = app
        .webhooks(k)
        .subscribe(&rx.url(), json!(["lead.created"]))
        .await;
    app.leads(k)
        .create_id(json!({"name": "Old", "source": "s"}))
        .await;
    settled(&app, k, &id, "succeeded", 1).await;
    app.leads(k)
        .create_id(json!({"name": "Failing", "source": "s"}))
        .await;
    settled(&app, k, &id, "failed", 1).await;
    // Both a month old.
    sqlx::raw_sql(
        "UPDATE webhook_deliveries SET created_at = now() - interval '31 days';
         UPDATE webhook_messages SET created_at = now() - interval '31 days'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let removed = webhook_dispatcher::retention::clean(&app.pool, Duration::from_secs(30 * 86_400))
        .await
        .unwrap();
    assert_eq!(removed, 1);
    let left: Vec<String> = sqlx::query_scalar("SELECT status FROM webhook_deliveries")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, ["failed"], "the failing one is kept whatever its age");
    let (attempts, messages): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM webhook_attempts), (SELECT count(*) FROM webhook_messages)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (attempts, messages),
        (1, 1),
        "the removed delivery's attempt and message went with it"
    );
}
