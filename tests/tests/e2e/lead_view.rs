//! The lead read model: equal to the aggregates after every kind of write, unchanged by a
//! replay, and rebuilt from history into the same rows while the old tables keep serving.

use leadstream_tests::model::{aggregates, rows};
use leadstream_tests::{eventually, wait_for_projection, TestApp, FOLLOWER_BOUND};
use projector::lead_view::{read_leads, LeadView, Tables};
use projector::runner::Projection;
use reqwest::{Method, StatusCode};
use serde_json::json;
use shared::events::StoredEvent;
use shared::lead::Lead;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::time::Duration;
use uuid::Uuid;

async fn attr_rows(pool: &PgPool) -> Vec<(Uuid, String, String, Option<f64>, Option<String>)> {
    sqlx::query_as(
        "SELECT lead_id, name, kind, num, text_lower FROM lead_view_attrs ORDER BY lead_id, name",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Pushes, merges, updates, deletes, the three batch endpoints, attribute and note endpoints
/// and score changes, over two accounts; returns once no rescore job is left.
async fn write_a_history(app: &TestApp) {
    for _ in 0..2 {
        let k = app.register().await.api_key;
        let (leads, notes) = (app.leads(&k), app.notes(&k));
        app.rules(&k)
            .create(
                json!({"name": "size", "expression": "attr_size * 2 + (email != nil ? 10 : 0)"}),
            )
            .await;
        let a_id = &leads.create_id(json!({"name": "Acme", "source": "web", "email": "a@acme.io", "city": "Paris",
            "rating": 4.5, "review_count": 10, "latitude": 48.85, "longitude": 2.35, "tags": ["x"],
            "attributes": [{"name": "size", "type": "number", "value": 12}, {"name": "cuisine", "type": "text", "value": "Greek"}]})).await;
        leads.create(json!({"name": "Acme", "source": "csv", "email": "A@acme.io", "tags": ["y"], "phone": "+33 1 02 03 04 05"})).await;
        leads.update(a_id, json!({"status": "qualified", "city": null, "attributes": [{"name": "vip", "type": "bool", "value": true}]})).await;
        // A read: past the read-your-writes bound (other tests' transactions can hold the
        // projector back) it answers what the model has, maybe not the lead yet.
        let attrs = eventually(
            "the lead's attributes read",
            FOLLOWER_BOUND,
            async || match leads.attributes(a_id).await {
                (StatusCode::OK, attrs) => Ok(attrs),
                (status, body) => Err(format!("{status} {body}")),
            },
        )
        .await;
        let attr_id = |name: &str| {
            attrs["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["name"] == name)
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        leads
            .add_attribute(
                a_id,
                json!({"name": "tier", "type": "text", "value": "Gold"}),
            )
            .await;
        leads.set_attribute(a_id, &attr_id("size"), json!(20)).await;
        leads.remove_attribute(a_id, &attr_id("cuisine")).await;
        let (_, note) = notes.add(a_id, json!({"content": "first"})).await;
        notes
            .edit(note["id"].as_str().unwrap(), json!({"content": "edited"}))
            .await;
        let b_id = leads
            .create_id(json!({"name": "Gone", "source": "web"}))
            .await;
        leads.delete(&b_id).await;
        let batch: Vec<_> = (0..30).map(|i| json!({"name": format!("Batch {i}"), "source": "import", "email": format!("b{i}@x.io")})).collect();
        let (_, batch) = leads.create_batch(json!(batch)).await;
        let ids: Vec<_> = batch["created"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].clone())
            .collect();
        leads
            .update_batch(json!(ids[..10]), json!({"category": "cafe"}))
            .await;
        leads.delete_batch(json!(ids[20..])).await;
    }
    rescores_done(&app.pool).await;
}

/// Returns once no rescore job is pending or running.
async fn rescores_done(pool: &PgPool) {
    eventually(
        "no rescore job pending or running",
        Duration::from_secs(10),
        async || {
            let open: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM rescore_jobs WHERE status IN ('pending', 'running')",
            )
            .fetch_one(pool)
            .await
            .unwrap();
            (open == 0).then_some(())
        },
    )
    .await
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn the_read_model_equals_the_aggregates_after_every_kind_of_write(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    write_a_history(&app).await;
    wait_for_projection(&pool).await;
    let (model, truth) = (rows(&pool).await, aggregates(&pool).await);
    assert_eq!(model.len(), 64, "2 accounts x (2 singles + 30 batch)");
    assert_eq!(model, truth);
    assert_eq!(
        model.values().filter(|l| l.deleted).count(),
        22,
        "deleted leads stay as tombstones"
    );
    let attrs = attr_rows(&pool).await;
    assert_eq!(
        attrs.len(),
        6,
        "three live attributes on each account's first lead"
    );
    assert!(attrs
        .iter()
        .any(|a| a.1 == "tier" && a.4.as_deref() == Some("gold")));
    assert!(!attrs.iter().any(|a| a.1 == "cuisine"), "removed");
    assert!(attrs.iter().any(|a| a.1 == "size" && a.3 == Some(20.0)));
    let expected: Vec<(Uuid, String)> = truth
        .values()
        .filter(|l| !l.deleted)
        .flat_map(|l| l.attributes.iter().map(|a| (l.id, a.name.clone())))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let got: Vec<(Uuid, String)> = attrs.iter().map(|a| (a.0, a.1.clone())).collect();
    assert_eq!(got, expected, "attribute rows follow the aggregates");
    let first = truth
        .values()
        .find(|l| l.attributes.iter().any(|a| a.name == "tier"))
        .unwrap();
    assert_eq!(first.score, 50.0, "20 × 2 + 10: scored by the rule");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn replaying_events_the_model_already_has_changes_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    write_a_history(&app).await;
    wait_for_projection(&pool).await;
    let before = (rows(&pool).await, attr_rows(&pool).await);
    let events = stored_events(&pool, "TRUE").await;
    apply(&pool, &LeadView::live(), &events).await;
    assert_eq!((rows(&pool).await, attr_rows(&pool).await), before);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_rebuild_gives_the_incremental_model_and_the_live_projector_carries_on(pool: PgPool) {
    let pool = leadstream_tests::wide_pool(&pool, 16).await;
    let app = TestApp::spawn(pool.clone()).await;
    write_a_history(&app).await;
    wait_for_projection(&pool).await;
    let before = (rows(&pool).await, attr_rows(&pool).await);
    let index_names = |pool: PgPool| async move {
        sqlx::query_scalar::<_, String>("SELECT indexname::text FROM pg_indexes WHERE tablename IN ('lead_view', 'lead_scores', 'lead_view_attrs') ORDER BY 1")
            .fetch_all(&pool)
            .await
            .unwrap()
    };
    let indexes_before = index_names(pool.clone()).await;

    let mut reports = 0;
    let report = projector::rebuild::rebuild(&pool, |_| reports += 1)
        .await
        .unwrap();
    assert!(report.events >= 80, "{report:?}");
    assert_eq!(
        (rows(&pool).await, attr_rows(&pool).await),
        before,
        "rebuilt = incremental"
    );
    assert_eq!(
        index_names(pool.clone()).await,
        indexes_before,
        "same indexes, same names"
    );
    let analyzed: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT tablename::text FROM pg_stats
         WHERE tablename IN ('lead_view', 'lead_scores', 'lead_view_attrs') AND attname = 'tenant_id'
         ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        analyzed,
        ["lead_scores", "lead_view", "lead_view_attrs"],
        "the swapped-in tables carry planner statistics"
    );

    // The live projector resumes on the new tables.
    let k = app.register().await.api_key;
    app.leads(&k)
        .create(json!({"name": "After", "source": "s"}))
        .await;
    wait_for_projection(&pool).await;
    assert_eq!(rows(&pool).await, aggregates(&pool).await);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn replaying_only_an_old_creation_leaves_the_newer_row_and_its_attributes_alone(
    pool: PgPool,
) {
    let app = TestApp::spawn(pool.clone()).await;
    write_a_history(&app).await;
    wait_for_projection(&pool).await;
    let before = (rows(&pool).await, attr_rows(&pool).await);
    // The first lead's creation, with its two attributes; a third was added later.
    let first = stored_events(&pool, "event_type = 'LeadCreated'").await;
    apply(&pool, &LeadView::live(), &first[..1]).await;
    assert_eq!((rows(&pool).await, attr_rows(&pool).await), before);
}

/// Rows of `tables`, keyed by lead id.
async fn rows_of(pool: &PgPool, tables: &Tables) -> BTreeMap<Uuid, Lead> {
    let ids: Vec<(Uuid, Uuid)> =
        sqlx::query_as(&format!("SELECT tenant_id, lead_id FROM {}", tables.leads))
            .fetch_all(pool)
            .await
            .unwrap();
    let mut conn = pool.acquire().await.unwrap();
    read_leads(&mut conn, tables, &ids)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

/// The stored events `WHERE {condition}`, in position order.
async fn stored_events(pool: &PgPool, condition: &str) -> Vec<StoredEvent> {
    sqlx::query_as(&format!(
        "SELECT position, event_id, tenant_id, stream_type, stream_id, stream_version, event_type,
                schema_version, payload, metadata, recorded_at
         FROM events WHERE {condition} ORDER BY position"
    ))
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn apply(pool: &PgPool, view: &LeadView, events: &[StoredEvent]) {
    let mut tx = pool.begin().await.unwrap();
    view.apply(&mut tx, events).await.unwrap();
    tx.commit().await.unwrap();
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn batches_of_rescore_events_move_only_score_rows_and_never_back(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let k = app.register().await.api_key;
    let leads: Vec<_> = (0..5)
        .map(|i| json!({"name": format!("L{i}"), "source": "s", "rating": i, "tags": ["t"]}))
        .collect();
    app.leads(&k).create_batch(json!(leads)).await;
    // Two rescore jobs (rule created, then reweighted): two LeadScored events per rated lead.
    let (_, rule) = app
        .rules(&k)
        .create(json!({"name": "r", "expression": "rating", "weight": 2}))
        .await;
    rescores_done(&pool).await;
    app.rules(&k)
        .update(rule["id"].as_str().unwrap(), json!({"weight": 3}))
        .await;
    rescores_done(&pool).await;

    let events = stored_events(&pool, "stream_type = 'lead'").await;
    let first_scored = events
        .iter()
        .position(|e| e.event_type == "LeadScored")
        .unwrap();
    let (history, scored) = events.split_at(first_scored);
    assert!(
        scored.iter().all(|e| e.event_type == "LeadScored"),
        "the rescores come last"
    );
    assert_eq!(scored.len(), 8, "leads rated 1-4, each rescored twice");

    // Fresh tables: the creations in one batch, then every rescore event in another, where
    // each stream's events are all LeadScored (not loaded; the last score wins).
    let tables = Tables::with_suffix("_scored_test");
    for (table, _) in Tables::live().all() {
        sqlx::query(&format!(
            "CREATE TABLE {table}_scored_test (LIKE {table} INCLUDING ALL)"
        ))
        .execute(&pool)
        .await
        .unwrap();
    }
    let view = LeadView::into_tables("scored-test", tables.clone());
    apply(&pool, &view, history).await;
    // Which transaction wrote each lead row: a rescore must not rewrite them.
    let writers = || {
        sqlx::query_as::<_, (Uuid, String)>(
            "SELECT lead_id, xmin::text FROM lead_view_scored_test ORDER BY lead_id",
        )
        .fetch_all(&pool)
    };
    let written = writers().await.unwrap();
    apply(&pool, &view, scored).await;
    assert_eq!(
        writers().await.unwrap(),
        written,
        "the scores went into lead_scores alone"
    );
    let truth = aggregates(&pool).await;
    let model = rows_of(&pool, &tables).await;
    assert_eq!(model, truth);
    let scores: Vec<f64> = model.values().map(|l| l.score).collect();
    assert_eq!(scores, [0.0, 3.0, 6.0, 9.0, 12.0], "rating × 3");

    // Replays of the rescores, whole or only the older job's, change nothing.
    apply(&pool, &view, scored).await;
    apply(&pool, &view, &scored[..4]).await;
    assert_eq!(rows_of(&pool, &tables).await, truth);
}

/// Issue 11: a read model kept in the old position-only order may miss events in the middle
/// of a stream. After the upgrade (its checkpoint marked legacy by migration 0015) the
/// projector rebuilds it whole before following again; reads wait meanwhile.
#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_read_model_kept_in_the_old_order_is_rebuilt_when_the_projector_starts(pool: PgPool) {
    // Two projectors and a rebuild (its reader, applier and index builds) beside the app.
    let pool = leadstream_tests::wide_pool(&pool, 16).await;
    let app = TestApp::spawn(pool.clone()).await;
    write_a_history(&app).await;
    wait_for_projection(&pool).await;
    // What the old projector may have left: some leads missing (their creation skipped), and
    // its checkpoint marked as the migration marks it.
    let mut conn = pool.acquire().await.unwrap();
    for table in ["lead_view_attrs", "lead_scores", "lead_view"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE lead_id IN
                 (SELECT lead_id FROM lead_view ORDER BY lead_id LIMIT 10)"
        ))
        .execute(&mut *conn)
        .await
        .unwrap();
    }
    sqlx::query("UPDATE checkpoints SET legacy_position = position WHERE name = 'lead-view'")
        .execute(&mut *conn)
        .await
        .unwrap();
    assert_ne!(rows(&pool).await, aggregates(&pool).await);

    let shutdown = tokio_util::sync::CancellationToken::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let projector = tokio::spawn(projector::run(
        pool.clone(),
        projector::runner::ProjectionConfig::default(),
        listener,
        shutdown.clone(),
    ));
    wait_for_projection(&pool).await;
    assert_eq!(rows(&pool).await, aggregates(&pool).await, "rebuilt whole");
    let legacy: Option<i64> =
        sqlx::query_scalar("SELECT legacy_position FROM checkpoints WHERE name = 'lead-view'")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    assert_eq!(legacy, None, "repaired");
    // And it follows on.
    let k = app.register().await.api_key;
    app.leads(&k)
        .create(json!({"name": "After", "source": "s"}))
        .await;
    wait_for_projection(&pool).await;
    assert_eq!(rows(&pool).await, aggregates(&pool).await);
    shutdown.cancel();
    projector.await.unwrap().unwrap();
}

/// Appends one raw event to a stream (bypassing the write side's validation).
async fn append_raw(
    pool: &PgPool,
    tenant: Uuid,
    stream: Uuid,
    expected: shared::store::ExpectedVersion,
    event_type: &'static str,
    payload: serde_json::Value,
) {
    shared::store::append(
        &mut pool.acquire().await.unwrap(),
        &[shared::store::StreamAppend {
            tenant_id: tenant,
            stream_type: "lead",
            stream_id: stream,
            expected,
            events: vec![shared::events::NewEvent {
                event_id: shared::ids::new_id(),
                event_type,
                schema_version: 2,
                payload,
                metadata: Default::default(),
            }],
        }],
    )
    .await
    .unwrap();
}

/// Issue 11: one event the projection cannot apply — one it cannot decode, one whose row does
/// not fit an index — never stops it for the other accounts. Its stream is quarantined (the
/// failure recorded, later events skipped), reads of that lead answer a clear error, every
/// other lead stays fresh, and a rebuild does not fail on it.
#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn an_event_that_cannot_be_applied_quarantines_its_lead_and_nothing_else(pool: PgPool) {
    // A rebuild (its reader, applier and index builds) beside the app.
    let pool = leadstream_tests::wide_pool(&pool, 16).await;
    let app = TestApp::spawn(pool.clone()).await;
    let victim = app.register().await;
    let other = app.register().await;
    let (_, bad) = app
        .leads(&victim.api_key)
        .create(json!({"name": "Victim", "source": "s"}))
        .await;
    let bad_id = bad["id"].as_str().unwrap().to_owned();
    let bad_stream = shared::ids::parse_lead_id(&bad_id).unwrap();
    let tenant = Uuid::parse_str(&victim.account_id).unwrap();
    wait_for_projection(&pool).await;
    // An undecodable event on the victim's lead, then a valid-looking one after it.
    append_raw(
        &pool,
        tenant,
        bad_stream,
        shared::store::ExpectedVersion::Exact(1),
        "LeadUpdated",
        json!({"garbage": true}),
    )
    .await;
    // A creation whose tag does not fit the tags index (the write side refuses such tags).
    let created: serde_json::Value = sqlx::query_scalar(
        "SELECT payload FROM events WHERE stream_id = $1 AND stream_version = 1",
    )
    .bind(bad_stream)
    .fetch_one(&pool)
    .await
    .unwrap();
    let mut huge = created.clone();
    // 3,000 random CJK characters (9 kB, incompressible).
    let tag: String = (0..3000u32)
        .map(|i| char::from_u32(0x4E00 + (i.wrapping_mul(2_654_435_761) >> 7) % 0x5000).unwrap())
        .collect();
    huge["lead"]["tags"] = json!([tag]);
    let huge_stream = Uuid::new_v4();
    append_raw(
        &pool,
        tenant,
        huge_stream,
        shared::store::ExpectedVersion::NoStream,
        "LeadCreated",
        huge,
    )
    .await;
    // The other account writes on, and so does the victim elsewhere.
    let (_, fine) = app
        .leads(&other.api_key)
        .create(json!({"name": "Fine", "source": "s"}))
        .await;
    let (_, also) = app
        .leads(&victim.api_key)
        .create(json!({"name": "Also fine", "source": "s"}))
        .await;
    wait_for_projection(&pool).await;
    for (key, id) in [
        (&other.api_key, &fine["id"]),
        (&victim.api_key, &also["id"]),
    ] {
        let path = format!("/leads/{}", id.as_str().unwrap());
        let resp = app.send(Method::GET, &path, Some(key)).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["x-read-consistency"], "fresh");
    }
    let (status, body) = app.leads(&victim.api_key).get(&bad_id).await;
    assert_eq!(status, reqwest::StatusCode::SERVICE_UNAVAILABLE, "{body}");
    leadstream_tests::assert_error(&body, "lead_unavailable");
    assert!(
        body["message"].as_str().unwrap().contains("LeadUpdated"),
        "{body}"
    );
    let failures: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT stream_id, event_type FROM projection_failures WHERE projection = 'lead-view' ORDER BY position",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        failures,
        vec![
            (bad_stream, "LeadUpdated".to_owned()),
            (huge_stream, "LeadCreated".to_owned())
        ]
    );
    // Later events of the quarantined lead are skipped, not applied past the gap.
    append_raw(
        &pool,
        tenant,
        bad_stream,
        shared::store::ExpectedVersion::Exact(2),
        "LeadUpdated",
        json!({"more": "garbage"}),
    )
    .await;
    wait_for_projection(&pool).await;
    let skipped: i64 =
        sqlx::query_scalar("SELECT skipped FROM projection_failures WHERE stream_id = $1")
            .bind(bad_stream)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(skipped >= 1, "{skipped}");
    // A rebuild goes through, and keeps the lead quarantined.
    projector::rebuild::rebuild(&pool, |_| {}).await.unwrap();
    let (status, _) = app.leads(&victim.api_key).get(&bad_id).await;
    assert_eq!(status, reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM projection_failures")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 2);
}
