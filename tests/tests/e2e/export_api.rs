//! `GET /leads/export`: every matching lead in list order, streamed as CSV, JSON or XLSX, the same
//! leads the list endpoint gives for the same filters and sort; tenant-scoped.

use leadstream_tests::{assert_error, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

async fn list_ids(app: &TestApp, key: &str, params: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor = String::new();
    loop {
        let query = format!("limit=1000&{params}{cursor}");
        let (_, body) = app.leads(key).list(&query).await;
        ids.extend(
            body["leads"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["id"].as_str().unwrap().to_owned()),
        );
        match body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return ids,
        }
    }
}

async fn export(app: &TestApp, key: &str, params: &str) -> (StatusCode, String, String) {
    let path = format!("/leads/export?{params}");
    let resp = app.send(Method::GET, &path, Some(key)).await;
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ctype, resp.text().await.unwrap())
}

async fn seed(app: &TestApp, key: &str, n: usize) {
    for start in (0..n).step_by(1000) {
        let leads: Vec<Value> = (start..(start + 1000).min(n))
            .map(|i| json!({"name": format!("Export, \"Lead\" {i}"), "source": "bulk", "city": if i % 3 == 0 { "Paris" } else { "Lyon" },
                            "rating": (i % 50) as f64 / 10.0, "tags": ["a", "b"],
                            "attributes": [{"name": "n", "type": "number", "value": i}]}))
            .collect();
        let (status, _) = app.leads(key).create_batch(json!(leads)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn csv_and_json_exports_hold_exactly_the_listed_leads_in_list_order(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let k = app.register().await.api_key;
    seed(&app, &k, 2500).await;
    for params in [
        "sort_by=rating&sort_order=desc",
        "filter=and.eq.city.paris&sort_by=name",
        "filter=and.gte.rating.4.5&limit=3&cursor=ignored",
    ] {
        let listed = list_ids(&app, &k, &params.replace("&limit=3&cursor=ignored", "")).await;

        let (status, ctype, body) = export(&app, &k, &format!("format=json&{params}")).await;
        assert_eq!(status, StatusCode::OK, "{params}: {body}");
        assert_eq!(ctype, "application/json");
        let leads: Vec<Value> = serde_json::from_str(&body).unwrap();
        let ids: Vec<String> = leads
            .iter()
            .map(|l| l["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids, listed, "json {params}");
        assert_eq!(leads[0]["tags"], json!(["a", "b"]));

        let (status, ctype, body) = export(&app, &k, params).await;
        assert_eq!(status, StatusCode::OK);
        assert!(ctype.starts_with("text/csv"), "{ctype}");
        let mut reader = csv::Reader::from_reader(body.as_bytes());
        let header = reader.headers().unwrap().clone();
        assert_eq!(&header[0], "id");
        assert!(header.iter().any(|h| h == "last_interaction_at"));
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let ids: Vec<String> = rows.iter().map(|r| r[0].to_owned()).collect();
        assert_eq!(ids, listed, "csv {params}");
        let name_col = header.iter().position(|h| h == "name").unwrap();
        assert!(
            rows[0][name_col].starts_with("Export, \"Lead\""),
            "quotes and commas survive"
        );
    }
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn exports_are_tenant_scoped_and_unknown_formats_are_400(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (alice, bob) = (app.register().await.api_key, app.register().await.api_key);
    seed(&app, &alice, 10).await;
    let (status, _, body) = export(&app, &bob, "format=json").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "[]"));
    let (_, _, body) = export(&app, &bob, "").await;
    assert_eq!(body.lines().count(), 1, "csv: the header only");
    for params in ["format=pdf", "format=csv&filter=and.between.rating.1"] {
        let (status, _, body) = export(&app, &alice, params).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{params}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert!(
            body["code"] == "bad_request" || body["code"] == "invalid_filter",
            "{body}"
        );
        assert_error(&body, body["code"].as_str().unwrap());
    }
}

async fn export_bytes(app: &TestApp, key: &str, params: &str) -> (StatusCode, String, Vec<u8>) {
    let path = format!("/leads/export?{params}");
    let resp = app.send(Method::GET, &path, Some(key)).await;
    let status = resp.status();
    let disposition = resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, disposition, resp.bytes().await.unwrap().to_vec())
}

fn open_xlsx(bytes: Vec<u8>) -> Vec<Vec<calamine::Data>> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("a valid workbook");
    let names = book.sheet_names();
    assert_eq!(names, ["Leads"]);
    let range = book.worksheet_range("Leads").unwrap();
    range.rows().map(|r| r.to_vec()).collect()
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn xlsx_export_opens_and_holds_the_listed_leads_with_typed_cells(pool: PgPool) {
    use calamine::Data;
    let app = TestApp::spawn(pool).await;
    let (alice, bob) = (app.register().await.api_key, app.register().await.api_key);
    seed(&app, &alice, 1500).await;
    let params = "filter=and.eq.city.paris&sort_by=rating&sort_order=desc";
    let listed = list_ids(&app, &alice, params).await;
    assert_eq!(listed.len(), 500);

    let (status, disposition, bytes) =
        export_bytes(&app, &alice, &format!("format=xlsx&{params}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(disposition.contains("leads.xlsx"), "{disposition}");
    let rows = open_xlsx(bytes);
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(header[0], "id");
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let ids: Vec<String> = rows[1..].iter().map(|r| r[0].to_string()).collect();
    assert_eq!(ids, listed, "same leads, same order as the list");
    let first = &rows[1];
    assert!(first[col("name")]
        .to_string()
        .starts_with("Export, \"Lead\""));
    assert_eq!(first[col("city")], Data::String("Paris".into()));
    assert_eq!(
        first[col("rating")],
        Data::Float(4.9),
        "numbers stay numbers"
    );
    assert!(matches!(first[col("created_at")], Data::Float(t) if t > 1.7e9));
    assert_eq!(first[col("tags")], Data::String("a, b".into()));

    // Another tenant's export holds the header only, and still opens.
    let (status, _, bytes) = export_bytes(&app, &bob, "format=xlsx").await;
    assert_eq!(status, StatusCode::OK);
    let rows = open_xlsx(bytes);
    assert_eq!(rows.len(), 1);
}
