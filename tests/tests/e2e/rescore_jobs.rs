//! Background rescore jobs, driven step by step (no worker runs in these apps): split into
//! parts when they start, resumable batch by batch without scoring a lead twice, shared by
//! workers part by part, and closed exactly when the last part finishes — also when two
//! workers finish the last two parts at the same moment.

use command_service::app::rescore::{step, RescorePlan};
use leadstream_tests::{eventually, Options, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection, PgPool};
use std::time::Duration;

/// An app without rescore workers and an account with `n` leads rated 4, after a rule change
/// queued a job; answers the key.
async fn queued_job(pool: &PgPool, n: usize) -> (TestApp, String) {
    let app = TestApp::spawn_with(
        pool.clone(),
        Options {
            rescore_worker: false,
            ..Options::default()
        },
    )
    .await;
    let k = app.register().await.api_key;
    for chunk in 0..n.div_ceil(1000) {
        let leads: Vec<Value> = (chunk * 1000..n.min((chunk + 1) * 1000))
            .map(|i| json!({"name": format!("L{i}"), "source": "s", "rating": 4}))
            .collect();
        let (status, _) = app.leads(&k).create_batch(json!(leads)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    app.rule(&k, json!({"name": "rating", "expression": "rating * 10"}))
        .await;
    (app, k)
}

async fn the_job(app: &TestApp, key: &str) -> Value {
    let (_, jobs) = app.rules(key).jobs().await;
    jobs["jobs"][0].clone()
}

fn progress(job: &Value) -> (&str, i64, i64, i64, i64) {
    (
        job["status"].as_str().unwrap(),
        job["total"].as_i64().unwrap(),
        job["done"].as_i64().unwrap(),
        job["parts"].as_i64().unwrap(),
        job["parts_done"].as_i64().unwrap(),
    )
}

/// How many `LeadScored` events each lead has.
async fn scores_per_lead(pool: &PgPool) -> Vec<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'LeadScored' GROUP BY stream_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_rescore_job_resumes_after_a_stop_without_scoring_twice(pool: PgPool) {
    let (app, k) = queued_job(&pool, 3000).await;
    let plan = RescorePlan {
        batch: 500,
        part_leads: 1000,
        max_parts: 8,
    };
    assert_eq!(progress(&the_job(&app, &k).await).0, "pending");
    // The first step starts the job: three parts of 1,000 leads.
    assert!(step(&pool, &plan).await.unwrap());
    assert_eq!(
        progress(&the_job(&app, &k).await),
        ("running", 3000, 0, 3, 0)
    );
    // Three batches, then "crash": nothing else runs the job.
    for _ in 0..3 {
        assert!(step(&pool, &plan).await.unwrap());
    }
    let job = the_job(&app, &k).await;
    let (status, _, done, _, _) = progress(&job);
    assert_eq!((status, done), ("running", 1500));
    assert_eq!(app.scored_events().await, 1500);

    // A fresh worker (another process) picks it up where it stopped.
    while step(&pool, &plan).await.unwrap() {}
    let (_, job) = app
        .get(
            &k,
            &format!("/scoring-jobs/{}", job["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(progress(&job), ("done", 3000, 3000, 3, 3));
    assert_eq!(job["changed"], json!(3000));
    let per_lead = scores_per_lead(&pool).await;
    assert_eq!(per_lead.len(), 3000);
    assert!(
        per_lead.iter().all(|n| *n == 1),
        "each lead scored exactly once"
    );

    // Large accounts get a job handle from POST /leads/score/batch.
    let (status, body) = app
        .call(Method::POST, "/leads/score/batch", Some(&k), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["job"]["status"], "pending");
}

/// Backends of this database waiting for a row lock in an `UPDATE rescore_jobs`.
async fn waiting_on_the_job(conn: &mut PgConnection) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'
           AND query LIKE '%UPDATE rescore_jobs SET done%'",
    )
    .fetch_one(conn)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn two_workers_share_a_job_by_parts_and_the_last_one_to_finish_closes_it(pool: PgPool) {
    let (app, k) = queued_job(&pool, 2000).await;
    // Two parts of 1,000 leads, each done in one batch.
    let plan = RescorePlan {
        batch: 1500,
        part_leads: 1000,
        max_parts: 8,
    };
    assert!(step(&pool, &plan).await.unwrap());
    assert_eq!(
        progress(&the_job(&app, &k).await),
        ("running", 2000, 0, 2, 0)
    );

    // Hold the job row: both workers take a part each (a worker skips a part another holds),
    // score it, mark it finished, then wait on the job row to add their counts.
    // (Connections of their own: the test pool is small, and the app's services share it.)
    let options = pool.connect_options();
    let connect = || PgConnection::connect_with(&options);
    let (mut holder, mut monitor) = (connect().await.unwrap(), connect().await.unwrap());
    let mut holder = holder.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM rescore_jobs FOR UPDATE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move { step(&pool, &plan).await.unwrap() })
        })
        .collect();
    eventually(
        "both workers wait on the job row",
        Duration::from_secs(5),
        async || match waiting_on_the_job(&mut monitor).await {
            n if n >= 2 => Ok(()),
            n => Err(format!("{n} waiting")),
        },
    )
    .await;
    assert_eq!(
        waiting_on_the_job(&mut monitor).await,
        2,
        "both parts are worked at the same time"
    );
    // Let them go: each one's finish check runs after the other's commit or before it; the
    // second sees both parts finished and closes the job.
    holder.commit().await.unwrap();
    for w in workers {
        assert!(w.await.unwrap(), "each worker had a part");
    }
    let job = the_job(&app, &k).await;
    assert_eq!(progress(&job), ("done", 2000, 2000, 2, 2), "{job}");
    assert!(!step(&pool, &plan).await.unwrap(), "nothing left to do");
    let per_lead = scores_per_lead(&pool).await;
    assert_eq!(per_lead.len(), 2000);
    assert!(per_lead.iter().all(|n| *n == 1));
}
