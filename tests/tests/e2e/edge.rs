//! The one base URL: health on every service, error-shaped 404/405, path normalization,
//! the lenient request forms real SDKs send.

use leadstream_tests::{assert_error, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn healthz_answers_200_on_the_edge_and_on_each_service(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for (addr, name) in [
        (app.edge, "query-service"),
        (app.command, "command-service"),
        (app.projector, "projector"),
        (app.dispatcher, "webhook-dispatcher"),
    ] {
        let resp = app
            .client
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{name}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["service"], name);
    }
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn unknown_routes_are_404_and_wrong_methods_405_in_the_error_shape(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let key = app.register().await.api_key;
    let resp = app.send(Method::GET, "/no/such/thing", Some(&key)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_error(&resp.json().await.unwrap(), "not_found");
    let resp = app
        .client
        .get(format!("http://{}/elsewhere", app.edge))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_error(&resp.json().await.unwrap(), "not_found");
    let resp = app.send(Method::PATCH, "/leads/batch", Some(&key)).await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("PATCH"),
        "{body}"
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn doubled_slashes_are_collapsed_and_never_redirected(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let key = app.register().await.api_key;
    let resp = app
        .client
        .post(format!("http://{}//api/v1//leads", app.edge))
        .header("X-API-Key", &key)
        .json(&json!({"name": "n", "source": "s"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn bodies_without_content_type_or_length_are_accepted(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let key = app.register().await.api_key;
    let resp = app
        .request(Method::POST, "/leads", Some(&key))
        .body(r#"{"name": "n", "source": "s"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED, "no Content-Type");
    let chunks: Vec<Result<&'static str, std::io::Error>> =
        vec![Ok(r#"{"name": "chunked", "#), Ok(r#""source": "s"}"#)];
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let resp = app
        .request(Method::POST, "/leads", Some(&key))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::CREATED,
        "chunked, no Content-Length"
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn every_forwarded_write_records_a_request_id(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let key = app.register().await.api_key;
    app.request(Method::POST, "/leads", Some(&key))
        .header("X-Request-Id", "req-from-client-42")
        .json(&json!({"name": "a", "source": "s"}))
        .send()
        .await
        .unwrap();
    app.leads(&key)
        .create(json!({"name": "b", "source": "s"}))
        .await;
    let ids: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT metadata->>'request_id' FROM events WHERE stream_type = 'lead' ORDER BY position",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(ids[0].as_deref(), Some("req-from-client-42"));
    assert!(ids[1].as_deref().is_some_and(|id| !id.is_empty()));
    let actor: String = sqlx::query_scalar(
        "SELECT metadata->>'actor' FROM events WHERE stream_type = 'lead' LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(actor.starts_with("api_key:"));
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn cors_preflights_are_answered_and_the_api_headers_allowed_and_exposed(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let resp = app
        .request(Method::OPTIONS, "/leads", None)
        .header("Origin", "https://app.example.com")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "x-api-key, content-type")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let h = resp.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    for name in ["x-api-key", "authorization", "content-type", "accept"] {
        assert!(allowed.contains(name), "{allowed}");
    }
    assert!(h["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("DELETE"));

    let key = app.register().await.api_key;
    let resp = app
        .request(Method::POST, "/leads", Some(&key))
        .header("Origin", "https://app.example.com")
        .json(&json!({"name": "n", "source": "s"}))
        .send()
        .await
        .unwrap();
    let exposed = resp.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    for name in ["x-ratelimit-limit", "x-ratelimit-remaining", "retry-after"] {
        assert!(exposed.contains(name), "{exposed}");
    }
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn every_answer_carries_a_request_id_and_a_given_one_is_kept(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let resp = app.send(Method::GET, "/nothing/here", None).await;
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    let resp = app
        .client
        .get(format!("http://{}/healthz", app.edge))
        .header("X-Request-Id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "abc-123");
}
