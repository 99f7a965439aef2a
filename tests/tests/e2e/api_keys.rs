//! API key management (SPEC-CRM §3.2, §4.13): create with a name, scopes and an expiry (the
//! key shown once), list, the calling key, revoke; scopes enforced on every route family; a
//! revoked key refused by a second query-service replica within a second despite its key
//! cache; the last admin key kept; every bad body a 400 that writes nothing.

use leadstream_tests::{assert_error, Options, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::{Duration, Instant};

async fn create_key(app: &TestApp, admin: &str, body: Value) -> Value {
    let (status, out) = app.post(admin, "/api-keys", body).await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    out["data"].clone()
}

async fn get(app: &TestApp, key: &str, path: &str) -> (StatusCode, Value) {
    app.call(Method::GET, path, Some(key), None).await
}

async fn delete(app: &TestApp, key: &str, path: &str) -> (StatusCode, Value) {
    app.call(Method::DELETE, path, Some(key), None).await
}

async fn account_events(app: &TestApp) -> Vec<(String, Value)> {
    app.events_of("account").await
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_key_is_created_shown_once_listed_and_known_to_itself(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.register().await.api_key;
    let key = create_key(
        &app,
        &admin,
        json!({"name": "claude-agent", "scopes": ["write", "read", "read"],
               "expires_at": "2099-01-01T00:00:00.5+01:00"}),
    )
    .await;
    let raw = key["key"].as_str().unwrap().to_owned();
    assert!(raw.starts_with("sk_live_"), "{key}");
    assert_eq!(key["prefix"], raw[..12]);
    assert_eq!(key["name"], "claude-agent");
    assert_eq!(key["scopes"], json!(["read", "write"]));
    assert_eq!(key["status"], "active");
    assert_eq!(key["expires_at"], "2098-12-31T23:00:00Z");
    assert_eq!(key["member_id"], Value::Null);
    assert_eq!(key["revoked_at"], Value::Null);

    let (status, list) = get(&app, &admin, "/api-keys").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let names: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["claude-agent", "register"], "newest first");
    assert_eq!(list["meta"]["total"], 2);
    assert!(
        !list.to_string().contains(&raw[12..]),
        "the secret is never listed"
    );

    let (status, me) = get(&app, &raw, "/api-keys/current").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["data"]["id"], key["id"]);
    assert_eq!(me["data"]["scopes"], json!(["read", "write"]));
    assert!(me["data"].get("key").is_none());
    // Using the key marks it used.
    let (_, me) = get(&app, &admin, "/api-keys/current").await;
    assert_eq!(me["data"]["name"], "register");
    assert!(me["data"]["last_used_at"].is_string(), "{me}");

    let events = account_events(&app).await;
    let issued = &events.last().unwrap();
    assert_eq!(issued.0, "ApiKeyIssued");
    assert_eq!(issued.1["name"], "claude-agent");
    assert_eq!(issued.1["scopes"], json!(["read", "write"]));
    assert!(
        !issued.1.to_string().contains(&raw),
        "events carry the hash only"
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn scopes_are_enforced_on_every_route_family(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.register().await.api_key;
    let read = create_key(&app, &admin, json!({"name": "r", "scopes": ["read"]})).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let write = create_key(&app, &admin, json!({"name": "w", "scopes": ["write"]})).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let lead = json!({"name": "Scoped", "source": "test"});

    // read: reads only.
    assert_eq!(get(&app, &read, "/leads").await.0, StatusCode::OK);
    assert_eq!(
        get(&app, &read, "/api-keys/current").await.0,
        StatusCode::OK
    );
    for (method, path, body) in [
        (Method::POST, "/leads", Some(lead.clone())),
        (Method::POST, "/leads/batch", Some(json!({"leads": [lead]}))),
        (
            Method::DELETE,
            "/leads/cl_00000000-0000-0000-0000-000000000000",
            None,
        ),
        (Method::GET, "/webhooks", None),
        (Method::GET, "/api-keys", None),
        (Method::POST, "/api-keys", Some(json!({"name": "x"}))),
    ] {
        let (status, body) = app.call(method.clone(), path, Some(&read), body).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "read key, {method} {path}: {body}"
        );
        assert_error(&body, "forbidden");
    }
    let (_, body) = app.post(&read, "/leads", lead.clone()).await;
    assert!(
        body["message"].as_str().unwrap().contains("'write'"),
        "{body}"
    );

    // write: mutations but not reads, nor admin routes.
    let (status, created) = app.post(&write, "/leads", lead.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(get(&app, &write, "/leads").await.0, StatusCode::FORBIDDEN);
    let (status, body) = app
        .post(&write, "/webhooks", json!({"url": "http://127.0.0.1:9/x"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("'admin'"),
        "{body}"
    );
    // Reading itself is a read (SPEC-CRM §4.13).
    assert_eq!(
        get(&app, &write, "/api-keys/current").await.0,
        StatusCode::FORBIDDEN,
        "write-only: no reads at all"
    );

    // The account's first key holds every scope.
    assert_eq!(get(&app, &admin, "/webhooks").await.0, StatusCode::OK);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_revoked_key_is_refused_by_another_replica_within_a_second(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    // A second edge (and command-service) on the same database: its own key cache.
    let replica = TestApp::spawn_with(
        pool,
        Options {
            projector: false,
            dispatcher: false,
            relay: false,
            ..Options::default()
        },
    )
    .await;
    let admin = app.register().await.api_key;
    let agent = create_key(&app, &admin, json!({"name": "agent"})).await;
    let raw = agent["key"].as_str().unwrap().to_owned();
    // Both caches hold the key.
    assert_eq!(get(&app, &raw, "/leads").await.0, StatusCode::OK);
    assert_eq!(get(&replica, &raw, "/leads").await.0, StatusCode::OK);

    let (status, body) = delete(
        &app,
        &admin,
        &format!("/api-keys/{}", agent["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let revoked = Instant::now();
    loop {
        let (status, body) = get(&replica, &raw, "/leads").await;
        if status == StatusCode::UNAUTHORIZED {
            assert_error(&body, "unauthorized");
            break;
        }
        assert!(
            revoked.elapsed() < Duration::from_secs(1),
            "the replica still took the revoked key after {:?}",
            revoked.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "refused by the replica {:?} after the revocation",
        revoked.elapsed()
    );
    assert_eq!(get(&app, &raw, "/leads").await.0, StatusCode::UNAUTHORIZED);

    // Listed as revoked; revoking again is 204 and writes nothing.
    let (_, list) = get(&app, &admin, "/api-keys?status=revoked").await;
    assert_eq!(list["data"][0]["id"], agent["id"]);
    assert_eq!(list["data"][0]["status"], "revoked");
    let before = account_events(&app).await.len();
    let (status, _) = delete(
        &app,
        &admin,
        &format!("/api-keys/{}", agent["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(account_events(&app).await.len(), before);
    assert_eq!(
        account_events(&app).await.last().unwrap().0,
        "ApiKeyRevoked"
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn the_last_admin_key_stays_and_other_accounts_keys_are_not_found(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let account = app.register().await;
    let admin = account.api_key;
    let (_, me) = get(&app, &admin, "/api-keys/current").await;
    let admin_id = me["data"]["id"].as_str().unwrap().to_owned();
    let (status, body) = delete(&app, &admin, &format!("/api-keys/{admin_id}")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "conflict");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("last active key"));

    // A read-only key does not count as an admin; a second admin key does.
    create_key(&app, &admin, json!({"name": "r", "scopes": ["read"]})).await;
    let (status, _) = delete(&app, &admin, &format!("/api-keys/{admin_id}")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let second = create_key(&app, &admin, json!({"name": "admin 2"})).await;
    let (status, body) = delete(&app, &admin, &format!("/api-keys/{admin_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        get(&app, &admin, "/leads").await.0,
        StatusCode::UNAUTHORIZED
    );
    let admin = second["key"].as_str().unwrap();

    // Tenancy: another account's key id, an unknown id and a malformed one are all 404.
    let other = app.register().await.api_key;
    let (_, theirs) = get(&app, &other, "/api-keys/current").await;
    for id in [
        theirs["data"]["id"].as_str().unwrap(),
        "01900000-0000-7000-8000-000000000000",
        "not-a-key",
    ] {
        let (status, body) = delete(&app, admin, &format!("/api-keys/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}: {body}");
        assert_error(&body, "not_found");
    }
    assert_eq!(get(&app, &other, "/leads").await.0, StatusCode::OK);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn an_expired_key_stops_working_when_it_expires(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.register().await.api_key;
    let soon = chrono::Utc::now().timestamp() + 2;
    let key = create_key(&app, &admin, json!({"name": "short", "expires_at": soon})).await;
    let raw = key["key"].as_str().unwrap();
    assert_eq!(
        get(&app, raw, "/leads").await.0,
        StatusCode::OK,
        "cached now"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, body) = get(&app, raw, "/leads").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (_, list) = get(&app, &admin, "/api-keys?status=expired").await;
    assert_eq!(list["data"][0]["status"], "expired");
    assert_eq!(get(&app, &admin, "/api-keys").await.1["meta"]["total"], 1);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn bad_key_bodies_and_queries_are_400_and_write_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.register().await.api_key;
    let cases = [
        (json!([]), "JSON object"),
        (json!({}), "'name' is required"),
        (json!({"name": ""}), "1 to 100"),
        (json!({"name": "   "}), "1 to 100"),
        (json!({"name": "x".repeat(101)}), "1 to 100"),
        (json!({"name": "é".repeat(101)}), "1 to 100"),
        (json!({"name": "a\u{0}b"}), "NUL"),
        (json!({"name": 7}), "must be a string"),
        (json!({"name": "k", "scopes": []}), "must not be empty"),
        (
            json!({"name": "k", "scopes": ["owner"]}),
            "unknown scope 'owner'",
        ),
        (json!({"name": "k", "scopes": "read"}), "must be an array"),
        (json!({"name": "k", "scopes": [1]}), "array of strings"),
        (
            json!({"name": "k", "expires_at": "2001-01-01T00:00:00Z"}),
            "in the future",
        ),
        (json!({"name": "k", "expires_at": "next week"}), "RFC 3339"),
        (json!({"name": "k", "expires_at": 1.5}), "RFC 3339"),
        (json!({"name": "k", "member_id": "me"}), "member_id"),
        (json!({"name": "k", "owner": "x"}), "unknown field 'owner'"),
    ];
    let before = app.event_count().await;
    for (body, says) in cases {
        let (status, out) = app.post(&admin, "/api-keys", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {out}");
        assert_error(&out, "bad_request");
        let message = out["message"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message}");
    }
    assert_eq!(app.event_count().await, before, "no event written");

    // The extremes that are fine: 100 characters of CJK, and of emoji (400 bytes).
    for name in ["鍵".repeat(100), "🔑".repeat(100)] {
        let key = create_key(&app, &admin, json!({"name": name})).await;
        assert_eq!(key["name"], name);
    }

    for query in [
        "?status=gone",
        "?member=me",
        "?per_page=x",
        "?cursor=forged",
    ] {
        let (status, out) = get(&app, &admin, &format!("/api-keys{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {out}");
    }
    // Paging: 3 keys, 2 a page.
    let (_, first) = get(&app, &admin, "/api-keys?per_page=2").await;
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    assert_eq!(first["meta"]["has_more"], true);
    let cursor = first["meta"]["next_cursor"].as_str().unwrap();
    let (_, second) = get(
        &app,
        &admin,
        &format!("/api-keys?per_page=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert_eq!(second["data"][0]["name"], "register");
    assert_eq!(second["meta"]["has_more"], false);
    let (status, _) = get(
        &app,
        &admin,
        &format!("/api-keys?status=all&cursor={cursor}"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a cursor is bound to its filter"
    );
}
