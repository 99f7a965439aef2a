//! Request rate limits (SPEC §1.5, §8): the headers on every answer, 429 with `Retry-After`
//! once an account's sliding window is full (all its keys together), nothing written by a refused request, the window
//! sliding, and the limit holding across two edge replicas racing for the last slot.

use leadstream_tests::{assert_error, eventually, Options, TestApp};
use query_service::ratelimit::UNLIMITED;
use reqwest::{Method, Response, StatusCode};
use serde_json::json;
use shared::plan::{Plan, PlanTable};
use sqlx::{Connection, PgConnection, PgPool};
use std::time::Duration;

fn figures(resp: &Response) -> (u64, u64) {
    let get = |name: &str| {
        resp.headers()
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing on {} {}", resp.status(), resp.url()))
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    (get("x-ratelimit-limit"), get("x-ratelimit-remaining"))
}

fn free_plan(requests: u64) -> Options {
    let mut plans = PlanTable::default();
    plans.free.requests_per_window = Some(requests);
    Options {
        default_plan: Plan::Free,
        plans,
        ..Options::default()
    }
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn every_answer_carries_the_headers_even_errors_preflights_and_public_routes(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let key = app.register().await.api_key;
    let k = Some(key.as_str());
    let answers = [
        app.send(Method::GET, "/leads", k).await,
        app.send(Method::GET, "/leads/cl_nope", k).await,
        app.send(Method::GET, "/no/such/route", k).await,
        app.send(Method::PATCH, "/leads/batch", k).await,
        app.send(Method::GET, "/leads", None).await,
        app.send(
            Method::GET,
            "/leads",
            Some("sk_live_00000000000000000000000000000000"),
        )
        .await,
        app.send(Method::POST, "/login", None).await,
        app.request(Method::OPTIONS, "/leads", None)
            .header("Origin", "https://app.example")
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "x-api-key")
            .send()
            .await
            .unwrap(),
    ];
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses, [200, 404, 404, 405, 401, 401, 400, 200]);
    for resp in &answers {
        // The self-hosted default plan has no request limit.
        assert_eq!(figures(resp), (UNLIMITED, UNLIMITED), "{}", resp.url());
    }
    let health = app
        .client
        .get(format!("http://{}/healthz", app.edge))
        .send()
        .await
        .unwrap();
    assert_eq!(figures(&health), (UNLIMITED, UNLIMITED));
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_full_window_answers_429_with_retry_after_and_writes_nothing(pool: PgPool) {
    let app = TestApp::spawn_with(pool, free_plan(3)).await;
    let account = app.register().await;
    let key = account.api_key.as_str();

    // Unauthenticated and bad-key requests are not counted.
    for _ in 0..5 {
        let resp = app.send(Method::GET, "/leads", None).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(figures(&resp), (3, 3));
    }

    let mut remaining = Vec::new();
    for path in ["/leads", "/leads/cl_nope", "/no/such/route"] {
        let resp = app.send(Method::GET, path, Some(key)).await;
        remaining.push(figures(&resp));
    }
    assert_eq!(remaining, [(3, 2), (3, 1), (3, 0)], "errors count too");

    let events_before = app.event_count().await;
    let resp = app
        .request(Method::POST, "/leads", Some(key))
        .json(&json!({"name": "Refused", "source": "test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(figures(&resp), (3, 0));
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=600).contains(&retry), "Retry-After {retry}");
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "*",
        "browsers can read a 429"
    );
    let body = resp.json().await.unwrap();
    assert_error(&body, "rate_limit_exceeded");
    assert_eq!(
        app.event_count().await,
        events_before,
        "a refused push writes nothing"
    );

    // Refused requests are not counted: still exactly full, not over-full.
    let count: i64 = sqlx::query_scalar("SELECT sum(hits) FROM rate_hits")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 3);

    // The window is per account: a key from a new login shares the full window (a login
    // must not buy a fresh budget).
    let (status, body) = app.login(json!({"email": app.email_of(&account.account_id).await, "password": "correct horse battery"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = body["api_key"].as_str().unwrap();
    let resp = app.send(Method::GET, "/leads", Some(second)).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(figures(&resp), (3, 0));
    assert_error(&resp.json().await.unwrap(), "rate_limit_exceeded");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn the_window_slides_and_retry_after_is_when_a_slot_frees(pool: PgPool) {
    let options = Options {
        rate_window: Duration::from_secs(3),
        ..free_plan(2)
    };
    let app = TestApp::spawn_with(pool, options).await;
    let key = app.register().await.api_key;
    assert_eq!(
        app.send(Method::GET, "/leads", Some(&key)).await.status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        app.send(Method::GET, "/leads", Some(&key)).await.status(),
        200
    );
    let refused = app.send(Method::GET, "/leads", Some(&key)).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    // The first hit (≈1 s ago) leaves the 3 s window in ≈2 s, not in 3.
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    tokio::time::sleep(Duration::from_secs(retry)).await;
    let resp = app.send(Method::GET, "/leads", Some(&key)).await;
    assert_eq!(resp.status(), StatusCode::OK, "one slot freed");
    assert_eq!(figures(&resp), (2, 0));
}

/// Two edge replicas (sharing the database) race for the last slot of one key: both requests
/// are held at the limiter's per-key lock, released together, and exactly one gets through.
#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn two_replicas_never_both_spend_the_last_slot(pool: PgPool) {
    // Two full systems share the test's pool: keep their background workers off it.
    let quiet = || Options {
        rescore_worker: false,
        projector: false,
        relay: false,
        ..free_plan(2)
    };
    let a = TestApp::spawn_with(pool.clone(), quiet()).await;
    let b = TestApp::spawn_with(pool.clone(), quiet()).await;
    let account = a.register().await;
    let key = account.api_key.clone();
    // One of the two slots used: one is left.
    assert_eq!(
        a.send(Method::GET, "/leads", Some(&key)).await.status(),
        200
    );
    // Requests are counted per account.
    let key_id = uuid::Uuid::parse_str(&account.account_id).unwrap();

    // Own connections: the services hold most of the test pool's.
    let mut gate = PgConnection::connect_with(&pool.connect_options())
        .await
        .unwrap();
    let mut watch = PgConnection::connect_with(&pool.connect_options())
        .await
        .unwrap();
    sqlx::query("SELECT pg_advisory_lock(hashtextextended('rate:' || $1::text, 0))")
        .bind(key_id)
        .execute(&mut gate)
        .await
        .unwrap();
    let (ka, kb) = (key.clone(), key.clone());
    let ra = tokio::spawn(async move { a.send(Method::GET, "/leads", Some(&ka)).await });
    let rb = tokio::spawn(async move { b.send(Method::GET, "/leads", Some(&kb)).await });
    // Both wait on the lock.
    eventually(
        "both replicas reach the limiter",
        Duration::from_secs(10),
        async || {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .fetch_one(&mut watch)
            .await
            .unwrap();
            if n == 2 {
                Ok(())
            } else {
                Err(format!("{n} waiting"))
            }
        },
    )
    .await;
    sqlx::query("SELECT pg_advisory_unlock(hashtextextended('rate:' || $1::text, 0))")
        .bind(key_id)
        .execute(&mut gate)
        .await
        .unwrap();
    drop(gate);
    let (ra, rb) = (ra.await.unwrap(), rb.await.unwrap());
    let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 429]);
}
