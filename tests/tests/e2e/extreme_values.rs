//! Everything the write side accepts is storable, indexable and projectable (issue 11): random
//! valid inputs at the limits — 1,000-character names of 4-byte emoji, CJK, combining marks,
//! 10,000-character attribute texts, every attribute type — go through the API, and the read
//! model keeps up and equals the event store. Limits that protect an index in bytes are 400s.

use leadstream_tests::gen::Rng;
use leadstream_tests::model::{aggregates, rows};
use leadstream_tests::{assert_error, wait_for_projection, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

/// A character from one of several scripts: ASCII, CJK (3 bytes), emoji (4 bytes), a letter
/// with a combining accent (two characters), Arabic, Cyrillic, a control character.
fn any_char(rng: &mut Rng, out: &mut String) {
    match rng.below(8) {
        0 | 1 => out.push((b'a' + rng.below(26) as u8) as char),
        2 => out.push(char::from_u32(0x4E00 + rng.below(0x5000) as u32).unwrap()),
        3 => out.push(char::from_u32(0x1F600 + rng.below(0x50) as u32).unwrap()),
        4 => {
            out.push('e');
            out.push('\u{0301}');
        }
        5 => out.push(char::from_u32(0x0627 + rng.below(20) as u32).unwrap()),
        6 => out.push(char::from_u32(0x0410 + rng.below(32) as u32).unwrap()),
        _ => out.push(if rng.chance(0.1) { '\u{1}' } else { ' ' }),
    }
}

/// A string of exactly `chars` characters (never blank at its ends).
fn text(rng: &mut Rng, chars: usize) -> String {
    let mut s = String::new();
    while s.chars().count() < chars {
        any_char(rng, &mut s);
    }
    let mut s: String = s.chars().take(chars).collect();
    if s.trim() != s || s.trim().is_empty() {
        s = format!(
            "x{}x",
            s.chars()
                .skip(1)
                .take(chars.saturating_sub(2))
                .collect::<String>()
        );
    }
    s
}

/// A length in 1..=max, the maximum itself a quarter of the time.
fn len(rng: &mut Rng, max: usize) -> usize {
    if rng.chance(0.25) {
        max
    } else {
        1 + rng.below(max)
    }
}

/// A string of 1..=max characters (the maximum a quarter of the time).
fn up_to(rng: &mut Rng, max: usize) -> String {
    let n = len(rng, max);
    text(rng, n)
}

/// The widest tag that fits its byte limit.
fn tag(rng: &mut Rng) -> String {
    let mut t = up_to(rng, 1000);
    while t.len() > shared::lead::input::MAX_TAG_BYTES {
        t = t
            .chars()
            .take(t.chars().count() * 2 / 3)
            .collect::<String>()
            .trim()
            .to_owned();
    }
    if t.is_empty() {
        "t".into()
    } else {
        t
    }
}

fn lead(rng: &mut Rng, i: usize) -> Value {
    let attrs = vec![
        json!({"name": "note_text", "type": "text", "value": up_to(rng, 10_000)}),
        json!({"name": "n", "type": "number", "value": rng.unit() * 1e12 - 5e11}),
        json!({"name": "flag", "type": "bool", "value": rng.chance(0.5)}),
        json!({"name": "items", "type": "list", "value": [text(rng, 50), 1, null, {"k": text(rng, 20)}]}),
        json!({"name": "obj", "type": "object", "value": {"deep": {"x": up_to(rng, 2000)}}}),
    ];
    let tags: Vec<String> = (0..1 + rng.below(5)).map(|_| tag(rng)).collect();
    json!({
        "name": up_to(rng, 1000),
        "source": up_to(rng, 1000),
        "source_id": format!("{i}-{}", up_to(rng, 900)),
        "email": format!("{i}.{}@example.test", up_to(rng, 900).replace([' ', '@'], "_")),
        "city": up_to(rng, 1000),
        "country": up_to(rng, 1000),
        "phone": format!("+33 {}", "1".repeat(len(rng, 900))),
        "description": up_to(rng, 10_000),
        "tags": tags,
        "attributes": attrs,
    })
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn random_valid_values_at_the_limits_are_stored_indexed_and_projected(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let acct = app.register().await;
    let k = &acct.api_key;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    println!("extreme values seed {seed}");
    let mut rng = Rng::new(seed);
    let mut pushed = Vec::new();
    for i in 0..12 {
        let body = lead(&mut rng, i);
        let (status, created) = app.leads(k).create(body.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        pushed.push((created["id"].as_str().unwrap().to_owned(), body));
    }
    let batch: Vec<Value> = (100..110).map(|i| lead(&mut rng, i)).collect();
    let (status, answer) = app.leads(k).create_batch(json!(batch)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    // Updates, attribute values and notes at their limits too.
    for (id, _) in pushed.iter().take(4) {
        let patch = json!({"name": text(&mut rng, 1000), "city": text(&mut rng, 1000),
                           "tags": [tag(&mut rng), tag(&mut rng)]});
        let (status, body) = app.leads(k).patch(id, patch).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let attr = json!({"name": "extra", "type": "text", "value": text(&mut rng, 10_000)});
        let (status, body) = app.leads(k).add_attribute(id, attr).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let note = json!({"content": up_to(&mut rng, 10_000)});
        let (status, body) = app.notes(k).add(id, note).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    wait_for_projection(&pool).await;
    assert_eq!(rows(&pool).await, aggregates(&pool).await);

    // Lists sort and filter on them (the indexes hold prefixes; equality compares the whole).
    let (id, body) = &pushed[5];
    for (field, value) in [("name", &body["name"]), ("city", &body["city"])] {
        let v = value.as_str().unwrap();
        let url = format!("/leads?filter=and.eq.{field}.{}", url_escape(v));
        let (status, page) = app.get(k, &url).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let ids: Vec<&str> = page["leads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap())
            .collect();
        assert!(
            ids.contains(&id.as_str()),
            "{field} equality finds the lead"
        );
    }
    for sort in ["name", "city"] {
        let (status, page) = app.get(k, &format!("/leads?sort_by={sort}&limit=5")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let cursor = page["next_cursor"].as_str().unwrap();
        let (status, next) = app
            .get(k, &format!("/leads?sort_by={sort}&limit=5&cursor={cursor}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{next}");
    }
    // Pushing the same long e-mail and source id again merges (long dedup keys are hashed).
    let (_, first) = &pushed[0];
    let again = json!({"name": "again", "source": "x", "email": first["email"]});
    let (status, merged) = app.leads(k).create(again).await;
    assert_eq!(status, StatusCode::OK, "{merged}");
    let again = json!({"name": "again", "source": "x", "source_id": pushed[1].1["source_id"]});
    let (status, merged) = app.leads(k).create(again).await;
    assert_eq!(status, StatusCode::OK, "{merged}");
}

fn url_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn values_over_the_index_protecting_limits_are_400_and_write_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let acct = app.register().await;
    let k = &acct.api_key;
    let (_, lead) = app.leads(k).create(json!({"name": "n", "source": "s", "attributes": [{"name": "t", "type": "text", "value": "v"}]}))
        .await;
    let id = lead["id"].as_str().unwrap();
    let attr_id = lead["attributes"][0]["id"].as_str().unwrap();
    let before = app.event_count().await;
    let cjk_tag = "中".repeat(700); // 700 characters, 2,100 bytes
    let long_text = "x".repeat(10_001);
    let cases = [
        (
            Method::POST,
            "/leads".to_owned(),
            json!({"name": "n", "source": "s", "tags": [cjk_tag]}),
            "tags[0]",
        ),
        (
            Method::PATCH,
            format!("/leads/{id}"),
            json!({"tags": ["ok", cjk_tag]}),
            "tags[1]",
        ),
        (
            Method::POST,
            "/leads".to_owned(),
            json!({"name": "n", "source": "s", "attributes": [{"name": "t", "type": "text", "value": long_text}]}),
            "attributes[0].value",
        ),
        (
            Method::POST,
            format!("/leads/{id}/attributes"),
            json!({"name": "u", "type": "text", "value": long_text}),
            "value",
        ),
        (
            Method::PUT,
            format!("/leads/{id}/attributes/{attr_id}"),
            json!({ "value": long_text }),
            "value",
        ),
    ];
    for (method, path, body, field) in cases {
        let (status, answer) = app.call(method.clone(), &path, Some(k), Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {answer}");
        assert_error(&answer, "bad_request");
        assert!(
            answer["message"].as_str().unwrap().contains(field),
            "{method} {path}: {answer}"
        );
    }
    assert_eq!(app.event_count().await, before, "nothing written");
}
