//! The webhook endpoints (SPEC §3, §7; issue 13): create (the secret shown once, generated
//! `whsec_` when none is given), list, read with delivery health, update, re-enable, delete,
//! rotate; endpoint changes are events on the `webhook` stream that never carry the secret;
//! another account's id is 404 on every route; every bad input is a 400 that writes nothing.

use leadstream_tests::{assert_error, Options, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn endpoints_are_created_listed_updated_and_deleted(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let hooks = app.webhooks(&k);

    let (status, created) = hooks
        .create(json!({"url": "http://127.0.0.1:9/hook", "events": ["lead.created", "note.*"], "description": "CRM sync"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    let secret = created["secret"].as_str().unwrap();
    let key = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        secret.strip_prefix("whsec_").unwrap(),
    )
    .unwrap();
    assert_eq!(key.len(), 24, "a generated secret carries 24 random bytes");
    assert_eq!(created["events"], json!(["lead.created", "note.*"]));
    assert_eq!(created["active"], json!(true));
    let created_at = created["created_at"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(created_at).is_ok() && created_at.ends_with('Z'));

    // The secret is never shown again.
    let (status, list) = hooks.list().await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(secret));
    let (status, one) = hooks.get(&id).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    let one = &one["data"];
    assert!(one.get("secret").is_none());
    for key in ["last_success_at", "failing_since", "disabled_reason"] {
        assert_eq!(one[key], Value::Null, "{key}");
    }

    // A given secret is kept as given; an empty `events` means every event.
    let (_, given) = hooks
        .create(json!({"url": "http://127.0.0.1:9/other", "secret": "my-plain-secret"}))
        .await;
    assert_eq!(given["secret"], "my-plain-secret");
    assert_eq!(given["events"], json!([]));

    let (status, patched) = hooks
        .patch(
            &id,
            json!({"events": [], "active": false, "description": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["data"]["active"], json!(false));
    assert_eq!(patched["data"]["events"], json!([]));
    assert_eq!(patched["data"]["description"], Value::Null);
    let (_, patched) = hooks.patch(&id, json!({"active": true})).await;
    assert_eq!(patched["data"]["active"], json!(true));

    let (status, rotated) = hooks.rotate(&id).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_secret = rotated["data"]["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);

    let (status, body) = hooks.delete(&id).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, body) = hooks.get(&id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
    let (_, list) = hooks.list().await;
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 1);

    // History: every change an event, none carrying a secret.
    let events = app.events_of("webhook").await;
    let types: Vec<&str> = events.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "WebhookCreated",
            "WebhookCreated",
            "WebhookUpdated",
            "WebhookUpdated",
            "WebhookSecretRotated",
            "WebhookDeleted"
        ]
    );
    let all = serde_json::to_string(&events).unwrap();
    for s in [secret, new_secret, "my-plain-secret"] {
        assert!(!all.contains(s), "an event carries a secret");
    }
    assert!(events[0].1["secret_id"].is_string());
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn another_accounts_endpoint_is_404_on_every_route(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.register().await.api_key;
    let other = app.register().await.api_key;
    let (id, _) = app
        .webhooks(&owner)
        .subscribe("http://127.0.0.1:9/h", json!([]))
        .await;
    let d = uuid::Uuid::nil();
    let them = app.webhooks(&other);
    let answers = [
        them.get(&id).await,
        them.patch(&id, json!({"active": false})).await,
        them.rotate(&id).await,
        them.test(&id).await,
        them.deliveries(&id, "").await,
        them.delivery(&id, &d.to_string()).await,
        them.replay(&id, &d.to_string()).await,
        them.recover(&id, json!({"since": 0})).await,
        them.delete(&id).await,
        // Malformed ids are 404 too.
        them.get("nope").await,
        them.delete("nope").await,
    ];
    for (i, (status, body)) in answers.iter().enumerate() {
        assert_eq!(*status, StatusCode::NOT_FOUND, "route {i}: {body}");
        assert_error(body, "not_found");
    }
    let (_, list) = them.list().await;
    assert_eq!(list, json!({"webhooks": []}));
    let (status, _) = app.webhooks(&owner).get(&id).await;
    assert_eq!(status, StatusCode::OK, "the owner's endpoint is untouched");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn every_bad_input_is_a_400_that_writes_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let hooks = app.webhooks(&k);
    let (id, _) = hooks.subscribe("http://127.0.0.1:9/h", json!([])).await;
    let before = app.event_count().await;
    let long_url = format!("http://127.0.0.1:9/{}", "a".repeat(2048));
    let creates = [
        json!({}),
        json!({"url": null}),
        json!({"url": 42}),
        json!({"url": ""}),
        json!({"url": "not a url"}),
        json!({"url": "/relative/path"}),
        json!({"url": "ftp://127.0.0.1/h"}),
        json!({"url": "javascript:alert(1)"}),
        json!({"url": "http://127.0.0.1:9/\u{0}"}),
        json!({"url": long_url}),
        json!({"url": "http://127.0.0.1:9/h", "events": "lead.created"}),
        json!({"url": "http://127.0.0.1:9/h", "events": [7]}),
        json!({"url": "http://127.0.0.1:9/h", "events": ["lead.exploded"]}),
        json!({"url": "http://127.0.0.1:9/h", "events": ["deal.*"]}),
        json!({"url": "http://127.0.0.1:9/h", "events": ["lead.\u{0}"]}),
        json!({"url": "http://127.0.0.1:9/h", "events": ["🦀.*"]}),
        json!({"url": "http://127.0.0.1:9/h", "secret": ""}),
        json!({"url": "http://127.0.0.1:9/h", "secret": 5}),
        json!({"url": "http://127.0.0.1:9/h", "secret": "whsec_%%%"}),
        json!({"url": "http://127.0.0.1:9/h", "secret": "s\u{0}"}),
        json!({"url": "http://127.0.0.1:9/h", "secret": "x".repeat(257)}),
        json!({"url": "http://127.0.0.1:9/h", "description": "表".repeat(1001)}),
        json!({"url": "http://127.0.0.1:9/h", "description": "🦀".repeat(1001)}),
        json!({"url": "http://127.0.0.1:9/h", "description": ["x"]}),
        json!(["http://127.0.0.1:9/h"]),
    ];
    for body in creates {
        let (status, answer) = hooks.create(body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_error(&answer, "bad_request");
    }
    // The message of an unknown event lists the valid names.
    let (_, answer) = hooks
        .create(json!({"url": "http://127.0.0.1:9/h", "events": ["lead.exploded"]}))
        .await;
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("lead.created") && message.contains("note.deleted"),
        "{message}"
    );
    // The longest accepted values are stored whole.
    let (status, ok) = hooks
        .create(json!({"url": "http://127.0.0.1:9/h", "secret": "😀".repeat(64), "description": "表".repeat(1000)}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ok}");
    let accepted = app.event_count().await;
    assert_eq!(accepted, before + 1);

    for body in [
        json!({"url": "gopher://127.0.0.1/h"}),
        json!({"url": null}),
        json!({"active": "yes"}),
        json!({"events": ["nope"]}),
        json!({"description": 3}),
        json!("active"),
    ] {
        let (status, answer) = hooks.patch(&id, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_error(&answer, "bad_request");
    }
    for body in [
        json!({}),
        json!({"since": "yesterday"}),
        json!({"since": -1}),
        json!({"since": 1.5}),
    ] {
        let (status, answer) = hooks.recover(&id, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_error(&answer, "bad_request");
    }
    for query in [
        "status=lost",
        "event=lead.exploded",
        "per_page=many",
        "colour=red",
    ] {
        let (status, answer) = hooks.deliveries(&id, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {answer}");
        assert_error(&answer, "bad_request");
    }
    let (status, answer) = hooks.deliveries(&id, "cursor=forged.cursor").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_error(&answer, "invalid_cursor");
    assert_eq!(app.event_count().await, accepted, "bad input wrote nothing");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn internal_addresses_are_refused_at_create_unless_allowed(pool: PgPool) {
    // The production default: no internal network allowed.
    let app = TestApp::spawn_with(
        pool,
        Options {
            webhooks: Default::default(),
            ..Options::default()
        },
    )
    .await;
    let k = app.register().await.api_key;
    let hooks = app.webhooks(&k);
    let before = app.event_count().await;
    for (url, why) in [
        ("http://127.0.0.1:8080/h", "loopback"),
        ("http://localhost:8080/h", "loopback"),
        ("http://[::1]/h", "loopback"),
        ("http://10.0.0.5/h", "private"),
        ("http://172.16.3.4/h", "private"),
        ("http://192.168.1.1/h", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://100.64.1.1/h", "carrier-grade NAT"),
        ("http://[fd00::1]/h", "unique-local"),
        ("http://[fe80::1]/h", "link-local"),
        ("http://[::ffff:127.0.0.1]/h", "loopback"),
        ("http://[::ffff:169.254.169.254]/h", "link-local"),
        ("http://224.0.0.1/h", "multicast"),
        ("http://0.0.0.0/h", "unspecified"),
        ("http://[::]/h", "unspecified"),
    ] {
        let (status, body) = hooks.create(json!({"url": url})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {body}");
        assert_error(&body, "bad_request");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(why), "{url}: {message}");
    }
    let (id, _) = hooks.subscribe("http://93.184.216.34/h", json!([])).await;
    let (status, body) = hooks.patch(&id, json!({"url": "http://127.0.0.1/h"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        app.event_count().await,
        before + 1,
        "only the one endpoint was written"
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn an_account_has_at_most_the_configured_number_of_endpoints(pool: PgPool) {
    let mut options = Options::default();
    options.webhooks.max_endpoints = 3;
    // Each create holds its transaction open a while after its append: they overlap.
    leadstream_tests::pause_inside_transactions(&pool, 0.05).await;
    let pool = leadstream_tests::wide_pool(&pool, 16).await;
    let app = std::sync::Arc::new(TestApp::spawn_with(pool, options).await);
    let k = app.register().await.api_key;
    // Concurrent creates cannot pass the limit.
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let (app, k) = (app.clone(), k.clone());
            tokio::spawn(async move {
                app.webhooks(&k)
                    .create(json!({"url": format!("http://127.0.0.1:9/h{i}")}))
                    .await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        if status == StatusCode::CONFLICT {
            assert_error(&body, "conflict");
            assert!(body["message"]
                .as_str()
                .unwrap()
                .contains("WEBHOOK_MAX_ENDPOINTS"));
        }
        statuses.push(status.as_u16());
    }
    statuses.sort();
    assert_eq!(statuses, [201, 201, 201, 409, 409, 409]);
    let (_, list) = app.webhooks(&k).list().await;
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 3);
    // Another account has its own allowance.
    let other = app.register().await.api_key;
    app.webhooks(&other)
        .subscribe("http://127.0.0.1:9/o", json!([]))
        .await;
}
