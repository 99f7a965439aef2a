//! The edge against hostile HTTP: dot segments, oversized URLs and headers, unsafe request
//! ids, slow clients — and every error answer, whoever makes it, in the documented shape.

use leadstream_tests::{assert_error, raw_http, Options, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::http::HttpLimits;
use sqlx::PgPool;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes()
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn dot_segments_are_refused_before_routing_and_never_reach_command_service(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for path in [
        "/api/v1/../../healthz",
        "/api/v1/leads/../../../healthz",
        "/api/v1/%2e%2e/%2e%2e/healthz",
        "/api/v1/%2E%2E/%2e./healthz",
        "/api/v1/./../healthz",
    ] {
        for addr in [app.edge, app.command] {
            let answer = raw_http(addr, &get(path)).await;
            assert_eq!(answer.status, 400, "{path} on {addr}: {answer:?}");
            assert_error(&answer.json(), "bad_request");
            assert!(!answer.body.contains("command-service"), "{answer:?}");
        }
        let answer = raw_http(app.edge, &get(path)).await;
        for header in ["x-ratelimit-limit:", "x-request-id:"] {
            assert!(answer.head.contains(header), "{path}: {}", answer.head);
        }
        let post = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
        );
        let answer = raw_http(app.edge, post.as_bytes()).await;
        assert_eq!(answer.status, 400, "POST {path}: {answer:?}");
    }
    // A backslash is a slash to URL parsers: refused too, by hyper or by us.
    let answer = raw_http(app.edge, &get("/api/v1/..\\..\\healthz")).await;
    assert_eq!(answer.status, 400, "{answer:?}");
    assert_error(&answer.json(), "bad_request");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn only_short_safe_request_ids_are_kept_and_the_echoed_id_is_the_stored_one(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let key = app.register().await.api_key;
    let kept = "a".repeat(128);
    let cases = [
        ("x".repeat(300 * 1024), false),
        ("y".repeat(129), false),
        ("has spaces and <html>".to_owned(), false),
        ("req:42.a_b-C".to_owned(), true),
        (kept, true),
    ];
    for (given, keep) in cases {
        let resp = app
            .client
            .post(format!("{}/leads", app.base))
            .header("X-API-Key", &key)
            .header("X-Request-Id", &given)
            .json(&json!({"name": "n", "source": "s"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        let echoed = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        let lead: Value = resp.json().await.unwrap();
        if keep {
            assert_eq!(echoed, given);
        } else {
            assert!(
                uuid::Uuid::parse_str(&echoed).is_ok(),
                "{}",
                &echoed[..40.min(echoed.len())]
            );
        }
        assert!(lead["id"].is_string());
        let stored: String = sqlx::query_scalar(
            "SELECT metadata->>'request_id' FROM events WHERE stream_type = 'lead'
              ORDER BY position DESC LIMIT 1",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(stored, echoed, "the events carry the echoed id");
    }
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_100_kb_url_is_414_in_the_error_shape(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let path = format!("/api/v1/leads?filter=and.eq.city.{}", "c".repeat(100_000));
    let answer = raw_http(app.edge, &get(&path)).await;
    assert_eq!(answer.status, 414, "{}", answer.head);
    assert!(
        answer.head.contains("content-type: application/json"),
        "{}",
        answer.head
    );
    assert_error(&answer.json(), "uri_too_long");
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn answers_made_outside_the_handlers_have_the_error_shape_too(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let key = app.register().await.api_key;
    // More headers than hyper parses (100): refused before anything of ours runs.
    let many: String = (0..120).map(|i| format!("X-H{i}: v\r\n")).collect();
    let huge_header =
        format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{many}Connection: close\r\n\r\n");
    let cases: Vec<(&str, SocketAddr, Vec<u8>, u16, &str)> = vec![
        ("too many headers", app.edge, huge_header.into_bytes(), 431, "headers_too_large"),
        ("a malformed header line", app.edge, b"GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n".to_vec(), 400, "bad_request"),
        ("a malformed request line", app.command, b"NOT HTTP\r\n\r\n".to_vec(), 400, "bad_request"),
        ("405 on the edge's own route", app.edge, b"DELETE /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), 405, "method_not_allowed"),
        ("404 on the projector", app.projector, get("/nothing"), 404, "not_found"),
        ("405 on the dispatcher", app.dispatcher, b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(), 405, "method_not_allowed"),
        (
            "an axum path rejection (not UTF-8)",
            app.edge,
            format!("GET /api/v1/leads/%FF%FE HTTP/1.1\r\nHost: x\r\nX-API-Key: {key}\r\nConnection: close\r\n\r\n").into_bytes(),
            400,
            "bad_request",
        ),
        (
            "an axum path rejection on command-service",
            app.command,
            format!("DELETE /api/v1/leads/%FF%FE HTTP/1.1\r\nHost: x\r\nX-API-Key: {key}\r\nConnection: close\r\n\r\n").into_bytes(),
            400,
            "bad_request",
        ),
    ];
    for (case, addr, request, status, code) in cases {
        let answer = raw_http(addr, &request).await;
        assert_eq!(answer.status, status, "{case}: {answer:?}");
        assert!(
            answer.head.contains("content-type: application/json"),
            "{case}: {}",
            answer.head
        );
        assert_error(&answer.json(), code);
    }
}

fn quick(header_read_ms: u64, body_read_ms: u64) -> Options {
    Options {
        http: HttpLimits {
            header_read: Duration::from_millis(header_read_ms),
            body_read: Duration::from_millis(body_read_ms),
        },
        ..Options::default()
    }
}

/// How long until the server closes a connection that has sent `sent` (at most 20 s).
async fn closed_after(addr: SocketAddr, sent: &[u8]) -> Duration {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(sent).await.unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "{addr}: still open after 20 s");
    start.elapsed()
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_client_trickling_its_headers_is_cut_off_after_the_header_timeout(pool: PgPool) {
    let app = TestApp::spawn_with(pool, quick(400, 60_000)).await;
    for addr in [app.edge, app.command] {
        for sent in [&b"GET /healthz HTTP/1.1\r\nHo"[..], b""] {
            let took = closed_after(addr, sent).await;
            assert!(
                took >= Duration::from_millis(300) && took < Duration::from_secs(3),
                "{addr}: closed after {took:?}"
            );
        }
    }
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn the_projector_and_dispatcher_listeners_time_out_slow_headers_too(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (projector, dispatcher) = tokio::join!(
        closed_after(app.projector, b"GET /healthz HTTP/1.1\r\nHo"),
        closed_after(app.dispatcher, b"GET /healthz HTTP/1.1\r\nHo"),
    );
    // Their default: 10 s.
    for took in [projector, dispatcher] {
        assert!(
            took >= Duration::from_secs(9) && took < Duration::from_secs(15),
            "{took:?}"
        );
    }
}

#[sqlx::test(migrator = "shared::db::MIGRATOR")]
async fn a_body_that_does_not_arrive_in_time_is_408_in_the_error_shape(pool: PgPool) {
    let app = TestApp::spawn_with(pool, quick(10_000, 500)).await;
    let key = app.register().await.api_key;
    for (addr, path) in [(app.edge, "/api/v1/leads"), (app.command, "/api/v1/leads")] {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nX-API-Key: {key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{\"name\": "
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let start = Instant::now();
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out))
            .await
            .expect("answered within 5 s")
            .ok();
        assert!(start.elapsed() >= Duration::from_millis(400), "{addr}");
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("HTTP/1.1 408"), "{addr}: {text}");
        let body: Value = serde_json::from_str(text.split_once("\r\n\r\n").unwrap().1).unwrap();
        assert_error(&body, "request_timeout");
    }
}
