//! The write side of leads through the public edge: create, merge, update, delete.

use leadstream_tests::{assert_error, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_pushed_lead_is_created_with_every_field_of_the_lead_object(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let acct = app.register().await;
    let (status, body) = app
        .leads(&acct.api_key)
        .create(json!({
            "name": "Acme Corporation", "source": "website", "email": "contact@acme.com",
            "city": "San Francisco", "rating": 4.5, "tags": ["enterprise"],
            "attributes": [{"name": "industry", "type": "text", "value": "Software"},
                           {"name": "employees", "type": "number", "value": 500}]
        }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["id"].as_str().unwrap().starts_with("cl_"));
    assert_eq!(body["message"], "Lead created successfully");
    assert_eq!(body["duplicate"], false);
    assert_eq!(body["potential_duplicate_id"], serde_json::Value::Null);
    assert_eq!(body["status"], "new");
    assert_eq!(body["rating"], 4.5);
    assert_eq!(body["tags"], json!(["enterprise"]));
    assert_eq!(body["attributes"].as_array().unwrap().len(), 2);
    assert!(body["attributes"][0]["id"].as_str().is_some());
    assert!(body["created_at"].is_i64());
    assert_eq!(body["created_at"], body["updated_at"]);
    assert_eq!(body["phone"], serde_json::Value::Null);
    assert_eq!(app.lead_event_count().await, 1);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn pushing_the_same_email_again_merges_with_200_and_last_touch_wins(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let acct = app.register().await;
    let leads = app.leads(&acct.api_key);
    let (_, first) = leads
        .create(json!({"name": "Acme", "source": "web", "email": "a@acme.com", "city": "Paris", "tags": ["x"]}))
        .await;
    let (status, merged) = leads
        .create(json!({"name": "Acme", "source": "csv", "email": " A@ACME.com ", "phone": "+33 1 23 45 67", "tags": ["y"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{merged}");
    assert_eq!(merged["id"], first["id"]);
    assert_eq!(merged["duplicate"], true);
    assert_eq!(
        merged["message"],
        "Duplicate detected, existing lead updated"
    );
    assert_eq!(merged["source"], "csv");
    assert_eq!(merged["city"], "Paris");
    assert_eq!(merged["phone"], "+33 1 23 45 67");
    assert_eq!(merged["tags"], json!(["x", "y"]));
    assert_eq!(app.lead_streams(&acct.account_id).await, 1);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_source_id_match_merges_and_a_name_city_match_only_hints(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let leads = app.leads(&k);
    let (_, a) = leads
        .create(json!({"name": "Alpha", "source": "crm", "source_id": "rec_1"}))
        .await;
    let (status, b) = leads
        .create(json!({"name": "Alpha GmbH", "source": "crm", "source_id": "rec_1"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(b["id"], a["id"]);

    let (_, c) = leads
        .create(json!({"name": "Le Bistro", "source": "maps", "city": "Lyon"}))
        .await;
    let (status, d) = leads
        .create(json!({"name": "le bistro", "source": "yelp", "city": "LYON"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(d["id"], c["id"]);
    assert_eq!(d["potential_duplicate_id"], c["id"]);
    assert_eq!(d["duplicate"], false);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_phone_match_merges_only_with_a_similar_name(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let leads = app.leads(&k);
    let (_, a) = leads
        .create(json!({"name": "Blue Bottle Coffee", "source": "s", "phone": "+1 (415) 555-0100"}))
        .await;
    let (status, b) = leads
        .create(json!({"name": "Blue Bottle Cofee", "source": "s", "phone": "14155550100"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(b["id"], a["id"]);
    let (status, c) = leads
        .create(json!({"name": "Totally Different", "source": "s", "phone": "14155550100"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(c["id"], a["id"]);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn put_and_patch_update_partially_and_delete_answers_204_then_404(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let leads = app.leads(&k);
    let id = &leads
        .create_id(json!({"name": "Acme", "source": "web", "city": "Paris", "tags": ["a", "b"]}))
        .await;

    let (status, put) = leads.update(id, json!({"rating": 4.8, "city": "New York", "tags": ["c"], "id": "ignored", "score": 100})).await;
    assert_eq!(status, StatusCode::OK, "{put}");
    assert_eq!(put["city"], "New York");
    assert_eq!(put["rating"], 4.8);
    assert_eq!(put["tags"], json!(["c"]));
    assert_eq!(put["name"], "Acme");
    assert_eq!(put["score"], 0.0);

    let (status, patched) = leads
        .patch(id, json!({"status": "contacted", "city": null}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(patched["status"], "contacted");
    assert_eq!(patched["city"], serde_json::Value::Null);

    let resp = app
        .request(Method::DELETE, &format!("/leads/{id}"), Some(&k))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(resp.bytes().await.unwrap().is_empty());

    let (status, body) = leads.delete(id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
    let (status, _) = leads.update(id, json!({"city": "X"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_merge_that_changes_nothing_moves_only_last_interaction_at(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let k = app.register().await.api_key;
    let body = json!({"name": "Acme", "source": "web", "email": "same@acme.com"});
    let (_, first) = app.leads(&k).create(body.clone()).await;
    // Age the lead by a few seconds through its history, so "moved" is observable.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, again) = app.leads(&k).create(body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["updated_at"], first["updated_at"]);
    assert!(again["last_interaction_at"].as_i64() > first["last_interaction_at"].as_i64());
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn updating_an_email_to_one_another_lead_holds_is_a_409_and_writes_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let leads = app.leads(&k);
    leads
        .create(json!({"name": "A", "source": "s", "email": "taken@x.io"}))
        .await;
    let b = leads.create_id(json!({"name": "B", "source": "s"})).await;
    let before = app.event_count().await;
    let (status, body) = leads.update(&b, json!({"email": "TAKEN@x.io"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, "conflict");
    assert_eq!(app.event_count().await, before);
}
