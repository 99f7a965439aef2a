//! Scoring rules and scores through the HTTP API (SPEC §2, §3, §6): rule CRUD and its
//! validation, scores computed in the same command as every lead change, `LeadScored` only on
//! a change, on-request rescoring with its breakdown, and the background rescore after a
//! rule change reaching every lead (the jobs themselves: `rescore_jobs.rs`).

use leadstream_tests::{assert_error, eventually, wait_for_projection, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::Duration;

/// Waits until the account has no unfinished rescore job.
async fn wait_for_jobs(app: &TestApp, key: &str) -> Value {
    eventually(
        "every rescore job of the account done or superseded",
        Duration::from_secs(10),
        async || {
            let (status, body) = app.rules(key).jobs().await;
            assert_eq!(status, StatusCode::OK);
            let jobs = body["jobs"].as_array().unwrap();
            jobs.iter()
                .all(|j| j["status"] == "done" || j["status"] == "superseded")
                .then_some(body)
        },
    )
    .await
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn rules_are_created_listed_by_priority_merged_on_update_and_deleted(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (k, other) = (app.register().await.api_key, app.register().await.api_key);
    let a = app
        .rule(
            &k,
            json!({"name": "Has email", "expression": "email != nil ? 30 : 0", "priority": 5}),
        )
        .await;
    assert_eq!(a["weight"], json!(1.0));
    assert_eq!(a["priority"], json!(5));
    assert!(a["created_at"].is_i64() && a["updated_at"].is_i64());
    let b = app
        .rule(
            &k,
            json!({"name": "Rating", "expression": "rating * 10", "weight": 0.5}),
        )
        .await;
    assert_eq!(b["priority"], json!(0));

    let rules = app.rules(&k);
    let (_, list) = rules.list().await;
    let names: Vec<&str> = list["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Rating", "Has email"], "ordered by priority");

    let id = a["id"].as_str().unwrap();
    let (status, updated) = rules
        .update(id, json!({"weight": 2, "id": "ignored"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["weight"], json!(2.0));
    assert_eq!(
        updated["expression"], a["expression"],
        "absent fields unchanged"
    );
    assert_eq!(updated["priority"], json!(5));
    let (status, got) = rules.get(id).await;
    assert_eq!((status, got.clone()), (StatusCode::OK, updated));

    // Another account sees none of it.
    for (method, path) in [
        (Method::GET, format!("/scoring-rules/{id}")),
        (Method::DELETE, format!("/scoring-rules/{id}")),
    ] {
        let (status, body) = app.call(method, &path, Some(&other), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_error(&body, "not_found");
    }
    let (_, list) = app.rules(&other).list().await;
    assert_eq!(list, json!({"rules": []}));

    let (status, body) = rules.delete(id).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    for path in [
        format!("/scoring-rules/{id}"),
        "/scoring-rules/not-a-uuid".into(),
    ] {
        let (status, _) = app.get(&k, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let events: Vec<String> = sqlx::query_scalar(
        "SELECT event_type FROM events WHERE stream_type = 'scoring_rule' ORDER BY position",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        events,
        [
            "ScoringRuleCreated",
            "ScoringRuleCreated",
            "ScoringRuleUpdated",
            "ScoringRuleDeleted"
        ]
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn bad_rules_are_refused_with_the_position_and_write_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let before = app.event_count().await;
    let cases = [
        (
            json!({"name": "r", "expression": "rating > > 3"}),
            "invalid_expression",
            "position 10",
        ),
        (
            json!({"name": "r", "expression": "revenue > 3"}),
            "invalid_expression",
            "unknown field 'revenue'",
        ),
        (
            json!({"name": "r", "expression": "\"open"}),
            "invalid_expression",
            "unterminated",
        ),
        (
            json!({"name": "r"}),
            "bad_request",
            "'expression' is required",
        ),
        (
            json!({"expression": "1"}),
            "bad_request",
            "'name' is required",
        ),
        (
            json!({"name": "r", "expression": "1", "weight": "heavy"}),
            "bad_request",
            "'weight'",
        ),
        (
            json!({"name": "r", "expression": "1", "priority": 1.5}),
            "bad_request",
            "'priority'",
        ),
        (json!(["not", "an", "object"]), "bad_request", "JSON object"),
    ];
    for (body, code, fragment) in cases {
        let (status, answer) = app.rules(&k).create(body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_error(&answer, code);
        assert!(
            answer["message"].as_str().unwrap().contains(fragment),
            "{body}: {answer}"
        );
    }
    let r = app.rule(&k, json!({"name": "ok", "expression": "1"})).await;
    let after_create = app.event_count().await;
    let (status, answer) = app
        .rules(&k)
        .update(r["id"].as_str().unwrap(), json!({"expression": "1 +"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&answer, "invalid_expression");
    assert_eq!(
        app.event_count().await,
        after_create,
        "a refused update writes nothing"
    );
    assert_eq!(after_create, before + 1);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn every_lead_change_rescores_in_the_same_command(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let leads = app.leads(&k);
    // No rules: no LeadScored at all.
    let (_, plain) = leads.create(json!({"name": "Plain", "source": "s"})).await;
    assert_eq!(plain["score"], json!(0.0));
    assert_eq!(app.scored_events().await, 0);

    app.rule(
        &k,
        json!({"name": "email", "expression": "email != nil ? 30 : 0"}),
    )
    .await;
    app.rule(
        &k,
        json!({"name": "rating", "expression": "rating >= 4 ? rating * 10 : 0", "weight": 0.5}),
    )
    .await;
    app.rule(
        &k,
        json!({"name": "saas", "expression": "attr_industry == \"saas\" ? 25 : 0"}),
    )
    .await;
    wait_for_jobs(&app, &k).await;

    let (status, lead) = leads
        .create(json!({"name": "Acme", "source": "s", "email": "a@acme.com", "rating": 4.5}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(lead["score"], json!(52.5), "30 + 45 × 0.5");
    let id = lead["id"].as_str().unwrap().to_owned();

    // A merge (same e-mail) adds an attribute: +25.
    let (status, merged) = leads
        .create(json!({"name": "Acme", "source": "t", "email": "A@acme.com",
                       "attributes": [{"name": "industry", "type": "text", "value": "saas"}]}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(merged["score"], json!(77.5));
    // An update clears the e-mail: -30.
    let (_, updated) = leads.update(&id, json!({"email": null})).await;
    assert_eq!(updated["score"], json!(47.5));
    // An update that leaves the score alone writes no LeadScored.
    let scored = app.scored_events().await;
    let (_, same) = leads.update(&id, json!({"description": "new text"})).await;
    assert_eq!(same["score"], json!(47.5));
    assert_eq!(app.scored_events().await, scored);

    // The read model has it: filter and sort by score.
    wait_for_projection(&app.pool).await;
    let (_, got) = leads.get(&id).await;
    assert_eq!(got["score"], json!(47.5));
    let (_, list) = leads
        .list("filter=and.gte.score.40&sort_by=score&sort_order=desc")
        .await;
    let ids: Vec<&str> = list["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str()]);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn on_request_scores_and_their_breakdown(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (k, other) = (app.register().await.api_key, app.register().await.api_key);
    let leads = app.leads(&k);
    let id = leads
        .create_id(json!({"name": "B", "source": "s", "rating": 5, "review_count": 0}))
        .await;
    app.rule(
        &k,
        json!({"name": "rating", "expression": "rating * 10", "weight": 1.5}),
    )
    .await;
    app.rule(
        &k,
        json!({"name": "per review", "expression": "100 / review_count"}),
    )
    .await;
    wait_for_jobs(&app, &k).await;

    let (status, body) = leads.rescore(&id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"id": id, "score": 75.0}));

    let (status, why) = leads.score(&id).await;
    assert_eq!(status, StatusCode::OK, "{why}");
    assert_eq!(why["score"], json!(75.0));
    assert_eq!(why["computed"], json!(75.0));
    let rules = why["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2);
    let by_name = |n: &str| rules.iter().find(|r| r["name"] == n).unwrap().clone();
    assert_eq!(by_name("rating")["points"], json!(75.0));
    assert_eq!(by_name("per review")["points"], json!(0.0));
    assert_eq!(by_name("per review")["division_by_zero"], json!(true));

    for (method, path) in [
        (Method::POST, format!("/leads/{id}/score")),
        (Method::GET, format!("/leads/{id}/score")),
        (Method::POST, "/leads/cl_nope/score".to_owned()),
    ] {
        let (status, body) = app.call(method, &path, Some(&other), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_error(&body, "not_found");
    }

    let (status, all) = app
        .call(Method::POST, "/leads/score/batch", Some(&k), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(
        all,
        json!({"count": 1, "leads": [{"id": id, "score": 75.0}]})
    );
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_rule_change_rescores_every_lead_in_the_background(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let leads: Vec<Value> = (0..40)
        .map(|i| json!({"name": format!("L{i}"), "source": "s", "rating": (i % 5) as f64}))
        .collect();
    let (status, created) = app.leads(&k).create_batch(json!(leads)).await;
    assert_eq!(status, StatusCode::CREATED);
    // The rescore reads states from the read model only where a row is at its stream's
    // version: make one row look stale (and wrong); its score must come from the events.
    wait_for_projection(&app.pool).await;
    let tampered =
        uuid::Uuid::parse_str(&created["created"][3]["id"].as_str().unwrap()[3..]).unwrap();
    for sql in [
        "UPDATE lead_view SET version = 0, rating = 0 WHERE lead_id = $1",
        "UPDATE lead_scores SET version = 0 WHERE lead_id = $1",
    ] {
        sqlx::query(sql)
            .bind(tampered)
            .execute(&app.pool)
            .await
            .unwrap();
    }
    let r = app
        .rule(&k, json!({"name": "rating", "expression": "rating * 10"}))
        .await;
    let jobs = wait_for_jobs(&app, &k).await;
    assert_eq!(jobs["jobs"][0]["status"], "done");
    assert_eq!(jobs["jobs"][0]["done"], json!(40));
    assert_eq!(
        jobs["jobs"][0]["changed"],
        json!(32),
        "rating 0 keeps score 0"
    );
    assert_eq!(app.scored_events().await, 32);
    let scored: f64 = sqlx::query_scalar(
        "SELECT (payload->>'score')::float8 FROM events WHERE stream_id = $1 AND event_type = 'LeadScored'",
    )
    .bind(tampered)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(scored, 30.0, "lead 3 has rating 3 in its events");
    sqlx::query("UPDATE lead_view SET rating = 3 WHERE lead_id = $1")
        .bind(tampered)
        .execute(&app.pool)
        .await
        .unwrap();

    wait_for_projection(&app.pool).await;
    let check = |want: fn(f64) -> f64| {
        let app = &app;
        let k = k.clone();
        async move {
            let (_, list) = app.leads(&k).list("limit=100").await;
            for lead in list["leads"].as_array().unwrap() {
                let rating = lead["rating"].as_f64().unwrap();
                assert_eq!(lead["score"].as_f64().unwrap(), want(rating), "{lead}");
            }
        }
    };
    check(|r| r * 10.0).await;

    let id = r["id"].as_str().unwrap();
    app.rules(&k).update(id, json!({"weight": 2})).await;
    wait_for_jobs(&app, &k).await;
    wait_for_projection(&app.pool).await;
    check(|r| (r * 20.0).min(100.0)).await;

    app.rules(&k).delete(id).await;
    wait_for_jobs(&app, &k).await;
    wait_for_projection(&app.pool).await;
    check(|_| 0.0).await;
}
