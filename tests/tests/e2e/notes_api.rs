//! Notes (SPEC §2, §3): add, list (wrapped, oldest first), edit, delete; `note_<uuid>` ids;
//! validation; another account's note is 404; notes are events of the lead's history and
//! survive a rebuild of the read model.

use leadstream_tests::{assert_error, wait_for_projection, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

async fn lead(app: &TestApp, key: &str) -> String {
    let lead = json!({"name": "Noted", "source": "s"});
    app.leads(key).create_id(lead).await
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn notes_are_added_listed_edited_and_deleted(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let k = app.register().await.api_key;
    let notes = app.notes(&k);
    let id = lead(&app, &k).await;
    let (status, body) = notes.list(&id).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"notes": []})));

    let (status, first) = notes
        .add(&id, json!({"content": "  Called, wants a demo "}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let note_id = first["id"].as_str().unwrap().to_owned();
    assert!(
        note_id.starts_with("note_") && uuid::Uuid::parse_str(&note_id[5..]).is_ok(),
        "{note_id}"
    );
    assert_eq!(first["lead_id"], json!(id));
    assert_eq!(first["content"], json!("Called, wants a demo"));
    assert!(first["created_at"].is_i64() && first["updated_at"].is_i64());
    let (_, second) = notes.add(&id, json!({"content": "Sent the quote"})).await;

    // Read-your-writes: listed at once, oldest first.
    let (_, body) = notes.list(&id).await;
    let contents: Vec<&str> = body["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["Called, wants a demo", "Sent the quote"]);
    assert_eq!(body["notes"][0], first);

    let (status, edited) = notes
        .edit(&note_id, json!({"content": "Demo booked"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(
        (
            edited["id"].clone(),
            edited["content"].clone(),
            edited["created_at"].clone()
        ),
        (
            json!(note_id),
            json!("Demo booked"),
            first["created_at"].clone()
        )
    );
    let (_, body) = notes.list(&id).await;
    assert_eq!(body["notes"][0]["content"], json!("Demo booked"));

    let (status, body) = notes.delete(&note_id).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (_, body) = notes.list(&id).await;
    assert_eq!(body["notes"].as_array().unwrap().len(), 1);
    assert_eq!(body["notes"][0]["id"], second["id"]);
    for (method, body) in [
        (Method::DELETE, None),
        (Method::PUT, Some(json!({"content": "again"}))),
    ] {
        let (status, answer) = app
            .call(method, &format!("/notes/{note_id}"), Some(&k), body)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_error(&answer, "not_found");
    }

    // The lead's history holds the note events.
    let events: Vec<String> = sqlx::query_scalar(
        "SELECT event_type FROM events WHERE stream_type = 'lead' ORDER BY position",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        events,
        [
            "LeadCreated",
            "NoteAdded",
            "NoteAdded",
            "NoteEdited",
            "NoteRemoved"
        ]
    );

    // A rebuild of the read model gives the same notes.
    wait_for_projection(&pool).await;
    let (_, before) = notes.list(&id).await;
    projector::rebuild::rebuild(&pool, |_| {}).await.unwrap();
    let (_, after) = notes.list(&id).await;
    assert_eq!(before, after);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn bad_notes_and_unknown_ids_are_refused(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    let notes = app.notes(&k);
    let id = lead(&app, &k).await;
    let (_, note) = notes.add(&id, json!({"content": "ok"})).await;
    let note_id = note["id"].as_str().unwrap().to_owned();
    let before = app.lead_event_count().await;
    for body in [
        json!({}),
        json!({"content": ""}),
        json!({"content": "   "}),
        json!({"content": 7}),
        json!({"content": "x".repeat(10_001)}),
    ] {
        let (status, answer) = notes.add(&id, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_error(&answer, "bad_request");
        assert!(
            answer["message"].as_str().unwrap().contains("'content'"),
            "{answer}"
        );
        let (status, _) = notes.edit(&note_id, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    for path in [
        "/leads/cl_nope/notes".to_owned(),
        format!("/leads/cl_{}/notes", uuid::Uuid::new_v4()),
    ] {
        let (status, _) = app.post(&k, &path, json!({"content": "x"})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        let (status, _) = app.get(&k, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    for note in [
        "note_nope".to_owned(),
        format!("note_{}", uuid::Uuid::new_v4()),
        note_id[5..].to_owned(),
    ] {
        let (status, _) = notes.edit(&note, json!({"content": "x"})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{note}");
    }
    assert_eq!(app.lead_event_count().await, before, "nothing written");

    // Notes go with their lead.
    app.leads(&k).delete(&id).await;
    let (status, _) = notes.list(&id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = notes.edit(&note_id, json!({"content": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn another_accounts_notes_are_404(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (alice, bob) = (app.register().await.api_key, app.register().await.api_key);
    let id = lead(&app, &alice).await;
    let (_, note) = app
        .notes(&alice)
        .add(&id, json!({"content": "private"}))
        .await;
    let note_id = note["id"].as_str().unwrap();
    for (method, path, body) in [
        (Method::GET, format!("/leads/{id}/notes"), None),
        (
            Method::POST,
            format!("/leads/{id}/notes"),
            Some(json!({"content": "x"})),
        ),
        (
            Method::PUT,
            format!("/notes/{note_id}"),
            Some(json!({"content": "x"})),
        ),
        (Method::DELETE, format!("/notes/{note_id}"), None),
    ] {
        let (status, answer) = app.call(method.clone(), &path, Some(&bob), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_error(&answer, "not_found");
    }
    let (_, body) = app.notes(&alice).list(&id).await;
    assert_eq!(body["notes"][0]["content"], json!("private"));
}
