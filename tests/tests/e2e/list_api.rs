//! `GET /leads`: every operator against a data set whose answers the test computes itself,
//! keyset paging (never a repeat or a gap, even under concurrent writes), cursors tied to their
//! sort and refused when altered, `has_more` exactly when `next_cursor` is set, tenancy.

#![allow(clippy::manual_is_multiple_of)] // the expected sets read best as i % n

use leadstream_tests::{assert_error, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::BTreeSet;

const CITIES: [&str; 4] = ["Paris", "Lyon", "Berlin", "New York"];

/// 40 leads with every kind of field, deterministic.
fn data() -> Vec<Value> {
    (0..40)
        .map(|i: usize| {
            let mut l = json!({
                "name": format!("Lead {i:02}"),
                "source": if i % 3 == 0 { "website" } else { "import" },
                "city": CITIES[i % 4],
                "rating": (i % 10) as f64 / 2.0,
                "review_count": i * 7,
                "tags": match i % 4 { 0 => json!([]), 1 => json!(["restaurant"]), 2 => json!(["restaurant", "vip"]), _ => json!(["vip"]) },
                "attributes": [{"name": "employees", "type": "number", "value": i * 10},
                               {"name": "cuisine", "type": "text", "value": if i % 2 == 0 { "Greek" } else { "Thai" }}],
            });
            let o = l.as_object_mut().unwrap();
            if i % 5 != 0 {
                o.insert("email".into(), json!(format!("lead{i}@Example.com")));
            }
            if i % 2 == 0 {
                o.insert("latitude".into(), json!(48.85 + i as f64 * 0.01));
                o.insert("longitude".into(), json!(2.35));
            }
            l
        })
        .collect()
}

async fn list_all(app: &TestApp, key: &str, params: &str) -> (StatusCode, Vec<Value>, Value) {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = format!("limit=7&{params}");
        if let Some(c) = &cursor {
            query.push_str(&format!("&cursor={c}"));
        }
        let (status, body) = app.leads(key).list(&query).await;
        if status != StatusCode::OK {
            return (status, out, body);
        }
        let leads = body["leads"].as_array().unwrap();
        assert_eq!(body["count"].as_u64().unwrap() as usize, leads.len());
        assert_eq!(
            body["has_more"].as_bool().unwrap(),
            body["next_cursor"].is_string(),
            "{body}"
        );
        out.extend(leads.iter().cloned());
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return (status, out, body),
        }
    }
}

fn names(leads: &[Value]) -> BTreeSet<String> {
    leads
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_owned())
        .collect()
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn every_operator_returns_exactly_the_leads_the_test_expects(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let leads = data();
    let (status, _) = app.leads(&k).create_batch(json!(leads)).await;
    assert_eq!(status, StatusCode::CREATED);
    type Pred = fn(usize) -> bool;
    let cases: Vec<(&str, Pred)> = vec![
        ("filter=and.eq.city.paris", |i| i % 4 == 0),
        ("filter=and.neq.city.PARIS", |i| i % 4 != 0),
        ("filter=and.contains.city.er", |i| i % 4 == 2),
        ("filter=and.not_contains.city.o", |i| {
            i % 4 == 0 || i % 4 == 2
        }),
        ("filter=and.starts_with.city.new", |i| i % 4 == 3),
        ("filter=and.ends_with.city.YORK", |i| i % 4 == 3),
        ("filter=and.eq.city.New+York", |i| i % 4 == 3),
        ("filter=and.in.city.lyon,berlin", |i| {
            i % 4 == 1 || i % 4 == 2
        }),
        ("filter=and.is_empty.email", |i| i % 5 == 0),
        ("filter=and.not_empty.email", |i| i % 5 != 0),
        ("filter=and.eq.email.LEAD7@example.com", |i| i == 7),
        ("filter=and.gte.rating.4", |i| i % 10 >= 8),
        ("filter=and.lt.rating.1.0", |i| i % 10 < 2),
        ("filter=and.eq.review_count.70", |i| i == 10),
        ("filter=and.neq.review_count.7", |i| i != 1),
        ("filter=and.gt.review_count.2.1e2", |i| i * 7 > 210),
        ("filter=and.array_contains.tags.vip", |i| i % 4 >= 2),
        ("filter=and.array_not_contains.tags.restaurant", |i| {
            i % 4 == 0 || i % 4 == 3
        }),
        ("filter=and.array_empty.tags", |i| i % 4 == 0),
        ("filter=and.array_not_empty.tags", |i| i % 4 != 0),
        ("filter=and.is_set.location", |i| i % 2 == 0),
        ("filter=and.is_not_set.location", |i| i % 2 == 1),
        // 48.85 + i*0.01 degrees north of Paris: 1 km is about 0.009 degrees.
        ("filter=and.within_radius.location.48.85,2.35,5", |i| {
            i % 2 == 0 && (i as f64 * 0.01 * 111.2) <= 5.0
        }),
        ("filter=and.eq.attr:cuisine.greek", |i| i % 2 == 0),
        ("filter=and.eq.attr:employees.100", |i| i == 10),
        ("filter=and.gte.attr:employees.350", |i| i * 10 >= 350),
        ("filter=and.in.attr:employees.10,20", |i| i == 1 || i == 2),
        ("filter=and.is_empty.attr:missing", |_| true),
        ("filter=and.eq.city.Paris&filter=or.eq.city.Lyon", |i| {
            i % 4 <= 1
        }),
        (
            "filter=and.is_not_empty.email&filter=or.array_contains.tags.vip",
            |i| i % 5 != 0 || i % 4 >= 2,
        ),
        (
            "filter=and.eq.city.Paris&filter=or.eq.city.Lyon&filter=and.gte.rating.2",
            |i| i % 4 <= 1 && (i % 10) as f64 / 2.0 >= 2.0,
        ),
        (
            "filter=and.eq.source.website&filter=and.eq.city.paris",
            |i| i % 3 == 0 && i % 4 == 0,
        ),
    ];
    for (params, pred) in cases {
        let (status, got, body) = list_all(&app, &k, params).await;
        assert_eq!(status, StatusCode::OK, "{params}: {body}");
        let expected: BTreeSet<String> = (0..40)
            .filter(|i| pred(*i))
            .map(|i| format!("Lead {i:02}"))
            .collect();
        assert_eq!(names(&got), expected, "{params}");
        assert_eq!(got.len(), expected.len(), "{params}: no lead twice");
    }
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn paging_follows_every_sort_in_order_without_repeats_or_gaps(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    // Scores 0-18 in ties of four (the batch scores each lead as it creates it).
    app.rules(&k)
        .create(json!({"name": "rated", "expression": "rating * 4"}))
        .await;
    app.leads(&k).create_batch(json!(data())).await;
    let (status, high, body) = list_all(&app, &k, "filter=and.gte.score.10").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        names(&high),
        (0..40)
            .filter(|i| i % 10 >= 5)
            .map(|i| format!("Lead {i:02}"))
            .collect(),
        "rating >= 2.5 scores >= 10"
    );
    for (sort, desc) in [
        ("score", true),
        ("score", false),
        ("rating", true),
        ("rating", false),
        ("name", false),
        ("city", true),
        ("created_at", false),
        ("attr:employees", true),
        ("review_count", false),
    ] {
        let order = if desc { "DESC" } else { "asc" };
        let (status, got, body) =
            list_all(&app, &k, &format!("sort_by={sort}&sort_order={order}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(got.len(), 40, "{sort} {order}");
        assert_eq!(names(&got).len(), 40, "{sort} {order}: no repeats");
        let key = |l: &Value| match sort {
            "name" | "city" => json!(l[sort].as_str().unwrap().to_lowercase()),
            "attr:employees" => l["attributes"][0]["value"].clone(),
            other => l[other].clone(),
        };
        for w in got.windows(2) {
            let (a, b) = (key(&w[0]), key(&w[1]));
            let ordered = match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => {
                    if desc {
                        x >= y
                    } else {
                        x <= y
                    }
                }
                _ => {
                    if desc {
                        a.as_str() >= b.as_str()
                    } else {
                        a.as_str() <= b.as_str()
                    }
                }
            };
            assert!(ordered, "{sort} {order}: {a} then {b}");
        }
    }
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn paging_under_concurrent_inserts_and_deletes_never_repeats_or_skips_a_stable_lead(
    pool: PgPool,
) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let leads = app.leads(&k);
    let (_, stable) = leads.create_batch(json!(data())).await;
    let stable_ids: BTreeSet<String> = stable["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut round = 0;
    loop {
        // Between pages: insert new leads and delete some of the ones inserted before.
        let (_, fresh) = leads
            .create_batch(json!([
                {"name": format!("Churn {round} a"), "source": "s", "rating": 2.5},
                {"name": format!("Churn {round} b"), "source": "s", "rating": 4.5}
            ]))
            .await;
        if round > 0 {
            let id = fresh["created"][0]["id"].clone();
            leads.delete_batch(json!([id])).await;
        }
        round += 1;
        let mut query = "limit=5&sort_by=rating&sort_order=DESC".to_owned();
        if let Some(c) = &cursor {
            query.push_str(&format!("&cursor={c}"));
        }
        let (_, body) = leads.list(&query).await;
        seen.extend(
            body["leads"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["id"].as_str().unwrap().to_owned()),
        );
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let stable_seen: Vec<&String> = seen.iter().filter(|id| stable_ids.contains(*id)).collect();
    assert_eq!(stable_seen.len(), 40, "every stable lead exactly once");
    assert_eq!(stable_seen.iter().collect::<BTreeSet<_>>().len(), 40);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn bad_filters_sorts_and_cursors_are_400_in_the_error_shape(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let leads = app.leads(&k);
    leads.create_batch(json!(data())).await;
    for (params, code) in [
        ("filter=and.between.rating.4", "invalid_filter"),
        ("filter=and.eq.planet.mars", "invalid_filter"),
        ("sort_by=tags", "bad_request"),
        ("sort_order=sideways", "bad_request"),
        ("limit=many", "bad_request"),
        ("cursor=garbage", "invalid_cursor"),
    ] {
        let (status, body) = leads.list(params).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{params}");
        assert_error(&body, code);
    }
    let (_, first) = leads.list("limit=5&sort_by=rating").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    for params in [
        format!("sort_by=name&cursor={cursor}"),
        format!("sort_by=rating&sort_order=desc&cursor={cursor}"),
    ] {
        let (status, body) = leads.list(&params).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{params}");
        assert_error(&body, "invalid_cursor");
    }
    let mut tampered = cursor.to_owned();
    let flip = if tampered.starts_with('e') { "f" } else { "e" };
    tampered.replace_range(0..1, flip);
    let (status, _) = leads
        .list(&format!("sort_by=rating&cursor={tampered}"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn lists_are_tenant_scoped_and_see_the_callers_last_write(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (alice, bob) = (app.register().await.api_key, app.register().await.api_key);
    app.leads(&alice).create_batch(json!(data())).await;
    let (status, got, _) = list_all(&app, &bob, "").await;
    assert_eq!((status, got.len()), (StatusCode::OK, 0));
    for i in 0..15 {
        let bobs = app.leads(&bob);
        let id = bobs
            .create_id(json!({"name": format!("Bob {i}"), "source": "s"}))
            .await;
        bobs.update(&id, json!({"city": "Oslo"})).await;
        let (_, got, _) = list_all(&app, &bob, "filter=and.eq.city.oslo").await;
        assert_eq!(got.len(), i + 1, "update-then-list {i}");
    }
    let (_, empty_page, body) = list_all(&app, &bob, "filter=and.eq.city.atlantis").await;
    assert!(empty_page.is_empty());
    assert_eq!(body["leads"], json!([]));
    assert_eq!(
        (body["has_more"].clone(), body["next_cursor"].clone()),
        (json!(false), Value::Null)
    );
}
