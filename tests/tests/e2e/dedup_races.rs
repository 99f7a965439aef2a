//! Dedup under concurrency (invariant 5): concurrent pushes of one lead never create two.

use futures::future::join_all;
use leadstream_tests::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

async fn push_concurrently(
    app: &TestApp,
    key: &str,
    bodies: Vec<Value>,
) -> Vec<(StatusCode, Value)> {
    join_all(bodies.into_iter().map(|b| app.leads(key).create(b))).await
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn sixteen_concurrent_pushes_of_one_new_email_make_one_lead_and_one_201(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let acct = app.register().await;
    let bodies = (0..16)
        .map(|i| json!({"name": "Racer", "source": format!("worker-{i}"), "email": "RACE@example.com", "tags": [format!("w{i}")]}))
        .collect();
    let results = push_concurrently(&app, &acct.api_key, bodies).await;

    let created = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let merged = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!((created, merged), (1, 15), "{results:?}");
    let ids: std::collections::HashSet<&str> = results
        .iter()
        .map(|(_, b)| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(app.lead_streams(&acct.account_id).await, 1);
    // Every push left its mark: the tags of all 16 were united.
    let (_, last) = app
        .leads(&acct.api_key)
        .create(json!({"name": "Racer", "source": "s", "email": "race@example.com"}))
        .await;
    assert_eq!(last["tags"].as_array().unwrap().len(), 16);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn concurrent_pushes_matching_only_by_phone_and_name_make_one_lead(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let acct = app.register().await;
    let bodies = (0..12)
        .map(|_| json!({"name": "Corner Deli", "source": "maps", "phone": "+1 212 555 0199"}))
        .collect();
    let results = push_concurrently(&app, &acct.api_key, bodies).await;
    assert_eq!(
        results
            .iter()
            .filter(|(s, _)| *s == StatusCode::CREATED)
            .count(),
        1
    );
    assert_eq!(app.lead_streams(&acct.account_id).await, 1);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_batch_and_single_pushes_racing_on_one_email_make_one_lead(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let acct = app.register().await;
    let leads = app.leads(&acct.api_key);
    let batch = leads.create_batch(json!([
        {"name": "Mixed", "source": "batch", "email": "mixed@x.io"},
        {"name": "Other", "source": "batch", "email": "other@x.io"}
    ]));
    let singles = join_all((0..6).map(|_| {
        leads.create(json!({"name": "Mixed", "source": "single", "email": "mixed@x.io"}))
    }));
    let ((bs, bb), singles) = tokio::join!(batch, singles);
    assert_eq!(bs, StatusCode::CREATED, "{bb}");
    assert!(singles.iter().all(|(s, _)| s.is_success()));
    assert_eq!(app.lead_streams(&acct.account_id).await, 2);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn concurrent_updates_of_one_lead_all_apply_without_losing_any(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let leads = app.leads(&k);
    let id = &leads
        .create_id(json!({"name": "Target", "source": "s"}))
        .await;
    let attrs = join_all((0..10).map(|i| {
        leads.update(
            id,
            json!({"attributes": [{"name": format!("a{i}"), "type": "number", "value": i}]}),
        )
    }))
    .await;
    assert!(attrs.iter().all(|(s, _)| *s == StatusCode::OK), "{attrs:?}");
    let (_, after) = leads.update(id, json!({})).await;
    assert_eq!(
        after["attributes"].as_array().unwrap().len(),
        10,
        "version conflicts were retried, none lost"
    );
}

/// Issue 11: writers of one lead take their turn (a lock on the lead's stream taken before
/// the command's first write) instead of failing each other's compare-and-set: 16 concurrent
/// PATCHes all succeed, in some order, with contiguous versions; a DELETE racing them wins its
/// turn too, and the PATCHes after it are 404s, never 409s.
#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn sixteen_concurrent_patches_of_one_lead_all_succeed_and_a_racing_delete_wins_its_turn(
    pool: PgPool,
) {
    // Enough connections for the 16 to run at once (the test's own pool has five).
    let pool = leadstream_tests::wide_pool(&pool, 24).await;
    let app = TestApp::spawn(pool.clone()).await;
    let k = app.register().await.api_key;
    let leads = app.leads(&k);
    let id = leads.create_id(json!({"name": "Hot", "source": "s"})).await;
    let path = format!("/leads/{id}");
    let patches =
        join_all((0..16).map(|i| leads.patch(&id, json!({"city": format!("City {i}")})))).await;
    assert!(
        patches.iter().all(|(s, _)| *s == StatusCode::OK),
        "{patches:?}"
    );
    let stream = shared::ids::parse_lead_id(&id).unwrap();
    let versions: Vec<i64> = sqlx::query_scalar(
        "SELECT stream_version FROM events WHERE stream_id = $1 ORDER BY stream_version",
    )
    .bind(stream)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(versions, (1..=versions.len() as i64).collect::<Vec<_>>());
    assert_eq!(versions.len(), 17, "one event per PATCH");

    let racing = join_all((0..9).map(|i| {
        let method = if i == 4 {
            reqwest::Method::DELETE
        } else {
            reqwest::Method::PATCH
        };
        app.call(
            method,
            &path,
            Some(&k),
            Some(json!({"city": format!("Late {i}")})),
        )
    }))
    .await;
    let statuses: Vec<u16> = racing.iter().map(|(s, _)| s.as_u16()).collect();
    assert_eq!(statuses[4], 204, "{racing:?}");
    assert!(
        statuses.iter().all(|s| [200, 204, 404].contains(s)),
        "{racing:?}"
    );
    let (status, _) = leads.get(&id).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the lead is gone");
}
