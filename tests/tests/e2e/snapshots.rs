//! Lead state comes from a snapshot plus the events after it, not from the whole stream.

use leadstream_tests::TestApp;
use reqwest::StatusCode;
use serde_json::json;
use shared::ids::parse_lead_id;
use shared::lead::state::SNAPSHOT_FORMAT;
use shared::store::load_streams;
use sqlx::PgPool;
use uuid::Uuid;

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_long_lived_lead_is_loaded_from_its_snapshot_and_the_events_after_it(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let acct = app.register().await;
    let leads = app.leads(&acct.api_key);
    let (_, lead) = leads
        .create(json!({"name": "Busy", "source": "s", "email": "busy@x.io"}))
        .await;
    for i in 0..20 {
        let (status, _) = leads.create(json!({"name": "Busy", "source": "s", "email": "busy@x.io", "tags": [format!("t{i}")]})).await;
        assert_eq!(status, StatusCode::OK);
    }
    let id = parse_lead_id(lead["id"].as_str().unwrap()).unwrap();
    let tenant = Uuid::parse_str(&acct.account_id).unwrap();

    let mut conn = pool.acquire().await.unwrap();
    let loaded = load_streams(&mut conn, tenant, "lead", &[id], SNAPSHOT_FORMAT)
        .await
        .unwrap();
    let stream = &loaded[&id];
    let (snap_version, _) = stream
        .snapshot
        .as_ref()
        .expect("a snapshot exists after 16 events");
    assert_eq!(*snap_version, 16);
    assert_eq!(
        stream
            .events
            .iter()
            .map(|e| e.stream_version)
            .collect::<Vec<_>>(),
        (17..=21).collect::<Vec<_>>()
    );

    // And the state built from it is the full state: one more push sees all 21 tags.
    let (_, merged) = leads
        .create(json!({"name": "Busy", "source": "s", "email": "busy@x.io"}))
        .await;
    assert_eq!(merged["tags"].as_array().unwrap().len(), 20);
    assert_eq!(merged["tags"][0], "t0");
    assert_eq!(merged["tags"][19], "t19");
}
