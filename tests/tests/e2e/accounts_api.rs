//! Registration, login and API keys: argon2id passwords, keys shown once and stored hashed,
//! both auth headers, 401 in the error shape otherwise.

use command_service::accounts::limits::AuthLimits;
use leadstream_tests::{assert_error, Options, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};
use shared::plan::Plan;
use sqlx::PgPool;

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn register_returns_a_key_once_and_stores_only_its_hash(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let (status, body) = app
        .register_as(json!({"email": "Owner@Example.com", "password": "correct horse"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let key = body["api_key"].as_str().unwrap();
    assert!(key.starts_with("sk_live_") && key.len() == 40, "{key}");
    assert_eq!(body["plan"], "unlimited");

    let stored: Vec<u8> = sqlx::query_scalar("SELECT key_hash FROM api_keys")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, Sha256::digest(key.as_bytes()).to_vec());
    let everything: String = sqlx::query_scalar(
        "SELECT string_agg(payload::text, ' ') || (SELECT string_agg(a::text, ' ') FROM api_keys a) || (SELECT string_agg(p::text, ' ') FROM accounts p) FROM events",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!everything.contains(key), "the raw key is stored nowhere");
    assert!(
        !everything.contains("correct horse"),
        "the password is stored nowhere"
    );
    assert!(everything.contains("$argon2id$"));
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn login_issues_a_new_key_and_both_keys_work(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let creds = json!({"email": "me@example.com", "password": "a long password"});
    let (_, reg) = app.register_as(creds.clone()).await;
    let (status, login) = app
        .login(json!({"email": "ME@example.com", "password": "a long password"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    assert_ne!(login["api_key"], reg["api_key"]);
    assert_eq!(login["account_id"], reg["account_id"]);
    for key in [
        reg["api_key"].as_str().unwrap(),
        login["api_key"].as_str().unwrap(),
    ] {
        let (status, _) = app
            .leads(key)
            .create(json!({"name": "n", "source": "s", "email": "same@x.io"}))
            .await;
        assert!(status.is_success());
    }
    let (status, body) = app.register_as(creds).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, "conflict");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn wrong_passwords_and_unknown_emails_are_401(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.register_as(json!({"email": "me@example.com", "password": "a long password"}))
        .await;
    let before = app.event_count().await;
    for body in [
        json!({"email": "me@example.com", "password": "wrong password"}),
        json!({"email": "nobody@example.com", "password": "a long password"}),
    ] {
        let (status, resp) = app.login(body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_error(&resp, "unauthorized");
    }
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn bad_registration_input_is_400_and_creates_no_account(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for body in [
        json!({"email": "not-an-email", "password": "long enough"}),
        json!({"email": "a@b.co", "password": "short"}),
        json!({"password": "long enough"}),
        json!([]),
    ] {
        let (status, resp) = app.register_as(body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_error(&resp, "bad_request");
    }
    assert_eq!(app.event_count().await, 0);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn both_auth_headers_work_and_anything_else_is_401(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let key = app.register().await.api_key;
    let body = json!({"name": "n", "source": "s"});
    let ok = app
        .request(Method::POST, "/leads", None)
        .header("Authorization", format!("Bearer {key}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    let ok = app
        .request(Method::POST, "/leads", None)
        .header("x-api-key", &key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);

    let before = app.event_count().await;
    let unknown = format!("sk_live_{}", "0".repeat(32));
    for header in [
        None,
        Some(("X-API-Key", "garbage".to_owned())),
        Some(("X-API-Key", unknown.clone())),
        Some(("Authorization", format!("Basic {key}"))),
        Some(("Authorization", format!("Bearer {unknown}"))),
    ] {
        let mut req = app.request(Method::POST, "/leads", None).json(&body);
        if let Some((name, value)) = &header {
            req = req.header(*name, value);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{header:?}");
        assert_error(&resp.json().await.unwrap(), "unauthorized");
    }
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn new_accounts_get_the_configured_default_plan(pool: PgPool) {
    let app = TestApp::spawn_with(
        pool,
        Options {
            default_plan: Plan::Pro,
            ..Options::default()
        },
    )
    .await;
    let (_, body) = app
        .register_as(json!({"email": "p@example.com", "password": "a long password"}))
        .await;
    assert_eq!(body["plan"], "pro");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn an_account_named_in_the_configuration_gets_its_plan_and_its_batch_limit(pool: PgPool) {
    let options = Options {
        account_plans: "Trial@Example.com=free",
        ..Options::default()
    };
    let app = TestApp::spawn_with(pool, options).await;
    let (_, trial) = app
        .register_as(json!({"email": "trial@example.com", "password": "a long password"}))
        .await;
    assert_eq!(trial["plan"], "free");
    let (_, other) = app
        .register_as(json!({"email": "other@example.com", "password": "a long password"}))
        .await;
    assert_eq!(other["plan"], "unlimited");
    let leads: Vec<serde_json::Value> = (0..101)
        .map(|i| json!({"name": format!("L{i}"), "source": "s"}))
        .collect();
    let (status, _) = app
        .leads(trial["api_key"].as_str().unwrap())
        .create_batch(json!(leads))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the free plan's batch limit applies"
    );
    let (status, _) = app
        .leads(other["api_key"].as_str().unwrap())
        .create_batch(json!(leads))
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

/// Small login/registration limits; the edge believes the test's `X-Forwarded-For`, so each
/// request can come from its own client address.
fn limited(login_failures: u32, registrations: u32) -> Options {
    Options {
        auth_limits: AuthLimits {
            login_failures,
            registrations,
            ..AuthLimits::default()
        },
        edge_trusted_proxies: "127.0.0.1",
        ..Options::default()
    }
}

async fn login_from(app: &TestApp, addr: &str, email: &str, password: &str) -> reqwest::Response {
    app.request(Method::POST, "/login", None)
        .header("X-Forwarded-For", addr)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn register_from(app: &TestApp, addr: &str) -> reqwest::Response {
    app.request(Method::POST, "/register", None)
        .header("X-Forwarded-For", addr)
        .json(&json!({"email": format!("{}@example.test", uuid::Uuid::new_v4()), "password": "correct horse battery"}))
        .send()
        .await
        .unwrap()
}

async fn assert_429(resp: reqwest::Response) {
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1, "Retry-After {retry}");
    assert_error(&resp.json().await.unwrap(), "rate_limit_exceeded");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn failed_logins_are_limited_per_email_whatever_the_address(pool: PgPool) {
    let app = TestApp::spawn_with(pool, limited(5, 100)).await;
    let account = app.register().await;
    let email = app.email_of(&account.account_id).await;
    for i in 0..5 {
        let resp = login_from(&app, &format!("198.51.100.{i}"), &email, "wrong password").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right password, from yet another address.
    assert_429(login_from(&app, "198.51.100.77", &email, "correct horse battery").await).await;
    assert_429(
        login_from(
            &app,
            "198.51.100.78",
            &email.to_uppercase(),
            "wrong password",
        )
        .await,
    )
    .await;
    // Another account is not locked.
    let other = app.register().await;
    let other_email = app.email_of(&other.account_id).await;
    let resp = login_from(&app, "198.51.100.79", &other_email, "correct horse battery").await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn failed_logins_are_limited_per_client_address(pool: PgPool) {
    let app = TestApp::spawn_with(pool, limited(5, 100)).await;
    let account = app.register().await;
    let email = app.email_of(&account.account_id).await;
    for i in 0..5 {
        let resp = login_from(
            &app,
            "203.0.113.9",
            &format!("nobody{i}@example.test"),
            "wrong password",
        )
        .await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    assert_429(login_from(&app, "203.0.113.9", &email, "correct horse battery").await).await;
    let resp = login_from(&app, "203.0.113.10", &email, "correct horse battery").await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "another address is not limited"
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn successful_logins_are_not_counted_as_failures(pool: PgPool) {
    let app = TestApp::spawn_with(pool, limited(3, 100)).await;
    let account = app.register().await;
    let email = app.email_of(&account.account_id).await;
    for _ in 0..6 {
        let resp = login_from(&app, "203.0.113.20", &email, "correct horse battery").await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_client_address_the_edge_does_not_trust_cannot_spoof_its_way_round_the_limit(
    pool: PgPool,
) {
    let options = Options {
        edge_trusted_proxies: "",
        ..limited(3, 100)
    };
    let app = TestApp::spawn_with(pool, options).await;
    for i in 0..3 {
        let resp = login_from(
            &app,
            &format!("192.0.2.{i}"),
            &format!("x{i}@example.test"),
            "wrong password",
        )
        .await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    // All came from 127.0.0.1, whatever they claimed.
    assert_429(login_from(&app, "192.0.2.200", "y@example.test", "wrong password").await).await;
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn registrations_are_limited_per_client_address(pool: PgPool) {
    let app = TestApp::spawn_with(pool, limited(100, 3)).await;
    for _ in 0..3 {
        assert_eq!(
            register_from(&app, "203.0.113.30").await.status(),
            StatusCode::CREATED
        );
    }
    assert_429(register_from(&app, "203.0.113.30").await).await;
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(accounts, 3, "the refused registration created nothing");
    assert_eq!(
        register_from(&app, "203.0.113.31").await.status(),
        StatusCode::CREATED
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn concurrent_logins_queue_for_at_most_the_configured_number_of_hashes(pool: PgPool) {
    let options = Options {
        password_hashes: 2,
        ..Options::default()
    };
    let app = std::sync::Arc::new(TestApp::spawn_with(pool, options).await);
    let account = app.register().await;
    let email = app.email_of(&account.account_id).await;
    let logins: Vec<_> = (0..32)
        .map(|_| {
            let (app, email) = (app.clone(), email.clone());
            tokio::spawn(async move {
                login_from(&app, "127.0.0.1", &email, "correct horse battery")
                    .await
                    .status()
            })
        })
        .collect();
    for login in logins {
        assert_eq!(login.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(app.hashing.bound(), 2);
    // 32 logins at once fill the bound and never pass it.
    assert_eq!(app.hashing.peak(), 2, "hashes that ran at once");
}
