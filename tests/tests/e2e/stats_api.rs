//! Account statistics (`GET /stats`, `/stats/categories`, `/stats/cities`): exact counts kept
//! by the read model's counters through creates, updates, deletes and rescoring, read your
//! own writes, equal after a rebuild, the creation windows at their hour boundary, tenancy,
//! and bad parameters refused.

use leadstream_tests::{assert_error, wait_for_projection, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

async fn stats(app: &TestApp, key: &str, path: &str) -> Value {
    let (status, body) = app.call(Method::GET, path, Some(key), None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

fn pairs(list: &Value) -> Vec<(String, i64)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap().to_owned(),
                v["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn named(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
    pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect()
}

async fn create(app: &TestApp, key: &str, lead: Value) -> String {
    let (status, body) = app.post(key, "/leads", lead).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn stats_follow_creates_updates_deletes_and_scores(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let k = app.register().await.api_key;
    app.rule(&k, json!({"name": "rating", "expression": "rating * 10"}))
        .await;
    let empty = stats(&app, &k, "/stats").await["data"].clone();
    assert_eq!(empty["total"], 0);
    assert_eq!(empty["average_score"], Value::Null);
    assert_eq!(empty["by_status"], json!([]));

    let leads = [
        json!({"name": "Le Bistro", "source": "maps", "category": "restaurant", "city": "Paris",
               "email": "a@bistro.test", "rating": 9}),
        json!({"name": "Chez Nous", "source": "maps", "category": "restaurant", "city": "Paris",
               "phone": "+33 1 23 45 67 89", "rating": 5}),
        json!({"name": "Bar Zero", "source": "form", "category": "bar", "city": "Lyon",
               "email": "", "rating": 8}),
        json!({"name": "Nowhere", "source": "maps"}),
    ];
    let mut ids = Vec::new();
    for lead in leads {
        ids.push(create(&app, &k, lead).await);
    }
    // Read-your-writes: no wait before reading.
    let s = stats(&app, &k, "/stats").await["data"].clone();
    assert_eq!(s["total"], 4, "{s}");
    assert_eq!(pairs(&s["by_status"]), named(&[("new", 4)]));
    assert_eq!(pairs(&s["by_source"]), named(&[("maps", 3), ("form", 1)]));
    assert_eq!(s["with_email"], 1, "an empty e-mail is none");
    assert_eq!(s["with_phone"], 1);
    assert_eq!(s["scored_above_70"], 2, "90 and 80");
    assert_eq!(s["average_score"], 55.0, "(90 + 50 + 80 + 0) / 4");
    assert_eq!(s["created_last_7_days"], 4);
    assert_eq!(s["created_last_30_days"], 4);
    let cats = stats(&app, &k, "/stats/categories").await;
    assert_eq!(
        pairs(&cats["data"]),
        named(&[("restaurant", 2), ("bar", 1)])
    );
    assert_eq!(
        cats["meta"],
        json!({"limit": 20, "total": 2, "has_more": false})
    );
    let cities = stats(&app, &k, "/stats/cities?limit=1").await;
    assert_eq!(pairs(&cities["data"]), named(&[("Paris", 2)]));
    assert_eq!(cities["meta"]["has_more"], true);

    // An update moves a lead between values; a delete takes it away everywhere.
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/leads/{}", ids[1]),
            Some(&k),
            Some(json!({"city": "Lyon", "status": "contacted", "rating": 9.5})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/leads/{}", ids[0]),
            Some(&k),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let s = stats(&app, &k, "/stats").await["data"].clone();
    assert_eq!(s["total"], 3, "{s}");
    assert_eq!(
        pairs(&s["by_status"]),
        named(&[("new", 2), ("contacted", 1)])
    );
    assert_eq!(s["with_email"], 0);
    assert_eq!(s["scored_above_70"], 2, "95 and 80");
    assert_eq!(s["average_score"], 58.33, "(95 + 80 + 0) / 3");
    let cities = stats(&app, &k, "/stats/cities").await;
    assert_eq!(pairs(&cities["data"]), named(&[("Lyon", 2)]));

    // Another account sees only its own.
    let other = app.register().await.api_key;
    assert_eq!(stats(&app, &other, "/stats").await["data"]["total"], 0);
    assert_eq!(
        stats(&app, &other, "/stats/cities").await["data"],
        json!([])
    );

    // A rebuild counts again from the rebuilt tables and comes to the same figures.
    let before = stats(&app, &k, "/stats").await;
    projector::rebuild::rebuild(&pool, |_| {}).await.unwrap();
    assert_eq!(stats(&app, &k, "/stats").await, before);
    // And the counters keep counting on the swapped-in tables.
    create(
        &app,
        &k,
        json!({"name": "After", "source": "maps", "city": "Lyon"}),
    )
    .await;
    let s = stats(&app, &k, "/stats").await["data"].clone();
    assert_eq!(s["total"], 4, "{s}");
    assert_eq!(
        pairs(&stats(&app, &k, "/stats/cities").await["data"]),
        named(&[("Lyon", 3)])
    );
}

/// The creation windows count to the second: whole hours from the counters, the hour the
/// window starts in from the read model.
#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn creation_windows_are_exact_at_their_start(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let k = app.register().await.api_key;
    let now = chrono::Utc::now().timestamp();
    let day = 86_400;
    // created at: just inside 7 days, just outside, inside 30 days, outside 30 days.
    let ages = [7 * day - 120, 7 * day + 120, 20 * day, 31 * day];
    let mut ids = Vec::new();
    for i in 0..ages.len() {
        ids.push(create(&app, &k, json!({"name": format!("old {i}"), "source": "x"})).await);
    }
    wait_for_projection(&pool).await;
    for (id, age) in ids.iter().zip(ages) {
        let uuid = uuid::Uuid::parse_str(id.trim_start_matches("cl_")).unwrap();
        // Backdated in the read model (as an import of old leads would be).
        sqlx::query("UPDATE lead_view SET created_at = $1 WHERE lead_id = $2")
            .bind(now - age)
            .bind(uuid)
            .execute(&pool)
            .await
            .unwrap();
    }
    let s = stats(&app, &k, "/stats").await["data"].clone();
    assert_eq!(s["total"], 4);
    assert_eq!(s["created_last_7_days"], 1, "{s}");
    assert_eq!(s["created_last_30_days"], 3, "{s}");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn bad_stats_parameters_are_400(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    for path in [
        "/stats?limit=5",
        "/stats/categories?limit=0",
        "/stats/categories?limit=101",
        "/stats/cities?limit=ten",
        "/stats/cities?sort=name",
    ] {
        let (status, body) = app.call(Method::GET, path, Some(&k), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_error(&body, "bad_request");
    }
    let (status, _) = app.call(Method::GET, "/stats", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// The longest values the write side takes (1,000 CJK characters, 3,000 bytes; 250 emoji)
/// are counted like any other and hold nothing up: a b-tree entry holds at most ~2.7 kB.
#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn the_longest_values_are_counted_and_stop_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    // Varied characters: a repeated one compresses and would fit an index entry anyway.
    let city: String = (0..1000u32)
        .map(|i| char::from_u32(0x4E00 + (i * 7919) % 20_000).unwrap())
        .collect();
    let category: String = (0..250u32)
        .map(|i| char::from_u32(0x1F300 + (i * 31) % 700).unwrap_or('🍣'))
        .collect();
    let id = create(
        &app,
        &k,
        json!({"name": "Long", "source": "x", "city": city, "category": category}),
    )
    .await;
    let (status, lead) = app
        .call(Method::GET, &format!("/leads/{id}"), Some(&k), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{lead}");
    let cities = stats(&app, &k, "/stats/cities").await;
    assert_eq!(pairs(&cities["data"]), vec![(city.clone(), 1)]);
    let cats = stats(&app, &k, "/stats/categories").await;
    assert_eq!(pairs(&cats["data"]), vec![(category.clone(), 1)]);
    // And the next lead is counted too.
    create(
        &app,
        &k,
        json!({"name": "Next", "source": "x", "city": city}),
    )
    .await;
    let cities = stats(&app, &k, "/stats/cities").await;
    assert_eq!(pairs(&cities["data"]), vec![(city, 2)]);
}
