//! Tenant isolation on every write endpoint: another account's lead answers 404 and is left
//! untouched; dedup never crosses accounts.

use leadstream_tests::{assert_error, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn another_accounts_lead_is_404_on_every_write_endpoint_and_stays_untouched(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (alice, mallory) = (app.register().await, app.register().await);
    let secret = || json!({"name": "Secret", "source": "s", "email": "secret@a.io"});
    let (_, lead) = app.leads(&alice.api_key).create(secret()).await;
    let id = lead["id"].as_str().unwrap();
    let before = app.event_count().await;

    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        let (status, body) = app
            .call(
                method.clone(),
                &format!("/leads/{id}"),
                Some(&mallory.api_key),
                Some(json!({"name": "Pwned"})),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
        assert_error(&body, "not_found");
    }
    let intruder = app.leads(&mallory.api_key);
    let (status, body) = intruder
        .update_batch(json!([id]), json!({"name": "Pwned"}))
        .await;
    assert_eq!(status, StatusCode::MULTI_STATUS);
    assert_eq!(body["results"][0]["success"], false);
    let (status, body) = intruder.delete_batch(json!([id])).await;
    assert_eq!(status, StatusCode::MULTI_STATUS);
    assert_eq!(body["failed"], 1);
    assert_eq!(
        app.event_count().await,
        before,
        "nothing was written for the intruder"
    );

    // Pushing Alice's e-mail from Mallory's account creates Mallory's own lead.
    let (status, theirs) = intruder.create(secret()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(theirs["id"], lead["id"]);
    let (status, mine) = app.leads(&alice.api_key).create(secret()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine["id"], lead["id"]);
    assert_eq!(mine["name"], "Secret");
}
