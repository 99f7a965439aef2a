//! The attribute endpoints (SPEC §2, §3): add, list (wrapped), set a value (`{"value": X}` or
//! the raw value, as the Python SDK sends it), remove; every validation error, 404s, tenancy,
//! and scores following attribute changes.

use leadstream_tests::{assert_error, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

async fn lead(app: &TestApp, key: &str) -> String {
    let lead = json!({"name": "Attr Co", "source": "s",
                      "attributes": [{"name": "seats", "type": "number", "value": 3}]});
    app.leads(key).create_id(lead).await
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn attributes_are_added_listed_set_and_removed(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let leads = app.leads(&k);
    let id = lead(&app, &k).await;

    let (status, attr) = leads
        .add_attribute(
            &id,
            json!({"name": "plan", "type": "text", "value": "pro", "id": "ignored"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{attr}");
    assert_eq!(
        (
            attr["name"].clone(),
            attr["type"].clone(),
            attr["value"].clone()
        ),
        (json!("plan"), json!("text"), json!("pro"))
    );
    let attr_id = attr["id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&attr_id).is_ok());

    let (status, body) = leads.attributes(&id).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["seats", "plan"]);

    // The Python SDK sends the raw value; others wrap it.
    let (status, raw) = leads
        .set_attribute(&id, &attr_id, json!("enterprise"))
        .await;
    assert_eq!(status, StatusCode::OK, "{raw}");
    assert_eq!(raw["value"], json!("enterprise"));
    assert_eq!(raw["id"], json!(attr_id), "the id stays");
    let (status, wrapped) = leads
        .set_attribute(&id, &attr_id, json!({"value": "team"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(wrapped["value"], json!("team"));

    let (_, got) = leads.get(&id).await;
    let plan = got["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "plan")
        .unwrap()
        .clone();
    assert_eq!(plan["value"], json!("team"));

    let (status, body) = leads.remove_attribute(&id, &attr_id).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (_, body) = leads.attributes(&id).await;
    assert_eq!(body["attributes"].as_array().unwrap().len(), 1);
    let (status, body) = leads.remove_attribute(&id, &attr_id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn bad_attributes_are_refused_and_write_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let leads = app.leads(&k);
    let id = lead(&app, &k).await;
    let seats = {
        let (_, body) = leads.attributes(&id).await;
        body["attributes"][0]["id"].as_str().unwrap().to_owned()
    };
    let before = app.lead_event_count().await;
    let path = format!("/leads/{id}/attributes");
    for (body, code, fragment) in [
        (
            json!({"type": "text", "value": "x"}),
            StatusCode::BAD_REQUEST,
            "'name'",
        ),
        (
            json!({"name": "has space", "type": "text", "value": "x"}),
            StatusCode::BAD_REQUEST,
            "'name'",
        ),
        (
            json!({"name": "n", "type": "date", "value": "x"}),
            StatusCode::BAD_REQUEST,
            "'type'",
        ),
        (
            json!({"name": "n", "type": "number", "value": "12"}),
            StatusCode::BAD_REQUEST,
            "does not match type 'number'",
        ),
        (
            json!({"name": "n", "type": "bool", "value": 1}),
            StatusCode::BAD_REQUEST,
            "does not match type 'bool'",
        ),
        (
            json!({"name": "n", "type": "list", "value": {}}),
            StatusCode::BAD_REQUEST,
            "does not match type 'list'",
        ),
        (
            json!(["name"]),
            StatusCode::BAD_REQUEST,
            "must be an object",
        ),
        (
            json!({"name": "seats", "type": "number", "value": 4}),
            StatusCode::CONFLICT,
            "already has an attribute 'seats'",
        ),
    ] {
        let (status, answer) = app.post(&k, &path, body.clone()).await;
        assert_eq!(status, code, "{body}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(fragment),
            "{body}: {answer}"
        );
    }
    for (value, fragment) in [
        (json!("three"), "type 'number'"),
        (json!({"value": true}), "type 'number'"),
    ] {
        let (status, answer) = leads.set_attribute(&id, &seats, value).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_error(&answer, "bad_request");
        assert!(
            answer["message"].as_str().unwrap().contains(fragment),
            "{answer}"
        );
    }
    for attr in [uuid::Uuid::new_v4().to_string(), "not-a-uuid".into()] {
        let (status, answer) = leads.set_attribute(&id, &attr, json!(1)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{attr}");
        assert_error(&answer, "not_found");
    }
    let (status, _) = leads
        .add_attribute(
            "cl_nope",
            json!({"name": "n", "type": "text", "value": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.lead_event_count().await, before, "nothing written");
    // The same value again is a success that writes nothing.
    let (status, _) = leads.set_attribute(&id, &seats, json!({"value": 3})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.lead_event_count().await, before);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn another_accounts_lead_and_attributes_are_404_everywhere(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (alice, bob) = (app.register().await.api_key, app.register().await.api_key);
    let id = lead(&app, &alice).await;
    let (_, body) = app.leads(&alice).attributes(&id).await;
    let attr = body["attributes"][0]["id"].as_str().unwrap().to_owned();
    let calls = [
        (Method::GET, format!("/leads/{id}/attributes"), None),
        (
            Method::POST,
            format!("/leads/{id}/attributes"),
            Some(json!({"name": "n", "type": "text", "value": "x"})),
        ),
        (
            Method::PUT,
            format!("/leads/{id}/attributes/{attr}"),
            Some(json!(9)),
        ),
        (
            Method::DELETE,
            format!("/leads/{id}/attributes/{attr}"),
            None,
        ),
    ];
    for (method, path, body) in calls {
        let (status, answer) = app.call(method.clone(), &path, Some(&bob), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_error(&answer, "not_found");
    }
    let (_, body) = app.leads(&alice).attributes(&id).await;
    assert_eq!(body["attributes"][0]["value"], json!(3), "untouched");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn attribute_changes_rescore_the_lead(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let leads = app.leads(&k);
    let id = lead(&app, &k).await;
    app.rule(
        &k,
        json!({"name": "seats", "expression": "attr_seats * 10"}),
    )
    .await;
    let (_, body) = leads.attributes(&id).await;
    let seats = body["attributes"][0]["id"].as_str().unwrap().to_owned();
    leads.set_attribute(&id, &seats, json!(5)).await;
    let (_, lead) = leads.get(&id).await;
    assert_eq!(lead["score"], json!(50.0));
    leads.remove_attribute(&id, &seats).await;
    let (_, lead) = leads.get(&id).await;
    assert_eq!(lead["score"], json!(0.0), "attr_seats is nil now");
}
