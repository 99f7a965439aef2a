//! Reads through the edge: `GET /leads/{id}` from the read model, read-your-writes with no
//! special header, a bounded wait that says when it gave up, tenancy.

use leadstream_tests::{assert_error, Options, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::{Duration, Instant};

async fn get(app: &TestApp, key: &str, id: &str) -> (StatusCode, Option<String>, Value) {
    let resp = app
        .send(Method::GET, &format!("/leads/{id}"), Some(key))
        .await;
    let status = resp.status();
    let consistency = resp
        .headers()
        .get("x-read-consistency")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, consistency, resp.json().await.unwrap())
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn create_then_get_and_update_then_get_are_never_stale(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let leads = app.leads(&k);
    for i in 0..40 {
        let (_, created) = leads
            .create(
                json!({"name": format!("Lead {i}"), "source": "s", "city": "Oslo", "tags": ["a"]}),
            )
            .await;
        let id = created["id"].as_str().unwrap();
        let (status, consistency, got) = get(&app, &k, id).await;
        assert_eq!(status, StatusCode::OK, "read {i} right after its create");
        assert_eq!(consistency.as_deref(), Some("fresh"));
        let mut expected = created.clone();
        for extra in ["message", "duplicate", "potential_duplicate_id"] {
            expected.as_object_mut().unwrap().remove(extra);
        }
        assert_eq!(
            got, expected,
            "the read model answers exactly what the write answered"
        );

        let (_, updated) = leads.update(id, json!({"city": format!("City {i}")})).await;
        let (_, _, got) = get(&app, &k, id).await;
        assert_eq!(
            got["city"], updated["city"],
            "read {i} right after its update"
        );
    }
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_deleted_lead_reads_404_right_after_the_delete(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let leads = app.leads(&k);
    let id = &leads
        .create_id(json!({"name": "Short-lived", "source": "s"}))
        .await;
    leads.delete(id).await;
    let (status, _, body) = get(&app, &k, id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn reads_are_tenant_scoped_and_malformed_ids_are_404(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (alice, bob) = (app.register().await.api_key, app.register().await.api_key);
    let id = &app
        .leads(&alice)
        .create_id(json!({"name": "Private", "source": "s"}))
        .await;
    assert_eq!(get(&app, &alice, id).await.0, StatusCode::OK);
    let (status, _, body) = get(&app, &bob, id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
    for bad in ["nope", "cl_nope", &format!("cl_{}", uuid::Uuid::new_v4())] {
        assert_eq!(
            get(&app, &alice, bad).await.0,
            StatusCode::NOT_FOUND,
            "{bad}"
        );
    }
    let resp = app.send(Method::GET, &format!("/leads/{id}"), None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn past_the_bound_a_read_answers_what_it_has_and_says_it_may_be_stale(pool: PgPool) {
    let options = Options {
        projector: false,
        read_wait: Duration::from_millis(300),
        ..Options::default()
    };
    let app = TestApp::spawn_with(pool, options).await;
    let k = app.register().await.api_key;
    let id = app
        .leads(&k)
        .create_id(json!({"name": "Unprojected", "source": "s"}))
        .await;
    let started = Instant::now();
    let (status, consistency, _) = get(&app, &k, &id).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "no projector ran: the model does not have it yet"
    );
    assert_eq!(consistency.as_deref(), Some("stale"));
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "it waited for the bound first"
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn writes_on_a_read_path_still_reach_the_command_side(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let leads = app.leads(&k);
    let id = &leads
        .create_id(json!({"name": "Both", "source": "s"}))
        .await;
    let (status, _) = leads.update(id, json!({"city": "Riga"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = leads.patch(id, json!({"city": "Vilnius"})).await;
    assert_eq!(
        (status, body["city"].as_str()),
        (StatusCode::OK, Some("Vilnius"))
    );
    let (status, _) = leads.delete(id).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}
