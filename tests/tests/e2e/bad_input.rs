//! Every kind of bad input gets a 4xx in the error shape and writes no event (invariant 10).

use leadstream_tests::{assert_error, Options, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use shared::plan::Plan;
use sqlx::PgPool;

fn bad_leads() -> Vec<(&'static str, Value)> {
    let long = "x".repeat(1001);
    let tags: Vec<String> = (0..101).map(|i| format!("t{i}")).collect();
    vec![
        ("missing name", json!({"source": "s"})),
        ("blank name", json!({"name": "  ", "source": "s"})),
        ("missing source", json!({"name": "n"})),
        ("name not a string", json!({"name": 5, "source": "s"})),
        ("body not an object", json!(["name", "source"])),
        (
            "string over 1000 chars",
            json!({"name": "n", "source": "s", "city": long}),
        ),
        (
            "description over 10000 chars",
            json!({"name": "n", "source": "s", "description": "d".repeat(10_001)}),
        ),
        (
            "latitude out of range",
            json!({"name": "n", "source": "s", "latitude": 90.5, "longitude": 0}),
        ),
        (
            "longitude out of range",
            json!({"name": "n", "source": "s", "latitude": 0, "longitude": 181}),
        ),
        (
            "latitude without longitude",
            json!({"name": "n", "source": "s", "latitude": 10}),
        ),
        (
            "rating not a number",
            json!({"name": "n", "source": "s", "rating": "high"}),
        ),
        (
            "review_count negative",
            json!({"name": "n", "source": "s", "review_count": -3}),
        ),
        (
            "review_count fractional",
            json!({"name": "n", "source": "s", "review_count": 2.5}),
        ),
        (
            "unknown status",
            json!({"name": "n", "source": "s", "status": "won"}),
        ),
        (
            "tags not an array",
            json!({"name": "n", "source": "s", "tags": "a,b"}),
        ),
        (
            "empty tag",
            json!({"name": "n", "source": "s", "tags": ["ok", " "]}),
        ),
        (
            "more than 100 tags",
            json!({"name": "n", "source": "s", "tags": tags}),
        ),
        (
            "attribute name with a space",
            json!({"name": "n", "source": "s", "attributes": [{"name": "a b", "type": "text", "value": "x"}]}),
        ),
        (
            "attribute of unknown type",
            json!({"name": "n", "source": "s", "attributes": [{"name": "a", "type": "date", "value": "x"}]}),
        ),
        (
            "attribute value of the wrong type",
            json!({"name": "n", "source": "s", "attributes": [{"name": "a", "type": "number", "value": "7"}]}),
        ),
        (
            "attribute name given twice",
            json!({"name": "n", "source": "s", "attributes": [{"name": "a", "type": "bool", "value": true}, {"name": "a", "type": "bool", "value": false}]}),
        ),
        (
            "attributes not an array",
            json!({"name": "n", "source": "s", "attributes": {"a": 1}}),
        ),
    ]
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn every_invalid_push_is_a_400_naming_the_problem_and_writes_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let before = app.event_count().await;
    for (case, body) in bad_leads() {
        let (status, resp) = app.leads(&k).create(body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {resp}");
        assert_error(&resp, "bad_request");
        // The same item in a batch is refused on its own, in the 207 errors list.
        let (status, resp) = app.leads(&k).create_batch(json!([body])).await;
        assert_eq!(status, StatusCode::MULTI_STATUS, "{case}: {resp}");
        assert_eq!(resp["failed"], 1, "{case}");
        assert_eq!(resp["errors"][0]["index"], 0, "{case}");
    }
    assert_eq!(
        app.event_count().await,
        before,
        "no bad input wrote an event"
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn every_invalid_update_is_a_400_and_writes_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let leads = app.leads(&k);
    let (_, lead) = leads.create(json!({"name": "n", "source": "s"})).await;
    let id = lead["id"].as_str().unwrap();
    let before = app.event_count().await;
    let cases = vec![
        json!({"name": null}),
        json!({"source": ""}),
        json!({"latitude": 10}),
        json!({"status": "lost"}),
        json!({"review_count": -1}),
        json!({"tags": [""]}),
        json!({"attributes": [{"name": "x", "type": "list", "value": "no"}]}),
        json!("just a string"),
    ];
    for body in cases {
        let (status, resp) = leads.update(id, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {resp}");
        assert_error(&resp, "bad_request");
        let (status, _) = leads.update_batch(json!([id]), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn malformed_json_and_malformed_batch_bodies_are_400(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let before = app.event_count().await;
    let resp = app
        .request(Method::POST, "/leads", Some(&k))
        .header("Content-Type", "application/json")
        .body("{\"name\": \"n\", ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_error(&resp.json().await.unwrap(), "bad_request");
    for (method, body) in [
        (Method::POST, json!({"lead": []})),
        (Method::POST, json!({"leads": []})),
        (Method::POST, json!({"leads": "many"})),
        (Method::PUT, json!({"ids": ["cl_x"]})),
        (Method::PUT, json!({"ids": [], "data": {"city": "x"}})),
        (Method::PUT, json!({"ids": ["cl_x"], "data": [1]})),
        (Method::DELETE, json!({})),
        (Method::DELETE, json!({"ids": "cl_x"})),
    ] {
        let (status, resp) = app
            .call(method.clone(), "/leads/batch", Some(&k), Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {body}: {resp}");
        assert_error(&resp, "bad_request");
    }
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_batch_over_the_plan_limit_is_400_and_writes_nothing(pool: PgPool) {
    let app = TestApp::spawn_with(
        pool,
        Options {
            default_plan: Plan::Free,
            ..Options::default()
        },
    )
    .await;
    let k = app.register().await.api_key;
    let before = app.event_count().await;
    let leads: Vec<Value> = (0..101)
        .map(|i| json!({"name": format!("L{i}"), "source": "s"}))
        .collect();
    let leads_api = app.leads(&k);
    let (status, resp) = leads_api.create_batch(json!(leads)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&resp, "bad_request");
    assert!(resp["message"].as_str().unwrap().contains("100"), "{resp}");
    let ids: Vec<String> = (0..101)
        .map(|_| format!("cl_{}", uuid::Uuid::new_v4()))
        .collect();
    let (status, _) = leads_api
        .update_batch(json!(ids), json!({"city": "x"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = leads_api.delete_batch(json!(ids)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(app.event_count().await, before);

    let ok: Vec<Value> = (0..100)
        .map(|i| json!({"name": format!("L{i}"), "source": "s"}))
        .collect();
    let (status, _) = leads_api.create_batch(json!(ok)).await;
    assert_eq!(status, StatusCode::CREATED, "exactly the limit is fine");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_body_over_10_mb_is_413_in_the_error_shape(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let before = app.event_count().await;
    let huge = format!(
        "{{\"name\": \"n\", \"source\": \"s\", \"description\": \"{}\"}}",
        "x".repeat(10 * 1024 * 1024 + 10)
    );
    let resp = app
        .request(Method::POST, "/leads", Some(&k))
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_error(&resp.json().await.unwrap(), "payload_too_large");
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn malformed_and_unknown_lead_ids_are_404_on_every_write_endpoint(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    for id in [
        "nope",
        "cl_nope",
        "note_0190a6f0-0000-7000-8000-000000000000",
        &format!("cl_{}", uuid::Uuid::new_v4()),
    ] {
        for method in [Method::PUT, Method::PATCH, Method::DELETE] {
            let (status, body) = app
                .call(
                    method.clone(),
                    &format!("/leads/{id}"),
                    Some(&k),
                    Some(json!({"city": "x"})),
                )
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {id}: {body}");
            assert_error(&body, "not_found");
        }
    }
}

/// `(what, method, path, body, the field the message must name)`; `{id}` is a lead's id.
fn bodies_with_nul() -> Vec<(&'static str, Method, &'static str, Value, &'static str)> {
    let nul = "a\u{0}b";
    vec![
        (
            "lead name",
            Method::POST,
            "/leads",
            json!({"name": nul, "source": "s"}),
            "'name'",
        ),
        (
            "lead email",
            Method::POST,
            "/leads",
            json!({"name": "n", "source": "s", "email": nul}),
            "'email'",
        ),
        (
            "lead city",
            Method::POST,
            "/leads",
            json!({"name": "n", "source": "s", "city": nul}),
            "'city'",
        ),
        (
            "a tag",
            Method::POST,
            "/leads",
            json!({"name": "n", "source": "s", "tags": ["ok", nul]}),
            "'tags[1]'",
        ),
        (
            "an attribute name",
            Method::POST,
            "/leads",
            json!({"name": "n", "source": "s", "attributes": [{"name": nul, "type": "text", "value": "v"}]}),
            "'attributes[0].name'",
        ),
        (
            "an attribute value",
            Method::POST,
            "/leads",
            json!({"name": "n", "source": "s", "attributes": [{"name": "x", "type": "text", "value": nul}]}),
            "'attributes[0].value'",
        ),
        (
            "a batch item",
            Method::POST,
            "/leads/batch",
            json!({"leads": [{"name": "n", "source": "s"}, {"name": nul, "source": "s"}]}),
            "'leads[1].name'",
        ),
        (
            "an update",
            Method::PUT,
            "/leads/{id}",
            json!({"city": nul}),
            "'city'",
        ),
        (
            "a new attribute",
            Method::POST,
            "/leads/{id}/attributes",
            json!({"name": "x", "type": "text", "value": nul}),
            "'value'",
        ),
        (
            "a note",
            Method::POST,
            "/leads/{id}/notes",
            json!({"content": nul}),
            "'content'",
        ),
        (
            "a rule name",
            Method::POST,
            "/scoring-rules",
            json!({"name": nul, "expression": "1", "priority": 1}),
            "'name'",
        ),
        (
            "a rule expression",
            Method::POST,
            "/scoring-rules",
            json!({"name": "r", "expression": "city == \"a\u{0}\" ? 1 : 0"}),
            "'expression'",
        ),
        (
            "a field name",
            Method::POST,
            "/leads",
            json!({"name": "n", "source": "s", "x\u{0}": 1}),
            "'x\\u0000'",
        ),
    ]
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_nul_character_in_any_text_field_is_a_400_naming_the_field(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let id = &app
        .leads(&k)
        .create_id(json!({"name": "n", "source": "s"}))
        .await;
    let before = app.event_count().await;
    for (case, method, path, body, field) in bodies_with_nul() {
        let path = path.replace("{id}", id);
        let (status, resp) = app.call(method, &path, Some(&k), Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {resp}");
        assert_error(&resp, "bad_request");
        let message = resp["message"].as_str().unwrap();
        assert!(
            message.contains(field) && message.contains("NUL"),
            "{case}: {message}"
        );
    }
    for path in ["/register", "/login"] {
        for body in [
            json!({"email": "a\u{0}b@example.test", "password": "correct horse"}),
            json!({"email": "ab@example.test", "password": "correct\u{0}horse"}),
        ] {
            let (status, resp) = app.call(Method::POST, path, None, Some(body)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {resp}");
            assert_error(&resp, "bad_request");
        }
    }
    assert_eq!(app.event_count().await, before, "nothing was written");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_nul_character_in_a_list_or_export_filter_is_a_400_before_any_streaming(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    app.leads(&k)
        .create(json!({"name": "n", "source": "s", "city": "ab"}))
        .await;
    for path in [
        "/leads?filter=and.eq.city.a%00b",
        "/leads?sort_by=attr:a%00b",
        "/leads/export?filter=and.eq.city.a%00b",
        "/leads/export?format=json&filter=and.contains.name.%00",
        "/leads/export?format=xlsx&filter=and.eq.city.a%00b",
    ] {
        let resp = app.send(Method::GET, path, Some(&k)).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(resp.headers()["content-type"], "application/json", "{path}");
        let body: Value = resp.json().await.unwrap();
        assert!(
            body["message"].as_str().unwrap().contains("NUL"),
            "{path}: {body}"
        );
    }
}
