//! The MCP gateway with the `rmcp` client over real HTTP: both protocol eras, the 33 tools
//! listed in order with short descriptions, annotations and object schemas; every tool once,
//! its effect checked through REST; every error code; confirmation on every delete tool; 401
//! with `WWW-Authenticate` and the protected-resource document; tenancy; the actor's client
//! recorded on events.

use leadstream_tests::mcp::{Era, Mcp};
use leadstream_tests::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

const TOOLS: [&str; 33] = [
    "list_leads",
    "get_lead",
    "create_lead",
    "update_lead",
    "delete_lead",
    "create_lead_tag",
    "batch_create_leads",
    "batch_update_leads",
    "batch_delete_leads",
    "create_note",
    "list_notes",
    "update_note",
    "delete_note",
    "list_attributes",
    "create_attribute",
    "update_attribute",
    "delete_attribute",
    "list_scoring_rules",
    "create_scoring_rule",
    "get_scoring_rule",
    "update_scoring_rule",
    "delete_scoring_rule",
    "update_lead_score",
    "update_all_scores",
    "list_webhooks",
    "create_webhook",
    "delete_webhook",
    "list_api_keys",
    "create_api_key",
    "delete_api_key",
    "get_stats",
    "list_categories",
    "list_cities",
];

async fn rest(app: &TestApp, key: &str, method: Method, path: &str) -> (StatusCode, Value) {
    app.call(method, path, Some(key), None).await
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn both_eras_list_the_33_tools_in_order_with_their_contract(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let key = app.register().await.api_key;
    for era in [Era::Handshake, Era::Stateless] {
        let mcp = Mcp::connect(&app, &key, era, "test-agent").await.unwrap();
        let expected = if era == Era::Handshake {
            "2025-06-18"
        } else {
            "2026-07-28"
        };
        assert_eq!(mcp.protocol(), expected, "{era:?}");
        let tools = mcp.tools().await;
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(names, TOOLS, "{era:?}: exact names, fixed order");
        for tool in &tools {
            let name = tool.name.as_ref();
            let description = tool.description.as_deref().unwrap_or_default();
            assert!(
                !description.is_empty() && description.chars().count() <= 80,
                "{name}: description of {} characters",
                description.chars().count()
            );
            let schema = serde_json::to_value(&*tool.input_schema).unwrap();
            assert_eq!(schema["type"], "object", "{name}: {schema}");
            for (param, spec) in schema["properties"]
                .as_object()
                .cloned()
                .unwrap_or_default()
            {
                let d = spec["description"].as_str().unwrap_or_default();
                assert!(
                    !d.is_empty() && d.chars().count() <= 40,
                    "{name}.{param}: parameter description '{d}'"
                );
            }
            let a = tool.annotations.clone().unwrap_or_default();
            let reads = name.starts_with("list_") || name.starts_with("get_");
            assert_eq!(a.read_only_hint, Some(reads), "{name}: read-only hint");
            let deletes = name.contains("delete_");
            assert_eq!(
                a.destructive_hint.unwrap_or(false),
                deletes,
                "{name}: destructive"
            );
            if deletes {
                let required = schema["properties"]["confirm"].clone();
                assert!(required.is_object(), "{name} takes confirm");
            }
            if deletes
                || name.starts_with("update_")
                    && name != "update_all_scores"
                    && name != "update_lead_score"
                || name == "create_lead_tag"
            {
                assert_eq!(a.idempotent_hint, Some(true), "{name}: idempotent");
            }
        }
        // Parameter names follow the REST fields.
        let props = |n: &str| {
            let t = tools.iter().find(|t| t.name == n).unwrap();
            let schema = serde_json::to_value(&*t.input_schema).unwrap();
            let mut keys: Vec<String> = schema["properties"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            keys.sort();
            keys
        };
        assert_eq!(props("get_lead"), ["id"]);
        assert_eq!(props("delete_lead"), ["confirm", "id"]);
        assert_eq!(props("create_lead_tag"), ["id", "tag"]);
        assert_eq!(props("create_note"), ["content", "lead_id"]);
        assert_eq!(props("delete_attribute"), ["confirm", "id", "lead_id"]);
        assert_eq!(props("batch_update_leads"), ["data", "ids"]);
        mcp.close().await;
    }
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn every_tool_does_what_rest_shows(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let key = app.register().await.api_key;
    let mcp = Mcp::connect(&app, &key, Era::Handshake, "test-agent")
        .await
        .unwrap();

    // Leads.
    let lead = mcp
        .ok(
            "create_lead",
            json!({"name": "Le Bistro", "source": "maps", "city": "Paris",
                                   "category": "restaurant", "rating": 4.5}),
        )
        .await["data"]
        .clone();
    let id = lead["id"].as_str().unwrap().to_owned();
    assert_eq!(
        rest(&app, &key, Method::GET, &format!("/leads/{id}"))
            .await
            .1["name"],
        "Le Bistro"
    );
    assert_eq!(
        mcp.ok("get_lead", json!({"id": id})).await["data"]["city"],
        "Paris"
    );
    mcp.ok(
        "update_lead",
        json!({"id": id, "phone": "+33 1 00 00 00 00"}),
    )
    .await;
    assert_eq!(
        rest(&app, &key, Method::GET, &format!("/leads/{id}"))
            .await
            .1["phone"],
        "+33 1 00 00 00 00"
    );
    for _ in 0..2 {
        let tagged = mcp
            .ok("create_lead_tag", json!({"id": id, "tag": "vip"}))
            .await;
        assert_eq!(tagged["data"]["tags"], json!(["vip"]), "idempotent");
    }
    let batch = mcp
        .ok(
            "batch_create_leads",
            json!({"leads": [
            {"name": "Chez Nous", "source": "maps", "city": "Lyon"},
            {"name": "Bar Zero", "source": "form", "city": "Lyon", "category": "bar"}]}),
        )
        .await;
    assert_eq!(batch["data"]["success"], 2, "{batch}");
    let others: Vec<String> = batch["data"]["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    let updated = mcp
        .ok(
            "batch_update_leads",
            json!({"ids": others, "data": {"status": "contacted"}}),
        )
        .await;
    assert_eq!(updated["data"]["success"], 2, "{updated}");
    let page = mcp
        .ok(
            "list_leads",
            json!({"filters": ["and.eq.status.contacted"], "sort": "name", "sort_order": "DESC"}),
        )
        .await;
    let names: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Chez Nous", "Bar Zero"]);
    assert_eq!(page["meta"]["has_more"], false);
    // Free text: stop words dropped, a plural matches the singular.
    let found = mcp
        .ok("list_leads", json!({"query": "restaurants in Paris"}))
        .await;
    let names: Vec<&str> = found["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Le Bistro"]);
    let paged = mcp
        .ok("list_leads", json!({"limit": 1, "sort": "name"}))
        .await;
    let cursor = paged["meta"]["next_cursor"].as_str().unwrap().to_owned();
    let next = mcp
        .ok(
            "list_leads",
            json!({"limit": 1, "sort": "name", "cursor": cursor}),
        )
        .await;
    assert_eq!(next["data"][0]["name"], "Chez Nous");

    // Notes and attributes.
    let note = mcp
        .ok("create_note", json!({"lead_id": id, "content": "Called"}))
        .await["data"]
        .clone();
    let note_id = note["id"].as_str().unwrap().to_owned();
    mcp.ok(
        "update_note",
        json!({"id": note_id, "content": "Called back"}),
    )
    .await;
    let notes = mcp.ok("list_notes", json!({"lead_id": id})).await;
    assert_eq!(notes["data"][0]["content"], "Called back");
    let attr = mcp
        .ok(
            "create_attribute",
            json!({"lead_id": id, "name": "seats", "type": "number", "value": 40}),
        )
        .await["data"]
        .clone();
    let attr_id = attr["id"].as_str().unwrap().to_owned();
    mcp.ok(
        "update_attribute",
        json!({"lead_id": id, "id": attr_id, "value": 45}),
    )
    .await;
    let attrs = mcp.ok("list_attributes", json!({"lead_id": id})).await;
    assert_eq!(attrs["data"][0]["value"], 45);

    // Scoring.
    let rule = mcp
        .ok(
            "create_scoring_rule",
            json!({"name": "rating", "expression": "rating * 10"}),
        )
        .await["data"]
        .clone();
    let rule_id = rule["id"].as_str().unwrap().to_owned();
    assert_eq!(
        mcp.ok("get_scoring_rule", json!({"id": rule_id})).await["data"]["name"],
        "rating"
    );
    mcp.ok("update_scoring_rule", json!({"id": rule_id, "priority": 2}))
        .await;
    assert_eq!(
        mcp.ok("list_scoring_rules", json!({})).await["data"][0]["priority"],
        2
    );
    let scored = mcp.ok("update_lead_score", json!({"id": id})).await;
    assert_eq!(scored["data"]["score"], 45.0, "{scored}");
    mcp.ok("update_all_scores", json!({})).await;

    // Webhooks, keys, stats.
    let hook = mcp
        .ok(
            "create_webhook",
            json!({"url": "http://127.0.0.1:9/hook", "events": ["lead.created"]}),
        )
        .await["data"]
        .clone();
    assert!(
        hook["secret"].as_str().unwrap().starts_with("whsec_"),
        "{hook}"
    );
    assert_eq!(
        mcp.ok("list_webhooks", json!({})).await["data"][0]["id"],
        hook["id"]
    );
    let agent = mcp
        .ok(
            "create_api_key",
            json!({"name": "agent", "scopes": ["read"]}),
        )
        .await["data"]
        .clone();
    assert_eq!(agent["scopes"], json!(["read"]));
    let keys = mcp.ok("list_api_keys", json!({})).await;
    assert_eq!(keys["meta"]["total"], 2);
    let stats = mcp.ok("get_stats", json!({})).await;
    assert_eq!(stats["data"]["total"], 3, "{stats}");
    assert_eq!(
        mcp.ok("list_cities", json!({"limit": 1})).await["data"],
        json!([{"name": "Lyon", "count": 2}])
    );
    assert_eq!(
        mcp.ok("list_categories", json!({})).await["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Deletes, with confirmation.
    mcp.ok(
        "delete_api_key",
        json!({"id": agent["id"], "confirm": true}),
    )
    .await;
    mcp.ok("delete_webhook", json!({"id": hook["id"], "confirm": true}))
        .await;
    mcp.ok(
        "delete_scoring_rule",
        json!({"id": rule_id, "confirm": true}),
    )
    .await;
    mcp.ok(
        "delete_attribute",
        json!({"lead_id": id, "id": attr_id, "confirm": true}),
    )
    .await;
    mcp.ok("delete_note", json!({"id": note_id, "confirm": true}))
        .await;
    mcp.ok(
        "batch_delete_leads",
        json!({"ids": others, "confirm": true}),
    )
    .await;
    mcp.ok("delete_lead", json!({"id": id, "confirm": true}))
        .await;
    assert_eq!(
        rest(&app, &key, Method::GET, &format!("/leads/{id}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(rest(&app, &key, Method::GET, "/leads").await.1["count"], 0);
    assert_eq!(
        rest(&app, &key, Method::GET, "/webhooks").await.1["webhooks"],
        json!([])
    );
    assert_eq!(
        rest(&app, &key, Method::GET, "/scoring-rules").await.1["rules"],
        json!([])
    );
    mcp.close().await;
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn every_delete_tool_wants_confirm_and_every_error_has_its_code(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let key = app.register().await.api_key;
    let mcp = Mcp::connect(&app, &key, Era::Stateless, "test-agent")
        .await
        .unwrap();
    let lead = mcp
        .ok("create_lead", json!({"name": "Keep", "source": "x"}))
        .await["data"]
        .clone();
    let id = lead["id"].as_str().unwrap();
    let before = app.event_count().await;
    for (tool, args) in [
        ("delete_lead", json!({"id": id})),
        ("batch_delete_leads", json!({"ids": [id], "confirm": false})),
        ("delete_note", json!({"id": "note_x"})),
        ("delete_attribute", json!({"lead_id": id, "id": "x"})),
        ("delete_scoring_rule", json!({"id": "x"})),
        ("delete_webhook", json!({"id": "x"})),
        ("delete_api_key", json!({"id": "x"})),
    ] {
        let (code, status, message) = mcp.err(tool, args).await;
        assert_eq!(
            (code.as_str(), status),
            ("CONFIRMATION_REQUIRED", 400),
            "{tool}"
        );
        assert_eq!(message, "Set confirm: true to delete.");
    }
    assert_eq!(app.event_count().await, before, "nothing written");
    assert_eq!(
        rest(&app, &key, Method::GET, &format!("/leads/{id}"))
            .await
            .0,
        StatusCode::OK
    );

    // RESOURCE_NOT_FOUND, VALIDATION_ERROR (saying what to fix), CONFLICT, UNAUTHORIZED.
    let (code, status, _) = mcp
        .err(
            "get_lead",
            json!({"id": "cl_00000000-0000-0000-0000-000000000000"}),
        )
        .await;
    assert_eq!((code.as_str(), status), ("RESOURCE_NOT_FOUND", 404));
    let (code, status, message) = mcp.err("create_lead", json!({"name": "No source"})).await;
    assert_eq!((code.as_str(), status), ("VALIDATION_ERROR", 400));
    assert!(message.contains("source"), "{message}");
    let (code, _, message) = mcp
        .err("list_leads", json!({"filters": ["and.eq.shoe_size.42"]}))
        .await;
    assert_eq!(code, "VALIDATION_ERROR");
    assert!(message.contains("shoe_size"), "{message}");
    let (code, _, _) = mcp.err("list_leads", json!({"format": "pdf"})).await;
    assert_eq!(code, "VALIDATION_ERROR");
    let (_, me) = rest(&app, &key, Method::GET, "/api-keys/current").await;
    let (code, status, message) = mcp
        .err(
            "delete_api_key",
            json!({"id": me["data"]["id"], "confirm": true}),
        )
        .await;
    assert_eq!((code.as_str(), status), ("CONFLICT", 409), "{message}");
    let (_, reader) = app
        .post(&key, "/api-keys", json!({"name": "r", "scopes": ["read"]}))
        .await;
    let reader = reader["data"]["key"].as_str().unwrap().to_owned();
    let read_only = Mcp::connect(&app, &reader, Era::Handshake, "test-agent")
        .await
        .unwrap();
    assert_eq!(
        read_only.ok("get_lead", json!({"id": id})).await["data"]["name"],
        "Keep"
    );
    let (code, status, message) = read_only
        .err("create_lead", json!({"name": "x", "source": "y"}))
        .await;
    assert_eq!((code.as_str(), status), ("UNAUTHORIZED", 403));
    assert!(message.contains("'write'"), "{message}");
    read_only.close().await;

    // Tenancy: another account's lead is not found.
    let other = app.register().await.api_key;
    let theirs = Mcp::connect(&app, &other, Era::Stateless, "test-agent")
        .await
        .unwrap();
    let (code, _, _) = theirs.err("get_lead", json!({"id": id})).await;
    assert_eq!(code, "RESOURCE_NOT_FOUND");
    let (code, _, _) = theirs
        .err("update_lead", json!({"id": id, "city": "x"}))
        .await;
    assert_eq!(code, "RESOURCE_NOT_FOUND");
    let (code, _, _) = theirs
        .err("delete_lead", json!({"id": id, "confirm": true}))
        .await;
    assert_eq!(code, "RESOURCE_NOT_FOUND");
    theirs.close().await;
    mcp.close().await;
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_rate_limited_call_is_a_rate_limited_tool_error(pool: PgPool) {
    let mut plans = shared::plan::PlanTable::default();
    plans.free.requests_per_window = Some(3);
    let app = TestApp::spawn_with(
        pool,
        leadstream_tests::Options {
            default_plan: shared::plan::Plan::Free,
            plans,
            ..Default::default()
        },
    )
    .await;
    let key = app.register().await.api_key;
    let mcp = Mcp::connect(&app, &key, Era::Handshake, "test-agent")
        .await
        .unwrap();
    let mut codes = Vec::new();
    for _ in 0..6 {
        let out = mcp.call("get_stats", json!({})).await;
        if out.is_error == Some(true) {
            codes.push(
                out.structured_content.unwrap()["error"]["code"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
    }
    assert!(codes.iter().any(|c| c == "RATE_LIMITED"), "{codes:?}");
    mcp.close().await;
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn without_a_key_the_answer_is_401_naming_the_resource_document(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "curl", "version": "1"}}});
    for (path, key) in [
        ("/mcp", None),
        ("/api/v1/mcp", None),
        ("/mcp", Some("sk_live_00000000000000000000000000000000")),
    ] {
        let mut req = app
            .client
            .post(format!("http://{}{path}", app.edge))
            .header("accept", "application/json, text/event-stream")
            .json(&init);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path}");
        let challenge = resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            challenge,
            format!(
                "Bearer resource_metadata=\"http://{}/.well-known/oauth-protected-resource\"",
                app.edge
            )
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "unauthorized");
    }
    let doc: Value = app
        .client
        .get(format!(
            "http://{}/.well-known/oauth-protected-resource",
            app.edge
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["resource"], format!("http://{}/mcp", app.edge));
    assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
    // The rmcp client is refused too.
    assert!(Mcp::connect(
        &app,
        "sk_live_00000000000000000000000000000000",
        Era::Handshake,
        "x"
    )
    .await
    .is_err());
    // A Host the gateway does not serve (DNS rebinding) is refused even with a key.
    let key = app.register().await.api_key;
    let resp = app
        .client
        .post(format!("http://{}/mcp", app.edge))
        .header("host", "evil.example")
        .header("accept", "application/json, text/event-stream")
        .bearer_auth(&key)
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn events_written_through_mcp_name_the_client(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let key = app.register().await.api_key;
    let modern = Mcp::connect(&app, &key, Era::Stateless, "Claude Code")
        .await
        .unwrap();
    modern
        .ok("create_lead", json!({"name": "Via modern", "source": "x"}))
        .await;
    let legacy = Mcp::connect(&app, &key, Era::Handshake, "Old Client")
        .await
        .unwrap();
    legacy
        .ok("create_lead", json!({"name": "Via legacy", "source": "x"}))
        .await;
    app.post(&key, "/leads", json!({"name": "Via REST", "source": "x"}))
        .await;
    // A REST caller cannot claim to be an MCP client.
    app.client
        .post(format!("{}/leads", app.base))
        .header("x-api-key", &key)
        .header("x-leadstream-via", "mcp Forged/1")
        .json(&json!({"name": "Forged", "source": "x"}))
        .send()
        .await
        .unwrap();
    let rows: Vec<(String, Value)> = sqlx::query_as(
        "SELECT coalesce(payload->'lead'->>'name', payload->'lead'->'fields'->>'name'), metadata FROM events WHERE event_type = 'LeadCreated' ORDER BY position",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let via: Vec<(&str, Option<&str>)> = rows
        .iter()
        .map(|(n, m)| (n.as_str(), m["via"].as_str()))
        .collect();
    assert_eq!(via[0], ("Via modern", Some("mcp Claude Code/1.2.3")));
    assert_eq!(via[1].0, "Via legacy");
    assert!(
        via[1].1.is_some_and(|v| v.starts_with("mcp ")),
        "{via:?}: the User-Agent, for a client that names itself only at initialize"
    );
    assert_eq!(via[2], ("Via REST", None));
    assert_eq!(via[3], ("Forged", None));
    for (_, m) in &rows {
        assert!(m["actor"].as_str().unwrap().starts_with("api_key:"), "{m}");
    }
    modern.close().await;
    legacy.close().await;
}

/// The official Python client (PyPI `mcp`, pinned) in both of its modes, through
/// `scripts/mcp_smoke.sh` (which makes its virtualenv once).
#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn the_python_client_works_in_both_of_its_modes(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let key = app.register().await.api_key;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/mcp_smoke.sh");
    let out = tokio::process::Command::new("bash")
        .arg(script)
        .arg(format!("http://{}/mcp", app.edge))
        .arg(&key)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}\n{stdout}\n{stderr}", out.status);
    assert!(
        stdout.contains("python mcp legacy: protocol 2025-"),
        "{stdout}"
    );
    assert!(
        stdout.contains("python mcp auto: protocol 2026-07-28"),
        "{stdout}"
    );
    println!("{stdout}");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn list_leads_exports_every_match_as_csv_json_or_xlsx(pool: PgPool) {
    use base64::Engine;
    use rmcp::model::{ContentBlock, ResourceContents};
    let app = TestApp::spawn(pool).await;
    let key = app.register().await.api_key;
    let mcp = Mcp::connect(&app, &key, Era::Handshake, "test-agent")
        .await
        .unwrap();
    for i in 0..60 {
        let city = if i % 2 == 0 { "Berlin" } else { "Paris" };
        app.post(
            &key,
            "/leads",
            json!({"name": format!("Lead {i:02}"), "source": "x", "city": city}),
        )
        .await;
    }
    let filter = json!({"filters": ["and.eq.city.Berlin"], "sort": "name", "limit": 5});
    let mut args = filter.clone();
    args["format"] = json!("json");
    let all = mcp.ok("list_leads", args).await;
    assert_eq!(all["meta"]["count"], 30, "no pages: every match");
    assert_eq!(all["data"][0]["name"], "Lead 00");

    let mut args = filter.clone();
    args["format"] = json!("csv");
    let out = mcp.call("list_leads", args).await;
    let structured = out.structured_content.clone().unwrap();
    assert_eq!(structured["data"]["rows"], 30, "{structured}");
    let ContentBlock::Text(csv) = &out.content[0] else {
        panic!("csv as text")
    };
    assert!(
        csv.text.starts_with("id,") || csv.text.contains("name"),
        "{}",
        &csv.text[..80]
    );
    assert_eq!(csv.text.lines().count(), 31);

    let mut args = filter;
    args["format"] = json!("xlsx");
    let out = mcp.call("list_leads", args).await;
    let blob = out
        .content
        .iter()
        .find_map(|c| match c {
            ContentBlock::Resource(r) => match &r.resource {
                ResourceContents::BlobResourceContents {
                    blob, mime_type, ..
                } => {
                    assert_eq!(
                        mime_type.as_deref(),
                        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                    );
                    Some(blob.clone())
                }
                _ => None,
            },
            _ => None,
        })
        .expect("an embedded xlsx");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .unwrap();
    assert!(bytes.starts_with(b"PK"), "a zip (xlsx)");

    // Past the size a tool result may carry: an error saying what to do instead.
    let long = "x".repeat(5000);
    for b in 0..3 {
        let leads: Vec<Value> = (0..100)
            .map(|i| json!({"name": format!("Big {b}-{i}"), "source": "x", "description": long}))
            .collect();
        let (status, body) = app
            .post(&key, "/leads/batch", json!({"leads": leads}))
            .await;
        assert!(status.is_success(), "{body}");
    }
    let (code, status, message) = mcp.err("list_leads", json!({"format": "csv"})).await;
    assert_eq!((code.as_str(), status), ("VALIDATION_ERROR", 413));
    assert!(
        message.contains("narrow the filters") && message.contains("/leads/export"),
        "{message}"
    );
    mcp.close().await;
}

/// A browser page from another site cannot drive the gateway (the MCP spec's Origin check);
/// a page served from an allowed host can, and a client that sends no Origin always can.
#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn an_origin_from_elsewhere_is_refused(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let key = app.register().await.api_key;
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}});
    for (origin, expected) in [
        (Some("http://evil.example"), StatusCode::FORBIDDEN),
        (
            Some("https://localhost.evil.example:8080"),
            StatusCode::FORBIDDEN,
        ),
        (Some("http://localhost:5173"), StatusCode::OK),
        (Some("https://127.0.0.1"), StatusCode::OK),
        (None, StatusCode::OK),
    ] {
        let mut req = app
            .client
            .post(format!("http://{}/mcp", app.edge))
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-06-18")
            .bearer_auth(&key)
            .json(&list);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), expected, "{origin:?}");
    }
}

#[test]
fn http_statuses_map_to_the_mcp_error_codes() {
    // Mirrors query-service's bridge: every code the docs list has its statuses.
    for (status, code) in [
        (400, "VALIDATION_ERROR"),
        (401, "UNAUTHORIZED"),
        (403, "UNAUTHORIZED"),
        (404, "RESOURCE_NOT_FOUND"),
        (409, "CONFLICT"),
        (413, "VALIDATION_ERROR"),
        (429, "RATE_LIMITED"),
        (500, "INTERNAL_ERROR"),
        (503, "INTERNAL_ERROR"),
    ] {
        let status = StatusCode::from_u16(status).unwrap();
        assert_eq!(query_service::mcp::error_code(status), code, "{status}");
    }
}

/// A call the service cannot carry out (command-service unreachable) is `INTERNAL_ERROR`,
/// and reads still work.
#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn an_upstream_failure_is_an_internal_error(pool: PgPool) {
    let healthy = TestApp::spawn(pool.clone()).await;
    let key = healthy.register().await.api_key;
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let cut_off = TestApp::spawn_with(
        pool,
        leadstream_tests::Options {
            edge_command_url: Some(format!("http://{dead}")),
            projector: false,
            dispatcher: false,
            relay: false,
            ..Default::default()
        },
    )
    .await;
    let mcp = Mcp::connect(&cut_off, &key, Era::Handshake, "test-agent")
        .await
        .unwrap();
    let (code, status, message) = mcp
        .err("create_lead", json!({"name": "x", "source": "y"}))
        .await;
    assert_eq!(code, "INTERNAL_ERROR", "{status}: {message}");
    assert!(status >= 500, "{status}");
    assert_eq!(mcp.ok("get_stats", json!({})).await["data"]["total"], 0);
    mcp.close().await;
}

/// Arguments that do not fit a tool's schema, and the extremes the routes refuse, are
/// `VALIDATION_ERROR` results in the tools' error shape, and nothing is written.
#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn ill_typed_and_extreme_arguments_are_validation_errors(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let key = app.register().await.api_key;
    let mcp = Mcp::connect(&app, &key, Era::Stateless, "test-agent")
        .await
        .unwrap();
    let before = app.event_count().await;
    for (tool, args) in [
        ("get_lead", json!({"id": 5})),
        ("get_lead", json!({})),
        (
            "create_lead",
            json!({"name": "x", "source": "y", "rating": "high"}),
        ),
        (
            "batch_delete_leads",
            json!({"ids": "cl_x", "confirm": true}),
        ),
        ("list_leads", json!({"limit": -1})),
        ("create_lead", json!({"name": "a\u{0}b", "source": "y"})),
        (
            "create_lead",
            json!({"name": "界".repeat(1001), "source": "y"}),
        ),
        (
            "create_lead",
            json!({"name": "🍣".repeat(1001), "source": "y"}),
        ),
        ("create_note", json!({"lead_id": "cl_x", "content": ""})),
        ("list_leads", json!({"query": "a\u{0}b"})),
        ("create_api_key", json!({"name": "k".repeat(101)})),
    ] {
        let (code, status, message) = mcp.err(tool, args.clone()).await;
        assert!(
            (code.as_str(), status) == ("VALIDATION_ERROR", 400)
                || (tool == "create_note" && code == "RESOURCE_NOT_FOUND"),
            "{tool} {args}: {code} {status} {message}"
        );
        assert!(!message.is_empty());
    }
    assert_eq!(app.event_count().await, before, "nothing written");
    // The longest name that is accepted: 1,000 CJK characters (3,000 bytes).
    let long = mcp
        .ok(
            "create_lead",
            json!({"name": "界".repeat(1000), "source": "y"}),
        )
        .await;
    assert_eq!(long["data"]["name"].as_str().unwrap().chars().count(), 1000);
    mcp.close().await;
}
