//! What the dispatcher sends (SPEC §7, SPEC-CRM §3.13; issue 13): signatures checked by
//! independent verifiers (the `standardwebhooks` crate and a plain hex HMAC as Klozeo's docs
//! show), both secrets during a rotation's grace and the new one alone after it; every event
//! type with its exact data; one grouped event per batch request; `events` filters; and the
//! test event.

use hmac::{Hmac, Mac};
use leadstream_tests::receiver::{Received, Receiver};
use leadstream_tests::{Options, TestApp, FOLLOWER_BOUND};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;
use sqlx::PgPool;
use std::time::Duration;

fn headers(r: &Received) -> http::HeaderMap {
    r.headers.clone()
}

fn klozeo_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn deliveries_are_signed_as_standard_webhooks_and_as_klozeo_documents(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let rx = Receiver::start().await;
    let (_, generated) = app.webhooks(&k).subscribe(&rx.url(), json!([])).await;
    let (status, plain) = app
        .webhooks(&k)
        .create(json!({"url": rx.url(), "secret": "my-plain-secret"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{plain}");
    app.leads(&k)
        .create_id(json!({"name": "Signed", "source": "s"}))
        .await;
    let got = rx.wait_for(2, FOLLOWER_BOUND).await;
    assert_eq!(got.len(), 2);
    let mut verified = 0;
    for r in &got {
        assert_eq!(r.header("content-type"), "application/json");
        assert!(
            r.header("user-agent").starts_with("Leadstream-Webhooks/"),
            "{}",
            r.header("user-agent")
        );
        assert_eq!(
            r.json()["id"].as_str().unwrap(),
            r.id(),
            "webhook-id is the envelope id"
        );
        assert!(r.header("webhook-timestamp").parse::<i64>().is_ok());
        for secret in [generated.as_str(), "my-plain-secret"] {
            let standard = match secret.strip_prefix("whsec_") {
                Some(_) => standardwebhooks::Webhook::new(secret).unwrap(),
                None => standardwebhooks::Webhook::from_bytes(secret.as_bytes().to_vec()).unwrap(),
            };
            if standard.verify(&r.body, &headers(r)).is_ok() {
                assert_eq!(
                    r.header("x-klozeo-signature"),
                    klozeo_signature(secret, &r.body)
                );
                verified += 1;
            }
        }
    }
    assert_eq!(
        verified, 2,
        "each endpoint's delivery verifies with its own secret only"
    );
    // A tampered body fails the independent verifier.
    let r = &got[0];
    let mut tampered = r.body.to_vec();
    tampered[0] = b' ';
    let any = [generated.as_str()].iter().any(|s| {
        standardwebhooks::Webhook::new(s)
            .unwrap()
            .verify(&tampered, &headers(r))
            .is_ok()
    });
    assert!(!any);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn both_secrets_sign_during_a_rotations_grace_and_the_old_one_alone_fails_after(
    pool: PgPool,
) {
    let mut options = Options::default();
    options.webhooks.rotation_grace = Duration::from_secs(2);
    let app = TestApp::spawn_with(pool, options).await;
    let k = app.register().await.api_key;
    let rx = Receiver::start().await;
    let (id, old) = app
        .webhooks(&k)
        .subscribe(&rx.url(), json!(["lead.created"]))
        .await;
    let (status, rotated) = app.webhooks(&k).rotate(&id).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new = rotated["data"]["secret"].as_str().unwrap().to_owned();

    app.leads(&k)
        .create_id(json!({"name": "During", "source": "s"}))
        .await;
    let during = rx.wait_for(1, FOLLOWER_BOUND).await.remove(0);
    assert_eq!(during.header("webhook-signature").split(' ').count(), 2);
    for secret in [&old, &new] {
        standardwebhooks::Webhook::new(secret)
            .unwrap()
            .verify(&during.body, &headers(&during))
            .unwrap_or_else(|e| panic!("{secret} during the grace: {e:?}"));
    }
    assert_eq!(
        during.header("x-klozeo-signature"),
        klozeo_signature(&new, &during.body)
    );

    tokio::time::sleep(Duration::from_millis(2500)).await;
    app.leads(&k)
        .create_id(json!({"name": "After", "source": "s"}))
        .await;
    let after = rx.wait_for(2, FOLLOWER_BOUND).await.remove(1);
    assert_eq!(after.header("webhook-signature").split(' ').count(), 1);
    standardwebhooks::Webhook::new(&new)
        .unwrap()
        .verify(&after.body, &headers(&after))
        .unwrap();
    assert!(standardwebhooks::Webhook::new(&old)
        .unwrap()
        .verify(&after.body, &headers(&after))
        .is_err());
}

/// The one request of `event` (asserting there is exactly one).
fn one(rx: &Receiver, event: &str) -> Value {
    let got = rx.of(event);
    assert_eq!(
        got.len(),
        1,
        "{event}: {:?}",
        got.iter().map(Received::json).collect::<Vec<_>>()
    );
    got[0].json()
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn every_event_type_carries_its_exact_data(pool: PgPool) {
    // No background rescore: a rule change leaves scores to `POST /leads/{id}/score`.
    let app = TestApp::spawn_with(
        pool,
        Options {
            rescore_worker: false,
            ..Options::default()
        },
    )
    .await;
    let k = app.register().await.api_key;
    let rx = Receiver::start().await;
    app.webhooks(&k).subscribe(&rx.url(), json!([])).await;
    let rule = app
        .rule(
            &k,
            json!({"name": "rated", "expression": "rating >= 4", "weight": 10}),
        )
        .await;

    let leads = app.leads(&k);
    let (_, created) = leads
        .create(json!({"name": "Blue Bottle", "source": "maps", "email": "a@b.test", "rating": 4.5, "city": "Oakland", "tags": ["cafe"]}))
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    rx.wait_for(1, FOLLOWER_BOUND).await;
    let (_, lead) = leads.get(&id).await;
    let body = one(&rx, "lead.created");
    assert_eq!(
        body["data"], lead,
        "lead.created carries the full lead with its score"
    );
    assert!(lead["score"].as_f64().unwrap() > 0.0);
    assert!(body["timestamp"].is_i64());
    assert!(body["occurred_at"].as_str().unwrap().ends_with('Z'));
    assert!(body.get("previous").is_none());

    leads.patch(&id, json!({"city": "Berkeley"})).await;
    rx.wait_for(2, FOLLOWER_BOUND).await;
    let (_, lead) = leads.get(&id).await;
    let body = one(&rx, "lead.updated");
    assert_eq!(body["data"], lead);
    assert_eq!(body["previous"], json!({"city": "Oakland"}));

    // A merge is an update too.
    let (status, _) = leads
        .create(json!({"name": "Blue Bottle", "source": "maps", "email": "a@b.test", "phone": "+1 510 555 0100"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    rx.wait_for(3, FOLLOWER_BOUND).await;
    let merged = rx
        .of("lead.updated")
        .into_iter()
        .map(|r| r.json())
        .find(|b| b["previous"].get("phone").is_some())
        .unwrap();
    assert_eq!(merged["previous"]["phone"], Value::Null);
    assert_eq!(merged["data"]["phone"], "+1 510 555 0100");

    // The score alone changes: lead.scored.
    app.rules(&k)
        .update(rule["id"].as_str().unwrap(), json!({"weight": 20}))
        .await;
    let (status, _) = leads.rescore(&id).await;
    assert_eq!(status, StatusCode::OK);
    rx.wait_for(4, FOLLOWER_BOUND).await;
    let (_, lead) = leads.get(&id).await;
    assert_eq!(one(&rx, "lead.scored")["data"], lead);

    let notes = app.notes(&k);
    let (_, note) = notes.add(&id, json!({"content": "Called"})).await;
    let note_id = note["id"].as_str().unwrap().to_owned();
    rx.wait_for(5, FOLLOWER_BOUND).await;
    assert_eq!(one(&rx, "note.created")["data"], note);
    let (_, edited) = notes
        .edit(&note_id, json!({"content": "Called twice"}))
        .await;
    rx.wait_for(6, FOLLOWER_BOUND).await;
    let body = one(&rx, "note.updated");
    assert_eq!(body["data"], edited);
    assert_eq!(body["previous"], json!({"content": "Called"}));
    let (status, _) = app.delete(&k, &format!("/notes/{note_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    rx.wait_for(7, FOLLOWER_BOUND).await;
    assert_eq!(
        one(&rx, "note.deleted")["data"],
        edited,
        "a deleted note as it was"
    );

    let (_, before) = leads.get(&id).await;
    leads.delete(&id).await;
    rx.wait_for(8, FOLLOWER_BOUND).await;
    assert_eq!(
        one(&rx, "lead.deleted")["data"],
        before,
        "a deleted lead as it was"
    );

    // Every envelope id is distinct and is its webhook-id.
    let all = rx.received();
    let ids: std::collections::HashSet<String> = all.iter().map(Received::id).collect();
    assert_eq!(ids.len(), all.len());
}

fn ids_of(body: &Value) -> Vec<String> {
    let mut ids: Vec<String> = body["data"]["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn each_batch_request_fires_one_grouped_event(pool: PgPool) {
    let mut options = Options {
        rescore_worker: false,
        ..Options::default()
    };
    // Fan-out rounds of 3 events: a batch's transaction is still handled whole.
    options.dispatcher_config.fanout_batch = 3;
    let app = TestApp::spawn_with(pool, options).await;
    let k = app.register().await.api_key;
    let leads = app.leads(&k);
    let existing = leads
        .create_id(json!({"name": "Old", "source": "s", "email": "old@x.test"}))
        .await;
    let rx = Receiver::start().await;
    app.webhooks(&k)
        .subscribe(&rx.url(), json!(["leads.*"]))
        .await;

    let (status, batch) = leads
        .create_batch(json!([
            {"name": "A", "source": "s"},
            {"name": "B", "source": "s"},
            {"name": "C", "source": "s"},
            {"name": "Old again", "source": "s", "email": "old@x.test"},
        ]))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{batch}");
    let mut new_ids: Vec<String> = batch["created"].as_array().unwrap()[..3]
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    new_ids.sort();
    rx.wait_for(2, FOLLOWER_BOUND).await;
    let created = one(&rx, "leads.created");
    assert_eq!(ids_of(&created), new_ids);
    assert_eq!(created["data"]["count"], 3);
    let updated = one(&rx, "leads.updated");
    assert_eq!(ids_of(&updated), vec![existing.clone()]);

    let mut all = new_ids.clone();
    all.push(existing);
    all.sort();
    leads
        .update_batch(json!(all), json!({"status": "contacted"}))
        .await;
    rx.wait_for(3, FOLLOWER_BOUND).await;
    let updates = rx.of("leads.updated");
    assert_eq!(updates.len(), 2);
    let second = updates
        .iter()
        .map(Received::json)
        .find(|b| b["data"]["count"] == 4)
        .unwrap();
    assert_eq!(ids_of(&second), all);

    app.rule(
        &k,
        json!({"name": "all", "expression": "true", "weight": 5}),
    )
    .await;
    let (status, scored) = app.post(&k, "/leads/score/batch", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{scored}");
    rx.wait_for(4, FOLLOWER_BOUND).await;
    let body = one(&rx, "leads.scored");
    assert_eq!(body["data"]["count"], 4);
    let mut scored_ids: Vec<String> = body["data"]["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            assert!(l["score"].as_f64().unwrap() > 0.0, "{l}");
            l["id"].as_str().unwrap().to_owned()
        })
        .collect();
    scored_ids.sort();
    assert_eq!(scored_ids, all);

    leads.delete_batch(json!(new_ids)).await;
    rx.wait_for(5, FOLLOWER_BOUND).await;
    assert_eq!(ids_of(&one(&rx, "leads.deleted")), new_ids);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.received().len(), 5, "one delivery per request");
    assert!(rx.of("lead.created").is_empty() && rx.of("lead.updated").is_empty());
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_background_rescore_fires_leads_scored_with_every_changed_lead(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let leads: Vec<Value> = (0..30)
        .map(|i| json!({"name": format!("L{i}"), "source": "s"}))
        .collect();
    let (status, _) = app.leads(&k).create_batch(json!(leads)).await;
    assert_eq!(status, StatusCode::CREATED);
    let rx = Receiver::start().await;
    app.webhooks(&k)
        .subscribe(&rx.url(), json!(["leads.scored"]))
        .await;
    app.rule(
        &k,
        json!({"name": "all", "expression": "true", "weight": 1}),
    )
    .await;
    let scored =
        leadstream_tests::eventually("every lead in a leads.scored", FOLLOWER_BOUND, async || {
            let ids: std::collections::HashSet<String> = rx
                .received()
                .iter()
                .flat_map(|r| {
                    let body = r.json();
                    assert_eq!(
                        body["data"]["count"].as_u64().unwrap() as usize,
                        body["data"]["leads"].as_array().unwrap().len()
                    );
                    body["data"]["leads"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|l| l["id"].as_str().unwrap().to_owned())
                        .collect::<Vec<_>>()
                })
                .collect();
            if ids.len() == 30 {
                Ok(ids)
            } else {
                Err(format!("{} so far", ids.len()))
            }
        })
        .await;
    assert_eq!(scored.len(), 30);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn endpoints_receive_only_the_events_they_subscribe_to(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let (notes_rx, created_rx, all_rx) = (
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    );
    let hooks = app.webhooks(&k);
    hooks.subscribe(&notes_rx.url(), json!(["note.*"])).await;
    hooks
        .subscribe(&created_rx.url(), json!(["lead.created"]))
        .await;
    hooks.subscribe(&all_rx.url(), json!(["*"])).await;
    let id = app
        .leads(&k)
        .create_id(json!({"name": "F", "source": "s"}))
        .await;
    app.leads(&k).patch(&id, json!({"city": "Lyon"})).await;
    app.notes(&k).add(&id, json!({"content": "n"})).await;
    all_rx.wait_for(3, FOLLOWER_BOUND).await;
    notes_rx.wait_for(1, FOLLOWER_BOUND).await;
    created_rx.wait_for(1, FOLLOWER_BOUND).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let events = |rx: &Receiver| {
        let mut e: Vec<String> = rx.received().iter().map(Received::event).collect();
        e.sort();
        e
    };
    assert_eq!(events(&notes_rx), ["note.created"]);
    assert_eq!(events(&created_rx), ["lead.created"]);
    assert_eq!(
        events(&all_rx),
        ["lead.created", "lead.updated", "note.created"]
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_test_event_is_sent_now_and_answered_with_its_attempt(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let rx = Receiver::start().await;
    rx.script([leadstream_tests::receiver::Reply::status(202).body("got it")]);
    let (id, secret) = app
        .webhooks(&k)
        .subscribe(&rx.url(), json!(["note.created"]))
        .await;
    let (status, body) = app.webhooks(&k).test(&id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"];
    assert_eq!(data["success"], json!(true));
    assert_eq!(data["attempt"]["status_code"], 202);
    assert_eq!(data["attempt"]["response_body"], "got it");
    assert!(data["attempt"]["duration_ms"].is_i64());
    let got = rx.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].event(), "webhook.test");
    assert_eq!(got[0].json()["data"]["webhook_id"], json!(id));
    assert_eq!(data["event_id"].as_str().unwrap(), got[0].id());
    standardwebhooks::Webhook::new(&secret)
        .unwrap()
        .verify(&got[0].body, &headers(&got[0]))
        .unwrap();
    // A failing endpoint: the attempt says why.
    let dead = Receiver::start().await;
    dead.stop();
    let (dead_id, _) = app.webhooks(&k).subscribe(&dead.url(), json!([])).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, body) = app.webhooks(&k).test(&dead_id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["success"], json!(false));
    assert!(
        body["data"]["attempt"]["error"].as_str().unwrap().len() > 3,
        "{body}"
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_lagging_dispatcher_renders_each_event_as_of_its_own_version(pool: PgPool) {
    // The dispatcher starts only after 40 updates: the lead's snapshots are newer than most
    // of the events it then renders.
    let app = TestApp::spawn_with(
        pool.clone(),
        Options {
            dispatcher: false,
            ..Options::default()
        },
    )
    .await;
    let k = app.register().await.api_key;
    let rx = Receiver::start().await;
    app.webhooks(&k)
        .subscribe(&rx.url(), json!(["lead.updated"]))
        .await;
    let id = app
        .leads(&k)
        .create_id(json!({"name": "Hist", "source": "s", "city": "c0"}))
        .await;
    for i in 1..=40 {
        let (status, _) = app
            .leads(&k)
            .patch(&id, json!({"city": format!("c{i}")}))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let snapshot: i64 = sqlx::query_scalar("SELECT stream_version FROM snapshots")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        snapshot > 16,
        "a snapshot newer than the first updates exists ({snapshot})"
    );
    let stop = tokio_util::sync::CancellationToken::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    // Rounds of 5 events: most rounds start in the middle of the lead's stream.
    let mut config = Options::default().dispatcher_config;
    config.fanout_batch = 5;
    let dispatcher = tokio::spawn(webhook_dispatcher::run(
        leadstream_tests::wide_pool(&pool, 6).await,
        config,
        listener,
        stop.clone(),
    ));
    let got = rx.wait_for(40, FOLLOWER_BOUND).await;
    let mut seen: Vec<(String, String)> = got
        .iter()
        .map(|r| {
            let b = r.json();
            (
                b["data"]["city"].as_str().unwrap().to_owned(),
                b["previous"]["city"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort_by_key(|(city, _)| city[1..].parse::<u32>().unwrap());
    for (i, (city, previous)) in seen.iter().enumerate() {
        assert_eq!(
            (city.as_str(), previous.as_str()),
            (&*format!("c{}", i + 1), &*format!("c{i}"))
        );
    }
    stop.cancel();
    dispatcher.await.unwrap().unwrap();
}
