//! Every read is the read side's: query-service answers each `GET` after the read-your-writes
//! wait; command-service serves no read, and the edge forwards only writes.

use leadstream_tests::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn scoring_reads_are_served_by_query_service_and_none_by_command_service(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let key = app.register().await.api_key;
    let (status, rule) = app
        .post(
            &key,
            "/scoring-rules",
            json!({"name": "rated", "expression": "rating >= 4 ? 10 : 0"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    let (status, lead) = app
        .post(
            &key,
            "/leads",
            json!({"name": "A", "source": "s", "rating": 4.5}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{lead}");
    let get = |url: String| {
        let key = key.clone();
        let client = app.client.clone();
        async move {
            let resp = client
                .get(url)
                .header("X-API-Key", key)
                .send()
                .await
                .unwrap();
            let fresh = resp
                .headers()
                .get("x-read-consistency")
                .map(|v| v.to_str().unwrap().to_owned());
            let status = resp.status();
            (
                status,
                fresh,
                resp.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (_, _, jobs) = get(format!("{}/scoring-jobs", app.base)).await;
    let job = jobs["jobs"][0]["id"].as_str().unwrap().to_owned();
    let paths = [
        "/scoring-rules".to_owned(),
        format!("/scoring-rules/{}", rule["id"].as_str().unwrap()),
        "/scoring-jobs".to_owned(),
        format!("/scoring-jobs/{job}"),
        format!("/leads/{}/score", lead["id"].as_str().unwrap()),
    ];
    for path in &paths {
        let (status, fresh, body) = get(format!("{}{path}", app.base)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(fresh.as_deref(), Some("fresh"), "{path}: read-your-writes");
        let (status, _, body) = get(format!("http://{}/api/v1{path}", app.command)).await;
        assert!(
            matches!(
                status,
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
            ),
            "{path}: command-service serves no read: {status} {body}"
        );
    }
    // The breakdown is of the state the caller just wrote.
    let (_, _, breakdown) = get(format!("{}{}", app.base, paths[4])).await;
    assert_eq!(breakdown["score"], 10.0, "{breakdown}");
    assert_eq!(breakdown["rules"][0]["points"], 10.0, "{breakdown}");

    // A read of a path that takes only writes is 405 at the edge; of a path nobody serves, 404.
    let (status, _, body) = get(format!("{}/leads/batch", app.base)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    let (status, _, body) = get(format!("{}/no/such/read", app.base)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}
